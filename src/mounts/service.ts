/**
 * The `mounts` service of a node: the mount table, one CachedFs(RemoteFs) per mount (built on
 * first use, over one keep-alive undici Agent and one ChunkStore for the whole node), each
 * user's NamespaceFs (which replaces `services.namespaces`), and the link to the OCM layer:
 * an accepted received share is mounted, a declined or removed one unmounted, and a share the
 * sender revoked (RemoteFs's verdict) is unmounted and removed from the OCM records. The user
 * leaves a share by deleting its mount point (declined, as in Nextcloud) and renames it by MOVE.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { Agent } from 'undici';
import type { Config } from '../config.js';
import { NotFoundError } from '../errors.js';
import { joinPath } from '../fs/path.js';
import { Perm, type Fs } from '../fs/types.js';
import type { Logger } from '../log.js';
import type { Db, Namespaces } from '../services.js';
import { CachedFs } from './cached-fs.js';
import { ChunkStore } from './chunk-store.js';
import { ChunkRefill } from './chunk-refill.js';
import { MountProps } from './mount-props.js';
import { MountTable, type MountInput, type MountRecord } from './mount-table.js';
import { NamespaceFs, type MountedShare } from './namespace.js';
import { DirectClient } from './direct-get.js';
import { ExchangedToken } from './exchanged-token.js';
import { RemoteFs, createRemoteAgent } from './remote-fs.js';

/** What the mount layer needs from the OCM layer's received shares (src/ocm/received-shares.ts). */
export interface ReceivedShareSource {
  onChange(listener: (event: { type: string; share: OcmReceivedShare }) => void | Promise<void>): () => void;
  listAll(): Promise<OcmReceivedShare[]>;
  setMountPoint(recipient: string, id: string, mountPoint: string | undefined): Promise<void>;
  remove(share: OcmReceivedShare): Promise<void>;
  decline?(recipient: string, id: string): Promise<unknown>;
}

export interface OcmReceivedShare {
  id: string;
  recipient: string;
  name: string;
  owner: string;
  senderProvider: string;
  state: string;
  webdav: { uri: string; sharedSecret: string; permissions: string[]; legacy: boolean; mustExchangeToken?: boolean };
}

export interface MountsDeps {
  config: Config;
  db: Db;
  log: Logger;
  homes: { home(user: string): Promise<Fs> };
  /** The node's transfer activity, which transfers through mounts join (see NamespaceFs). */
  activity?: { begin(large?: boolean): () => void };
  /** Exchanges a share's secret at its sender for an access token (the OCM code flow: src/ocm/token-client.ts). */
  exchangeToken?: (provider: string, secret: string) => Promise<{ accessToken: string; expiresIn: number }>;
}

export class Mounts {
  readonly store: ChunkStore;
  /** Fetches again in the background the chunks a read could not cache. */
  readonly refill: ChunkRefill;
  readonly agent: Agent;
  /** Content fetches of the mount cache (read straight into its slabs). */
  readonly direct: DirectClient;
  readonly props: MountProps;
  /** Content GETs reopened where they stopped: held paused by their reader, or broken off. */
  readonly resumed = { paused: 0, broken: 0 };
  private readonly live = new Map<string, MountedShare>();
  /** `{user}\0{file id}` → namespace path of entries seen inside mounts (pathById). */
  private readonly ids = new LRUCache<string, string>({ maxSize: 200_000, sizeCalculation: () => 1 }); // at most 200,000, none preallocated
  private received?: ReceivedShareSource;
  private unsubscribe?: () => void;

  private constructor(
    private readonly deps: MountsDeps,
    readonly table: MountTable,
  ) {
    const { cache, remote, dataDir } = deps.config;
    this.store = new ChunkStore({ memoryBytes: cache.memoryBytes, diskBytes: cache.diskBytes, dir: join(dataDir, 'cache'), chunkBytes: cache.chunkBytes });
    this.refill = new ChunkRefill(this.store);
    this.agent = createRemoteAgent(remote);
    this.direct = new DirectClient({ connectTimeoutMs: remote.connectTimeoutMs, idleTimeoutMs: remote.idleTimeoutMs });
    this.props = new MountProps(deps.db);
    table.onChange((e) => {
      if (e.type === 'removed') this.live.delete(key(e.mount));
    });
  }

  static async open(deps: MountsDeps): Promise<Mounts> {
    return new Mounts(deps, await MountTable.open(deps.db));
  }

  /** `services.namespaces`: each user's home with their mounts overlaid. */
  readonly namespaces: Namespaces = { forUser: (user) => this.forUser(user) };

  async forUser(user: string): Promise<NamespaceFs> {
    const home = await this.deps.homes.home(user);
    const ns = new NamespaceFs(home, this.deps.config.sharesFolder, () => this.mountedShares(user), user);
    ns.props = this.props;
    ns.mountOps = { leave: (record) => this.leave(record), rename: (record, name) => this.rename(record, name) };
    ns.ids = this.ids;
    ns.activity = this.deps.activity;
    return ns;
  }

  mountedShares(user: string): MountedShare[] {
    return this.table.list(user).map((record) => this.live.get(key(record)) ?? this.build(record));
  }

  /** Mounts a remote at `{sharesFolder}/{name}`, or at `name (2)`… when that name is taken. */
  async mount(input: MountInput): Promise<MountRecord> {
    const home = await this.deps.homes.home(input.user);
    const local = new Set<string>();
    try {
      for (const e of await home.list(this.deps.config.sharesFolder)) local.add(e.name);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    const name = this.table.freeName(input.user, input.name, (n) => local.has(n));
    return this.table.add({ ...input, name });
  }

  async unmount(user: string, id: string): Promise<boolean> {
    return this.table.remove(user, id);
  }

  /** The user leaves a mounted share: an OCM share is declined (the sender is told), then unmounted. */
  async leave(record: MountRecord): Promise<void> {
    const share = this.received && (await this.received.listAll()).find((s) => s.id === record.id && s.recipient === record.user);
    if (share && this.received?.decline) await this.received.decline(record.user, record.id);
    await this.unmount(record.user, record.id);
  }

  async rename(record: MountRecord, name: string): Promise<void> {
    const renamed = await this.table.rename(record.user, record.id, name);
    this.live.delete(key(record));
    if (this.received && (await this.received.listAll()).some((s) => s.id === record.id && s.recipient === record.user)) {
      await this.received.setMountPoint(record.user, record.id, joinPath(this.deps.config.sharesFolder, renamed.name));
    }
  }

  /** Follows the OCM layer: accepted → mounted, declined/removed → unmounted; reconciles once now. */
  async attachReceivedShares(received: ReceivedShareSource): Promise<void> {
    this.received = received;
    this.unsubscribe = received.onChange(async ({ type, share }) => {
      if (type === 'declined' || type === 'removed') await this.unmount(share.recipient, share.id);
      else if (share.state === 'accepted') await this.ensureMounted(share);
    });
    for (const share of await received.listAll()) {
      if (share.state === 'accepted') await this.ensureMounted(share).catch((err) => this.deps.log.warn({ err, shareId: share.id }, 'mounting a received share failed'));
    }
  }

  private async ensureMounted(share: OcmReceivedShare): Promise<void> {
    const permissions = permissionsOf(share.webdav.permissions);
    const existing = this.table.get(share.recipient, share.id);
    if (existing) {
      if (existing.permissions !== permissions || existing.url !== share.webdav.uri) {
        await this.table.update(share.recipient, share.id, { permissions, url: share.webdav.uri });
        this.live.delete(key(existing));
      }
      return;
    }
    const record = await this.mount({
      id: share.id,
      user: share.recipient,
      name: share.name.split('/').filter(Boolean).pop() ?? share.name,
      url: share.webdav.uri,
      auth: { kind: 'secret', secret: share.webdav.sharedSecret, ...(share.webdav.mustExchangeToken ? { exchangeToken: true } : {}) },
      authMode: share.webdav.legacy ? 'basic' : undefined,
      permissions,
      origin: { shareId: share.id, owner: share.owner, provider: share.senderProvider },
    });
    await this.received?.setMountPoint(share.recipient, share.id, joinPath(this.deps.config.sharesFolder, record.name));
  }

  private build(record: MountRecord): MountedShare {
    const { cache } = this.deps.config;
    const { auth, origin } = record;
    const exchange = this.deps.exchangeToken;
    const token =
      auth.kind === 'secret' && auth.exchangeToken && exchange && origin ? new ExchangedToken(() => exchange(origin.provider, auth.secret)) : undefined;
    const remote = new RemoteFs({
      url: record.url,
      auth: record.auth,
      authMode: record.authMode,
      dispatcher: this.agent,
      direct: this.direct,
      discoveryUrl: record.discoveryUrl,
      permissions: record.permissions,
      origin: record.origin,
      onAuthMode: (authMode) => {
        this.table.update(record.user, record.id, { authMode }).catch((err) => this.deps.log.warn({ err }, 'could not store auth mode'));
      },
      onRevoked: (reason) => void this.revoked(record, reason),
      ...(token ? { token } : {}),
    });
    const cacheId = createHash('sha1').update(`${record.user}\0${record.id}\0${record.url}`).digest('hex').slice(0, 16);
    const resume = {
      pausedCloseMs: this.deps.config.remote.pausedCloseMs,
      onReopen: (why: 'paused' | 'broken', at: number) => {
        this.resumed[why]++;
        this.deps.log.debug({ user: record.user, mount: record.name, at, why }, 'reopening a content GET where it stopped');
      },
    };
    const fs = new CachedFs(remote, { mode: cache.mode, metadataTtlMs: cache.metadataTtlMs, chunkBytes: cache.chunkBytes, cacheId, store: this.store, resume, refill: this.refill });
    const mounted = { record, fs };
    this.live.set(key(record), mounted);
    return mounted;
  }

  /** The sender no longer grants the share: the mount disappears, and the OCM record with it. */
  private async revoked(record: MountRecord, reason: string): Promise<void> {
    this.deps.log.info({ user: record.user, mount: record.name, reason }, 'received share revoked by the sender; unmounted');
    try {
      await this.unmount(record.user, record.id);
      const share = this.received && (await this.received.listAll()).find((s) => s.id === record.id && s.recipient === record.user);
      if (share) await this.received!.remove(share);
    } catch (err) {
      this.deps.log.warn({ err }, 'removing a revoked share failed');
    }
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.refill.close();
    this.store.close();
    this.direct.close();
    await this.agent.close();
  }
}

function key(record: MountRecord): string {
  return `${record.user}!${record.id}`;
}

/** OCM webdav permissions → Perm bits. */
export function permissionsOf(list: string[]): number {
  let p = 0;
  if (list.includes('read')) p |= Perm.READ;
  if (list.includes('write')) p |= Perm.UPDATE | Perm.CREATE | Perm.DELETE;
  if (list.includes('share')) p |= Perm.SHARE;
  return p;
}
