/**
 * The trash: remove() renames the item into trash/{user}/{key} and moves its metadata records
 * (ids, props, checksums) under storage!trashEntries, so a restore brings back the same file ids.
 * Trash does not count against the quota; versions of purged files are dropped with them.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Stats } from 'node:fs';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import { joinPath, normalizePath, parentPath } from '../fs/path.js';
import { isInternalPath } from '../fs/hidden.js';
import type { Readable } from 'node:stream';
import type { Entry, ReadOptions, TrashEntry, TrashItem } from '../fs/types.js';
import { translateFsError } from './fs-errors.js';
import { checkQuota, locked, openRange, toEntry, type HomeContext } from './home.js';
import { resolveExisting, resolveMaybe } from './layout.js';
import { newEtag, type EntryRecord, type TrashRecord } from './meta-store.js';
import { ancestorsOf, type Txn } from './txn.js';
import { dropVersions } from './versions.js';

const trashKey = (user: string, key: string) => `${user}:${key}`;
const entriesRange = (user: string, key: string) => ({ gte: `${user}:${key}:`, lt: `${user}:${key};` });

/** Moves `path` (present on disk as `st`) to the trash within `txn`; the caller holds the lock and commits. */
export async function trashLocked(home: HomeContext, txn: Txn, path: string, st: Stats): Promise<TrashRecord> {
  if (path === '/') throw new ForbiddenError('the home folder cannot be removed');
  const root = await txn.getOrAdopt(path, st);
  const key = await home.store.nextId();
  try {
    await mkdir(home.layout.trashPath(home.user, ''), { recursive: true });
    await rename(home.layout.full(home.user, path), home.layout.trashPath(home.user, key));
  } catch (err) {
    throw translateFsError(err, path);
  }
  txn.touched(dirname(home.layout.full(home.user, path)), home.layout.trashPath(home.user, ''));
  const records: Array<[string, EntryRecord]> = [[path, root], ...(await home.store.below(home.user, path))];
  for (const [p, rec] of records) {
    const rel = p === path ? '/' : p.slice(path.length);
    txn.putIn(home.store.trashEntries, `${home.user}:${key}:${rel}`, rec);
    txn.del(p);
    txn.delId(rec.id);
  }
  const item: TrashRecord = { key, originalPath: path, type: root.type, size: root.size, deletedAt: Date.now() };
  txn.putIn(home.store.trash, trashKey(home.user, key), item);
  await txn.propagate(path, -root.size);
  return item;
}

export async function removeToTrash(home: HomeContext, rawPath: string): Promise<void> {
  const path = normalizePath(rawPath);
  if (path === '/') throw new ForbiddenError('the home folder cannot be removed');
  const item = await locked(home, async (txn) => {
    const [st] = await Promise.all([resolveExisting(home.layout.full(home.user, path), path), txn.prefetch([path, ...ancestorsOf(path)])]);
    const trashed = await trashLocked(home, txn, path, st);
    await txn.commit();
    return trashed;
  });
  // Upload chunks (meshdav's own folders, fs/hidden.ts) are deleted for good: a large upload
  // would otherwise leave a copy of itself in its owner's trash.
  if (isInternalPath(path)) await purgeTrash(home, item.key);
}

export async function listTrash(home: HomeContext): Promise<TrashItem[]> {
  const out: TrashItem[] = [];
  for await (const t of home.store.trash.values({ gte: `${home.user}:`, lt: `${home.user};` })) {
    out.push({ key: t.key, originalPath: t.originalPath, type: t.type, size: t.size, deletedAt: t.deletedAt });
  }
  return out.sort((a, b) => b.deletedAt - a.deletedAt);
}

async function trashRecord(home: HomeContext, key: string): Promise<TrashRecord> {
  const item = typeof key === 'string' && /^\d+$/.test(key) ? await home.store.trash.get(trashKey(home.user, key)) : undefined;
  if (!item) throw new NotFoundError(`no trash item ${String(key)}`);
  return item;
}

/** Creates `path` and any missing ancestor as folders (with records in `txn`); a file in the way is a ConflictError. */
async function recreateFolders(home: HomeContext, txn: Txn, path: string): Promise<void> {
  let cur = '';
  for (const seg of path.split('/').filter(Boolean)) {
    cur = `${cur}/${seg}`;
    const st = await resolveMaybe(home.layout.full(home.user, cur), cur);
    if (st?.isDirectory()) continue;
    if (st) throw new ConflictError(`${cur} is a file, cannot restore below it`);
    try {
      await mkdir(home.layout.full(home.user, cur));
    } catch (err) {
      throw translateFsError(err, cur);
    }
    txn.touched(dirname(home.layout.full(home.user, cur)));
    const id = await home.store.nextId();
    txn.put(cur, { id, type: 'dir', size: 0, mtime: Date.now(), etag: newEtag() });
    txn.setId(id, cur);
  }
}

export async function restoreTrash(home: HomeContext, key: string, options: { to?: string } = {}): Promise<Entry> {
  const target = normalizePath(options.to ?? '/');
  return locked(home, async (txn) => {
    const item = await trashRecord(home, key);
    await checkQuota(home, txn, item.size);
    const to = options.to === undefined ? item.originalPath : target;
    if (to === '/') throw new ConflictError('cannot restore over the home folder');
    const parent = parentPath(to);
    const pSt = await resolveMaybe(home.layout.full(home.user, parent), parent);
    if (!pSt?.isDirectory()) {
      // Back to where it was: folders removed since then are recreated. An explicit target needs its parent.
      if (pSt || options.to !== undefined) throw new ConflictError(`parent folder ${parent} does not exist`);
      await recreateFolders(home, txn, parent);
    }
    if (await resolveMaybe(home.layout.full(home.user, to), to)) throw new ConflictError(`${to} already exists`);
    try {
      await rename(home.layout.trashPath(home.user, item.key), home.layout.full(home.user, to));
    } catch (err) {
      throw translateFsError(err, to);
    }
    txn.touched(home.layout.trashPath(home.user, ''), dirname(home.layout.full(home.user, to)));
    let restored: EntryRecord | undefined;
    for await (const [k, rec] of home.store.trashEntries.iterator(entriesRange(home.user, item.key))) {
      const rel = k.slice(`${home.user}:${item.key}:`.length);
      const p = rel === '/' ? to : to + rel;
      if (rel === '/') restored = rec;
      txn.put(p, rec);
      txn.setId(rec.id, p);
      txn.delIn(home.store.trashEntries, k);
    }
    if (!restored) throw new NotFoundError(`trash item ${key} has no metadata`);
    txn.delIn(home.store.trash, trashKey(home.user, item.key));
    await txn.propagate(to, restored.size);
    await txn.commit();
    return toEntry(home, to, restored);
  });
}

async function purgeLocked(home: HomeContext, txn: Txn, item: TrashRecord): Promise<void> {
  const ids: string[] = [];
  for await (const [k, rec] of home.store.trashEntries.iterator(entriesRange(home.user, item.key))) {
    if (rec.type === 'file') ids.push(rec.id);
    txn.delIn(home.store.trashEntries, k);
  }
  txn.delIn(home.store.trash, trashKey(home.user, item.key));
  await rm(home.layout.trashPath(home.user, item.key), { recursive: true, force: true });
  txn.touched(home.layout.trashPath(home.user, ''));
  await dropVersions(home, txn, ids);
}

/** The record of what deleted item `key` holds at `rel` ('/': the item itself); NotFoundError when none. */
async function trashEntry(home: HomeContext, key: string, rel: string): Promise<{ item: TrashRecord; rel: string; rec: EntryRecord }> {
  const item = await trashRecord(home, key);
  const path = normalizePath(rel);
  const rec = await home.store.trashEntries.get(`${home.user}:${item.key}:${path}`);
  if (!rec) throw new NotFoundError(`${item.originalPath} held no ${path}`);
  return { item, rel: path, rec };
}

/**
 * The content of deleted file `key`, or of file `rel` inside deleted folder `key`, read where the
 * trash keeps it (ConflictError for a folder).
 */
export async function openTrashFile(home: HomeContext, key: string, options?: ReadOptions, rel = '/'): Promise<Readable> {
  const { item, rel: path, rec } = await trashEntry(home, key, rel);
  const shown = path === '/' ? item.originalPath : joinPath(item.originalPath, path);
  if (rec.type !== 'file') throw new ConflictError(`${shown} is a folder: restore it to read what it holds`);
  const full = path === '/' ? home.layout.trashPath(home.user, item.key) : join(home.layout.trashPath(home.user, item.key), path);
  const st = await resolveExisting(full, `${shown} (deleted)`);
  return openRange(full, shown, st.size, options, home.activity);
}

/** What deleted item `key` holds at `rel`, and what is directly in it when it is a folder. */
export async function listTrashFolder(home: HomeContext, key: string, rel: string): Promise<{ self: TrashEntry; children: TrashEntry[] }> {
  const { item, rel: path, rec } = await trashEntry(home, key, rel);
  const entry = (p: string, r: EntryRecord): TrashEntry => ({ path: p, type: r.type, size: r.size, mtime: r.mtime, etag: r.etag });
  const children: TrashEntry[] = [];
  if (rec.type === 'dir') {
    const prefix = `${home.user}:${item.key}:${path === '/' ? '/' : path + '/'}`;
    // Keys of everything below, in order ('0' follows '/'); the direct children have no further '/'.
    for await (const [k, r] of home.store.trashEntries.iterator({ gt: prefix, lt: prefix.slice(0, -1) + '0' })) {
      const name = k.slice(prefix.length);
      if (name && !name.includes('/')) children.push(entry(k.slice(`${home.user}:${item.key}:`.length), r));
    }
  }
  return { self: entry(path, rec), children };
}

export async function purgeTrash(home: HomeContext, key: string): Promise<void> {
  await locked(home, async (txn) => {
    await purgeLocked(home, txn, await trashRecord(home, key));
    await txn.commit();
  });
}

export async function emptyTrash(home: HomeContext): Promise<void> {
  await locked(home, async (txn) => {
    for (const item of await listTrash(home)) await purgeLocked(home, txn, item as TrashRecord);
    await txn.commit();
  });
}
