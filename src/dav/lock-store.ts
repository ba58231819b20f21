/**
 * WebDAV locks kept across restarts: the `dav-locks` sublevel of the node's LevelDB, key
 * `{lockScope}\0{token}`. A client that locked a file before a restart (an office suite holding
 * a document open, a sync client's lock) still holds it afterwards, as with Apache mod_dav's lock
 * database or sabre/dav's PDO backend.
 *
 * Contracts: the LockManager stays the one synchronous authority; this store mirrors its changes
 * (LevelMirror: in order, off the request path, a failed write logged). `load` returns the locks
 * not yet expired and deletes the others; `drain` waits for the writes made so far.
 */
import type { Level } from 'level';
import type { Logger } from '../log.js';
import { LevelMirror } from '../storage/level-mirror.js';
import type { Lock } from './locks.js';

export interface StoredLock {
  lockScope: string;
  lock: Lock;
}

export class LockStore {
  private readonly mirror: LevelMirror<Lock>;

  constructor(db: Level<string, unknown>, log?: Logger) {
    this.mirror = new LevelMirror<Lock>(db, 'dav-locks', 'a WebDAV lock', log);
  }

  put(lockScope: string, lock: Lock): void {
    this.mirror.put(key(lockScope, lock.token), { ...lock });
  }

  del(lockScope: string, token: string): void {
    this.mirror.del(key(lockScope, token));
  }

  /** The locks still valid at `now`; expired ones are deleted. */
  async load(now: number): Promise<StoredLock[]> {
    const out: StoredLock[] = [];
    for (const [k, lock] of await this.mirror.entries()) {
      // JSON has no Infinity: an infinite lock's `expires` comes back as null.
      const expires = lock.expires ?? Infinity;
      if (expires <= now) this.mirror.del(k);
      else out.push({ lockScope: k.slice(0, k.indexOf('\0')), lock: { ...lock, expires } });
    }
    await this.mirror.drain();
    return out;
  }

  drain(): Promise<void> {
    return this.mirror.drain();
  }
}

function key(lockScope: string, token: string): string {
  return `${lockScope}\0${token}`;
}
