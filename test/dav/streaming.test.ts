/**
 * Streaming contracts of serve(): a read that fails after the headers went out cuts the
 * connection (never a short 200 that looks complete), and a client that goes away aborts the
 * signal handed to the Fs. Uses a tiny Fs of its own so the failure can be placed exactly.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { DavServer } from '../../src/dav/server.js';
import { errorMiddleware } from '../../src/http/error-middleware.js';
import { createLogger } from '../../src/log.js';
import { NotFoundError } from '../../src/errors.js';
import { Perm, type Entry, type Fs, type ReadOptions } from '../../src/fs/types.js';

const SIZE = 1024 * 1024;

function entry(path: string): Entry {
  return { path, name: path.slice(1), type: 'file', size: SIZE, mtime: 1_700_000_000_000, etag: 'e1', fileId: '1', mime: 'application/octet-stream', permissions: Perm.ALL };
}

class TestFs implements Fs {
  lastSignal: AbortSignal | undefined;
  opened = 0;
  stats = 0;
  async stat(path: string): Promise<Entry> {
    this.stats++;
    if (path === '/broken' || path === '/slow') return entry(path);
    if (path === '/hello') return { ...entry(path), size: 5 };
    throw new NotFoundError();
  }
  /** EntryOpener: one resolution for a plain GET. */
  async openEntry(path: string, options: ReadOptions = {}): Promise<{ entry: Entry; body: Readable }> {
    this.opened++;
    if (path !== '/hello' && path !== '/broken' && path !== '/slow') throw new NotFoundError();
    return { entry: path === '/hello' ? { ...entry(path), size: 5 } : entry(path), body: await this.openRead(path, options) };
  }
  async list(): Promise<Entry[]> {
    return [];
  }
  async openRead(path: string, options: ReadOptions = {}): Promise<Readable> {
    this.lastSignal = options.signal;
    if (path === '/hello') {
      const r = options.range ?? { start: 0, end: 4 };
      return Readable.from([Buffer.from('hello'.slice(r.start, (r.end ?? 4) + 1))]);
    }
    if (path === '/broken') {
      let sent = false;
      return new Readable({
        read() {
          if (!sent) {
            sent = true;
            this.push(Buffer.alloc(64 * 1024, 1));
          } else this.destroy(new Error('disk went away'));
        },
      });
    }
    // '/slow': trickles until the signal aborts.
    const r = new Readable({ read() {} });
    const t = setInterval(() => r.push(Buffer.alloc(1024)), 5);
    options.signal?.addEventListener('abort', () => {
      clearInterval(t);
      r.destroy(new Error('aborted'));
    });
    return r;
  }
  async write(): Promise<never> {
    throw new Error('read-only');
  }
  async mkdir(): Promise<never> {
    throw new Error('read-only');
  }
  async remove(): Promise<never> {
    throw new Error('read-only');
  }
}

describe('DAV streaming', function () {
  let server: http.Server;
  let port: number;
  const fs = new TestFs();
  before(async () => {
    const dav = new DavServer({ limits: { xmlBodyBytes: 65536 } });
    const app = new Koa();
    app.silent = true;
    app.use(errorMiddleware(createLogger({ level: 'silent' })));
    app.use((ctx) => dav.serve(ctx, { fs, base: '/t', lockScope: 'test' }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('cuts the connection when the content fails mid-stream', async () => {
    const outcome = await new Promise<{ status: number; received: number; error?: string; complete: boolean }>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/t/broken', agent: false }, (res) => {
        let received = 0;
        res.on('data', (c: Buffer) => (received += c.length));
        res.on('end', () => resolve({ status: res.statusCode!, received, complete: res.complete }));
        res.on('error', (e) => resolve({ status: res.statusCode!, received, error: e.message, complete: res.complete }));
        res.on('aborted', () => resolve({ status: res.statusCode!, received, error: 'aborted', complete: false }));
      });
      req.on('error', (e) => resolve({ status: 0, received: 0, error: e.message, complete: false }));
    });
    // Either the headers never made it (status 0, socket error) or the body stops short.
    assert.ok(outcome.status === 0 || outcome.status === 200, String(outcome.status));
    assert.ok(outcome.received < SIZE, 'not the whole body');
    assert.ok(outcome.error, 'the client sees an error');
    assert.equal(outcome.complete, false, 'the response must not look complete');
  });

  it('serves a plain GET with one openEntry (no stat) where the Fs offers it, and ranges through stat', async () => {
    const get = (headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string; etag?: string }>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/t/hello', headers, agent: false }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body, etag: res.headers.etag as string }));
        }).on('error', reject);
      });
    const before = { opened: fs.opened, stats: fs.stats };
    const plain = await get();
    assert.deepEqual([plain.status, plain.body, plain.etag], [200, 'hello', '"e1"']);
    assert.deepEqual([fs.opened - before.opened, fs.stats - before.stats], [1, 0]);
    const ranged = await get({ range: 'bytes=1-2' });
    assert.deepEqual([ranged.status, ranged.body], [206, 'el']);
    assert.equal(fs.opened - before.opened, 1);
    assert.equal((await get({ 'if-none-match': '"e1"' })).status, 304);
  });

  it('aborts the Fs signal when the client goes away', async () => {
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/t/slow', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
    });
    for (let i = 0; i < 100 && !fs.lastSignal?.aborted; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(fs.lastSignal?.aborted, true);
  });
});
