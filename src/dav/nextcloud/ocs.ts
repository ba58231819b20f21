/**
 * The OCS envelope Nextcloud clients read: `{ocs: {meta, data}}` as JSON or XML, chosen by the
 * `format` query parameter or the Accept header (XML by default, as Nextcloud does). v1 reports
 * success as statuscode 100 with HTTP 200; v2 as 200 and failures with the HTTP status itself.
 */
import type { Context } from 'koa';
import { escapeXml } from '../xml.js';

export type OcsVersion = 1 | 2;

function wantsJson(ctx: Context): boolean {
  const format = String(ctx.query.format ?? '').toLowerCase();
  if (format) return format === 'json';
  return /application\/json/i.test(ctx.get('accept'));
}

function toXml(name: string, value: unknown): string {
  if (value === null || value === undefined) return `<${name}/>`;
  if (Array.isArray(value)) return `<${name}>${value.map((v) => toXml('element', v)).join('')}</${name}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => toXml(/^[A-Za-z_][\w.-]*$/.test(k) ? k : 'element', v))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  if (typeof value === 'boolean') return `<${name}>${value ? '1' : ''}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** Sends an OCS response. `status` is the HTTP-style status of the outcome (200 = ok). */
export function sendOcs(ctx: Context, version: OcsVersion, data: unknown, status = 200, message = 'OK'): void {
  const ok = status >= 200 && status < 300;
  const statuscode = ok ? (version === 1 ? 100 : 200) : version === 1 ? (status === 404 ? 998 : status === 401 ? 997 : 996) : status;
  const meta = { status: ok ? 'ok' : 'failure', statuscode, message, totalitems: '', itemsperpage: '' };
  ctx.status = version === 2 ? status : status === 401 ? 401 : 200;
  if (wantsJson(ctx)) {
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = { ocs: { meta, data: data ?? [] } };
  } else {
    ctx.type = 'text/xml; charset=utf-8';
    ctx.body = `<?xml version="1.0"?>\n<ocs>${toXml('meta', meta)}${toXml('data', data ?? [])}</ocs>\n`;
  }
}
