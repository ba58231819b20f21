/**
 * LOCK (RFC 4918 §9.10): new exclusive or shared write locks, Depth 0 or infinity (default),
 * Timeout header honoured up to MAX_TIMEOUT_S; an empty body refreshes the lock named in the If
 * header. LOCK on an unmapped URL creates an empty file (201). Conflicts → 423.
 */
import { Readable } from 'node:stream';
import { BadRequestError, ForbiddenError, PreconditionFailedError } from '../../errors.js';
import { Perm } from '../../fs/types.js';
import { parentPath } from '../../fs/path.js';
import { assertUnlocked, hrefFor, setEntryHeaders, statOrNull, type DavRequest } from '../context.js';
import { parseDepth } from '../depth.js';
import { parseTimeout, type Lock } from '../locks.js';
import { activeLockXml, ROOT_XMLNS } from '../properties.js';
import { DAV_NS, child, elements, readXmlBody, serializeChildren } from '../xml.js';

function respond(req: DavRequest, lock: Lock, status: number): void {
  const { ctx, target } = req;
  ctx.status = status;
  ctx.type = 'application/xml; charset=utf-8';
  ctx.set('Lock-Token', `<${lock.token}>`);
  ctx.body =
    `<?xml version="1.0" encoding="utf-8"?>\n<d:prop${ROOT_XMLNS}><d:lockdiscovery>` +
    activeLockXml(lock, (p, isDir) => hrefFor(target, p, isDir)) +
    '</d:lockdiscovery></d:prop>';
}

export async function lock(req: DavRequest): Promise<void> {
  const { ctx, fs, path, target, env } = req;
  const timeout = parseTimeout(ctx.get('timeout') || undefined);
  const body = await readXmlBody(ctx, env.xmlBodyBytes);

  if (!body) {
    const tokens = [...req.tokens].filter((t) => env.locks.tokenCovers(target.lockScope, t, path));
    if (tokens.length === 0) throw new PreconditionFailedError('LOCK refresh needs the lock token in an If header', { davCondition: 'lock-token-matches-request-uri' });
    const refreshed = env.locks.refresh(target.lockScope, tokens[0]!, path, timeout);
    respond(req, refreshed, 200);
    ctx.remove('Lock-Token');
    return;
  }

  if (body.ns !== DAV_NS || body.local !== 'lockinfo') throw new BadRequestError('body must be a DAV:lockinfo element');
  const scopeEl = child(body, DAV_NS, 'lockscope');
  const typeEl = child(body, DAV_NS, 'locktype');
  const scopeKind = scopeEl && elements(scopeEl).find((e) => e.ns === DAV_NS)?.local;
  if (scopeKind !== 'exclusive' && scopeKind !== 'shared') throw new BadRequestError('lockscope must be exclusive or shared');
  if (!typeEl || !child(typeEl, DAV_NS, 'write')) throw new BadRequestError('only write locks are supported');
  const ownerEl = child(body, DAV_NS, 'owner');
  const owner = ownerEl ? serializeChildren(ownerEl) : '';
  if (owner.length > 4096) throw new BadRequestError('lock owner too large');
  const depthHeader = parseDepth(ctx, 'infinity');
  if (depthHeader === 1) throw new BadRequestError('LOCK takes Depth 0 or infinity');

  const existing = await statOrNull(fs, path);
  // A lock is a write: it needs write permission on the resource (or create on the parent).
  if (existing) {
    if ((existing.permissions & (Perm.UPDATE | Perm.CREATE)) === 0) throw new ForbiddenError('no permission to lock this resource');
  } else {
    const parent = await statOrNull(fs, parentPath(path));
    if (parent && (parent.permissions & Perm.CREATE) === 0) throw new ForbiddenError('no permission to create here');
    assertUnlocked(req, path, { member: true });
  }
  const depth = depthHeader;
  const created = env.locks.create(target.lockScope, { root: path, scope: scopeKind, depth, owner, timeout, principal: target.user?.name });
  if (!existing) {
    try {
      const r = await fs.write(path, Readable.from([]), { ifNoneMatch: '*', size: 0, signal: req.signal });
      setEntryHeaders(ctx, r.entry);
    } catch (err) {
      env.locks.remove(target.lockScope, created.token, path);
      throw err;
    }
  }
  respond(req, created, existing ? 200 : 201);
}
