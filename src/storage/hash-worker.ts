/**
 * Checksums off the main thread, in two worker "lanes" that run in parallel with each other and
 * with the event loop (which keeps reading the socket and writing the disk): SHA1 + Adler32 in
 * one, MD5 (the slowest) in the other, so the two take about the same time per byte.
 *
 * Bytes are copied once into a ring of 1 MiB slots in a SharedArrayBuffer; each full slot is
 * announced to both lanes and becomes free again when both acknowledged it. When every slot is
 * busy the upload waits (bounded memory: RING_SLOTS MiB per upload).
 * A crew (two workers + ring, ~16 MB) serves one upload at a time. One idle crew is kept for
 * IDLE_MS and then terminated, so an idle node goes back to its baseline; a crew whose job was
 * abandoned, or one of whose workers exited, is terminated and never reused.
 */
import { Worker } from 'node:worker_threads';
import type { Checksums } from '../fs/types.js';
import { adler32Update } from './adler32.js';

const SLOT = 1024 * 1024;
const RING_SLOTS = 4;
const IDLE_MS = 5_000;
type Algo = keyof Checksums;
const LANES: Algo[][] = [['sha1', 'adler32'], ['md5']];
/** Hashing allocates almost nothing: small heaps keep each worker's footprint low. */
const LIMITS = { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 };

/** Plain JS (workers do not inherit the TypeScript loader); Adler32 is the very function of adler32.ts. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const adler32Update = ${adler32Update.toString()};
const algos = workerData.algos;
const ring = new Uint8Array(workerData.ring);
let job = null;
parentPort.on('message', (m) => {
  if (m.t === 'start') {
    job = { id: m.id, hashes: algos.map((a) => (a === 'adler32' ? { a: 1, b: 0 } : createHash(a))) };
  } else if (m.t === 'data' && job && job.id === m.id) {
    const view = ring.subarray(m.slot * ${SLOT}, m.slot * ${SLOT} + m.len);
    for (const h of job.hashes) {
      if (typeof h.update === 'function') h.update(view);
      else adler32Update(h, view);
    }
    parentPort.postMessage({ t: 'ack', id: m.id, slot: m.slot });
  } else if (m.t === 'end' && job && job.id === m.id) {
    const sums = {};
    algos.forEach((a, i) => {
      const h = job.hashes[i];
      sums[a] = typeof h.digest === 'function' ? h.digest('hex') : ((h.b * 65536 + h.a) >>> 0).toString(16).padStart(8, '0');
    });
    parentPort.postMessage({ t: 'done', id: m.id, sums });
    job = null;
  }
});
`;

interface Crew {
  bytes: Uint8Array;
  workers: Worker[];
  /** Set when any of its workers exited; a dead crew is never handed out again. */
  dead: boolean;
}

let idleCrew: { crew: Crew; timer: NodeJS.Timeout } | null = null;
let nextJob = 1;

function spawnCrew(): Crew {
  const ring = new SharedArrayBuffer(SLOT * RING_SLOTS);
  const crew: Crew = { bytes: new Uint8Array(ring), workers: [], dead: false };
  for (const algos of LANES) {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { algos, ring }, resourceLimits: LIMITS });
    w.unref();
    w.once('exit', () => {
      crew.dead = true;
    });
    // Never an unhandled 'error' (which would crash the node), also while the crew is idle.
    w.on('error', () => terminate(crew));
    crew.workers.push(w);
  }
  return crew;
}

function terminate(crew: Crew): void {
  crew.dead = true;
  for (const w of crew.workers) void w.terminate();
}

function takeCrew(): Crew {
  const idle = idleCrew;
  idleCrew = null;
  if (idle) clearTimeout(idle.timer);
  return idle && !idle.crew.dead ? idle.crew : spawnCrew();
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

/** One upload's hashing job. Call `push` for every chunk in order, then `finish` once (or `abandon`). */
export class OffloadedHash {
  private readonly crew: Crew;
  private readonly id = nextJob++;
  /** Acks still awaited per slot (0 = free). */
  private readonly pending = new Array<number>(RING_SLOTS).fill(0);
  private slot = 0;
  private fill = 0;
  private lanesDone = 0;
  private waiting: (() => void) | null = null;
  private readonly sums: Checksums = {};
  private readonly result: Promise<Required<Checksums>>;
  private resolveResult!: (c: Required<Checksums>) => void;
  private rejectResult!: (e: Error) => void;
  private failed: Error | null = null;
  private settled = false;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly listeners: Array<[Worker, string, (...args: any[]) => void]> = [];

  constructor() {
    this.crew = takeCrew();
    this.result = new Promise((res, rej) => {
      this.resolveResult = res;
      this.rejectResult = rej;
    });
    this.result.catch(() => undefined);
    for (const w of this.crew.workers) {
      const onMessage = (m: Msg) => this.onMessage(m);
      const onError = (err: Error) => this.fail(err);
      const onExit = () => this.fail(new Error('a hash worker exited'));
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      this.listeners.push([w, 'message', onMessage], [w, 'error', onError], [w, 'exit', onExit]);
      w.postMessage({ t: 'start', id: this.id });
    }
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
    if (++this.lanesDone === LANES.length) {
      this.release(true);
      this.resolveResult({ sha1: this.sums.sha1!, md5: this.sums.md5!, adler32: this.sums.adler32! });
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
    this.pending[this.slot] = LANES.length;
    for (const w of this.crew.workers) w.postMessage({ t: 'data', id: this.id, slot: this.slot, len: this.fill });
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

  /** The digests of everything pushed. */
  finish(): Promise<Required<Checksums>> {
    if (this.failed) return Promise.reject(this.failed);
    this.send();
    for (const w of this.crew.workers) w.postMessage({ t: 'end', id: this.id });
    return this.result;
  }

  /** The job will not be finished (aborted upload): its crew is terminated, not reused. */
  abandon(): void {
    this.release(false);
  }
}
