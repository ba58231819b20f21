/**
 * A user's deleted files over WebDAV, as Nextcloud serves them (its files_trashbin DAV API, which
 * the Nextcloud apps and web front ends use):
 *   /remote.php/dav/trashbin/{user}/            the user's trash root: `trash/` and `restore/`
 *   …/trash/                                    PROPFIND lists the deleted items; DELETE empties it
 *   …/trash/{name}.d{key}                       one item: PROPFIND; GET/HEAD of a file; DELETE
 *                                               purges it; MOVE to …/restore/{anything} restores it
 *   …/restore/                                  an empty collection, the target of restores
 * Each item carries Nextcloud's properties `nc:trashbin-filename`, `nc:trashbin-original-location`
 * (without the leading slash), `nc:trashbin-deletion-time` (Unix seconds) and `nc:trashbin-title`,
 * with the usual size, type and date. An item restored where its original path is taken again
 * comes back as "name (restored).ext" (then "(restored 2)"…), as in Nextcloud. What a deleted
 * folder held is listed and read below its item (…/trash/{item}/sub/file), with the same
 * properties; it is restored or purged with the folder, not on its own.
 */
import type { Context } from 'koa';
import { ConflictError, ForbiddenError, MethodNotAllowedError, NotFoundError } from '../../errors.js';
import { baseName, decodeUrlPath, encodeUrlPath, joinPath, parentPath } from '../../fs/path.js';
import { Perm, type Entry, type Fs, type TrashBin, type TrashEntry, type TrashItem } from '../../fs/types.js';
import { parseDepth } from '../depth.js';
import { parsePropfindBody, renderResponse } from '../methods/propfind.js';
import { sendMultistatus } from '../multistatus.js';
import { virtualCollection } from '../principals.js';
import { assertRestoreDestination } from './restore-target.js';
import type { PropEnv } from '../properties.js';
import { NC_NS, escapeXml, readXmlBody } from '../xml.js';

const XML_LIMIT = 64 * 1024;
const ALLOW = 'OPTIONS, PROPFIND, GET, HEAD, DELETE, MOVE';

/** The URL name of a trash item: its name, `.d`, its trash key (unique, unlike a deletion time). */
function itemName(t: TrashItem): string {
  return `${baseName(t.originalPath)}.d${t.key}`;
}

function itemEntry(t: TrashItem): Entry {
  return {
    path: `/trash/${itemName(t)}`,
    name: baseName(t.originalPath),
    type: t.type,
    size: t.size,
    mtime: t.deletedAt,
    etag: `trash-${t.key}-${t.deletedAt}`,
    fileId: '',
    mime: t.type === 'dir' ? 'httpd/unix-directory' : 'application/octet-stream',
    permissions: Perm.READ | Perm.DELETE,
  };
}

/** Nextcloud's trashbin properties of an item (values as XML content). */
function trashProps(t: TrashItem): Record<string, string> {
  const name = escapeXml(baseName(t.originalPath));
  return {
    [`{${NC_NS}}trashbin-filename`]: name,
    [`{${NC_NS}}trashbin-original-location`]: escapeXml(t.originalPath.replace(/^\/+/, '')),
    [`{${NC_NS}}trashbin-deletion-time`]: String(Math.floor(t.deletedAt / 1000)),
    [`{${NC_NS}}trashbin-title`]: name,
  };
}

/** "a.txt" → "a (restored).txt", then "a (restored 2).txt"… */
function restoredName(path: string, n: number): string {
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return joinPath(parentPath(path), `${stem} (restored${n > 1 ? ` ${n}` : ''})${ext}`);
}

async function exists(fs: Fs, path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

/** Nextcloud's trashbin properties of something inside deleted item `t`, at `rel` ('/': the item). */
function insideProps(t: TrashItem, rel: string): Record<string, string> {
  if (rel === '/') return trashProps(t);
  const name = escapeXml(baseName(rel));
  return {
    [`{${NC_NS}}trashbin-filename`]: name,
    [`{${NC_NS}}trashbin-original-location`]: escapeXml(joinPath(t.originalPath, rel).replace(/^\/+/, '')),
    [`{${NC_NS}}trashbin-deletion-time`]: String(Math.floor(t.deletedAt / 1000)),
    [`{${NC_NS}}trashbin-title`]: name,
  };
}

/** PROPFIND, GET and HEAD of what deleted folder `item` held at `rel`; anything else is 403. */
async function serveInside(ctx: Context, fs: Fs & TrashBin, item: TrashItem, rel: string, base: string, user: { name: string; displayName?: string }): Promise<void> {
  if (!fs.listTrashFolder || !fs.openTrash) throw new NotFoundError('this storage does not show what deleted folders held');
  if (ctx.method === 'DELETE' || ctx.method === 'MOVE') throw new ForbiddenError('what a deleted folder held is restored or deleted with the folder');
  const { self, children } = await fs.listTrashFolder(item.key, rel);
  const at = (p: string) => `/trash/${itemName(item)}${p === '/' ? '' : p}`;
  if (ctx.method === 'PROPFIND') {
    const depth = parseDepth(ctx, 1);
    if (depth === 'infinity') throw new ForbiddenError('PROPFIND with Depth: infinity is not supported', { davCondition: 'propfind-finite-depth' });
    const query = parsePropfindBody(await readXmlBody(ctx, XML_LIMIT));
    const env: PropEnv = { locksOn: () => [], hrefFor: (p, isDir) => base + encodeUrlPath(p) + (isDir ? '/' : ''), quota: null, user };
    const entry = (e: TrashEntry): Entry => ({
      path: at(e.path),
      name: baseName(e.path === '/' ? item.originalPath : e.path),
      type: e.type,
      size: e.size,
      mtime: e.mtime,
      etag: e.etag,
      fileId: '',
      mime: e.type === 'dir' ? 'httpd/unix-directory' : 'application/octet-stream',
      permissions: Perm.READ,
    });
    const shown = [self, ...(depth === 1 ? children : [])];
    sendMultistatus(ctx, shown.map((e) => renderResponse(entry(e), query, env, insideProps(item, e.path))));
    return;
  }
  if (self.type !== 'file') throw new ConflictError(`${baseName(rel)} is a folder`);
  await sendFile(ctx, fs, item.key, rel, self.size, baseName(rel));
}

/** GET or HEAD of a deleted file (`rel` '/': the item itself), as a download under its own name. */
async function sendFile(ctx: Context, fs: Fs & TrashBin, key: string, rel: string, size: number, name: string): Promise<void> {
  const body = ctx.method === 'GET' ? await fs.openTrash!(key, {}, rel) : undefined;
  ctx.set('Content-Length', String(size));
  ctx.set('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(name)}`);
  ctx.type = 'application/octet-stream';
  ctx.status = 200;
  if (body) ctx.body = body;
}

/**
 * Serves one request under `base` = `/remote.php/dav/trashbin/{user}` for `fs`, the user's home
 * (its trash). `user` is the authenticated owner.
 */
export async function serveTrashbin(ctx: Context, fs: Fs & TrashBin, base: string, user: { name: string; displayName?: string }): Promise<void> {
  ctx.set('DAV', '1, 2');
  const rest = decodeUrlPath(ctx.path).slice(decodeUrlPath(base).length).replace(/\/+$/, '') || '/';
  const parts = rest.split('/').filter(Boolean);
  if ((parts[0] !== undefined && parts[0] !== 'trash' && parts[0] !== 'restore') || (parts[0] === 'restore' && parts.length > 1)) {
    throw new NotFoundError(`no ${rest} in the trash bin`);
  }
  if (ctx.method === 'OPTIONS') {
    ctx.set('Allow', ALLOW);
    ctx.status = 200;
    ctx.body = '';
    return;
  }
  if (!['PROPFIND', 'GET', 'HEAD', 'DELETE', 'MOVE'].includes(ctx.method)) {
    throw new MethodNotAllowedError(`${ctx.method} is not allowed in the trash bin`, { headers: { Allow: ALLOW } });
  }
  const items = await fs.listTrash();
  const item = parts.length >= 2 ? items.find((t) => itemName(t) === parts[1]) : undefined;
  if (parts.length >= 2 && !item) throw new NotFoundError(`no deleted item ${parts[1]}`);
  // Something inside a deleted folder: read and listed, never restored or deleted on its own.
  const inside = parts.length > 2 ? '/' + parts.slice(2).join('/') : undefined;
  if (inside !== undefined) return serveInside(ctx, fs, item!, inside, base, user);

  switch (ctx.method) {
    case 'PROPFIND': {
      const depth = parseDepth(ctx, 1);
      if (depth === 'infinity') throw new ForbiddenError('PROPFIND with Depth: infinity is not supported', { davCondition: 'propfind-finite-depth' });
      // A deleted folder's own listing shows what it held.
      if (item && item.type === 'dir' && depth === 1 && fs.listTrashFolder) return serveInside(ctx, fs, item, '/', base, user);
      const query = parsePropfindBody(await readXmlBody(ctx, XML_LIMIT));
      const env: PropEnv = { locksOn: () => [], hrefFor: (p, isDir) => base + encodeUrlPath(p === '/' ? '/' : p) + (isDir && p !== '/' ? '/' : ''), quota: null, user };
      const render = (e: Entry, t?: TrashItem) => renderResponse(e, query, env, t ? trashProps(t) : {});
      const out: string[] = [];
      if (item) out.push(render(itemEntry(item), item));
      else if (parts[0] === 'trash') {
        out.push(render(virtualCollection('/trash')));
        if (depth === 1) for (const t of items) out.push(render(itemEntry(t), t));
      } else if (parts[0] === 'restore') out.push(render(virtualCollection('/restore')));
      else {
        out.push(render(virtualCollection('/', '')));
        if (depth === 1) out.push(render(virtualCollection('/trash')), render(virtualCollection('/restore')));
      }
      sendMultistatus(ctx, out);
      return;
    }
    case 'GET':
    case 'HEAD': {
      // A deleted file's content, before (or instead of) restoring it.
      if (!item || !fs.openTrash) throw new MethodNotAllowedError('only a deleted file can be downloaded', { headers: { Allow: 'OPTIONS, PROPFIND' } });
      if (item.type !== 'file') throw new ConflictError(`${baseName(item.originalPath)} is a folder: restore it to read what it holds`);
      return sendFile(ctx, fs, item.key, '/', item.size, baseName(item.originalPath));
    }
    case 'DELETE':
      if (item) await fs.purgeTrash(item.key);
      else if (parts[0] === 'trash' && parts.length === 1) await fs.emptyTrash();
      else throw new ForbiddenError('only deleted items, or the whole trash, can be deleted');
      ctx.status = 204;
      ctx.body = '';
      return;
    default: {
      // MOVE
      if (!item) throw new ForbiddenError('only a deleted item can be moved (to restore/, to restore it)');
      assertRestoreDestination(ctx, base, 'a deleted item');
      let to = item.originalPath;
      for (let n = 1; (await exists(fs, to)) && n <= 100; n++) to = restoredName(item.originalPath, n);
      await fs.restoreTrash(item.key, to === item.originalPath ? {} : { to });
      ctx.status = 201;
      ctx.body = '';
      return;
    }
  }
}
