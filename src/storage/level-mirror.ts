/**
 * A LevelDB sublevel that mirrors state whose authority is in memory (WebDAV locks, web UI
 * sessions): every check is answered from memory, and the mirror only makes the state outlive
 * a restart.
 *
 * Contracts: writes are applied in the order they were made, one at a time, off the request
 * path; a failed write is logged (with `what` naming the state) and fails nothing, the state then
 * holds until the process ends. `entries` reads everything; `drain` resolves once the writes
 * made so far are applied.
 */
import type { Level } from 'level';
import type { Logger } from '../log.js';

export class LevelMirror<V> {
  private readonly sub;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    db: Level<string, unknown>,
    name: string,
    private readonly what: string,
    private readonly log?: Logger,
  ) {
    this.sub = db.sublevel<string, V>(name, { valueEncoding: 'json' });
  }

  put(key: string, value: V): void {
    this.apply(() => this.sub.put(key, value));
  }

  del(key: string): void {
    this.apply(() => this.sub.del(key));
  }

  /** Every entry, in key order. */
  entries(): Promise<Array<[string, V]>> {
    return this.sub.iterator().all();
  }

  /** Resolves once every write made so far has been applied (or logged as failed). */
  drain(): Promise<void> {
    return this.tail;
  }

  private apply(op: () => Promise<void>): void {
    this.tail = this.tail.then(op).catch((err: unknown) => {
      this.log?.warn({ err }, `a change to ${this.what} could not be saved; it holds until the node stops`);
    });
  }
}
