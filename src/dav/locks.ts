/**
 * WebDAV locks (RFC 4918 §6–7), keyed by lock scope (a user's home, a share) and path: held in
 * memory, where every check is answered, and mirrored to a LockStore when one is attached (the
 * node's LevelDB: locks outlive a restart).
 *
 * Contract: `create` refuses a conflicting lock with LockedError (`no-conflicting-lock`);
 * `assertCanModify` throws LockedError (`lock-token-submitted`, with the locked hrefs' paths in the
 * message) when a path that a lock covers is changed without one of that lock's tokens among the
 * submitted ones. Expired locks vanish lazily on every access. Locks do not follow a MOVE: the
 * caller drops them with `removeTree`.
 */
import { randomUUID } from 'node:crypto';
import { isWithin } from '../fs/path.js';
import { LockedError, PreconditionFailedError } from '../errors.js';
import type { LockStore } from './lock-store.js';

export type LockScopeKind = 'exclusive' | 'shared';
export type LockDepth = 0 | 'infinity';

export interface Lock {
  token: string;
  /** Path (inside the Fs) the lock was taken on. */
  root: string;
  scope: LockScopeKind;
  depth: LockDepth;
  /** The client's <D:owner> content as an XML fragment ('' if none). */
  owner: string;
  /** Seconds; null = Infinite. */
  timeout: number | null;
  /** ms since the epoch; Infinity for infinite locks. */
  expires: number;
  /** User who took the lock, where known. */
  principal?: string;
}

/** Longest timeout granted; clients asking for more (or Infinite) get this. */
export const MAX_TIMEOUT_S = 7 * 24 * 3600;
export const DEFAULT_TIMEOUT_S = 3600;
const MAX_LOCKS_PER_SCOPE = 10_000;

/** Parses a `Timeout:` header (`Second-600, Infinite`); returns seconds, capped. */
export function parseTimeout(header: string | undefined): number {
  if (!header) return DEFAULT_TIMEOUT_S;
  for (const part of header.split(',')) {
    const t = part.trim();
    if (/^infinite$/i.test(t)) return MAX_TIMEOUT_S;
    const m = /^second-(\d{1,12})$/i.exec(t);
    if (m) return Math.max(1, Math.min(Number(m[1]), MAX_TIMEOUT_S));
  }
  return DEFAULT_TIMEOUT_S;
}

export class LockManager {
  /** lockScope → token → lock */
  private readonly scopes = new Map<string, Map<string, Lock>>();
  private store?: LockStore;

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes in the unexpired locks `store` holds, then mirrors every change to it. */
  async attach(store: LockStore): Promise<void> {
    for (const { lockScope, lock } of await store.load(this.now())) this.scope(lockScope).set(lock.token, lock);
    this.store = store;
  }

  private scope(lockScope: string): Map<string, Lock> {
    let t = this.scopes.get(lockScope);
    if (!t) {
      t = new Map();
      this.scopes.set(lockScope, t);
    }
    return t;
  }

  private table(lockScope: string): Map<string, Lock> {
    const t = this.scope(lockScope);
    const now = this.now();
    for (const [token, lock] of t) if (lock.expires <= now) this.drop(lockScope, t, token);
    return t;
  }

  private drop(lockScope: string, t: Map<string, Lock>, token: string): void {
    t.delete(token);
    this.store?.del(lockScope, token);
  }

  /** Locks whose scope covers `path`: on it, or depth-infinity on an ancestor. */
  locksOn(lockScope: string, path: string): Lock[] {
    const t = this.scopes.get(lockScope);
    if (!t || t.size === 0) return [];
    return [...this.table(lockScope).values()].filter((l) => covers(l, path));
  }

  /** Locks rooted at `path` or anywhere below it. */
  locksBelow(lockScope: string, path: string): Lock[] {
    const t = this.scopes.get(lockScope);
    if (!t || t.size === 0) return [];
    return [...this.table(lockScope).values()].filter((l) => isWithin(l.root, path));
  }

  get(lockScope: string, token: string): Lock | undefined {
    const t = this.scopes.get(lockScope);
    if (!t) return undefined;
    return this.table(lockScope).get(token);
  }

  /** true when a lock with this token exists and covers `path`. */
  tokenCovers(lockScope: string, token: string, path: string): boolean {
    const l = this.get(lockScope, token);
    return l !== undefined && covers(l, path);
  }

  create(
    lockScope: string,
    req: { root: string; scope: LockScopeKind; depth: LockDepth; owner: string; timeout: number; principal?: string },
  ): Lock {
    const t = this.table(lockScope);
    const affected = new Set([...this.locksOn(lockScope, req.root), ...(req.depth === 'infinity' ? this.locksBelow(lockScope, req.root) : [])]);
    for (const other of affected) {
      if (other.scope === 'exclusive' || req.scope === 'exclusive') {
        throw new LockedError(`${other.root} is already locked`, { davCondition: 'no-conflicting-lock' });
      }
    }
    if (t.size >= MAX_LOCKS_PER_SCOPE) throw new LockedError('too many locks', { davCondition: 'no-conflicting-lock' });
    const lock: Lock = {
      token: `opaquelocktoken:${randomUUID()}`,
      root: req.root,
      scope: req.scope,
      depth: req.depth,
      owner: req.owner,
      timeout: req.timeout,
      expires: this.now() + req.timeout * 1000,
      principal: req.principal,
    };
    t.set(lock.token, lock);
    this.store?.put(lockScope, lock);
    return lock;
  }

  /** Restarts the timer of the lock; PreconditionFailedError (`lock-token-matches-request-uri`) if it does not cover `path`. */
  refresh(lockScope: string, token: string, path: string, timeout: number): Lock {
    const l = this.get(lockScope, token);
    if (!l || !covers(l, path)) {
      throw new PreconditionFailedError('no such lock on this resource', { davCondition: 'lock-token-matches-request-uri' });
    }
    l.timeout = timeout;
    l.expires = this.now() + timeout * 1000;
    this.store?.put(lockScope, l);
    return l;
  }

  /** Removes the lock; false when no such lock covers `path`. */
  remove(lockScope: string, token: string, path: string): boolean {
    const l = this.get(lockScope, token);
    if (!l || !covers(l, path)) return false;
    this.drop(lockScope, this.scopes.get(lockScope)!, token);
    return true;
  }

  /** Drops every lock rooted at or below `path` (after DELETE, and on the source of a MOVE). */
  removeTree(lockScope: string, path: string): void {
    const t = this.scopes.get(lockScope);
    if (!t) return;
    for (const [token, l] of t) if (isWithin(l.root, path)) this.drop(lockScope, t, token);
  }

  /**
   * Throws LockedError unless every lock that protects a change at `path` has a token in
   * `submitted`. `deep` also checks locks below `path` (DELETE/MOVE of a folder, PUT over one);
   * `member` means a member is added or removed at `path`, which a depth-0 lock on its parent
   * collection also protects.
   */
  assertCanModify(lockScope: string, path: string, submitted: ReadonlySet<string>, opts: { deep?: boolean; member?: boolean } = {}): void {
    const t = this.scopes.get(lockScope);
    if (!t || t.size === 0) return;
    const relevant = new Set(this.locksOn(lockScope, path));
    if (opts.deep) for (const l of this.locksBelow(lockScope, path)) relevant.add(l);
    if (opts.member && path !== '/') {
      const parent = path.slice(0, path.lastIndexOf('/')) || '/';
      for (const l of this.locksOn(lockScope, parent)) relevant.add(l);
    }
    // One token of a set of shared locks is enough; an exclusive lock needs its own.
    const sharedHeld = [...relevant].some((l) => l.scope === 'shared' && submitted.has(l.token));
    for (const l of relevant) {
      if (!submitted.has(l.token) && !(l.scope === 'shared' && sharedHeld)) {
        throw new LockedError(`${l.root} is locked`, { davCondition: 'lock-token-submitted' });
      }
    }
  }
}

function covers(l: Lock, path: string): boolean {
  return l.root === path || (l.depth === 'infinity' && isWithin(path, l.root));
}
