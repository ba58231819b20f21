/**
 * revad's OCM share store (efss-api.md, "OCM share store"): `POST
 * [/index.php]/apps/sciencemesh/~{user}/api/ocm/{verb}` with X-Reva-Secret. Backed by the very
 * records the OCM layer keeps, so a share stored by revad is listed by the CLI and vice versa.
 * addSentShare/addReceivedShare answer 201 with the new id as plain text; the rest answer JSON.
 */
import type { Context, Next } from 'koa';
import { requireRevaSecret } from '../auth/reva-secret.js';
import { providerDomain } from '../config.js';
import { BadRequestError, MethodNotAllowedError, NotFoundError } from '../errors.js';
import { readJson } from '../http/body.js';
import { normalizePath } from '../fs/path.js';
import { normalizeProvider } from './addresses.js';
import {
  field,
  isObj,
  permissionsOfCs3,
  receivedEnvelope,
  secondsOf,
  sentToEfss,
  shareRefOf,
  stateOf,
  str,
  userIdOf,
} from './efss-share.js';
import { isResourceName } from './payloads.js';
import { newId, type ReceivedShare, type SentShare } from './records.js';
import type { OcmRouterDeps } from './router-deps.js';

const ROUTE = /^(?:\/index\.php)?\/apps\/sciencemesh\/(?:~|%7[Ee])([^/]+)\/api\/ocm\/([^/]+)$/;

interface Call {
  user: string;
  body: unknown;
  ctx: Context;
}

export function revadOcmStore(deps: OcmRouterDeps) {
  const { ocm, config } = deps;
  const checkSecret = requireRevaSecret(config);
  const domain = () => providerDomain(config.publicUrl);
  const sentJson = (s: SentShare) => sentToEfss(s, domain(), ocm.sent.shareUri(s.id));

  async function sentByRef(user: string, body: unknown, anyOwner: boolean): Promise<SentShare> {
    const ref = shareRefOf(body);
    let share: SentShare | undefined;
    if (ref.token) share = await ocm.sent.findBySecret(ref.token);
    else if (ref.id) share = await ocm.sent.findById(ref.id);
    else throw new BadRequestError('a share reference (Spec.Id or Spec.Token) is required');
    if (!share || (!anyOwner && share.owner !== user)) throw new NotFoundError('share not found');
    return share;
  }

  async function receivedByRef(user: string, body: unknown): Promise<ReceivedShare> {
    const ref = shareRefOf(isObj(body) && isObj(body.ref) ? body.ref : body);
    const inner = field(body, 'received_share', 'receivedShare');
    const id = ref.id ?? (inner ? shareRefOf({ Spec: { Id: field(inner, 'id') } }).id : undefined);
    if (!id) throw new BadRequestError('a share id is required');
    return ocm.received.get(user, id);
  }

  const verbs: Record<string, (c: Call) => Promise<void>> = {
    async addSentShare({ user, body, ctx }) {
      const owner = userIdOf(field(body, 'owner'))?.opaqueId || userIdOf(field(body, 'creator'))?.opaqueId || user;
      const grantee = userIdOf(field(field(body, 'grantee'), 'userId', 'user_id', 'Id', 'id') ?? field(body, 'grantee'));
      const resource = field(body, 'resourceId', 'resource_id');
      const fileId = str(field(resource, 'opaqueId', 'opaque_id'));
      const token = str(field(body, 'token'));
      const missing = [!grantee && 'grantee.userId', !fileId && 'resourceId.opaqueId', !token && 'token'].filter(Boolean) as string[];
      if (missing.length) throw new BadRequestError('invalid share', { validationErrors: missing.map((name) => ({ name, message: 'required' })) });
      if (!(await ocm.users.lookup(owner))) throw new NotFoundError(`no user "${owner}"`);
      const access = (field(body, 'accessMethods', 'access_methods') as unknown[] | undefined) ?? [];
      const webdav = access.map((a) => field(a, 'webdavOptions', 'webdav_options')).find((w) => w !== undefined);
      const now = Date.now();
      const share: SentShare = {
        id: newId(),
        owner,
        fileId,
        storageId: str(field(resource, 'storageId', 'storage_id')) || undefined,
        name: str(field(body, 'name')) || fileId,
        resourceType: await resourceTypeOf(owner, fileId),
        permissions: permissionsOfCs3(field(webdav, 'permissions')),
        secret: token,
        recipient: { userId: grantee!.opaqueId, provider: safeDomain(grantee!.idp) },
        state: 'pending',
        createdAt: (secondsOf(field(body, 'ctime')) ?? now / 1000) * 1000,
        updatedAt: now,
        ...(secondsOf(field(body, 'expiration')) ? { expiresAt: secondsOf(field(body, 'expiration'))! * 1000 } : {}),
      };
      await ocm.sent.put(share);
      ctx.status = 201;
      ctx.type = 'text/plain';
      ctx.body = share.id;
    },

    async addReceivedShare({ user, body, ctx }) {
      const grantee = userIdOf(field(field(body, 'grantee'), 'userId', 'user_id', 'Id', 'id') ?? field(body, 'grantee'));
      const recipient = grantee?.opaqueId || user;
      if (!(await ocm.users.lookup(recipient))) throw new NotFoundError(`no user "${recipient}"`);
      const owner = userIdOf(field(body, 'owner'));
      const creator = userIdOf(field(body, 'creator')) ?? owner;
      const protocols = (field(body, 'protocols') as unknown[] | undefined) ?? [];
      const webdav = protocols.map((p) => field(p, 'webdavOptions', 'webdav_options')).find((w) => w !== undefined);
      const uri = str(field(webdav, 'uri'));
      const secret = str(field(webdav, 'sharedSecret', 'shared_secret'));
      const remoteShareId = str(field(body, 'remoteShareId', 'remote_share_id'));
      const name = str(field(body, 'name')) || remoteShareId;
      const missing = [!owner && 'owner', !uri && 'protocols[].webdavOptions.uri', !secret && 'protocols[].webdavOptions.sharedSecret', !remoteShareId && 'remoteShareId', !isResourceName(name) && 'name'].filter(Boolean) as string[];
      if (missing.length) throw new BadRequestError('invalid received share', { validationErrors: missing.map((name) => ({ name, message: 'required' })) });
      const rt = String(field(body, 'resourceType', 'resource_type') ?? '');
      const senderProvider = safeDomain(creator!.idp || owner!.idp || hostOf(uri));
      const now = Date.now();
      const share: ReceivedShare = {
        id: newId(),
        recipient,
        remoteShareId,
        name,
        resourceType: rt === '2' || /CONTAINER/i.test(rt) || rt === 'folder' ? 'folder' : 'file',
        shareType: 'user',
        owner: `${owner!.opaqueId}@${safeDomain(owner!.idp) || senderProvider}`,
        sender: `${creator!.opaqueId}@${senderProvider}`,
        senderProvider,
        webdav: { uri, sharedSecret: secret, permissions: permissionsOfCs3(field(webdav, 'permissions')), legacy: false },
        state: stateOf(field(body, 'state')) ?? 'pending',
        createdAt: (secondsOf(field(body, 'ctime')) ?? now / 1000) * 1000,
        updatedAt: now,
        ...(secondsOf(field(body, 'expiration')) ? { expiresAt: secondsOf(field(body, 'expiration'))! * 1000 } : {}),
      };
      await ocm.received.add(share);
      ctx.status = 201;
      ctx.type = 'text/plain';
      ctx.body = share.id;
    },

    async GetSentShareByToken({ user, body, ctx }) {
      ctx.body = sentJson(await sentByRef(user, body, user === 'nobody'));
    },
    async GetSentShare({ user, body, ctx }) {
      ctx.body = sentJson(await sentByRef(user, body, false));
    },
    async Unshare({ user, body, ctx }) {
      await ocm.sent.remove(await sentByRef(user, body, false));
      ctx.body = {};
    },
    async UpdateShare(call) {
      await updateSent(call);
    },
    async UpdateSentShare(call) {
      await updateSent(call);
    },
    async ListShares({ user, ctx }) {
      ctx.body = (await ocm.sent.list(user)).map(sentJson);
    },
    async ListSentShares({ user, ctx }) {
      ctx.body = (await ocm.sent.list(user)).map(sentJson);
    },
    async ListReceivedShares({ user, ctx }) {
      ctx.body = (await ocm.received.list(user)).map((r) => receivedEnvelope(r, domain()));
    },
    async GetReceivedShare({ user, body, ctx }) {
      ctx.body = receivedEnvelope(await receivedByRef(user, body), domain());
    },
    async UpdateReceivedShare({ user, body, ctx }) {
      const share = await receivedByRef(user, body);
      const inner = field(body, 'received_share', 'receivedShare') ?? body;
      const state = stateOf(field(inner, 'state'));
      const updated = state && state !== share.state ? await ocm.received.setState(user, share.id, state) : share;
      ctx.body = receivedEnvelope(updated, domain());
    },
  };

  async function updateSent({ user, body, ctx }: Call): Promise<void> {
    const ref = isObj(body) && body.ref !== undefined ? body.ref : body;
    const share = await sentByRef(user, ref, false);
    const p = field(body, 'p', 'permissions');
    const updated = p !== undefined ? { ...share, permissions: permissionsOfCs3(p), updatedAt: Date.now() } : share;
    if (updated !== share) await ocm.sent.put(updated);
    ctx.body = sentJson(updated);
  }

  async function resourceTypeOf(owner: string, fileId: string): Promise<'file' | 'folder'> {
    try {
      const home = await ocm.homes.home(owner);
      const path = fileId.startsWith('fileid-') ? legacyPath(fileId) : await home.pathById!(fileId);
      return (await home.stat(path)).type === 'dir' ? 'folder' : 'file';
    } catch {
      return 'file';
    }
  }

  return async function revadOcm(ctx: Context, next: Next): Promise<void> {
    const m = ROUTE.exec(ctx.path);
    if (!m) return next();
    const verbName = m[2]!;
    const verb = Object.hasOwn(verbs, verbName) ? verbs[verbName] : undefined;
    ctx.state.route = `/apps/sciencemesh/~:uid/api/ocm/${verb ? verbName : ':unknown'}`;
    await checkSecret(ctx, async () => {
      if (!verb) throw new NotFoundError(`unknown ocm verb "${verbName}"`);
      if (ctx.method !== 'POST') throw new MethodNotAllowedError(`${verbName} takes POST`, { headers: { Allow: 'POST' } });
      let user: string;
      try {
        user = decodeURIComponent(m[1]!);
      } catch {
        throw new BadRequestError('invalid percent-encoding in the user id');
      }
      const body = await readJson(ctx, config.limits.jsonBodyBytes);
      await verb({ user, body, ctx });
    });
  };
}

/** `fileid-/home/docs/a.txt` → `/docs/a.txt` (the PHP app's path-based ids). */
export function legacyPath(fileId: string): string {
  const p = fileId.slice('fileid-'.length).replace(/^\/home(?=\/|$)/, '');
  return normalizePath(p || '/');
}

function safeDomain(p: string): string {
  try {
    return normalizeProvider(p);
  } catch {
    return p;
  }
}

function hostOf(uri: string): string {
  try {
    return new URL(uri).host;
  } catch {
    return '';
  }
}
