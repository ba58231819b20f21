/**
 * The share WebDAV endpoint other sites read shares through:
 *   `/remote.php/dav/ocm/{shareId}/…` — `Authorization: Bearer {secret}`, or Basic with the
 *     secret as user name (password ignored, usually empty);
 *   `/public.php/webdav/…` — legacy OCM 1.0 receivers: Basic, user name = secret.
 * The secret opens exactly its own share: the owner's storage scoped to the shared file or folder
 * (ScopedFs), with the share's permissions enforced (PermissionFs), served by the DAV engine.
 * Unknown, revoked or expired secrets → 401 at once.
 */
import type { Context, Next } from 'koa';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.js';
import { PermissionFs } from '../fs/permission-fs.js';
import { ScopedFs } from '../fs/scoped-fs.js';
import { Perm } from '../fs/types.js';
import type { SentShare, WebdavPermission } from './records.js';
import { legacyPath } from './revad-store.js';
import type { OcmRouterDeps } from './router-deps.js';

const OCM_PREFIX = '/remote.php/dav/ocm/';
const PUBLIC_PREFIX = '/public.php/webdav';
/** What a read-only share allows (ocm.md: GET/HEAD/PROPFIND/OPTIONS). */
const READ_METHODS = new Set(['GET', 'HEAD', 'PROPFIND', 'OPTIONS']);
const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="meshdav share", Bearer realm="meshdav share"' };

/** Perm bit mask a share's OCM permissions grant. */
export function permMask(perms: WebdavPermission[]): number {
  let m = 0;
  if (perms.includes('read')) m |= Perm.READ;
  if (perms.includes('write')) m |= Perm.READ | Perm.UPDATE | Perm.CREATE | Perm.DELETE;
  if (perms.includes('share')) m |= Perm.SHARE;
  return m;
}

/** The secret a request carries: Bearer token, or the user name of Basic auth. */
function secretOf(ctx: Context): string | undefined {
  const h = ctx.get('authorization');
  const m = /^(\w+)\s+(.+)$/.exec(h.trim());
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return m[2]!.trim() || undefined;
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(m[2]!.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  return user || undefined;
}

export function shareEndpoint(deps: OcmRouterDeps) {
  const { ocm } = deps;

  async function serve(ctx: Context, share: SentShare, base: string): Promise<void> {
    const home = await ocm.homes.home(share.owner);
    let root: string;
    if (share.fileId.startsWith('fileid-')) root = legacyPath(share.fileId);
    else if (typeof home.pathById === 'function') root = await home.pathById(share.fileId);
    else throw new NotFoundError('the shared resource cannot be resolved');
    const mask = permMask(share.permissions);
    // Methods that change state and never reach the Fs (LOCK/UNLOCK) are refused here; the rest
    // are refused by PermissionFs as well, this only answers them before any body is read.
    if ((mask & Perm.UPDATE) === 0 && !READ_METHODS.has(ctx.method)) {
      throw new ForbiddenError('this share is read-only');
    }
    const fs = new PermissionFs(new ScopedFs(home, root), mask);
    await deps.serveDav(ctx, { fs, base, lockScope: `share:${share.id}` });
  }

  return async function shareDav(ctx: Context, next: Next): Promise<void> {
    const path = ctx.path;
    let base: string;
    let id: string | undefined;
    if (path.startsWith(OCM_PREFIX)) {
      const rest = path.slice(OCM_PREFIX.length);
      const seg = rest.split('/')[0]!;
      if (seg === '') return next();
      try {
        id = decodeURIComponent(seg);
      } catch {
        throw new NotFoundError('no such share');
      }
      base = OCM_PREFIX + seg;
    } else if (path === PUBLIC_PREFIX || path.startsWith(PUBLIC_PREFIX + '/')) {
      base = PUBLIC_PREFIX;
    } else {
      return next();
    }
    ctx.state.dav = true;
    const secret = secretOf(ctx);
    if (!secret) throw new UnauthorizedError('a share secret is required', { headers: CHALLENGE });
    let share: SentShare;
    try {
      share = await ocm.sent.authorize(secret, id);
    } catch (err) {
      if (err instanceof UnauthorizedError) throw new UnauthorizedError(err.message, { headers: CHALLENGE });
      throw err;
    }
    await serve(ctx, share, base);
  };
}
