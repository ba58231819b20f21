/**
 * Transfer progress for get/put: a cli-progress bar on stderr with bytes, rate and ETA, shown only
 * when stderr is a terminal or --progress asks for it. The meter is a pass-through Transform, so
 * the transfer stays one streaming pipeline.
 */
import { Transform } from 'node:stream';
import cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** Force the bar on (true) or off (false); default: on when stderr is a TTY. */
  progress?: boolean;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/**
 * A byte meter: `total` may be unknown (null). `start` is the offset already done (a resumed
 * download). The returned Transform passes data through unchanged.
 */
export interface Meter {
  /** A pass-through stream that counts what flows through it. */
  stream: Transform;
  /** Counts `n` more bytes (for bodies that are async iterables rather than pipelines). */
  tick(n: number): void;
  /** Bytes counted so far, including `start`. */
  readonly bytes: number;
  /** Draws the final state and releases the terminal line. */
  done(): void;
}

export function meter(label: string, total: number | null, start: number, opts: ProgressOptions): Meter {
  const show = opts.progress ?? Boolean(process.stderr.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  const began = Date.now();
  let value = start;
  if (show) {
    bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: total
          ? `${label} {bar} {percentage}% | {done}/{size} | {rate}/s | ETA {eta_formatted}`
          : `${label} {done} | {rate}/s`,
        hideCursor: true,
        noTTYOutput: !process.stderr.isTTY,
        notTTYSchedule: 1000,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 0, start, payload(start));
  }
  function payload(v: number) {
    const secs = Math.max((Date.now() - began) / 1000, 0.001);
    return { done: humanBytes(v), size: total === null ? '?' : humanBytes(total), rate: humanBytes(Math.round((v - start) / secs)) };
  }
  function tick(n: number) {
    value += n;
    bar?.update(value, payload(value));
  }
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      tick(chunk.length);
      cb(null, chunk);
    },
  });
  return {
    stream,
    tick,
    get bytes() {
      return value;
    },
    done() {
      if (!bar) return;
      bar.update(value, payload(value));
      bar.stop();
    },
  };
}
