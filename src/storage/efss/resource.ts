/**
 * meshdav objects in the JSON shapes reva decodes (`efss-api.md`): the resource object of
 * GetMD/ListFolder (reva's MDFromEFSS), file versions, recycle items, grants and users.
 * Numbers are always JSON integers; mtimes are whole seconds.
 */
import { Perm, type Entry, type Grant, type TrashItem, type Version } from '../../fs/types.js';
import type { User } from '../../auth/user-store.js';
import { revaPath } from './reference.js';

export const ResourceType = { FILE: 1, CONTAINER: 2 } as const;
export const ChecksumType = { UNSET: 1, ADLER32: 2, MD5: 3, SHA1: 4 } as const;
export const DIR_MIME = 'httpd/unix-directory';

export interface Owner {
  uid: string;
  idp: string;
}

export interface ResourceJson {
  type: number;
  id: { opaque_id: string };
  checksum: { type: number; sum: string };
  etag: string;
  mime_type: string;
  mtime: { seconds: number };
  path: string;
  permissions: number;
  size: number;
  owner: { opaque_id: string; idp: string };
  arbitrary_metadata?: { metadata: Record<string, string> };
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * One entry as reva's MDFromEFSS. The owner's own entries report 31 (reva v3 maps only
 * 31/15/1/4 to roles); entries inside a mounted share keep the permissions the share grants.
 */
export function resourceJson(entry: Entry, owner: Owner, metadata?: Record<string, string>): ResourceJson {
  const dir = entry.type === 'dir';
  const checksum = !dir && entry.checksums?.sha1
    ? { type: ChecksumType.SHA1, sum: entry.checksums.sha1 }
    : !dir && entry.checksums?.md5
      ? { type: ChecksumType.MD5, sum: entry.checksums.md5 }
      : !dir && entry.checksums?.adler32
        ? { type: ChecksumType.ADLER32, sum: entry.checksums.adler32 }
        : { type: ChecksumType.UNSET, sum: '' };
  const out: ResourceJson = {
    type: dir ? ResourceType.CONTAINER : ResourceType.FILE,
    id: { opaque_id: entry.fileId },
    checksum,
    etag: entry.etag,
    mime_type: dir ? DIR_MIME : entry.mime || 'application/octet-stream',
    mtime: { seconds: seconds(entry.mtime) },
    path: revaPath(entry.path),
    permissions: entry.remote ? revaRole(entry.permissions) : Perm.ALL,
    size: Math.trunc(entry.size),
    owner: entry.remote ? remoteOwner(entry.remote.owner, entry.remote.provider) : { opaque_id: entry.owner ?? owner.uid, idp: owner.idp },
  };
  if (metadata) out.arbitrary_metadata = { metadata };
  return out;
}

/**
 * A Nextcloud permission mask as one of the four values reva v3 maps to a role (31 manager,
 * 15 editor, 1 viewer, 4 uploader); any other value would read as "denied". Rounds down: a
 * mask with every bit is 31, any write bit with read is 15, read alone is 1, create alone is 4.
 */
export function revaRole(mask: number): number {
  if ((mask & Perm.ALL) === Perm.ALL) return Perm.ALL;
  const write = Perm.UPDATE | Perm.CREATE | Perm.DELETE;
  if (mask & Perm.READ) return mask & write ? Perm.READ | write : Perm.READ;
  return mask & Perm.CREATE ? Perm.CREATE : 0;
}

/** `einstein@sender.org` (an OCM address) → `{opaque_id: "einstein", idp: "sender.org"}`. */
function remoteOwner(address: string, provider: string): { opaque_id: string; idp: string } {
  const at = address.lastIndexOf('@');
  return at > 0 ? { opaque_id: address.slice(0, at), idp: address.slice(at + 1) || provider } : { opaque_id: address, idp: provider };
}

export function versionJson(v: Version): { key: string; size: number; mtime: number; etag: string } {
  return { key: v.key, size: Math.trunc(v.size), mtime: seconds(v.mtime), etag: v.etag };
}

export function recycleItemJson(t: TrashItem) {
  return {
    type: t.type === 'dir' ? ResourceType.CONTAINER : ResourceType.FILE,
    key: t.key,
    ref: { path: revaPath(t.originalPath) },
    size: Math.trunc(t.size),
    deletion_time: { seconds: seconds(t.deletedAt) },
  };
}

/** The CS3 ResourcePermissions keys reva reads from ListGrants; every one must be present. */
export const PERMISSION_KEYS = [
  'add_grant',
  'create_container',
  'delete',
  'get_path',
  'get_quota',
  'initiate_file_download',
  'initiate_file_upload',
  'list_grants',
  'list_container',
  'list_file_versions',
  'list_recycle',
  'move',
  'remove_grant',
  'purge_recycle',
  'restore_file_version',
  'restore_recycle_item',
  'stat',
  'update_grant',
  'deny_grant',
] as const;

export function grantJson(g: Grant) {
  const granted = new Set(g.denied ? [] : g.permissions);
  const permissions = Object.fromEntries(PERMISSION_KEYS.map((k) => [k, granted.has(k)])) as Record<string, boolean>;
  const id = { idp: g.grantee.idp ?? '', opaque_id: g.grantee.id };
  return {
    // reva v3.10.4 reads grantee.Id.UserId unconditionally (a missing one panics revad), so a
    // group grant carries its id under UserId as well as under GroupId.
    grantee: g.grantee.type === 'group'
      ? { type: 2, Id: { GroupId: id, UserId: { ...id, type: 1 } } }
      : { type: 1, Id: { UserId: { ...id, type: 1 } } },
    permissions,
  };
}

export interface UserJson {
  id: { idp: string; opaque_id: string; type: number };
  username: string;
  mail?: string;
  display_name: string;
}

export function userJson(u: User, idp: string): UserJson {
  const out: UserJson = { id: { idp, opaque_id: u.name, type: 1 }, username: u.name, display_name: u.displayName ?? u.name };
  if (u.email) out.mail = u.email;
  return out;
}
