/** OPTIONS: advertises DAV classes 1 and 2 and the allowed methods. */
import type { DavRequest } from '../context.js';

export const ALLOW = 'OPTIONS, PROPFIND, PROPPATCH, GET, HEAD, PUT, MKCOL, DELETE, COPY, MOVE, LOCK, UNLOCK';

export async function options(req: DavRequest): Promise<void> {
  const { ctx } = req;
  ctx.set('DAV', '1, 2');
  ctx.set('Allow', ALLOW);
  ctx.set('MS-Author-Via', 'DAV');
  ctx.set('Accept-Ranges', 'bytes');
  ctx.status = 200;
  ctx.body = '';
}
