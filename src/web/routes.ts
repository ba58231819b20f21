/**
 * The web UI's own routes:
 *  - `GET /`, `GET /accept-invite` (the OCM inviteAcceptDialog, `?token=…&providerDomain=…`):
 *    the single page; `GET /ui/*`: its scripts and styles (see static.ts);
 *  - `POST /web/api/login {user, password}` → session cookie + `{user, csrfToken, node}`;
 *    wrong credentials → 401 (throttled like Basic: 429 when over the limit);
 *  - `GET /web/api/session` → the same for a live session, else 401 (no challenge);
 *  - `POST /web/api/logout` → ends the session (CSRF-checked), clears the cookie, 204;
 *  - `GET /web/api/node` (public) → this node's provider domain and the sites it federates with,
 *    for the invite page's "where do you want to accept this invite" step (OCM WAYF).
 * Login and logout must come from this node's own origin (login CSRF).
 */
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { z } from 'zod';
import type { Services } from '../services.js';
import { BadRequestError, ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.js';
import { readJson } from '../http/body.js';
import { SessionStore } from './session.js';
import { WebSessions } from './session-auth.js';
import { StaticFiles } from './static.js';

const LoginBody = z.object({
  user: z.string().min(1).max(256),
  password: z.string().min(1).max(4096),
});

export interface WebUi {
  /** Session → user bridge for the API and DAV routes; mount before them. */
  sessionAuth: (ctx: Context, next: Next) => Promise<void>;
  /** The UI's pages, assets and /web/api routes. */
  routes: Middleware;
  sessions: WebSessions;
}

/** The trusted providers as the WAYF step offers them: domain and base URL. */
function providers(services: Services) {
  return services.config.trustedProviders.flatMap((entry) => {
    try {
      const url = new URL(/^https?:\/\//i.test(entry) ? entry : `https://${entry}`);
      return [{ domain: url.host, url: (url.origin + url.pathname).replace(/\/+$/, '') }];
    } catch {
      return [];
    }
  });
}

function nodeInfo(services: Services) {
  const url = new URL(services.config.publicUrl);
  return { providerDomain: url.host, publicUrl: services.config.publicUrl, sharesFolder: services.config.sharesFolder, trashRetentionDays: services.config.trashRetentionDays };
}

export function buildWebUi(services: Services, options: { store?: SessionStore; files?: StaticFiles } = {}): WebUi {
  const store = options.store ?? services.sessions;
  const sessions = new WebSessions(store, services.config.publicUrl);
  // A changed password ends every open browser session of that user.
  services.users.onPasswordChange((name) => store.destroyUser(name));
  const files = options.files ?? new StaticFiles();
  const router = new Router();

  const page = (ctx: Context) => {
    files.serve(ctx, 'index.html');
  };
  router.get('/', page);
  router.get('/accept-invite', page);
  const assets = async (ctx: Context, next: Next) => {
    if (!ctx.path.startsWith('/ui/') || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (!files.serve(ctx, ctx.path.slice('/ui/'.length))) throw new NotFoundError('no such file');
  };

  router.post('/web/api/login', async (ctx) => {
    if (!sessions.sameOrigin(ctx)) throw new ForbiddenError('login must come from this site (Origin)');
    const parsed = LoginBody.safeParse(await readJson(ctx, services.config.limits.jsonBodyBytes));
    if (!parsed.success) throw new BadRequestError('user and password are required');
    const user = await services.auth.login({ name: parsed.data.user, secret: parsed.data.password }, { address: ctx.ip });
    const old = sessions.current(ctx);
    if (old) sessions.store.destroy(old.id);
    const { id, session } = sessions.store.create(user.name);
    sessions.setCookie(ctx, id);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      user: { name: user.name, displayName: user.displayName ?? user.name, email: user.email },
      csrfToken: session.csrfToken,
      node: nodeInfo(services),
    };
  });

  router.get('/web/api/session', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const current = sessions.current(ctx);
    const user = current ? await services.users.get(current.session.user) : undefined;
    if (!current || !user) throw new UnauthorizedError('not logged in');
    ctx.body = {
      user: { name: user.name, displayName: user.displayName ?? user.name, email: user.email },
      csrfToken: current.session.csrfToken,
      node: nodeInfo(services),
    };
  });

  router.get('/web/api/node', (ctx) => {
    ctx.body = { ...nodeInfo(services), providers: providers(services) };
  });

  router.post('/web/api/logout', (ctx) => {
    const current = sessions.current(ctx);
    if (current) {
      sessions.assertCsrf(ctx, current.session);
      sessions.store.destroy(current.id);
    }
    sessions.clearCookie(ctx);
    ctx.status = 204;
  });

  const routed = router.routes() as unknown as Middleware;
  return {
    sessionAuth: sessions.middleware(),
    routes: (ctx, next) => (ctx.path.startsWith('/ui/') ? assets(ctx, next) : routed(ctx, next)),
    sessions,
  };
}
