/**
 * The `ocm` service of a node: trust list, discovery client, invites, contacts, sent and
 * received shares, notifications — all over the same LevelDB records that revad's OCM share
 * store verbs read and write.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Db } from '../services.js';
import { ProviderTrust } from './addresses.js';
import { Contacts } from './contacts.js';
import type { Homes, UserDirectory } from './deps.js';
import { DiscoveryClient } from './discovery.js';
import { Invites } from './invites.js';
import { Notifier } from './notifications.js';
import { ReceivedShares } from './received-shares.js';
import { OcmDb } from './records.js';
import { RemoteClient } from './remote.js';
import { SentShares } from './sent-shares.js';
import { AccessTokens } from './access-tokens.js';
import { JwksClient } from './jwks.js';
import { TokenClient } from './token-client.js';
import { MessageSigner } from './message-signatures.js';
import { RequestSigner } from './signatures.js';
import type { SignatureStats } from './signed-origin.js';
import { join } from 'node:path';

export interface OcmService {
  db: OcmDb;
  trust: ProviderTrust;
  remote: RemoteClient;
  /** This node's draft-cavage OCM request signing key (dataDir/ocm-signing-key.pem, RSA). */
  signer: RequestSigner;
  /** This node's RFC 9421 OCM request signing key (dataDir/ocm-ed25519-key.pem), published as its JWK Set. */
  messageSigner: MessageSigner;
  /** Other sites' JWK Sets, which check their RFC 9421 signatures. */
  jwks: JwksClient;
  /** Bearer tokens issued at this node's token endpoint (the code flow), each opening one share. */
  accessTokens: AccessTokens;
  /** Exchanges received shares' secrets for access tokens at their senders (the code flow). */
  tokens: TokenClient;
  /** Incoming OCM requests by what their signature showed (signed-origin.ts), for /metrics. */
  signatureStats: SignatureStats;
  discovery: DiscoveryClient;
  contacts: Contacts;
  invites: Invites;
  notifier: Notifier;
  sent: SentShares;
  received: ReceivedShares;
  users: UserDirectory;
  homes: Homes;
  close(): Promise<void>;
}

export function createOcmService(deps: { config: Config; db: Db; log: Logger; users: UserDirectory; homes: Homes }): OcmService {
  const { config, log, users, homes } = deps;
  const db = new OcmDb(deps.db);
  // Read on every call: replacing config.trustedProviders takes effect at once.
  const trust = new ProviderTrust(() => config.trustedProviders);
  const signer = new RequestSigner(join(config.dataDir, 'ocm-signing-key.pem'), config.publicUrl);
  const messageSigner = new MessageSigner(join(config.dataDir, 'ocm-ed25519-key.pem'), config.publicUrl);
  const remote = new RemoteClient(config.remote, { cavage: signer, rfc9421: messageSigner });
  const jwks = new JwksClient(remote);
  const discovery = new DiscoveryClient(remote, trust);
  const contacts = new Contacts(db);
  const notifier = new Notifier({ discovery, remote, log, db });
  const invites = new Invites({ config, db, contacts, users, discovery, remote, trust });
  const sent = new SentShares({ config, db, contacts, users, homes, discovery, remote, trust, notifier });
  const received = new ReceivedShares({ config, db, contacts, users, discovery, trust, notifier, log });
  const signatureStats: SignatureStats = { verified: 0, unsigned: 0, refused: 0 };
  return { db, trust, remote, signer, messageSigner, jwks, accessTokens: new AccessTokens(), tokens: new TokenClient({ config, discovery, remote }), signatureStats, discovery, contacts, invites, notifier, sent, received, users, homes, close: () => remote.close() };
}

/** Adapts the node's UserStore to the OCM layer's UserDirectory. */
export function userDirectory(users: {
  get(name: string): Promise<{ name: string; displayName?: string; email?: string } | undefined>;
}): UserDirectory {
  return {
    async lookup(name) {
      const u = await users.get(name);
      return u && { name: u.name, displayName: u.displayName || u.name, email: u.email ?? '' };
    },
  };
}
