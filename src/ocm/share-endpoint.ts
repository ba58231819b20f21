/**
 * The share WebDAV endpoint other sites read shares through:
 *   `/remote.php/dav/ocm/{shareId}/…` — `Authorization: Bearer {secret}` or Bearer with an
 *     access token the code flow issued for the share (token-endpoint.ts), or Basic with the
 *     secret as user name (password ignored, usually empty);
 *   `/remote.php/dav/ocm/…` (no share id) and `/public.php/webdav/…` — legacy OCM 1.0 receivers
 *     (Nextcloud), which read at the discovery WebDAV root: Basic, user name = secret (or Bearer).
 * A share whose receiver required the code flow (`tokenOnly`) opens for access tokens only.
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

const OCM_ROOT = '/remote.php/dav/ocm';
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
function credentialsOf(ctx: Context): { scheme: 'bearer' | 'basic'; secret: string } | undefined {
  const m = /^(\w+)\s+(.+)$/.exec(ctx.get('authorization').trim());
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return m[2]!.trim() ? { scheme, secret: m[2]!.trim() } : undefined;
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(m[2]!.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  return user ? { scheme, secret: user } : undefined;
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
    const ocmRoot = path === OCM_ROOT || path.startsWith(OCM_ROOT + '/');
    const publicRoot = path === PUBLIC_PREFIX || path.startsWith(PUBLIC_PREFIX + '/');
    if (!ocmRoot && !publicRoot) return next();
    ctx.state.dav = true;
    const auth = credentialsOf(ctx);
    if (!auth) throw new UnauthorizedError('a share secret is required', { headers: CHALLENGE });
    // A bearer token from the code flow (token-endpoint.ts) opens its share; else the secret.
    const tokenShare = auth.scheme === 'bearer' ? ocm.accessTokens.shareOf(auth.secret) : undefined;
    const share = tokenShare ? await ocm.sent.findLive(tokenShare) : await ocm.sent.findBySecret(auth.secret);
    if (!share) throw new UnauthorizedError('invalid or revoked share secret', { headers: CHALLENGE });
    if (share.tokenOnly && !tokenShare) {
      throw new UnauthorizedError('this share is read with access tokens only: exchange its secret at the token endpoint (the OCM code flow)', { headers: CHALLENGE });
    }
    if (publicRoot) return serve(ctx, share, PUBLIC_PREFIX);
    const seg = path.slice(OCM_ROOT.length + 1).split('/')[0]!;
    let id: string | undefined;
    try {
      id = decodeURIComponent(seg);
    } catch {
      id = undefined;
    }
    if (id === share.id) return serve(ctx, share, `${OCM_ROOT}/${seg}`);
    // OCM 1.0 receivers (Nextcloud; reva v3 too, which also turns our legacy `options` into an
    // id-less WebDAV protocol) read at the discovery WebDAV root itself — unless the path names
    // another share, which this secret does not open.
    const otherShare = id !== undefined && (await ocm.sent.findById(id)) !== undefined;
    if (!otherShare) return serve(ctx, share, OCM_ROOT);
    throw new UnauthorizedError('this secret does not open that share', { headers: CHALLENGE });
  };
}
