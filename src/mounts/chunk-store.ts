/**
 * The node-wide store of cached content chunks, shared by every CachedFs.
 *
 * Contracts:
 *   - keys are opaque strings built by CachedFs from (cache id, path, ETag, chunk index), so a
 *     chunk can only ever be found again under the same ETag;
 *   - memory holds at most `memoryBytes` of chunks (lru-cache maxSize); chunks evicted from
 *     memory spill to `dir` when `diskBytes` > 0, and the disk tier holds at most `diskBytes`
 *     (least recently used files are deleted); the disk tier is emptied at start-up;
 *   - `get(key, load)` runs `load` at most once at a time per key: concurrent callers of an
 *     uncached chunk share one load (one request to the sender);
 *   - buffers waiting to be written to disk are bounded: a load waits while more than
 *     SPILL_QUEUE_BYTES are queued (reads go at the disk's pace rather than dropping spills), and
 *     beyond twice that a spill is dropped, so a slow disk never grows memory.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';

const SPILL_QUEUE_BYTES = 32 * 1024 * 1024;

export interface ChunkStoreOptions {
  memoryBytes: number;
  diskBytes: number;
  /** Folder of the disk tier (dataDir/cache); required when diskBytes > 0. */
  dir?: string;
}

export interface ChunkStoreStats {
  loads: number;
  memoryHits: number;
  diskHits: number;
  memoryBytes: number;
  diskBytes: number;
}

export class ChunkStore {
  private readonly memory?: LRUCache<string, Buffer>;
  private readonly disk?: LRUCache<string, { file: string; size: number }>;
  private readonly inflight = new Map<string, Promise<Buffer>>();
  private readonly spilling = new Map<string, Buffer>();
  private spillingBytes = 0;
  /** Settles when the latest spill has been written. */
  private spillSettled?: Promise<void>;
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
      this.memory = new LRUCache<string, Buffer>({
        maxSize: options.memoryBytes,
        sizeCalculation: (b) => Math.max(1, b.length),
        dispose: (buf, key, reason) => {
          if (reason === 'evict') this.spill(key, buf);
        },
      });
    }
  }

  /** The chunk under `key`, from memory, disk, a load in flight, or `load()` (whose result is kept). */
  async get(key: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.memory?.get(key) ?? this.spilling.get(key);
    if (hit) {
      this.stats.memoryHits++;
      return hit;
    }
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.fill(key, load).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async fill(key: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const onDisk = this.disk?.get(key);
    if (onDisk) {
      try {
        const buf = await readWhole(onDisk.file, onDisk.size);
        this.stats.diskHits++;
        this.memory?.set(key, buf);
        return buf;
      } catch {
        this.disk?.delete(key);
      }
    }
    this.stats.loads++;
    const buf = await load();
    if (!this.closed) this.memory?.set(key, buf);
    this.updateSizes();
    // Backpressure: a loader waits while the disk tier is behind, so spills are not dropped.
    while (this.spillingBytes > SPILL_QUEUE_BYTES && this.spillSettled) await this.spillSettled;
    return buf;
  }

  private spill(key: string, buf: Buffer): void {
    if (!this.disk || this.closed || this.disk.has(key) || this.spilling.has(key)) return;
    // Beyond twice the queue bound (loaders normally wait at the bound) a spill is dropped.
    if (buf.length > this.options.diskBytes || this.spillingBytes + buf.length > 2 * SPILL_QUEUE_BYTES) return;
    const file = join(this.options.dir!, createHash('sha1').update(key).digest('hex'));
    this.spilling.set(key, buf);
    this.spillingBytes += buf.length;
    const tmp = `${file}.tmp`;
    const done = writeWhole(tmp, buf)
      .then(() => rename(tmp, file))
      .then(() => {
        if (!this.closed) this.disk!.set(key, { file, size: buf.length });
        else void unlink(file).catch(() => undefined);
      })
      .catch(() => unlink(tmp).catch(() => undefined))
      .finally(() => {
        this.spilling.delete(key);
        this.spillingBytes -= buf.length;
        this.updateSizes();
      });
    this.spillSettled = done.then(() => undefined);
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

/** A spilled chunk in one read call (readFile would take 512 KiB steps, each a thread-pool hop). */
async function readWhole(file: string, size: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(buf, filled, size - filled, filled);
      if (bytesRead === 0) throw new Error('spilled chunk is short');
      filled += bytesRead;
    }
    return buf;
  } finally {
    await handle.close();
  }
}

/** Writes a chunk in as few calls as the OS allows (writeFile would take 512 KiB steps). */
async function writeWhole(file: string, buf: Buffer): Promise<void> {
  const handle = await open(file, 'w');
  try {
    let written = 0;
    while (written < buf.length) {
      const { bytesWritten } = await handle.write(buf, written, buf.length - written, written);
      written += bytesWritten;
    }
  } finally {
    await handle.close();
  }
}
