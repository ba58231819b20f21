/**
 * Old versions of a user's files over WebDAV, as Nextcloud serves them (its files_versions DAV
 * API, which the Nextcloud apps and web front ends use):
 *   /remote.php/dav/versions/{user}/versions/{fileId}         PROPFIND lists the file's old versions
 *   …/versions/{fileId}/{version}                             GET downloads one; MOVE to
 *                                                             …/restore/{anything} makes it current
 *   /remote.php/dav/versions/{user}/restore/                  an empty collection, the target of restores
 * A version's name is its key; it shows its size, date (the content's modification time), ETag
 * and type. Restoring keeps the current content as a version in its turn (storage/versions.ts).
 * The user's root, `…/versions/` itself and the versions of folders are not listable: a file is
 * named by its id (`oc:fileid` in a PROPFIND of the file).
 */
import type { Context } from 'koa';
import { BadRequestError, ConflictError, ForbiddenError, MethodNotAllowedError, NotFoundError } from '../../errors.js';
import { baseName, decodeUrlPath, encodeUrlPath } from '../../fs/path.js';
import { Perm, type Entry, type FileIdResolver, type Fs, type Version, type Versioned } from '../../fs/types.js';
import { parseDepth } from '../depth.js';
import { parsePropfindBody, renderResponse } from '../methods/propfind.js';
import { sendMultistatus } from '../multistatus.js';
import { virtualCollection } from '../principals.js';
import { assertRestoreDestination } from './restore-target.js';
import type { PropEnv } from '../properties.js';
import { readXmlBody } from '../xml.js';

const XML_LIMIT = 64 * 1024;
const ALLOW = 'OPTIONS, PROPFIND, GET, HEAD, MOVE';

function versionEntry(dir: string, file: Entry, v: Version): Entry {
  return { path: `${dir}/${v.key}`, name: v.key, type: 'file', size: v.size, mtime: v.mtime, etag: v.etag, fileId: '', mime: file.mime, permissions: Perm.READ };
}

/**
 * Serves one request under `base` = `/remote.php/dav/versions/{user}` for `fs`, the user's
 * namespace. `user` is the authenticated owner.
 */
export async function serveVersions(
  ctx: Context,
  fs: Fs & Versioned & FileIdResolver,
  base: string,
  user: { name: string; displayName?: string },
): Promise<void> {
  ctx.set('DAV', '1, 2');
  const parts = decodeUrlPath(ctx.path).slice(decodeUrlPath(base).length).split('/').filter(Boolean);
  if (ctx.method === 'OPTIONS') {
    ctx.set('Allow', ALLOW);
    ctx.status = 200;
    ctx.body = '';
    return;
  }
  if (!['PROPFIND', 'GET', 'HEAD', 'MOVE'].includes(ctx.method)) {
    throw new MethodNotAllowedError(`${ctx.method} is not allowed on versions`, { headers: { Allow: ALLOW } });
  }
  const env: PropEnv = { locksOn: () => [], hrefFor: (p, isDir) => base + encodeUrlPath(p) + (isDir ? '/' : ''), quota: null, user };
  if (parts.length === 1 && parts[0] === 'restore') {
    if (ctx.method !== 'PROPFIND') throw new MethodNotAllowedError('the restore collection only takes what is moved into it', { headers: { Allow: 'OPTIONS, PROPFIND' } });
    const query = parsePropfindBody(await readXmlBody(ctx, XML_LIMIT));
    sendMultistatus(ctx, [renderResponse(virtualCollection('/restore', 'restore', 'versions-restore'), query, env, {})]);
    return;
  }
  if (parts[0] !== 'versions' || parts.length < 2 || parts.length > 3) throw new NotFoundError('name a file by its id: versions/{fileId}');
  let path: string;
  try {
    path = await fs.pathById(parts[1]!);
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof BadRequestError) throw new NotFoundError(`no file with id ${parts[1]}`);
    throw err;
  }
  const file = await fs.stat(path);
  if (file.type !== 'file') throw new NotFoundError('folders have no versions');
  const dir = `/versions/${parts[1]}`;
  const versions = await fs.listVersions(path);
  const version = parts.length === 3 ? versions.find((v) => v.key === parts[2]) : undefined;
  if (parts.length === 3 && !version) throw new NotFoundError(`no version ${parts[2]} of ${file.name}`);

  switch (ctx.method) {
    case 'PROPFIND': {
      const depth = parseDepth(ctx, 1);
      if (depth === 'infinity') throw new ForbiddenError('PROPFIND with Depth: infinity is not supported', { davCondition: 'propfind-finite-depth' });
      const query = parsePropfindBody(await readXmlBody(ctx, XML_LIMIT));
      const entries = version ? [versionEntry(dir, file, version)] : [virtualCollection(dir, baseName(dir), `versions-${file.etag}`), ...(depth === 1 ? versions.map((v) => versionEntry(dir, file, v)) : [])];
      sendMultistatus(ctx, entries.map((e) => renderResponse(e, query, env, {})));
      return;
    }
    case 'GET':
    case 'HEAD': {
      if (!version) throw new MethodNotAllowedError('GET a version, not the list', { headers: { Allow: 'OPTIONS, PROPFIND' } });
      ctx.set('Content-Length', String(version.size));
      ctx.set('ETag', `"${version.etag}"`);
      ctx.set('Last-Modified', new Date(version.mtime).toUTCString());
      ctx.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`);
      ctx.type = file.mime || 'application/octet-stream';
      ctx.status = 200;
      // HEAD: the headers only (koa ends a HEAD response without a body).
      if (ctx.method === 'GET') ctx.body = await fs.openVersion(path, version.key);
      return;
    }
    default: {
      // MOVE: restore.
      if (!version) throw new ForbiddenError('only a version can be moved (to restore/, to restore it)');
      assertRestoreDestination(ctx, base, 'a version');
      if ((file.permissions & Perm.UPDATE) === 0) throw new ConflictError(`${file.name} cannot be changed here`);
      await fs.restoreVersion(path, version.key);
      ctx.status = 201;
      ctx.body = '';
      return;
    }
  }
}
