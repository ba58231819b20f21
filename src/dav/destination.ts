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

export interface ResolveOptions {
  /**
   * Compare paths only, whatever scheme/host/port an absolute URL names (If: tags, as Apache
   * mod_dav does: a client behind a proxy tags with the URL it mounted; the lock token still has
   * to match). Otherwise the host name must be the request's or one of `hosts`; scheme and port
   * may differ (TLS termination, port mapping).
   */
  anyAuthority?: boolean;
  /** Further host names that mean this node (the host of config.publicUrl). */
  hosts?: readonly string[];
}

/** Resolves `header` (absolute URL or absolute path) against the request and the target's base. */
export function resolveUrl(ctx: Context, target: DavTarget, header: string, options: ResolveOptions = {}): Resolved {
  // Node reads header bytes as latin1; some clients send raw UTF-8 rather than percent-encoding.
  const raw = /[\u0080-\u00ff]/.test(header) ? Buffer.from(header, 'latin1').toString('utf8') : header;
  let url: URL;
  try {
    url = new URL(raw, `${ctx.protocol}://${ctx.host || 'localhost'}`);
  } catch {
    throw new BadRequestError('malformed URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { kind: 'other-host' };
  if (/^[a-z][a-z0-9+.-]*:/i.test(raw) && !options.anyAuthority) {
    const name = url.hostname.toLowerCase();
    const here = new URL(`${ctx.protocol}://${ctx.host || 'localhost'}`).hostname.toLowerCase();
    if (name !== here && !(options.hosts ?? []).some((h) => h.toLowerCase() === name)) return { kind: 'other-host' };
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
export function parseDestination(ctx: Context, target: DavTarget, hosts: readonly string[] = []): string {
  const raw = ctx.get('destination');
  if (!raw) throw new BadRequestError('Destination header missing');
  if (raw.length > 8192) throw new BadRequestError('Destination header too long');
  const r = resolveUrl(ctx, target, raw, { hosts });
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
