/**
 * LocalStorage: the embedded storage engine of a node. Opens the on-disk layout under dataDir
 * and the metadata sublevels of services.db, and hands out one LocalFs per user home.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { Db } from '../services.js';
import { ServiceUnavailableError } from '../errors.js';
import { Layout, validateUser } from './layout.js';
import { LocalFs } from './local-fs.js';
import { MetaStore, newEtag } from './meta-store.js';
import { KeyedMutex } from './mutex.js';
import { Txn } from './txn.js';
import { translateFsError } from './fs-errors.js';
import { closeHashWorkers } from './hash-worker.js';
import { Activity } from './activity.js';
import { ChecksumBackfill } from './checksum-backfill.js';
import { VersionPruner } from './version-pruner.js';
import { TrashExpiry } from './trash-expiry.js';
import { scanStorage, type ScanReport } from './scan.js';
import type { HomeContext } from './home.js';

export type { ScanReport } from './scan.js';

export interface LocalStorageOptions {
  dataDir: string;
  db: Db;
  log: Logger;
  /** Per-user quota in bytes; null = unlimited. */
  quotaBytes: number | null;
  /** Old versions kept per file (0 = none). */
  maxVersions: number;
  /** Flush uploads and their commits to disk before answering (configuration `fsync`). */
  fsync?: boolean;
  /** Days deleted items stay in the trash (0 or absent: for ever). */
  trashRetentionDays?: number;
  /** How often expired trash is looked for (default hourly; tests make it shorter). */
  trashSweepMs?: number;
}

export class LocalStorage {
  private readonly homes = new Map<string, Promise<LocalFs>>();
  /** Users' own quotas (storage!quotas), read at open. */
  private readonly quotas = new Map<string, number | null>();
  private readonly mutex = new KeyedMutex();
  /** Transfers in flight (local, and through mounts: services.ts); background work waits for none. */
  readonly activity = new Activity();
  /** MD5/Adler32 of large uploads, computed while the storage is quiet. */
  readonly backfill: ChecksumBackfill;
  /** Old versions beyond maxVersions, dropped after the writes that made them. */
  readonly pruner = new VersionPruner();
  /** Deleted items older than trashRetentionDays, purged in the background. */
  readonly trashExpiry: TrashExpiry;
  private closed = false;

  private constructor(
    readonly layout: Layout,
    readonly store: MetaStore,
    private readonly options: LocalStorageOptions,
  ) {
    this.backfill = new ChecksumBackfill({ store, activity: this.activity, log: options.log, contextFor: (u) => this.context(u) });
    this.trashExpiry = new TrashExpiry({
      store,
      log: options.log,
      contextFor: (u) => this.context(u),
      retentionDays: options.trashRetentionDays ?? 0,
      ...(options.trashSweepMs ? { intervalMs: options.trashSweepMs } : {}),
    });
  }

  static async open(options: LocalStorageOptions): Promise<LocalStorage> {
    const layout = await Layout.create(options.dataDir);
    const store = new MetaStore(options.db);
    await store.open();
    const storage = new LocalStorage(layout, store, options);
    for await (const [user, quota] of store.quotas.iterator()) storage.quotas.set(user, quota.bytes);
    await storage.recoverInterruptedWrites();
    storage.backfill.start();
    storage.trashExpiry.start();
    return storage;
  }

  /**
   * After a crash between renaming uploads into place and writing their metadata, the intents
   * of those writes remain: the users they belong to are reconciled with the disk (scan) before
   * anything is served, so metadata never lags behind content after a restart.
   */
  private async recoverInterruptedWrites(): Promise<void> {
    const keys = await this.store.intents.keys().all();
    if (!keys.length) return;
    const users = [...new Set(keys.map((k) => k.slice(0, k.indexOf(':'))))];
    let changed = 0;
    for (const user of users) changed += (await this.scan(user)).changed.length;
    await this.store.intents.batch(keys.map((key) => ({ type: 'del' as const, key })));
    this.options.log.warn({ users, interrupted: keys.length, changed }, 'reconciled writes interrupted by a crash');
  }


  /** The quota of `user`'s home: their own, else the node's (null: unlimited). */
  quotaOf(user: string): number | null {
    return this.quotas.has(user) ? this.quotas.get(user)! : this.options.quotaBytes;
  }

  /** The user's own quota when they have one (undefined: the node's applies). */
  ownQuota(user: string): number | null | undefined {
    return this.quotas.get(user);
  }

  /** Sets `user`'s own quota (bytes, or null for unlimited); undefined goes back to the node's. Applies at once. */
  async setQuota(user: string, quota: number | null | undefined): Promise<void> {
    validateUser(user);
    if (quota === undefined) {
      await this.store.quotas.del(user);
      this.quotas.delete(user);
    } else {
      await this.store.quotas.put(user, { bytes: quota });
      this.quotas.set(user, quota);
    }
  }

  /** Bytes in `user`'s home (their files; not trash or versions). */
  async usedBytes(user: string): Promise<number> {
    validateUser(user);
    return (await this.store.get(user, '/'))?.size ?? 0;
  }

  private context(user: string): HomeContext {
    const quotaOf = (u: string) => this.quotaOf(u);
    const ctx: HomeContext = {
      user,
      layout: this.layout,
      store: this.store,
      mutex: this.mutex,
      // Read at every check: a quota set while the home is in use applies at once.
      get quotaBytes() {
        return quotaOf(user);
      },
      maxVersions: this.options.maxVersions,
      fsync: this.options.fsync ?? false,
      log: this.options.log,
      activity: this.activity,
      sumsQueued: () => this.backfill.notify(),
      pruneLater: (id) => this.pruner.schedule(ctx, id),
    };
    return ctx;
  }

  /**
   * Deletes a user's home for good: files, old versions, trash, and every metadata record of
   * them (entries, file ids, versions, trash, pending checksums, write intents). For removing a
   * user (user-removal.ts), once nothing of theirs is in use.
   */
  async removeHome(user: string): Promise<void> {
    validateUser(user);
    const store = this.store;
    const range = { gte: `${user}:`, lt: `${user};` };
    await this.mutex.run(user, async () => {
      let ops: unknown[] = [];
      const flush = async (force = false) => {
        if (ops.length >= 10_000 || (force && ops.length)) {
          await store.db.batch(ops as never);
          ops = [];
        }
      };
      for (const sub of [store.entries, store.trashEntries]) {
        for await (const [key, rec] of sub.iterator(range)) {
          ops.push({ type: 'del', sublevel: sub, key });
          // A file id is this user's when it points into their home.
          if ((await store.ids.get(rec.id))?.startsWith(`${user}:`)) ops.push({ type: 'del', sublevel: store.ids, key: rec.id });
          await flush();
        }
      }
      for (const sub of [store.versions, store.trash, store.sums, store.intents] as const) {
        for await (const key of (sub as typeof store.sums).keys(range)) {
          ops.push({ type: 'del', sublevel: sub, key });
          await flush();
        }
      }
      await flush(true);
      await this.setQuota(user, undefined);
      for (const dir of [this.layout.home(user), join(this.layout.versions, user), join(this.layout.trash, user)]) {
        await rm(dir, { recursive: true, force: true });
      }
    });
    this.homes.delete(user);
  }

  /** The user's home, created on first use. BadRequestError for an invalid user name. */
  home(user: string): Promise<LocalFs> {
    if (this.closed) return Promise.reject(new ServiceUnavailableError('storage is closed'));
    try {
      validateUser(user);
    } catch (err) {
      return Promise.reject(err);
    }
    let fs = this.homes.get(user);
    if (!fs) {
      fs = this.createHome(user);
      this.homes.set(user, fs);
      fs.catch(() => this.homes.delete(user));
    }
    return fs;
  }

  private async createHome(user: string): Promise<LocalFs> {
    const ctx = this.context(user);
    try {
      await mkdir(this.layout.home(user), { recursive: true });
    } catch (err) {
      throw translateFsError(err, `home of ${user}`);
    }
    await this.mutex.run(user, async () => {
      if (await this.store.get(user, '/')) return;
      const txn = new Txn(this.store, user);
      const id = await this.store.nextId();
      txn.put('/', { id, type: 'dir', size: 0, mtime: Date.now(), etag: newEtag() });
      txn.setId(id, '/');
      await txn.commit();
    });
    return new LocalFs(ctx);
  }

  /** Reconciles metadata with the disk for one user or every user (see scan.ts). */
  async scan(user?: string): Promise<ScanReport> {
    const users = user === undefined ? undefined : [validateUser(user)];
    return scanStorage({ layout: this.layout, store: this.store, mutex: this.mutex, contextFor: (u) => this.context(u) }, users);
  }

  /** Waits for metadata mutations in flight; further home() calls fail. The db is closed by its owner. */
  async close(): Promise<void> {
    this.closed = true;
    await this.trashExpiry.close();
    await this.backfill.close();
    await this.mutex.drain();
    await this.pruner.close();
    await closeHashWorkers();
  }
}
