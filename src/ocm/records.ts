/**
 * The OCM records and where they live: LevelDB sublevels of services.db (`ocm-invites`,
 * `ocm-contacts`, `ocm-sent`, `ocm-received`, plus secret indexes and recorded notifications).
 * Keys are ordered so that one user's records are a range (`{user}!{…}`).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../services.js';

export type WebdavPermission = 'read' | 'write' | 'share';

export interface Invite {
  token: string;
  /** Local user who generated it. */
  owner: string;
  description?: string;
  recipient?: string;
  createdAt: number;
  /** ms since the epoch. */
  expiresAt: number;
  /** Set once a remote user accepted it; a second acceptance is a 409. */
  acceptedBy?: { userId: string; provider: string; at: number };
}

export interface Contact {
  /** Local user whose address book this is. */
  owner: string;
  /** Remote user id (their user name at their provider). */
  userId: string;
  /** Remote provider domain, host[:port]. */
  provider: string;
  name: string;
  email: string;
  createdAt: number;
}

export type ShareState = 'pending' | 'accepted' | 'declined';

export interface SentShare {
  id: string;
  /** Local user who shares. */
  owner: string;
  /** Stable file id of the shared file or folder in the owner's storage. */
  fileId: string;
  /** Storage id as revad knows it (its `mount_id`), when stored by revad. */
  storageId?: string;
  name: string;
  resourceType: 'file' | 'folder';
  permissions: WebdavPermission[];
  /** The share's secret: Bearer token of the share endpoint. Never logged. */
  secret: string;
  /**
   * The receiver required the code flow (`must-exchange-token`): the secret is only exchanged at
   * the token endpoint, and the share endpoint opens the share for access tokens only.
   */
  tokenOnly?: boolean;
  recipient: { userId: string; provider: string; displayName?: string };
  state: ShareState;
  createdAt: number;
  updatedAt: number;
  /** ms since the epoch; absent = no expiry. */
  expiresAt?: number;
}

export interface ReceivedShare {
  id: string;
  /** Local user the share is for. */
  recipient: string;
  /** The sender's id of this share (OCM providerId); the key of notifications. */
  remoteShareId: string;
  name: string;
  description?: string;
  resourceType: string;
  shareType: string;
  owner: string;
  ownerDisplayName?: string;
  sender: string;
  senderDisplayName?: string;
  /** Sender's provider domain. */
  senderProvider: string;
  /** Sender's OCM endPoint, for notifications; absent if discovery failed (revad-stored shares). */
  senderEndpoint?: string;
  webdav: {
    /** Absolute URL of the shared resource. */
    uri: string;
    sharedSecret: string;
    permissions: WebdavPermission[];
    /** OCM 1.0 share: access with Basic (secret as user name) at the sender's WebDAV root. */
    legacy: boolean;
    /** The sender requires the code flow (`must-exchange-token`): access with exchanged tokens only. */
    mustExchangeToken?: boolean;
  };
  state: ShareState;
  /** Where MOUNTS mounted it in the recipient's namespace, once accepted. */
  mountPoint?: string;
  expiresAt?: number;
  createdAt: number;
  updatedAt: number;
}

export interface RecordedNotification {
  at: number;
  notificationType: string;
  resourceType?: string;
  providerId?: string;
  message?: string;
}

/** 128+ random bits, URL-safe (no `@`, so invite strings split cleanly). */
export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** Sortable unique id. */
export function newId(): string {
  return Date.now().toString(36).padStart(9, '0') + '-' + randomBytes(8).toString('hex');
}

/** Index key for a secret: its SHA-256, so the index holds no secrets and lookups leak nothing useful. */
export function secretKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

export class OcmDb {
  readonly invites;
  readonly contacts;
  readonly sent;
  /** secretKey(secret) → sent share id. */
  readonly sentBySecret;
  readonly received;
  /** `{remoteShareId}` + secretKey → received share `{recipient}!{id}`. */
  readonly receivedByRemote;
  readonly notifications;
  /** sent share id → owner. */
  readonly sentOwner;
  /** `{owner}!{token}` → token: one user's invites as a range. */
  readonly invitesByOwner;

  constructor(readonly root: Db) {
    const db = root;
    const sub = <V>(name: string) => db.sublevel<string, V>(name, { valueEncoding: 'json' });
    this.invites = sub<Invite>('ocm-invites');
    this.contacts = sub<Contact>('ocm-contacts');
    this.sent = sub<SentShare>('ocm-sent');
    this.sentBySecret = sub<string>('ocm-sent-secret');
    this.received = sub<ReceivedShare>('ocm-received');
    this.receivedByRemote = sub<string>('ocm-received-remote');
    this.notifications = sub<RecordedNotification>('ocm-notifications');
    this.sentOwner = sub<string>('ocm-sent-owner');
    this.invitesByOwner = sub<string>('ocm-invites-owner');
  }
}

/** All values whose keys start with `prefix`. */
export async function valuesWithPrefix<V>(
  level: { values(o: { gte: string; lt: string }): AsyncIterable<V> },
  prefix: string,
): Promise<V[]> {
  const out: V[] = [];
  for await (const v of level.values({ gte: prefix, lt: prefix + '\xff' })) out.push(v);
  return out;
}

export async function getOrUndefined<V>(level: { get(k: string): Promise<V | undefined> }, key: string): Promise<V | undefined> {
  return (await level.get(key)) ?? undefined;
}
