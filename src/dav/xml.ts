/**
 * XML request bodies for PROPFIND, PROPPATCH and LOCK: bounded read, parse with DTDs and entity
 * expansion off, namespace resolution into a small element tree, and the inverse serialisation
 * used to store dead-property values verbatim.
 *
 * Contract: any `<!DOCTYPE`/`<!ENTITY` or undeclared entity → BadRequestError (never expanded);
 * malformed XML or an undeclared namespace prefix → BadRequestError; a body over
 * `limit` bytes → PayloadTooLargeError (src/http/body.ts). Nothing is changed by a rejected body.
 */
import type { Context } from 'koa';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { BadRequestError } from '../errors.js';
import { readText } from '../http/body.js';

export const DAV_NS = 'DAV:';
export const OC_NS = 'http://owncloud.org/ns';
export const NC_NS = 'http://nextcloud.org/ns';
export const OCM_NS = 'http://open-cloud-mesh.org/ns';
export const MESHDAV_NS = 'http://meshdav.org/ns';

export interface XmlElement {
  ns: string;
  local: string;
  /** Attributes by their raw (possibly prefixed) name, values decoded; xmlns declarations excluded. */
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  htmlEntities: false,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
});

/** Reads and parses the request body; null for an empty body. */
export async function readXmlBody(ctx: Context, limit: number): Promise<XmlElement | null> {
  const text = await readText(ctx, limit);
  if (text.trim() === '') return null;
  return parseXml(text);
}

export function parseXml(text: string): XmlElement {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new BadRequestError('XML with a DOCTYPE or entity declarations is refused');
  if (maxNesting(text) > MAX_DEPTH) throw new BadRequestError(`XML nested deeper than ${MAX_DEPTH} levels`);
  let raw: unknown[];
  try {
    const valid = XMLValidator.validate(text);
    if (valid !== true) throw new BadRequestError(`malformed XML: ${valid.err.msg}`);
    raw = parser.parse(text) as unknown[];
  } catch (err) {
    if (err instanceof BadRequestError) throw err;
    throw new BadRequestError('malformed XML');
  }
  const roots = raw.map((n) => convert(n as RawNode, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]))).filter(isElement);
  if (roots.length !== 1) throw new BadRequestError('XML body must have exactly one root element');
  return roots[0]!;
}

type RawNode = Record<string, unknown>;

/** Deepest element nesting a DAV body may have (real ones use fewer than 10 levels). */
const MAX_DEPTH = 64;

/** Upper bound of the element nesting, from a scan of the tags (before any recursive parse). */
function maxNesting(text: string): number {
  let depth = 0;
  let max = 0;
  const tag = /<(\/?)[^<>]*?(\/?)>/g;
  for (let m = tag.exec(text); m; m = tag.exec(text)) {
    const t = m[0];
    if (t.startsWith('<?') || t.startsWith('<!')) continue;
    if (m[1]) depth--;
    else if (!m[2]) max = Math.max(max, ++depth);
  }
  return max;
}

function convert(node: RawNode, scope: Map<string, string>): XmlNode | null {
  if ('#text' in node) return decodeEntities(String(node['#text']));
  if ('#cdata' in node) {
    const inner = node['#cdata'] as RawNode[];
    return inner.map((t) => String(t['#text'] ?? '')).join('');
  }
  const name = Object.keys(node).find((k) => k !== ':@');
  if (!name) return null;
  const rawAttrs = (node[':@'] ?? {}) as Record<string, string>;
  let local = scope;
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawAttrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      const uri = decodeEntities(String(v));
      if (k !== 'xmlns' && uri === '') throw new BadRequestError(`namespace prefix "${k.slice(6)}" bound to an empty URI`);
      if (local === scope) local = new Map(scope);
      local.set(k === 'xmlns' ? '' : k.slice(6), uri);
    } else {
      attrs[k] = decodeEntities(String(v));
    }
  }
  const colon = name.indexOf(':');
  const prefix = colon < 0 ? '' : name.slice(0, colon);
  const ns = local.get(prefix);
  if (ns === undefined && prefix !== '') throw new BadRequestError(`undeclared namespace prefix "${prefix}"`);
  const children: XmlNode[] = [];
  for (const c of (node[name] as RawNode[]) ?? []) {
    const conv = convert(c, local);
    if (conv !== null) children.push(conv);
  }
  return { ns: ns ?? '', local: colon < 0 ? name : name.slice(colon + 1), attrs, children };
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);?/g, (m, ref: string) => {
    if (!m.endsWith(';')) throw new BadRequestError('malformed entity reference');
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(cp) || cp > 0x10ffff || cp === 0) throw new BadRequestError('invalid character reference');
      return String.fromCodePoint(cp);
    }
    const v = NAMED[ref];
    if (v === undefined) throw new BadRequestError(`undeclared entity &${ref};`);
    return v;
  });
}

export function isElement(n: XmlNode | null): n is XmlElement {
  return typeof n === 'object' && n !== null;
}

export function elements(el: XmlElement): XmlElement[] {
  return el.children.filter(isElement);
}

export function child(el: XmlElement, ns: string, local: string): XmlElement | undefined {
  return el.children.find((c): c is XmlElement => isElement(c) && c.ns === ns && c.local === local);
}

export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

export function clark(el: { ns: string; local: string }): string {
  return `{${el.ns}}${el.local}`;
}

export function parseClark(name: string): { ns: string; local: string } {
  const m = /^\{([^}]*)\}(.+)$/.exec(name);
  return m ? { ns: m[1]!, local: m[2]! } : { ns: '', local: name };
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : '&quot;'));
}

/**
 * The children of `el` as a self-contained XML fragment: every element declares the namespace it
 * uses, so the fragment can be placed inside any parent. Used to store dead-property values.
 */
export function serializeChildren(el: XmlElement): string {
  return el.children.map((c) => serializeNode(c)).join('');
}

function serializeNode(n: XmlNode): string {
  if (typeof n === 'string') return escapeXml(n);
  const tag = n.ns ? `x:${n.local}` : n.local;
  const decl = n.ns ? ` xmlns:x="${escapeXml(n.ns)}"` : '';
  const attrs = Object.entries(n.attrs)
    // Unprefixed attributes and xml:* (predeclared) travel; other prefixed ones lose their binding.
    .filter(([k]) => !k.includes(':') || k.startsWith('xml:'))
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  if (n.children.length === 0) return `<${tag}${decl}${attrs}/>`;
  return `<${tag}${decl}${attrs}>${n.children.map(serializeNode).join('')}</${tag}>`;
}
