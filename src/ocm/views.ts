/**
 * The JSON shapes the GUI and CLI read. Secrets are never part of them.
 */
import type { Contact, ReceivedShare, SentShare, WebdavPermission } from './records.js';

const role = (p: WebdavPermission[]) => (p.includes('write') ? 'editor' : 'viewer');
const iso = (ms: number) => new Date(ms).toISOString();

export function contactView(c: Contact) {
  return { display_name: c.name || c.userId, idp: c.provider, user_id: c.userId, mail: c.email };
}

export function sentShareView(s: SentShare, ownerDomain: string) {
  return {
    id: s.id,
    name: s.name,
    resourceType: s.resourceType,
    fileId: s.fileId,
    owner: `${s.owner}@${ownerDomain}`,
    recipient: `${s.recipient.userId}@${s.recipient.provider}`,
    shareWith: `${s.recipient.userId}@${s.recipient.provider}`,
    recipientDisplayName: s.recipient.displayName ?? s.recipient.userId,
    permissions: s.permissions,
    role: role(s.permissions),
    state: s.state,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
    ...(s.expiresAt ? { expiresAt: iso(s.expiresAt) } : {}),
  };
}

export function receivedShareView(r: ReceivedShare) {
  return {
    id: r.id,
    name: r.name,
    resourceType: r.resourceType,
    owner: r.owner,
    ownerDisplayName: r.ownerDisplayName ?? r.owner,
    sender: r.sender,
    senderDisplayName: r.senderDisplayName ?? r.sender,
    shareWith: r.recipient,
    permissions: r.webdav.permissions,
    role: role(r.webdav.permissions),
    state: r.state,
    mountPoint: r.mountPoint ?? null,
    remoteShareId: r.remoteShareId,
    uri: r.webdav.uri,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    ...(r.description ? { description: r.description } : {}),
    ...(r.expiresAt ? { expiresAt: iso(r.expiresAt) } : {}),
  };
}
