/**
 * Live properties (RFC 4918, RFC 4331 quota, ownCloud/Nextcloud/OCM ones) rendered straight to
 * XML strings from an Entry, plus the helpers PROPFIND/PROPPATCH/LOCK share: property tags for any
 * namespace and the `<d:activelock>` element.
 *
 * Contract: `render` returns the inner XML of the property, or null when the property does not
 * exist on that entry (reported as 404). It never does I/O: everything comes from the Entry and
 * the per-request PropEnv.
 */
import { Perm, type Entry, type Quota } from '../fs/types.js';
import type { Lock } from './locks.js';
import { encodeUserSegment } from './context.js';
import { DAV_NS, MESHDAV_NS, NC_NS, OC_NS, OCM_NS, escapeXml } from './xml.js';

export const PREFIXES: Record<string, string> = {
  [DAV_NS]: 'd',
  [OC_NS]: 'oc',
  [NC_NS]: 'nc',
  [OCM_NS]: 'ocm',
  'http://sabredav.org/ns': 's',
  [MESHDAV_NS]: 'm',
};

/** The namespace declarations on every multistatus root. */
export const ROOT_XMLNS = Object.entries(PREFIXES)
  .map(([ns, p]) => ` xmlns:${p}="${ns}"`)
  .join('');

export interface PropEnv {
  /** Locks covering a path (for lockdiscovery). */
  locksOn(path: string): Lock[];
  hrefFor(path: string, isDir: boolean): string;
  /** Fetched once per request when a quota property is asked for. */
  quota: Quota | null;
  user?: { name: string; displayName?: string };
}

export interface LiveProp {
  /** Included in allprop responses. */
  allprop: boolean;
  render(e: Entry, env: PropEnv): string | null;
}

export interface Tag {
  open: string;
  close: string;
  empty: string;
}

const tagCache = new Map<string, Tag>();

/** Start, end and empty tags of a property given in Clark notation `{ns}local`. */
export function tagFor(clarkName: string): Tag {
  let t = tagCache.get(clarkName);
  if (t) return t;
  const m = /^\{([^}]*)\}(.+)$/.exec(clarkName);
  const ns = m ? m[1]! : '';
  const local = m ? m[2]! : clarkName;
  const prefix = PREFIXES[ns];
  if (prefix) {
    t = { open: `<${prefix}:${local}>`, close: `</${prefix}:${local}>`, empty: `<${prefix}:${local}/>` };
  } else if (ns === '') {
    t = { open: `<${local} xmlns="">`, close: `</${local}>`, empty: `<${local} xmlns=""/>` };
  } else {
    const decl = ` xmlns:x="${escapeXml(ns)}"`;
    t = { open: `<x:${local}${decl}>`, close: `</x:${local}>`, empty: `<x:${local}${decl}/>` };
  }
  if (tagCache.size < 10_000) tagCache.set(clarkName, t);
  return t;
}

/** Nextcloud's oc:permissions letters from the Perm mask. */
export function permissionLetters(e: Entry): string {
  const p = e.permissions;
  let s = '';
  if (e.remote) s += 'S';
  if (p & Perm.SHARE) s += 'R';
  if (e.remote) s += 'M';
  if (p & Perm.DELETE) s += 'D';
  if (p & Perm.UPDATE) s += 'NV';
  if (e.type === 'file') {
    if (p & Perm.UPDATE) s += 'W';
  } else if (p & Perm.CREATE) s += 'CK';
  return s;
}

function ocmPermissions(p: number): string {
  const out: string[] = [];
  if (p & Perm.SHARE) out.push('share');
  if (p & Perm.READ) out.push('read');
  if (p & (Perm.UPDATE | Perm.CREATE)) out.push('write');
  return escapeXml(JSON.stringify(out));
}

function ownerOf(e: Entry, env: PropEnv): string | undefined {
  return e.remote?.owner ?? e.owner ?? env.user?.name;
}

const SUPPORTED_LOCK =
  '<d:lockentry><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry>' +
  '<d:lockentry><d:lockscope><d:shared/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry>';

const d = (l: string) => `{${DAV_NS}}${l}`;
const oc = (l: string) => `{${OC_NS}}${l}`;
const nc = (l: string) => `{${NC_NS}}${l}`;

export const LIVE_PROPS = new Map<string, LiveProp>([
  [d('displayname'), { allprop: true, render: (e) => escapeXml(e.name) }],
  [d('getcontentlength'), { allprop: true, render: (e) => (e.type === 'file' ? String(e.size) : null) }],
  [d('getcontenttype'), { allprop: true, render: (e) => (e.type === 'file' ? escapeXml(e.mime) : null) }],
  [d('getetag'), { allprop: true, render: (e) => `&quot;${escapeXml(e.etag)}&quot;` }],
  [d('getlastmodified'), { allprop: true, render: (e) => new Date(e.mtime).toUTCString() }],
  [d('resourcetype'), { allprop: true, render: (e) => (e.type === 'dir' ? '<d:collection/>' : '') }],
  [d('supportedlock'), { allprop: true, render: () => SUPPORTED_LOCK }],
  [d('lockdiscovery'), { allprop: true, render: (e, env) => env.locksOn(e.path).map((l) => activeLockXml(l, env.hrefFor)).join('') }],
  [
    d('quota-used-bytes'),
    { allprop: false, render: (e, env) => (e.type === 'dir' ? String(e.path === '/' && env.quota ? env.quota.used : e.size) : null) },
  ],
  [
    d('quota-available-bytes'),
    { allprop: false, render: (e, env) => (e.type === 'dir' ? String(env.quota?.available ?? -3) : null) },
  ],
  [
    d('current-user-principal'),
    {
      allprop: false,
      render: (_e, env) => (env.user ? `<d:href>/remote.php/dav/principals/users/${escapeXml(encodeUserSegment(env.user.name))}/</d:href>` : '<d:unauthenticated/>'),
    },
  ],
  [oc('fileid'), { allprop: false, render: (e) => escapeXml(e.fileId) }],
  [oc('id'), { allprop: false, render: (e) => escapeXml(e.fileId) }],
  [oc('permissions'), { allprop: false, render: (e) => permissionLetters(e) }],
  [oc('size'), { allprop: false, render: (e) => String(e.size) }],
  [
    oc('checksums'),
    {
      allprop: false,
      render: (e) => {
        const c = e.checksums;
        if (!c) return null;
        const parts = [c.sha1 && `SHA1:${c.sha1}`, c.md5 && `MD5:${c.md5}`, c.adler32 && `ADLER32:${c.adler32}`].filter(Boolean);
        return parts.length ? `<oc:checksum>${escapeXml(parts.join(' '))}</oc:checksum>` : null;
      },
    },
  ],
  [oc('owner-id'), { allprop: false, render: (e, env) => escapeXml(ownerOf(e, env) ?? '') }],
  [
    oc('owner-display-name'),
    {
      allprop: false,
      render: (e, env) => {
        const owner = ownerOf(e, env) ?? '';
        return escapeXml(owner === env.user?.name ? (env.user.displayName ?? owner) : owner);
      },
    },
  ],
  [oc('share-types'), { allprop: false, render: () => '' }],
  [nc('has-preview'), { allprop: false, render: () => 'false' }],
  [nc('is-encrypted'), { allprop: false, render: () => '0' }],
  [nc('mount-type'), { allprop: false, render: (e) => (e.remote ? 'shared' : '') }],
  // Where an entry of a mounted remote share comes from (the web UI's Files view).
  [`{${MESHDAV_NS}}remote-provider`, { allprop: false, render: (e) => (e.remote ? escapeXml(e.remote.provider) : null) }],
  [`{${MESHDAV_NS}}remote-share-id`, { allprop: false, render: (e) => (e.remote ? escapeXml(e.remote.shareId) : null) }],
  [`{${MESHDAV_NS}}remote-state`, { allprop: false, render: (e) => (e.remote ? (e.remote.state ?? 'ok') : null) }],
  [`{${OCM_NS}}share-permissions`, { allprop: false, render: (e) => ocmPermissions(e.permissions) }],
]);

export const ALLPROP_NAMES = [...LIVE_PROPS].filter(([, p]) => p.allprop).map(([n]) => n);

export function isLiveProp(clarkName: string): boolean {
  return LIVE_PROPS.has(clarkName);
}

/** One `<d:activelock>` element (LOCK responses and lockdiscovery). */
export function activeLockXml(l: Lock, hrefFor: (path: string, isDir: boolean) => string): string {
  const timeout = l.timeout === null ? 'Infinite' : `Second-${Math.max(0, Math.round((l.expires - Date.now()) / 1000))}`;
  return (
    '<d:activelock>' +
    `<d:locktype><d:write/></d:locktype><d:lockscope><d:${l.scope}/></d:lockscope>` +
    `<d:depth>${l.depth === 0 ? '0' : 'infinity'}</d:depth>` +
    (l.owner ? `<d:owner>${l.owner}</d:owner>` : '') +
    `<d:timeout>${timeout}</d:timeout>` +
    `<d:locktoken><d:href>${escapeXml(l.token)}</d:href></d:locktoken>` +
    `<d:lockroot><d:href>${escapeXml(hrefFor(l.root, false))}</d:href></d:lockroot>` +
    '</d:activelock>'
  );
}
