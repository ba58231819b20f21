/**
 * reva's view of the OCM records: the EfssShare JSON its nextcloud share repository decodes
 * (reva-nextcloud-api.md §5), and the decoding of the protojson `ocm.Share` / `ocm.ReceivedShare`
 * bodies of addSentShare / addReceivedShare. Both camelCase and snake_case spellings, and enums
 * as names or numbers, are accepted.
 */
import { Perm } from '../fs/types.js';
import type { ReceivedShare, SentShare, ShareState, WebdavPermission } from './records.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value of the first of `names` present in `o` (camelCase and snake_case spellings). */
export function field(o: unknown, ...names: string[]): unknown {
  if (!isObj(o)) return undefined;
  for (const n of names) if (o[n] !== undefined && o[n] !== null) return o[n];
  return undefined;
}
export const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

export interface CsUserId {
  idp: string;
  opaqueId: string;
}

export function userIdOf(v: unknown): CsUserId | undefined {
  if (!isObj(v)) return undefined;
  const inner = field(v, 'userId', 'user_id', 'UserId', 'id', 'Id');
  const o = isObj(inner) && field(inner, 'opaqueId', 'opaque_id') !== undefined ? inner : v;
  const opaqueId = str(field(o, 'opaqueId', 'opaque_id'));
  if (!opaqueId) return undefined;
  return { idp: str(field(o, 'idp')), opaqueId };
}

export function secondsOf(v: unknown): number | undefined {
  const s = Number(field(v, 'seconds'));
  return Number.isFinite(s) && s > 0 ? s : undefined;
}

/** CS3 share state (number or enum name) → ours. */
export function stateOf(v: unknown): ShareState | undefined {
  const s = String(v ?? '').toUpperCase();
  if (s === '1' || s.endsWith('PENDING')) return 'pending';
  if (s === '2' || s.endsWith('ACCEPTED')) return 'accepted';
  if (s === '3' || s.endsWith('REJECTED') || s.endsWith('DECLINED')) return 'declined';
  return undefined;
}

export function stateNumber(s: ShareState): number {
  return s === 'pending' ? 1 : s === 'accepted' ? 2 : 3;
}

const WRITE_KEYS = ['initiateFileUpload', 'initiate_file_upload', 'createContainer', 'create_container', 'delete', 'move', 'restoreFileVersion', 'restore_file_version'];

/** CS3 ResourcePermissions (either spelling, possibly nested in `{permissions:{…}}`) → OCM permissions. */
export function permissionsOfCs3(v: unknown): WebdavPermission[] {
  let p = v;
  for (let i = 0; i < 3 && isObj(p) && isObj(p.permissions); i++) p = p.permissions;
  if (!isObj(p)) return ['read'];
  return WRITE_KEYS.some((k) => p[k] === true) ? ['read', 'write'] : ['read'];
}

/** OCM permissions → the OCS int reva maps to a role (1 viewer, 15 editor, 31 with share). */
export function ocsPermissions(p: WebdavPermission[]): number {
  let n = Perm.READ;
  if (p.includes('write')) n |= Perm.UPDATE | Perm.CREATE | Perm.DELETE;
  if (p.includes('share')) n |= Perm.SHARE;
  return n;
}

const user = (idp: string, opaqueId: string, type: number) => ({ id: { idp, opaque_id: opaqueId, type } });
const ts = (ms: number) => ({ seconds: Math.floor(ms / 1000) });

function splitAddress(a: string): { user: string; idp: string } {
  const at = a.lastIndexOf('@');
  return at < 0 ? { user: a, idp: '' } : { user: a.slice(0, at), idp: a.slice(at + 1) };
}

/** A sent share as EfssShare. `uri` is where receivers read it. */
export function sentToEfss(s: SentShare, ownDomain: string, uri: string) {
  return {
    id: { opaque_id: s.id },
    name: s.name,
    token: s.secret,
    resource_id: { opaque_id: s.fileId },
    resource_type: s.resourceType,
    remote_share_id: s.id,
    protocols: { webdav: { uri, permissions: ocsPermissions(s.permissions) } },
    grantee: user(s.recipient.provider, s.recipient.userId, 6),
    owner: user(ownDomain, s.owner, 1),
    creator: user(ownDomain, s.owner, 1),
    ctime: ts(s.createdAt),
    mtime: ts(s.updatedAt),
  };
}

/** A received share as EfssShare (token = the secret reva uses to read it). */
export function receivedToEfss(r: ReceivedShare, ownDomain: string) {
  const owner = splitAddress(r.owner);
  const sender = splitAddress(r.sender);
  return {
    id: { opaque_id: r.id },
    name: r.name,
    token: r.webdav.sharedSecret,
    resource_id: { opaque_id: r.remoteShareId },
    resource_type: r.resourceType === 'folder' ? 'folder' : 'file',
    remote_share_id: r.remoteShareId,
    protocols: { webdav: { uri: r.webdav.uri, permissions: ocsPermissions(r.webdav.permissions) } },
    grantee: user(ownDomain, r.recipient, 1),
    owner: user(owner.idp, owner.user, 6),
    creator: user(sender.idp, sender.user, 6),
    ctime: ts(r.createdAt),
    mtime: ts(r.updatedAt),
  };
}

export function receivedEnvelope(r: ReceivedShare, ownDomain: string) {
  return { share: receivedToEfss(r, ownDomain), state: stateNumber(r.state) };
}

/** The share a CS3 ShareReference names: `{"Spec":{"Id":{"opaque_id"}}}`, `{"Spec":{"Token"}}`, or flat protojson forms. */
export function shareRefOf(v: unknown): { id?: string; token?: string } {
  const spec = field(v, 'Spec', 'spec') ?? v;
  const token = str(field(spec, 'Token', 'token'));
  const idObj = field(spec, 'Id', 'id');
  const id = isObj(idObj) ? str(field(idObj, 'opaque_id', 'opaqueId')) : str(idObj);
  return { ...(id ? { id } : {}), ...(token ? { token } : {}) };
}

export { isObj };
