/**
 * PROPPATCH (RFC 4918 §9.2): sets and removes dead properties, atomically per request. Live
 * (protected) properties → 403 `cannot-modify-protected-property` and every other property of the
 * request 424; nothing is changed unless everything succeeds. Values are stored as the XML
 * fragment inside the property element (serializeChildren), so namespaces inside values survive.
 */
import { hasDeadProps } from '../../fs/guards.js';
import { BadRequestError } from '../../errors.js';
import { assertUnlocked, hrefFor, type DavRequest } from '../context.js';
import { multistatusString, propstat } from '../multistatus.js';
import { isLiveProp, tagFor } from '../properties.js';
import { DAV_NS, clark, elements, escapeXml, readXmlBody, serializeChildren } from '../xml.js';

const MAX_PROPS = 1000;
const MAX_VALUE = 64 * 1024;

export async function proppatch(req: DavRequest): Promise<void> {
  const { ctx, fs, path, target, env } = req;
  const body = await readXmlBody(ctx, env.xmlBodyBytes);
  if (!body || body.ns !== DAV_NS || body.local !== 'propertyupdate') throw new BadRequestError('body must be a DAV:propertyupdate element');
  const entry = await fs.stat(path);
  assertUnlocked(req, path);

  /** name → new value, or null for removal; in request order, later instructions win. */
  const final = new Map<string, string | null>();
  for (const op of elements(body)) {
    if (op.ns !== DAV_NS || (op.local !== 'set' && op.local !== 'remove')) continue;
    for (const prop of elements(op).filter((e) => e.ns === DAV_NS && e.local === 'prop')) {
      for (const p of elements(prop)) {
        const value = op.local === 'set' ? serializeChildren(p) : null;
        if (value !== null && value.length > MAX_VALUE) throw new BadRequestError('property value too large');
        final.delete(clark(p));
        final.set(clark(p), value);
      }
    }
  }
  if (final.size === 0) throw new BadRequestError('propertyupdate without properties');
  if (final.size > MAX_PROPS) throw new BadRequestError('too many properties in one request');

  const names = [...final.keys()];
  const refused = names.filter((n) => isLiveProp(n) || !hasDeadProps(fs));
  const tags = (list: string[]) => list.map((n) => tagFor(n).empty).join('');
  let stats: string;
  if (refused.length > 0) {
    const rest = names.filter((n) => !refused.includes(n));
    stats = propstat(tags(refused), 403) + (rest.length ? propstat(tags(rest), 424) : '');
  } else {
    const set: Record<string, string> = {};
    const remove: string[] = [];
    for (const [n, v] of final) {
      if (v === null) remove.push(n);
      else set[n] = v;
    }
    if (hasDeadProps(fs)) await fs.patchProps(path, { set, remove });
    stats = propstat(tags(names), 200);
  }
  ctx.status = 207;
  ctx.type = 'application/xml; charset=utf-8';
  ctx.body = multistatusString([
    `<d:response><d:href>${escapeXml(hrefFor(target, path, entry.type === 'dir'))}</d:href>${stats}</d:response>`,
  ]);
}
