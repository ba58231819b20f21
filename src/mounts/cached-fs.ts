/**
 * CachedFs: a caching decorator over ANY Fs (rclone's VFS cache wraps any backend; the backend
 * knows nothing of it). Modes: `off` (pass-through), `metadata` (stat/list cached),
 * `full` (content chunks cached too, in the shared ChunkStore).
 *
 * Metadata: lru-cache with fetchMethod — one in-flight fetch per key; fresh for metadataTtlMs,
 * then served stale while one refresh runs (stale-while-revalidate); a 404 is cached as a
 * negative entry; a Depth-1 listing seeds the stats of its children. openRead in mode full uses
 * a fresh stat (never a stale one), so content follows the sender once the TTL has passed; in
 * modes metadata and full the read is validated against the cached ETag (If-Match), and a file
 * that changed size since that stat gives ServiceUnavailableError (retry), never a cut body.
 *
 * Content (chunk-reader.ts): aligned chunks of `chunkBytes`, keyed by (cache id, path, ETag,
 * index), fetched with If-Match on the ETag of the stat the read is based on, so a chunk is never
 * stored or served under another ETag. Uncached runs stream through (one GET for the run, teed
 * into the store), stored chunks are sent without copies; the first piece is produced before
 * openRead returns, so early failures are typed throws and later ones error the stream.
 *
 * Lock ordering and invalidation (there are no locks held across awaits):
 *   1. a write-like call (write, mkdir, remove, move, copy) first completes on the inner Fs;
 *   2. then the touched paths are invalidated: the path itself, every ancestor (stat and
 *      listing: folder ETags and sizes change up the tree) and, for remove/move/copy, every key
 *      below the path;
 *   3. deleting a key aborts a fetch of it still in flight (lru-cache), so a result read before
 *      the write never lands after the invalidation; listings check their abort signal before
 *      seeding children; a reader whose fetch was aborted retries once, then reads the inner Fs
 *      uncached (a writer never makes a reader fail);
 *   4. the touched folders' listings, when cached and fresh, are put back with the change made
 *      (an entry written, made, copied or moved in; one removed or moved out) and their
 *      remaining TTL, instead of being dropped; the touched paths' own stats are set from the
 *      call's answer.
 * Chunks are never invalidated: a new ETag simply misses.
 */
import { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { NotFoundError, ServiceUnavailableError, PreconditionFailedError, isMeshdavError } from '../errors.js';
import { isCopier, isMover } from '../fs/guards.js';
import { isWithin, normalizePath, parentPath } from '../fs/path.js';
import type {
  Copier,
  Entry,
  Fs,
  Mover,
  ReadOptions,
  TransferOptions,
  TransferResult,
  WriteOptions,
  WriteResult,
} from '../fs/types.js';
import type { ChunkStore } from './chunk-store.js';
import { readRange, readThrough } from './chunk-reader.js';
import type { ReadResume } from './resuming-body.js';
import type { ChunkRefill } from './chunk-refill.js';

export type CacheMode = 'off' | 'metadata' | 'full';

export interface CachedFsOptions {
  mode: CacheMode;
  metadataTtlMs: number;
  chunkBytes: number;
  /** Names this Fs in chunk keys (the share id); distinct per wrapped Fs. */
  cacheId: string;
  /** Shared content store; needed for mode `full`. */
  store?: ChunkStore;
  /** How content GETs broken off or held paused are reopened (default: after 20 s paused). */
  resume?: ReadResume;
  /** Fetches again in the background the chunks a read could not cache (mode `full`). */
  refill?: ChunkRefill;
}

const DEFAULT_RESUME: ReadResume = { pausedCloseMs: 20_000 };

type Meta = { kind: 'entry'; entry: Entry } | { kind: 'missing' } | { kind: 'list'; entries: Entry[] };
/** A change a write-like call made to one folder's members. */
type ListingChange = { parent: string; put?: Entry; drop?: string };
/** A folder's cached listing with changes made, to be put back with its remaining TTL. */
type ListingPatch = { key: string; entries: Entry[]; ttl: number };

export class CachedFs implements Fs {
  readonly move?: Mover['move'];
  readonly copy?: Copier['copy'];
  private readonly meta?: LRUCache<string, Meta>;

  constructor(
    readonly inner: Fs,
    private readonly options: CachedFsOptions,
  ) {
    if (options.mode !== 'off' && options.metadataTtlMs > 0) {
      // Bounded by size only: lru-cache preallocates ~10 MiB per cache for a `max` of 200,000,
      // and a mount that is never browsed should cost nothing. A key costs 10 and a listing one
      // more per entry: at most 200,000 keys, at most 2,000,000 size units in all.
      this.meta = new LRUCache<string, Meta>({
        maxSize: 2_000_000,
        sizeCalculation: (v) => (v.kind === 'list' ? v.entries.length + 10 : 10),
        ttl: options.metadataTtlMs,
        allowStale: true,
        noDeleteOnStaleGet: true,
        fetchMethod: (key, _stale, { signal }) => this.load(key, signal),
      });
    }
    if (options.mode === 'full' && !options.store) throw new Error('CachedFs: mode full needs a ChunkStore');
    if (isMover(inner)) {
      this.move = async (from: string, to: string, opts: TransferOptions): Promise<TransferResult> => {
        const [f, t] = [normalizePath(from), normalizePath(to)];
        const result = await inner.move(f, t, opts);
        this.changed({ gone: f, made: [t, result.entry] }, true);
        return result;
      };
    }
    if (isCopier(inner)) {
      this.copy = async (from: string, to: string, opts: TransferOptions & { depth?: 0 | 'infinity' }): Promise<TransferResult> => {
        const t = normalizePath(to);
        const result = await inner.copy(normalizePath(from), t, opts);
        this.changed({ made: [t, result.entry] }, true);
        return result;
      };
    }
  }

  async stat(path: string): Promise<Entry> {
    const p = normalizePath(path);
    if (!this.meta) return this.inner.stat(p);
    return entryOf(await this.getMeta('s' + p, false));
  }

  async list(path: string): Promise<Entry[]> {
    const p = normalizePath(path);
    if (!this.meta) return this.inner.list(p);
    const v = await this.getMeta('l' + p, false);
    return v.kind === 'list' ? v.entries : [];
  }

  /**
   * Content as of the entry our stat gives (the one a caller that stat'ed first has seen). If the
   * file changed at the source since then, the new version is read instead when it has the same
   * size; otherwise ServiceUnavailableError (retry): a caller never gets new bytes cut to an old
   * length.
   */
  async openRead(path: string, options: ReadOptions = {}): Promise<Readable> {
    const p = normalizePath(path);
    if (!this.meta) {
      if (this.options.mode !== 'full') return this.inner.openRead(p, options);
      return this.readChunks(await this.inner.stat(p), options);
    }
    const seen = this.options.mode === 'full' ? entryOf(await this.getMeta('s' + p, true)) : this.peekEntry(p);
    if (!seen || seen.type !== 'file') return this.inner.openRead(p, options);
    try {
      return await this.readSeen(seen, options);
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
    this.invalidate(p, false);
    const now = entryOf(await this.getMeta('s' + p, true));
    if (now.type !== 'file' || now.size !== seen.size) {
      throw new ServiceUnavailableError('the file changed at its source while being opened; try again', { headers: { 'Retry-After': '1' } });
    }
    return this.readSeen(now, options);
  }

  private readSeen(entry: Entry, options: ReadOptions): Promise<Readable> {
    if (this.options.mode === 'full') return this.readChunks(entry, options);
    // Not cached, but read the way an uncached run of chunks is: exactly the bytes asked, with
    // If-Match on the entry's ETag, received into reusable slabs, checked against the listed size.
    return readThrough({ inner: this.inner, chunkBytes: this.options.chunkBytes, resume: this.options.resume ?? DEFAULT_RESUME }, entry, options);
  }

  private peekEntry(path: string): Entry | undefined {
    const v = this.meta?.peek('s' + path, { allowStale: true });
    return v?.kind === 'entry' ? v.entry : undefined;
  }

  async write(path: string, body: Readable, options?: WriteOptions): Promise<WriteResult> {
    const p = normalizePath(path);
    const result = await this.inner.write(p, body, options);
    this.changed({ made: [p, result.entry] }, false);
    return result;
  }

  async mkdir(path: string): Promise<Entry> {
    const p = normalizePath(path);
    const entry = await this.inner.mkdir(p);
    this.changed({ made: [p, entry] }, true);
    return entry;
  }

  async remove(path: string): Promise<void> {
    const p = normalizePath(path);
    await this.inner.remove(p);
    this.changed({ gone: p }, true);
  }

  /**
   * After a write-like call completed on the inner Fs: what it removed (`gone`) and what it made
   * (`made`, with the entry the call answered). Their parents' fresh listings are patched, both
   * paths invalidated (with everything below them when `subtree`), then the patched listings put
   * back and the two paths' stats set: `gone` missing, `made` to its entry.
   */
  private changed(known: { gone?: string; made?: [string, Entry] }, subtree: boolean): void {
    if (!this.meta) return;
    const changes: ListingChange[] = [];
    if (known.gone !== undefined) changes.push({ parent: parentPath(known.gone), drop: known.gone });
    if (known.made) changes.push({ parent: parentPath(known.made[0]), put: known.made[1] });
    const touched = [known.gone, known.made?.[0]].filter((t): t is string => t !== undefined);
    const patches = this.patchedListings(changes, touched);
    for (const t of touched) this.invalidate(t, subtree);
    if (known.gone !== undefined) this.meta.set('s' + known.gone, { kind: 'missing' });
    if (known.made) this.meta.set('s' + known.made[0], { kind: 'entry', entry: known.made[1] });
    for (const p of patches) this.meta.set(p.key, { kind: 'list', entries: p.entries }, { ttl: p.ttl });
  }

  /**
   * The parents' listings with these changes made, for those cached and fresh: the next listing
   * of such a folder then costs only a stat of the folder itself (its ETag changed), not a
   * Depth-1 fetch of every member (under 200 writers a mount fetched a 250-entry listing for
   * nearly every PROPFIND). Each keeps its own remaining TTL, so changes made at the sender by
   * others show up when they would have. Changes to one folder apply in order (a rename drops and
   * puts in one listing). A folder with a touched path deeper below it is left out (dropped by
   * the invalidation as before): its member on the way there has a new ETag and size.
   */
  private patchedListings(changes: ListingChange[], touched: string[]): ListingPatch[] {
    const out = new Map<string, ListingPatch>();
    for (const c of changes) {
      if (touched.some((t) => t !== c.parent && isWithin(t, c.parent) && parentPath(t) !== c.parent)) continue;
      const key = 'l' + c.parent;
      let patch = out.get(key);
      if (!patch) {
        const cached = this.meta?.peek(key);
        const ttl = this.meta?.getRemainingTTL(key) ?? 0;
        if (cached?.kind !== 'list' || !(ttl > 0)) continue;
        patch = { key, entries: cached.entries, ttl };
      }
      const entries = patch.entries.filter((e) => e.path !== c.drop && e.path !== c.put?.path);
      if (c.put) entries.push(c.put);
      out.set(key, { ...patch, entries });
    }
    return [...out.values()];
  }

  /** Forgets `path`, its ancestors and (with subtree) everything below it. */
  invalidate(path: string, subtree: boolean): void {
    if (!this.meta) return;
    let cur = path;
    for (;;) {
      this.meta.delete('s' + cur);
      this.meta.delete('l' + cur);
      if (cur === '/') break;
      cur = parentPath(cur);
    }
    if (subtree) {
      for (const key of [...this.meta.keys()]) if (isWithin(key.slice(1), path)) this.meta.delete(key);
    }
  }

  /**
   * The cached value of `key`, fetched once for all concurrent callers. A fetch aborted by an
   * invalidation (lru-cache rejects its waiters with its own Error) is retried once through the
   * cache, then answered straight from the inner Fs: a writer never makes a reader fail.
   */
  private async getMeta(key: string, fresh: boolean): Promise<Meta> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const v = await this.meta!.fetch(key, { allowStale: !fresh });
        if (v) return v;
      } catch (err) {
        if (isMeshdavError(err)) throw err;
      }
    }
    return this.load(key, new AbortController().signal, false);
  }

  private async load(key: string, signal: AbortSignal, seed = true): Promise<Meta> {
    const path = key.slice(1);
    if (key[0] === 'l') {
      const entries = await this.inner.list(path);
      if (seed && !signal.aborted) for (const e of entries) this.meta!.set('s' + e.path, { kind: 'entry', entry: e });
      return { kind: 'list', entries };
    }
    try {
      return { kind: 'entry', entry: await this.inner.stat(path) };
    } catch (err) {
      if (err instanceof NotFoundError && !(err as { revoked?: boolean }).revoked) return { kind: 'missing' };
      throw err;
    }
  }

  private readChunks(entry: Entry, options: ReadOptions): Promise<Readable> {
    const { store, chunkBytes, cacheId, resume = DEFAULT_RESUME, refill } = this.options;
    return readRange({ inner: this.inner, store: store!, chunkBytes, cacheId, resume, refill }, entry, options);
  }
}

function entryOf(v: Meta): Entry {
  if (v.kind === 'entry') return v.entry;
  throw new NotFoundError();
}
