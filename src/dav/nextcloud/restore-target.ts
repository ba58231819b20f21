/**
 * Nextcloud restores a deleted item or an old version by a MOVE into a `restore/` collection
 * (trashbin.ts, versions.ts). The Destination names that collection (or anything below it); what
 * it names below is ignored.
 */
import type { Context } from 'koa';
import { BadRequestError, ForbiddenError } from '../../errors.js';
import { decodeUrlPath } from '../../fs/path.js';

/** Checks that the request's Destination is `{base}/restore[/…]`: 400 when missing or malformed, 403 elsewhere. */
export function assertRestoreDestination(ctx: Context, base: string, what: string): void {
  const destination = ctx.get('destination');
  if (!destination) throw new BadRequestError('Destination header missing');
  let destPath: string;
  try {
    destPath = decodeUrlPath(new URL(destination, `${ctx.protocol}://${ctx.host || 'localhost'}`).pathname);
  } catch {
    throw new BadRequestError('malformed Destination');
  }
  const restore = `${decodeUrlPath(base)}/restore`;
  if (destPath !== restore && !destPath.startsWith(`${restore}/`)) throw new ForbiddenError(`${what} is restored by a MOVE into restore/`);
}
