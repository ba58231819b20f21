/**
 * Deleted items stay in the trash for the configured number of days (`trashRetentionDays`), then
 * go for good: without it the trash, which counts against no quota, would grow without bound.
 * One sweep at open and one an hour (or `intervalMs`); each reads the trash index of every user
 * and purges what is older than the retention, item by item under the user's lock (purgeTrash),
 * oldest first. A sweep that fails on one item logs it and goes on; closing waits for a sweep
 * under way and stops the next.
 */
import type { Logger } from '../log.js';
import type { HomeContext } from './home.js';
import type { MetaStore } from './meta-store.js';
import { purgeTrash } from './trash.js';

const HOUR = 3600_000;

export interface TrashExpiryOptions {
  store: MetaStore;
  log: Logger;
  contextFor(user: string): HomeContext;
  /** Days a deleted item is kept; 0 = for ever (no sweep). */
  retentionDays: number;
  intervalMs?: number;
}

export class TrashExpiry {
  /** Items purged since the start (for /metrics). */
  purged = 0;
  private timer?: NodeJS.Timeout;
  private sweeping: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: TrashExpiryOptions) {}

  start(): void {
    if (this.options.retentionDays <= 0) return;
    this.kick();
    this.timer = setInterval(() => this.kick(), this.options.intervalMs ?? HOUR);
    this.timer.unref();
  }

  /** Runs a sweep now, unless one is under way; resolves when it is done. */
  sweep(): Promise<void> {
    this.kick();
    return this.sweeping ?? Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.sweeping;
  }

  private kick(): void {
    if (this.closed || this.sweeping) return;
    this.sweeping = this.run().finally(() => {
      this.sweeping = null;
    });
  }

  private async run(): Promise<void> {
    const { store, log, contextFor, retentionDays } = this.options;
    if (retentionDays <= 0) return;
    const before = Date.now() - retentionDays * 24 * HOUR;
    const expired: Array<{ user: string; key: string; deletedAt: number }> = [];
    try {
      for await (const [k, item] of store.trash.iterator()) {
        if (item.deletedAt < before) expired.push({ user: k.slice(0, k.lastIndexOf(':')), key: item.key, deletedAt: item.deletedAt });
      }
    } catch (err) {
      if (!this.closed) log.warn({ err }, 'reading the trash for expired items failed');
      return;
    }
    expired.sort((a, b) => a.deletedAt - b.deletedAt);
    let n = 0;
    for (const e of expired) {
      if (this.closed) break;
      try {
        await purgeTrash(contextFor(e.user), e.key);
        n++;
        this.purged++;
      } catch (err) {
        log.warn({ err, user: e.user, key: e.key }, 'purging an expired trash item failed');
      }
    }
    if (n) log.info({ purged: n, retentionDays }, 'purged expired items from the trash');
  }
}
