/**
 * COPY and MOVE (RFC 4918 §9.8–9.9) within one target. Destination as absolute URL or path;
 * Overwrite T/F (F and something there → 412); destination parent missing → 409; same source and
 * destination, or a folder into itself → 403; 201 when created, 204 when replaced. COPY takes
 * Depth 0 or infinity, MOVE only infinity. The work is done by `transfer()` (src/fs/fallbacks.ts),
 * which uses the Fs's native move/copy where it has one. Locks do not move with the resource.
 */
import { transfer } from '../../fs/fallbacks.js';
import { isWithin, parentPath } from '../../fs/path.js';
import { BadRequestError, ConflictError, ForbiddenError, PreconditionFailedError } from '../../errors.js';
import { checkHttpPreconditions } from '../conditional.js';
import { assertUnlocked, setEntryHeaders, statOrNull, type DavRequest, emptyResponse } from '../context.js';
import { parseDepth } from '../depth.js';
import { parseDestination, parseOverwrite } from '../destination.js';

async function copyOrMove(req: DavRequest, mode: 'copy' | 'move'): Promise<void> {
  const { ctx, fs, path, target, env, signal } = req;
  const depthHeader = parseDepth(ctx, 'infinity');
  if (depthHeader === 1 || (mode === 'move' && depthHeader !== 'infinity')) {
    throw new BadRequestError(`Depth ${depthHeader} is not allowed on ${mode.toUpperCase()}`);
  }
  const depth = depthHeader as 0 | 'infinity';
  const dest = parseDestination(ctx, target, env.hosts);
  const overwrite = parseOverwrite(ctx);
  if (mode === 'move' && path === '/') throw new ForbiddenError('the root collection cannot be moved');
  const src = await fs.stat(path);
  if (dest === path) throw new ForbiddenError('source and destination are the same');
  if (src.type === 'dir' && isWithin(dest, path)) throw new ForbiddenError('cannot copy or move a collection into itself');
  if (dest === '/') throw new ForbiddenError('cannot replace the root collection');
  checkHttpPreconditions(ctx, src);
  const parent = await statOrNull(fs, parentPath(dest));
  if (!parent || parent.type !== 'dir') throw new ConflictError('the destination folder does not exist');
  const existing = await statOrNull(fs, dest);
  if (existing && !overwrite) throw new PreconditionFailedError('the destination exists and Overwrite is F');
  if (mode === 'move') assertUnlocked(req, path, { deep: true, member: true });
  assertUnlocked(req, dest, { deep: true, member: true });

  const result = await transfer(fs, path, fs, dest, { overwrite, mode, depth, signal });
  if (mode === 'move') env.locks.removeTree(target.lockScope, path);
  setEntryHeaders(ctx, result.entry);
  emptyResponse(ctx, existing ? 204 : 201);
}

export async function copy(req: DavRequest): Promise<void> {
  await copyOrMove(req, 'copy');
}

export async function move(req: DavRequest): Promise<void> {
  await copyOrMove(req, 'move');
}
