/**
 * Fetches again, in the background, the chunks a read could not cache.
 *
 * Why: a cold read never waits for the disk (chunk-store.ts). When the cache disk is slower than
 * the network, a fetched chunk that finds the disk write queue full is dropped, and a lone
 * stream's read left its file with holes: the next read of the file fetched those chunks from the
 * sender again, at the sender's speed (on the benchmark's fresh node, 8 to 15 chunks of a 1 GiB
 * file). Now each dropped chunk is queued here and fetched again once the store is quiet (no claim
 * in flight, nothing waiting to be written), one chunk at a time, so the work never competes with
 * a reader, and the file is whole in the cache shortly after its first read.
 *
 * Contracts: a chunk is queued once (by key) and at most MAX_JOBS are queued (more are not
 * cached, as before); a job fetches nothing when its chunk was stored or claimed meanwhile; a job
 * that fails (the file changed: 412; the sender is down) is dropped, not retried; a chunk a job
 * fetched that still finds the write queue full waits in memory for it; `close` abandons the
 * queue and aborts the job in flight.
 */
import type { ChunkStore, ClaimRun } from './chunk-store.js';

/** Chunks queued at most (4 GiB of 4 MiB chunks). */
const MAX_JOBS = 1024;

/**
 * Fetches one chunk into the store as one claim of `run` (chunk-reader.ts `refetch`): true when
 * it was fetched and kept, false when there was nothing to do.
 */
export type RefillFetch = (run: ClaimRun, signal: AbortSignal) => Promise<boolean>;

export interface RefillStats {
  /** Chunks fetched again and cached. */
  refilled: number;
  /** Jobs that failed (their chunk stays uncached). */
  failed: number;
}

export class ChunkRefill {
  private readonly jobs = new Map<string, RefillFetch>();
  private running = false;
  private closed = false;
  private readonly ac = new AbortController();
  private idleWaiters: (() => void)[] = [];
  readonly stats: RefillStats = { refilled: 0, failed: 0 };

  constructor(private readonly store: ChunkStore) {}

  /** Queues the chunk under `key` to be fetched again by `fetch`. */
  add(key: string, fetch: RefillFetch): void {
    if (this.closed || this.jobs.has(key) || this.jobs.size >= MAX_JOBS) return;
    this.jobs.set(key, fetch);
    void this.drain();
  }

  /** Resolves once the queue is empty and no job runs (for tests and shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.jobs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.jobs.clear();
    this.ac.abort();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.closed) {
        await this.store.quiet();
        const next = this.jobs.entries().next();
        if (next.done || this.closed) break;
        const [key, fetch] = next.value;
        this.jobs.delete(key);
        try {
          // A run marked followed: should the write queue be full again, the chunk waits in memory.
          if (await fetch({ followed: true }, this.ac.signal)) this.stats.refilled++;
        } catch {
          this.stats.failed++;
        }
      }
    } finally {
      this.running = false;
      if (this.jobs.size === 0 || this.closed) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }
}
