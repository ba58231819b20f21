/**
 * Prometheus metrics: request counts and latencies by route and status, plus process metrics.
 * The route label is the matched router pattern (never the raw path, which would hold user names
 * and file names and explode the label set).
 */
import type { Context, Next } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChunkStoreStats } from '../mounts/chunk-store.js';
import type { StallStats } from './stalled-clients.js';

/** What /metrics shows of the mount cache: the store's counters and the direct GETs'. */
export type MountCacheStats = ChunkStoreStats & { directGets: number; directDeclined: number; resumed: { paused: number; broken: number }; refilled: number };

export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly latency: Histogram<'method' | 'route' | 'status'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'meshdav_' });
    this.requests = new Counter({
      name: 'meshdav_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'meshdav_http_request_duration_seconds',
      help: 'HTTP request latency by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers: [this.registry],
    });
  }

  /** Files whose MD5/Adler32 the storage still has to compute (see checksum-backfill.ts). */
  deferredChecksums(count: () => Promise<number>): void {
    new Gauge({
      name: 'meshdav_storage_checksums_deferred',
      help: 'Uploaded files whose MD5 and Adler32 are still to be computed in the background',
      registers: [this.registry],
      async collect() {
        this.set(await count());
      },
    });
  }

  /**
   * A counter read from `read()` when scraped: one series per key of what it returns, as the
   * value of `label` (or a single unlabelled series, key '', when there is no label).
   */
  private scrapedCounter(name: string, help: string, label: string | undefined, read: () => Record<string, number>): void {
    new Counter({
      name,
      help,
      labelNames: label ? [label] : [],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [value, n] of Object.entries(read())) {
          if (label) this.inc({ [label]: value }, n);
          else this.inc(n);
        }
      },
    });
  }

  /** Connections closed because their client stalled a transfer (stalled-clients.ts). */
  stalledClients(stats: StallStats): void {
    this.scrapedCounter(
      'meshdav_http_stalled_connections_closed_total',
      'Connections closed because the client moved no byte for limits.clientStallMs, by what it stopped doing',
      'waiting',
      () => ({ response: stats.responses, 'request-body': stats.bodies }),
    );
  }

  /** Incoming OCM requests by what their signature showed (src/ocm/signed-origin.ts). */
  ocmSignatures(stats: { verified: number; unsigned: number; refused: number }): void {
    this.scrapedCounter(
      'meshdav_ocm_incoming_requests_total',
      'OCM requests from other sites by signature: verified, unsigned (from a site that signs nothing), refused (bad, missing or foreign signature)',
      'signature',
      () => ({ verified: stats.verified, unsigned: stats.unsigned, refused: stats.refused }),
    );
  }

  /** Deleted items purged from the trash after trashRetentionDays (src/storage/trash-expiry.ts). */
  trashPurged(expiry: { purged: number }): void {
    this.scrapedCounter('meshdav_storage_trash_expired_total', 'Deleted items purged from users\' trash after trashRetentionDays', undefined, () => ({ '': expiry.purged }));
  }

  /** Access tokens this node issued at its OCM token endpoint (the code flow: src/ocm/token-endpoint.ts). */
  ocmAccessTokens(tokens: { issued: number }): void {
    this.scrapedCounter('meshdav_ocm_access_tokens_issued_total', 'Access tokens issued to other sites for the shares they read (the OCM code flow)', undefined, () => ({ '': tokens.issued }));
  }

  /** The receiver's content cache (src/mounts/chunk-store.ts) and its GETs (direct-get.ts), read when scraped. */
  mountCache(stats: () => MountCacheStats): void {
    const counter = (name: string, help: string, value: (s: MountCacheStats) => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(value(stats()));
        },
      });
    counter('meshdav_mount_cache_fetched_chunks_total', 'Content chunks fetched from sharing sites', (s) => s.loads);
    counter('meshdav_mount_cache_memory_hits_total', 'Content chunks served from the memory cache', (s) => s.memoryHits);
    counter('meshdav_mount_cache_disk_hits_total', 'Content chunks served from the disk cache', (s) => s.diskHits);
    counter('meshdav_mount_cache_spills_dropped_total', 'Fetched chunks not cached because the disk write queue was full', (s) => s.spillsDropped);
    counter('meshdav_mount_cache_refilled_chunks_total', 'Chunks a read could not cache, fetched again in the background once the cache was idle', (s) => s.refilled);
    counter('meshdav_mount_direct_gets_total', 'Content GETs to sharing sites read straight into the cache', (s) => s.directGets);
    counter('meshdav_mount_direct_declined_total', 'Content GET answers that could not be read straight into the cache (fetched again the general way)', (s) => s.directDeclined);
    new Counter({
      name: 'meshdav_mount_gets_resumed_total',
      help: 'Content GETs reopened where they stopped: closed while their reader paused (paused), or broken off by the network or the sender (broken)',
      labelNames: ['why'],
      registers: [this.registry],
      collect() {
        const { resumed } = stats();
        this.reset();
        this.inc({ why: 'paused' }, resumed.paused);
        this.inc({ why: 'broken' }, resumed.broken);
      },
    });
    new Gauge({
      name: 'meshdav_mount_cache_bytes',
      help: 'Bytes held by the content cache, by tier',
      labelNames: ['tier'],
      registers: [this.registry],
      collect() {
        const s = stats();
        this.set({ tier: 'memory' }, s.memoryBytes);
        this.set({ tier: 'disk' }, s.diskBytes);
      },
    });
  }

  middleware() {
    return async (ctx: Context, next: Next): Promise<void> => {
      const start = process.hrtime.bigint();
      try {
        await next();
      } finally {
        const route = (ctx.state.route as string | undefined) ?? (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
        const labels = { method: ctx.method, route: String(route), status: String(ctx.status) };
        this.requests.inc(labels);
        this.latency.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
      }
    };
  }
}
