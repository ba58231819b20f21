/**
 * The local users of a node, kept in the `users` sublevel of the node's LevelDB.
 * Passwords are stored only as scrypt hashes (node:crypto) with a per-user random salt and are
 * compared in constant time. A short-lived in-memory memo of successful verifications keeps
 * per-request Basic auth (WebDAV clients send it on every request) from paying scrypt each time;
 * it holds keyed hashes, never passwords, and is dropped on every password change.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, createHmac, type ScryptOptions } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { Db } from '../services.js';
import { AlreadyExistsError, BadRequestError, NotFoundError } from '../errors.js';

export interface User {
  name: string;
  email?: string;
  displayName?: string;
  /** ms since the epoch */
  createdAt: number;
}

export interface NewUser {
  name: string;
  password: string;
  email?: string;
  displayName?: string;
}

interface PasswordHash {
  algo: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string; // base64
  hash: string; // base64
}

interface UserRecord extends User {
  password: PasswordHash;
  /**
   * Being removed since (ms): the user is unknown to every lookup and login from then on, while
   * their data goes (user-removal.ts); the record itself goes last, and an interrupted removal is
   * finished by running it again.
   */
  removing?: number;
}

export const USER_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$/;

const newUserSchema = z.object({
  name: z.string().regex(USER_NAME_RE, 'user name must match ^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$'),
  password: z.string().min(1, 'password must not be empty').max(1024, 'password too long'),
  email: z.string().max(254).email('not a valid e-mail address').optional(),
  displayName: z.string().max(256).optional(),
});

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;
const VERIFIED_TTL_MS = 5 * 60_000;

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keylen, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return { algo: 'scrypt', N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt: salt.toString('base64'), hash: hash.toString('base64') };
}

function publicUser(rec: UserRecord): User {
  const out: User = { name: rec.name, createdAt: rec.createdAt };
  if (rec.email) out.email = rec.email;
  if (rec.displayName) out.displayName = rec.displayName;
  return out;
}

function zodMessage(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
}

/**
 * At most 10,000 entries each. Bounded by `maxSize` (one unit per entry) rather than `max`, which
 * would preallocate arrays for all 10,000 at start-up.
 */
const BOUNDED = { maxSize: 10_000, sizeCalculation: () => 1, ttl: VERIFIED_TTL_MS };

export class UserStore {
  private readonly db;
  /**
   * HMAC(name:password) under a per-process key → the user; only successful verifications. A hit
   * touches no LevelDB (Basic auth runs on every DAV request). Cleared on every password change.
   */
  private readonly verified = new LRUCache<string, User>(BOUNDED);
  /** Existing users by name (lookups for the loopback secret, EFSS uid checks); cleared on every write. */
  private readonly known = new LRUCache<string, User>(BOUNDED);
  private readonly memoKey = randomBytes(32);
  private readonly inFlight = new Map<string, Promise<boolean>>();
  /** Serialises writes so that add() can check-then-put without a race. */
  private writing: Promise<unknown> = Promise.resolve();
  /** Called with the user name after a password change (e.g. to end that user's web sessions). */
  private readonly passwordListeners = new Set<(name: string) => void>();

  constructor(db: Db) {
    this.db = db.sublevel<string, UserRecord>('users', { valueEncoding: 'json' });
  }

  /** Creates a user. BadRequestError for an invalid name/e-mail/password; AlreadyExistsError on a duplicate name. */
  async add(input: NewUser): Promise<User> {
    const parsed = newUserSchema.safeParse(input);
    if (!parsed.success) throw new BadRequestError(zodMessage(parsed.error));
    const { name, password, email, displayName } = parsed.data;
    const password_ = await hashPassword(password);
    return this.serial(async () => {
      if (await this.db.get(name)) throw new AlreadyExistsError(`user "${name}" already exists`);
      const rec: UserRecord = { name, createdAt: Date.now(), password: password_ };
      if (email) rec.email = email;
      if (displayName) rec.displayName = displayName;
      await this.db.put(name, rec);
      return publicUser(rec);
    });
  }

  /** The user, or undefined. Never throws for an unknown or malformed name. */
  async get(name: string): Promise<User | undefined> {
    if (typeof name !== 'string' || !USER_NAME_RE.test(name)) return undefined;
    const cached = this.known.get(name);
    if (cached) return { ...cached };
    const rec = await this.db.get(name);
    if (!rec || rec.removing) return undefined;
    const user = publicUser(rec);
    this.known.set(name, user);
    return { ...user };
  }

  /** Every user, ordered by name. */
  async list(): Promise<User[]> {
    const out: User[] = [];
    for await (const rec of this.db.values()) if (!rec.removing) out.push(publicUser(rec));
    return out;
  }

  /** Whether at least one user exists. */
  async hasUsers(): Promise<boolean> {
    for await (const _ of this.db.keys({ limit: 1 })) return true;
    return false;
  }

  /**
   * The user when `password` was verified as theirs within the last few minutes (and not changed
   * since), else undefined. Synchronous and cheap: no scrypt, no LevelDB.
   */
  recentlyVerified(name: string, password: string): User | undefined {
    if (typeof password !== 'string' || password.length === 0 || password.length > 1024) return undefined;
    const hit = this.verified.get(this.memo(name, password));
    return hit ? { ...hit } : undefined;
  }

  /** The user when `password` is theirs, else null (unknown users cost the same scrypt time). */
  async verifyPassword(name: string, password: string): Promise<User | null> {
    if (typeof password !== 'string' || password.length === 0 || password.length > 1024) return null;
    const memo = this.memo(name, password);
    const hit = this.verified.get(memo);
    if (hit) return { ...hit };
    const rec = USER_NAME_RE.test(name) ? await this.db.get(name) : undefined;
    // Concurrent first requests with the same credentials (a client opening many connections)
    // share one scrypt run.
    let pending = this.inFlight.get(memo);
    if (!pending) {
      pending = this.check(password, rec?.password ?? DUMMY).finally(() => this.inFlight.delete(memo));
      this.inFlight.set(memo, pending);
    }
    const ok = (await pending) && rec !== undefined && !rec.removing;
    if (!ok || !rec) return null;
    const user = publicUser(rec);
    this.verified.set(memo, user);
    return { ...user };
  }

  private async check(password: string, stored: PasswordHash): Promise<boolean> {
    const salt = Buffer.from(stored.salt, 'base64');
    const expected = Buffer.from(stored.hash, 'base64');
    const actual = await scrypt(password, salt, expected.length, { N: stored.N, r: stored.r, p: stored.p });
    return timingSafeEqual(actual, expected);
  }

  /** Replaces a user's password. NotFoundError for an unknown user. */
  async setPassword(name: string, password: string): Promise<void> {
    const parsed = newUserSchema.shape.password.safeParse(password);
    if (!parsed.success) throw new BadRequestError(zodMessage(parsed.error));
    const hash = await hashPassword(password);
    await this.change(name, (rec) => this.db.put(name, { ...rec, password: hash }), { endSessions: true });
  }

  /**
   * Starts removing a user (user-removal.ts): from now on they are unknown to `get`, `list`,
   * `search` and logins, and their web sessions end. NotFoundError when there is no such record;
   * a user already being removed stays so.
   */
  async markRemoving(name: string): Promise<void> {
    await this.change(name, async (rec) => {
      if (!rec.removing) await this.db.put(name, { ...rec, removing: Date.now() });
    }, { endSessions: true });
  }

  /** Deletes a user's record, last step of a removal. NotFoundError when there is none. */
  async remove(name: string): Promise<void> {
    await this.change(name, () => this.db.del(name), { endSessions: false });
  }

  /**
   * Changes user `name`'s record with `fn` (one change at a time; NotFoundError when there is
   * no record), then forgets what was cached of them; `endSessions` tells the password listeners
   * (their web sessions end).
   */
  private async change(name: string, fn: (rec: UserRecord) => Promise<unknown>, opts: { endSessions: boolean }): Promise<void> {
    await this.serial(async () => {
      const rec = USER_NAME_RE.test(name) ? await this.db.get(name) : undefined;
      if (!rec) throw new NotFoundError(`no user "${name}"`);
      await fn(rec);
    });
    this.verified.clear();
    this.known.delete(name);
    if (opts.endSessions) for (const listener of this.passwordListeners) listener(name);
  }

  /** Subscribes to password changes (and removals); returns the unsubscribe function. */
  onPasswordChange(listener: (name: string) => void): () => void {
    this.passwordListeners.add(listener);
    return () => this.passwordListeners.delete(listener);
  }

  /**
   * Users whose name, display name or e-mail starts with `query` (case-insensitive), at most
   * `limit`, ordered by name. An empty query matches everyone.
   */
  async search(query: string, limit = 50): Promise<User[]> {
    const q = query.trim().toLowerCase();
    const out: User[] = [];
    for await (const rec of this.db.values()) {
      if (out.length >= limit) break;
      if (rec.removing) continue;
      const fields = [rec.name, rec.displayName ?? '', rec.email ?? ''].map((s) => s.toLowerCase());
      const words = (rec.displayName ?? '').toLowerCase().split(/\s+/);
      if (q === '' || fields.some((f) => f.startsWith(q)) || words.some((w) => w.startsWith(q))) out.push(publicUser(rec));
    }
    return out;
  }

  private memo(name: string, password: string): string {
    return createHmac('sha256', this.memoKey).update(`${name}\u0000${password}`).digest('base64');
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writing.then(fn, fn);
    this.writing = run.catch(() => undefined);
    return run;
  }
}

/** A fixed hash used for unknown users so that a miss costs as much as a hit. */
const DUMMY: PasswordHash = {
  algo: 'scrypt',
  ...{ N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p },
  salt: Buffer.alloc(16, 7).toString('base64'),
  hash: Buffer.alloc(SCRYPT.keylen, 0).toString('base64'),
};
