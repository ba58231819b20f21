/**
 * The outermost middleware: turns any thrown error into one response. MeshdavErrors keep their
 * status; anything else is a 500 whose message is not shown. DAV routes (ctx.state.dav) get an
 * RFC 4918 `<d:error>` body, everything else JSON `{"error","code"}` (plus OCM's
 * `message`/`validationErrors`).
 */
import type { Context, Next } from 'koa';
import type { Logger } from '../log.js';
import { MeshdavError } from '../errors.js';

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function davErrorBody(err: MeshdavError): string {
  const condition = err.davCondition ? `<d:${err.davCondition}/>` : '';
  return (
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">' +
    condition +
    `<s:exception>${escapeXml(err.name)}</s:exception><s:message>${escapeXml(err.expose ? err.message : 'internal error')}</s:message>` +
    '</d:error>'
  );
}

export function errorMiddleware(log: Logger) {
  return async function errors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (raw) {
      const known = raw instanceof MeshdavError;
      const err = known ? raw : new MeshdavError(500, 'INTERNAL', 'internal error', { cause: raw });
      if (!known || err.status >= 500) {
        log.error({ err: raw, method: ctx.method, path: ctx.path, status: err.status }, 'request failed');
      }
      if (ctx.headerSent || !ctx.writable) {
        // Streaming already started: the only honest signal left is to cut the connection.
        ctx.req.socket?.destroy();
        return;
      }
      ctx.status = err.status;
      for (const [k, v] of Object.entries(err.headers)) ctx.set(k, v);
      if (ctx.state.dav) {
        ctx.type = 'application/xml; charset=utf-8';
        ctx.body = davErrorBody(err);
      } else {
        const message = err.expose ? err.message : 'internal error';
        ctx.body = {
          error: message,
          code: err.code,
          message,
          ...(err.validationErrors ? { validationErrors: err.validationErrors } : {}),
        };
      }
    }
  };
}
