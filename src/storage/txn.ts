/**
 * A metadata transaction for one user's home: record changes collect here and are written in
 * one LevelDB batch by `commit()`. Callers hold the user's mutex from the first read to the
 * commit, so what they read is what they overwrite.
 *
 * A durable transaction (configuration `fsync`) also flushes, before its batch, the folders its
 * caller changed on disk (`touched`), and writes the batch synchronously: what the disk shows and
 * what the metadata says both survive a power cut once `commit()` resolves.
 */
import type { Stats } from 'node:fs';
import type { AbstractBatchOperation } from 'abstract-level';
import { parentPath } from '../fs/path.js';
import type { Db } from '../services.js';
import { syncFolders } from './durable.js';
import { entryKey, newEtag, type EntryRecord, type MetaStore, type Sub } from './meta-store.js';

type Op = AbstractBatchOperation<Db, string, unknown>;

export class Txn {
  private readonly pending = new Map<string, EntryRecord | null>();
  /** Records read ahead by prefetch(); undefined = known to be absent. */
  private readonly loaded = new Map<string, EntryRecord | undefined>();
  private readonly ops: Op[] = [];
  /** Folders whose entries changed on disk, flushed by a durable commit. */
  private readonly folders = new Set<string>();

  constructor(
    readonly store: MetaStore,
    readonly user: string,
    /** Configuration `fsync`: commit() flushes the touched folders and the batch. */
    readonly durable = false,
  ) {}

  /** Notes folders (absolute disk paths) in which a name was created, renamed or removed. */
  touched(...folders: string[]): void {
    if (this.durable) for (const f of folders) this.folders.add(f);
  }

  async get(path: string): Promise<EntryRecord | undefined> {
    if (this.pending.has(path)) return this.pending.get(path) ?? undefined;
    if (this.loaded.has(path)) return this.loaded.get(path);
    return this.store.get(this.user, path);
  }

  /** Reads these records in one LevelDB call, so later get()s (and propagate()) need no I/O. */
  async prefetch(paths: string[]): Promise<void> {
    const recs = await this.store.getMany(this.user, paths);
    paths.forEach((p, i) => this.loaded.set(p, recs[i]));
  }

  /** The record at `path`, creating one from disk facts when the path predates its metadata. */
  async getOrAdopt(path: string, st: Stats): Promise<EntryRecord> {
    const rec = await this.get(path);
    if (rec) return rec;
    const adopted = await adoptRecord(this.store, st);
    this.put(path, adopted);
    this.setId(adopted.id, path);
    return adopted;
  }

  put(path: string, rec: EntryRecord): void {
    this.pending.set(path, rec);
  }

  del(path: string): void {
    this.pending.set(path, null);
  }

  setId(id: string, path: string): void {
    this.ops.push({ type: 'put', sublevel: this.store.ids, key: id, value: entryKey(this.user, path) } as Op);
  }

  delId(id: string): void {
    this.ops.push({ type: 'del', sublevel: this.store.ids, key: id } as Op);
  }

  /** A put into another storage sublevel (versions, trash…), written in the same batch. */
  putIn<V>(sublevel: Sub<V>, key: string, value: V): void {
    this.ops.push({ type: 'put', sublevel, key, value } as Op);
  }

  /** A delete from another storage sublevel, written in the same batch. */
  delIn<V>(sublevel: Sub<V>, key: string): void {
    this.ops.push({ type: 'del', sublevel, key } as Op);
  }

  /**
   * Every ancestor of `path` (parent up to `/`) gets a new ETag and mtime, and its recursive
   * size changed by `sizeDelta`.
   */
  async propagate(path: string, sizeDelta: number, now = Date.now()): Promise<void> {
    if (path === '/') return;
    let p = path;
    do {
      p = parentPath(p);
      const rec = await this.get(p);
      const base: EntryRecord = rec ?? { id: await this.store.nextId(), type: 'dir', size: 0, mtime: now, etag: '' };
      if (!rec) this.setId(base.id, p);
      this.put(p, { ...base, etag: newEtag(), size: Math.max(0, base.size + sizeDelta), mtime: Math.max(now, base.mtime) });
    } while (p !== '/');
  }

  /**
   * Writes what the transaction changed in one batch. Durable: the touched folders are flushed
   * first and the batch is on disk when this resolves.
   */
  async commit(): Promise<void> {
    if (this.folders.size) {
      await syncFolders(this.folders);
      this.folders.clear();
    }
    const ops: Op[] = [];
    for (const [path, rec] of this.pending) {
      const key = entryKey(this.user, path);
      ops.push(
        rec === null
          ? ({ type: 'del', sublevel: this.store.entries, key } as Op)
          : ({ type: 'put', sublevel: this.store.entries, key, value: rec } as Op),
      );
    }
    ops.push(...this.ops);
    if (ops.length) await this.store.db.batch(ops, this.durable ? { sync: true } : {});
    this.pending.clear();
    this.loaded.clear();
    this.ops.length = 0;
  }
}

/** The folders above `path`, nearest first, ending with `/` (empty for `/`). */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let p = path; p !== '/'; ) {
    p = parentPath(p);
    out.push(p);
  }
  return out;
}

/** A record for something found on disk without metadata (created outside meshdav). */
export async function adoptRecord(store: MetaStore, st: Stats): Promise<EntryRecord> {
  return {
    id: await store.nextId(),
    type: st.isDirectory() ? 'dir' : 'file',
    size: st.isDirectory() ? 0 : st.size,
    mtime: Math.round(st.mtimeMs),
    etag: newEtag(),
  };
}
