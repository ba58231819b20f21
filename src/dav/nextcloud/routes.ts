/**
 * Endpoints Nextcloud desktop and mobile clients call besides WebDAV: `/status.php`,
 * `/ocs/v{1,2}.php/cloud/capabilities`, `/ocs/v{1,2}.php/cloud/user` and
 * `/ocs/v{1,2}.php/cloud/users/{id}` (only the caller's own record; others → 404 in OCS form).
 * Authenticated like the DAV home (services.auth.basic); status.php is public.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Fs, Quota } from '../../fs/types.js';
import { hasQuota } from '../../fs/guards.js';
import { capabilities } from './capabilities.js';
import { sendOcs, type OcsVersion } from './ocs.js';
import { status } from './status.js';

interface AuthUser {
  name: string;
  displayName?: string;
  email?: string;
}

export interface NextcloudRouteServices {
  config: { publicUrl: string };
  auth: { basic(ctx: Context): Promise<AuthUser> };
  namespaces: { forUser(user: string): Promise<Fs> };
}

async function userRecord(services: NextcloudRouteServices, user: AuthUser): Promise<Record<string, unknown>> {
  const fs = await services.namespaces.forUser(user.name);
  const q: Quota = hasQuota(fs) ? await fs.quota() : { used: 0, available: null, total: null };
  const total = q.total ?? -3;
  return {
    enabled: true,
    storageLocation: '',
    id: user.name,
    lastLogin: Date.now(),
    backend: 'meshdav',
    subadmin: [],
    quota: {
      free: q.available ?? -3,
      used: q.used,
      total,
      relative: q.total ? Math.round((q.used / q.total) * 10000) / 100 : 0,
      quota: q.total ?? -3,
    },
    email: user.email ?? null,
    'display-name': user.displayName ?? user.name,
    displayname: user.displayName ?? user.name,
    phone: '',
    address: '',
    website: '',
    twitter: '',
    groups: [],
    language: 'en',
    locale: '',
    backendCapabilities: { setDisplayName: false, setPassword: false },
  };
}

export function nextcloudRouter(services: NextcloudRouteServices): Router {
  const router = new Router();
  router.get('/status.php', status);

  const version = (ctx: Context): OcsVersion => (ctx.path.startsWith('/ocs/v1.php') ? 1 : 2);

  router.get(['/ocs/v1.php/cloud/capabilities', '/ocs/v2.php/cloud/capabilities'], async (ctx) => {
    await services.auth.basic(ctx);
    sendOcs(ctx, version(ctx), capabilities(services.config.publicUrl));
  });

  router.get(['/ocs/v1.php/cloud/user', '/ocs/v2.php/cloud/user'], async (ctx) => {
    const user = await services.auth.basic(ctx);
    sendOcs(ctx, version(ctx), await userRecord(services, user));
  });

  router.get(['/ocs/v1.php/cloud/users/:id', '/ocs/v2.php/cloud/users/:id'], async (ctx) => {
    const user = await services.auth.basic(ctx);
    if (ctx.params.id !== user.name) {
      sendOcs(ctx, version(ctx), [], 404, 'User does not exist');
      return;
    }
    sendOcs(ctx, version(ctx), await userRecord(services, user));
  });

  return router;
}
