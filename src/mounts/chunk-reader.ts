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
 *     their file (pinned in the store while read);
 *   - the first piece is produced before `readRange` returns, so early failures (412, 404, 416)
 *     are typed throws; later ones (a sender dying mid-body, a short body) error the stream —
 *     never a short success; aborting `signal` or destroying the stream aborts the GET.
 *
 * The pieces: this file plans a read (which chunk comes from where); range-stream.ts is the
 * Readable that sends the planned sources; chunk-sources.ts opens a ranged GET (teed into the
 * store) or a disk chunk.
 */
import { Readable } from 'node:stream';
import { RangeNotSatisfiableError } from '../errors.js';
import type { Entry, Fs, ReadOptions } from '../fs/types.js';
import type { Chunk, ChunkStore, Claim, ClaimRun, DiskChunk } from './chunk-store.js';
import { diskSource, openDisk, openRun } from './chunk-sources.js';
import type { ReadResume } from './resuming-body.js';
import { RangeStream, type Source } from './range-stream.js';
import type { ChunkRefill } from './chunk-refill.js';

/** Times a reader waits for other reads' fetches of one chunk before fetching it uncached. */
const MAX_WAITS = 3;

export interface ChunkSource extends ThroughSource {
  store: ChunkStore;
  cacheId: string;
  /** Fetches again, in the background, chunks a read could not cache (none when absent). */
  refill?: ChunkRefill;
}

/** What an uncached read needs: the Fs read from, the chunk size, how broken GETs are reopened. */
export interface ThroughSource {
  inner: Fs;
  chunkBytes: number;
  resume: ReadResume;
}


export function readRange(src: ChunkSource, entry: Entry, options: ReadOptions): Promise<Readable> {
  return openPlanned(entry, options, (start, end, signal) => sources(src, entry, start, end, signal));
}

/**
 * A byte range of `entry` read from `inner` without caching it (CachedFs mode `metadata`),
 * through the same machinery as an uncached run of `readRange`: one ranged GET of
 * exactly the bytes asked (a RemoteFs reads it straight into reusable slabs whose pieces are
 * handed back once sent), checked against the listed size, with the same early typed failures.
 */
export function readThrough(src: ThroughSource, entry: Entry, options: ReadOptions): Promise<Readable> {
  return openPlanned(entry, options, async function* (start, end, signal) {
    yield await openRun(src, entry, start, end, [], start, end, signal);
  });
}

/**
 * The content stream of [start, end] of `entry` (the whole file without a range), its sources
 * planned by `plan`: the first source is opened before this returns, so early failures are
 * typed throws; aborting `options.signal` or destroying the stream stops the plan (and its GET).
 */
async function openPlanned(
  entry: Entry,
  options: ReadOptions,
  plan: (start: number, end: number, signal: AbortSignal) => AsyncGenerator<Source>,
): Promise<Readable> {
  const size = entry.size;
  const start = options.range?.start ?? 0;
  const end = Math.min(options.range?.end ?? size - 1, size - 1);
  if (options.range && (start >= size || start > end)) throw new RangeNotSatisfiableError();
  if (size === 0) return Readable.from([]);
  const ac = new AbortController();
  const outer = options.signal;
  outer?.throwIfAborted();
  const it = plan(start, end, ac.signal);
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

/** Plans the read: one source per stored chunk, one per uncached run (fetched with one GET). */
async function* sources(src: ChunkSource, entry: Entry, start: number, end: number, signal: AbortSignal): AsyncGenerator<Source> {
  const cb = src.chunkBytes;
  const last = Math.floor(end / cb);
  const keyOf = (i: number) => chunkKey(src, entry, i);
  const refill = src.refill;
  const dropped = refill && ((k: number) => refill.add(keyOf(k), (run, sig) => refetch(src, entry, k, run, sig)));
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
        const rs = await (pre?.stream ?? openDisk(src.store, found, lo, hi));
        if (!rs) {
          pin.release();
          src.store.dropDisk(key);
          continue;
        }
        const nextPin = i + 1 <= last ? src.store.acquireDisk(keyOf(i + 1)) : undefined;
        if (nextPin) {
          const r = range(i + 1);
          ahead = { index: i + 1, pin: nextPin, stream: openDisk(src.store, nextPin, r.lo, r.hi) };
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
      const run: ClaimRun = { followed: false };
      for (let j = i; j <= last; j++) {
        const claim = src.store.claim(keyOf(j), run);
        if (!claim) break;
        claims.push(claim);
      }
      const n = Math.max(1, claims.length);
      yield await openRun(src, entry, i * cb, Math.min((i + n) * cb, entry.size) - 1, claims, start, end, signal, dropped, run);
      waits = 0;
      i += n;
    }
  } finally {
    if (ahead) dropAhead(ahead);
  }
}

function chunkKey(src: ChunkSource, entry: Entry, index: number): string {
  return `${src.cacheId}\0${entry.path}\0${entry.etag}\0${index}`;
}

/**
 * Fetches chunk `index` of `entry` into the store as a claim of `run` (a ChunkRefill job): one
 * ranged GET of that chunk, with If-Match on the entry's ETag, its bytes going nowhere but the
 * chunk. False when the chunk was stored or claimed meanwhile, or fetched but not kept.
 */
async function refetch(src: ChunkSource, entry: Entry, index: number, run: ClaimRun, signal: AbortSignal): Promise<boolean> {
  const claim = src.store.claim(chunkKey(src, entry, index), run);
  if (!claim) return false;
  let kept = false;
  const tracked: Claim = {
    fill: (chunk, recycle) => (kept = claim.fill(chunk, recycle)),
    abandon: (err) => claim.abandon(err),
  };
  const start = index * src.chunkBytes;
  const end = Math.min(start + src.chunkBytes, entry.size) - 1;
  // Read as any range is, its pieces handed straight back.
  const stream = (await openPlanned(entry, { range: { start, end }, signal }, async function* (s, e, sig) {
    yield await openRun(src, entry, s, e, [tracked], s, e, sig);
  })) as RangeStream;
  for await (const piece of stream) stream.release(piece as Buffer);
  return kept;
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
