/**
 * The OCS sharees API (`/ocs/v{1,2}.php/apps/files_sharing/api/v1/sharees?search=`) answering
 * with the user's OCM contacts as federated ("remote", shareType 6) sharees, in Nextcloud's
 * format, so Nextcloud-style clients autocomplete recipients. JSON with `format=json` or an
 * `Accept: application/json`, XML otherwise (as OCS does).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Contact } from './records.js';
import type { OcmRouterDeps } from './router-deps.js';

const SHARE_TYPE_REMOTE = 6;

function remoteEntry(c: Contact) {
  const shareWith = `${c.userId}@${c.provider}`;
  return {
    label: c.name || c.userId,
    name: c.name || c.userId,
    type: '',
    value: { shareType: SHARE_TYPE_REMOTE, shareWith, server: c.provider },
    shareWithDisplayNameUnique: c.email || shareWith,
    uuid: shareWith,
  };
}

function xmlValue(v: unknown, tag: string): string {
  if (Array.isArray(v)) return `<${tag}>${v.map((x) => xmlValue(x, 'element')).join('')}</${tag}>`;
  if (v && typeof v === 'object') {
    return `<${tag}>${Object.entries(v).map(([k, x]) => xmlValue(x, k)).join('')}</${tag}>`;
  }
  const s = String(v ?? '').replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
  return `<${tag}>${s}</${tag}>`;
}

export function shareesRouter(deps: OcmRouterDeps): Router {
  const router = new Router();
  const handler = (version: 1 | 2) => async (ctx: Context) => {
    const me = await deps.authenticate(ctx);
    const search = typeof ctx.query.search === 'string' ? ctx.query.search : '';
    const perPage = Math.min(Math.max(Number(ctx.query.perPage) || 200, 1), 500);
    const contacts = (await deps.ocm.contacts.find(me, search)).slice(0, perPage);
    const q = search.trim().toLowerCase();
    const exact = contacts.filter((c) => [c.userId, c.name, c.email, `${c.userId}@${c.provider}`].some((f) => (f ?? '').toLowerCase() === q));
    const rest = contacts.filter((c) => !exact.includes(c));
    const empty = { users: [], groups: [], remote_groups: [], emails: [], circles: [], rooms: [], lookup: [] };
    const data = {
      exact: { ...empty, remotes: exact.map(remoteEntry) },
      ...empty,
      remotes: rest.map(remoteEntry),
      lookupEnabled: false,
    };
    const meta = { status: 'ok', statuscode: version === 1 ? 100 : 200, message: 'OK' };
    const wantsJson = ctx.query.format === 'json' || /application\/json/i.test(ctx.get('accept'));
    if (wantsJson) {
      ctx.body = { ocs: { meta, data } };
    } else {
      ctx.type = 'text/xml; charset=utf-8';
      ctx.body = `<?xml version="1.0"?>\n<ocs>${xmlValue(meta, 'meta')}${xmlValue(data, 'data')}</ocs>`;
    }
  };
  router.get('/ocs/v2.php/apps/files_sharing/api/v1/sharees', handler(2));
  router.get('/ocs/v1.php/apps/files_sharing/api/v1/sharees', handler(1));
  return router;
}
