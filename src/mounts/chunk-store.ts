/**
 * The node-wide store of cached content chunks, shared by every CachedFs.
 *
 * Contracts:
 *   - keys are opaque strings built by CachedFs from (cache id, path, ETag, chunk index), so a
 *     chunk can only ever be found again under the same ETag;
 *   - a chunk is a list of buffers (its size is the sum of their lengths); a producer that
 *     passes `recycle` to `fill` gets told when the store is done with a chunk no reader was
 *     given, so it can reuse the buffer (no fresh 4 MiB allocation per chunk while streaming);
 *   - with a disk tier (`diskBytes` > 0, files in `dir`, emptied at start-up) a fetched chunk is
 *     written through to disk and not kept in memory; the disk tier holds at most `diskBytes`
 *     (least recently used files are deleted). Without one, memory (lru-cache, maxSize counting
 *     every byte held, at most `memoryBytes`) keeps chunks (and would spill what it evicts);
 *   - `claim(key)` makes the caller the one producer of an absent chunk: until it `fill`s or
 *     `abandon`s the claim, `lookup` answers `pending` with a promise of it, so concurrent
 *     readers share one fetch. An abandoned claim rejects its waiters (they fetch themselves);
 *   - nothing here makes a reader wait for a disk write: chunks waiting to be written are
 *     bounded by SPILL_QUEUE_BYTES and a spill beyond that is dropped (the chunk is fetched again
 *     when next read), so a slow disk never grows memory or slows a reader.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';

const SPILL_QUEUE_BYTES = 16 * 1024 * 1024;
/** Buffers per writev call (below IOV_MAX). */
const WRITEV_BATCH = 512;

/** A chunk's bytes, in order. */
export type Chunk = readonly Buffer[];

export interface ChunkStoreOptions {
  memoryBytes: number;
  diskBytes: number;
  /** Folder of the disk tier (dataDir/cache); required when diskBytes > 0. */
  dir?: string;
}

export interface ChunkStoreStats {
  /** Chunks produced by a claim (fetched from the sender). */
  loads: number;
  memoryHits: number;
  diskHits: number;
  memoryBytes: number;
  diskBytes: number;
}

export type Lookup =
  | { tier: 'memory'; chunk: Chunk }
  | { tier: 'disk'; file: string; size: number }
  | { tier: 'pending'; chunk: Promise<Chunk> }
  | undefined;

export interface Claim {
  /**
   * Stores the complete chunk and hands it to the waiters. `recycle` is called once the store is
   * done with the chunk's buffers if no reader was ever given them (the caller may reuse them).
   */
  fill(chunk: Chunk, recycle?: () => void): void;
  /** Gives the claim up (the waiters' promise rejects with `err`). */
  abandon(err: Error): void;
}

export function chunkLength(chunk: Chunk): number {
  let n = 0;
  for (const b of chunk) n += b.length;
  return n;
}

export class ChunkStore {
  private readonly memory?: LRUCache<string, Chunk>;
  private readonly disk?: LRUCache<string, { file: string; size: number }>;
  private readonly inflight = new Map<string, Promise<Chunk>>();
  private readonly spilling = new Map<string, Chunk>();
  private spillingBytes = 0;
  /** Keys of claims some reader waits for; chunks some reader was given (never recycled). */
  private readonly waited = new Set<string>();
  private readonly shared = new WeakSet<Chunk>();
  private closed = false;
  readonly stats: ChunkStoreStats = { loads: 0, memoryHits: 0, diskHits: 0, memoryBytes: 0, diskBytes: 0 };

  constructor(private readonly options: ChunkStoreOptions) {
    if (options.diskBytes > 0) {
      if (!options.dir) throw new Error('ChunkStore: a disk tier needs a folder');
      rmSync(options.dir, { recursive: true, force: true });
      mkdirSync(options.dir, { recursive: true });
      this.disk = new LRUCache<string, { file: string; size: number }>({
        maxSize: options.diskBytes,
        sizeCalculation: (v) => Math.max(1, v.size),
        dispose: (v) => {
          void unlink(v.file).catch(() => undefined);
        },
      });
    }
    if (options.memoryBytes > 0) {
      this.memory = new LRUCache<string, Chunk>({
        maxSize: options.memoryBytes,
        sizeCalculation: (c) => Math.max(1, chunkLength(c)),
        dispose: (chunk, key, reason) => {
          if (reason === 'evict') void this.spill(key, chunk);
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
      return { tier: 'pending', chunk: pending };
    }
    const onDisk = this.disk?.get(key);
    if (onDisk) {
      this.stats.diskHits++;
      return { tier: 'disk', ...onDisk };
    }
    return undefined;
  }

  /** The disk entry of `key`, if any, without counting a hit or refreshing its recency. */
  peekDisk(key: string): { file: string; size: number } | undefined {
    return this.disk?.peek(key);
  }

  /** Forgets a disk entry whose file could not be read. */
  dropDisk(key: string): void {
    this.disk?.delete(key);
  }

  /** Makes the caller the producer of `key`; undefined when it is stored or already claimed. */
  claim(key: string): Claim | undefined {
    if (this.inflight.has(key) || this.memory?.has(key) || this.spilling.has(key) || this.disk?.has(key)) return undefined;
    let resolve: (c: Chunk) => void = () => undefined;
    let reject: (e: Error) => void = () => undefined;
    const promise = new Promise<Chunk>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    this.inflight.set(key, promise);
    let done = false;
    return {
      fill: (chunk, recycle) => {
        if (done) return;
        done = true;
        this.stats.loads++;
        if (this.waited.delete(key) || !this.disk) this.shared.add(chunk);
        // Write-through: with a disk tier a fetched chunk goes straight to disk (it lives only
        // until written, so streaming a large file holds little) or, when the write queue is
        // full, is not cached at all (never parked in memory: that would grow a stream's RSS).
        if (this.closed) {
          // not kept
        } else if (this.disk) {
          if (!this.spill(key, chunk, recycle) && !this.shared.has(chunk)) recycle?.();
        } else this.memory?.set(key, chunk);
        this.inflight.delete(key);
        this.updateSizes();
        resolve(chunk);
        resolve = reject = () => undefined; // hold no reference to the settled promise
      },
      abandon: (err) => {
        if (done) return;
        done = true;
        this.inflight.delete(key);
        this.waited.delete(key);
        reject(err);
        resolve = reject = () => undefined;
      },
    };
  }

  /** Queues `chunk` for the disk tier; false when there is none or its queue is full. */
  private spill(key: string, chunk: Chunk, recycle?: () => void): boolean {
    if (!this.disk || this.closed) return false;
    if (this.disk.has(key) || this.spilling.has(key)) return true;
    const size = chunkLength(chunk);
    if (size > this.options.diskBytes || this.spillingBytes + size > SPILL_QUEUE_BYTES) return false;
    const file = join(this.options.dir!, createHash('sha1').update(key).digest('hex'));
    this.spilling.set(key, chunk);
    this.spillingBytes += size;
    const tmp = `${file}.tmp`;
    void writeChunk(tmp, chunk)
      .then(() => rename(tmp, file))
      .then(() => {
        if (!this.closed) this.disk!.set(key, { file, size });
        else void unlink(file).catch(() => undefined);
      })
      .catch(() => unlink(tmp).catch(() => undefined))
      .finally(() => {
        this.spilling.delete(key);
        this.spillingBytes -= size;
        this.updateSizes();
        if (!this.shared.has(chunk)) recycle?.();
      });
    return true;
  }

  private updateSizes(): void {
    this.stats.memoryBytes = this.memory?.calculatedSize ?? 0;
    this.stats.diskBytes = this.disk?.calculatedSize ?? 0;
  }

  /** Drops everything (memory and disk). */
  close(): void {
    this.closed = true;
    this.memory?.clear();
    this.disk?.clear();
    if (this.options.dir && this.disk) rmSync(this.options.dir, { recursive: true, force: true });
  }
}

/** Writes a chunk's buffers with writev in few thread-pool calls, handling partial writes. */
async function writeChunk(file: string, chunk: Chunk): Promise<void> {
  const handle: FileHandle = await open(file, 'w');
  try {
    let queue = chunk.filter((b) => b.length > 0);
    let position = 0;
    while (queue.length > 0) {
      const batch = queue.slice(0, WRITEV_BATCH);
      let { bytesWritten } = await handle.writev(batch, position);
      if (bytesWritten === 0) throw new Error('disk write made no progress');
      position += bytesWritten;
      let i = 0;
      while (i < batch.length && bytesWritten >= batch[i]!.length) bytesWritten -= batch[i++]!.length;
      const rest = queue.slice(i);
      if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
      queue = rest;
    }
  } finally {
    await handle.close();
  }
}
