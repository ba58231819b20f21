/**
 * Checksums off the main thread, in worker "lanes" that run in parallel with each other and with
 * the event loop (which keeps reading the socket and writing the disk). A job names its lanes,
 * each a list of algorithms one worker computes, e.g. `[['sha1'], ['md5'], ['adler32']]` when all
 * three are wanted as fast as possible (`meshdav scan`, or a large upload whose client declared an
 * MD5 or Adler32 to verify). A plain upload hashes SHA1 inline (checksums.ts) instead.
 *
 * Bytes are copied once into a ring of 1 MiB slots in a SharedArrayBuffer; each full slot is
 * announced to every lane of the job and becomes free again when all of them acknowledged it.
 * When every slot is busy the producer waits (bounded memory: RING_SLOTS MiB per job).
 * A crew (workers + ring, ~10 MB per worker) serves one job at a time; workers are generic (the
 * algorithms come with each job), and a crew grows when a job needs more lanes than it has.
 * One idle crew is kept for IDLE_MS and then terminated, so an idle node goes back to its
 * baseline; a crew whose job was abandoned, or one of whose workers exited, is terminated and
 * never reused.
 */
import { Worker } from 'node:worker_threads';
import type { Checksums } from '../fs/types.js';
import { adler32Update } from './adler32.js';

const SLOT = 1024 * 1024;
const RING_SLOTS = 4;
const IDLE_MS = 5_000;
export type Algo = keyof Checksums;
/** Hashing allocates almost nothing: small heaps keep each worker's footprint low. */
const LIMITS = { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 };

/** Plain JS (workers do not inherit the TypeScript loader); Adler32 is the very function of adler32.ts. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const adler32Update = ${adler32Update.toString()};
const ring = new Uint8Array(workerData.ring);
let job = null;
parentPort.on('message', (m) => {
  if (m.t === 'start') {
    job = { id: m.id, algos: m.algos, hashes: m.algos.map((a) => (a === 'adler32' ? { a: 1, b: 0 } : createHash(a))) };
  } else if (m.t === 'data' && job && job.id === m.id) {
    const view = ring.subarray(m.slot * ${SLOT}, m.slot * ${SLOT} + m.len);
    for (const h of job.hashes) {
      if (typeof h.update === 'function') h.update(view);
      else adler32Update(h, view);
    }
    parentPort.postMessage({ t: 'ack', id: m.id, slot: m.slot });
  } else if (m.t === 'end' && job && job.id === m.id) {
    const sums = {};
    job.algos.forEach((a, i) => {
      const h = job.hashes[i];
      sums[a] = typeof h.digest === 'function' ? h.digest('hex') : ((h.b * 65536 + h.a) >>> 0).toString(16).padStart(8, '0');
    });
    parentPort.postMessage({ t: 'done', id: m.id, sums });
    job = null;
  }
});
`;

interface Crew {
  /** The ring the workers read from, and a view of it for copying chunks in. */
  ring: SharedArrayBuffer;
  bytes: Uint8Array;
  workers: Worker[];
  /** Set when any of its workers exited; a dead crew is never handed out again. */
  dead: boolean;
}

let idleCrew: { crew: Crew; timer: NodeJS.Timeout } | null = null;
let nextJob = 1;

/** Adds workers until the crew has `lanes` of them. */
function staff(crew: Crew, lanes: number): void {
  while (crew.workers.length < lanes) {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring: crew.ring }, resourceLimits: LIMITS });
    w.unref();
    w.once('exit', () => {
      crew.dead = true;
    });
    // Never an unhandled 'error' (which would crash the node), also while the crew is idle.
    w.on('error', () => terminate(crew));
    crew.workers.push(w);
  }
}

function spawnCrew(): Crew {
  const ring = new SharedArrayBuffer(SLOT * RING_SLOTS);
  return { ring, bytes: new Uint8Array(ring), workers: [], dead: false };
}

function terminate(crew: Crew): void {
  crew.dead = true;
  for (const w of crew.workers) void w.terminate();
}

function takeCrew(lanes: number): Crew {
  const idle = idleCrew;
  idleCrew = null;
  if (idle) clearTimeout(idle.timer);
  const crew = idle && !idle.crew.dead ? idle.crew : spawnCrew();
  staff(crew, lanes);
  return crew;
}

function parkCrew(crew: Crew): void {
  if (crew.dead || idleCrew) {
    terminate(crew);
    return;
  }
  const timer = setTimeout(() => {
    if (idleCrew?.crew === crew) idleCrew = null;
    terminate(crew);
  }, IDLE_MS);
  timer.unref();
  idleCrew = { crew, timer };
}

/** Terminates the idle crew (storage close). */
export async function closeHashWorkers(): Promise<void> {
  const idle = idleCrew;
  idleCrew = null;
  if (!idle) return;
  clearTimeout(idle.timer);
  idle.crew.dead = true;
  await Promise.all(idle.crew.workers.map((w) => w.terminate()));
}

type Msg = { t: 'ack'; id: number; slot: number } | { t: 'done'; id: number; sums: Checksums };

/**
 * One hashing job over `lanes` (see the top of this file). Call `push` for every chunk in order,
 * then `finish` once (or `abandon`).
 */
export class OffloadedHash {
  private readonly crew: Crew;
  private readonly workers: Worker[];
  private readonly id = nextJob++;
  /** Acks still awaited per slot (0 = free). */
  private readonly pending = new Array<number>(RING_SLOTS).fill(0);
  private slot = 0;
  private fill = 0;
  private lanesDone = 0;
  private waiting: (() => void) | null = null;
  private readonly sums: Checksums = {};
  private readonly result: Promise<Checksums>;
  private resolveResult!: (c: Checksums) => void;
  private rejectResult!: (e: Error) => void;
  private failed: Error | null = null;
  private settled = false;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly listeners: Array<[Worker, string, (...args: any[]) => void]> = [];

  constructor(private readonly lanes: Algo[][]) {
    if (lanes.length === 0 || lanes.some((l) => l.length === 0)) throw new Error('a hashing job needs lanes with algorithms');
    this.crew = takeCrew(lanes.length);
    this.workers = this.crew.workers.slice(0, lanes.length);
    this.result = new Promise((res, rej) => {
      this.resolveResult = res;
      this.rejectResult = rej;
    });
    this.result.catch(() => undefined);
    this.workers.forEach((w, lane) => {
      const onMessage = (m: Msg) => this.onMessage(m);
      const onError = (err: Error) => this.fail(err);
      const onExit = () => this.fail(new Error('a hash worker exited'));
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      this.listeners.push([w, 'message', onMessage], [w, 'error', onError], [w, 'exit', onExit]);
      w.postMessage({ t: 'start', id: this.id, algos: lanes[lane] });
    });
  }

  private onMessage(m: Msg): void {
    if (m.id !== this.id) return;
    if (m.t === 'ack') {
      this.pending[m.slot]!--;
      if (this.waiting && this.pending[this.slot] === 0) {
        const go = this.waiting;
        this.waiting = null;
        go();
      }
      return;
    }
    Object.assign(this.sums, m.sums);
    if (++this.lanesDone === this.lanes.length) {
      this.release(true);
      this.resolveResult({ ...this.sums });
    }
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.release(false);
    this.rejectResult(err);
    const go = this.waiting;
    this.waiting = null;
    go?.();
  }

  private release(reuse: boolean): void {
    if (this.settled) return;
    this.settled = true;
    for (const [w, ev, fn] of this.listeners) w.off(ev, fn);
    if (reuse) parkCrew(this.crew);
    else terminate(this.crew);
  }

  /** Announces the current slot to every lane and moves to the next one. */
  private send(): void {
    if (this.fill === 0) return;
    this.pending[this.slot] = this.lanes.length;
    for (const w of this.workers) w.postMessage({ t: 'data', id: this.id, slot: this.slot, len: this.fill });
    this.slot = (this.slot + 1) % RING_SLOTS;
    this.fill = 0;
  }

  /**
   * Copies `chunk` into the ring; calls `ready` when the caller may go on (at once, or when the
   * workers have freed a slot). Waits as often as needed for chunks larger than the free space.
   */
  push(chunk: Uint8Array, ready: () => void): void {
    let off = 0;
    const step = (): void => {
      while (off < chunk.length) {
        if (this.failed) break;
        if (this.pending[this.slot] !== 0) {
          this.waiting = step;
          return;
        }
        const n = Math.min(chunk.length - off, SLOT - this.fill);
        this.crew.bytes.set(chunk.subarray(off, off + n), this.slot * SLOT + this.fill);
        this.fill += n;
        off += n;
        if (this.fill === SLOT) this.send();
      }
      ready();
    };
    step();
  }

  /** The digests of everything pushed, for the algorithms of the job's lanes. */
  finish(): Promise<Checksums> {
    if (this.failed) return Promise.reject(this.failed);
    this.send();
    for (const w of this.workers) w.postMessage({ t: 'end', id: this.id });
    return this.result;
  }

  /** The job will not be finished (aborted upload): its crew is terminated, not reused. */
  abandon(): void {
    this.release(false);
  }
}
