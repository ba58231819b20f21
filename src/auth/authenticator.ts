/**
 * Who is calling: HTTP Basic with a user's password, or with the node's loopbackSecret in place
 * of the password (the GUI and CLI of this site act for any local user that way).
 *
 * Contract of `basic(ctx)`:
 *  - no or malformed `Authorization: Basic` → UnauthorizedError with
 *    `WWW-Authenticate: Basic realm="meshdav", charset="UTF-8"`;
 *  - wrong password or unknown user → the same UnauthorizedError, and a failure is counted per
 *    client address and per user name (config.loginThrottle);
 *  - over the limit for either key → TooManyRequestsError (429, Retry-After), checked before the
 *    password, so even a right password is refused until the window has passed;
 *  - `ctx.state.sessionUser.name` (set only by the web UI's session middleware after its cookie,
 *    CSRF and Origin checks) of an existing user is accepted without an Authorization header.
 * Secrets are compared in constant time; nothing here logs a password.
 */
import type { Context } from 'koa';
import type { Config } from '../config.js';
import { UnauthorizedError } from '../errors.js';
import type { User, UserStore } from './user-store.js';
import { LoginThrottle } from './throttle.js';
import { secretsEqual } from './secrets.js';

export const WWW_AUTHENTICATE = 'Basic realm="meshdav", charset="UTF-8"';

export interface Credentials {
  name: string;
  secret: string;
}

export interface LoginOptions {
  /** Client address for per-address throttling; omit when the caller is a proxy for many users (revad). */
  address?: string;
  /** Headers for the UnauthorizedError (Basic sets WWW-Authenticate). */
  challenge?: boolean;
}

export class Authenticator {
  readonly throttle: LoginThrottle;

  constructor(
    private readonly users: UserStore,
    private readonly config: Pick<Config, 'loopbackSecret' | 'loginThrottle'>,
    throttle?: LoginThrottle,
  ) {
    this.throttle = throttle ?? new LoginThrottle(config.loginThrottle.maxFailures, config.loginThrottle.windowSeconds);
  }

  /** Authenticates the request's HTTP Basic credentials (see the module contract). */
  async basic(ctx: Context): Promise<User> {
    // A browser session already validated by src/web/session-auth.ts (cookie + CSRF + Origin).
    const session = (ctx.state as { sessionUser?: { name?: string } }).sessionUser;
    if (session?.name) {
      const user = await this.users.get(session.name);
      if (user) return user;
    }
    const creds = parseBasic(ctx.get('authorization'));
    if (!creds) throw unauthorized(true, 'authentication required');
    return this.login(creds, { address: ctx.ip, challenge: true });
  }

  /**
   * Checks a user name and a secret (the user's password or the loopback secret) with the same
   * throttling as `basic`. Returns the user; UnauthorizedError / TooManyRequestsError otherwise.
   */
  async login(creds: Credentials, options: LoginOptions = {}): Promise<User> {
    const keys = [`user:${creds.name.toLowerCase()}`];
    if (options.address) keys.push(`addr:${options.address}`);
    this.throttle.check(keys);
    // A password verified moments ago (WebDAV clients send it with every request) needs neither
    // the loopback comparison nor scrypt.
    let user: User | null | undefined = this.users.recentlyVerified(creds.name, creds.secret);
    if (user) {
      this.throttle.clear(keys[0]!);
      return user;
    }
    if (secretsEqual(creds.secret, this.config.loopbackSecret)) {
      user = await this.users.get(creds.name);
    } else {
      user = await this.users.verifyPassword(creds.name, creds.secret);
    }
    if (!user) {
      this.throttle.fail(keys);
      throw unauthorized(options.challenge ?? false, 'wrong user name or password');
    }
    this.throttle.clear(keys[0]!);
    return user;
  }
}

/** Parses `Basic base64(name:secret)`; undefined when absent or malformed. */
export function parseBasic(header: string | undefined): Credentials | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { name: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

function unauthorized(challenge: boolean, message: string): UnauthorizedError {
  return new UnauthorizedError(message, challenge ? { headers: { 'WWW-Authenticate': WWW_AUTHENTICATE } } : {});
}
