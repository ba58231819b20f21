/**
 * Response bodies whose chunks can be handed back to their source once sent (the storage layer's
 * FileChunks): a long download then reuses a few buffers instead of allocating one per chunk,
 * which would make the garbage collector run every few dozen megabytes.
 */
import { Readable, type Writable } from 'node:stream';

/** A stream whose consumer may return chunks it no longer references. */
export interface ReleasableStream extends Readable {
  release(chunk: Buffer): void;
}

export function isReleasable(body: Readable): body is ReleasableStream {
  return typeof (body as Partial<ReleasableStream>).release === 'function';
}

/** `body` as it should be sent on `res`: one whose source takes chunks back gets them once flushed. */
export function recycled(body: Readable, res: Writable): Readable {
  return isReleasable(body) ? new RecyclingBody(body, res) : body;
}

/**
 * Chunks remembered at most; older ones are forgotten (never released), which is always safe.
 * Enough for the pieces one drain interval carries (a mount's received pieces can be 64 KiB).
 */
const MAX_TRACKED = 64;

/**
 * `src` re-emitted for Koa to pipe into `res`. A chunk goes back to `src.release` only when `res`
 * has nothing queued (`writableLength` 0: everything written so far is in the kernel) and the
 * chunk has left this stream's own buffer, i.e. has been written — so no released chunk can still
 * be waiting to be sent. Errors and destruction pass through both ways.
 */
export class RecyclingBody extends Readable {
  /** Chunks pushed and not yet released, oldest first. */
  private readonly pending: Buffer[] = [];

  constructor(
    private readonly src: ReleasableStream,
    private readonly res: Writable,
  ) {
    super({ highWaterMark: src.readableHighWaterMark });
    src.on('data', (chunk: Buffer) => {
      // Chunks that arrive within one turn of the event loop leave in one write (a writev).
      if (!this.corked) {
        this.corked = true;
        res.cork();
        setImmediate(this.uncork);
      }
      this.pending.push(chunk);
      if (this.pending.length > MAX_TRACKED) this.pending.shift();
      if (!this.push(chunk)) src.pause();
    });
    src.once('end', () => this.push(null));
    src.once('error', (err) => this.destroy(err));
    res.on('drain', this.recycle);
  }

  private corked = false;

  private readonly uncork = (): void => {
    this.corked = false;
    this.res.uncork();
  };

  private readonly recycle = (): void => {
    if (this.res.writableLength !== 0) return;
    // The newest chunks that are still in this stream's buffer have not been written yet.
    let buffered = this.readableLength;
    let written = this.pending.length;
    while (written > 0 && buffered > 0) buffered -= this.pending[--written]!.length;
    for (const chunk of this.pending.splice(0, written)) this.src.release(chunk);
  };

  override _read(): void {
    this.recycle();
    this.src.resume();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.res.off('drain', this.recycle);
    this.pending.length = 0;
    this.src.destroy(err ?? undefined);
    callback(err);
  }
}
