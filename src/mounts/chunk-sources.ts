/**
 * The stream sources of a ranged read (chunk-reader.ts): one ranged GET teed into chunk claims,
 * and one disk chunk.
 *
 * Contracts: a span's bytes are checked against the listed size (longer or shorter fails the read,
 * never a short success); each completed aligned chunk is handed to its claim at once, copied
 * into a reusable chunk-sized slab so the received buffers die young (no GC backlog of external
 * memory); claims not filled when the span finishes are abandoned (their waiters fetch
 * themselves). A disk chunk is read in DISK_READ_BYTES reads and stays pinned until finished.
 */
import type { Readable } from 'node:stream';
import { PreconditionFailedError } from '../errors.js';
import { FileChunks, ReadBuffers } from '../storage/file-chunks.js';
import type { Entry, Fs, ReadOptions } from '../fs/types.js';
import type { ChunkStore, Claim, DiskChunk } from './chunk-store.js';
import type { StreamSource } from './range-stream.js';

/** Read size for chunks on the disk tier. */
const DISK_READ_BYTES = 1 * 1024 * 1024;

/**
 * Read buffers of every disk-tier read, shared by all reads: the DAV layer hands each back once
 * the client's socket has flushed it (RangeStream.release), so a warm read allocates none. Spares
 * cover the few a steady read keeps busy (socket, stream buffers, the next chunk's read-ahead).
 */
const diskBuffers = new ReadBuffers(DISK_READ_BYTES, 8);

/** Takes back a chunk a disk source pushed; any other buffer is ignored. */
export function releaseDiskBuffer(chunk: Buffer): void {
  diskBuffers.release(chunk);
}

type ConditionalReadOptions = ReadOptions & { ifMatch?: string };

/**
 * Opens ONE ranged GET of chunks [first, first+n); its pieces pass `take`, which tees them into
 * `claims` (one per chunk, possibly none; each filled as soon as it completes) and returns the part
 * inside [start, end]. Claims not filled when the source finishes are abandoned.
 */
export async function openSpan(
  src: { inner: Fs; chunkBytes: number },
  entry: Entry,
  first: number,
  n: number,
  claims: (Claim | undefined)[],
  start: number,
  end: number,
  signal: AbortSignal,
): Promise<StreamSource> {
  const cb = src.chunkBytes;
  const spanStart = first * cb;
  const spanEnd = Math.min((first + n) * cb, entry.size) - 1;
  let body: Readable;
  try {
    const readOptions: ConditionalReadOptions = { range: { start: spanStart, end: spanEnd }, ifMatch: entry.etag, signal };
    body = await src.inner.openRead(entry.path, readOptions);
    body.on('error', () => undefined); // surfaced by RangeStream (its listener, or `errored` at attach)
  } catch (err) {
    for (const c of claims) c?.abandon(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  let filled = 0;
  let pos = spanStart;
  let chunkEnd = Math.min(spanStart + cb, spanEnd + 1);
  /** The slab being filled (returned to the pool if the span ends early). */
  let slab = claims[0] ? takeSlab(cb) : undefined;
  let filledTo = 0;
  return {
    kind: 'stream',
    stream: body,
    take(piece: Buffer): Buffer | undefined {
      if (pos + piece.length > spanEnd + 1) throw new PreconditionFailedError('the file is longer than its listed size');
      // Tee into aligned chunks first, so waiting readers get them soonest. Bytes are copied
      // into a reusable chunk-sized slab: the received buffers die young (no GC backlog).
      let at = 0;
      while (at < piece.length) {
        const take = Math.min(piece.length - at, chunkEnd - (pos + at));
        if (slab) piece.copy(slab, filledTo, at, at + take);
        filledTo += take;
        at += take;
        if (pos + at === chunkEnd) {
          // Drop our reference: the claim's settled promise would keep every chunk of a long span alive.
          const claim = claims[filled];
          claims[filled++] = undefined;
          if (claim && slab) {
            const full = slab;
            claim.fill([full.subarray(0, filledTo)], () => giveSlab(full));
          }
          chunkEnd = Math.min(chunkEnd + cb, spanEnd + 1);
          slab = claims[filled] ? takeSlab(cb) : undefined;
          filledTo = 0;
        }
      }
      const from = Math.max(start, pos);
      const to = Math.min(end + 1, pos + piece.length);
      const base = pos;
      pos += piece.length;
      if (from >= to) return undefined;
      return from === base && to === pos ? piece : piece.subarray(from - base, to - base);
    },
    end(): void {
      if (pos !== spanEnd + 1) throw new PreconditionFailedError('the file is shorter than its listed size');
    },
    finish(err?: Error): void {
      const failure = err ?? new Error('the read was abandoned');
      for (let k = filled; k < claims.length; k++) claims[k]?.abandon(failure);
      if (slab) giveSlab(slab);
      slab = undefined;
    },
  };
}

/** A disk chunk's read stream; the chunk stays pinned until the source finishes. */
export function diskSource(rs: Readable, length: number, pin: DiskChunk): StreamSource {
  let got = 0;
  return {
    kind: 'stream',
    stream: rs,
    ahead: DISK_READ_BYTES,
    take(b: Buffer): Buffer {
      got += b.length;
      return b;
    },
    end(): void {
      if (got !== length) throw new Error('a cached chunk file is short');
    },
    finish(): void {
      rs.destroy();
      pin.release();
    },
  };
}


/**
 * A stream of bytes [lo, hi) of a pinned disk chunk, in pooled buffers (see releaseDiskBuffer),
 * through the store's kept descriptor of its file; it starts reading at once (a read-ahead).
 * Undefined if the file cannot be opened.
 */
export async function openDisk(store: ChunkStore, chunk: DiskChunk, lo: number, hi: number): Promise<Readable | undefined> {
  const handle = await store.openChunk(chunk);
  if (!handle) return undefined;
  const rs = new FileChunks(chunk.file, lo, hi - 1, { fd: handle.fd, releaseFd: handle.release, buffers: diskBuffers });
  rs.on('error', () => undefined); // surfaced by RangeStream (its listener, or `errored` at attach)
  rs.read(0);
  return rs;
}


/**
 * Chunk-sized buffers no reader was given, for reuse. The bound covers every slab a stream keeps
 * busy (the store's 16 MiB spill queue of 4 MiB chunks plus the one being filled), so a steady
 * stream allocates none: a slab dropped here is old-generation garbage that only a full GC frees,
 * and fresh 4 MiB slabs then drive a full GC every few tens of ms (external-memory pressure).
 */
const slabs = new Map<number, ReadBuffers>();
const MAX_FREE_SLABS = 6;

function takeSlab(size: number): Buffer {
  let pool = slabs.get(size);
  if (!pool) slabs.set(size, (pool = new ReadBuffers(size, MAX_FREE_SLABS)));
  const slab = pool.take();
  pool.lend(slab);
  return slab;
}

function giveSlab(slab: Buffer): void {
  slabs.get(slab.length)?.release(slab);
}

