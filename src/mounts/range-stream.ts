/**
 * The content stream of a ranged read (chunk-reader.ts): a Readable fed by a planner of Sources.
 *
 * Contracts: sources are taken one at a time, in order; the pieces of a stream source pass its
 * `take` and are pushed as they come (no per-piece promise or generator step); a stream source is
 * paused while more than its `ahead` bytes wait for the caller. Network pieces (a source that
 * sets no `ahead`) may run SPAN_AHEAD_BYTES ahead while at most AHEAD_READS reads do so (the
 * sender keeps streaming through a client's short stalls, which on a busy machine keeps both
 * ends working instead of taking turns; the budget bounds the memory), else STREAM_BUFFER_BYTES;
 * disk reads set their own. Every stream source is finished exactly once (on its end, or with the
 * error when the read fails or is destroyed, including one taken from the planner but not started
 * yet). Chunks handed back through `release` return to the disk reads' buffer pool, or drop their
 * reference on the slab they were received into.
 */
import { Readable } from 'node:stream';
import { releaseDiskBuffer } from './chunk-sources.js';
import { releasePiece } from './slabs.js';

/** How much the content stream buffers ahead of the caller. */
const STREAM_BUFFER_BYTES = 256 * 1024;
/** How far a network source may run ahead of a slow caller, for at most AHEAD_READS reads at once. */
const SPAN_AHEAD_BYTES = 4 * 1024 * 1024;
const AHEAD_READS = 4;
/** Reads now holding one of the AHEAD_READS places. */
let aheadReads = 0;

/** Reads now running ahead of their caller (at most AHEAD_READS). */
export function aheadReadsInUse(): number {
  return aheadReads;
}

/**
 * One contiguous part of the answer: buffers already in memory, or a stream (a disk chunk, a
 * ranged GET) whose pieces pass `take` (tee, trim) on their way out. `end` validates a stream
 * that ended (throws when short); `finish` is called exactly once per stream source, with the
 * error when it did not complete, and releases what it holds (claims, slab, file handle).
 */
export type Source =
  | { kind: 'buffers'; buffers: Buffer[] }
  | {
      kind: 'stream';
      stream: Readable;
      take(piece: Buffer): Buffer | undefined;
      end(): void;
      finish(err?: Error): void;
      /** Buffered bytes above which this source is paused (default STREAM_BUFFER_BYTES). */
      ahead?: number;
    };
export type StreamSource = Extract<Source, { kind: 'stream' }>;

/**
 * The content stream: pulls sources from the planner one at a time (so per-piece work is a push,
 * not a generator step) and follows the caller's backpressure (a source stream is paused while
 * the buffer is above STREAM_BUFFER_BYTES).
 */
export class RangeStream extends Readable {
  private active?: StreamSource;
  private pumping = false;
  /** This read holds one of the AHEAD_READS places. */
  private deep = false;

  constructor(
    private next: Source | undefined,
    private readonly it: AsyncGenerator<Source>,
  ) {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
    if (!next) this.push(null);
  }

  /**
   * Takes back a chunk this stream pushed that the caller references nowhere any more (e.g. its
   * socket has flushed it): a disk chunk's read buffer is reused, a received piece drops its
   * reference on its slab; anything else is ignored.
   */
  release(chunk: Buffer): void {
    if (!releasePiece(chunk)) releaseDiskBuffer(chunk);
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
    if (source.ahead === undefined && !this.deep && aheadReads < AHEAD_READS) {
      this.deep = true;
      aheadReads++;
    }
    const ahead = source.ahead ?? (this.deep ? SPAN_AHEAD_BYTES : STREAM_BUFFER_BYTES);
    if (s.errored || s.destroyed) {
      // Failed (or was closed) before it was started: its 'error' has been emitted already.
      this.destroy(s.errored ?? new Error('a source of the read closed before it was read'));
      return;
    }
    const onData = (piece: Buffer) => {
      let out: Buffer | undefined;
      try {
        out = source.take(piece);
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      if (out && !this.push(out) && this.readableLength >= ahead) s.pause();
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
      this.leaveDeep();
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

  private leaveDeep(): void {
    if (!this.deep) return;
    this.deep = false;
    aheadReads--;
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const failure = err ?? new Error('the read was abandoned');
    for (const s of [this.active, this.next]) if (s?.kind === 'stream') closeSource(s, failure);
    this.active = this.next = undefined;
    this.leaveDeep();
    cb(err);
  }
}

export function closeSource(source: StreamSource, err: Error): void {
  source.stream.on('error', () => undefined);
  source.stream.destroy();
  source.finish(err);
}

