/**
 * Shares other sites send to this node's users. An incoming share passes provider trust, the
 * recipient check and the invite gate, has its WebDAV uri resolved against the sender's
 * discovery, and is stored as pending. Accept/decline notify the sender; SHARE_UNSHARED from
 * the sender (providerId + secret) removes it. MOUNTS follows every change through `onChange`.
 */
import type { Config } from '../config.js';
import { providerDomain } from '../config.js';
import { AlreadyExistsError, BadGatewayError, BadRequestError, ForbiddenError, NotFoundError, NotImplementedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ProviderTrust } from './addresses.js';
import { normalizeProvider, parseOcmAddress } from './addresses.js';
import type { Contacts } from './contacts.js';
import type { UserDirectory } from './deps.js';
import type { DiscoveryClient, RemoteDiscovery } from './discovery.js';
import type { Notifier } from './notifications.js';
import { type IncomingShare, webdavAccessOf } from './payloads.js';
import { newId, secretKey, type OcmDb, type ReceivedShare, type ShareState, valuesWithPrefix } from './records.js';

export type ReceivedShareEvent = { type: 'created' | 'accepted' | 'declined' | 'removed' | 'updated'; share: ReceivedShare };
export type ReceivedShareListener = (event: ReceivedShareEvent) => void | Promise<void>;

const key = (recipient: string, id: string) => `${recipient}!${id}`;
const remoteKey = (remoteShareId: string, secret: string) => `${remoteShareId}!${secretKey(secret)}`;

export class ReceivedShares {
  private readonly listeners = new Set<ReceivedShareListener>();

  constructor(
    private readonly deps: {
      config: Config;
      db: OcmDb;
      contacts: Contacts;
      users: UserDirectory;
      discovery: DiscoveryClient;
      trust: ProviderTrust;
      notifier: Notifier;
      log: Logger;
    },
  ) {}

  /**
   * Subscribes to every change of any received share; returns the unsubscribe function.
   * Listeners run in order and are awaited before the change's request is answered; a listener
   * that throws is logged and does not undo the change.
   */
  onChange(listener: ReceivedShareListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async emit(type: ReceivedShareEvent['type'], share: ReceivedShare): Promise<void> {
    for (const l of this.listeners) {
      try {
        await l({ type, share });
      } catch (err) {
        this.deps.log.error({ err, type, shareId: share.id }, 'received-share listener failed');
      }
    }
  }

  /**
   * Handles `POST /ocm/shares`. ForbiddenError for an untrusted sender or one that is not a
   * contact of the recipient (unless auto-accepted); NotFoundError for an unknown recipient;
   * NotImplementedError for unsupported share/resource types or protocols; BadRequestError for
   * bad fields; BadGatewayError when a relative uri cannot be resolved. Nothing stored on error.
   */
  async receive(incoming: IncomingShare): Promise<{ share: ReceivedShare; recipientDisplayName: string }> {
    const recipientAddr = parseOcmAddress(incoming.shareWith);
    const sender = parseOcmAddress(incoming.sender);
    const owner = parseOcmAddress(incoming.owner);
    if (!this.deps.trust.isTrusted(sender.provider)) throw new ForbiddenError(`provider ${sender.provider} is not trusted`);
    if (incoming.shareType.toLowerCase() !== 'user') throw new NotImplementedError(`share type "${incoming.shareType}" is not supported`);
    const resourceType = incoming.resourceType.toLowerCase();
    if (resourceType !== 'file' && resourceType !== 'folder') {
      throw new NotImplementedError(`resource type "${incoming.resourceType}" is not supported`);
    }
    const access = webdavAccessOf(incoming);
    // A share for a user of another provider is not for anyone here.
    if (recipientAddr.provider !== this.domain) throw new NotFoundError(`${incoming.shareWith} is not a user of this provider`);
    const user = await this.deps.users.lookup(recipientAddr.user);
    if (!user) throw new NotFoundError(`unknown recipient ${recipientAddr.user}`);
    const known = await this.deps.contacts.get(user.name, sender.provider, sender.user);
    const auto = this.deps.config.autoAcceptProviders.some((p) => safeDomain(p) === sender.provider);
    if (!known && !auto) throw new ForbiddenError(`${sender.user}@${sender.provider} is not a contact of the recipient: an invite must be accepted first`);

    let disco: RemoteDiscovery | undefined;
    try {
      disco = await this.deps.discovery.discover(sender.provider);
    } catch (err) {
      if (!/^https?:\/\//i.test(access.uri)) throw err; // a relative or empty uri needs the sender's WebDAV root
    }
    if (/^https?:\/\//i.test(access.uri)) assertSenderHost(access.uri, sender.provider, disco);
    // This site requires the code flow: every share is read with exchanged tokens, so its sender
    // must offer a token endpoint.
    const mustExchangeToken = access.mustExchangeToken || this.deps.config.requireTokenExchange;
    if (mustExchangeToken && !disco) throw new BadGatewayError(`the discovery of ${sender.provider} cannot be read, and the share needs its tokenEndPoint`);
    if (mustExchangeToken && !disco!.tokenEndPoint) {
      throw new BadRequestError('the share needs the OCM code flow (must-exchange-token), and the sender offers no tokenEndPoint');
    }
    const uri = /^https?:\/\//i.test(access.uri)
      ? access.uri
      : access.uri === ''
        ? disco!.webdavRoot
        : `${disco!.webdavRoot}/${access.uri.replace(/^\/+/, '')}`;
    const now = Date.now();
    const expiration = incoming.expiration == null ? undefined : Number(incoming.expiration);
    const share: ReceivedShare = {
      id: newId(),
      recipient: user.name,
      remoteShareId: incoming.providerId,
      name: incoming.name,
      ...(incoming.description ? { description: incoming.description } : {}),
      resourceType,
      shareType: 'user',
      owner: `${owner.user}@${owner.provider}`,
      ...(incoming.ownerDisplayName ? { ownerDisplayName: incoming.ownerDisplayName } : {}),
      sender: `${sender.user}@${sender.provider}`,
      ...(incoming.senderDisplayName ? { senderDisplayName: incoming.senderDisplayName } : {}),
      senderProvider: sender.provider,
      ...(disco ? { senderEndpoint: disco.endPoint } : {}),
      webdav: { uri, sharedSecret: access.sharedSecret, permissions: access.permissions, legacy: access.legacy, ...(mustExchangeToken ? { mustExchangeToken: true } : {}) },
      state: 'pending',
      ...(expiration && Number.isFinite(expiration) && expiration > 0 ? { expiresAt: expiration * 1000 } : {}),
      createdAt: now,
      updatedAt: now,
    };
    const previous = await this.findByRemote(share.remoteShareId, share.webdav.sharedSecret);
    if (previous && previous.recipient !== share.recipient) throw new AlreadyExistsError('this share was announced for another recipient');
    if (previous) {
      // The same share announced again: keep its id and state, refresh the rest.
      const merged = { ...share, id: previous.id, state: previous.state, mountPoint: previous.mountPoint, createdAt: previous.createdAt };
      await this.put(merged);
      await this.emit('updated', merged);
      return { share: merged, recipientDisplayName: user.displayName };
    }
    await this.put(share);
    await this.emit('created', share);
    return { share, recipientDisplayName: user.displayName };
  }

  /** Adds a share stored by revad (addReceivedShare): listeners see `created`. */
  async add(share: ReceivedShare): Promise<void> {
    await this.put(share);
    await this.emit('created', share);
  }

  /** Stores a received share as given, without telling listeners. */
  async put(share: ReceivedShare): Promise<void> {
    const db = this.deps.db;
    await db.root.batch([
      { type: 'put', key: key(share.recipient, share.id), value: share, sublevel: db.received },
      { type: 'put', key: remoteKey(share.remoteShareId, share.webdav.sharedSecret), value: key(share.recipient, share.id), sublevel: db.receivedByRemote },
    ] as never);
  }

  async list(recipient: string): Promise<ReceivedShare[]> {
    return valuesWithPrefix<ReceivedShare>(this.deps.db.received, `${recipient}!`);
  }

  /** Every received share of every user (MOUNTS rebuilds its table from this at start). */
  async listAll(): Promise<ReceivedShare[]> {
    return valuesWithPrefix<ReceivedShare>(this.deps.db.received, '');
  }

  async get(recipient: string, id: string): Promise<ReceivedShare> {
    const s = (await this.deps.db.received.get(key(recipient, id))) ?? undefined;
    if (!s) throw new NotFoundError(`no received share ${id}`);
    return s;
  }

  private async findByRemote(remoteShareId: string, secret: string): Promise<ReceivedShare | undefined> {
    const ref = (await this.deps.db.receivedByRemote.get(remoteKey(remoteShareId, secret))) ?? undefined;
    return ref ? ((await this.deps.db.received.get(ref)) ?? undefined) : undefined;
  }

  /** Accepts: state accepted, listeners (MOUNTS) run, the sender gets SHARE_ACCEPTED. */
  async accept(recipient: string, id: string): Promise<ReceivedShare> {
    return this.transition(recipient, id, 'accepted', 'SHARE_ACCEPTED');
  }

  /** Declines: state declined (kept, so a later accept is still possible), SHARE_DECLINED sent. */
  async decline(recipient: string, id: string): Promise<ReceivedShare> {
    return this.transition(recipient, id, 'declined', 'SHARE_DECLINED');
  }

  /** Sets the state without notifying the sender (revad's UpdateReceivedShare). */
  async setState(recipient: string, id: string, state: ShareState): Promise<ReceivedShare> {
    const share = await this.get(recipient, id);
    const updated = { ...share, state, updatedAt: Date.now() };
    await this.put(updated);
    await this.emit(state === 'accepted' ? 'accepted' : state === 'declined' ? 'declined' : 'updated', updated);
    return this.get(recipient, id);
  }

  /** Records where MOUNTS mounted the share (shown in listings). */
  async setMountPoint(recipient: string, id: string, mountPoint: string | undefined): Promise<void> {
    const share = await this.get(recipient, id);
    await this.put({ ...share, mountPoint, updatedAt: Date.now() });
  }

  private async transition(recipient: string, id: string, state: 'accepted' | 'declined', type: 'SHARE_ACCEPTED' | 'SHARE_DECLINED'): Promise<ReceivedShare> {
    const updated = await this.setState(recipient, id, state);
    await this.deps.notifier.notify(updated.senderProvider, {
      notificationType: type,
      resourceType: updated.resourceType,
      providerId: updated.remoteShareId,
      notification: { sharedSecret: updated.webdav.sharedSecret, message: `the recipient ${state} the share` },
    });
    return updated;
  }

  /**
   * SHARE_UNSHARED from the sender: ForbiddenError unless (providerId, secret) names a share
   * this node holds — so forged and replayed notifications change nothing. `from` checks the
   * request may speak for the share's sender site (its signature).
   */
  async onUnshared(providerId: string, secret: string | undefined, from?: (domain: string) => Promise<void>): Promise<void> {
    const share = secret ? await this.findByRemote(providerId, secret) : undefined;
    if (!share) throw new ForbiddenError('unknown share or wrong secret');
    await from?.(share.senderProvider);
    await this.remove(share);
  }

  /** Deletes a received share (also revad's flows); listeners see `removed`. */
  async remove(share: ReceivedShare): Promise<void> {
    const db = this.deps.db;
    await db.root.batch([
      { type: 'del', key: key(share.recipient, share.id), sublevel: db.received },
      { type: 'del', key: remoteKey(share.remoteShareId, share.webdav.sharedSecret), sublevel: db.receivedByRemote },
    ] as never);
    await this.emit('removed', share);
  }

  /** This node's own provider domain. */
  get domain(): string {
    return providerDomain(this.deps.config.publicUrl);
  }
}

/**
 * An absolute share uri must point at the sender's own site (its provider host, or the host of
 * its discovery endPoint / WebDAV root): otherwise the receiver would fetch arbitrary URLs on
 * the sender's say-so (SSRF). BadRequestError with validationErrors otherwise.
 */
function assertSenderHost(uri: string, provider: string, disco: RemoteDiscovery | undefined): void {
  const host = new URL(uri).host.toLowerCase();
  const allowed = new Set([provider]);
  if (disco) {
    allowed.add(new URL(disco.endPoint).host.toLowerCase());
    allowed.add(new URL(disco.webdavRoot).host.toLowerCase());
  }
  if (!allowed.has(host)) {
    throw new BadRequestError('the share uri is not on the sender\'s site', {
      validationErrors: [{ name: 'protocol.webdav.uri', message: `host ${host} is not the sender's (${provider})` }],
    });
  }
}

function safeDomain(p: string): string | undefined {
  try {
    return normalizeProvider(p);
  } catch {
    return undefined;
  }
}
