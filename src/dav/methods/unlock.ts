/** UNLOCK (RFC 4918 §9.11): `Lock-Token: <token>` of a lock covering the URL → 204; else 400/409. */
import { BadRequestError, ConflictError, ForbiddenError } from '../../errors.js';
import { Perm } from '../../fs/types.js';
import { emptyResponse, type DavRequest } from '../context.js';

export async function unlock(req: DavRequest): Promise<void> {
  const { ctx, path, target, env } = req;
  const entry = await req.fs.stat(path);
  if ((entry.permissions & (Perm.UPDATE | Perm.CREATE)) === 0) throw new ForbiddenError('no permission to unlock this resource');
  const m = /^\s*<([^>]+)>\s*$/.exec(ctx.get('lock-token'));
  if (!m) throw new BadRequestError('UNLOCK needs a Lock-Token header of the form <token>');
  if (!env.locks.remove(target.lockScope, m[1]!, path)) {
    throw new ConflictError('no such lock on this resource', { davCondition: 'lock-token-matches-request-uri' });
  }
  emptyResponse(ctx, 204);
}
