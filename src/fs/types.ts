/**
 * The Fs contract: the one storage interface the DAV, EFSS and OCM layers speak.
 *
 * A small core (stat, list, openRead, write, mkdir, remove) that every implementation has, and
 * optional abilities beside it (Mover, Copier, DeadProps, …) found with the type guards in
 * `guards.ts`. Generic fallbacks (move = copy + remove, copy = walk + write) live in
 * `fallbacks.ts` and are written once.
 *
 * Paths: always normalised by `normalizePath` (src/fs/path.ts): start with `/`, no trailing
 * slash, no `.`/`..` segments, no NUL or backslash; `/` is the root of this Fs. An Fs never
 * sees a path outside its root.
 *
 * Errors: implementations throw only the typed errors of src/errors.ts:
 *   NotFoundError (path or a parent missing), ConflictError (parent missing on create, a file
 *   where a folder is needed), AlreadyExistsError (mkdir on an existing path),
 *   PreconditionFailedError (ifMatch/ifNoneMatch failed), ForbiddenError (permissions),
 *   InsufficientStorageError (quota), BadGatewayError / GatewayTimeoutError /
 *   ServiceUnavailableError (remote backends).
 */
import type { Readable } from 'node:stream';

/** Nextcloud permission bits, as reva and Nextcloud clients read them. */
export const Perm = {
  READ: 1,
  UPDATE: 2,
  CREATE: 4,
  DELETE: 8,
  SHARE: 16,
  ALL: 31,
} as const;

export type EntryType = 'file' | 'dir';

export interface Checksums {
  sha1?: string;
  md5?: string;
  adler32?: string;
}

/** Where an entry comes from when it is (inside) a mounted remote share. */
export interface RemoteOrigin {
  shareId: string;
  owner: string; // OCM address of the owner, user@provider
  provider: string; // provider domain of the sender
  /** 'ok' normally; 'unavailable' when the sender cannot be reached right now. */
  state?: 'ok' | 'unavailable';
}

export interface Entry {
  /** Normalised path inside this Fs (`/` for the root). */
  path: string;
  /** Last path segment; '' for the root. */
  name: string;
  type: EntryType;
  /** Bytes for files; for folders the recursive size where known, else 0. */
  size: number;
  /** Modification time, milliseconds since the epoch. */
  mtime: number;
  /** Opaque ETag without quotes. Changes whenever the content (or, for folders, anything below) changes. */
  etag: string;
  /** Stable id that survives move and rename. */
  fileId: string;
  /** MIME type; `httpd/unix-directory` for folders. */
  mime: string;
  /** Perm bit mask of what the caller may do here. */
  permissions: number;
  checksums?: Checksums;
  /** Owner's user name (local) where known. */
  owner?: string;
  /** Set on mount points and on everything inside a mounted remote share. */
  remote?: RemoteOrigin;
  /**
   * Dead properties, when the Fs read them together with the entry (read-only; absent = ask
   * DeadProps.getProps). Saves a listing one lookup per member.
   */
  props?: Readonly<Record<string, string>>;
}

export interface ByteRange {
  start: number;
  /** Inclusive, as in HTTP. Absent = to the end. */
  end?: number;
}

export interface ReadOptions {
  range?: ByteRange;
  signal?: AbortSignal;
}

export interface WriteOptions {
  /** Write only if the current ETag equals this (If-Match); `*` = only if it exists. */
  ifMatch?: string;
  /** `*` = only if nothing exists there yet (If-None-Match: *). */
  ifNoneMatch?: '*';
  /** Client-supplied modification time (ms), kept as the entry's mtime (X-OC-Mtime). */
  mtime?: number;
  /** Declared length; a body of another length fails with BadRequestError and writes nothing. */
  size?: number;
  /** Client-declared checksum (`SHA1:abc…`, OC-Checksum); a mismatch fails and writes nothing. */
  checksum?: string;
  signal?: AbortSignal;
}

export interface WriteResult {
  entry: Entry;
  /** true when the path did not exist before. */
  created: boolean;
}

/**
 * The core every backend implements. May not buffer a file's content in memory: reads and
 * writes are streams, and a write becomes visible only when complete (atomic replace).
 */
export interface Fs {
  /** Entry at `path`; NotFoundError if absent. */
  stat(path: string): Promise<Entry>;
  /** Children of the folder at `path` (not recursive); NotFoundError, ConflictError if a file. */
  list(path: string): Promise<Entry[]>;
  /** Content of the file at `path`, or the given byte range of it. The stream ends early with an error on failure. */
  openRead(path: string, options?: ReadOptions): Promise<Readable>;
  /** Writes `body` to `path` atomically; parent must exist (ConflictError otherwise). */
  write(path: string, body: Readable, options?: WriteOptions): Promise<WriteResult>;
  /** Creates one folder; ConflictError if the parent is missing, AlreadyExistsError if the path exists. */
  mkdir(path: string): Promise<Entry>;
  /** Removes a file or a whole folder tree (to the trash where the backend has one). */
  remove(path: string): Promise<void>;
}

export interface TransferOptions {
  /** Replace an existing destination (false → PreconditionFailedError when it exists). */
  overwrite: boolean;
  signal?: AbortSignal;
}

export interface TransferResult {
  entry: Entry;
  /** true when something existed at the destination and was replaced. */
  replaced: boolean;
}

/**
 * Opens a file and returns the entry it resolved, with one path resolution (a plain GET then needs
 * no separate stat). NotFoundError if absent; ConflictError if `path` is a folder.
 */
export interface EntryOpener {
  openEntry(path: string, options?: ReadOptions): Promise<{ entry: Entry; body: Readable }>;
}

/** Native move/rename within one Fs. File ids are kept. */
export interface Mover {
  move(from: string, to: string, options: TransferOptions): Promise<TransferResult>;
}

/** Native copy within one Fs. `depth: 0` copies a folder without its members. */
export interface Copier {
  copy(from: string, to: string, options: TransferOptions & { depth?: 0 | 'infinity' }): Promise<TransferResult>;
}

/**
 * Dead (client-set) properties. Names are in Clark notation `{namespace}local`; values are the
 * XML fragment inside the property element, stored verbatim. Moves and copies carry them along.
 */
export interface DeadProps {
  getProps(path: string): Promise<Record<string, string>>;
  /** Applies all sets and removals, or none (atomic per call). */
  patchProps(path: string, patch: { set?: Record<string, string>; remove?: string[] }): Promise<void>;
}

export interface Quota {
  used: number;
  /** Bytes still available; null = unlimited. */
  available: number | null;
  /** Total bytes allowed; null = unlimited. */
  total: number | null;
}

export interface QuotaReporter {
  quota(): Promise<Quota>;
}

export interface FileIdResolver {
  /** Current path of the entry with this id; NotFoundError if it no longer exists. */
  pathById(fileId: string): Promise<string>;
}

export interface Version {
  key: string;
  size: number;
  mtime: number;
  etag: string;
}

export interface Versioned {
  listVersions(path: string): Promise<Version[]>;
  openVersion(path: string, key: string, options?: ReadOptions): Promise<Readable>;
  /** The current content becomes a version; the chosen version becomes current. */
  restoreVersion(path: string, key: string): Promise<Entry>;
}

export interface TrashItem {
  key: string;
  /** Path the item had when it was deleted. */
  originalPath: string;
  type: EntryType;
  size: number;
  /** Deletion time, ms since the epoch. */
  deletedAt: number;
}

export interface TrashBin {
  listTrash(): Promise<TrashItem[]>;
  /** Restores to the original path, or to `to`; ConflictError if the target exists. */
  restoreTrash(key: string, options?: { to?: string }): Promise<Entry>;
  purgeTrash(key: string): Promise<void>;
  emptyTrash(): Promise<void>;
  /**
   * The content of a deleted file, or of file `rel` inside a deleted folder (ConflictError for a
   * folder), where the backend can read it.
   */
  openTrash?(key: string, options?: ReadOptions, rel?: string): Promise<Readable>;
  /** What deleted folder `key` held at `rel` ('/' for itself): the entry there and, for a folder, what is in it. */
  listTrashFolder?(key: string, rel: string): Promise<{ self: TrashEntry; children: TrashEntry[] }>;
}

/** Something inside a deleted folder, at `path` relative to the deleted item. */
export interface TrashEntry {
  path: string;
  type: EntryType;
  size: number;
  mtime: number;
  etag: string;
}

/** A CS3-style grant on a resource, kept for revad (AddGrant/ListGrants/…). */
export interface Grant {
  grantee: { type: 'user' | 'group'; id: string; idp?: string };
  /** CS3 permission names (snake_case) that are granted. */
  permissions: string[];
  denied?: boolean;
}

export interface GrantStore {
  listGrants(path: string): Promise<Grant[]>;
  /** Adds or replaces the grant for that grantee. */
  setGrant(path: string, grant: Grant): Promise<void>;
  removeGrant(path: string, grantee: Grant['grantee']): Promise<void>;
}

/** Free key/value metadata on a resource (CS3 arbitrary metadata). */
export interface ArbitraryMetadata {
  getMetadata(path: string, keys?: string[] | null): Promise<Record<string, string>>;
  setMetadata(path: string, metadata: Record<string, string>): Promise<void>;
  unsetMetadata(path: string, keys: string[]): Promise<void>;
}
