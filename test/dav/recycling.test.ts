/**
 * Chunk recycling of big GETs: FileChunks (storage) reuses a chunk only after RecyclingBody (DAV)
 * has seen the response flush it, so a slow client still receives every byte intact; and a
 * small body that ends short is refused before any header goes out (never a short 200).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Koa from 'koa';
import { FileChunks } from '../../src/storage/file-chunks.js';
import { RecyclingBody } from '../../src/dav/recycling-body.js';
import { DavServer } from '../../src/dav/server.js';
import { errorMiddleware } from '../../src/http/error-middleware.js';
import { createLogger } from '../../src/log.js';
import { NotFoundError } from '../../src/errors.js';
import { Perm, type Entry, type Fs } from '../../src/fs/types.js';

function listen(app: Koa): Promise<{ server: http.Server; port: number }> {
  const server = app.listen(0, '127.0.0.1');
  return new Promise((r) => server.once('listening', () => r({ server, port: (server.address() as AddressInfo).port })));
}

/** GETs `path`; a slow reader pauses often so writes stay queued in the server's socket. */
function download(port: number, path: string, slow: boolean): Promise<{ status: number; sha: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        const h = createHash('sha256');
        let bytes = 0;
        let n = 0;
        res.on('data', (c: Buffer) => {
          h.update(c);
          bytes += c.length;
          if (slow && ++n % 4 === 0) {
            res.pause();
            setTimeout(() => res.resume(), 3);
          }
        });
        res.on('end', () => resolve({ status: res.statusCode!, sha: h.digest('hex'), bytes }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('DAV chunk recycling', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'meshdav-recycling-'));
  const content = randomBytes(9 * 1024 * 1024 + 123);
  const file = join(dir, 'big.bin');
  const sha = createHash('sha256').update(content).digest('hex');
  let server: http.Server;
  let port: number;
  let released = 0;

  before(async () => {
    writeFileSync(file, content);
    const app = new Koa();
    app.use((ctx) => {
      const chunks = new FileChunks(file, 0, content.length - 1);
      const release = chunks.release.bind(chunks);
      chunks.release = (chunk) => {
        released++;
        release(chunk);
        // A foreign or repeated release is ignored.
        release(chunk);
        release(Buffer.alloc(chunk.length));
      };
      ctx.type = 'application/octet-stream';
      ctx.length = content.length;
      ctx.body = new RecyclingBody(chunks, ctx.res);
    });
    ({ server, port } = await listen(app));
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every byte to fast and slow clients at once while chunks are reused', async () => {
    const results = await Promise.all([false, true, false, true].map((slow) => download(port, '/', slow)));
    for (const r of results) assert.deepEqual([r.status, r.bytes, r.sha], [200, content.length, sha]);
    assert.ok(released > 0, 'chunks were handed back for reuse');
  });
});

describe('DAV small bodies', function () {
  let server: http.Server;
  let port: number;
  before(async () => {
    const entry = (path: string, size: number): Entry => ({
      path,
      name: path.slice(1),
      type: 'file',
      size,
      mtime: 1_700_000_000_000,
      etag: 'e1',
      fileId: '1',
      mime: 'application/octet-stream',
      permissions: Perm.ALL,
    });
    // '/short' promises 10 bytes and delivers 4; '/ok' delivers its 5 in two chunks.
    const stat = async (path: string): Promise<Entry> => {
      if (path === '/short') return entry(path, 10);
      if (path === '/ok') return entry(path, 5);
      throw new NotFoundError();
    };
    const fs = {
      stat,
      async openEntry(path: string) {
        const e = await stat(path);
        return { entry: e, body: Readable.from(path === '/short' ? [Buffer.from('abcd')] : [Buffer.from('he'), Buffer.from('llo')]) };
      },
      async openRead() {
        throw new NotFoundError();
      },
      async list() {
        return [];
      },
    } as unknown as Fs;
    const dav = new DavServer({ limits: { xmlBodyBytes: 65536 } });
    const app = new Koa();
    app.silent = true;
    app.use(errorMiddleware(createLogger({ level: 'silent' })));
    app.use((ctx) => dav.serve(ctx, { fs, base: '/t', lockScope: 'test' }));
    ({ server, port } = await listen(app));
  });
  after(() => server.close());

  it('sends a small body whole and refuses one that ends short before any header', async () => {
    const ok = await download(port, '/t/ok', false);
    assert.deepEqual([ok.status, ok.bytes, ok.sha], [200, 5, createHash('sha256').update('hello').digest('hex')]);
    const short = await download(port, '/t/short', false);
    assert.equal(short.status, 503);
  });
});
