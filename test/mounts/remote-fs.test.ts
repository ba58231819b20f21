import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { RemoteFs, createRemoteAgent, type RemoteFsOptions } from '../../src/mounts/remote-fs.js';
import { isShareRevoked } from '../../src/mounts/remote-errors.js';
import {
  AlreadyExistsError,
  BadGatewayError,
  ConflictError,
  GatewayTimeoutError,
  NotFoundError,
  PreconditionFailedError,
  ServiceUnavailableError,
} from '../../src/errors.js';
import { DirectClient } from '../../src/mounts/direct-get.js';
import { memoryTarget, startWebdavServer, type ThirdPartyDav } from './support.js';

const agent = createRemoteAgent({ connectTimeoutMs: 1000, idleTimeoutMs: 1500 });

async function text(stream: Readable): Promise<string> {
  let out = '';
  for await (const c of stream) out += String(c);
  return out;
}

/** A scripted HTTP server for protocol edge cases. */
async function scripted(handler: http.RequestListener): Promise<{ url: string; seen: http.IncomingMessage[]; close(): Promise<void> }> {
  const seen: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const MULTISTATUS = (href: string, extra = '') =>
  `<?xml version="1.0"?><x:multistatus xmlns:x="DAV:" xmlns:o="http://owncloud.org/ns"><x:response><x:href>${href}</x:href>` +
  `<x:propstat><x:prop><x:resourcetype><x:collection/></x:resourcetype><x:getetag>"e1"</x:getetag>${extra}</x:prop>` +
  `<x:status>HTTP/1.1 200 OK</x:status></x:propstat></x:response></x:multistatus>`;

describe('mounts: RemoteFs', function () {
  this.timeout(20_000);

  describe('against webdav-server (third party)', () => {
    let dav: ThirdPartyDav;
    let fs: RemoteFs;
    before(async () => {
      dav = await startWebdavServer({ basic: { user: 'u', password: 'p' } });
      fs = new RemoteFs({ url: dav.url + '/', auth: { kind: 'basic', username: 'u', password: 'p' }, dispatcher: agent });
    });
    after(() => dav.close());

    it('creates, lists, reads ranges, moves, copies and removes with typed errors', async () => {
      await fs.mkdir('/d');
      const w = await fs.write('/d/a b.txt', Readable.from([Buffer.from('0123456789')]), { size: 10 });
      assert.equal(w.created, true);
      assert.equal(w.entry.size, 10);
      assert.deepEqual((await fs.list('/d')).map((e) => e.name), ['a b.txt']);
      assert.equal(await text(await fs.openRead('/d/a b.txt', { range: { start: 3, end: 6 } })), '3456');
      assert.equal(await text(await fs.openRead('/d/a b.txt')), '0123456789');
      await assert.rejects(fs.mkdir('/d'), AlreadyExistsError);
      await assert.rejects(fs.mkdir('/nope/x'), ConflictError);
      await assert.rejects(fs.stat('/d/missing'), NotFoundError);
      await assert.rejects(fs.list('/d/a b.txt'), ConflictError);
      const moved = await fs.move('/d/a b.txt', '/d/c.txt', { overwrite: false });
      assert.equal(moved.entry.path, '/d/c.txt');
      await fs.copy('/d', '/e', { overwrite: false });
      assert.equal(await text(await fs.openRead('/e/c.txt')), '0123456789');
      await fs.remove('/e');
      await assert.rejects(fs.stat('/e'), NotFoundError);
    });
  });

  it('falls back once from Bearer to Basic secret: and remembers it', async () => {
    const basic = 'Basic ' + Buffer.from('s3cret:').toString('base64');
    const srv = await scripted((req, res) => {
      if (req.headers.authorization !== basic) return void res.writeHead(401).end();
      res.writeHead(207, { 'content-type': 'application/xml' }).end(MULTISTATUS('/share/'));
    });
    const learned: string[] = [];
    const fs = new RemoteFs({ url: srv.url + '/share', auth: { kind: 'secret', secret: 's3cret' }, dispatcher: agent, onAuthMode: (m) => learned.push(m) });
    await fs.stat('/');
    await fs.stat('/');
    assert.deepEqual(learned, ['basic']);
    assert.deepEqual(srv.seen.map((r) => r.headers.authorization?.split(' ')[0]), ['Bearer', 'Basic', 'Basic']);
    await srv.close();
  });

  it('reads permissions, checksums and file ids from any namespace prefix', async () => {
    const srv = await scripted((_req, res) =>
      res.writeHead(207).end(MULTISTATUS('/s/', '<o:permissions>RGDNVCK</o:permissions><o:fileid>77</o:fileid><o:checksums><o:checksum>SHA1:ABCD MD5:ef01</o:checksum></o:checksums>')),
    );
    const fs = new RemoteFs({ url: srv.url + '/s', auth: { kind: 'none' }, dispatcher: agent, permissions: 1 | 2 | 4 });
    const e = await fs.stat('/');
    assert.equal(e.fileId, '77');
    assert.equal(e.etag, 'e1');
    assert.equal(e.permissions, 1 | 2 | 4);
    assert.deepEqual(e.checksums, { sha1: 'abcd', md5: 'ef01' });
    await srv.close();
  });

  it('applies the Range rules: 200 only for a whole-object request, 206 must match', async () => {
    let mode = 'ignore';
    const srv = await scripted((req, res) => {
      if (mode === 'ignore') return void res.writeHead(200, { 'content-length': '10' }).end('0123456789');
      res.writeHead(206, { 'content-range': 'bytes 0-3/10', 'content-length': '4' }).end('0123');
    });
    const fs = new RemoteFs({ url: srv.url, auth: { kind: 'none' }, dispatcher: agent });
    await assert.rejects(fs.openRead('/f', { range: { start: 2, end: 5 } }), BadGatewayError);
    assert.equal(await text(await fs.openRead('/f', { range: { start: 0, end: 20 } })), '0123456789');
    assert.equal(await text(await fs.openRead('/f', { range: { start: 0 } })), '0123456789');
    mode = 'wrong206';
    await assert.rejects(fs.openRead('/f', { range: { start: 2, end: 5 } }), BadGatewayError);
    await srv.close();
  });

  it('fails a read with If-Match when the answer carries another ETag', async () => {
    const srv = await scripted((_req, res) => res.writeHead(200, { etag: '"new"', 'content-length': '2' }).end('hi'));
    const fs = new RemoteFs({ url: srv.url, auth: { kind: 'none' }, dispatcher: agent });
    await assert.rejects(fs.openRead('/f', { ifMatch: 'old' } as never), PreconditionFailedError);
    await srv.close();
  });

  it('errors the stream when the sender dies mid-body (never a clean short read)', async () => {
    const srv = await scripted((_req, res) => {
      res.writeHead(200, { 'content-length': String(1 << 20) });
      res.write(Buffer.alloc(64 * 1024));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const fs = new RemoteFs({ url: srv.url, auth: { kind: 'none' }, dispatcher: agent });
    const stream = await fs.openRead('/big');
    await assert.rejects(text(stream));
    await srv.close();
  });

  it('maps a down sender to 503 and a silent one to 504 within the timeout', async () => {
    const srv = await scripted(() => undefined); // accepts, never answers
    const silent = new RemoteFs({ url: srv.url, auth: { kind: 'none' }, dispatcher: agent });
    const t0 = Date.now();
    await assert.rejects(silent.stat('/'), GatewayTimeoutError);
    assert.ok(Date.now() - t0 < 10_000);
    await srv.close();
    const down = new RemoteFs({ url: srv.url, auth: { kind: 'none' }, dispatcher: agent });
    await assert.rejects(down.stat('/'), ServiceUnavailableError);
  });

  it('maps a body that stalls after the headers to 504 (PROPFIND and GET)', async () => {
    const srv = await scripted((req, res) => {
      res.writeHead(req.method === 'PROPFIND' ? 207 : 200, { 'content-length': '100000' });
      res.write('<');
      const t = setInterval(() => res.write(' '), 3000);
      res.on('close', () => clearInterval(t));
    });
    const fs = new RemoteFs({ url: srv.url, auth: { kind: 'none' }, dispatcher: agent });
    const t0 = Date.now();
    await assert.rejects(fs.list('/'), GatewayTimeoutError);
    await assert.rejects(text(await fs.openRead('/f')), GatewayTimeoutError);
    assert.ok(Date.now() - t0 < 8000);
    await srv.close();
  });

  it('passes an abort signal down to the remote request', async () => {
    const srv = await scripted(() => undefined);
    const fs = new RemoteFs({ url: srv.url, auth: { kind: 'none' }, dispatcher: agent });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(fs.openRead('/f', { signal: ac.signal }), (err: Error) => err.name === 'AbortError' || /abort/i.test(err.message));
    await srv.close();
  });

  it('treats 401 as revoked: onRevoked once, then 404 without asking the sender', async () => {
    const srv = await scripted((_req, res) => res.writeHead(401).end());
    const reasons: string[] = [];
    const fs = new RemoteFs({ url: srv.url + '/s', auth: { kind: 'secret', secret: 'x' }, dispatcher: agent, onRevoked: (r) => reasons.push(r) });
    await assert.rejects(fs.stat('/'), (e: unknown) => isShareRevoked(e) && (e as NotFoundError).status === 404);
    const before = srv.seen.length;
    await assert.rejects(fs.list('/'), NotFoundError);
    assert.equal(srv.seen.length, before);
    assert.equal(reasons.length, 1);
    await srv.close();
  });

  it('treats 404 on the root as revoked only while discovery answers', async () => {
    let discovery = false;
    const srv = await scripted((req, res) => {
      if (req.url === '/.well-known/ocm' && discovery) return void res.writeHead(200).end('{}');
      res.writeHead(404).end();
    });
    const opts: RemoteFsOptions = { url: srv.url + '/s', auth: { kind: 'none' }, dispatcher: agent };
    await assert.rejects(new RemoteFs(opts).stat('/'), ServiceUnavailableError);
    discovery = true;
    const fs = new RemoteFs(opts);
    await assert.rejects(fs.stat('/'), (e: unknown) => isShareRevoked(e));
    assert.equal(fs.revoked, true);
    await srv.close();
  });
});

describe('mounts: RemoteFs.openReadInto (ranged reads into the caller memory)', function () {
  this.timeout(20_000);
  let direct: DirectClient;
  beforeEach(() => {
    direct = new DirectClient({ connectTimeoutMs: 1000, idleTimeoutMs: 1500 });
  });
  afterEach(() => direct.close());

  const remote = (url: string, extra: Partial<RemoteFsOptions> = {}) => new RemoteFs({ url, auth: { kind: 'none' }, dispatcher: agent, direct, ...extra });

  it('reads a range into the target with the Range and ETag rules of openRead', async () => {
    let mode = 'ok';
    const srv = await scripted((req, res) => {
      if (mode === 'ignore') return void res.writeHead(200, { 'content-length': '10' }).end('0123456789');
      if (mode === 'etag') return void res.writeHead(206, { etag: '"new"', 'content-range': 'bytes 2-5/10', 'content-length': '4' }).end('2345');
      if (mode === 'mismatch') return void res.writeHead(206, { 'content-range': 'bytes 2-5/10', 'content-length': '6' }).end('234567');
      assert.equal(req.headers.range, 'bytes=2-5');
      assert.equal(req.headers['if-match'], '"e1"');
      res.writeHead(206, { etag: '"e1"', 'content-range': 'bytes 2-5/10', 'content-length': '4' }).end('2345');
    });
    const fs = remote(srv.url);
    const target = memoryTarget(4);
    const body = await fs.openReadInto('/f', { range: { start: 2, end: 5 }, ifMatch: 'e1' }, target);
    assert.equal(body.direct, true);
    assert.equal(body.length, 4);
    assert.equal(await text(body.stream), '2345');
    assert.equal(target.mem.toString(), '2345');
    mode = 'ignore';
    await assert.rejects(fs.openReadInto('/f', { range: { start: 2, end: 5 } }, memoryTarget(4)), BadGatewayError);
    mode = 'etag';
    await assert.rejects(fs.openReadInto('/f', { range: { start: 2, end: 5 }, ifMatch: 'e1' }, memoryTarget(4)), PreconditionFailedError);
    mode = 'mismatch';
    await assert.rejects(fs.openReadInto('/f', { range: { start: 2, end: 5 } }, memoryTarget(4)), BadGatewayError);
    await srv.close();
  });

  it('reads answers it cannot read directly (chunked, an error status) the general way, with its mapping', async () => {
    const srv = await scripted((req, res) => {
      if (req.url === '/gone') return void res.writeHead(404).end();
      if (req.url === '/changed') return void res.writeHead(412).end();
      res.writeHead(206, { 'content-range': 'bytes 0-5/6' }); // no length: chunked
      res.write('abc');
      res.end('def');
    });
    const fs = remote(srv.url);
    const target = memoryTarget(6);
    const body = await fs.openReadInto('/f', { range: { start: 0, end: 5 } }, target);
    assert.equal(body.direct, false);
    assert.equal(await text(body.stream), 'abcdef');
    assert.deepEqual(target.given, [], 'the general way does not use the target');
    await assert.rejects(fs.openReadInto('/gone', { range: { start: 0, end: 5 } }, memoryTarget(6)), NotFoundError);
    await assert.rejects(fs.openReadInto('/changed', { range: { start: 0, end: 5 }, ifMatch: 'x' }, memoryTarget(6)), PreconditionFailedError);
    await srv.close();
  });

  it('uses the general way until the auth mode is settled, then reads directly with it', async () => {
    const srv = await scripted((req, res) => {
      if (req.headers.authorization !== 'Bearer s3') return void res.writeHead(401).end();
      if (req.method === 'PROPFIND') return void res.writeHead(207, { 'content-type': 'application/xml' }).end(MULTISTATUS('/'));
      res.writeHead(206, { 'content-range': 'bytes 0-1/2', 'content-length': '2' }).end('ok');
    });
    const fs = remote(srv.url, { auth: { kind: 'secret', secret: 's3' } });
    assert.equal((await fs.openReadInto('/f', { range: { start: 0, end: 1 } }, memoryTarget(2))).direct, false);
    await fs.stat('/');
    const body = await fs.openReadInto('/f', { range: { start: 0, end: 1 } }, memoryTarget(2));
    assert.equal(body.direct, true);
    assert.equal(await text(body.stream), 'ok');
    await srv.close();
  });

  it('maps failures: a sender dying mid-body, a stalled body, a down sender, an abort', async () => {
    const srv = await scripted((req, res) => {
      res.writeHead(206, { 'content-range': 'bytes 0-1048575/1048576', 'content-length': String(1 << 20) });
      res.write(Buffer.alloc(64 * 1024));
      if (req.url === '/dies') setTimeout(() => res.socket?.destroy(), 50);
    });
    const fs = remote(srv.url);
    const range = { start: 0, end: (1 << 20) - 1 };
    const dies = await fs.openReadInto('/dies', { range }, memoryTarget(1 << 20));
    await assert.rejects(text(dies.stream), BadGatewayError);
    const t0 = Date.now();
    const stalls = await fs.openReadInto('/stalls', { range }, memoryTarget(1 << 20));
    await assert.rejects(text(stalls.stream), GatewayTimeoutError);
    assert.ok(Date.now() - t0 < 8000);
    const ac = new AbortController();
    const aborted = await fs.openReadInto('/stalls', { range, signal: ac.signal }, memoryTarget(1 << 20));
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(text(aborted.stream), (err: Error) => err.name === 'AbortError');
    await srv.close();
    await assert.rejects(remote(srv.url).openReadInto('/f', { range }, memoryTarget(1 << 20)), ServiceUnavailableError);
  });
});
