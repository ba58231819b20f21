/**
 * Streaming a byte range of a file in fixed-size chunks whose memory the consumer can hand back
 * (the DAV layer does, once a socket has flushed a chunk: recycling-body.ts), so a long download
 * reuses a few buffers instead of allocating one per chunk, which would make the garbage collector
 * run every few dozen megabytes and, on this kind of VM, fault fresh pages in all the time.
 */
import { close, constants, open, read } from 'node:fs';
import { Readable } from 'node:stream';
import { HASH_CHUNK } from './checksums.js';

/**
 * Read buffers of one size, lent to consumers and taken back. Only a buffer this pool lent and
 * that was not taken back yet is accepted by `release` (anything else is ignored), so a consumer
 * may offer every chunk it received, whatever produced it. At most `keep` spares are kept.
 */
export class ReadBuffers {
  /** Memory of the buffers lent and not released yet (weakly held: a dropped one is simply lost). */
  private lent = new WeakSet<ArrayBufferLike>();
  private readonly spare: Buffer[] = [];

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  /**
   * A buffer for up to `want` bytes: a spare when there is one, else a fresh one of the pool's
   * size, or of exactly `want` bytes when that is less. Such a smaller one is never lent nor kept
   * (`lend` ignores it): a small file read by 200 clients at once must not hold 200 pool-sized
   * buffers (bench/load.ts through a mount: up to ~110 MB of them, and RSS growing with them).
   */
  take(want = this.size): Buffer {
    const spare = this.spare.pop();
    if (spare) return spare;
    return Buffer.allocUnsafeSlow(Math.min(want, this.size));
  }

  /** Marks `buf` (from `take`) as handed to a consumer; a part of it may come back through `release`. */
  lend(buf: Buffer): void {
    if (buf.buffer.byteLength === this.size) this.lent.add(buf.buffer);
  }

  /** Takes back a chunk the caller references nowhere any more; false when it was not lent by this pool. */
  release(chunk: Buffer): boolean {
    if (!this.lent.delete(chunk.buffer)) return false;
    if (this.spare.length < this.keep) this.spare.push(Buffer.from(chunk.buffer, 0, this.size));
    return true;
  }
}

export interface FileChunksOptions {
  /** Pool to take read buffers from (shared by many streams); default: a small one of its own. */
  buffers?: ReadBuffers;
  /** A descriptor of `full` already opened for reading; the stream closes it (unless `releaseFd`). */
  fd?: number;
  /** Called instead of closing `fd` once the stream is done with it (the descriptor is someone else's). */
  releaseFd?: () => void;
}

/**
 * Bytes `start`…`end` (inclusive) of the regular file at `full` in chunks of the pool's size
 * (HASH_CHUNK by default), like createReadStream (final component opened with O_NOFOLLOW), plus
 * `release(chunk)`: a consumer that knows a chunk it received is referenced nowhere any more may
 * hand it back, and a later read reuses its memory. Releasing is optional; a consumer that never
 * releases gets fresh buffers throughout.
 */
export class FileChunks extends Readable {
  private fd: number | null;
  private pos: number;
  private readonly buffers: ReadBuffers;
  /** A read is in flight: the descriptor is closed only once it is back (it could be reused meanwhile). */
  private reading = false;
  private closeWhenIdle: (() => void) | null = null;
  private readonly releaseFd?: () => void;

  constructor(
    private readonly full: string,
    start: number,
    private readonly end: number,
    options: FileChunksOptions = {},
  ) {
    const buffers = options.buffers ?? new ReadBuffers(HASH_CHUNK, 2);
    super({ highWaterMark: buffers.size });
    this.buffers = buffers;
    this.fd = options.fd ?? null;
    this.releaseFd = options.fd !== undefined ? options.releaseFd : undefined;
    this.pos = start;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    if (this.fd !== null) return callback();
    open(this.full, (constants.O_RDONLY | constants.O_NOFOLLOW) as unknown as string, (err, fd) => {
      if (err) return callback(err);
      this.fd = fd;
      callback();
    });
  }

  override _read(): void {
    const left = this.end - this.pos + 1;
    if (left <= 0 || this.fd === null) {
      this.push(null);
      return;
    }
    const buf = this.buffers.take(left);
    this.reading = true;
    read(this.fd, buf, 0, Math.min(left, buf.length), this.pos, (err, got) => {
      this.reading = false;
      if (this.closeWhenIdle) return this.closeWhenIdle();
      if (err) return this.destroy(err);
      // A file cut short meanwhile ends the stream early, as createReadStream does.
      if (got === 0) return void this.push(null);
      this.pos += got;
      this.buffers.lend(buf);
      this.push(got === buf.length ? buf : buf.subarray(0, got));
    });
  }

  /** Takes back a chunk this stream (or another of its pool) pushed; the caller must hold no reference to it any more. */
  release(chunk: Buffer): void {
    this.buffers.release(chunk);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = null;
    if (fd === null) return callback(err);
    const release = this.releaseFd;
    const closeFd = release
      ? () => {
          release();
          callback(err);
        }
      : () => close(fd, () => callback(err));
    if (this.reading) this.closeWhenIdle = closeFd;
    else closeFd();
  }
}
