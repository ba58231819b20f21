/**
 * Failed-login throttling: at most `maxFailures` failures per key within a fixed window that
 * starts with the first failure. Over the limit, every attempt for that key — even one with the
 * right password — is refused until the window has passed. Bounded in memory (LRU).
 */
import { LRUCache } from 'lru-cache';
import { TooManyRequestsError } from '../errors.js';

interface Window {
  failures: number;
  /** ms since the epoch when the window ends */
  resetAt: number;
}

export class LoginThrottle {
  private readonly windows: LRUCache<string, Window>;

  constructor(
    private readonly maxFailures: number,
    private readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windows = new LRUCache({ maxSize: 50_000, sizeCalculation: () => 1, ttl: windowSeconds * 1000, ttlAutopurge: false });
  }

  /** Throws TooManyRequestsError (with Retry-After) when any of the keys is over the limit. */
  check(keys: string[]): void {
    const now = this.now();
    for (const key of keys) {
      const w = this.windows.get(key);
      if (!w || w.resetAt <= now) continue;
      if (w.failures >= this.maxFailures) {
        const retry = Math.max(1, Math.ceil((w.resetAt - now) / 1000));
        throw new TooManyRequestsError('too many failed logins; try again later', {
          headers: { 'Retry-After': String(retry) },
        });
      }
    }
  }

  fail(keys: string[]): void {
    const now = this.now();
    for (const key of keys) {
      const w = this.windows.get(key);
      if (!w || w.resetAt <= now) this.windows.set(key, { failures: 1, resetAt: now + this.windowSeconds * 1000 });
      else w.failures++;
    }
  }

  clear(key: string): void {
    this.windows.delete(key);
  }
}
