import assert from 'node:assert/strict';
import Koa from 'koa';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERROR_CATALOGUE, MeshdavError } from '../src/errors.js';
import { errorMiddleware } from '../src/http/error-middleware.js';
import { createLogger } from '../src/log.js';
import { Writable } from 'node:stream';

describe('error catalogue', () => {
  let server: http.Server;
  let url: string;
  const lines: string[] = [];
  before(async () => {
    const log = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const app = new Koa();
    app.silent = true;
    app.use(errorMiddleware(log));
    app.use(async (ctx) => {
      const [, kind, idx] = ctx.path.split('/');
      if (kind === 'dav') ctx.state.dav = true;
      if (idx === 'crash') throw new Error('secret internals: password=hunter2');
      const Cls = ERROR_CATALOGUE[Number(idx)]!;
      throw new Cls('reason for the client', { headers: { 'X-Test': '1' } });
    });
    server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('gives every error a distinct stable code and an HTTP error status', () => {
    const codes = ERROR_CATALOGUE.map((C) => new C().code);
    assert.equal(new Set(codes).size, codes.length);
    for (const C of ERROR_CATALOGUE) {
      const e = new C();
      assert.ok(e instanceof MeshdavError);
      assert.match(e.code, /^[A-Z_]+$/);
      assert.ok(e.status >= 400 && e.status < 600, `${e.name} ${e.status}`);
    }
  });

  it('renders each one as JSON {error, code} with its status and headers', async () => {
    for (let i = 0; i < ERROR_CATALOGUE.length; i++) {
      const e = new ERROR_CATALOGUE[i]!();
      const res = await fetch(`${url}/json/${i}`);
      assert.equal(res.status, e.status);
      assert.equal(res.headers.get('x-test'), '1');
      const body = (await res.json()) as { error: string; code: string };
      assert.equal(body.code, e.code);
      assert.equal(body.error, e.expose ? 'reason for the client' : 'internal error');
    }
  });

  it('renders each one as a DAV <d:error> on DAV routes', async () => {
    for (let i = 0; i < ERROR_CATALOGUE.length; i++) {
      const res = await fetch(`${url}/dav/${i}`);
      assert.match(res.headers.get('content-type') ?? '', /application\/xml/);
      assert.match(await res.text(), /<d:error xmlns:d="DAV:"/);
    }
  });

  it('hides the message of unexpected errors and keeps serving', async () => {
    const res = await fetch(`${url}/json/crash`);
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.doesNotMatch(text, /hunter2|internals/);
    assert.equal((await fetch(`${url}/json/0`)).status, 400);
  });
});
