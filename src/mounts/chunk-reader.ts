/**
 * Reads a byte range of one file version through the ChunkStore (CachedFs mode `full`).
 *
 * Contracts:
 *   - chunks are aligned `chunkBytes` pieces keyed by (cache id, path, ETag, index); the ETag is
 *     the one of the stat the read is based on, and every fetch is made with If-Match on it (the
 *     inner Fs also checks the answer's ETag and Content-Range), so a chunk is never stored or
 *     served under another ETag;
 *   - stream-through: a run of chunks that are neither stored nor being fetched is claimed and
 *     fetched with ONE ranged GET up to the end of the request; its bytes go to the caller as
 *     they arrive (the caller's backpressure paces the GET) and are teed into aligned chunks
 *     handed to the store without waiting for any disk write;
 *   - a chunk another read is fetching is waited for, not fetched again (concurrent readers share
 *     one fetch); if that read gives up, the waiter fetches it itself;
 *   - stored chunks are sent without copies: memory chunks as views, disk chunks streamed from
 *     their file in DISK_READ_BYTES reads;
 *   - the first piece is produced before `readRange` returns, so early failures (412, 404, 416)
 *     are typed throws; later ones (a sender dying mid-body, a short body) error the stream —
 *     never a short success; aborting `signal` or destroying the stream aborts the GET.
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { PreconditionFailedError, RangeNotSatisfiableError } from '../errors.js';
import type { Entry, Fs, ReadOptions } from '../fs/types.js';
import type { Chunk, ChunkStore, Claim, DiskChunk } from './chunk-store.js';

/** How much the content stream buffers ahead of the caller. */
const STREAM_BUFFER_BYTES = 1024 * 1024;
/** Read size for chunks on the disk tier. */
const DISK_READ_BYTES = 4 * 1024 * 1024;
/** Times a reader waits for other reads' fetches of one chunk before fetching it uncached. */
const MAX_WAITS = 3;

export interface ChunkSource {
  inner: Fs;
  store: ChunkStore;
  chunkBytes: number;
  cacheId: string;
}

type ConditionalReadOptions = ReadOptions & { ifMatch?: string };

export async function readRange(src: ChunkSource, entry: Entry, options: ReadOptions): Promise<Readable> {
  const size = entry.size;
  const start = options.range?.start ?? 0;
  const end = Math.min(options.range?.end ?? size - 1, size - 1);
  if (options.range && (start >= size || start > end)) throw new RangeNotSatisfiableError();
  if (size === 0) return Readable.from([]);
  const ac = new AbortController();
  const outer = options.signal;
  outer?.throwIfAborted();
  const it = sources(src, entry, start, end, ac.signal);
  let first: IteratorResult<Source>;
  try {
    first = await it.next();
  } catch (err) {
    ac.abort();
    throw err;
  }
  const stream = new RangeStream(first.done ? undefined : first.value, it);
  const onAbort = () => stream.destroy(outer?.reason instanceof Error ? outer.reason : new Error('aborted'));
  stream.once('close', () => {
    outer?.removeEventListener('abort', onAbort);
    // Stops a GET in flight and releases chunks still claimed (also when the stream was never read).
    ac.abort();
    void it.return(undefined).catch(() => undefined);
  });
  if (outer) {
    if (outer.aborted) onAbort();
    else outer.addEventListener('abort', onAbort, { once: true });
  }
  return stream;
}

/**
 * One contiguous part of the answer: buffers already in memory, or a stream (a disk chunk, a
 * ranged GET) whose pieces pass `take` (tee, trim) on their way out. `end` validates a stream
 * that ended (throws when short); `finish` is called exactly once per stream source, with the
 * error when it did not complete, and releases what it holds (claims, slab, file handle).
 */
type Source =
  | { kind: 'buffers'; buffers: Buffer[] }
  | { kind: 'stream'; stream: Readable; take(piece: Buffer): Buffer | undefined; end(): void; finish(err?: Error): void };
type StreamSource = Extract<Source, { kind: 'stream' }>;

/**
 * The content stream: pulls sources from the planner one at a time (so per-piece work is a push,
 * not a generator step) and follows the caller's backpressure (a source stream is paused while
 * the buffer is above STREAM_BUFFER_BYTES).
 */
class RangeStream extends Readable {
  private active?: StreamSource;
  private pumping = false;

  constructor(
    private next: Source | undefined,
    private readonly it: AsyncGenerator<Source>,
  ) {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
    if (!next) this.push(null);
  }

  override _read(): void {
    if (this.active) this.active.stream.resume();
    else void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.destroyed) {
        let source = this.next;
        this.next = undefined;
        if (!source) {
          const r = await this.it.next();
          if (r.done) {
            this.push(null);
            return;
          }
          source = r.value;
          if (this.destroyed) {
            if (source.kind === 'stream') closeSource(source, new Error('the read was abandoned'));
            return;
          }
        }
        if (source.kind === 'stream') {
          this.attach(source);
          return;
        }
        let more = true;
        for (const b of source.buffers) more = this.push(b);
        if (!more) return; // _read pumps again
      }
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.pumping = false;
    }
  }

  private attach(source: StreamSource): void {
    this.active = source;
    const s = source.stream;
    const onData = (piece: Buffer) => {
      let out: Buffer | undefined;
      try {
        out = source.take(piece);
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      if (out && !this.push(out)) s.pause();
    };
    const onEnd = () => {
      s.off('data', onData);
      s.off('error', onError);
      try {
        source.end();
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      this.active = undefined;
      source.finish();
      void this.pump();
    };
    const onError = (err: Error) => {
      s.off('data', onData);
      s.off('end', onEnd);
      this.destroy(err);
    };
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('error', onError);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const failure = err ?? new Error('the read was abandoned');
    for (const s of [this.active, this.next]) if (s?.kind === 'stream') closeSource(s, failure);
    this.active = this.next = undefined;
    cb(err);
  }
}

function closeSource(source: StreamSource, err: Error): void {
  source.stream.on('error', () => undefined);
  source.stream.destroy();
  source.finish(err);
}

/** Plans the read: one source per stored chunk, one per uncached run (fetched with one GET). */
async function* sources(src: ChunkSource, entry: Entry, start: number, end: number, signal: AbortSignal): AsyncGenerator<Source> {
  const cb = src.chunkBytes;
  const last = Math.floor(end / cb);
  const keyOf = (i: number) => `${src.cacheId}\0${entry.path}\0${entry.etag}\0${i}`;
  let i = Math.floor(start / cb);
  let waits = 0;
  const range = (k: number) => ({ lo: Math.max(start - k * cb, 0), hi: Math.min(end - k * cb + 1, cb) });
  // One disk chunk opened and read ahead while the current one is sent (bounded prefetch: one
  // chunk, DISK_READ_BYTES buffered), so chunk boundaries cost no open/read latency.
  let ahead: ReadAhead | undefined;
  try {
    while (i <= last) {
      const { lo, hi } = range(i);
      const key = keyOf(i);
      const found = src.store.lookup(key);
      if (found?.tier === 'memory') {
        yield { kind: 'buffers', buffers: slice(found.chunk, lo, hi) };
        i++;
        continue;
      }
      if (found?.tier === 'disk') {
        const pre = ahead?.index === i ? ahead : undefined;
        if (ahead && !pre) dropAhead(ahead);
        ahead = undefined;
        if (pre) found.release(); // the read-ahead holds its own pin
        const pin = pre?.pin ?? found;
        const rs = await (pre?.stream ?? openDisk(found.file, lo, hi));
        if (!rs) {
          pin.release();
          src.store.dropDisk(key);
          continue;
        }
        const nextPin = i + 1 <= last ? src.store.acquireDisk(keyOf(i + 1)) : undefined;
        if (nextPin) {
          const r = range(i + 1);
          ahead = { index: i + 1, pin: nextPin, stream: openDisk(nextPin.file, r.lo, r.hi) };
        }
        yield diskSource(rs, hi - lo, pin);
        i++;
        continue;
      }
      if (found?.tier === 'pending' && waits < MAX_WAITS) {
        let chunk: Chunk | undefined;
        try {
          chunk = await abortable(found.chunk, signal);
        } catch (err) {
          if (signal.aborted) throw err;
          waits++; // that read gave up: look again (claim it, or wait for a newer claim)
          continue;
        }
        waits = 0;
        yield { kind: 'buffers', buffers: slice(chunk, lo, hi) };
        i++;
        continue;
      }
      // Lead: claim the run of absent chunks from i and fetch it in one GET. (No claim when chunk i
      // stays pending after MAX_WAITS: then it alone is fetched, uncached.)
      const claims: Claim[] = [];
      for (let j = i; j <= last; j++) {
        const claim = src.store.claim(keyOf(j));
        if (!claim) break;
        claims.push(claim);
      }
      const n = Math.max(1, claims.length);
      yield await openSpan(src, entry, i, n, claims, start, end, signal);
      waits = 0;
      i += n;
    }
  } finally {
    if (ahead) dropAhead(ahead);
  }
}

/** The next disk chunk, pinned and opened while the current one is sent. */
interface ReadAhead {
  index: number;
  pin: DiskChunk;
  stream: Promise<Readable | undefined>;
}

function dropAhead(ahead: ReadAhead): void {
  void ahead.stream.then((rs) => {
    rs?.destroy();
    ahead.pin.release();
  });
}

/**
 * Opens ONE ranged GET of chunks [first, first+n); its pieces pass `take`, which tees them into
 * `claims` (one per chunk, possibly none; each filled as soon as it completes) and returns the part
 * inside [start, end]. Claims not filled when the source finishes are abandoned.
 */
async function openSpan(
  src: ChunkSource,
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
function diskSource(rs: Readable, length: number, pin: DiskChunk): StreamSource {
  let got = 0;
  return {
    kind: 'stream',
    stream: rs,
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

/** Chunk-sized buffers no reader was given, for reuse (bounded; beyond that left to the GC). */
const slabs = new Map<number, Buffer[]>();
const MAX_FREE_SLABS = 2;

function takeSlab(size: number): Buffer {
  return slabs.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
}

function giveSlab(buf: Buffer): void {
  let free = slabs.get(buf.length);
  if (!free) slabs.set(buf.length, (free = []));
  if (free.length < MAX_FREE_SLABS) free.push(buf);
}

function slice(chunk: Chunk, lo: number, hi: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const b of chunk) {
    const s = at;
    at += b.length;
    if (at <= lo) continue;
    if (s >= hi) break;
    out.push(lo <= s && at <= hi ? b : b.subarray(Math.max(lo - s, 0), Math.min(hi, at) - s));
  }
  return out;
}

/** A read stream of bytes [lo, hi) of a chunk file (it starts reading at once); undefined if the file is gone. */
async function openDisk(file: string, lo: number, hi: number): Promise<Readable | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  const rs = handle.createReadStream({ start: lo, end: hi - 1, highWaterMark: DISK_READ_BYTES });
  rs.on('error', () => undefined); // surfaced by the iteration in fromDisk
  return rs;
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
