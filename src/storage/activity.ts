/**
 * Transfer activity of one storage: uploads and reads in flight, and when the last one ended.
 * Background work (deferred checksums) waits for a quiet storage so it never competes with
 * people's transfers for the disk and the CPU.
 */
import { streaming } from '../http/gc-pacer.js';

export class Activity {
  private active = 0;
  private lastEnd = 0;
  private waiters = new Set<() => void>();

  /**
   * Marks a transfer as started; the returned function ends it (calling it twice is harmless).
   * A `large` one (an upload of PACED_UPLOAD_BYTES or more, or background work that allocates as
   * it streams) also paces the collector; reads whose chunks are recycled are not large in this
   * sense.
   */
  begin(large = true): () => void {
    this.active++;
    let ended = false;
    const endPacing = large ? streaming() : undefined;
    return () => {
      if (ended) return;
      ended = true;
      endPacing?.();
      this.active--;
      this.lastEnd = Date.now();
      if (this.active === 0) for (const w of [...this.waiters]) w();
    };
  }

  /** true when nothing is in flight and nothing ended in the last `quietMs`. */
  isQuiet(quietMs: number): boolean {
    return this.active === 0 && Date.now() - this.lastEnd >= quietMs;
  }

  /**
   * Resolves once the storage has been quiet for `quietMs`; rejects with the signal's reason
   * when `signal` aborts first.
   */
  async whenQuiet(quietMs: number, signal?: AbortSignal): Promise<void> {
    while (!this.isQuiet(quietMs)) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        const wait = this.active === 0 ? Math.max(1, quietMs - (Date.now() - this.lastEnd)) : quietMs;
        const timer = setTimeout(wake, wait);
        timer.unref();
        this.waiters.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
    signal?.throwIfAborted();
  }
}
