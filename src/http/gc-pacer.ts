/**
 * Keeps the memory that large transfers leave behind small. Every chunk of a request body that
 * Node's HTTP parser hands over is a fresh allocation (an external ArrayBuffer) that lives until
 * V8's next collection, and V8 starts one only after tens of MB of them piled up; glibc then
 * keeps its heap that large. So while a large upload (or background checksum work) streams
 * (`streaming()` marks one), the pacer runs a young-generation collection every TICK_MS: usually a
 * fraction of a millisecond (only live young objects are touched) that frees the chunks already
 * written out. Measured on three consecutive 1 GiB uploads: peak RSS 132–172 MB without it,
 * 119–134 MB with it. Small requests are not paced, uploads declared smaller than
 * PACED_UPLOAD_BYTES included: they leave little behind, and under many concurrent small uploads
 * the pacer never stopped, doubling the rate of young collections, so every in-flight request's
 * objects were promoted to the old generation and the heap grew (bench/load.ts). Nor are
 * downloads: their chunks are recycled (file-chunks.ts), and on a busy machine the collections
 * cost up to ~10 ms each, for as long as a slow client reads. An idle process is never woken up.
 *
 * No library exposes V8's collector without a command-line flag: the flag is turned on at run time
 * and `gc` taken from a fresh context (the technique of the `expose-gc` package). If that fails,
 * the pacer stays off and Node behaves as usual. MESHDAV_GC_PACER=0 turns it off.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

const TICK_MS = 20;

/** Uploads whose declared length is below this are not paced (see above); unknown lengths are. */
export const PACED_UPLOAD_BYTES = 8 * 2 ** 20;

type Gc = (options?: { type?: 'minor' | 'major' }) => void;

let gc: Gc | null | undefined;
let active = 0;
let timer: NodeJS.Timeout | null = null;

function exposeGc(): Gc | null {
  if (process.env.MESHDAV_GC_PACER === '0') return null;
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as Gc;
  try {
    v8.setFlagsFromString('--expose_gc');
    const fn: unknown = vm.runInNewContext('gc');
    return typeof fn === 'function' ? (fn as Gc) : null;
  } catch {
    return null;
  }
}

/** Marks a large transfer as streaming; the returned function ends it (twice is harmless). */
export function streaming(): () => void {
  if (gc === undefined) gc = exposeGc();
  if (!gc) return () => undefined;
  const collect = gc;
  if (active++ === 0) {
    timer = setInterval(() => collect({ type: 'minor' }), TICK_MS);
    timer.unref();
  }
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    if (--active === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** Transfers pacing the collector right now (tests). */
export function pacedTransfers(): number {
  return active;
}
