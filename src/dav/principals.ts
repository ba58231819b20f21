/**
 * The virtual collections above users' homes that clients probe: `/remote.php/dav/` (with
 * `files/`) and `/remote.php/dav/files/` (with the caller's own home). PROPFIND Depth 0/1 and
 * OPTIONS; anything else → 405. They hold no Fs.
 */
import type { Context } from 'koa';
import { baseName } from '../fs/path.js';
import { Perm, type Entry } from '../fs/types.js';
import { ForbiddenError, MethodNotAllowedError } from '../errors.js';
import { parseDepth } from './depth.js';
import { sendMultistatus } from './multistatus.js';
import { parsePropfindBody, renderResponse } from './methods/propfind.js';
import type { PropEnv } from './properties.js';
import { readXmlBody } from './xml.js';
import { encodeUserSegment } from './context.js';

const XML_LIMIT = 64 * 1024;

/** Virtual collections never change; they carry the time this process started. */
const STARTED = Date.now();

/** A read-only collection that holds no Fs (these, and the trash bin's and versions' own: nextcloud/). */
export function virtualCollection(path: string, name = baseName(path), etag = `virtual-${path}`): Entry {
  return { path, name, type: 'dir', size: 0, mtime: STARTED, etag, fileId: '', mime: 'httpd/unix-directory', permissions: Perm.READ };
}

export async function serveVirtualCollection(ctx: Context, user: { name: string; displayName?: string }): Promise<void> {
  ctx.state.dav = true;
  ctx.set('DAV', '1, 2');
  if (ctx.method === 'OPTIONS') {
    ctx.set('Allow', 'OPTIONS, PROPFIND');
    ctx.status = 200;
    ctx.body = '';
    return;
  }
  if (ctx.method !== 'PROPFIND') throw new MethodNotAllowedError(`${ctx.method} is not allowed here`, { headers: { Allow: 'OPTIONS, PROPFIND' } });
  const depth = parseDepth(ctx, 1);
  if (depth === 'infinity') throw new ForbiddenError('PROPFIND with Depth: infinity is not supported', { davCondition: 'propfind-finite-depth' });
  const query = parsePropfindBody(await readXmlBody(ctx, XML_LIMIT));
  const atFiles = ctx.path.replace(/\/$/, '').endsWith('/files');
  const self = atFiles ? virtualCollection('/remote.php/dav/files', 'files') : virtualCollection('/remote.php/dav', 'dav');
  const child = atFiles
    ? virtualCollection(`/remote.php/dav/files/${encodeUserSegment(user.name)}`, user.name)
    : virtualCollection('/remote.php/dav/files', 'files');
  const env: PropEnv = { locksOn: () => [], hrefFor: (p) => p + '/', quota: null, user };
  const entries = depth === 1 ? [self, child] : [self];
  sendMultistatus(ctx, entries.map((e) => renderResponse(e, query, env, {})));
}
