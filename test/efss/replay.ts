/**
 * Replays EFSS fixture records (fixtures/efss/*.json) against a real node and compares parsed
 * JSON. Record: {name, method, path, body, status, response, headers?, secret?, note?, unordered?}.
 *  - body: an object/array is sent as JSON; a string is sent raw; null/absent sends nothing.
 *  - secret: absent = the node's revaSecret; "none" = no header; "wrong" / "prefix" = bad values.
 *  - response: a string is compared with the raw body text; anything else with the parsed JSON.
 * Placeholders in `response`: "$any" (present), "$string", "$number" (an integer),
 * "$capture:NAME" (any value, remembered); "${NAME}" is substituted in path, body and response.
 * Requests go out through node:http so that paths reach the server byte for byte.
 */
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FixtureRecord {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  status: number;
  response: unknown;
  headers?: Record<string, string>;
  secret?: 'none' | 'wrong' | 'prefix';
  unordered?: boolean;
  note?: string;
}

export const FIXTURE_DIR = new URL('../../fixtures/efss/', import.meta.url).pathname;

export function loadFixtures(): Record<string, FixtureRecord[]> {
  const out: Record<string, FixtureRecord[]> = {};
  for (const f of readdirSync(FIXTURE_DIR).filter((n) => n.endsWith('.json')).sort()) {
    out[f] = JSON.parse(readFileSync(join(FIXTURE_DIR, f), 'utf8')) as FixtureRecord[];
  }
  return out;
}

export type Vars = Record<string, unknown>;

export function substitute(value: unknown, vars: Vars): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{(\w+)\}$/.exec(value);
    if (whole && whole[1]! in vars) return vars[whole[1]!];
    return value.replace(/\$\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
  }
  return value;
}

/** Differences between `expected` (with placeholders) and `actual`; captures go into `vars`. */
export function compare(expected: unknown, actual: unknown, vars: Vars, where = '$', unordered = false): string[] {
  if (typeof expected === 'string' && expected.startsWith('$')) {
    if (expected === '$any') return actual === undefined ? [`${where}: missing`] : [];
    if (expected === '$string') return typeof actual === 'string' ? [] : [`${where}: expected a string, got ${JSON.stringify(actual)}`];
    if (expected === '$number') return Number.isInteger(actual) ? [] : [`${where}: expected an integer, got ${JSON.stringify(actual)}`];
    if (expected.startsWith('$capture:')) {
      if (actual === undefined) return [`${where}: missing`];
      vars[expected.slice(9)] = actual;
      return [];
    }
  }
  const exp = substitute(expected, vars);
  if (exp === null || typeof exp !== 'object') {
    return exp === actual ? [] : [`${where}: expected ${JSON.stringify(exp)}, got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${where}: expected an array, got ${JSON.stringify(actual)}`];
    if (actual.length !== expected.length) return [`${where}: expected ${expected.length} items, got ${actual.length}: ${JSON.stringify(actual)}`];
    if (!unordered) return expected.flatMap((e, i) => compare(e, actual[i], vars, `${where}[${i}]`));
    const left = [...actual];
    const errors: string[] = [];
    expected.forEach((e, i) => {
      const k = left.findIndex((a) => compare(e, a, { ...vars }, '').length === 0);
      if (k < 0) errors.push(`${where}[${i}]: no item matches ${JSON.stringify(e)}`);
      else compare(e, left.splice(k, 1)[0], vars, `${where}[${i}]`);
    });
    return errors;
  }
  if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return [`${where}: expected an object, got ${JSON.stringify(actual)}`];
  const e = expected as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  const errors: string[] = [];
  for (const k of Object.keys(a)) if (!(k in e)) errors.push(`${where}.${k}: unexpected key`);
  for (const k of Object.keys(e)) errors.push(...compare(e[k], a[k], vars, `${where}.${k}`));
  return errors;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends one record; returns the differences (empty when it matched). */
export async function replay(base: string, revaSecret: string, rec: FixtureRecord, vars: Vars): Promise<string[]> {
  const headers: Record<string, string> = { ...(rec.headers ?? {}) };
  if (rec.secret === undefined) headers['x-reva-secret'] = revaSecret;
  else if (rec.secret === 'wrong') headers['x-reva-secret'] = 'not-the-secret-' + revaSecret.slice(0, 4);
  else if (rec.secret === 'prefix') headers['x-reva-secret'] = revaSecret.slice(0, -1);
  let body: string | undefined;
  const b = substitute(rec.body, vars);
  if (typeof b === 'string') body = b;
  else if (b !== null && b !== undefined) {
    body = JSON.stringify(b);
    headers['content-type'] ??= 'application/json';
  }
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const path = String(substitute(rec.path, vars));
  const res = await rawRequest(base, rec.method, path, headers, body);
  const errors: string[] = [];
  if (res.status !== rec.status) errors.push(`status: expected ${rec.status}, got ${res.status} (${res.text.slice(0, 300)})`);
  if (typeof rec.response === 'string') {
    const exp = String(substitute(rec.response, vars));
    if (res.text !== exp) errors.push(`body: expected ${JSON.stringify(exp)}, got ${JSON.stringify(res.text.slice(0, 300))}`);
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      return [...errors, `body is not JSON: ${JSON.stringify(res.text.slice(0, 300))}`];
    }
    errors.push(...compare(rec.response, parsed, vars, '$', rec.unordered));
  }
  return errors;
}
