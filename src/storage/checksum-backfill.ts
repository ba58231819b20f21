/**
 * Deferred checksums. A large upload is hashed with SHA1 only while it streams in (writes.ts), so
 * uploads run at the speed of the network and the disk; its MD5 and Adler32 are computed here
 * afterwards. The queue (`storage!sums`, `{user}:{fileId}` → ETag) is written in the same LevelDB
 * batch as the upload's metadata, so it survives a crash or restart.
 *
 * One file at a time, read from disk through one buffer and hashed on the main thread in short
 * slices (no worker thread and its ~18 MB), and only while the storage is quiet: the work waits
 * until no transfer has run for QUIET_MS and pauses between chunks whenever one starts. A result is stored only if the file still has the
 * ETag it was queued with and its size and mtime on disk still match its record; otherwise the
 * entry is dropped (a newer write queued its own, or `meshdav scan` recomputes changed files).
 */
import { lstat, open } from 'node:fs/promises';
import { streaming } from '../http/gc-pacer.js';
import type { Logger } from '../log.js';
import type { Activity } from './activity.js';
import { createHash } from 'node:crypto';
import { Adler32, HASH_CHUNK } from './checksums.js';
import { locked, outOfDate, type HomeContext } from './home.js';
import type { MetaStore } from './meta-store.js';

/** Quiet time before (and between chunks of) background hashing, ms. */
export const QUIET_MS = 1_000;
/** Bytes hashed per turn of the event loop (MD5 + Adler32 of 256 KiB ≈ 0.5 ms here). */
const SLICE = 256 * 1024;

export interface BackfillDeps {
  store: MetaStore;
  activity: Activity;
  log: Logger;
  contextFor(user: string): HomeContext;
}

export class ChecksumBackfill {
  private readonly stop = new AbortController();
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly deps: BackfillDeps) {}

  /** Starts the background loop (idempotent). */
  start(): void {
    this.running ??= this.loop().catch((err: unknown) => {
      if (!this.stop.signal.aborted) this.deps.log.error({ err }, 'checksum backfill stopped');
    });
  }

  /** New work was queued. */
  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Files whose deferred checksums are still to be computed. */
  async pending(): Promise<number> {
    let n = 0;
    for await (const _ of this.deps.store.sums.keys()) n++;
    return n;
  }

  /** Resolves once nothing is queued any more (every queued file done or dropped). */
  async drained(): Promise<void> {
    while ((await this.pending()) > 0) await new Promise((r) => setTimeout(r, 50));
  }

  /** Stops the loop; a file being hashed is abandoned (it stays queued). */
  async close(): Promise<void> {
    this.stop.abort();
    this.notify();
    await this.running;
  }

  private async loop(): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      const [next] = await this.deps.store.sums.iterator({ limit: 1 }).all();
      if (!next) {
        if (signal.aborted) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        continue;
      }
      await this.deps.activity.whenQuiet(QUIET_MS, signal);
      // Re-read: a write during the wait may have queued newer content under the same key.
      const key = next[0];
      const etag = await this.deps.store.sums.get(key);
      if (etag === undefined) continue;
      try {
        await this.fill(key, etag, signal);
      } catch (err) {
        if (signal.aborted) return;
        this.deps.log.warn({ err, file: key }, 'deferred checksums failed; the file keeps its SHA1 only until `meshdav scan`');
        await this.forget(key, etag);
      }
    }
  }

  /** Drops the queue entry `key` if it still stands for `etag` (under the user's lock). */
  private async forget(key: string, etag: string): Promise<void> {
    await locked(this.deps.contextFor(key.slice(0, key.indexOf(':'))), async (txn) => {
      if ((await this.deps.store.sums.get(key)) !== etag) return;
      txn.delIn(this.deps.store.sums, key);
      await txn.commit();
    });
  }

  /** Hashes the file `key` names when it still has `etag`, and stores the sums. */
  private async fill(key: string, etag: string, signal: AbortSignal): Promise<void> {
    const cut = key.indexOf(':');
    const user = key.slice(0, cut);
    const home = this.deps.contextFor(user);
    const located = await this.deps.store.ids.get(key.slice(cut + 1));
    const path = located?.startsWith(`${user}:`) ? located.slice(cut + 1) : undefined;
    const rec = path === undefined ? undefined : await this.deps.store.get(user, path);
    if (path === undefined || !rec || rec.type !== 'file' || rec.etag !== etag) {
      await this.forget(key, etag); // removed or replaced: a newer write queued its own entry
      return;
    }

    const md5 = createHash('md5');
    const adler = new Adler32();
    // One buffer for the whole file, hashed on the main thread in slices of SLICE bytes with a
    // turn of the event loop between them, so a request never waits more than ~0.5 ms for it.
    const file = await open(home.layout.full(user, path), 'r');
    const endPacing = streaming();
    try {
      const buf = Buffer.allocUnsafeSlow(HASH_CHUNK);
      for (;;) {
        if (!this.deps.activity.isQuiet(QUIET_MS)) await this.deps.activity.whenQuiet(QUIET_MS, signal);
        signal.throwIfAborted();
        const { bytesRead } = await file.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        for (let off = 0; off < bytesRead; off += SLICE) {
          const piece = buf.subarray(off, Math.min(bytesRead, off + SLICE));
          md5.update(piece);
          adler.update(piece);
          await new Promise((r) => setImmediate(r));
        }
      }
    } finally {
      endPacing();
      await file.close();
    }
    const sums = { md5: md5.digest('hex'), adler32: adler.digest() };
    const stored = await locked(home, async (txn) => {
      const now = await txn.get(path);
      if (!now || now.type !== 'file' || now.etag !== etag) return false;
      if (outOfDate(now, await lstat(home.layout.full(user, path)))) return false;
      txn.put(path, { ...now, ...sums });
      txn.delIn(this.deps.store.sums, key);
      await txn.commit();
      return true;
    });
    if (!stored) await this.forget(key, etag);
  }
}
