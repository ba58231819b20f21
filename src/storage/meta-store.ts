/**
 * Metadata in LevelDB sublevels of services.db, one record per file or folder:
 *   storage!entries  `{user}:{path}` → EntryRecord   (path-ordered: a subtree is one key range)
 *   storage!ids      `{fileId}` → `{user}:{path}`    (pathById)
 *   storage!versions `{user}:{fileId}:{key}` → VersionRecord
 *   storage!trash    `{user}:{key}` → TrashRecord;  storage!trashEntries `{user}:{key}:{relPath}` → EntryRecord
 *   storage!state    `counter` → highest id reserved
 *   storage!sums     `{user}:{fileId}` → ETag   (files whose MD5/Adler32 are still to be computed)
 *   storage!quotas   `{user}` → {bytes: number | null (unlimited)}: a user's own quota, over the node's
 * File ids come from a node-wide counter (decimal strings, as Nextcloud's numeric oc:fileid),
 * reserved in blocks so a crash never hands out an id twice.
 */
import { randomBytes } from 'node:crypto';
import type { AbstractSublevel } from 'abstract-level';
import type { Db } from '../services.js';
import type { Grant } from '../fs/types.js';

export interface EntryRecord {
  id: string;
  type: 'file' | 'dir';
  /** Files: bytes; folders: recursive size. */
  size: number;
  /** ms since the epoch (client-supplied for uploads). */
  mtime: number;
  /**
   * Files: the mtime the disk reported right after meshdav wrote the file, when it differs from
   * `mtime` (coarse file-system clocks); what change detection compares against.
   */
  fsMtime?: number;
  etag: string;
  sha1?: string;
  md5?: string;
  adler32?: string;
  /** Dead properties, Clark name → XML fragment. */
  props?: Record<string, string>;
  grants?: Grant[];
  /** Arbitrary metadata. */
  meta?: Record<string, string>;
}

export interface VersionRecord {
  key: string;
  size: number;
  mtime: number;
  etag: string;
  sha1?: string;
  md5?: string;
  adler32?: string;
}

export interface TrashRecord {
  key: string;
  originalPath: string;
  type: 'file' | 'dir';
  size: number;
  deletedAt: number;
}

export type Sub<V> = AbstractSublevel<Db, string | Buffer | Uint8Array, string, V>;

const ID_BLOCK = 1000;

export function newEtag(): string {
  return randomBytes(8).toString('hex');
}

export const entryKey = (user: string, path: string): string => `${user}:${path}`;

/** Key range of everything strictly below `path` in a user's home. */
export function belowRange(user: string, path: string): { gte: string; lt: string } {
  const base = path === '/' ? '' : path;
  return { gte: `${user}:${base}/`, lt: `${user}:${base}0` };
}

export class MetaStore {
  readonly entries: Sub<EntryRecord>;
  readonly ids: Sub<string>;
  readonly versions: Sub<VersionRecord>;
  readonly trash: Sub<TrashRecord>;
  readonly trashEntries: Sub<EntryRecord>;
  private readonly state: Sub<number>;
  /**
   * Write intents (redo log): `user:path` → time, put before committed uploads are renamed into
   * place and deleted once their metadata is in. One that survives a crash names a path whose
   * content may be ahead of its metadata (see LocalStorage.open).
   */
  readonly intents: Sub<number>;
  /** Deferred checksums to compute (see checksum-backfill.ts). */
  readonly sums: Sub<string>;
  /** Users' own quotas (bytes, or null for unlimited), over the node's `quotaBytes`. */
  readonly quotas: Sub<{ bytes: number | null }>;
  private next = 0;
  private reserved = 0;
  private reserving: Promise<void> | null = null;

  constructor(readonly db: Db) {
    this.entries = db.sublevel<string, EntryRecord>(['storage', 'entries'], { valueEncoding: 'json' });
    this.ids = db.sublevel<string, string>(['storage', 'ids'], { valueEncoding: 'utf8' });
    this.versions = db.sublevel<string, VersionRecord>(['storage', 'versions'], { valueEncoding: 'json' });
    this.trash = db.sublevel<string, TrashRecord>(['storage', 'trash'], { valueEncoding: 'json' });
    this.trashEntries = db.sublevel<string, EntryRecord>(['storage', 'trashEntries'], { valueEncoding: 'json' });
    this.state = db.sublevel<string, number>(['storage', 'state'], { valueEncoding: 'json' });
    this.intents = db.sublevel<string, number>(['storage', 'intents'], { valueEncoding: 'json' });
    this.sums = db.sublevel<string, string>(['storage', 'sums'], { valueEncoding: 'utf8' });
    this.quotas = db.sublevel<string, { bytes: number | null }>(['storage', 'quotas'], { valueEncoding: 'json' });
  }

  async open(): Promise<void> {
    const stored = (await this.state.get('counter')) ?? 0;
    this.next = stored + 1;
    this.reserved = stored;
  }

  /** A fresh node-wide file id. */
  async nextId(): Promise<string> {
    while (this.next > this.reserved) {
      this.reserving ??= (async () => {
        const upto = this.reserved + ID_BLOCK;
        await this.state.put('counter', upto);
        this.reserved = upto;
      })().finally(() => {
        this.reserving = null;
      });
      await this.reserving;
    }
    return String(this.next++);
  }

  get(user: string, path: string): Promise<EntryRecord | undefined> {
    return this.entries.get(entryKey(user, path));
  }

  getMany(user: string, paths: string[]): Promise<(EntryRecord | undefined)[]> {
    return this.entries.getMany(paths.map((p) => entryKey(user, p)));
  }

  /** Every record strictly below `path`, as [path, record], in key order. */
  async below(user: string, path: string): Promise<Array<[string, EntryRecord]>> {
    const out: Array<[string, EntryRecord]> = [];
    const prefix = user.length + 1;
    for await (const [k, v] of this.entries.iterator(belowRange(user, path))) out.push([k.slice(prefix), v]);
    return out;
  }

  /** `path` itself (when it has a record) and everything below it. */
  async subtree(user: string, path: string): Promise<Array<[string, EntryRecord]>> {
    const self = await this.get(user, path);
    const rest = await this.below(user, path);
    return self ? [[path, self], ...rest] : rest;
  }
}
