/**
 * One structured access-log line per request, at info level: method, path (never the query
 * string, which may carry invite tokens), status, duration, response size and client address.
 * Headers are never logged, so credentials and secrets cannot reach the log.
 */
import type { Context, Next } from 'koa';
import type { Logger } from '../log.js';

export function accessLog(log: Logger) {
  return async function access(ctx: Context, next: Next): Promise<void> {
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const done = () =>
        log.info(
          {
            method: ctx.method,
            path: ctx.path,
            status: ctx.status,
            ms: Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100,
            bytes: ctx.response.length,
            ip: ctx.ip,
          },
          'request',
        );
      // Streamed bodies finish after the middleware returns: log when the response is done.
      if (ctx.res.writableFinished || ctx.res.destroyed) done();
      else ctx.res.once('close', done);
    }
  };
}
