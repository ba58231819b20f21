/**
 * Native move and copy inside one home. Move is a rename plus a range rewrite of the subtree's
 * records (file ids kept, so pathById follows). Copy streams nothing through JS: files are
 * cloned/copied with copyFile into uploads/ first and renamed into place when complete; copies
 * get new ids and carry dead properties and metadata, not grants.
 * Overwrite follows RFC 4918: an existing destination goes to the trash first.
 */
import { constants, type Stats } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, rename, rm, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BadRequestError, ConflictError, ForbiddenError, InsufficientStorageError, PreconditionFailedError } from '../errors.js';
import { isWithin, normalizePath, parentPath } from '../fs/path.js';
import type { TransferOptions, TransferResult } from '../fs/types.js';
import { syncPath } from './durable.js';
import { translateFsError } from './fs-errors.js';
import { fsMtimeField, locked, recordFor, toEntry, type HomeContext } from './home.js';
import { resolveExisting, resolveMaybe } from './layout.js';
import { newEtag, type EntryRecord } from './meta-store.js';
import { trashLocked } from './trash.js';
import { ancestorsOf, type Txn } from './txn.js';

function checkPair(fromRaw: string, toRaw: string): { from: string; to: string } {
  const from = normalizePath(fromRaw);
  const to = normalizePath(toRaw);
  if (from === '/' || to === '/') throw new ForbiddenError('the home folder cannot be moved, copied or replaced');
  if (from === to) throw new ForbiddenError('source and destination are the same');
  if (isWithin(to, from)) throw new ConflictError('cannot move or copy a folder into itself');
  return { from, to };
}

/** Destination checks under the lock: parent must be a folder; an existing target is trashed or refused. */
async function clearDestination(home: HomeContext, txn: Txn, from: string, to: string, overwrite: boolean): Promise<boolean> {
  const parent = parentPath(to);
  const pSt = await resolveMaybe(home.layout.full(home.user, parent), parent);
  if (!pSt?.isDirectory()) throw new ConflictError(`destination folder ${parent} does not exist`);
  const dSt = await resolveMaybe(home.layout.full(home.user, to), to);
  if (!dSt) return false;
  if (!overwrite) throw new PreconditionFailedError(`${to} exists and overwrite is not allowed`);
  if (isWithin(from, to)) throw new ConflictError('cannot replace an ancestor of the source');
  await trashLocked(home, txn, to, dSt);
  return true;
}

export async function moveLocal(home: HomeContext, fromRaw: string, toRaw: string, options: TransferOptions): Promise<TransferResult> {
  const { from, to } = checkPair(fromRaw, toRaw);
  return locked(home, async (txn) => {
    const [st] = await Promise.all([
      resolveExisting(home.layout.full(home.user, from), from),
      txn.prefetch([from, ...ancestorsOf(from), to, ...ancestorsOf(to)]),
    ]);
    const root = await txn.getOrAdopt(from, st);
    const replaced = await clearDestination(home, txn, from, to, options.overwrite);
    try {
      await rename(home.layout.full(home.user, from), home.layout.full(home.user, to));
    } catch (err) {
      throw translateFsError(err, to);
    }
    txn.touched(dirname(home.layout.full(home.user, from)), dirname(home.layout.full(home.user, to)));
    const records: Array<[string, EntryRecord]> = [[from, root], ...(await home.store.below(home.user, from))];
    for (const [p, rec] of records) {
      const q = p === from ? to : to + p.slice(from.length);
      txn.del(p);
      txn.put(q, rec);
      txn.setId(rec.id, q);
    }
    await txn.propagate(from, -root.size);
    await txn.propagate(to, root.size);
    await txn.commit();
    return { entry: toEntry(home, to, root), replaced };
  });
}

interface Copied {
  rel: string;
  type: 'file' | 'dir';
  size: number;
  mtime: number;
}

/**
 * Copies the tree at `src` to `dst` (not existing yet), skipping symlinks; returns what was
 * copied. `durable` (configuration fsync): each copied file, and each folder once its entries are
 * made, is flushed to disk.
 */
async function copyTree(
  src: string,
  dst: string,
  st: Stats,
  depth: 0 | 'infinity',
  rel: string,
  out: Copied[],
  durable: boolean,
  signal?: AbortSignal,
): Promise<number> {
  if (signal?.aborted) throw new BadRequestError('copy aborted');
  if (st.isFile()) {
    await copyFile(src, dst, constants.COPYFILE_FICLONE);
    await utimes(dst, st.atime, st.mtime);
    if (durable) await syncPath(dst);
    out.push({ rel, type: 'file', size: st.size, mtime: Math.round((await lstat(dst)).mtimeMs) });
    return st.size;
  }
  await mkdir(dst);
  const self: Copied = { rel, type: 'dir', size: 0, mtime: Date.now() };
  out.push(self);
  if (depth === 0) return 0;
  let total = 0;
  for (const d of await readdir(src, { withFileTypes: true })) {
    if (!d.isFile() && !d.isDirectory()) continue;
    const childSt = await lstat(join(src, d.name));
    if (!childSt.isFile() && !childSt.isDirectory()) continue;
    const childRel = rel === '/' ? `/${d.name}` : `${rel}/${d.name}`;
    total += await copyTree(join(src, d.name), join(dst, d.name), childSt, 'infinity', childRel, out, durable, signal);
  }
  if (durable) await syncPath(dst);
  self.size = total;
  return total;
}

export async function copyLocal(
  home: HomeContext,
  fromRaw: string,
  toRaw: string,
  options: TransferOptions & { depth?: 0 | 'infinity' },
): Promise<TransferResult> {
  const { from, to } = checkPair(fromRaw, toRaw);
  const depth = options.depth ?? 'infinity';
  const srcFull = home.layout.full(home.user, from);
  const st = await resolveExisting(srcFull, from);
  const srcRoot = await recordFor(home, from, st);
  // Fail fast before copying anything; the same checks run again under the lock.
  const parent = parentPath(to);
  const pSt = await resolveMaybe(home.layout.full(home.user, parent), parent);
  if (!pSt?.isDirectory()) throw new ConflictError(`destination folder ${parent} does not exist`);
  const dSt = await resolveMaybe(home.layout.full(home.user, to), to);
  if (dSt && !options.overwrite) throw new PreconditionFailedError(`${to} exists and overwrite is not allowed`);
  const need = st.isFile() ? st.size : depth === 0 ? 0 : srcRoot.size;
  if (home.quotaBytes !== null) {
    const used = (await home.store.get(home.user, '/'))?.size ?? 0;
    if (used - (dSt ? ((await home.store.get(home.user, to))?.size ?? 0) : 0) + need > home.quotaBytes) {
      throw new InsufficientStorageError('quota exceeded');
    }
  }

  const tmp = home.layout.tempPath();
  const copied: Copied[] = [];
  try {
    let total: number;
    try {
      total = await copyTree(srcFull, tmp, st, depth, '/', copied, home.fsync, options.signal);
    } catch (err) {
      throw translateFsError(err, from);
    }
    const srcRecords = new Map<string, EntryRecord>([['/', srcRoot]]);
    if (st.isDirectory() && depth === 'infinity') {
      for (const [p, rec] of await home.store.below(home.user, from)) srcRecords.set(p.slice(from.length), rec);
    }
    return await locked(home, async (txn) => {
      const replaced = await clearDestination(home, txn, from, to, options.overwrite);
      if (home.quotaBytes !== null) {
        const used = (await txn.get('/'))?.size ?? 0;
        if (used + total > home.quotaBytes) throw new InsufficientStorageError('quota exceeded');
      }
      try {
        await rename(tmp, home.layout.full(home.user, to));
      } catch (err) {
        throw translateFsError(err, to);
      }
      txn.touched(dirname(home.layout.full(home.user, to)));
      let rootRec: EntryRecord | undefined;
      let queued = false;
      for (const c of copied) {
        const src = srcRecords.get(c.rel);
        const sameFile = src && src.type === c.type && (c.type === 'dir' || src.size === c.size);
        // Files keep the mtime their record shows (the client's); c.mtime is what the disk holds.
        const mtime = src && sameFile ? src.mtime : c.mtime;
        const rec: EntryRecord = {
          id: await home.store.nextId(),
          type: c.type,
          size: c.size,
          mtime,
          ...(c.type === 'file' ? fsMtimeField(mtime, c.mtime) : {}),
          etag: newEtag(),
        };
        if (sameFile && src.type === 'file') Object.assign(rec, { sha1: src.sha1, md5: src.md5, adler32: src.adler32 });
        if (rec.type === 'file' && (!rec.md5 || !rec.adler32)) {
          txn.putIn(home.store.sums, `${home.user}:${rec.id}`, rec.etag); // deferred checksums
          queued = true;
        }
        if (src?.props) rec.props = { ...src.props };
        if (src?.meta) rec.meta = { ...src.meta };
        const p = c.rel === '/' ? to : to + c.rel;
        txn.put(p, rec);
        txn.setId(rec.id, p);
        if (c.rel === '/') rootRec = rec;
      }
      await txn.propagate(to, total);
      await txn.commit();
      if (queued) home.sumsQueued();
      return { entry: toEntry(home, to, rootRec!), replaced };
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
