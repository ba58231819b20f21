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
import { propstat, sendMultistatus } from '../multistatus.js';
import { ALLPROP_NAMES, LIVE_PROPS, tagFor, type PropEnv } from '../properties.js';
import { DAV_NS, child, clark, elements, escapeXml, readXmlBody } from '../xml.js';

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
  if (prop) return { mode: 'prop', names: [...new Set(elements(prop).map(clark))] };
  if (kids.some((k) => k.local === 'allprop')) {
    const include = child(body, DAV_NS, 'include');
    return { mode: 'allprop', names: include ? elements(include).map(clark) : [] };
  }
  throw new BadRequestError('propfind needs prop, allprop or propname');
}

const DEAD_BATCH = 256;

async function loadDeadProps(fs: Fs, entries: Entry[]): Promise<Array<Record<string, string>>> {
  if (!hasDeadProps(fs)) return entries.map(() => ({}));
  const out: Array<Record<string, string>> = [];
  for (let i = 0; i < entries.length; i += DEAD_BATCH) {
    const batch = entries.slice(i, i + DEAD_BATCH);
    out.push(...(await Promise.all(batch.map((e) => fs.getProps(e.path).catch(() => ({}))))));
  }
  return out;
}

/** Renders one `<d:response>` for an entry. */
export function renderResponse(e: Entry, q: PropfindQuery, env: PropEnv, dead: Record<string, string>): string {
  let found = '';
  let missing = '';
  if (q.mode === 'propname') {
    for (const [name, p] of LIVE_PROPS) if (p.render(e, env) !== null) found += tagFor(name).empty;
    for (const name of Object.keys(dead)) found += tagFor(name).empty;
  } else {
    const all = q.mode === 'allprop';
    const names = all ? [...ALLPROP_NAMES, ...Object.keys(dead), ...q.names] : q.names;
    const seen = all ? new Set<string>() : null;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (seen) {
        if (seen.has(name)) continue;
        seen.add(name);
      }
      const tag = tagFor(name);
      const live = LIVE_PROPS.get(name);
      const v = live ? live.render(e, env) : dead[name];
      if (v === null || v === undefined) {
        // allprop lists only what exists; names from <include> are reported like <prop>.
        if (!all || i >= names.length - q.names.length) missing += tag.empty;
      }
      else if (v === '') found += tag.empty;
      else found += tag.open + v + tag.close;
    }
  }
  let xml = `<d:response><d:href>${escapeXml(env.hrefFor(e.path, e.type === 'dir'))}</d:href>`;
  if (found || !missing) xml += propstat(found, 200);
  if (missing) xml += propstat(missing, 404);
  return xml + '</d:response>';
}

export async function propfind(req: DavRequest): Promise<void> {
  const { ctx, fs, path, target, env } = req;
  const depth = parseDepth(ctx, 1);
  if (depth === 'infinity') throw new ForbiddenError('PROPFIND with Depth: infinity is not supported', { davCondition: 'propfind-finite-depth' });
  const query = parsePropfindBody(await readXmlBody(ctx, env.xmlBodyBytes));
  const root = await fs.stat(path);
  const entries = depth === 1 && root.type === 'dir' ? [root, ...(await fs.list(path))] : [root];
  const wantsQuota = query.names.some((n) => n.endsWith('}quota-used-bytes') || n.endsWith('}quota-available-bytes'));
  const wantsDead = query.mode !== 'prop' || query.names.some((n) => !LIVE_PROPS.has(n));
  const dead = wantsDead ? await loadDeadProps(fs, entries) : null;
  const propEnv: PropEnv = {
    locksOn: (p) => env.locks.locksOn(target.lockScope, p),
    hrefFor: (p, isDir) => hrefFor(target, p, isDir),
    quota: wantsQuota && hasQuota(fs) ? await fs.quota() : null,
    user: target.user,
  };
  const none: Record<string, string> = {};
  function* responses(): Generator<string> {
    for (let i = 0; i < entries.length; i++) yield renderResponse(entries[i]!, query, propEnv, dead ? dead[i]! : none);
  }
  sendMultistatus(ctx, responses());
}
