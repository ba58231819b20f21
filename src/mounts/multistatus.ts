/**
 * PROPFIND on a remote WebDAV server: the request body we send and the parser for the
 * 207 Multi-Status answer. Element names are resolved to Clark notation (`{ns}local`) by
 * following the xmlns declarations, so any prefix the server chooses works.
 *
 * Contract: `parseMultistatus` never evaluates a DTD or entities (a body that declares one is
 * rejected); it returns one `RemoteResource` per `<d:response>` with the props of its 200
 * propstat, and throws BadGatewayError for a body that is not a multistatus.
 */
import { XMLParser } from 'fast-xml-parser';
import { BadGatewayError } from '../errors.js';
import { Perm, type Checksums } from '../fs/types.js';

const DAV = 'DAV:';
const OC = 'http://owncloud.org/ns';
const OCS = 'http://open-collaboration-services.org/ns';
const OCM = 'http://open-cloud-mesh.org/ns';

export const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  `<d:propfind xmlns:d="DAV:" xmlns:oc="${OC}" xmlns:ocs="${OCS}" xmlns:ocm="${OCM}"><d:prop>` +
  '<d:resourcetype/><d:getetag/><d:getcontentlength/><d:getlastmodified/><d:getcontenttype/>' +
  '<oc:fileid/><oc:id/><oc:size/><oc:permissions/><oc:checksums/>' +
  '<ocs:share-permissions/><ocm:share-permissions/>' +
  '</d:prop></d:propfind>';

/** One resource of a multistatus answer, with the props we understand. */
export interface RemoteResource {
  /** Decoded URL path of the href (absolute path on the server). */
  hrefPath: string;
  isDir: boolean;
  etag?: string;
  size?: number;
  mtime?: number;
  mime?: string;
  fileId?: string;
  /** Perm bit mask derived from oc:permissions / share-permissions; undefined when none sent. */
  permissions?: number;
  checksums?: Checksums;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  trimValues: true,
  textNodeName: '#text',
  isArray: () => true,
});

type XNode = Record<string, unknown>;
interface Resolved {
  name: string; // Clark
  node: XNode;
  ns: Map<string, string>;
}

function children(node: XNode, ns: Map<string, string>): Resolved[] {
  const out: Resolved[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('@') || key === '#text') continue;
    for (const item of value as unknown[]) {
      const child: XNode = typeof item === 'object' && item !== null ? (item as XNode) : { '#text': [String(item)] };
      let scope = ns;
      for (const [attr, v] of Object.entries(child)) {
        if (attr === '@xmlns' || attr.startsWith('@xmlns:')) {
          if (scope === ns) scope = new Map(ns);
          scope.set(attr === '@xmlns' ? '' : attr.slice(7), String(v));
        }
      }
      const colon = key.indexOf(':');
      const prefix = colon >= 0 ? key.slice(0, colon) : '';
      const local = colon >= 0 ? key.slice(colon + 1) : key;
      out.push({ name: `{${scope.get(prefix) ?? ''}}${local}`, node: child, ns: scope });
    }
  }
  return out;
}

function text(r: Resolved | undefined): string | undefined {
  if (!r) return undefined;
  const t = r.node['#text'];
  if (t === undefined) return '';
  return decodeXmlText((Array.isArray(t) ? t.join('') : String(t)).trim());
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The five predefined XML entities and character references; nothing from a DTD. */
function decodeXmlText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return PREDEFINED[ref] ?? m;
  });
}

function find(list: Resolved[], name: string): Resolved | undefined {
  return list.find((c) => c.name === name);
}

export function parseMultistatus(xml: string): RemoteResource[] {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new BadGatewayError('remote PROPFIND answer declares a DTD');
  let doc: XNode;
  try {
    doc = parser.parse(xml) as XNode;
  } catch (err) {
    throw new BadGatewayError('remote PROPFIND answer is not XML', { cause: err });
  }
  const root = find(children(doc, new Map()), `{${DAV}}multistatus`);
  if (!root) throw new BadGatewayError('remote PROPFIND answer is not a multistatus');
  const out: RemoteResource[] = [];
  for (const response of children(root.node, root.ns).filter((c) => c.name === `{${DAV}}response`)) {
    const parts = children(response.node, response.ns);
    const href = text(find(parts, `{${DAV}}href`));
    if (!href) continue;
    const props: Resolved[] = [];
    for (const ps of parts.filter((c) => c.name === `{${DAV}}propstat`)) {
      const psParts = children(ps.node, ps.ns);
      const status = text(find(psParts, `{${DAV}}status`)) ?? '';
      if (!/\s2\d\d\b/.test(status)) continue;
      const prop = find(psParts, `{${DAV}}prop`);
      if (prop) props.push(...children(prop.node, prop.ns));
    }
    out.push(toResource(hrefPath(href), props));
  }
  return out;
}

function hrefPath(href: string): string {
  // Strip scheme and authority by hand: some servers leave `#` and `?` unencoded in hrefs.
  const path = href.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function toResource(hrefPathValue: string, props: Resolved[]): RemoteResource {
  const get = (name: string) => text(find(props, name));
  const rt = find(props, `{${DAV}}resourcetype`);
  const isDir = rt ? children(rt.node, rt.ns).some((c) => c.name === `{${DAV}}collection`) : false;
  const res: RemoteResource = { hrefPath: hrefPathValue, isDir };
  const etag = get(`{${DAV}}getetag`);
  if (etag) res.etag = etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  const len = get(`{${DAV}}getcontentlength`) || get(`{${OC}}size`);
  if (len && /^\d+$/.test(len)) res.size = Number(len);
  const lm = get(`{${DAV}}getlastmodified`);
  if (lm) {
    const t = Date.parse(lm);
    if (Number.isFinite(t)) res.mtime = t;
  }
  const mime = get(`{${DAV}}getcontenttype`);
  if (mime) res.mime = mime.split(';')[0]!.trim().toLowerCase();
  const fileId = get(`{${OC}}fileid`) || get(`{${OC}}id`);
  if (fileId) res.fileId = fileId;
  res.permissions = permissionsOf(
    get(`{${OCM}}share-permissions`),
    get(`{${OCS}}share-permissions`),
    get(`{${OC}}permissions`),
  );
  const sums = find(props, `{${OC}}checksums`);
  if (sums) res.checksums = parseChecksums(children(sums.node, sums.ns).map((c) => text(c) ?? '').join(' '));
  return res;
}

/** Nextcloud's order: OCM JSON array, then OCS integer, then oc:permissions letters. */
function permissionsOf(ocm?: string, ocs?: string, oc?: string): number | undefined {
  if (ocm) {
    try {
      const list = JSON.parse(ocm) as unknown;
      if (Array.isArray(list)) {
        let p = 0;
        for (const name of list.map(String)) {
          if (name === 'read') p |= Perm.READ;
          if (name === 'write') p |= Perm.UPDATE | Perm.CREATE | Perm.DELETE;
          if (name === 'share') p |= Perm.SHARE;
        }
        return p;
      }
    } catch {
      /* fall through to the next source */
    }
  }
  if (ocs && /^\d+$/.test(ocs)) return Number(ocs) & Perm.ALL;
  if (oc !== undefined && oc !== '') {
    let p = Perm.READ;
    if (/[WNV]/.test(oc)) p |= Perm.UPDATE;
    if (/[CK]/.test(oc)) p |= Perm.CREATE;
    if (oc.includes('D')) p |= Perm.DELETE;
    if (oc.includes('R')) p |= Perm.SHARE;
    return p;
  }
  return undefined;
}

/** `SHA1:abc MD5:def ADLER32:01` → { sha1, md5, adler32 } (lower-case hex). */
export function parseChecksums(value: string): Checksums | undefined {
  const out: Checksums = {};
  for (const token of value.split(/\s+/)) {
    const m = /^(SHA1|MD5|ADLER32):([0-9a-f]+)$/i.exec(token);
    if (!m) continue;
    const kind = m[1]!.toLowerCase() as keyof Checksums;
    out[kind] = m[2]!.toLowerCase();
  }
  return Object.keys(out).length ? out : undefined;
}
