/**
 * The services of one node, built once from the configuration and handed to the routers.
 * Each area adds its own service here; app.ts only wires routers to these.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { Metrics } from './http/metrics.js';
import type { Fs } from './fs/types.js';
import { UserStore } from './auth/user-store.js';
import { Authenticator } from './auth/authenticator.js';
import { createOcmService, userDirectory, type OcmService } from './ocm/service.js';
import { LocalStorage } from './storage/local-storage.js';
import { DavServer } from './dav/server.js';
import { LockStore } from './dav/lock-store.js';
import { LevelMirror } from './storage/level-mirror.js';
import { SessionStore, type Session } from './web/session.js';
import { Mounts } from './mounts/service.js';

export type Db = Level<string, unknown>;

/** Resolves a user's whole namespace: their home, with received shares overlaid under sharesFolder. */
export interface Namespaces {
  forUser(user: string): Promise<Fs>;
}

export interface Services {
  config: Config;
  log: Logger;
  /** The one LevelDB of this node; each area takes a sublevel of its own. */
  db: Db;
  metrics: Metrics;
  /** Local users (scrypt hashes in the `users` sublevel). */
  users: UserStore;
  /** HTTP Basic (password or loopbackSecret) with failed-login throttling. */
  auth: Authenticator;
  /** The local storage engine: one LocalFs per user home (src/storage). */
  storage: LocalStorage;
  /** Each user's namespace: at first the bare home (MOUNTS overlays received shares). */
  namespaces: Namespaces;
  /** OCM: trust, discovery, invites, contacts, sent and received shares (src/ocm). */
  ocm: OcmService;
  /** The WebDAV protocol engine (src/dav): serve(ctx, target) for homes, shares and mounts. */
  dav: DavServer;
  /** Browser sessions of the web UI (src/web), kept across restarts. */
  sessions: SessionStore;
  /** Receiver mounts (src/mounts): mount table, CachedFs(RemoteFs) per mount; provides `namespaces`. */
  mounts: Mounts;
  /** Closes everything in reverse order of opening. */
  close(): Promise<void>;
}

export async function openServices(config: Config, log: Logger): Promise<Services> {
  mkdirSync(join(config.dataDir, 'db'), { recursive: true });
  const db: Db = new Level<string, unknown>(join(config.dataDir, 'db'), { valueEncoding: 'json' });
  // LevelDB caches sized for metadata (records of a few hundred bytes): 2 MiB of uncompressed
  // blocks and a 2 MiB write buffer instead of 8 + 4 MiB; the OS page cache holds the tables.
  await db.open({ cacheSize: 2 * 1024 * 1024, writeBufferSize: 2 * 1024 * 1024 });
  const metrics = new Metrics();
  const closers: Array<() => Promise<void>> = [() => db.close()];
  const users = new UserStore(db);
  const auth = new Authenticator(users, config);
  const storage = await LocalStorage.open({
    dataDir: config.dataDir,
    db,
    log,
    quotaBytes: config.quotaBytes,
    maxVersions: config.maxVersions,
    fsync: config.fsync,
    trashRetentionDays: config.trashRetentionDays,
  });
  closers.push(() => storage.close());
  metrics.deferredChecksums(() => storage.backfill.pending());
  metrics.trashPurged(storage.trashExpiry);
  const ocm = createOcmService({ config, db, log, users: userDirectory(users), homes: storage });
  closers.push(() => ocm.close());
  metrics.ocmSignatures(ocm.signatureStats);
  metrics.ocmAccessTokens(ocm.accessTokens);
  const mounts = await Mounts.open({ config, db, log, homes: storage, activity: storage.activity, exchangeToken: (provider, secret) => ocm.tokens.exchange(provider, secret) });
  closers.push(() => mounts.close());
  metrics.mountCache(() => ({ ...mounts.store.stats, directGets: mounts.direct.stats.requests, directDeclined: mounts.direct.stats.declined, resumed: mounts.resumed, refilled: mounts.refill.stats.refilled }));
  await mounts.attachReceivedShares(ocm.received);
  // Each user's home with their received shares mounted under config.sharesFolder.
  const namespaces: Namespaces = mounts.namespaces;
  const dav = new DavServer({ limits: config.limits, publicUrl: config.publicUrl });
  const lockStore = new LockStore(db, log);
  await dav.locks.attach(lockStore);
  closers.push(() => lockStore.drain());
  const sessions = new SessionStore();
  const sessionMirror = new LevelMirror<Session>(db, 'web-sessions', 'a web session', log);
  await sessions.attach(sessionMirror);
  closers.push(() => sessionMirror.drain());
  return {
    config,
    log,
    db,
    metrics,
    users,
    auth,
    storage,
    namespaces,
    ocm,
    mounts,
    dav,
    sessions,
    async close() {
      for (const c of closers.reverse()) await c();
    },
  };
}
