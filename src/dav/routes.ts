/**
 * The WebDAV routes of users' homes:
 *   /remote.php/dav/files/{user}/…  (the authenticated user must be {user}: else 403; unknown → 404)
 *   /remote.php/webdav/…            (legacy: the authenticated user's home)
 *   /remote.php/dav/ and /remote.php/dav/files/  (principal-level collections clients probe)
 * Every request is authenticated with services.auth.basic (401 + WWW-Authenticate otherwise).
 */
import Router from '@koa/router';
import { encodeUserSegment } from './context.js';
import type { Context } from 'koa';
import type { Fs } from '../fs/types.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { DavServer } from './server.js';
import { serveVirtualCollection } from './principals.js';

export const DAV_VERBS = ['OPTIONS', 'PROPFIND', 'PROPPATCH', 'GET', 'HEAD', 'PUT', 'MKCOL', 'DELETE', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'POST', 'REPORT', 'SEARCH'];

interface AuthUser {
  name: string;
  displayName?: string;
}

/** What the DAV routes need from the node's services. */
export interface DavRouteServices {
  dav: DavServer;
  auth: { basic(ctx: Context): Promise<AuthUser> };
  users: { get(name: string): Promise<AuthUser | null | undefined> };
  namespaces: { forUser(user: string): Promise<Fs> };
}

export function davRouter(services: DavRouteServices): Router {
  const router = new Router({ methods: DAV_VERBS });

  const home = async (ctx: Context, user: AuthUser, base: string) => {
    const fs = await services.namespaces.forUser(user.name);
    await services.dav.serve(ctx, {
      fs,
      base,
      lockScope: `user:${user.name}`,
      user: { name: user.name, displayName: user.displayName },
    });
  };

  router.all('/remote.php/dav/files/:user{/*rest}', async (ctx) => {
    ctx.state.dav = true;
    const user = await services.auth.basic(ctx);
    const wanted = String(ctx.params.user);
    if (wanted !== user.name) {
      if (!(await services.users.get(wanted))) throw new NotFoundError(`no user ${wanted}`);
      throw new ForbiddenError('this is another user\'s home');
    }
    await home(ctx, user, `/remote.php/dav/files/${encodeUserSegment(user.name)}`);
  });

  router.all('/remote.php/webdav{/*rest}', async (ctx) => {
    ctx.state.dav = true;
    const user = await services.auth.basic(ctx);
    await home(ctx, user, '/remote.php/webdav');
  });

  router.all(['/remote.php/dav', '/remote.php/dav/', '/remote.php/dav/files', '/remote.php/dav/files/'], async (ctx) => {
    ctx.state.dav = true;
    const user = await services.auth.basic(ctx);
    await serveVirtualCollection(ctx, user);
  });

  return router;
}
