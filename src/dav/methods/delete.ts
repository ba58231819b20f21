/**
 * DELETE: removes a file or a whole folder tree. Depth on a folder must be infinity (or absent).
 * A locked resource or parent without its token → 423; locks on members below without their
 * tokens → 207 with a 423 response per locked member, and nothing is removed.
 */
import { BadRequestError, ForbiddenError } from '../../errors.js';
import { checkHttpPreconditions } from '../conditional.js';
import { assertUnlocked, hrefFor, type DavRequest, emptyResponse } from '../context.js';
import { parseDepth } from '../depth.js';
import { multistatusString, statusResponse } from '../multistatus.js';

export async function del(req: DavRequest): Promise<void> {
  const { ctx, fs, path, target, env } = req;
  if (path === '/') throw new ForbiddenError('the root collection cannot be deleted');
  const e = await fs.stat(path);
  if (e.type === 'dir' && parseDepth(ctx, 'infinity') !== 'infinity') throw new BadRequestError('DELETE of a collection needs Depth: infinity');
  checkHttpPreconditions(ctx, e);
  assertUnlocked(req, path, { member: true });
  const lockedBelow = env.locks.locksBelow(target.lockScope, path).filter((l) => l.root !== path && !req.tokens.has(l.token));
  if (lockedBelow.length > 0) {
    ctx.status = 207;
    ctx.type = 'application/xml; charset=utf-8';
    ctx.body = multistatusString(lockedBelow.map((l) => statusResponse(hrefFor(target, l.root, false), 423, 'lock-token-submitted')));
    return;
  }
  await fs.remove(path);
  env.locks.removeTree(target.lockScope, path);
  emptyResponse(ctx, 204);
}
