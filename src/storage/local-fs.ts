/**
 * LocalFs: one user's home on local disk (dataDir/files/{user}), metadata in LevelDB.
 * The core (stat, list, openRead, mkdir) lives here; writes, transfers, versions, trash and
 * per-resource metadata live in their own modules and are delegated to.
 *
 * What callers can rely on:
 * - fileId: node-wide decimal counter; kept by overwrite, move, trash + restore; new on copy.
 * - etag: new on every content change of a file; every ancestor folder up to `/` gets a new one
 *   (and its recursive size adjusted) whenever anything below is written, created, removed,
 *   moved in or out, or restored. Moves keep the moved entries' own ETags; dead properties,
 *   grants and metadata never change an ETag.
 * - size of a folder: recursive bytes below it; quota().used is the size of `/`.
 * - mtime: the client's (WriteOptions.mtime), also set on disk; folders: last change below.
 * - Anything found on disk without metadata (created behind meshdav's back) is adopted on first
 *   sight with a new id; `LocalStorage.scan()` recomputes sizes and checksums.
 * - Symbolic links are never followed: paths through them are ForbiddenError, listings skip them.
 */
import { mkdir as mkdirFs, readdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../errors.js';
import { normalizePath, parentPath } from '../fs/path.js';
import type {
  ArbitraryMetadata,
  Copier,
  DeadProps,
  Entry,
  EntryOpener,
  FileIdResolver,
  Fs,
  Grant,
  GrantStore,
  Mover,
  Quota,
  QuotaReporter,
  ReadOptions,
  TransferOptions,
  TransferResult,
  TrashBin,
  TrashEntry,
  TrashItem,
  Versioned,
  Version,
  WriteOptions,
  WriteResult,
} from '../fs/types.js';
import { translateFsError } from './fs-errors.js';
import { adoptAll, locked, lookup, openRange, readSmall, SMALL_READ, toEntry, type HomeContext } from './home.js';
import { resolveExisting, resolveMaybe } from './layout.js';
import { newEtag, type EntryRecord } from './meta-store.js';
import { ancestorsOf } from './txn.js';
import { copyLocal, moveLocal } from './local-transfer.js';
import * as meta from './resource-meta.js';
import * as trash from './trash.js';
import * as versions from './versions.js';
import { writeFile } from './writes.js';

/** Names that cannot be addressed through normalizePath are not listed. */
const UNADDRESSABLE = /[\u0000-\u001f\u007f\\]/;

export class LocalFs
  implements Fs, EntryOpener, Mover, Copier, DeadProps, QuotaReporter, FileIdResolver, Versioned, TrashBin, GrantStore, ArbitraryMetadata
{
  constructor(readonly home: HomeContext) {}

  get user(): string {
    return this.home.user;
  }

  private full(path: string): string {
    return this.home.layout.full(this.home.user, path);
  }

  async stat(rawPath: string): Promise<Entry> {
    const path = normalizePath(rawPath);
    return toEntry(this.home, path, (await lookup(this.home, path)).rec);
  }

  async list(rawPath: string): Promise<Entry[]> {
    const path = normalizePath(rawPath);
    const full = this.full(path);
    // Checked and read in one I/O round; what readdir saw is used only once the check passed.
    const [st, dirents] = await Promise.all([
      resolveExisting(full, path),
      readdir(full, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOTDIR' ? null : Promise.reject(err))),
    ]).catch((err: unknown) => {
      throw translateFsError(err, path, { lookup: true });
    });
    if (!st.isDirectory() || !dirents) throw new ConflictError(`${path} is not a folder`);
    const base = path === '/' ? '' : path;
    const kids = dirents.filter((d) => (d.isFile() || d.isDirectory()) && d.name.length <= 255 && !UNADDRESSABLE.test(d.name));
    const paths = kids.map((d) => `${base}/${d.name}`);
    const recs = await this.home.store.getMany(this.home.user, paths);
    // Entries created behind meshdav's back get their records in one locked batch.
    const missing = kids.map((d, i) => i).filter((i) => !recs[i] || recs[i]!.type !== (kids[i]!.isDirectory() ? 'dir' : 'file'));
    if (missing.length) {
      const adopted = await adoptAll(this.home, missing.map((i) => paths[i]!));
      for (const i of missing) recs[i] = adopted.get(paths[i]!);
    }
    const out: Entry[] = [];
    for (let i = 0; i < kids.length; i++) {
      const rec = recs[i];
      if (rec) out.push(toEntry(this.home, paths[i]!, rec));
    }
    return out;
  }

  async openRead(rawPath: string, options?: ReadOptions): Promise<Readable> {
    const path = normalizePath(rawPath);
    const full = this.full(path);
    const st = await resolveExisting(full, path);
    if (!st.isFile()) throw new ConflictError(`${path} is a folder`);
    return openRange(full, path, st.size, options, this.home.activity);
  }

  /**
   * stat + openRead with one path resolution (EntryOpener). A whole small file is read before
   * this resolves (see SMALL_READ), so its body always matches the entry returned with it; a
   * bigger one streams as FileChunks, whose consumer may release chunks for reuse.
   */
  async openEntry(rawPath: string, options?: ReadOptions): Promise<{ entry: Entry; body: Readable }> {
    const path = normalizePath(rawPath);
    for (let attempt = 1; ; attempt++) {
      const { st, rec } = await lookup(this.home, path);
      if (!st.isFile()) throw new ConflictError(`${path} is a folder`);
      const entry = toEntry(this.home, path, rec);
      // Streamed (as FileChunks): a range, a big file, or one that keeps changing under a small read.
      if (options?.range || st.size > SMALL_READ || attempt > 3) {
        return { entry, body: openRange(this.full(path), path, st.size, options, this.home.activity) };
      }
      // A small read counts as a transfer too: background checksum work waits while they come.
      const body = await readSmall(this.full(path), path, st.size).finally(this.home.activity.begin(false));
      if (body) return { entry, body };
    }
  }

  write(path: string, body: Readable, options?: WriteOptions): Promise<WriteResult> {
    return writeFile(this.home, path, body, options);
  }

  async mkdir(rawPath: string): Promise<Entry> {
    const path = normalizePath(rawPath);
    if (path === '/') throw new AlreadyExistsError('the home folder exists');
    const parent = parentPath(path);
    return locked(this.home, async (txn) => {
      const [pSt, existing] = await Promise.all([
        resolveMaybe(this.full(parent), parent),
        resolveMaybe(this.full(path), path),
        txn.prefetch([path, ...ancestorsOf(path)]),
      ]);
      if (!pSt?.isDirectory()) throw new ConflictError(`parent folder ${parent} does not exist`);
      if (existing) throw new AlreadyExistsError(`${path} already exists`);
      try {
        await mkdirFs(this.full(path));
      } catch (err) {
        throw translateFsError(err, path);
      }
      txn.touched(this.full(parent));
      const old = await txn.get(path);
      if (old) txn.delId(old.id);
      const rec: EntryRecord = { id: await this.home.store.nextId(), type: 'dir', size: 0, mtime: Date.now(), etag: newEtag() };
      txn.put(path, rec);
      txn.setId(rec.id, path);
      await txn.propagate(path, 0);
      await txn.commit();
      return toEntry(this.home, path, rec);
    });
  }

  remove(path: string): Promise<void> {
    return trash.removeToTrash(this.home, path);
  }

  move(from: string, to: string, options: TransferOptions): Promise<TransferResult> {
    return moveLocal(this.home, from, to, options);
  }

  copy(from: string, to: string, options: TransferOptions & { depth?: 0 | 'infinity' }): Promise<TransferResult> {
    return copyLocal(this.home, from, to, options);
  }

  async quota(): Promise<Quota> {
    const used = (await this.home.store.get(this.home.user, '/'))?.size ?? 0;
    const total = this.home.quotaBytes;
    return { used, total, available: total === null ? null : Math.max(0, total - used) };
  }

  async pathById(fileId: string): Promise<string> {
    const where = typeof fileId === 'string' && /^\d{1,20}$/.test(fileId) ? await this.home.store.ids.get(fileId) : undefined;
    const prefix = `${this.home.user}:`;
    if (!where || !where.startsWith(prefix)) throw new NotFoundError(`no file with id ${String(fileId)}`);
    return where.slice(prefix.length);
  }

  getProps(path: string): Promise<Record<string, string>> {
    return meta.getProps(this.home, path);
  }
  patchProps(path: string, patch: { set?: Record<string, string>; remove?: string[] }): Promise<void> {
    return meta.patchProps(this.home, path, patch);
  }

  listVersions(path: string): Promise<Version[]> {
    return versions.listVersions(this.home, path);
  }
  openVersion(path: string, key: string, options?: ReadOptions): Promise<Readable> {
    return versions.openVersion(this.home, path, key, options);
  }
  restoreVersion(path: string, key: string): Promise<Entry> {
    return versions.restoreVersion(this.home, path, key);
  }

  listTrash(): Promise<TrashItem[]> {
    return trash.listTrash(this.home);
  }
  restoreTrash(key: string, options?: { to?: string }): Promise<Entry> {
    return trash.restoreTrash(this.home, key, options);
  }
  purgeTrash(key: string): Promise<void> {
    return trash.purgeTrash(this.home, key);
  }
  emptyTrash(): Promise<void> {
    return trash.emptyTrash(this.home);
  }
  openTrash(key: string, options?: ReadOptions, rel?: string): Promise<Readable> {
    return trash.openTrashFile(this.home, key, options, rel);
  }
  listTrashFolder(key: string, rel: string): Promise<{ self: TrashEntry; children: TrashEntry[] }> {
    return trash.listTrashFolder(this.home, key, rel);
  }

  listGrants(path: string): Promise<Grant[]> {
    return meta.listGrants(this.home, path);
  }
  setGrant(path: string, grant: Grant): Promise<void> {
    return meta.setGrant(this.home, path, grant);
  }
  removeGrant(path: string, grantee: Grant['grantee']): Promise<void> {
    return meta.removeGrant(this.home, path, grantee);
  }

  getMetadata(path: string, keys?: string[] | null): Promise<Record<string, string>> {
    return meta.getMetadata(this.home, path, keys);
  }
  setMetadata(path: string, metadata: Record<string, string>): Promise<void> {
    return meta.setMetadata(this.home, path, metadata);
  }
  unsetMetadata(path: string, keys: string[]): Promise<void> {
    return meta.unsetMetadata(this.home, path, keys);
  }
}
