/**
 * PROPFIND (RFC 4918 §9.1): Depth 0 or 1 (missing Depth = 1, as sabre/dav and Nextcloud do;
 * infinity → 403 `propfind-finite-depth`), allprop (with include), propname and prop. Unknown
 * properties are reported in their own 404 propstat. One stat plus one list() per request; dead
 * properties are read only when the request can return them.
 */
import type { Entry, Fs } from '../../fs/types.js';
import { hasDeadProps, hasQuota } from '../../fs/guards.js';
import { BadRequestError, ForbiddenError } from '../../errors.js';
import { hrefFor, type DavRequest } from '../context.js';
import { parseDepth } from '../depth.js';
import { isListed } from '../../fs/hidden.js';
import { propstat, sendMultistatus } from '../multistatus.js';
import { ALLPROP_NAMES, LIVE_PROPS, tagFor, type LiveProp, type PropEnv, type Tag } from '../properties.js';
import { encodeUrlPath } from '../../fs/path.js';
import { DAV_NS, NC_NS, OC_NS, child, clark, elements, escapeXml, readXmlBody } from '../xml.js';

const MAX_PROPS = 500;

export interface PropfindQuery {
  mode: 'allprop' | 'propname' | 'prop';
  /** Requested names (prop) or extra names (allprop's include), Clark notation. */
  names: string[];
}

export function parsePropfindBody(body: Awaited<ReturnType<typeof readXmlBody>>): PropfindQuery {
  if (!body) return { mode: 'allprop', names: [] };
  if (body.ns !== DAV_NS || body.local !== 'propfind') throw new BadRequestError('body must be a DAV:propfind element');
  const kids = elements(body).filter((e) => e.ns === DAV_NS);
  if (kids.some((k) => k.local === 'propname')) return { mode: 'propname', names: [] };
  const prop = child(body, DAV_NS, 'prop');
  if (prop) {
    const names = [...new Set(elements(prop).map(clark))];
    if (names.length > MAX_PROPS) throw new BadRequestError(`more than ${MAX_PROPS} properties asked for`);
    return { mode: 'prop', names };
  }
  if (kids.some((k) => k.local === 'allprop')) {
    const include = child(body, DAV_NS, 'include');
    return { mode: 'allprop', names: include ? elements(include).map(clark) : [] };
  }
  throw new BadRequestError('propfind needs prop, allprop or propname');
}

const DEAD_BATCH = 256;

/**
 * Whether a requested name can be a dead property. The ownCloud/Nextcloud namespaces belong to
 * the server: names there that are not live (oc:downloadURL, nc:rich-workspace, … which clients
 * ask for on every listing) are never looked up, except oc:favorite, which clients set.
 */
function mayBeDead(name: string): boolean {
  if (LIVE_PROPS.has(name)) return false;
  if (name.startsWith(`{${OC_NS}}`) || name.startsWith(`{${NC_NS}}`)) return name === `{${OC_NS}}favorite`;
  return true;
}

/**
 * Dead properties of each entry: those the Fs listed with the entry (local storage reads them
 * with its records), else one getProps per entry, DEAD_BATCH at a time.
 */
async function loadDeadProps(fs: Fs, entries: Entry[]): Promise<Array<Readonly<Record<string, string>>>> {
  if (!hasDeadProps(fs)) return entries.map(() => ({}));
  const out: Array<Readonly<Record<string, string>>> = [];
  for (let i = 0; i < entries.length; i += DEAD_BATCH) {
    const batch = entries.slice(i, i + DEAD_BATCH);
    out.push(...(await Promise.all(batch.map((e) => e.props ?? fs.getProps(e.path).catch(() => ({}))))));
  }
  return out;
}

interface PlanItem {
  name: string;
  tag: Tag;
  live: LiveProp | undefined;
  /** Report as 404 when absent (prop, include); allprop's own names are just left out. */
  report404: boolean;
}

/**
 * Renders `<d:response>` elements for one PROPFIND query. The property plan (tags, live
 * renderers) is computed once per request, so each entry costs only its own values.
 */
export class ResponseRenderer {
  private readonly plan: PlanItem[];

  /** `minimal`: leave out the 404 propstat (`Prefer: return=minimal` or `Brief: t`, as sabre/dav). */
  constructor(
    private readonly q: PropfindQuery,
    private readonly env: PropEnv,
    minimal = false,
  ) {
    const names = q.mode === 'allprop' ? [...new Set([...ALLPROP_NAMES, ...q.names])] : q.mode === 'prop' ? q.names : [];
    const included = new Set(q.names);
    this.plan = names.map((name) => ({ name, tag: tagFor(name), live: LIVE_PROPS.get(name), report404: !minimal && (q.mode === 'prop' || (included.has(name) && !ALLPROP_NAMES.includes(name))) }));
  }

  render(e: Entry, dead: Record<string, string> | null): string {
    const { env } = this;
    let found = '';
    let missing = '';
    if (this.q.mode === 'propname') {
      for (const [name, p] of LIVE_PROPS) if (p.render(e, env) !== null) found += tagFor(name).empty;
      if (dead) for (const name of Object.keys(dead)) found += tagFor(name).empty;
    } else {
      for (const item of this.plan) {
        const v = item.live ? item.live.render(e, env) : dead?.[item.name];
        if (v === null || v === undefined) {
          if (item.report404) missing += item.tag.empty;
        } else if (v === '') found += item.tag.empty;
        else found += item.tag.open + v + item.tag.close;
      }
      if (this.q.mode === 'allprop' && dead) {
        for (const name in dead) {
          if (LIVE_PROPS.has(name) || this.q.names.includes(name)) continue;
          const tag = tagFor(name);
          const v = dead[name]!;
          found += v === '' ? tag.empty : tag.open + v + tag.close;
        }
      }
    }
    let xml = '<d:response><d:href>' + escapeXml(env.hrefFor(e.path, e.type === 'dir')) + '</d:href>';
    if (found || !missing) xml += propstat(found, 200);
    if (missing) xml += propstat(missing, 404);
    return xml + '</d:response>';
  }
}

/** One `<d:response>` (for callers rendering a few entries). */
export function renderResponse(e: Entry, q: PropfindQuery, env: PropEnv, dead: Record<string, string> | null): string {
  return new ResponseRenderer(q, env).render(e, dead);
}

/** hrefFor with the parent's href cached: a listing encodes only each member's name. */
function listingHrefs(target: DavRequest['target']): (path: string, isDir: boolean) => string {
  let lastParent = '';
  let lastHref = '';
  return (path, isDir) => {
    if (path === '/') return hrefFor(target, path, isDir);
    const slash = path.lastIndexOf('/');
    const parent = slash === 0 ? '/' : path.slice(0, slash);
    if (parent !== lastParent) {
      lastParent = parent;
      lastHref = hrefFor(target, parent, true);
    }
    return lastHref + encodeUrlPath(path.slice(slash + 1)) + (isDir ? '/' : '');
  };
}

export async function propfind(req: DavRequest): Promise<void> {
  const { ctx, fs, path, target, env } = req;
  const depth = parseDepth(ctx, 1);
  if (depth === 'infinity') throw new ForbiddenError('PROPFIND with Depth: infinity is not supported', { davCondition: 'propfind-finite-depth' });
  const query = parsePropfindBody(await readXmlBody(ctx, env.xmlBodyBytes));
  const root = await fs.stat(path);
  const members = depth === 1 && root.type === 'dir' ? await fs.list(path) : [];
  // The chunk staging folder is an implementation detail: never listed.
  const entries = [root, ...(path === '/' ? members.filter(isListed) : members)];
  const wantsQuota = query.names.some((n) => n.endsWith('}quota-used-bytes') || n.endsWith('}quota-available-bytes'));
  // Dead properties: for every entry when asked for by name. For allprop/propname, the target's,
  // and the members' that the Fs listed with them (local storage does, at no cost); no lookup per
  // member (a listing's allprop does not read 10,000 property records; Nextcloud returns none on
  // allprop at all).
  const namedDead = query.mode === 'prop' && query.names.some(mayBeDead);
  const dead = namedDead
    ? await loadDeadProps(fs, entries)
    : query.mode !== 'prop'
      ? [...(await loadDeadProps(fs, [root])), ...entries.slice(1).map((e) => e.props ?? null)]
      : null;
  const propEnv: PropEnv = {
    locksOn: (p) => env.locks.locksOn(target.lockScope, p),
    hrefFor: listingHrefs(target),
    quota: wantsQuota && hasQuota(fs) ? await fs.quota() : null,
    user: target.user,
  };
  const minimal = /\breturn=minimal\b/i.test(ctx.get('prefer')) || /^t$/i.test(ctx.get('brief').trim());
  const renderer = new ResponseRenderer(query, propEnv, minimal);
  function* responses(): Generator<string> {
    for (let i = 0; i < entries.length; i++) yield renderer.render(entries[i]!, dead?.[i] ?? null);
  }
  sendMultistatus(ctx, responses());
}
