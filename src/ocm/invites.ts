/**
 * The invitation-first flow. The sender's node mints tokens (≥128 random bits, expiring); the
 * receiver's node accepts one by discovering the sender and forwarding to its
 * `/ocm/invite-accepted`; both sides then hold each other as contacts.
 */
import type { Config } from '../config.js';
import { providerDomain } from '../config.js';
import {
  AlreadyExistsError,
  BadGatewayError,
  BadRequestError,
  ForbiddenError,
  MeshdavError,
  NotFoundError,
} from '../errors.js';
import type { Contacts } from './contacts.js';
import type { DiscoveryClient } from './discovery.js';
import type { UserDirectory } from './deps.js';
import type { ProviderTrust } from './addresses.js';
import { normalizeProvider } from './addresses.js';
import type { RemoteClient } from './remote.js';
import { type Invite, type OcmDb, randomToken, valuesWithPrefix } from './records.js';

/** What generate-invite and list-invite return. */
export interface InviteView {
  token: string;
  description?: string;
  recipient?: string;
  /** Unix seconds. */
  expiration: number;
  invite_link: string;
  invite_string: string;
  accepted: boolean;
}

export interface InviteAcceptedRequest {
  recipientProvider: string;
  token: string;
  userID: string;
  email: string;
  name: string;
}

export function encodeInviteString(token: string, provider: string): string {
  return Buffer.from(`${token}@${provider}`, 'utf8').toString('base64');
}

/** Splits an invite string on its last `@`; BadRequestError when it is not one. */
export function decodeInviteString(s: string): { token: string; providerDomain: string } {
  const text = Buffer.from(s.trim(), 'base64').toString('utf8');
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1 || /[\s\u0000-\u001f]/.test(text)) throw new BadRequestError('invalid invite string');
  return { token: text.slice(0, at), providerDomain: normalizeProvider(text.slice(at + 1)) };
}

export class Invites {
  /** Tokens whose acceptance is being processed right now. */
  private readonly accepting = new Set<string>();

  constructor(
    private readonly deps: {
      config: Config;
      db: OcmDb;
      contacts: Contacts;
      users: UserDirectory;
      discovery: DiscoveryClient;
      remote: RemoteClient;
      trust: ProviderTrust;
    },
  ) {}

  private get domain(): string {
    return providerDomain(this.deps.config.publicUrl);
  }

  async generate(owner: string, opts: { description?: string; recipient?: string } = {}): Promise<InviteView> {
    const now = Date.now();
    const invite: Invite = {
      token: randomToken(),
      owner,
      description: opts.description || undefined,
      recipient: opts.recipient || undefined,
      createdAt: now,
      expiresAt: now + this.deps.config.inviteExpiryHours * 3600_000,
    };
    const db = this.deps.db;
    await db.root.batch([
      { type: 'put', key: invite.token, value: invite, sublevel: db.invites },
      { type: 'put', key: `${owner}!${invite.token}`, value: invite.token, sublevel: db.invitesByOwner },
    ] as never);
    return this.view(invite);
  }

  /** Deletes every invite `owner` made (their tokens are refused from then on); how many there were. */
  async removeAll(owner: string): Promise<number> {
    const db = this.deps.db;
    const tokens = await valuesWithPrefix<string>(db.invitesByOwner, `${owner}!`);
    await db.root.batch(
      tokens.flatMap((token) => [
        { type: 'del', key: token, sublevel: db.invites },
        { type: 'del', key: `${owner}!${token}`, sublevel: db.invitesByOwner },
      ]) as never,
    );
    return tokens.length;
  }

  async list(owner: string): Promise<InviteView[]> {
    const tokens = await valuesWithPrefix<string>(this.deps.db.invitesByOwner, `${owner}!`);
    const invites = (await this.deps.db.invites.getMany(tokens)).filter((i): i is Invite => i !== undefined);
    return invites.sort((a, b) => a.createdAt - b.createdAt).map((i) => this.view(i));
  }

  view(i: Invite): InviteView {
    const q = new URLSearchParams({ token: i.token, providerDomain: this.domain });
    return {
      token: i.token,
      ...(i.description ? { description: i.description } : {}),
      ...(i.recipient ? { recipient: i.recipient } : {}),
      expiration: Math.floor(i.expiresAt / 1000),
      invite_link: `${this.deps.config.publicUrl}/accept-invite?${q}`,
      invite_string: encodeInviteString(i.token, this.domain),
      accepted: Boolean(i.acceptedBy),
    };
  }

  /**
   * Sender side of `/ocm/invite-accepted`. ForbiddenError for an untrusted recipient provider,
   * BadRequestError for an unknown or expired token, AlreadyExistsError (409) when the invite
   * was accepted before. Returns the inviting user.
   */
  async handleInviteAccepted(req: InviteAcceptedRequest): Promise<{ userID: string; email: string; name: string }> {
    const provider = normalizeProvider(req.recipientProvider);
    if (!this.deps.trust.isTrusted(provider)) throw new ForbiddenError(`provider ${provider} is not trusted`);
    // One acceptance per token at a time: a concurrent second one is a 409, as a later one is.
    if (this.accepting.has(req.token)) throw new AlreadyExistsError('invitation already accepted');
    this.accepting.add(req.token);
    try {
      const invite = (await this.deps.db.invites.get(req.token)) ?? undefined;
      if (!invite) throw new BadRequestError('invalid or non existing token');
      if (invite.expiresAt <= Date.now()) throw new BadRequestError('token expired');
      if (invite.acceptedBy) throw new AlreadyExistsError('invitation already accepted');
      const owner = await this.deps.users.lookup(invite.owner);
      if (!owner) throw new BadRequestError('the inviting user no longer exists');
      await this.deps.db.invites.put(invite.token, { ...invite, acceptedBy: { userId: req.userID, provider, at: Date.now() } });
      await this.deps.contacts.add({ owner: invite.owner, userId: req.userID, provider, name: req.name, email: req.email });
      return { userID: owner.name, email: owner.email, name: owner.displayName };
    } finally {
      this.accepting.delete(req.token);
    }
  }

  /**
   * Receiver side of accept-invite: discover the sender, forward to its `/invite-accepted`, and
   * store the inviting user as a contact of `localUser`. Errors: 400 invalid/expired token,
   * 403 untrusted, 409 already accepted, 502/504 sender unreachable.
   */
  async accept(localUser: string, input: { token: string; providerDomain: string }): Promise<{ userID: string; email: string; name: string; idp: string }> {
    const provider = normalizeProvider(input.providerDomain);
    if (!this.deps.trust.isTrusted(provider)) throw new ForbiddenError(`provider ${provider} is not trusted`);
    const me = await this.deps.users.lookup(localUser);
    if (!me) throw new NotFoundError(`unknown user ${localUser}`);
    const disco = await this.deps.discovery.discover(provider);
    const res = await this.deps.remote.postJson(`${disco.endPoint}/invite-accepted`, {
      recipientProvider: this.domain,
      token: input.token,
      userID: me.name,
      email: me.email,
      name: me.displayName,
    } satisfies InviteAcceptedRequest, disco);
    if (res.status !== 200 && res.status !== 201) throw remoteInviteError(res.status, res.json);
    const body = (res.json ?? {}) as Record<string, unknown>;
    const userID = typeof body.userID === 'string' ? body.userID : typeof body.user_id === 'string' ? body.user_id : '';
    if (!userID) throw new BadGatewayError(`${provider} answered invite-accepted without a userID`);
    const contact = await this.deps.contacts.add({
      owner: localUser,
      userId: userID.toLowerCase().endsWith(`@${provider}`) ? userID.slice(0, userID.lastIndexOf('@')) : userID,
      provider,
      name: typeof body.name === 'string' ? body.name : userID,
      email: typeof body.email === 'string' ? body.email : '',
    });
    return { userID: contact.userId, email: contact.email, name: contact.name, idp: provider };
  }
}

function remoteInviteError(status: number, body: unknown): MeshdavError {
  const msg = (body as { message?: unknown; error?: unknown } | undefined)?.message ?? (body as { error?: unknown } | undefined)?.error;
  const reason = typeof msg === 'string' && msg.length < 300 ? `: ${msg}` : '';
  if (status === 400 || status === 404) return new BadRequestError(`invalid or expired token${reason}`);
  if (status === 401 || status === 403) return new ForbiddenError(`the inviting provider does not trust this one${reason}`);
  if (status === 409) return new AlreadyExistsError(`invitation already accepted${reason}`);
  return new BadGatewayError(`the inviting provider answered ${status}${reason}`);
}
