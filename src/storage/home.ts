/**
 * What every storage module needs to act on one user's home, and the helpers they share:
 * record lookup (adopting unknown paths), Entry construction, preconditions, ranged reads.
 */
import { closeSync, constants, open, read, type Stats } from 'node:fs';
import { addAbortSignal, Readable } from 'node:stream';
import mime from 'mime-types';
import type { Logger } from '../log.js';
import { InsufficientStorageError, NotFoundError, PreconditionFailedError, RangeNotSatisfiableError } from '../errors.js';
import { Perm, type Entry, type ReadOptions } from '../fs/types.js';
import { FileChunks } from './file-chunks.js';
import { translateFsError } from './fs-errors.js';
import { resolveExisting, resolveMaybe, type Layout } from './layout.js';
import { newEtag, type EntryRecord, type MetaStore } from './meta-store.js';
import type { Activity } from './activity.js';
import type { KeyedMutex } from './mutex.js';
import { Txn } from './txn.js';

export interface HomeContext {
  user: string;
  layout: Layout;
  store: MetaStore;
  mutex: KeyedMutex;
  /** Per-user quota in bytes; null = unlimited. */
  quotaBytes: number | null;
  maxVersions: number;
  /** Uploads reach the disk (file, folder, metadata) before they are answered. */
  fsync: boolean;
  log: Logger;
  /** Transfers in flight (background work waits for a quiet storage). */
  activity: Activity;
  /** Called after a commit queued deferred checksums (wakes the backfill). */
  sumsQueued(): void;
  /** Called after a write kept a version of file `id`: old versions beyond maxVersions go soon. */
  pruneLater(id: string): void;
}

/** Runs `fn` holding the user's mutex with a fresh transaction; `fn` commits what it means to keep. */
export function locked<T>(home: HomeContext, fn: (txn: Txn) => Promise<T>): Promise<T> {
  return home.mutex.run(home.user, async () => {
    try {
      return await fn(new Txn(home.store, home.user, home.fsync));
    } catch (err) {
      throw translateFsError(err, 'metadata');
    }
  });
}

/** true when a file on disk no longer matches its record (changed behind meshdav's back). */
export function outOfDate(rec: EntryRecord, st: Stats): boolean {
  return rec.type === 'file' && (rec.size !== st.size || (rec.fsMtime ?? rec.mtime) !== Math.round(st.mtimeMs));
}

/** `fsMtime` for a record whose intended mtime is `mtime`, from the file's lstat after writing. */
export function fsMtimeField(mtime: number, st: Stats | number): { fsMtime?: number } {
  const disk = Math.round(typeof st === 'number' ? st : st.mtimeMs);
  return disk === mtime ? {} : { fsMtime: disk };
}

/**
 * The record for an existing path, adopting it (under the lock) when it has none yet. A file
 * whose size or mtime on disk differs from its record (edited outside meshdav) is brought up to
 * date first: disk size and mtime, a new ETag up the tree, checksums dropped until a scan
 * recomputes them — so a stat never promises a length the content does not have.
 */
export async function recordFor(
  home: HomeContext,
  path: string,
  st: Stats,
  known?: { rec: EntryRecord | undefined },
): Promise<EntryRecord> {
  const rec = known ? known.rec : await home.store.get(home.user, path);
  if (rec && rec.type === (st.isDirectory() ? 'dir' : 'file')) {
    if (!outOfDate(rec, st)) return rec;
    return locked(home, async (txn) => {
      const now = await resolveMaybe(home.layout.full(home.user, path), path);
      const cur = await txn.get(path);
      if (!now || !cur || cur.type !== 'file' || !now.isFile() || !outOfDate(cur, now)) return cur ?? rec;
      const { sha1: _s, md5: _m, adler32: _a, fsMtime: _f, ...rest } = cur;
      const next: EntryRecord = { ...rest, size: now.size, mtime: Math.round(now.mtimeMs), etag: newEtag() };
      txn.put(path, next);
      await txn.propagate(path, now.size - cur.size);
      await txn.commit();
      return next;
    });
  }
  const adopted = (await adoptAll(home, [path])).get(path);
  if (!adopted) throw new NotFoundError(`${path} not found`);
  return adopted;
}

/** lstat (symlink-safe) and the record of `path` in one I/O round; the record adopted or refreshed as recordFor does. */
export async function lookup(home: HomeContext, path: string): Promise<{ st: Stats; rec: EntryRecord }> {
  const [st, rec] = await Promise.all([resolveExisting(home.layout.full(home.user, path), path), home.store.get(home.user, path)]);
  return { st, rec: await recordFor(home, path, st, { rec }) };
}

/**
 * Records for several existing paths that have none (or one of the wrong type), made in one
 * locked batch. Paths that vanished or turned into symlinks meanwhile are left out.
 */
export async function adoptAll(home: HomeContext, paths: string[]): Promise<Map<string, EntryRecord>> {
  const stats = await Promise.all(paths.map((p) => resolveMaybe(home.layout.full(home.user, p), p).catch(() => null)));
  return locked(home, async (txn) => {
    const out = new Map<string, EntryRecord>();
    for (let i = 0; i < paths.length; i++) {
      const st = stats[i];
      if (!st) continue;
      const path = paths[i]!;
      const again = await txn.get(path);
      if (again && again.type === (st.isDirectory() ? 'dir' : 'file')) {
        out.set(path, again);
        continue;
      }
      if (again) {
        txn.delId(again.id);
        txn.del(path);
      }
      out.set(path, await txn.getOrAdopt(path, st));
    }
    await txn.commit();
    return out;
  });
}

/** InsufficientStorageError when adding `delta` bytes to the home would exceed the quota. */
export async function checkQuota(home: HomeContext, txn: Txn, delta: number): Promise<void> {
  if (home.quotaBytes === null || delta <= 0) return;
  const used = (await txn.get('/'))?.size ?? 0;
  if (used + delta > home.quotaBytes) throw new InsufficientStorageError(`quota exceeded: ${delta} more bytes do not fit`);
}

const NO_PROPS: Readonly<Record<string, string>> = Object.freeze({});

export function toEntry(home: HomeContext, path: string, rec: EntryRecord): Entry {
  const name = path === '/' ? '' : path.slice(path.lastIndexOf('/') + 1);
  const entry: Entry = {
    path,
    name,
    type: rec.type,
    size: rec.size,
    mtime: rec.mtime,
    etag: rec.etag,
    fileId: rec.id,
    mime: rec.type === 'dir' ? 'httpd/unix-directory' : mime.lookup(name) || 'application/octet-stream',
    permissions: Perm.ALL,
    owner: home.user,
    props: rec.props ?? NO_PROPS,
  };
  if (rec.type === 'file' && (rec.sha1 || rec.md5 || rec.adler32)) {
    entry.checksums = {};
    if (rec.sha1) entry.checksums.sha1 = rec.sha1;
    if (rec.md5) entry.checksums.md5 = rec.md5;
    if (rec.adler32) entry.checksums.adler32 = rec.adler32;
  }
  return entry;
}

function bareEtag(tag: string): string {
  return tag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/** ifMatch / ifNoneMatch against the current record (undefined = nothing there). */
export function checkPreconditions(current: EntryRecord | undefined, options: { ifMatch?: string; ifNoneMatch?: '*' }): void {
  if (options.ifNoneMatch === '*' && current) throw new PreconditionFailedError('the resource already exists');
  if (options.ifMatch !== undefined) {
    if (!current) throw new PreconditionFailedError('the resource does not exist');
    if (options.ifMatch.trim() !== '*' && !options.ifMatch.split(',').some((t) => bareEtag(t.trim()) === current.etag)) {
      throw new PreconditionFailedError('the ETag does not match');
    }
  }
}

/**
 * Streams the regular file at `full` (already checked with resolveExisting, `size` from its
 * lstat), or a range of it; the final component is opened with O_NOFOLLOW.
 * RangeNotSatisfiableError when the range starts beyond the end.
 */
export function openRange(full: string, path: string, size: number, options: ReadOptions = {}, activity?: Activity): Readable {
  let start = 0;
  let end = size - 1;
  if (options.range) {
    start = options.range.start;
    if (options.range.end !== undefined) end = Math.min(options.range.end, size - 1);
    if (!Number.isInteger(start) || start < 0 || start >= size || end < start) {
      throw new RangeNotSatisfiableError(`range ${start}-${options.range.end ?? ''} not satisfiable for ${size} bytes`, {
        headers: { 'Content-Range': `bytes */${size}` },
      });
    }
  }
  // Chunks the consumer may hand back for reuse (the DAV layer does once they are sent).
  const stream = new FileChunks(full, start, end);
  if (options.signal) addAbortSignal(options.signal, stream);
  // Not paced (begin(false)): the DAV layer hands its chunks back, so it leaves little garbage,
  // and pacing would cost CPU for as long as a slow client (or another site's mount) reads.
  if (activity) stream.once('close', activity.begin(false));
  return stream;
}

/**
 * Files up to this size are read whole by `readSmall` (one open, one read, one close, no stream
 * machinery); bigger ones stream through `openRange`. Below a single streaming chunk
 * (HASH_CHUNK), so reading whole holds no more memory than streaming would.
 */
export const SMALL_READ = 64 * 1024;

/**
 * The whole content of the regular file at `full` (already checked with resolveExisting, `size`
 * from its lstat), as a stream that is already complete; the final component is opened with
 * O_NOFOLLOW. Resolves null when the file no longer has `size` bytes (replaced or edited since the
 * lstat), so the caller can look again instead of serving content that does not match the entry.
 */
export function readSmall(full: string, path: string, size: number): Promise<Readable | null> {
  const flags = (constants.O_RDONLY | constants.O_NOFOLLOW) as unknown as string;
  return new Promise((resolve, reject) => {
    open(full, flags, (err, fd) => {
      if (err) return reject(translateFsError(err, path, { lookup: true }));
      // One byte more than expected: a file that grew is noticed, not cut short.
      const buf = Buffer.allocUnsafe(size + 1);
      read(fd, buf, 0, size + 1, 0, (rerr, n) => {
        // Closing a read-only descriptor does no I/O: done inline, not as a thread-pool round trip.
        try {
          closeSync(fd);
        } catch {
          // Nothing was written through it; the content read stands.
        }
        if (rerr) return reject(translateFsError(rerr, path));
        if (n !== size) return resolve(null);
        const body = new Readable({ read() {} });
        body.push(buf.subarray(0, size));
        body.push(null);
        resolve(body);
      });
    });
  });
}

