/**
 * Browser sessions of the web UI, kept in memory (a restart logs everyone out).
 *
 * A session id is 256 random bits, sent only in an HttpOnly cookie and stored here only as its
 * SHA-256, so a memory dump or a log line never holds a usable id. Each session has its own
 * CSRF token (256 bits) that the UI sends back in `X-CSRF-Token`; it is compared in constant
 * time. Sessions end on logout, after `idleMs` without use, or `maxAgeMs` after login.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export interface Session {
  user: string;
  csrfToken: string;
  createdAt: number;
  lastUsedAt: number;
}

export interface SessionStoreOptions {
  idleMs?: number;
  maxAgeMs?: number;
  /** Most sessions kept at once; the least recently used goes first. */
  max?: number;
  now?: () => number;
}

function digest(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

export class SessionStore {
  readonly idleMs: number;
  readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly sessions: LRUCache<string, Session>;

  constructor(options: SessionStoreOptions = {}) {
    this.idleMs = options.idleMs ?? 2 * 60 * 60 * 1000;
    this.maxAgeMs = options.maxAgeMs ?? 12 * 60 * 60 * 1000;
    this.now = options.now ?? Date.now;
    this.sessions = new LRUCache<string, Session>({
      // maxSize (one unit per session) bounds it like `max` without preallocating its arrays.
      maxSize: options.max ?? 10_000,
      sizeCalculation: () => 1,
      ttl: this.idleMs,
      updateAgeOnGet: true,
      ttlResolution: 0,
      perf: { now: () => this.now() },
    });
  }

  /** Starts a session for `user`; returns the cookie value (never stored) and the session. */
  create(user: string): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const now = this.now();
    const session: Session = { user, csrfToken: randomBytes(32).toString('base64url'), createdAt: now, lastUsedAt: now };
    this.sessions.set(digest(id), session);
    return { id, session };
  }

  /** The live session for a cookie value, or undefined (unknown, idle too long, or too old). */
  get(id: string | undefined): Session | undefined {
    if (!id || id.length > 100) return undefined;
    const key = digest(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    const now = this.now();
    if (now - session.createdAt > this.maxAgeMs || now - session.lastUsedAt > this.idleMs) {
      this.sessions.delete(key);
      return undefined;
    }
    session.lastUsedAt = now;
    return session;
  }

  destroy(id: string | undefined): void {
    if (id) this.sessions.delete(digest(id));
  }

  /** Ends every session of a user (e.g. after a password change). */
  destroyUser(user: string): void {
    for (const [key, s] of this.sessions.entries()) if (s.user === user) this.sessions.delete(key);
  }

  /** Whether `token` is this session's CSRF token (constant time). */
  checkCsrf(session: Session, token: string | undefined): boolean {
    return typeof token === 'string' && token.length > 0 && constantTimeEqual(token, session.csrfToken);
  }
}
