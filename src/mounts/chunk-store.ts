/**
 * The node-wide store of cached content chunks, shared by every CachedFs.
 *
 * Contracts:
 *   - keys are opaque strings built by CachedFs from (cache id, path, ETag, chunk index), so a
 *     chunk can only ever be found again under the same ETag;
 *   - a chunk is a list of buffers (its size is the sum of their lengths); a producer that
 *     passes `recycle` to `fill` gets told when the store is done with a chunk no reader was
 *     given, so it can reuse the buffer (no fresh 4 MiB allocation per chunk while streaming);
 *   - with a disk tier (`diskBytes` > 0, files in `dir`) a fetched chunk is written through to disk
 *     and not kept in memory; the disk tier holds at most `diskBytes` (least recently used chunks
 *     are dropped). Without one, memory (lru-cache, maxSize counting every byte held, at most
 *     `memoryBytes`) keeps chunks (and would spill what it evicts);
 *   - the disk tier outlives a clean restart: `close` writes its index (key, slot or file, size, in
 *     recency order) to `dir/index.json`, and the next start takes back every entry whose file is
 *     there and deletes the index file at once. Only chunks whose write had completed are in it,
 *     so after a crash (no index file) or with another `chunkBytes`, the tier starts empty and no
 *     byte of the old files is ever served;
 *   - full-size chunks (`chunkBytes`) live in slot files `slot-<n>` (n < diskBytes/chunkBytes)
 *     that are overwritten in place, never truncated or deleted: an evicted chunk's slot takes the
 *     next chunk, and slots found at start-up that no saved index entry names are reused.
 *     Refilling the cache then writes into pages the file already has instead of allocating fresh
 *     ones (on this kind of VM a fresh page costs ~10x a copy).
 *     Other chunks (a file's last, partial one) get a file each, deleted on eviction;
 *   - a disk chunk handed to a reader (`lookup`/`acquireDisk`) is pinned until it calls
 *     `release`: an evicted slot is reused, and a file deleted, only once no reader holds it;
 *   - `claim(key)` makes the caller the one producer of an absent chunk: until it `fill`s or
 *     `abandon`s the claim, `lookup` answers `pending` with a promise of it, so concurrent
 *     readers share one fetch. An abandoned claim rejects its waiters (they fetch themselves);
 *   - nothing here makes a reader wait for a disk write: chunks waiting to be written are
 *     bounded by SPILL_QUEUE_BYTES. A fetched chunk of a run other readers follow (`ClaimRun`)
 *     that finds that queue full waits in the memory tier instead (bounded by `memoryBytes`;
 *     readers just behind still find it there) and joins the queue, oldest first, as writes
 *     finish. Other chunks that find it full, and a waiting one pushed out of memory while it is
 *     still full, are dropped (`fill` says so; chunk-refill.ts fetches them again once the store
 *     is `quiet`). So a slow disk never grows memory past its bounds or slows a reader.
 */
import { createHash } from 'node:crypto';
import { close, mkdirSync, open, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writev } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { SlotFiles, type SlotHandle } from './slot-files.js';

const SPILL_QUEUE_BYTES = 16 * 1024 * 1024;
/** The disk tier's index, written by a clean `close` and read (then deleted) at start-up. */
const INDEX_FILE = 'index.json';

/** What `index.json` holds: the disk tier's entries, least recently used first. */
interface SavedIndex {
  version: 1;
  chunkBytes: number;
  entries: Array<{ key: string; size: number; slot?: number; file?: string }>;
}
/** Buffers per writev call (below IOV_MAX). */
const WRITEV_BATCH = 512;

/** A chunk's bytes, in order. */
export type Chunk = readonly Buffer[];

export interface ChunkStoreOptions {
  memoryBytes: number;
  diskBytes: number;
  /** Folder of the disk tier (dataDir/cache); required when diskBytes > 0. */
  dir?: string;
  /** Size of a full chunk: such chunks use reusable slot files. Default: no slots. */
  chunkBytes?: number;
  /** Bytes of chunks that may wait to be written to disk (default 16 MiB; smaller in tests). */
  spillQueueBytes?: number;
}

/** A chunk on disk: in a slot file, or in a file of its own. */
interface DiskEntry {
  file: string;
  size: number;
  slot?: number;
  /** Readers holding it (see `acquireDisk`). */
  readers: number;
  /** Evicted while held: reclaimed by the last release. */
  evicted: boolean;
}

/** A pinned disk chunk: its file keeps these bytes until `release` (call it once). */
export interface DiskChunk {
  file: string;
  size: number;
  /** Its slot, when it is in one (see `openChunk`). */
  slot?: number;
  release(): void;
}

export interface ChunkStoreStats {
  /** Chunks produced by a claim (fetched from the sender). */
  loads: number;
  memoryHits: number;
  diskHits: number;
  /** Chunks not written to the disk tier because its write queue was full (fetched again when next read). */
  spillsDropped: number;
  memoryBytes: number;
  diskBytes: number;
}

export type Lookup =
  | { tier: 'memory'; chunk: Chunk }
  | ({ tier: 'disk' } & DiskChunk)
  | { tier: 'pending'; chunk: Promise<Chunk> }
  | undefined;

export interface Claim {
  /**
   * Stores the complete chunk and hands it to the waiters. `recycle` is called once the store is
   * done with the chunk's buffers if no reader was ever given them (the caller may reuse them).
   * False when the chunk was not kept (the disk write queue was full; see chunk-refill.ts).
   * `lost` is called if a chunk kept in memory to wait for the write queue is dropped from there
   * before it was written (it was pushed out while the queue stayed full): not kept after all.
   */
  fill(chunk: Chunk, recycle?: () => void, lost?: () => void): boolean;
  /** Gives the claim up (the waiters' promise rejects with `err`). */
  abandon(err: Error): void;
}

/**
 * The claims of one fetch (a run of chunks read with one GET). `followed` turns true once another
 * reader waits for any of them: readers behind that one will want the run's later chunks too.
 */
export interface ClaimRun {
  followed: boolean;
  /** Told each time a reader finds one of the run's claims pending (and so waits for it). */
  onFollowed?: () => void;
}

export function chunkLength(chunk: Chunk): number {
  let n = 0;
  for (const b of chunk) n += b.length;
  return n;
}

export class ChunkStore {
  private readonly memory?: LRUCache<string, Chunk>;
  private readonly disk?: LRUCache<string, DiskEntry>;
  /** Kept descriptors of the slot files (with a disk tier that has slots). */
  private readonly slotFiles?: SlotFiles;
  /** Slot numbers whose file exists and holds no indexed chunk; `slots` is how many may exist. */
  private readonly freeSlots: number[] = [];
  private readonly slotExists = new Set<number>();
  private readonly slots: number;
  private nextSlot = 0;
  private readonly inflight = new Map<string, Promise<Chunk>>();
  /** The run each claim in flight belongs to, when its claimer named one. */
  private readonly inflightRun = new Map<string, ClaimRun>();
  private readonly spilling = new Map<string, Chunk>();
  private spillingBytes = 0;
  /** Keys of claims some reader waits for; chunks some reader was given (never recycled). */
  private readonly waited = new Set<string>();
  private readonly shared = new WeakSet<Chunk>();
  /** How to give back the memory of chunks parked in the memory tier (see `park`). */
  private readonly recyclers = new WeakMap<Chunk, () => void>();
  /** Whom to tell when a parked chunk is dropped before it was written (Claim.fill's `lost`). */
  private readonly losers = new WeakMap<Chunk, () => void>();
  private closed = false;
  /** Called once no claim is in flight and no chunk waits to be written (see `quiet`). */
  private quietWaiters: (() => void)[] = [];
  private readonly spillQueueBytes: number;
  private restoredCount = 0;
  readonly stats: ChunkStoreStats = { loads: 0, memoryHits: 0, diskHits: 0, spillsDropped: 0, memoryBytes: 0, diskBytes: 0 };

  constructor(private readonly options: ChunkStoreOptions) {
    const cb = options.chunkBytes ?? 0;
    this.spillQueueBytes = options.spillQueueBytes ?? SPILL_QUEUE_BYTES;
    this.slots = options.diskBytes > 0 && cb > 0 ? Math.floor(options.diskBytes / cb) : 0;
    if (options.diskBytes > 0) {
      if (!options.dir) throw new Error('ChunkStore: a disk tier needs a folder');
      const adopted = this.adoptDir(options.dir);
      const dir = options.dir;
      if (this.slots > 0) this.slotFiles = new SlotFiles((n) => join(dir, `slot-${n}`));
      this.disk = new LRUCache<string, DiskEntry>({
        maxSize: options.diskBytes,
        sizeCalculation: (v) => Math.max(1, v.size),
        dispose: (v) => {
          if (this.closed) return; // its file stays for the next start (see saveIndex)
          if (v.readers === 0) this.reclaim(v);
          else v.evicted = true;
        },
      });
      for (const [key, entry] of adopted) this.disk.set(key, entry);
      this.restoredCount = this.disk.size;
      this.updateSizes();
    }
    if (options.memoryBytes > 0) {
      this.memory = new LRUCache<string, Chunk>({
        maxSize: options.memoryBytes,
        sizeCalculation: (c) => Math.max(1, chunkLength(c)),
        dispose: (chunk, key, reason) => {
          const recycle = this.recyclers.get(chunk);
          const lost = this.losers.get(chunk);
          this.recyclers.delete(chunk);
          this.losers.delete(chunk);
          const spilled = reason === 'evict' && this.spill(key, chunk, recycle);
          if (reason === 'evict' && !spilled) lost?.();
          if (!spilled && !this.shared.has(chunk)) recycle?.();
        },
      });
    }
  }

  /** Where the chunk under `key` is now: memory (incl. waiting to spill), disk, a claim in flight, or nowhere. */
  lookup(key: string): Lookup {
    const hit = this.memory?.get(key) ?? this.spilling.get(key);
    if (hit) {
      this.stats.memoryHits++;
      this.shared.add(hit);
      return { tier: 'memory', chunk: hit };
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.waited.add(key);
      const run = this.inflightRun.get(key);
      if (run) {
        run.followed = true;
        run.onFollowed?.();
      }
      return { tier: 'pending', chunk: pending };
    }
    const onDisk = this.disk?.get(key);
    if (onDisk) {
      this.stats.diskHits++;
      return { tier: 'disk', ...this.pin(onDisk) };
    }
    return undefined;
  }

  /** The disk chunk of `key`, pinned, if any (no hit counted, recency unchanged: a read-ahead). */
  acquireDisk(key: string): DiskChunk | undefined {
    const v = this.disk?.peek(key);
    return v ? this.pin(v) : undefined;
  }

  private pin(v: DiskEntry): DiskChunk {
    v.readers++;
    let held = true;
    return {
      file: v.file,
      size: v.size,
      slot: v.slot,
      release: () => {
        if (!held) return;
        held = false;
        if (--v.readers === 0 && v.evicted) this.reclaim(v);
      },
    };
  }

  /** A dropped disk chunk's storage: its slot is free again, its own file deleted. */
  private reclaim(v: DiskEntry): void {
    if (v.slot !== undefined) this.freeSlots.push(v.slot);
    else void unlink(v.file).catch(() => undefined);
  }

  /**
   * Start-up: takes back the chunks of the index a clean close saved (deleting it first; they are
   * returned, least recently used first, to be indexed), keeps the other slot files this store
   * may use (as free slots), deletes anything else.
   */
  private adoptDir(dir: string): Array<[string, DiskEntry]> {
    mkdirSync(dir, { recursive: true });
    const saved = readSavedIndex(join(dir, INDEX_FILE), this.options.chunkBytes ?? 0);
    rmSync(join(dir, INDEX_FILE), { force: true });
    const names = new Set(readdirSync(dir));
    const taken = new Set<number>();
    const keep = new Set<string>();
    const adopted: Array<[string, DiskEntry]> = [];
    for (const e of saved) {
      if (e.slot !== undefined) {
        if (e.slot >= this.slots || taken.has(e.slot) || !names.has(`slot-${e.slot}`) || e.size !== this.options.chunkBytes) continue;
        taken.add(e.slot);
        adopted.push([e.key, { file: join(dir, `slot-${e.slot}`), size: e.size, slot: e.slot, readers: 0, evicted: false }]);
      } else if (e.file && /^[0-9a-f]{40}$/.test(e.file) && names.has(e.file) && fileSize(join(dir, e.file)) === e.size) {
        keep.add(e.file);
        adopted.push([e.key, { file: join(dir, e.file), size: e.size, readers: 0, evicted: false }]);
      }
    }
    for (const name of names) {
      const m = /^slot-(\d+)$/.exec(name);
      const n = m ? Number(m[1]) : -1;
      if (n >= 0 && n < this.slots) {
        this.slotExists.add(n);
        if (!taken.has(n)) this.freeSlots.push(n);
      } else if (!keep.has(name)) rmSync(join(dir, name), { recursive: true, force: true });
    }
    return adopted;
  }

  /** Chunks the disk tier took back at start-up from the index a clean close saved. */
  get restored(): number {
    return this.restoredCount;
  }

  /** Writes the disk tier's index for the next start (see the contract); best effort. */
  private saveIndex(): void {
    if (!this.disk || !this.options.dir) return;
    const entries: SavedIndex['entries'] = [];
    for (const key of this.disk.rkeys()) {
      const v = this.disk.peek(key);
      if (!v || v.evicted) continue;
      entries.push(v.slot !== undefined ? { key, size: v.size, slot: v.slot } : { key, size: v.size, file: basename(v.file) });
    }
    const index: SavedIndex = { version: 1, chunkBytes: this.options.chunkBytes ?? 0, entries };
    const file = join(this.options.dir, INDEX_FILE);
    try {
      writeFileSync(file + '.tmp', JSON.stringify(index), { mode: 0o600 });
      renameSync(file + '.tmp', file);
    } catch {
      // The next start then begins with an empty disk tier.
    }
  }

  /** A slot for a full-size chunk: a free one, a new one, or the least recently used chunk's. */
  private takeSlot(): number | undefined {
    for (;;) {
      const free = this.freeSlots.pop();
      if (free !== undefined) return free;
      for (; this.nextSlot < this.slots; this.nextSlot++) {
        if (this.slotExists.has(this.nextSlot)) continue;
        this.slotExists.add(this.nextSlot);
        return this.nextSlot++;
      }
      // Every slot holds a chunk (or is being written): drop the least recently used chunk (a
      // pinned one frees its slot only when released).
      if (!this.disk || this.disk.size === 0) return undefined;
      this.disk.pop();
    }
  }

  /** Forgets a disk entry whose file could not be read. */
  dropDisk(key: string): void {
    this.disk?.delete(key);
  }

  /** Makes the caller the producer of `key` (one chunk of `run`); undefined when it is stored or already claimed. */
  claim(key: string, run?: ClaimRun): Claim | undefined {
    if (this.inflight.has(key) || this.memory?.has(key) || this.spilling.has(key) || this.disk?.has(key)) return undefined;
    let resolve: (c: Chunk) => void = () => undefined;
    let reject: (e: Error) => void = () => undefined;
    const promise = new Promise<Chunk>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    this.inflight.set(key, promise);
    if (run) this.inflightRun.set(key, run);
    let done = false;
    return {
      fill: (chunk, recycle, lost) => {
        if (done) return false;
        done = true;
        let kept = true;
        this.stats.loads++;
        const waitedFor = this.waited.delete(key);
        const followed = waitedFor || this.inflightRun.get(key)?.followed === true;
        if (waitedFor || !this.disk) this.shared.add(chunk);
        // Write-through: with a disk tier a fetched chunk goes straight to disk (it lives only
        // until written, so streaming a large file holds little). When the write queue is full, a
        // chunk of a run other readers follow (they waited for it or for an earlier one) waits in
        // the memory tier instead; 32 readers of one file on a disk slower than the network
        // otherwise fetched some chunks twice. A lone stream's chunk is not cached then: parking
        // those would hold their slabs and grow a 2 GiB read's RSS by ~40 MiB.
        if (this.closed) {
          kept = false;
        } else if (this.disk) {
          if (followed && this.spillQueueFull(chunk) && this.park(key, chunk, recycle, lost)) {
            // kept in memory
          } else if (!this.spill(key, chunk, recycle)) {
            kept = false;
            if (!this.shared.has(chunk)) recycle?.();
          }
        } else this.memory?.set(key, chunk);
        this.inflight.delete(key);
        this.inflightRun.delete(key);
        this.updateSizes();
        resolve(chunk);
        resolve = reject = () => undefined; // hold no reference to the settled promise
        this.checkQuiet();
        return kept;
      },
      abandon: (err) => {
        if (done) return;
        done = true;
        this.inflight.delete(key);
        this.inflightRun.delete(key);
        this.waited.delete(key);
        reject(err);
        resolve = reject = () => undefined;
        this.checkQuiet();
      },
    };
  }

  private spillQueueFull(chunk: Chunk): boolean {
    return this.spillingBytes + chunkLength(chunk) > this.spillQueueBytes;
  }

  /** Keeps a fetched chunk in the memory tier until the write queue takes it (`unpark`); false when it cannot fit there. */
  private park(key: string, chunk: Chunk, recycle?: () => void, lost?: () => void): boolean {
    if (!this.memory || chunkLength(chunk) > this.options.memoryBytes) return false;
    if (recycle) this.recyclers.set(chunk, recycle);
    if (lost) this.losers.set(chunk, lost);
    this.memory.set(key, chunk);
    return true;
  }

  /** Queues `chunk` for the disk tier; false when there is none or its queue is full. */
  private spill(key: string, chunk: Chunk, recycle?: () => void): boolean {
    if (!this.disk || this.closed) return false;
    if (this.disk.has(key) || this.spilling.has(key)) return true;
    const size = chunkLength(chunk);
    if (size > this.options.diskBytes) return false;
    if (this.spillingBytes + size > this.spillQueueBytes) {
      this.stats.spillsDropped++;
      return false;
    }
    const slot = size === this.options.chunkBytes && this.slots > 0 ? this.takeSlot() : undefined;
    if (size === this.options.chunkBytes && this.slots > 0 && slot === undefined) return false;
    const dir = this.options.dir!;
    const file = slot !== undefined ? join(dir, `slot-${slot}`) : join(dir, createHash('sha1').update(key).digest('hex'));
    this.spilling.set(key, chunk);
    this.spillingBytes += size;
    void writeChunk(file, chunk, slot !== undefined ? this.slotFiles?.acquire(slot) : undefined)
      .then(() => {
        if (this.closed) throw new Error('closed');
        this.disk!.set(key, { file, size, slot, readers: 0, evicted: false });
      })
      .catch(() => this.reclaim({ file, size, slot, readers: 0, evicted: true }))
      .finally(() => {
        this.spilling.delete(key);
        this.spillingBytes -= size;
        if (!this.shared.has(chunk)) recycle?.();
        this.unpark();
        this.updateSizes();
        this.checkQuiet();
      });
    return true;
  }

  /**
   * Resolves once no chunk is being fetched by a claim and none waits to be written (at once when
   * that is so now, or when the store is closed): the moment background work takes no room from
   * readers.
   */
  quiet(): Promise<void> {
    if (this.isQuiet()) return Promise.resolve();
    return new Promise((resolve) => this.quietWaiters.push(resolve));
  }

  private isQuiet(): boolean {
    return this.closed || (this.inflight.size === 0 && this.spillingBytes === 0);
  }

  private checkQuiet(): void {
    if (this.quietWaiters.length === 0 || !this.isQuiet()) return;
    const waiters = this.quietWaiters;
    this.quietWaiters = [];
    for (const w of waiters) w();
  }

  /** The write queue has room again: chunks parked in memory take it, the oldest first. */
  private unpark(): void {
    if (!this.memory || !this.disk || this.closed) return;
    for (const key of [...this.memory.rkeys()]) {
      const chunk = this.memory.peek(key);
      if (!chunk || this.spillQueueFull(chunk)) return;
      const recycle = this.recyclers.get(chunk);
      const lost = this.losers.get(chunk);
      this.recyclers.delete(chunk);
      this.losers.delete(chunk);
      this.memory.delete(key); // (its dispose then neither spills nor recycles it)
      if (this.spill(key, chunk, recycle)) continue;
      lost?.();
      if (!this.shared.has(chunk)) recycle?.();
    }
  }

  private updateSizes(): void {
    this.stats.memoryBytes = this.memory?.calculatedSize ?? 0;
    this.stats.diskBytes = this.disk?.calculatedSize ?? 0;
  }

  /**
   * A descriptor of a pinned disk chunk's file, for reading it; give it back with `release` (a
   * slot's stays open for later use). Undefined when the file cannot be opened.
   */
  async openChunk(chunk: DiskChunk): Promise<SlotHandle | undefined> {
    try {
      if (chunk.slot !== undefined && this.slotFiles) return await this.slotFiles.acquire(chunk.slot);
      const fd = await openAsync(chunk.file, 'r');
      return { fd, release: () => close(fd, () => undefined) };
    } catch {
      return undefined;
    }
  }

  /** Drops everything; the disk tier's index is saved for the next start (its files stay). */
  close(): void {
    if (this.closed) return;
    this.saveIndex();
    this.closed = true;
    this.memory?.clear();
    this.disk?.clear();
    this.slotFiles?.close();
    this.checkQuiet();
  }
}

/** The entries of a saved index that match this store's chunk size (none if absent or unreadable). */
function readSavedIndex(file: string, chunkBytes: number): SavedIndex['entries'] {
  try {
    const index = JSON.parse(readFileSync(file, 'utf8')) as SavedIndex;
    if (index.version !== 1 || index.chunkBytes !== chunkBytes || !Array.isArray(index.entries)) return [];
    return index.entries.filter((e) => typeof e?.key === 'string' && Number.isInteger(e.size) && e.size > 0 && (e.slot === undefined || Number.isInteger(e.slot)));
  } catch {
    return [];
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return -1;
  }
}

const openAsync = promisify(open);
const closeAsync = promisify(close);
const writevAsync = promisify(writev);

/**
 * Writes a chunk's buffers from offset 0 with writev in few thread-pool calls, handling partial
 * writes: into its slot (`slot`, a kept descriptor: overwritten in place, never truncated, so its
 * pages are reused) or into a file of its own.
 */
async function writeChunk(file: string, chunk: Chunk, slot: Promise<SlotHandle> | undefined): Promise<void> {
  const handle = slot ? await slot : undefined;
  const fd = handle ? handle.fd : await openAsync(file, 'w');
  try {
    let queue = chunk.filter((b) => b.length > 0);
    let position = 0;
    while (queue.length > 0) {
      const batch = queue.slice(0, WRITEV_BATCH);
      let { bytesWritten } = await writevAsync(fd, batch, position);
      if (bytesWritten === 0) throw new Error('disk write made no progress');
      position += bytesWritten;
      let i = 0;
      while (i < batch.length && bytesWritten >= batch[i]!.length) bytesWritten -= batch[i++]!.length;
      const rest = queue.slice(i);
      if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
      queue = rest;
    }
  } finally {
    if (handle) handle.release();
    else await closeAsync(fd);
  }
}
