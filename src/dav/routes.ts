/**
 * The WebDAV routes of users' homes:
 *   /remote.php/dav/files/{user}/…  (the authenticated user must be {user}: else 403; unknown → 404)
 *   /remote.php/dav/uploads/{user}/… (Nextcloud's chunked uploads, methods/chunked-ng.ts; same rule)
 *   /remote.php/dav/trashbin/{user}/… (the user's deleted files, nextcloud/trashbin.ts; same rule)
 *   /remote.php/dav/versions/{user}/… (old versions of the user's files, nextcloud/versions.ts; same rule)
 *   /remote.php/webdav/…            (legacy: the authenticated user's home)
 *   /remote.php/dav/ and /remote.php/dav/files/  (principal-level collections clients probe)
 * Every request is authenticated with services.auth.basic (401 + WWW-Authenticate otherwise).
 */
import Router from '@koa/router';
import { encodeUserSegment } from './context.js';
import type { Context } from 'koa';
import type { Fs } from '../fs/types.js';
import { ForbiddenError, MethodNotAllowedError, NotFoundError } from '../errors.js';
import type { DavServer, DavTarget } from './server.js';
import { serveVirtualCollection } from './principals.js';
import { ASSEMBLE, assembleUpload, forgetAssembly, removeStaleUploads, uploadsFs } from './methods/chunked-ng.js';
import { decodeUrlPath } from '../fs/path.js';
import { bulkUpload } from './nextcloud/bulk-upload.js';
import { serveTrashbin } from './nextcloud/trashbin.js';
import { hasFileIds, hasTrash, isVersioned } from '../fs/guards.js';
import { serveVersions } from './nextcloud/versions.js';

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

  /** A user's home at `base`: its locks are the user's, whichever URL names them. */
  const homeTarget = (user: AuthUser, fs: Fs, base: string): DavTarget => ({
    fs,
    base,
    lockScope: `user:${user.name}`,
    user: { name: user.name, displayName: user.displayName },
  });

  const home = async (ctx: Context, user: AuthUser, base: string) => {
    await services.dav.serve(ctx, homeTarget(user, await services.namespaces.forUser(user.name), base));
  };

  /** The authenticated user, who must be the one the URL names (403 for another, 404 for none). */
  const owner = async (ctx: Context): Promise<AuthUser> => {
    const user = await services.auth.basic(ctx);
    const wanted = String(ctx.params.user);
    if (wanted !== user.name) {
      if (!(await services.users.get(wanted))) throw new NotFoundError(`no user ${wanted}`);
      throw new ForbiddenError('this is another user\'s home');
    }
    return user;
  };

  router.all('/remote.php/dav/files/:user{/*rest}', async (ctx) => {
    ctx.state.dav = true;
    const user = await owner(ctx);
    await home(ctx, user, `/remote.php/dav/files/${encodeUserSegment(user.name)}`);
  });

  // Nextcloud's bulk upload of small files (nextcloud/bulk-upload.ts).
  router.all('/remote.php/dav/bulk', async (ctx) => {
    if (ctx.method !== 'POST') throw new MethodNotAllowedError('bulk upload takes POST', { headers: { Allow: 'POST' } });
    const user = await services.auth.basic(ctx);
    const target = homeTarget(user, await services.namespaces.forUser(user.name), `/remote.php/dav/files/${encodeUserSegment(user.name)}`);
    await bulkUpload(ctx, services.dav.bulkWriter(ctx, target));
  });

  // Nextcloud's chunked uploads (methods/chunked-ng.ts).
  router.all('/remote.php/dav/uploads/:user{/*rest}', async (ctx) => {
    ctx.state.dav = true;
    const user = await owner(ctx);
    const segment = encodeUserSegment(user.name);
    const fs = await services.namespaces.forUser(user.name);
    const uploads = await uploadsFs(fs);
    const base = `/remote.php/dav/uploads/${segment}`;
    const rest = decodeUrlPath(ctx.path).slice(decodeUrlPath(base).length) || '/';
    const assemble = ctx.method === 'MOVE' ? ASSEMBLE.exec(rest) : null;
    const files = homeTarget(user, fs, `/remote.php/dav/files/${segment}`);
    if (assemble) return assembleUpload(ctx, services.dav, uploads, assemble[1]!, files, services.dav.hosts);
    if (ctx.method === 'MKCOL') {
      forgetAssembly(files.lockScope, rest.split('/')[1] ?? '');
      await removeStaleUploads(uploads);
    }
    await services.dav.serve(ctx, { ...homeTarget(user, uploads, base), lockScope: `uploads:${user.name}` });
  });

  // The user's deleted files, as Nextcloud's apps read and restore them (nextcloud/trashbin.ts).
  router.all('/remote.php/dav/trashbin/:user{/*rest}', async (ctx) => {
    ctx.state.dav = true;
    const user = await owner(ctx);
    const fs = await services.namespaces.forUser(user.name);
    if (!hasTrash(fs)) throw new NotFoundError('this storage keeps no trash');
    await serveTrashbin(ctx, fs, `/remote.php/dav/trashbin/${encodeUserSegment(user.name)}`, user);
  });

  // Old versions of the user's files, as Nextcloud's apps read and restore them (nextcloud/versions.ts).
  router.all('/remote.php/dav/versions/:user{/*rest}', async (ctx) => {
    ctx.state.dav = true;
    const user = await owner(ctx);
    const fs = await services.namespaces.forUser(user.name);
    if (!isVersioned(fs) || !hasFileIds(fs)) throw new NotFoundError('this storage keeps no versions');
    await serveVersions(ctx, fs, `/remote.php/dav/versions/${encodeUserSegment(user.name)}`, user);
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
