/**
 * Generic transfers written once: `transfer()` moves or copies between any two Fs. Within one Fs
 * that has the native ability (Mover, Copier) it is used; otherwise the tree is walked and each
 * file streamed from `src.openRead` into `dst.write` (never buffered), folders recreated, dead
 * properties carried when both sides keep them, and for a move the source removed at the end.
 *
 * Overwrite semantics (RFC 4918 §9.8/9.9): destination parent missing → ConflictError;
 * destination exists and !overwrite → PreconditionFailedError; exists and overwrite → it is
 * removed first and `replaced` is true. Source and destination the same → ForbiddenError;
 * a folder into itself → ConflictError.
 */
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, PreconditionFailedError } from '../errors.js';
import { hasDeadProps, isCopier, isMover } from './guards.js';
import { isWithin, normalizePath, parentPath } from './path.js';
import type { Entry, Fs, TransferResult } from './types.js';

export interface TransferRequest {
  mode: 'copy' | 'move';
  overwrite: boolean;
  /** Copy only: 0 copies a folder without its members. Moves are always infinite. */
  depth?: 0 | 'infinity';
  signal?: AbortSignal;
}

async function statOrNull(fs: Fs, path: string): Promise<Entry | null> {
  try {
    return await fs.stat(path);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

export async function transfer(src: Fs, fromRaw: string, dst: Fs, toRaw: string, opts: TransferRequest): Promise<TransferResult> {
  const from = normalizePath(fromRaw);
  const to = normalizePath(toRaw);
  const depth = opts.mode === 'move' ? 'infinity' : (opts.depth ?? 'infinity');
  if (src === dst) {
    if (from === to) throw new ForbiddenError('source and destination are the same');
    if (isWithin(to, from)) throw new ConflictError('cannot move or copy a folder into itself');
    if (opts.mode === 'move' && isMover(src)) return src.move(from, to, { overwrite: opts.overwrite, signal: opts.signal });
    if (opts.mode === 'copy' && isCopier(src)) return src.copy(from, to, { overwrite: opts.overwrite, signal: opts.signal, depth });
  }
  if (to === '/') throw new ForbiddenError('cannot replace the root folder');
  const entry = await src.stat(from);
  const parent = await statOrNull(dst, parentPath(to));
  if (!parent || parent.type !== 'dir') throw new ConflictError(`destination folder ${parentPath(to)} does not exist`);
  const existing = await statOrNull(dst, to);
  if (existing) {
    if (!opts.overwrite) throw new PreconditionFailedError(`${to} exists and overwrite is not allowed`);
    if (src === dst && isWithin(from, to)) throw new ConflictError('cannot replace an ancestor of the source');
    await dst.remove(to);
  }
  await copyTree(src, entry, dst, to, depth, opts.signal);
  if (opts.mode === 'move') await src.remove(from);
  return { entry: await dst.stat(to), replaced: existing !== null };
}

async function copyProps(src: Fs, from: string, dst: Fs, to: string): Promise<void> {
  if (!hasDeadProps(src) || !hasDeadProps(dst)) return;
  const props = await src.getProps(from);
  if (Object.keys(props).length) await dst.patchProps(to, { set: props });
}

async function copyTree(src: Fs, entry: Entry, dst: Fs, to: string, depth: 0 | 'infinity', signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw new BadRequestError('transfer aborted');
  if (entry.type === 'file') {
    const body = await src.openRead(entry.path, { signal });
    await dst.write(to, body, { size: entry.size, mtime: entry.mtime, signal });
  } else {
    await dst.mkdir(to);
  }
  await copyProps(src, entry.path, dst, to);
  if (entry.type === 'dir' && depth === 'infinity') {
    for (const child of await src.list(entry.path)) {
      await copyTree(src, child, dst, to === '/' ? `/${child.name}` : `${to}/${child.name}`, 'infinity', signal);
    }
  }
}
