/**
 * Checksums off the main thread, one worker per algorithm (SHA1, MD5, Adler32) so the three run
 * in parallel with each other and with the event loop that reads the socket and writes the disk.
 *
 * Bytes are copied once into a ring of 1 MiB slots in a SharedArrayBuffer; each full slot is
 * announced to the three workers, and becomes free again when all three acknowledged it. When
 * every slot is busy the upload waits (bounded memory: RING_SLOTS MiB per upload).
 * A crew (three workers + ring) serves one upload at a time; idle crews are pooled and unref'd;
 * a crew whose job was abandoned is terminated, not reused.
 */
import { Worker } from 'node:worker_threads';
import type { Checksums } from '../fs/types.js';
import { adler32Update } from './adler32.js';

const SLOT = 1024 * 1024;
const RING_SLOTS = 8;
const MAX_IDLE_CREWS = 2;
const ALGOS = ['sha1', 'md5', 'adler32'] as const;
type Algo = (typeof ALGOS)[number];

/** Plain JS (workers do not inherit the TypeScript loader); Adler32 is the very function of adler32.ts. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const adler32Update = ${adler32Update.toString()};
const algo = workerData.algo;
const ring = new Uint8Array(workerData.ring);
let job = null;
parentPort.on('message', (m) => {
  if (m.t === 'start') {
    job = { id: m.id, hash: algo === 'adler32' ? null : createHash(algo), st: { a: 1, b: 0 } };
  } else if (m.t === 'data' && job && job.id === m.id) {
    const view = ring.subarray(m.slot * ${SLOT}, m.slot * ${SLOT} + m.len);
    if (job.hash) job.hash.update(view); else adler32Update(job.st, view);
    parentPort.postMessage({ t: 'ack', id: m.id, slot: m.slot });
  } else if (m.t === 'end' && job && job.id === m.id) {
    const sum = job.hash ? job.hash.digest('hex') : ((job.st.b * 65536 + job.st.a) >>> 0).toString(16).padStart(8, '0');
    parentPort.postMessage({ t: 'done', id: m.id, sum });
    job = null;
  }
});
`;

interface Crew {
  ring: SharedArrayBuffer;
  bytes: Uint8Array;
  workers: Record<Algo, Worker>;
  /** Set when any of its workers exited; a dead crew is never handed out again. */
  dead: boolean;
}

const idleCrews: Crew[] = [];
let nextJob = 1;

function spawnCrew(): Crew {
  const ring = new SharedArrayBuffer(SLOT * RING_SLOTS);
  const workers = {} as Record<Algo, Worker>;
  const crew: Crew = { ring, bytes: new Uint8Array(ring), workers, dead: false };
  for (const algo of ALGOS) {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { algo, ring } });
    w.unref();
    w.once('exit', () => {
      crew.dead = true;
    });
    workers[algo] = w;
  }
  return crew;
}

function terminate(crew: Crew): void {
  for (const w of Object.values(crew.workers)) void w.terminate();
}

/** Terminates the idle crews (storage close). */
export async function closeHashWorkers(): Promise<void> {
  await Promise.all(idleCrews.splice(0).flatMap((c) => Object.values(c.workers).map((w) => w.terminate())));
}

type Msg = { t: 'ack'; id: number; slot: number } | { t: 'done'; id: number; sum: string };

/** One upload's hashing job. Call `push` for every chunk in order, then `finish` once (or `abandon`). */
export class OffloadedHash {
  private readonly crew: Crew;
  private readonly id = nextJob++;
  /** Acks still awaited per slot (0 = free). */
  private readonly pending = new Array<number>(RING_SLOTS).fill(0);
  private slot = 0;
  private fill = 0;
  private waiting: (() => void) | null = null;
  private readonly sums: Partial<Record<Algo, string>> = {};
  private readonly result: Promise<Required<Checksums>>;
  private resolveResult!: (c: Required<Checksums>) => void;
  private rejectResult!: (e: Error) => void;
  private failed: Error | null = null;
  private settled = false;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly listeners: Array<[Worker, string, (...args: any[]) => void]> = [];

  constructor() {
    let crew = idleCrews.pop();
    while (crew?.dead) crew = idleCrews.pop();
    this.crew = crew ?? spawnCrew();
    this.result = new Promise((res, rej) => {
      this.resolveResult = res;
      this.rejectResult = rej;
    });
    this.result.catch(() => undefined);
    for (const algo of ALGOS) {
      const w = this.crew.workers[algo];
      const onMessage = (m: Msg) => this.onMessage(algo, m);
      const onError = (err: Error) => this.fail(err);
      const onExit = () => this.fail(new Error('a hash worker exited'));
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      this.listeners.push([w, 'message', onMessage], [w, 'error', onError], [w, 'exit', onExit]);
      w.postMessage({ t: 'start', id: this.id });
    }
  }

  private onMessage(algo: Algo, m: Msg): void {
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
    this.sums[algo] = m.sum;
    if (ALGOS.every((a) => this.sums[a] !== undefined)) {
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
    if (reuse && !this.crew.dead && idleCrews.length < MAX_IDLE_CREWS) idleCrews.push(this.crew);
    else terminate(this.crew);
  }

  /** Announces the current slot to the three workers and moves to the next one. */
  private send(): void {
    if (this.fill === 0) return;
    this.pending[this.slot] = ALGOS.length;
    for (const algo of ALGOS) this.crew.workers[algo].postMessage({ t: 'data', id: this.id, slot: this.slot, len: this.fill });
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
    for (const algo of ALGOS) this.crew.workers[algo].postMessage({ t: 'end', id: this.id });
    return this.result;
  }

  /** The job will not be finished (aborted upload): its crew is terminated, not reused. */
  abandon(): void {
    this.release(false);
  }
}
