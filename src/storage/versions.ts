/**
 * Versions: on overwrite the old content is hard-linked into versions/{user}/{fileId}/{key}
 * (same inode, no copy) before the new content is renamed over it; at most maxVersions are kept
 * per file, oldest dropped first. Versions follow the file id, so they survive moves.
 */
import { link, lstat, mkdir, rename, rm, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ConflictError, NotFoundError } from '../errors.js';
import { normalizePath } from '../fs/path.js';
import type { Entry, ReadOptions, Version } from '../fs/types.js';
import { translateFsError } from './fs-errors.js';
import { checkQuota, fsMtimeField, locked, openRange, recordFor, toEntry, type HomeContext } from './home.js';
import { resolveExisting } from './layout.js';
import { newEtag, type EntryRecord, type VersionRecord } from './meta-store.js';
import type { Txn } from './txn.js';

const pad = (key: string) => key.padStart(16, '0');
const versionKey = (user: string, id: string, key: string) => `${user}:${id}:${pad(key)}`;
const versionRange = (user: string, id: string) => ({ gte: `${user}:${id}:`, lt: `${user}:${id};` });

async function versionsOf(home: HomeContext, id: string): Promise<VersionRecord[]> {
  const out: VersionRecord[] = [];
  for await (const v of home.store.versions.values(versionRange(home.user, id))) out.push(v);
  return out; // oldest first
}

/**
 * Makes the current content of `full` (described by `rec`) a version: a hard link (same inode,
 * no copy) made just before the new content is renamed over `full`. Called under the lock; one
 * syscall in the usual case. Pruning is separate (pruneVersions), after the commit.
 */
export async function keepVersion(home: HomeContext, txn: Txn, full: string, rec: EntryRecord): Promise<void> {
  const key = await home.store.nextId();
  const dir = home.layout.versionDir(home.user, rec.id);
  try {
    await link(full, join(dir, key)).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      await mkdir(dir, { recursive: true });
      await link(full, join(dir, key));
    });
  } catch (err) {
    throw translateFsError(err, 'version');
  }
  txn.touched(dir);
  const v: VersionRecord = { key, size: rec.size, mtime: rec.mtime, etag: rec.etag, sha1: rec.sha1, md5: rec.md5, adler32: rec.adler32 };
  txn.putIn(home.store.versions, versionKey(home.user, rec.id, key), v);
}

/**
 * Drops the oldest versions of file `id` beyond maxVersions (VersionPruner runs it after writes).
 * Runs outside the user's lock: it touches only that file's version records and files, and
 * deleting twice is harmless.
 */
export async function pruneVersions(home: HomeContext, id: string): Promise<void> {
  const existing = await versionsOf(home, id);
  const excess = existing.slice(0, Math.max(0, existing.length - home.maxVersions));
  if (!excess.length) return;
  await home.store.versions.batch(excess.map((v) => ({ type: 'del' as const, key: versionKey(home.user, id, v.key) })));
  const dir = home.layout.versionDir(home.user, id);
  await Promise.all(excess.map((v) => rm(join(dir, v.key), { force: true })));
}

/** Removes every version of these file ids (purge from trash). */
export async function dropVersions(home: HomeContext, txn: Txn, ids: string[]): Promise<void> {
  for (const id of ids) {
    for await (const k of home.store.versions.keys(versionRange(home.user, id))) {
      txn.delIn(home.store.versions, k);
    }
    await rm(home.layout.versionDir(home.user, id), { recursive: true, force: true });
  }
}

async function fileRecord(home: HomeContext, rawPath: string): Promise<{ path: string; full: string; rec: EntryRecord }> {
  const path = normalizePath(rawPath);
  const full = home.layout.full(home.user, path);
  const st = await resolveExisting(full, path);
  if (!st.isFile()) throw new ConflictError(`${path} is not a file`);
  return { path, full, rec: await recordFor(home, path, st) };
}

/** Newest first. */
export async function listVersions(home: HomeContext, rawPath: string): Promise<Version[]> {
  const { rec } = await fileRecord(home, rawPath);
  // Newest maxVersions only: older ones may still await their (background) pruning.
  return (await versionsOf(home, rec.id))
    .reverse()
    .slice(0, home.maxVersions)
    .map((v) => ({ key: v.key, size: v.size, mtime: v.mtime, etag: v.etag }));
}

export async function openVersion(home: HomeContext, rawPath: string, key: string, options?: ReadOptions): Promise<Readable> {
  const { path, rec } = await fileRecord(home, rawPath);
  if (!/^\d+$/.test(key)) throw new NotFoundError(`no version ${key} of ${path}`);
  const v = await home.store.versions.get(versionKey(home.user, rec.id, key));
  if (!v) throw new NotFoundError(`no version ${key} of ${path}`);
  const vfile = join(home.layout.versionDir(home.user, rec.id), key);
  const st = await resolveExisting(vfile, `${path} (version ${key})`);
  return openRange(vfile, path, st.size, options, home.activity);
}

export async function restoreVersion(home: HomeContext, rawPath: string, key: string): Promise<Entry> {
  const { path, full } = await fileRecord(home, rawPath);
  return locked(home, async (txn) => {
    const st = await resolveExisting(full, path);
    if (!st.isFile()) throw new ConflictError(`${path} is not a file`);
    const rec = await txn.getOrAdopt(path, st);
    const v = /^\d+$/.test(key) ? await home.store.versions.get(versionKey(home.user, rec.id, key)) : undefined;
    if (!v) throw new NotFoundError(`no version ${key} of ${path}`);
    await checkQuota(home, txn, v.size - rec.size);
    txn.delIn(home.store.versions, versionKey(home.user, rec.id, key));
    await keepVersion(home, txn, full, rec);
    try {
      const vfile = join(home.layout.versionDir(home.user, rec.id), key);
      await utimes(vfile, v.mtime / 1000, v.mtime / 1000);
      await rename(vfile, full);
      txn.touched(dirname(full));
    } catch (err) {
      throw translateFsError(err, path);
    }
    const { fsMtime: _stale, ...kept } = rec;
    const after = await lstat(full).catch(() => null);
    const next: EntryRecord = {
      ...kept,
      size: v.size,
      mtime: v.mtime,
      ...(after ? fsMtimeField(v.mtime, after) : {}),
      etag: newEtag(),
      sha1: v.sha1,
      md5: v.md5,
      adler32: v.adler32,
    };
    txn.put(path, next);
    await txn.propagate(path, v.size - rec.size);
    await txn.commit();
    return toEntry(home, path, next);
  }).then(async (entry) => {
    await pruneVersions(home, entry.fileId);
    return entry;
  });
}
