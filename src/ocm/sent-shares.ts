/**
 * Shares this node's users send. A share is created with a fresh secret, announced to the
 * receiver's `/ocm/shares`, and stored only once the receiver answered 201 — a failure leaves
 * nothing behind. The share names its resource by stable file id, so renames keep it working.
 * Revoking deletes the record (the secret stops working at once) and sends SHARE_UNSHARED.
 */
import type { Config } from '../config.js';
import { providerDomain } from '../config.js';
import {
  BadGatewayError,
  ForbiddenError,
  MeshdavError,
  NotFoundError,
  UnauthorizedError,
} from '../errors.js';
import { normalizePath } from '../fs/path.js';
import type { Entry, Fs } from '../fs/types.js';
import type { Contacts } from './contacts.js';
import type { Homes, UserDirectory } from './deps.js';
import type { DiscoveryClient } from './discovery.js';
import { WEBDAV_SHARE_PATH } from './discovery.js';
import type { ProviderTrust } from './addresses.js';
import { normalizeProvider } from './addresses.js';
import type { Notifier } from './notifications.js';
import type { RemoteClient } from './remote.js';
import { newId, randomToken, sameSecret, secretKey, type OcmDb, type SentShare, type ShareState, valuesWithPrefix } from './records.js';

export interface CreateShareInput {
  sourcePath: string;
  recipientUsername: string;
  recipientHost: string;
  role: 'viewer' | 'editor';
  description?: string | null;
}

const key = (owner: string, id: string) => `${owner}!${id}`;

export class SentShares {
  constructor(
    private readonly deps: {
      config: Config;
      db: OcmDb;
      contacts: Contacts;
      users: UserDirectory;
      homes: Homes;
      discovery: DiscoveryClient;
      remote: RemoteClient;
      trust: ProviderTrust;
      notifier: Notifier;
    },
  ) {}

  private get domain(): string {
    return providerDomain(this.deps.config.publicUrl);
  }

  /** The absolute URL the receiver reads the share at. */
  shareUri(id: string): string {
    return `${this.deps.config.publicUrl}${WEBDAV_SHARE_PATH}${id}`;
  }

  /**
   * Creates and announces a share. ForbiddenError when the recipient is not a contact or its
   * provider not trusted; NotFoundError for a missing source; BadGatewayError /
   * GatewayTimeoutError when the receiver cannot be reached or refuses — then nothing is stored.
   */
  async create(owner: string, input: CreateShareInput): Promise<SentShare> {
    const provider = normalizeProvider(input.recipientHost);
    const recipientUser = input.recipientUsername.endsWith(`@${provider}`)
      ? input.recipientUsername.slice(0, input.recipientUsername.lastIndexOf('@'))
      : input.recipientUsername;
    if (!this.deps.trust.isTrusted(provider)) throw new ForbiddenError(`provider ${provider} is not trusted`);
    const contact = await this.deps.contacts.get(owner, provider, recipientUser);
    if (!contact) throw new ForbiddenError(`${recipientUser}@${provider} is not a contact of ${owner}: exchange an invite first`);
    const me = await this.deps.users.lookup(owner);
    if (!me) throw new NotFoundError(`unknown user ${owner}`);
    const home = await this.deps.homes.home(owner);
    const entry = await statSource(home, normalizePath(input.sourcePath));
    if (entry.path === '/') throw new ForbiddenError('the home folder itself cannot be shared');
    const now = Date.now();
    const share: SentShare = {
      id: newId(),
      owner,
      fileId: entry.fileId,
      name: entry.name,
      resourceType: entry.type === 'dir' ? 'folder' : 'file',
      permissions: input.role === 'editor' ? ['read', 'write'] : ['read'],
      secret: randomToken(),
      recipient: { userId: recipientUser, provider, displayName: contact.name },
      state: 'pending',
      createdAt: now,
      updatedAt: now,
    };
    const disco = await this.deps.discovery.discover(provider);
    // A receiver that requires the code flow gets it: the secret then opens nothing by itself.
    if (disco.criteria.includes('must-exchange-token')) share.tokenOnly = true;
    const ownerAddress = `${owner}@${this.domain}`;
    const res = await this.deps.remote.postJson(`${disco.endPoint}/shares`, {
      shareWith: `${recipientUser}@${provider}`,
      name: share.name,
      description: input.description ?? '',
      providerId: share.id,
      owner: ownerAddress,
      sender: ownerAddress,
      ownerDisplayName: me.displayName,
      senderDisplayName: me.displayName,
      shareType: 'user',
      resourceType: share.resourceType,
      protocol: {
        name: 'multi',
        options: { sharedSecret: share.secret, permissions: '{http://open-cloud-mesh.org/ns}share-permissions' },
        webdav: { uri: this.shareUri(share.id), sharedSecret: share.secret, permissions: share.permissions, requirements: share.tokenOnly ? ['must-exchange-token'] : [] },
      },
    }, disco);
    if (res.status !== 201 && res.status !== 200) throw receiverRefused(provider, res.status, res.json);
    const shownName = (res.json as { recipientDisplayName?: unknown } | undefined)?.recipientDisplayName;
    if (typeof shownName === 'string' && shownName) share.recipient.displayName = shownName;
    await this.put(share);
    return share;
  }

  /** Stores a share as given (revad's addSentShare, or after create). */
  async put(share: SentShare): Promise<void> {
    const db = this.deps.db;
    await db.root.batch([
      { type: 'put', key: key(share.owner, share.id), value: share, sublevel: db.sent },
      { type: 'put', key: secretKey(share.secret), value: share.id, sublevel: db.sentBySecret },
      { type: 'put', key: share.id, value: share.owner, sublevel: db.sentOwner },
    ] as never);
  }

  async list(owner: string): Promise<SentShare[]> {
    return valuesWithPrefix<SentShare>(this.deps.db.sent, `${owner}!`);
  }

  async get(owner: string, id: string): Promise<SentShare> {
    const s = (await this.deps.db.sent.get(key(owner, id))) ?? undefined;
    if (!s) throw new NotFoundError(`no sent share ${id}`);
    return s;
  }

  /** Any user's share by id (notifications, share endpoint), or undefined. */
  async findById(id: string): Promise<SentShare | undefined> {
    const owner = (await this.deps.db.sentOwner.get(id)) ?? undefined;
    if (owner === undefined) return undefined;
    return (await this.deps.db.sent.get(key(owner, id))) ?? undefined;
  }

  /** The live share with this id, or undefined (unknown, revoked or expired). */
  async findLive(id: string): Promise<SentShare | undefined> {
    const share = await this.findById(id);
    return share && !isExpired(share) ? share : undefined;
  }

  /** The live share this secret opens, or undefined (unknown, revoked or expired). */
  async findBySecret(secret: string): Promise<SentShare | undefined> {
    const id = (await this.deps.db.sentBySecret.get(secretKey(secret))) ?? undefined;
    if (!id) return undefined;
    const share = await this.findById(id);
    if (!share || !sameSecret(share.secret, secret) || isExpired(share)) return undefined;
    return share;
  }

  /** Deletes the share (its secret is dead from now on) and tells the receiver, best effort. */
  async revoke(owner: string, id: string): Promise<SentShare> {
    const share = await this.get(owner, id);
    await this.remove(share);
    await this.deps.notifier.notify(share.recipient.provider, {
      notificationType: 'SHARE_UNSHARED',
      resourceType: share.resourceType,
      providerId: share.id,
      notification: { sharedSecret: share.secret, message: 'the share was revoked by its owner' },
    });
    return share;
  }

  /** Deletes the record and its secret index, without notifying anyone. */
  async remove(share: SentShare): Promise<void> {
    const db = this.deps.db;
    await db.root.batch([
      { type: 'del', key: key(share.owner, share.id), sublevel: db.sent },
      { type: 'del', key: secretKey(share.secret), sublevel: db.sentBySecret },
      { type: 'del', key: share.id, sublevel: db.sentOwner },
    ] as never);
  }

  async setState(share: SentShare, state: ShareState): Promise<SentShare> {
    const updated = { ...share, state, updatedAt: Date.now() };
    await this.deps.db.sent.put(key(share.owner, share.id), updated);
    return updated;
  }

  /**
   * SHARE_ACCEPTED / SHARE_DECLINED from the receiver: ForbiddenError unless `secret` is the
   * share's secret (a forged or replayed notification about a revoked share). `from` checks the
   * request may speak for the recipient's site (its signature).
   */
  async onReceiverNotification(providerId: string, secret: string | undefined, state: ShareState, from?: (domain: string) => Promise<void>): Promise<void> {
    const share = await this.findById(providerId);
    if (!share || !secret || !sameSecret(share.secret, secret)) throw new ForbiddenError('unknown share or wrong secret');
    await from?.(share.recipient.provider);
    await this.setState(share, state);
  }
}

/** The source entry; reva-style `/home/…` paths are accepted when no such folder exists in the home. */
async function statSource(home: Fs, path: string): Promise<Entry> {
  try {
    return await home.stat(path);
  } catch (err) {
    if (!(err instanceof NotFoundError) || !/^\/home(\/|$)/.test(path)) throw err;
    return home.stat(normalizePath(path.slice('/home'.length) || '/'));
  }
}

export function isExpired(share: { expiresAt?: number }): boolean {
  return share.expiresAt !== undefined && share.expiresAt <= Date.now();
}

function receiverRefused(provider: string, status: number, body: unknown): MeshdavError {
  const msg = (body as { message?: unknown } | undefined)?.message;
  const reason = typeof msg === 'string' && msg.length < 300 ? `: ${msg}` : '';
  if (status === 404) return new NotFoundError(`${provider} does not know the recipient${reason}`);
  if (status === 401 || status === 403) return new ForbiddenError(`${provider} refused the share${reason}`);
  return new BadGatewayError(`${provider} answered ${status} to the share${reason}`);
}
