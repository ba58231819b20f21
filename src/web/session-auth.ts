/**
 * Lets the browser call this node's own APIs with its session cookie.
 *
 * For `/sciencemesh/*`, `/ocm/send` and the WebDAV homes, a request without an Authorization
 * header but with a live session cookie is marked `ctx.state.sessionUser = { name }`, which
 * `Authenticator.basic` accepts in place of Basic credentials. Methods other than GET/HEAD/OPTIONS
 * must also carry the session's `X-CSRF-Token` (constant-time check) and come from this node's own
 * origin (Origin header, else Sec-Fetch-Site); otherwise ForbiddenError and nothing runs.
 *
 * Requests sent by the UI (`X-Requested-With: meshdav-web`) get their 401s without a
 * `WWW-Authenticate` challenge, so the browser never pops up its own password dialog.
 * WebDAV answers to a session carry `Content-Security-Policy: sandbox`, so a user's HTML file
 * opened in the browser never runs as a page of this site (stored XSS).
 */
import type { Context, Next } from 'koa';
import { createHash } from 'node:crypto';
import { ForbiddenError, MeshdavError, UnauthorizedError } from '../errors.js';
import type { Session, SessionStore } from './session.js';

export const UI_HEADER = 'x-requested-with';
export const UI_HEADER_VALUE = 'meshdav-web';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const DAV_PATH = /^\/remote\.php\//;
const SESSION_PATHS = [
  /^\/sciencemesh(\/|$)/,
  /^\/ocm\/send\/?$/,
  /^\/remote\.php\/dav\/files\/[^/]+(\/|$)/,
  /^\/remote\.php\/dav\/trashbin\/[^/]+(\/|$)/,
  /^\/remote\.php\/dav\/versions\/[^/]+(\/|$)/,
  /^\/remote\.php\/webdav(\/|$)/,
];

export interface SessionUser {
  name: string;
}

/** Cookie name for one node: several nodes on one host (ports share cookies) must not collide. */
export function sessionCookieName(publicUrl: string, secure: boolean): string {
  const tag = createHash('sha256').update(publicUrl).digest('hex').slice(0, 8);
  return secure ? `__Host-meshdav-${tag}` : `meshdav-${tag}`;
}

export class WebSessions {
  constructor(
    readonly store: SessionStore,
    private readonly publicUrl: string,
  ) {}

  /** Secure cookies when the request arrived over https or the node is published as https. */
  isSecure(ctx: Context): boolean {
    return ctx.secure || this.publicUrl.startsWith('https:');
  }

  cookieName(ctx: Context): string {
    return sessionCookieName(this.publicUrl, this.isSecure(ctx));
  }

  /** The cookie value and live session of this request, if any. */
  current(ctx: Context): { id: string; session: Session } | undefined {
    const id = ctx.cookies.get(this.cookieName(ctx));
    const session = this.store.get(id);
    return id && session ? { id, session } : undefined;
  }

  setCookie(ctx: Context, id: string): void {
    const maxAge = Math.floor(this.store.maxAgeMs / 1000);
    ctx.append('Set-Cookie', this.cookie(ctx, `${id}; Max-Age=${maxAge}`));
  }

  clearCookie(ctx: Context): void {
    ctx.append('Set-Cookie', this.cookie(ctx, '; Max-Age=0'));
  }

  private cookie(ctx: Context, rest: string): string {
    const secure = this.isSecure(ctx) ? '; Secure' : '';
    return `${this.cookieName(ctx)}=${rest}; Path=/; HttpOnly; SameSite=Strict${secure}`;
  }

  /** Whether the request comes from a page of this node (Origin, else Sec-Fetch-Site). */
  sameOrigin(ctx: Context): boolean {
    const origin = ctx.get('origin');
    // Not ctx.origin: Koa 3 derives that from the Origin header itself.
    if (origin) return origin === `${ctx.protocol}://${ctx.host}` || origin === new URL(this.publicUrl).origin;
    return ctx.get('sec-fetch-site') === 'same-origin';
  }

  /** Throws ForbiddenError unless an unsafe request carries this session's CSRF token from our origin. */
  assertCsrf(ctx: Context, session: Session): void {
    if (SAFE_METHODS.has(ctx.method)) return;
    if (!this.sameOrigin(ctx)) throw new ForbiddenError('request does not come from this site (Origin)');
    if (!this.store.checkCsrf(session, ctx.get(CSRF_HEADER) || undefined)) {
      throw new ForbiddenError('missing or wrong X-CSRF-Token');
    }
  }

  /** The middleware described in the module comment. */
  middleware() {
    return async (ctx: Context, next: Next): Promise<void> => {
      if (!SESSION_PATHS.some((re) => re.test(ctx.path))) return next();
      if (!ctx.get('authorization')) {
        const current = this.current(ctx);
        if (current) {
          this.assertCsrf(ctx, current.session);
          ctx.state.sessionUser = { name: current.session.user } satisfies SessionUser;
        }
      }
      const fromUi = ctx.get(UI_HEADER) === UI_HEADER_VALUE;
      try {
        await next();
      } catch (err) {
        if (fromUi && err instanceof MeshdavError && err.status === 401) throw new UnauthorizedError(err.message);
        throw err;
      }
      if (ctx.state.sessionUser && DAV_PATH.test(ctx.path)) {
        // A user's file opened in the browser must never run as a page of this site.
        ctx.set('Content-Security-Policy', "sandbox; default-src 'none'");
        ctx.set('X-Content-Type-Options', 'nosniff');
      }
      if (fromUi && ctx.status === 401) ctx.remove('WWW-Authenticate');
    };
  }
}
