/**
 * The body of one ranged GET of a mount read (chunk-sources.ts), reopened where it stopped when
 * its connection breaks or is left idle, as rclone's chunked reader and a browser's download
 * resume do.
 *
 * Why: a read through a mount is paced by its client. A client that stops reading for a while (a
 * paused video, a sync client busy elsewhere, a phone in a tunnel) held the connection to the
 * sender paused all that time, and senders cut such connections (nginx's `send_timeout`, 60 s by
 * default; meshdav's `limits.clientStallMs`): the client's download then failed half-way. A
 * connection reset or a sender restart in the middle of a long download failed it the same way.
 *
 * Contracts:
 *   - the pieces emitted are exactly the span's bytes from its start, in order, whatever number
 *     of GETs they came through; each reopen asks for the bytes after the last one received, with
 *     the same `If-Match` ETag as the first GET (the opener's job), so bytes of two versions of a
 *     file are never joined: a changed file fails the read (412), as do a revoked share and an
 *     answer of another length;
 *   - a body held paused by the reader for `pausedCloseMs` is closed (`onPausedClose` is told,
 *     and `idle` is true until it is reopened), and reopened when the reader asks for more;
 *     pieces it had received already are kept and emitted first; once it has been held for
 *     heldNoticeMs (a quarter of that, at most 5 s) `held` is true and `onHeld` is told, so other
 *     readers waiting for this GET's chunks need not wait until it is closed;
 *   - a body that fails (connection closed, reset, silent) is reopened after RETRY_DELAYS_MS (at
 *     once, then later twice); an attempt that brings bytes starts the count again; after the last,
 *     or after MAX_BREAKS breaks of one span, the read fails with the last error. A failure that a
 *     retry cannot mend (4xx, a wrong length, the read's own abort) fails it at once;
 *   - a body whose bytes are read straight into the caller's target (`direct`) counts what the
 *     target received, since a failing body drops the pieces it still buffered: `track` sees
 *     every received piece, and those not emitted yet when the body fails are emitted from there;
 *   - destroying this stream closes the current body and drops the pieces it kept.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { MeshdavError, PreconditionFailedError } from '../errors.js';
import type { BodyTarget } from './direct-get.js';
import type { BodyInto } from './remote-fs.js';
import { releaseSlab } from './slabs.js';

/** Waits before each reopen of a break: the 1st at once, then two more; then the read fails. */
const RETRY_DELAYS_MS = [0, 500, 2000];
/** Breaks of one span followed at most (a sender that keeps breaking off is not followed for ever). */
export const MAX_BREAKS = 16;
/** Buffered bytes above which the current body is paused. */
const BUFFER_BYTES = 256 * 1024;
/** The longest a reader holds a body paused before `held` (see heldNoticeMs). */
const HELD_NOTICE_MAX_MS = 5000;

/** How long a reader holds a body paused before it counts as `held`: a quarter of pausedCloseMs, at most 5 s. */
export function heldNoticeMs(pausedCloseMs: number): number {
  return Math.min(HELD_NOTICE_MAX_MS, Math.floor(pausedCloseMs / 4));
}

/** How a mount's reads reopen their GETs (configuration: remote.pausedCloseMs). */
export interface ReadResume {
  /** How long a body the reader holds paused keeps its connection (ms). */
  pausedCloseMs: number;
  /** Called on each reopen with its cause (for logs and metrics). */
  onReopen?: (why: 'paused' | 'broken', at: number) => void;
}

export interface ResumeOptions extends ReadResume {
  /** Aborted when the read ends: no reopen after it. */
  signal: AbortSignal;
  /** Called when a body held paused is closed (see `idle`). */
  onPausedClose?: () => void;
  /** Called when the reader has held the body paused for heldNoticeMs (see `held`). */
  onHeld?: () => void;
}

/**
 * The target of a direct body, wrapped: the pieces it received that the body has not emitted
 * yet, and the offset of the next byte.
 */
export class TrackedTarget implements BodyTarget {
  /** Received, not yet emitted by the body (oldest first). */
  readonly pending: Buffer[] = [];

  constructor(
    private readonly inner: BodyTarget,
    /** Offset (in the file) of the next byte to receive. */
    public at: number,
  ) {}

  region(max: number): Buffer {
    return this.inner.region(max);
  }

  received(n: number): Buffer {
    const piece = this.inner.received(n);
    this.pending.push(piece);
    this.at += n;
    return piece;
  }
}

/**
 * Reopens the span's bytes from `from` (an offset in the file) through `target`; the opener checks
 * a direct answer's length and keeps its body's errors from going unhandled.
 */
export type Reopen = (from: number, target: TrackedTarget) => Promise<BodyInto>;

export class ResumingBody extends Readable {
  private body?: Readable;
  private readonly direct: boolean;
  /** Offset of the next byte wanted (non-direct bodies: after the last one emitted). */
  private next: number;
  private reopening = false;
  /** Times the span's GET broke off (closing a paused one is not a break). */
  private breaks = 0;
  /** Failed attempts since the last one that brought bytes. */
  private failures = 0;
  private pauseTimer?: NodeJS.Timeout;
  private heldTimer?: NodeJS.Timeout;
  /** When the reader last held the current body paused (undefined: it is flowing). */
  private heldSince?: number;
  private lastError?: Error;
  /** Closed while paused (see `idle`). */
  private closedPaused = false;

  constructor(
    first: BodyInto,
    private readonly target: TrackedTarget,
    /** Offset of the span's last byte. */
    private readonly end: number,
    private readonly reopen: Reopen,
    private readonly options: ResumeOptions,
  ) {
    super({ highWaterMark: BUFFER_BYTES });
    this.direct = first.direct;
    this.next = target.at;
    this.attach(first.stream);
  }

  override _read(): void {
    if (this.body) {
      this.clearPauseTimer();
      this.body.resume();
    } else if (!this.reopening) {
      void this.resumeAt();
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.clearPauseTimer();
    this.detach()?.destroy();
    for (const piece of this.target.pending.splice(0)) releaseSlab(piece);
    cb(err);
  }

  /** The body was closed while the reader held it paused, and is not reopened yet. */
  get idle(): boolean {
    return !this.body && !this.reopening && this.closedPaused;
  }

  /** The reader has held the body paused for heldNoticeMs or more (or it was closed for that: `idle`). */
  get held(): boolean {
    if (this.idle) return true;
    return this.heldSince !== undefined && Date.now() - this.heldSince >= heldNoticeMs(this.options.pausedCloseMs);
  }

  /** Offset of the next byte to ask the sender for. */
  private get at(): number {
    return this.direct ? this.target.at : this.next;
  }

  private attach(body: Readable): void {
    this.body = body;
    this.closedPaused = false;
    this.heldSince = undefined;
    body.on('data', this.onData);
    body.once('end', this.onEnd);
    body.once('error', this.onError);
    // Failed (or closed) before it was attached: its 'error' was emitted already.
    if (body.errored || body.destroyed) this.onError(body.errored ?? new Error('the connection to the sharing site closed'));
  }

  /** Stops following the current body (returned, for the caller to close). */
  private detach(): Readable | undefined {
    const body = this.body;
    this.body = undefined;
    if (!body) return undefined;
    body.off('data', this.onData);
    body.off('end', this.onEnd);
    body.off('error', this.onError);
    return body;
  }

  private readonly onData = (piece: Buffer): void => {
    if (this.direct) {
      if (this.target.pending[0] !== piece) {
        this.destroy(new Error('a mount read received a piece it did not ask for'));
        return;
      }
      this.target.pending.shift();
    } else {
      this.next += piece.length;
    }
    this.failures = 0;
    if (!this.push(piece)) {
      this.body?.pause();
      this.startPauseTimer();
    }
  };

  private readonly onEnd = (): void => {
    this.detach();
    this.clearPauseTimer();
    this.push(null);
  };

  private readonly onError = (err: Error): void => {
    this.detach();
    this.clearPauseTimer();
    this.lastError = err;
    if (!this.mendable(err)) {
      this.destroy(err);
      return;
    }
    this.failures++;
    this.breaks++;
    this.options.onReopen?.('broken', this.at);
    this.flushPending();
    void this.resumeAt();
  };

  /** Emits the pieces a closed direct body had received but not emitted. */
  private flushPending(): void {
    for (const piece of this.target.pending.splice(0)) this.push(piece);
  }

  private startPauseTimer(): void {
    if (this.pauseTimer || this.options.pausedCloseMs <= 0) return;
    this.heldSince = Date.now();
    this.heldTimer = setTimeout(() => {
      this.heldTimer = undefined;
      this.options.onHeld?.();
    }, heldNoticeMs(this.options.pausedCloseMs));
    this.heldTimer.unref();
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      const body = this.detach();
      if (!body) return;
      body.destroy();
      this.closedPaused = true;
      this.options.onPausedClose?.();
      this.options.onReopen?.('paused', this.at);
      this.flushPending();
      // Reopened by _read once the reader wants more.
    }, this.options.pausedCloseMs);
    this.pauseTimer.unref();
  }

  private clearPauseTimer(): void {
    this.heldSince = undefined;
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    if (!this.pauseTimer) return;
    clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
  }

  /** A failure that reopening may mend: the connection, not the answer. */
  private mendable(err: Error): boolean {
    if (this.options.signal.aborted || this.destroyed) return false;
    return !(err instanceof MeshdavError && err.status < 500);
  }

  /** Opens the rest of the span, retrying as the contract says. */
  private async resumeAt(): Promise<void> {
    if (this.reopening || this.destroyed) return;
    this.reopening = true;
    try {
      for (;;) {
        if (this.at > this.end) {
          this.push(null);
          return;
        }
        if (this.breaks > MAX_BREAKS || this.failures > RETRY_DELAYS_MS.length) {
          this.destroy(this.lastError ?? new Error('the sender kept breaking the transfer off'));
          return;
        }
        const delay = this.failures > 0 ? RETRY_DELAYS_MS[this.failures - 1]! : 0;
        if (delay) await sleep(delay, undefined, { signal: this.options.signal }).catch(() => undefined);
        if (this.destroyed || this.options.signal.aborted) return;
        const from = this.at;
        let opened: BodyInto;
        try {
          opened = await this.reopen(from, this.target);
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          this.lastError = e;
          if (!this.mendable(e)) {
            this.destroy(e);
            return;
          }
          this.failures++;
          continue;
        }
        if (this.destroyed) {
          opened.stream.destroy();
          return;
        }
        // (The opener checked the length against the listed size.)
        if (opened.direct !== this.direct) {
          opened.stream.destroy();
          this.destroy(new PreconditionFailedError('the sender answered the rest of a broken transfer in another form'));
          return;
        }
        this.attach(opened.stream);
        return;
      }
    } finally {
      this.reopening = false;
    }
  }
}
