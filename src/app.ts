/**
 * Builds the Koa application from the configuration and services. Wiring only: which
 * middleware runs in which order, and which router answers which prefix.
 */
import Koa from 'koa';
import Router from '@koa/router';
import type { Services } from './services.js';
import { errorMiddleware } from './http/error-middleware.js';
import { accessLog } from './http/access-log.js';
import { buildWebUi } from './web/routes.js';
import { adminRouter } from './auth/admin-router.js';
import { scanAdminRouter } from './storage/scan-router.js';
import { efssMiddleware } from './storage/efss/router.js';
import { davRouter } from './dav/routes.js';
import { nextcloudRouter } from './dav/nextcloud/routes.js';
import { ocmRoutes } from './ocm/routes.js';

/** Every path the DAV home router can match (it matches case-insensitively, like all routers here). */
const DAV_PREFIX = /^\/remote\.php\/(?:dav|webdav)(?:\/|$)/i;

export function buildApp(services: Services): Koa {
  const { config, metrics, log } = services;
  const app = new Koa({ proxy: config.trustProxy });
  app.silent = true;
  app.on('error', (err) => log.debug({ err }, 'koa error event'));

  app.use(metrics.middleware());
  app.use(accessLog(log));
  app.use(errorMiddleware(log));

  const ops = new Router();
  ops.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  ops.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  app.use(ops.routes());

  // Web UI: its pages and /web/api, and the session bridge that must run before the API and DAV routers.
  const web = buildWebUi(services);
  app.use(web.sessionAuth);
  // WebDAV homes: /remote.php/dav/files/{user}/…, /remote.php/webdav/…, /remote.php/dav/ (src/dav).
  // The busiest prefixes go straight to their router after the session bridge instead of past
  // every router below (none of which answers them; /remote.php/dav/ocm/… falls through to OCM).
  const dav = davRouter(services).routes() as unknown as Koa.Middleware;
  app.use((ctx, next) => (DAV_PREFIX.test(ctx.path) ? dav(ctx, next) : next()));
  app.use(web.routes);

  // Local user administration for `meshdav user …` (loopback + loopbackSecret only).
  const admin = adminRouter(services);
  app.use(admin.routes()).use(admin.allowedMethods());
  // `meshdav scan` against the running node (same loopback + loopbackSecret rule).
  app.use(scanAdminRouter(services).routes());

  // OCM: discovery, /ocm/*, /sciencemesh/*, /ocm/send, OCS sharees, the share WebDAV endpoint
  // (/remote.php/dav/ocm/…, /public.php/webdav/…) and revad's OCM share store (…/api/ocm/…).
  for (const m of ocmRoutes({
    config,
    log: services.log,
    ocm: services.ocm,
    authenticate: async (ctx) => (await services.auth.basic(ctx)).name,
    serveDav: (ctx, target) => services.dav.serve(ctx, target),
  })) {
    app.use(m);
  }

  // revad's EFSS API: /(index.php/)apps/sciencemesh/~{uid}/api/{storage,auth,user}/… (ocm verbs are the OCM router's).
  app.use(efssMiddleware(services));

  // Nextcloud client endpoints: /status.php, /ocs/v{1,2}.php/cloud/{capabilities,user,users/:id}.
  app.use(nextcloudRouter(services).routes());

  return app;
}
