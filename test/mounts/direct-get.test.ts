/**
 * DirectClient (GETs read straight into the caller's memory) and the response-head parser,
 * against real HTTP and HTTPS servers on loopback.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DirectClient, type BodyTarget, type DirectRequest } from '../../src/mounts/direct-get.js';
import { parseResponseHead } from '../../src/mounts/response-head.js';
import { tempDir } from '../support/node.js';
import { memoryTarget } from './support.js';

async function collect(body: Readable): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const piece of body) out.push(piece as Buffer);
  return out;
}

function pattern(n: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed + (i >> 10)) & 0xff;
  return b;
}

interface TestServer {
  url: string;
  connections: number;
  close(): Promise<void>;
}

async function serve(handler: http.RequestListener, secure?: { key: Buffer; cert: Buffer }): Promise<TestServer> {
  const server = secure ? https.createServer(secure, handler) : http.createServer(handler);
  const state = { connections: 0 };
  server.on(secure ? 'secureConnection' : 'connection', () => state.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}`,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A raw TCP server answering each connection with `reply` (for framing the http module would not send). */
async function rawServer(reply: (socket: net.Socket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.once('data', () => reply(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

const accept206 = (head: { status: number }) => head.status === 206 || head.status === 200;

function request(url: string, target: BodyTarget, extra: Partial<DirectRequest> = {}): DirectRequest {
  return { url: new URL(url), headers: { range: 'bytes=0-' }, target, check: accept206, ...extra };
}

describe('mounts: DirectClient (GETs read straight into the caller memory)', function () {
  this.timeout(20_000);
  const content = pattern(3 * 1024 * 1024 + 123);
  let client: DirectClient;

  beforeEach(() => {
    client = new DirectClient({ connectTimeoutMs: 1000, idleTimeoutMs: 800 });
  });
  afterEach(() => client.close());

  it('reads the body into the target, in regions no larger than asked, and the pieces are views of it', async () => {
    const srv = await serve((req, res) => {
      assert.equal(req.headers.range, 'bytes=0-');
      assert.equal(req.headers['x-test'], 'yes');
      res.writeHead(206, { 'content-range': `bytes 0-${content.length - 1}/${content.length}`, 'content-length': content.length });
      res.end(content);
    });
    const target = memoryTarget(content.length, 300_000);
    const res = await client.get(request(srv.url + '/a%20b?x=1', target, { headers: { range: 'bytes=0-', 'x-test': 'yes' } }));
    assert.equal(res.head.status, 206);
    assert.equal(res.head.length, content.length);
    const pieces = await collect(res.body!);
    assert.ok(pieces.every((p) => p.buffer === target.mem.buffer), 'every piece is a view of the target');
    assert.ok(Buffer.concat(pieces).equals(content));
    assert.ok(target.mem.equals(content));
    assert.ok(target.given.every((g, i) => g <= target.asked[i]!));
    // Never asked for more than what was left of the body.
    assert.ok(Math.max(...target.asked) <= content.length);
    await srv.close();
  });

  it('keeps the connection alive for the next GET to the origin, and never reads past a body', async () => {
    let n = 0;
    const srv = await serve((_req, res) => {
      const body = pattern(100_000, n++);
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    for (let i = 0; i < 3; i++) {
      const target = memoryTarget(100_000);
      const res = await client.get(request(srv.url + '/f', target));
      await collect(res.body!);
      assert.ok(target.mem.equals(pattern(100_000, i)), `answer ${i} has its own bytes`);
    }
    assert.equal(srv.connections, 1);
    assert.equal(client.idleConnections(), 1);
    await srv.close();
  });

  it('does not keep a connection the answer closes', async () => {
    let close = true;
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 5, ...(close ? { connection: 'close' } : {}) });
      res.end('hello');
    });
    await collect((await client.get(request(srv.url, memoryTarget(5)))).body!);
    assert.equal(client.idleConnections(), 0);
    close = false;
    await collect((await client.get(request(srv.url, memoryTarget(5)))).body!);
    assert.equal(client.idleConnections(), 1);
    assert.equal(srv.connections, 2);
    await srv.close();
  });

  it('retries once on a new connection when a kept one turns out closed by the server', async () => {
    // Answers, then closes without saying so: the kept connection is dead when it is next used.
    let connections = 0;
    const srv = await rawServer((s) => {
      connections++;
      s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi');
    });
    for (let i = 0; i < 3; i++) {
      const t = memoryTarget(2);
      await collect((await client.get(request(srv.url, t))).body!);
      assert.equal(t.mem.toString(), 'hi');
    }
    assert.equal(connections, 3);
    await srv.close();
  });

  it('resolves without a body, and closes the connection, for answers check declines or that are not framed by Content-Length', async () => {
    const srv = await serve((req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200); // no length: chunked
        res.write('abc');
        return void res.end('def');
      }
      res.writeHead(404, { 'content-length': 9 }).end('not found');
    });
    const target = memoryTarget(10);
    const missing = await client.get(request(srv.url + '/gone', target));
    assert.equal(missing.head.status, 404);
    assert.equal(missing.body, undefined);
    const chunked = await client.get(request(srv.url + '/chunked', target));
    assert.equal(chunked.head.status, 200);
    assert.equal(chunked.head.length, undefined);
    assert.equal(chunked.body, undefined);
    assert.deepEqual(target.given, [], 'no byte reached the target');
    assert.equal(client.idleConnections(), 0);
    await srv.close();
  });

  it('rejects with the error check throws, before any byte reaches the target', async () => {
    const srv = await serve((_req, res) => res.writeHead(206, { 'content-length': 3 }).end('abc'));
    const target = memoryTarget(3);
    await assert.rejects(
      client.get(request(srv.url, target, { check: () => { throw new Error('wrong range'); } })),
      /wrong range/,
    );
    assert.deepEqual(target.given, []);
    await srv.close();
  });

  it('errors the body, and closes the connection, when the target takes no more bytes (no crash, no overrun)', async () => {
    const srv = await serve((_req, res) => res.writeHead(200, { 'content-length': content.length }).end(content));
    // 1000 bytes of room: full with bytes that came with the head (the GET fails); 200000: full
    // while the socket is read (the body fails).
    const small = memoryTarget(1000);
    await assert.rejects(client.get(request(srv.url, small)), /does not fit/);
    assert.equal(small.at, 1000, 'filled to its end, never past it');
    const large = memoryTarget(200_000);
    const res = await client.get(request(srv.url, large));
    await assert.rejects(collect(res.body!), /does not fit/);
    assert.equal(large.at, 200_000, 'filled to its end, never past it');
    assert.equal(client.idleConnections(), 0);
    await srv.close();
  });

  it('errors the body (mapped) when the server dies mid-body: never a clean short end', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 1 << 20 });
      res.write(Buffer.alloc(64 * 1024, 1));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const res = await client.get(request(srv.url, memoryTarget(1 << 20), { mapError: (e) => new Error('mapped: ' + e.message) }));
    await assert.rejects(collect(res.body!), /mapped: /);
    await srv.close();
  });

  it('times out a silent server (head and body), but not a reader that holds the body paused', async () => {
    let mode = 'silent-head';
    const srv = await serve((_req, res) => {
      if (mode === 'silent-head') return;
      res.writeHead(200, { 'content-length': content.length });
      if (mode === 'silent-body') return void res.write(content.subarray(0, 1000));
      res.end(content);
    });
    const t0 = Date.now();
    await assert.rejects(client.get(request(srv.url, memoryTarget(content.length))), (e: Error & { code?: string }) => e.code === 'ETIMEDOUT');
    mode = 'silent-body';
    const stalled = await client.get(request(srv.url, memoryTarget(content.length)));
    await assert.rejects(collect(stalled.body!), (e: Error & { code?: string }) => e.code === 'ETIMEDOUT');
    assert.ok(Date.now() - t0 < 5000);
    mode = 'whole';
    const target = memoryTarget(content.length);
    const paused = await client.get(request(srv.url, target));
    // Not read for longer than the idle timeout: the socket stops reading (backpressure), no timeout.
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(target.at < content.length, `reading stopped behind the paused reader (${target.at} bytes read)`);
    assert.ok(Buffer.concat(await collect(paused.body!)).equals(content));
    await srv.close();
  });

  it('aborts: a GET waiting for its head rejects, a body being read is destroyed, with the reason', async () => {
    const srv = await serve((req, res) => {
      if (req.url === '/never') return;
      res.writeHead(200, { 'content-length': content.length });
      res.write(content.subarray(0, 1000));
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new DOMException('stop', 'AbortError')), 50);
    await assert.rejects(client.get(request(srv.url + '/never', memoryTarget(10), { signal: ac.signal })), { name: 'AbortError' });
    const ac2 = new AbortController();
    const res = await client.get(request(srv.url + '/slow', memoryTarget(content.length), { signal: ac2.signal, mapError: () => new Error('not an abort') }));
    setTimeout(() => ac2.abort(new DOMException('stop', 'AbortError')), 50);
    await assert.rejects(collect(res.body!), { name: 'AbortError' });
    assert.equal(client.idleConnections(), 0);
    await srv.close();
  });

  it('refuses header values that would split the request, and malformed or oversized heads', async () => {
    await assert.rejects(client.get(request('http://127.0.0.1:1/', memoryTarget(1), { headers: { 'if-match': '"a"\r\nx: y' } })), TypeError);
    const bad = await rawServer((s) => s.end('HTTP/1.1 200 OK\r\ncontent length: 2\r\n\r\nhi'));
    await assert.rejects(client.get(request(bad.url, memoryTarget(2))), /malformed/);
    await bad.close();
    const huge = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\n' + 'x-pad: ' + 'a'.repeat(70_000) + '\r\n'));
    await assert.rejects(client.get(request(huge.url, memoryTarget(2))), /too large/);
    await huge.close();
  });

  it('closes a connection that receives bytes after its answer (out of step) instead of keeping it', async () => {
    const srv = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhiGARBAGE'));
    const target = memoryTarget(2);
    const res = await client.get(request(srv.url, target));
    assert.equal(Buffer.concat(await collect(res.body!)).toString(), 'hi');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(client.idleConnections(), 0);
    await srv.close();
  });

  it('reads over HTTPS (TLS) the same way, records read in one turn leaving as one piece', async () => {
    const dir = tempDir('direct-tls-');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'k.pem'));
    const cert = readFileSync(join(dir, 'c.pem'));
    const srv = await serve((_req, res) => res.writeHead(200, { 'content-length': content.length }).end(content), { key, cert });
    const tls = new DirectClient({ connectTimeoutMs: 2000, idleTimeoutMs: 2000, tls: { ca: cert } });
    const target = memoryTarget(content.length);
    const res = await tls.get(request(srv.url.replace('127.0.0.1', 'localhost'), target));
    const pieces = await collect(res.body!);
    assert.ok(pieces.every((p) => p.buffer === target.mem.buffer));
    assert.ok(target.mem.equals(content));
    // TLS hands over one 16 KiB record per read; the records read in one turn leave as one piece.
    const records = Math.ceil(content.length / 16384);
    assert.ok(pieces.length < records / 2, `${pieces.length} pieces for ${records} records`);
    // An untrusted certificate fails the GET.
    await assert.rejects(client.get(request(srv.url.replace('127.0.0.1', 'localhost'), memoryTarget(content.length))));
    tls.close();
    await srv.close();
  });
});

describe('mounts: parseResponseHead', () => {
  it('reads status, fields and Content-Length framing', () => {
    const h = parseResponseHead('HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nETag: "x"\r\nX-A: 1\r\nx-a: 2');
    assert.equal(h.status, 206);
    assert.equal(h.length, 10);
    assert.equal(h.fields.get('etag'), '"x"');
    assert.equal(h.fields.get('x-a'), '1, 2');
    assert.equal(h.reusable, true);
  });

  it('has no length with Transfer-Encoding, for bodiless statuses, or without Content-Length', () => {
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 5').length, undefined);
    assert.equal(parseResponseHead('HTTP/1.1 204 No Content\r\ncontent-length: 5').length, undefined);
    assert.equal(parseResponseHead('HTTP/1.1 304 Not Modified').length, undefined);
    assert.equal(parseResponseHead('HTTP/1.1 200 OK').length, undefined);
  });

  it('knows when a connection may be reused', () => {
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nconnection: close').reusable, false);
    assert.equal(parseResponseHead('HTTP/1.0 200 OK').reusable, false);
    assert.equal(parseResponseHead('HTTP/1.0 200 OK\r\nConnection: Keep-Alive').reusable, true);
  });

  it('rejects malformed heads and conflicting lengths', () => {
    assert.throws(() => parseResponseHead('HTTP/2 200'), /status line/);
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\n folded: value'), /header field/);
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length : 5'), /header field/);
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6'), /conflicting/);
    assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5').length, 5);
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: -1'), /Content-Length/);
  });
});
