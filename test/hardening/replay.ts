/**
 * Sends one hostile-fixture request exactly as written: node:http with the raw path (no URL
 * normalisation, so `%2e%2e` reaches the server as sent), bodies generated as streams.
 */
import http from 'node:http';
import { Readable } from 'node:stream';

export interface HostileCase {
  name: string;
  method: string;
  path: string;
  auth: string;
  expect: number | number[];
  target?: 'A' | 'B';
  headers?: Record<string, string>;
  body?: string;
  bodyBase64?: string;
  json?: unknown;
  repeat?: { prefix?: string; chunk: string; times: number; suffix?: string };
  authHeader?: string;
  declaredOnly?: boolean;
}

export function fill(text: string, vars: Record<string, string>): string {
  return text.replace(/\{([a-zA-Z]+)\}/g, (m, k: string) => vars[k] ?? m);
}

function authHeader(c: HostileCase, vars: Record<string, string>): string | undefined {
  const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
  switch (c.auth) {
    case 'none':
      return undefined;
    case 'user':
      return basic('alice', vars.password!);
    case 'carol':
      return basic('carol', vars.password!);
    case 'bob':
      return basic('bob', vars.password!);
    case 'badpass':
      return basic('alice', 'not the password');
    case 'roSecret':
      return `Bearer ${vars.roSecret}`;
    case 'rwSecret':
      return `Bearer ${vars.rwSecret}`;
    case 'rwBasic':
      return basic(vars.rwSecret!, '');
    case 'raw':
      return c.authHeader;
    case 'reva':
    case 'badreva':
      return undefined;
    default:
      throw new Error(`unknown auth kind ${c.auth}`);
  }
}

export interface ReplayResult {
  status: number | 'timeout' | 'connection-error';
  detail?: string;
}

export function replay(baseUrl: string, c: HostileCase, vars: Record<string, string>, revaSecret: string): Promise<ReplayResult> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.headers ?? {})) headers[k] = fill(v, { ...vars, base: baseUrl });
  const auth = authHeader(c, vars);
  if (auth) headers.authorization = auth;
  if (c.auth === 'reva') headers['x-reva-secret'] = revaSecret;
  if (c.auth === 'badreva') headers['x-reva-secret'] = 'not-the-reva-secret-at-all';
  let body: Readable | Buffer | undefined;
  if (c.json !== undefined) {
    body = Buffer.from(fill(JSON.stringify(c.json), vars));
    headers['content-type'] ??= 'application/json';
  } else if (c.body !== undefined) body = Buffer.from(fill(c.body, vars));
  else if (c.bodyBase64 !== undefined) body = Buffer.from(c.bodyBase64, 'base64');
  else if (c.repeat) {
    const r = c.repeat;
    body = Readable.from(
      (function* () {
        if (r.prefix) yield Buffer.from(r.prefix);
        const chunk = Buffer.from(r.chunk);
        for (let i = 0; i < r.times; i++) yield chunk;
        if (r.suffix) yield Buffer.from(r.suffix);
      })(),
    );
  }
  if (Buffer.isBuffer(body) && !c.declaredOnly) headers['content-length'] = String(body.length);
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ReplayResult) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const req = http.request(
      { host: url.hostname, port: url.port, method: c.method, path: fill(c.path, vars), headers, agent: false, timeout: 15_000 },
      (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode! }));
        res.on('error', () => done({ status: res.statusCode! }));
        res.on('close', () => done({ status: res.statusCode! }));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      done({ status: 'timeout' });
    });
    req.on('error', (err) => setTimeout(() => done({ status: 'connection-error', detail: err.message }), 50));
    if (body instanceof Readable) {
      body.on('error', () => undefined);
      body.pipe(req).on('error', () => undefined);
    } else if (c.declaredOnly) {
      req.flushHeaders();
    } else req.end(body);
  });
}
