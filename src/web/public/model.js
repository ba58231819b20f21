// Reads the ScienceMesh API's share and contact records liberally (field names differ between
// the OCM spec, reva and Nextcloud) into the few fields the views show.
import { json } from './api.js';

function first(obj, ...keys) {
  for (const k of keys) {
    const v = k.split('.').reduce((o, p) => (o == null ? undefined : o[p]), obj);
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}

function address(v) {
  if (!v) return '';
  if (typeof v === 'string') return v;
  const user = first(v, 'user_id', 'userId', 'opaque_id', 'id.opaque_id', 'name');
  const idp = first(v, 'idp', 'provider', 'id.idp', 'domain');
  return user && idp ? `${user}@${idp}` : String(user ?? '');
}

function role(s) {
  const r = first(s, 'role');
  if (r) return r;
  const p = first(s, 'permissions');
  if (Array.isArray(p)) return p.includes('write') ? 'editor' : 'viewer';
  if (typeof p === 'number') return p & 2 ? 'editor' : 'viewer';
  return 'viewer';
}

function list(body) {
  if (Array.isArray(body)) return body;
  return first(body, 'shares', 'items', 'data', 'invites', 'users') ?? [];
}

export function receivedShare(s) {
  const owner = address(first(s, 'owner', 'ownerAddress', 'sender'));
  return {
    id: String(first(s, 'id', 'shareId', 'providerId')),
    name: first(s, 'name') ?? '',
    owner,
    ownerName: first(s, 'ownerDisplayName', 'owner_display_name', 'senderDisplayName') ?? owner,
    provider: first(s, 'provider', 'providerDomain', 'ownerProvider') ?? owner.split('@').pop(),
    state: String(first(s, 'state') ?? 'pending').toLowerCase().replace(/^share_state_/, ''),
    mountPoint: first(s, 'mountPoint', 'mount_point', 'mountpoint', 'path'),
    role: role(s),
    type: first(s, 'resourceType', 'resource_type', 'type') ?? '',
    created: first(s, 'createdAt', 'created', 'ctime'),
  };
}

export function sentShare(s) {
  const recipient = address(first(s, 'recipient', 'shareWith', 'grantee'));
  return {
    id: String(first(s, 'id', 'shareId', 'providerId')),
    name: first(s, 'name') ?? '',
    path: first(s, 'sourcePath', 'path', 'source_path') ?? '',
    recipient,
    recipientName: first(s, 'recipientDisplayName', 'recipient_display_name') ?? recipient,
    state: String(first(s, 'state') ?? '').toLowerCase().replace(/^share_state_/, ''),
    role: role(s),
    created: first(s, 'createdAt', 'created', 'ctime'),
  };
}

export function contact(c) {
  return {
    userId: first(c, 'user_id', 'userId', 'opaque_id') ?? '',
    idp: first(c, 'idp', 'provider', 'domain') ?? '',
    displayName: first(c, 'display_name', 'displayName', 'name') ?? '',
    mail: first(c, 'mail', 'email') ?? '',
  };
}

export function invite(i) {
  return {
    token: first(i, 'token') ?? '',
    description: first(i, 'description') ?? '',
    expiration: first(i, 'expiration', 'expiresAt', 'expires_at'),
    link: first(i, 'invite_link', 'inviteLink', 'link') ?? '',
    inviteString: first(i, 'invite_string', 'inviteString') ?? '',
    accepted: Boolean(first(i, 'accepted', 'acceptedBy', 'accepted_by')),
  };
}

export const receivedShares = async () => list(await json('GET', '/sciencemesh/received-shares')).map(receivedShare);
export const sentShares = async () => list(await json('GET', '/sciencemesh/sent-shares')).map(sentShare);
export const contacts = async (search = '') =>
  list(await json('GET', `/sciencemesh/find-accepted-users?search=${encodeURIComponent(search)}`)).map(contact);
export const invites = async () => list(await json('GET', '/sciencemesh/list-invite')).map(invite);

/** Expiration as ms: accepts seconds, ms, ISO strings, or reva's {seconds}. */
export function toMs(v) {
  if (v == null) return 0;
  if (typeof v === 'object') return Number(v.seconds ?? 0) * 1000;
  if (typeof v === 'number') return v < 1e12 ? v * 1000 : v;
  return Date.parse(v) || 0;
}
