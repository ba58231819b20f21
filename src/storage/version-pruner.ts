/**
 * Drops old versions beyond maxVersions in the background, after a write has answered. Requests
 * are coalesced: a file waits in the queue at most once, and one loop per storage works through
 * the queue, file by file (a file queued again while it is being pruned is pruned once more).
 *
 * Before, every overwrite queued its own prune on a promise chain. Under a sustained overwrite
 * load pruning falls behind (each prune reads the file's version records and unlinks files), so
 * the chain grew without bound: 200 clients overwriting their files built ~14,000 pending prunes
 * in two minutes, and the heap, RSS and the versions on disk grew with them. Coalesced, the
 * queue is bounded by the number of files written since the loop last reached them.
 */
import type { HomeContext } from './home.js';
import { pruneVersions } from './versions.js';

export class VersionPruner {
  private readonly pending = new Map<string, { home: HomeContext; id: string }>();
  private loop: Promise<void> | null = null;
  private closed = false;

  /** Files waiting to be pruned (for tests and metrics). */
  get queued(): number {
    return this.pending.size;
  }

  /**
   * Prunes file `id` of `home` soon; a no-op when it is already waiting, or once closed (a write
   * that ends while the storage closes leaves its extra version for the file's next overwrite to
   * prune, instead of pruning against a closing database).
   */
  schedule(home: HomeContext, id: string): void {
    if (this.closed) return;
    const key = `${home.user}/${id}`;
    if (this.pending.has(key)) return;
    this.pending.set(key, { home, id });
    this.loop ??= this.run();
  }

  /** Resolves once the queue is empty. */
  async drain(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /** Takes no more files, and resolves once the queue is empty (storage close). */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  private async run(): Promise<void> {
    try {
      // A Map iterator visits entries added while it runs, so files queued meanwhile are reached.
      for (const [key, { home, id }] of this.pending) {
        this.pending.delete(key);
        await pruneVersions(home, id).catch((err: unknown) => home.log.warn({ err, user: home.user, fileId: id }, 'pruning old versions failed'));
      }
    } finally {
      this.loop = null;
    }
  }
}
