/**
 * Scan: reconciles metadata with files changed outside meshdav. Walks each home on disk under
 * the user's mutex and compares with the records:
 *   - on disk without a record → added (new id, checksums computed by streaming the file);
 *   - size or mtime differs → changed (new ETag, checksums recomputed);
 *   - same size and mtime but checksums missing → the checksums are computed (same ETag);
 *   - record without a file → removed (its records and ids dropped);
 *   - folder sizes recomputed; every folder with a change below gets a new ETag.
 * Symbolic links and unaddressable names are skipped and reported, never followed.
 */
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HASH_CHUNK, HashingStream } from './checksums.js';
import { outOfDate, type HomeContext } from './home.js';
import { STORAGE_USER_RE, type Layout } from './layout.js';
import { newEtag, type EntryRecord, type MetaStore } from './meta-store.js';
import type { KeyedMutex } from './mutex.js';
import { Txn } from './txn.js';

export interface ScanChange {
  user: string;
  path: string;
}

export interface ScanReport {
  users: string[];
  files: number;
  folders: number;
  added: ScanChange[];
  changed: ScanChange[];
  removed: ScanChange[];
  /** Symlinks, special files and names that cannot be addressed: left alone. */
  skipped: ScanChange[];
}

export interface ScanDeps {
  layout: Layout;
  store: MetaStore;
  mutex: KeyedMutex;
  contextFor(user: string): HomeContext;
}

const UNADDRESSABLE = /[\u0000-\u001f\u007f\\]/;

async function hashFile(full: string): Promise<{ size: number; sums: Awaited<ReturnType<HashingStream['checksums']>> }> {
  const hasher = new HashingStream();
  const sink = new Writable({ highWaterMark: HASH_CHUNK, write: (_c, _e, cb) => cb() });
  await pipeline(createReadStream(full, { highWaterMark: HASH_CHUNK, flags: 'r' }), hasher, sink);
  return { size: hasher.bytes, sums: await hasher.checksums() };
}

function withoutFsMtime(rec: EntryRecord): EntryRecord {
  const { fsMtime: _f, ...rest } = rec;
  return rest;
}

function childrenByParent(records: Array<[string, EntryRecord]>): Map<string, Array<[string, EntryRecord]>> {
  const out = new Map<string, Array<[string, EntryRecord]>>();
  for (const [p, rec] of records) {
    if (p === '/') continue;
    const parent = p.slice(0, p.lastIndexOf('/')) || '/';
    let list = out.get(parent);
    if (!list) out.set(parent, (list = []));
    list.push([p, rec]);
  }
  return out;
}

async function scanHome(deps: ScanDeps, user: string, report: ScanReport): Promise<void> {
  const home = deps.layout.home(user);
  await mkdir(home, { recursive: true });
  await deps.mutex.run(user, async () => {
    const txn = new Txn(deps.store, user);
    const records = await deps.store.subtree(user, '/');
    const byPath = new Map(records);
    const byParent = childrenByParent(records);

    const dropRecords = (path: string): void => {
      const rec = byPath.get(path);
      if (rec) {
        txn.del(path);
        txn.delId(rec.id);
      }
      for (const [child] of byParent.get(path) ?? []) dropRecords(child);
    };
    const dropSubtree = (path: string): void => {
      dropRecords(path);
      report.removed.push({ user, path });
    };

    /** Returns [recursive size, whether anything at or below changed]. */
    const walkDir = async (path: string, full: string): Promise<[number, boolean]> => {
      report.folders++;
      let changed = false;
      let rec = byPath.get(path);
      if (!rec || rec.type !== 'dir') {
        if (rec) txn.delId(rec.id);
        rec = { id: await deps.store.nextId(), type: 'dir', size: 0, mtime: Date.now(), etag: newEtag() };
        txn.setId(rec.id, path);
        report.added.push({ user, path });
        changed = true;
      }
      const base = path === '/' ? '' : path;
      const present = new Set<string>();
      let size = 0;
      for (const d of await readdir(full, { withFileTypes: true })) {
        const p = `${base}/${d.name}`;
        if ((!d.isFile() && !d.isDirectory()) || UNADDRESSABLE.test(d.name) || d.name.length > 255) {
          report.skipped.push({ user, path: p });
          continue;
        }
        present.add(p);
        const childFull = join(full, d.name);
        if (d.isDirectory()) {
          const [s, c] = await walkDir(p, childFull);
          size += s;
          changed ||= c;
          continue;
        }
        report.files++;
        const st = await lstat(childFull);
        if (!st.isFile()) {
          report.skipped.push({ user, path: p });
          continue;
        }
        const old = byPath.get(p);
        const mtime = Math.round(st.mtimeMs);
        if (old?.type === 'file' && !outOfDate(old, st)) {
          // Same content: only missing checksums (deferred, or dropped by an out-of-band edit
          // already noticed) are filled in; the ETag stays.
          if (!(old.sha1 && old.md5 && old.adler32)) txn.put(p, { ...old, ...(await hashFile(childFull)).sums });
          size += old.size;
          continue;
        }
        const { size: bytes, sums } = await hashFile(childFull);
        if (old && old.type !== 'file') dropSubtree(p);
        const next: EntryRecord =
          old?.type === 'file'
            ? { ...withoutFsMtime(old), size: bytes, mtime, etag: newEtag(), ...sums }
            : { id: await deps.store.nextId(), type: 'file', size: bytes, mtime, etag: newEtag(), ...sums };
        if (old?.type !== 'file') {
          txn.setId(next.id, p);
          report.added.push({ user, path: p });
        } else {
          report.changed.push({ user, path: p });
        }
        txn.put(p, next);
        size += bytes;
        changed = true;
      }
      for (const [p] of byParent.get(path) ?? []) {
        if (!present.has(p)) {
          dropSubtree(p);
          changed = true;
        }
      }
      if (changed || rec.size !== size) {
        txn.put(path, { ...rec, size, etag: changed ? newEtag() : rec.etag, mtime: changed ? Math.max(rec.mtime, Date.now()) : rec.mtime });
        changed = true;
      }
      return [size, changed];
    };

    const st = await lstat(home);
    if (!st.isDirectory()) {
      report.skipped.push({ user, path: '/' });
      return;
    }
    await walkDir('/', home);
    await txn.commit();
  });
}

/** Scans the given users, or every home found under files/. */
export async function scanStorage(deps: ScanDeps, users?: string[]): Promise<ScanReport> {
  const report: ScanReport = { users: [], files: 0, folders: 0, added: [], changed: [], removed: [], skipped: [] };
  const list =
    users ??
    (await readdir(deps.layout.files, { withFileTypes: true })).filter((d) => d.isDirectory() && STORAGE_USER_RE.test(d.name)).map((d) => d.name).sort();
  for (const user of list) {
    report.users.push(user);
    await scanHome(deps, user, report);
  }
  return report;
}
