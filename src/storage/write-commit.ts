/**
 * Group commit for writes. A completed upload (content in uploads/, hashes known) asks to be
 * committed; requests queue per home, and each turn of the user's mutex commits every queued
 * request for distinct paths together: one round of lstat + one getMany for all records and
 * ancestors, the version links in parallel, the renames in parallel, one LevelDB batch. Under
 * load the lock is then held for a few I/O rounds per group instead of per write.
 * Each request still succeeds or fails on its own (preconditions, quota, a vanished parent);
 * a later write to a path already in the group waits for the next group, so writes to one path
 * commit in arrival order (last complete write wins).
 */
import { rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConflictError, InsufficientStorageError, NotFoundError } from '../errors.js';
import type { Checksums, WriteOptions, WriteResult } from '../fs/types.js';
import { translateFsError } from './fs-errors.js';
import { checkPreconditions, locked, toEntry, type HomeContext } from './home.js';
import { resolveMaybe } from './layout.js';
import { entryKey, newEtag, type EntryRecord } from './meta-store.js';
import { ancestorsOf, type Txn } from './txn.js';
import { keepVersion } from './versions.js';

export interface CommitRequest {
  path: string;
  parent: string;
  full: string;
  /** The complete, verified content in uploads/. */
  tmp: string;
  bytes: number;
  /** What was computed while the body streamed in (SHA1 at least). */
  sums: Checksums;
  mtime: number;
  diskTime: { fsMtime?: number };
  options: WriteOptions;
}

export interface CommitOutcome {
  result: WriteResult;
  /** The replaced content became a version (the caller prunes). */
  versioned: boolean;
}

interface Queued extends CommitRequest {
  resolve(outcome: CommitOutcome): void;
  reject(err: unknown): void;
}

interface Queue {
  items: Queued[];
  draining: boolean;
}

const queues = new WeakMap<HomeContext, Queue>();

/** Commits one completed write; resolves when its metadata is durable in LevelDB. */
export function commitWrite(home: HomeContext, req: CommitRequest): Promise<CommitOutcome> {
  let q = queues.get(home);
  if (!q) queues.set(home, (q = { items: [], draining: false }));
  const queue = q;
  const done = new Promise<CommitOutcome>((resolve, reject) => queue.items.push({ ...req, resolve, reject }));
  if (!queue.draining) void drain(home, queue);
  return done;
}

async function drain(home: HomeContext, q: Queue): Promise<void> {
  q.draining = true;
  try {
    while (q.items.length) {
      const group: Queued[] = [];
      const later: Queued[] = [];
      const paths = new Set<string>();
      for (const item of q.items) {
        if (paths.has(item.path)) later.push(item);
        else {
          paths.add(item.path);
          group.push(item);
        }
      }
      q.items = later;
      try {
        await locked(home, (txn) => commitGroup(home, txn, group));
      } catch (err) {
        for (const item of group) item.reject(err); // no-op for those already settled
      }
    }
  } finally {
    q.draining = false;
  }
}

interface Plan {
  item: Queued;
  old?: EntryRecord;
  versioned: boolean;
}

async function commitGroup(home: HomeContext, txn: Txn, group: Queued[]): Promise<void> {
  const wanted = new Set<string>();
  for (const item of group) for (const p of [item.path, ...ancestorsOf(item.path)]) wanted.add(p);
  const [stats] = await Promise.all([
    Promise.all(
      group.map((item) =>
        Promise.all([resolveMaybe(home.layout.full(home.user, item.parent), item.parent), resolveMaybe(item.full, item.path)]).catch(
          (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
        ),
      ),
    ),
    txn.prefetch([...wanted]),
  ]);

  // Checks, in arrival order, against the state the earlier requests of the group leave.
  let used = (await txn.get('/'))?.size ?? 0;
  const plans: Plan[] = [];
  for (let i = 0; i < group.length; i++) {
    const item = group[i]!;
    try {
      const s = stats[i]!;
      if (s instanceof Error) throw s;
      const [pSt, now] = s;
      if (!pSt || !pSt.isDirectory()) throw new ConflictError(`parent folder ${item.parent} does not exist`);
      if (now?.isDirectory()) throw new ConflictError(`${item.path} is a folder`);
      const stale = now ? undefined : await txn.get(item.path);
      if (stale) txn.delId(stale.id); // a record left by an out-of-band removal
      const old = now ? await txn.getOrAdopt(item.path, now) : undefined;
      checkPreconditions(old, item.options);
      const delta = item.bytes - (old?.size ?? 0);
      if (home.quotaBytes !== null && delta > 0 && used + delta > home.quotaBytes) throw new InsufficientStorageError('quota exceeded');
      used += delta;
      plans.push({ item, old, versioned: Boolean(old && home.maxVersions > 0) });
    } catch (err) {
      item.reject(translateFsError(err, item.path));
    }
  }

  // Intents first: a crash from here until the batch below leaves them for recovery at open.
  const intentKeys = plans.map((p) => entryKey(home.user, p.item.path));
  if (intentKeys.length) await home.store.intents.batch(intentKeys.map((key) => ({ type: 'put' as const, key, value: Date.now() })), (home.fsync ? { sync: true } : {}) as object);

  // Old contents become versions (hard links), then the new contents replace them.
  const linked = await Promise.all(
    plans.map((p) =>
      p.versioned && p.old
        ? keepVersion(home, txn, p.item.full, p.old).then(
            () => null,
            (err: unknown) => err,
          )
        : null,
    ),
  );
  const renamed = await Promise.all(
    plans.map((p, i) =>
      linked[i]
        ? linked[i]
        : rename(p.item.tmp, p.item.full).then(
            () => null,
            (err: unknown) => {
              const e = translateFsError(err, p.item.path);
              return e instanceof NotFoundError ? new ConflictError(`parent folder ${p.item.parent} vanished`) : e;
            },
          ),
    ),
  );

  // Configuration fsync: the renames reach the disk (their folders flushed) before the commit.
  txn.touched(...plans.filter((_, i) => !renamed[i]).map((p) => dirname(p.item.full)));

  const done: Array<[Queued, CommitOutcome]> = [];
  let queued = false;
  for (let i = 0; i < plans.length; i++) {
    const { item, old, versioned } = plans[i]!;
    if (renamed[i]) {
      item.reject(translateFsError(renamed[i], item.path));
      continue;
    }
    // The old content's checksums never carry over to the new content.
    const { fsMtime: _stale, sha1: _s, md5: _m, adler32: _a, ...kept } = old ?? ({} as Partial<EntryRecord>);
    const rec: EntryRecord = {
      ...kept,
      id: old?.id ?? (await home.store.nextId()),
      type: 'file',
      size: item.bytes,
      mtime: item.mtime,
      ...item.diskTime,
      etag: newEtag(),
      ...item.sums,
    };
    txn.put(item.path, rec);
    if (!old) txn.setId(rec.id, item.path);
    if (!rec.md5 || !rec.adler32) {
      txn.putIn(home.store.sums, `${home.user}:${rec.id}`, rec.etag);
      queued = true;
    }
    await txn.propagate(item.path, item.bytes - (old?.size ?? 0));
    done.push([item, { result: { entry: toEntry(home, item.path, rec), created: !old }, versioned }]);
  }
  await txn.commit();
  if (intentKeys.length) await home.store.intents.batch(intentKeys.map((key) => ({ type: 'del' as const, key })));
  if (queued) home.sumsQueued();
  for (const [item, outcome] of done) item.resolve(outcome);
}

/** Flushes each folder once (its entries: the renames into it) to disk. */
