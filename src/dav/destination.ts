/**
 * Resolving URLs a client names (the `Destination:` header, tags in the `If:` header) to paths
 * inside the target Fs. Absolute URLs and absolute paths are accepted, percent-encoded and
 * Unicode alike; encoded traversal is refused by decodeUrlPath.
 */
import type { Context } from 'koa';
import { decodeUrlPath, isWithin, relativeTo } from '../fs/path.js';
import { BadGatewayError, BadRequestError } from '../errors.js';
import type { DavTarget } from './context.js';

export type Resolved = { kind: 'ok'; path: string } | { kind: 'other-host' } | { kind: 'outside' };

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/** Resolves `raw` (absolute URL or absolute path) against the request and the target's base. */
export function resolveUrl(ctx: Context, target: DavTarget, header: string): Resolved {
  // Node reads header bytes as latin1; some clients send raw UTF-8 rather than percent-encoding.
  const raw = /[\u0080-\u00ff]/.test(header) ? Buffer.from(header, 'latin1').toString('utf8') : header;
  let url: URL;
  try {
    url = new URL(raw, `${ctx.protocol}://${ctx.host || 'localhost'}`);
  } catch {
    throw new BadRequestError('malformed URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { kind: 'other-host' };
  if (/^[a-z][a-z0-9+.-]*:/i.test(raw)) {
    const here = new URL(`${ctx.protocol}://${ctx.host || 'localhost'}`);
    const samePort = (url.port || defaultPort(url.protocol)) === (here.port || defaultPort(here.protocol));
    if (url.hostname.toLowerCase() !== here.hostname.toLowerCase() || !samePort) return { kind: 'other-host' };
  }
  // URL() resolves dot segments; refuse them on the raw text first so "/a/../b" cannot escape.
  const rawPath = raw.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '').split(/[?#]/)[0]!;
  const full = decodeUrlPath(rawPath);
  const base = decodeUrlPath(target.base || '/');
  if (!isWithin(full, base)) return { kind: 'outside' };
  return { kind: 'ok', path: relativeTo(full, base) };
}

/**
 * The Fs path named by the Destination header. Missing → 400; another server → 502
 * (RFC 4918 §9.8.5); outside this collection's namespace → 400.
 */
export function parseDestination(ctx: Context, target: DavTarget): string {
  const raw = ctx.get('destination');
  if (!raw) throw new BadRequestError('Destination header missing');
  if (raw.length > 8192) throw new BadRequestError('Destination header too long');
  const r = resolveUrl(ctx, target, raw);
  if (r.kind === 'other-host') throw new BadGatewayError('Destination is on another server');
  if (r.kind === 'outside') throw new BadRequestError('Destination is outside this collection');
  return r.path;
}

/** `Overwrite:` header: T (default) or F; anything else is a BadRequestError. */
export function parseOverwrite(ctx: Context): boolean {
  const v = ctx.get('overwrite').trim().toUpperCase();
  if (v === '' || v === 'T') return true;
  if (v === 'F') return false;
  throw new BadRequestError('Overwrite header must be T or F');
}
