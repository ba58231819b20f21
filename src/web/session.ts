/**
 * Browser sessions of the web UI: answered from memory, and mirrored to the node's LevelDB (the
 * `web-sessions` sublevel) once attached, so a restart does not log everyone out.
 *
 * A session id is 256 random bits, sent only in an HttpOnly cookie and stored here only as its
 * SHA-256, so a memory dump or a log line never holds a usable id. Each session has its own
 * CSRF token (256 bits) that the UI sends back in `X-CSRF-Token`; it is compared in constant
 * time. Sessions end on logout, after `idleMs` without use, or `maxAgeMs` after login. The
 * mirror holds the same digests, never an id; a session's last use is saved at most once a
 * minute (a restart may then end it up to a minute early, never late).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { LevelMirror } from '../storage/level-mirror.js';

/** How far a session's saved last use may lag behind the real one. */
const SAVE_USE_EVERY_MS = 60_000;

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
  private mirror?: LevelMirror<Session>;
  /** The last use saved to the mirror, per session digest. */
  private readonly savedUse = new Map<string, number>();

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
      // Sessions that end in memory (idle too long, pushed out) end in the mirror too.
      dispose: (_s, key, reason) => {
        if (reason !== 'set') this.forget(key);
      },
    });
  }

  /** Takes in the live sessions `mirror` holds (dropping the ended ones), then saves every change to it. */
  async attach(mirror: LevelMirror<Session>): Promise<void> {
    const now = this.now();
    for (const [key, session] of await mirror.entries()) {
      if (this.ended(session, now)) mirror.del(key);
      else {
        this.sessions.set(key, session, { ttl: Math.max(1, this.idleMs - (now - session.lastUsedAt)) });
        this.savedUse.set(key, session.lastUsedAt);
      }
    }
    await mirror.drain();
    this.mirror = mirror;
  }

  private ended(session: Session, now: number): boolean {
    return now - session.createdAt > this.maxAgeMs || now - session.lastUsedAt > this.idleMs;
  }

  private save(key: string, session: Session): void {
    this.savedUse.set(key, session.lastUsedAt);
    this.mirror?.put(key, { ...session });
  }

  private forget(key: string): void {
    if (!this.savedUse.delete(key)) return;
    this.mirror?.del(key);
  }

  /** Starts a session for `user`; returns the cookie value (never stored) and the session. */
  create(user: string): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const now = this.now();
    const session: Session = { user, csrfToken: randomBytes(32).toString('base64url'), createdAt: now, lastUsedAt: now };
    const key = digest(id);
    this.sessions.set(key, session);
    this.save(key, session);
    return { id, session };
  }

  /** The live session for a cookie value, or undefined (unknown, idle too long, or too old). */
  get(id: string | undefined): Session | undefined {
    if (!id || id.length > 100) return undefined;
    const key = digest(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    const now = this.now();
    if (this.ended(session, now)) {
      this.sessions.delete(key);
      return undefined;
    }
    session.lastUsedAt = now;
    if (now - (this.savedUse.get(key) ?? 0) >= SAVE_USE_EVERY_MS) this.save(key, session);
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
