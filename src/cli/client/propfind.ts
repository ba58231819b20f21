/**
 * PROPFIND from the client side: asks for the live properties every WebDAV server has and reads
 * the multistatus into plain entries. Works with any server (hrefs may be paths or full URLs,
 * any namespace prefix). A listing is small XML, so it is read whole (bounded).
 */
import { XMLParser } from 'fast-xml-parser';
import { CliError, EXIT } from '../errors.js';
import { discard, type DavSession } from './http.js';

export interface RemoteEntry {
  name: string;
  /** Decoded path on the server. */
  path: string;
  href: string;
  type: 'file' | 'dir';
  size: number | null;
  mtime: string | null;
  etag: string | null;
  contentType: string | null;
}

const BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n<d:propfind xmlns:d="DAV:"><d:prop>' +
  '<d:resourcetype/><d:getcontentlength/><d:getlastmodified/><d:getetag/><d:getcontenttype/>' +
  '</d:prop></d:propfind>';

const MAX_LISTING_BYTES = 64 * 1024 * 1024;

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) => name === 'response' || name === 'propstat',
});

type Obj = Record<string, unknown>;

export async function propfind(session: DavSession, url: URL, depth: '0' | '1'): Promise<RemoteEntry[]> {
  const res = await session.request('PROPFIND', url, {
    headers: { depth, 'content-type': 'application/xml; charset=utf-8' },
    body: BODY,
    ok: (s) => s === 207,
  });
  let text = '';
  for await (const chunk of res.body) {
    text += String(chunk);
    if (text.length > MAX_LISTING_BYTES) {
      discard(res.body);
      throw new CliError(`PROPFIND ${url.href}: the listing is larger than 64 MiB`, EXIT.FAILURE);
    }
  }
  let doc: Obj;
  try {
    doc = parser.parse(text) as Obj;
  } catch {
    throw new CliError(`PROPFIND ${url.href}: the server's answer is not valid XML — is this a WebDAV URL?`, EXIT.FAILURE);
  }
  const responses = ((doc.multistatus as Obj | undefined)?.response as Obj[] | undefined) ?? [];
  return responses.map((r) => toEntry(r, url));
}

function toEntry(r: Obj, base: URL): RemoteEntry {
  const href = String(r.href ?? '');
  const path = decodeURIComponent(new URL(href, base).pathname);
  const props: Obj = {};
  for (const ps of (r.propstat as Obj[] | undefined) ?? []) {
    if (!/\s2\d\d\s/.test(` ${String(ps.status ?? '')} `)) continue;
    Object.assign(props, (ps.prop as Obj | undefined) ?? {});
  }
  const rt = props.resourcetype;
  const isDir = typeof rt === 'object' && rt !== null && 'collection' in (rt as Obj);
  const size = props.getcontentlength !== undefined && props.getcontentlength !== '' ? Number(props.getcontentlength) : null;
  const lm = typeof props.getlastmodified === 'string' ? new Date(props.getlastmodified) : null;
  const trimmed = path.replace(/\/+$/, '');
  return {
    name: trimmed.slice(trimmed.lastIndexOf('/') + 1),
    path,
    href,
    type: isDir ? 'dir' : 'file',
    size: isDir ? null : Number.isFinite(size) ? size : null,
    mtime: lm && !Number.isNaN(lm.getTime()) ? lm.toISOString() : null,
    etag: typeof props.getetag === 'string' && props.getetag ? props.getetag : null,
    contentType: typeof props.getcontenttype === 'string' && props.getcontenttype ? props.getcontenttype : null,
  };
}

/** Whether an entry's path is the request URL's own path (the folder itself in a Depth 1 listing). */
export function isSelf(entry: RemoteEntry, url: URL): boolean {
  const norm = (p: string) => p.replace(/\/+$/, '') || '/';
  return norm(entry.path) === norm(decodeURIComponent(url.pathname));
}
