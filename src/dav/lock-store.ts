/**
 * WebDAV locks kept across restarts: the `dav-locks` sublevel of the node's LevelDB, key
 * `{lockScope}\0{token}`. A client that locked a file before a restart (an office suite holding
 * a document open, a sync client's lock) still holds it afterwards, as with Apache mod_dav's lock
 * database or sabre/dav's PDO backend; until now a restart silently unlocked everything.
 *
 * Contracts: the LockManager stays the one synchronous authority (every lock check is a Map
 * lookup); this store only mirrors its changes. Writes are applied in the order they were made,
 * one at a time, off the request path; a failed write is logged and does not fail the request
 * (the lock holds until the process ends). `load` returns the locks not yet expired and deletes
 * the others; `drain` waits for the writes made so far.
 */
import type { Level } from 'level';
import type { Logger } from '../log.js';
import type { Lock } from './locks.js';

type Db = Level<string, unknown>;

export interface StoredLock {
  lockScope: string;
  lock: Lock;
}

export class LockStore {
  private readonly sub;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    db: Db,
    private readonly log?: Logger,
  ) {
    this.sub = db.sublevel<string, Lock>('dav-locks', { valueEncoding: 'json' });
  }

  put(lockScope: string, lock: Lock): void {
    const value = { ...lock };
    this.apply(() => this.sub.put(key(lockScope, lock.token), value));
  }

  del(lockScope: string, token: string): void {
    this.apply(() => this.sub.del(key(lockScope, token)));
  }

  /** The locks still valid at `now`; expired ones are deleted. */
  async load(now: number): Promise<StoredLock[]> {
    const out: StoredLock[] = [];
    const expired: string[] = [];
    for await (const [k, lock] of this.sub.iterator()) {
      // JSON has no Infinity: an infinite lock's `expires` comes back as null.
      const expires = lock.expires ?? Infinity;
      if (expires <= now) expired.push(k);
      else out.push({ lockScope: k.slice(0, k.indexOf('\0')), lock: { ...lock, expires } });
    }
    if (expired.length) await this.sub.batch(expired.map((k) => ({ type: 'del' as const, key: k })));
    return out;
  }

  /** Resolves once every write made so far has been applied (or logged as failed). */
  drain(): Promise<void> {
    return this.tail;
  }

  private apply(op: () => Promise<void>): void {
    this.tail = this.tail.then(op).catch((err: unknown) => {
      this.log?.warn({ err }, 'a WebDAV lock change could not be saved; it holds until the node stops');
    });
  }
}

function key(lockScope: string, token: string): string {
  return `${lockScope}\0${token}`;
}
