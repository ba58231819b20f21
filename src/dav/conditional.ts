/**
 * Conditional requests: the HTTP validators (RFC 9110 §13: If-Match, If-None-Match,
 * If-Modified-Since, If-Unmodified-Since) and the WebDAV `If:` header (RFC 4918 §10.4) with
 * lock tokens, entity tags, tagged and untagged lists and `Not`.
 */
import type { Context } from 'koa';
import type { Entry } from '../fs/types.js';
import { BadRequestError, PreconditionFailedError } from '../errors.js';

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

function etagList(header: string): string[] {
  return header
    .split(',')
    .map((s) => s.trim().replace(/^W\//, ''))
    .filter(Boolean)
    .map((s) => s.replace(/^"(.*)"$/, '$1'));
}

function parseDate(value: string | undefined): number | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

/**
 * Evaluates the HTTP validators against `entry` (null = nothing there). Returns 'not-modified'
 * when a GET/HEAD should answer 304; throws PreconditionFailedError for a failed precondition.
 */
export function checkHttpPreconditions(ctx: Context, entry: Entry | null): 'ok' | 'not-modified' {
  const safe = ctx.method === 'GET' || ctx.method === 'HEAD';
  const ifMatch = ctx.get('if-match');
  const ifNoneMatch = ctx.get('if-none-match');
  const mtimeSec = entry ? Math.floor(entry.mtime / 1000) * 1000 : 0;
  if (ifMatch) {
    const tags = etagList(ifMatch);
    const ok = entry !== null && (tags.includes('*') || tags.includes(entry.etag));
    if (!ok) throw new PreconditionFailedError('If-Match failed');
  } else {
    const since = parseDate(ctx.get('if-unmodified-since'));
    if (since !== null && entry && mtimeSec > since) throw new PreconditionFailedError('modified since If-Unmodified-Since');
  }
  if (ifNoneMatch) {
    const tags = etagList(ifNoneMatch);
    const match = entry !== null && (tags.includes('*') || tags.includes(entry.etag));
    if (match) {
      if (safe) return 'not-modified';
      throw new PreconditionFailedError('If-None-Match failed');
    }
  } else if (safe && entry) {
    const since = parseDate(ctx.get('if-modified-since'));
    if (since !== null && mtimeSec <= since) return 'not-modified';
  }
  return 'ok';
}

export interface IfCondition {
  not: boolean;
  token?: string;
  etag?: string;
}
export interface IfList {
  /** The tag (absolute URL or path) of a tagged list; undefined = the request URI. */
  resource?: string;
  conditions: IfCondition[];
}

/** Parses an `If:` header. Malformed → BadRequestError. */
export function parseIfHeader(header: string): IfList[] {
  const lists: IfList[] = [];
  let i = 0;
  let resource: string | undefined;
  let tagged: boolean | undefined;
  const s = header;
  const skipWs = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const readUntil = (close: string): string => {
    const end = s.indexOf(close, i);
    if (end < 0) throw new BadRequestError('malformed If header');
    const v = s.slice(i, end);
    i = end + 1;
    return v;
  };
  skipWs();
  while (i < s.length) {
    if (s[i] === '<') {
      if (tagged === false) throw new BadRequestError('malformed If header: tagged and untagged lists mixed');
      tagged = true;
      i++;
      resource = readUntil('>').trim();
      skipWs();
      if (s[i] !== '(') throw new BadRequestError('malformed If header: a tag must be followed by a list');
      continue;
    }
    if (s[i] !== '(') throw new BadRequestError('malformed If header');
    if (tagged === undefined) tagged = false;
    i++;
    const conditions: IfCondition[] = [];
    for (;;) {
      skipWs();
      if (i >= s.length) throw new BadRequestError('malformed If header: unclosed list');
      if (s[i] === ')') {
        i++;
        break;
      }
      let not = false;
      if (/^not\b/i.test(s.slice(i, i + 4))) {
        not = true;
        i += 3;
        skipWs();
      }
      if (s[i] === '<') {
        i++;
        const token = readUntil('>').trim();
        if (!token) throw new BadRequestError('malformed If header: empty state token');
        conditions.push({ not, token });
      } else if (s[i] === '[') {
        i++;
        const tag = readUntil(']').trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
        conditions.push({ not, etag: tag });
      } else {
        throw new BadRequestError('malformed If header: expected a state token or an entity tag');
      }
    }
    if (conditions.length === 0) throw new BadRequestError('malformed If header: empty list');
    lists.push({ resource: tagged ? resource : undefined, conditions });
    skipWs();
  }
  if (lists.length === 0) throw new BadRequestError('malformed If header');
  if (lists.length > 100) throw new BadRequestError('If header has too many lists');
  return lists;
}

/** Every state token named in the lists: the lock tokens the client submitted. */
export function submittedTokens(lists: IfList[]): Set<string> {
  const out = new Set<string>();
  for (const l of lists) for (const c of l.conditions) if (c.token && !c.not) out.add(c.token);
  return out;
}

export interface IfResolver {
  /** Fs path of a tag, or null when it names something outside this Fs. */
  pathOf(tag: string): string | null;
  /** Current ETag (unquoted) of the path, or null when nothing is there. */
  etagOf(path: string): Promise<string | null>;
  /** Whether a current lock with this token covers the path. */
  tokenCovers(token: string, path: string): boolean;
}

/**
 * Evaluates the lists: true when at least one list has all its conditions true. Conditions on a
 * resource outside this Fs are false.
 */
export async function evaluateIf(lists: IfList[], requestPath: string, r: IfResolver): Promise<boolean> {
  const etags = new Map<string, string | null>();
  for (const list of lists) {
    const path = list.resource === undefined ? requestPath : r.pathOf(list.resource);
    let ok = true;
    for (const c of list.conditions) {
      let v: boolean;
      if (path === null) v = false;
      else if (c.token !== undefined) v = r.tokenCovers(c.token, path);
      else {
        if (!etags.has(path)) etags.set(path, await r.etagOf(path));
        v = etags.get(path) === c.etag;
      }
      if (c.not) v = !v;
      if (!v) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}
