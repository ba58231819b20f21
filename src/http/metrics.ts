/**
 * Prometheus metrics: request counts and latencies by route and status, plus process metrics.
 * The route label is the matched router pattern (never the raw path, which would hold user names
 * and file names and explode the label set).
 */
import type { Context, Next } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
