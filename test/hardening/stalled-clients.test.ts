/**
 * Clients that stall a transfer lose their connection after `limits.clientStallMs`; clients that
 * are slow but moving, and requests the server (or a sender behind a mount) is still working on,
 * are left alone. Real nodes on loopback: receiver B (short stall limit) mounts a share of sender
 * A, which sits behind a fault proxy so the sender can be made slow.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { TestNode } from '../support/node.js';
import { putFile, PASSWORD } from '../ocm/mesh.js';
import { aheadReadsInUse } from '../../src/mounts/range-stream.js';
import type { FaultProxy } from './fault-proxy.js';
import { startProxiedShare, type ProxiedShare } from './proxied-share.js';

const STALL_MS = 1500;
/** Slack for a loaded CI machine on top of the limit. */
const SLACK_MS = 3000;
const MiB = 1024 * 1024;

describe('stalled clients (limits.clientStallMs)', function () {
  this.timeout(120_000);
  let a: TestNode;
  let b: TestNode;
  let proxy: FaultProxy;
  let mountPath: string;
  const big = Buffer.alloc(48 * MiB);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
  const auth = 'Basic ' + Buffer.from(`bob:${PASSWORD}`).toString('base64');

  before(async () => {
    ({ a, b, proxy, mountPath } = await startProxiedShare(
      { remote: { connectTimeoutMs: 2000, idleTimeoutMs: 10_000 }, limits: { clientStallMs: STALL_MS } },
      { 'big.bin': big, 'small.txt': 'small\n' },
    ));
    await putFile(b, 'bob', '/big.bin', big);
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  /** Milliseconds until B logs that it closed a stalled connection for `path`, or undefined. */
  async function stallLogged(path: string, since: number, withinMs: number): Promise<number | undefined> {
    for (;;) {
      const line = b.logLines.find((l) => l.includes('closing a stalled client connection') && l.includes(`"path":"${path}"`) && Date.parse(JSON.parse(l).time) >= since);
      if (line) return Date.parse(JSON.parse(line).time) - since;
      if (Date.now() - since > withinMs) return undefined;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** B's count of connections closed for a stalled response or request body (/metrics). */
  async function closedCount(waiting: 'response' | 'request-body'): Promise<number> {
    const text = await (await fetch(`${b.url}/metrics`)).text();
    const m = new RegExp(`^meshdav_http_stalled_connections_closed_total\\{waiting="${waiting}"\\} (\\d+)$`, 'm').exec(text);
    assert.ok(m, `no ${waiting} line in /metrics`);
    return Number(m[1]);
  }

  /** A raw connection to B that sends `head` (and `body`) and then reads nothing until told. */
  function rawRequest(head: string, body?: Buffer) {
    const socket = net.connect(Number(new URL(b.url).port), '127.0.0.1');
    let received = 0;
    let closedAt: number | undefined;
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.on('error', () => undefined);
    socket.on('close', () => (closedAt ??= Date.now()));
    socket.write(head);
    if (body) socket.write(body);
    return {
      socket,
      received: () => received,
      closedAt: () => closedAt,
      /** Reads everything left and resolves with the bytes received once the connection closes (or after ms). */
      drain: (ms: number) =>
        new Promise<number>((resolve) => {
          socket.resume();
          if (closedAt !== undefined) return resolve(received);
          const t = setTimeout(() => resolve(received), ms);
          socket.once('close', () => {
            clearTimeout(t);
            resolve(received);
          });
        }),
    };
  }

  const getHead = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nConnection: close\r\n\r\n`;

  it('closes a download whose client stopped reading, after the limit and not before', async () => {
    const path = '/remote.php/dav/files/bob/big.bin';
    const before = await closedCount('response');
    const t0 = Date.now();
    const r = rawRequest(getHead(path));
    r.socket.pause();
    const after = await stallLogged(path, t0, STALL_MS + SLACK_MS);
    assert.ok(after !== undefined, 'a stalled download was not closed');
    assert.equal(await closedCount('response'), before + 1, '/metrics counts it');
    assert.ok(after >= STALL_MS - 50, `closed after ${after} ms, before the limit`);
    const got = await r.drain(SLACK_MS);
    assert.ok(got < big.length, `the cut transfer delivered ${got} bytes: it must not look whole`);
    assert.ok(r.closedAt() !== undefined, 'the connection is closed');
  });

  it('closes a stalled read through a mount and releases what the read held', async () => {
    const path = `${mountPath}/big.bin`;
    const t0 = Date.now();
    const r = rawRequest(getHead(path));
    r.socket.pause();
    assert.ok((await stallLogged(path, t0, STALL_MS + SLACK_MS)) !== undefined, 'a stalled mount read was not closed');
    await r.drain(SLACK_MS);
    for (let i = 0; i < 100 && aheadReadsInUse() > 0; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(aheadReadsInUse(), 0, 'the abandoned read still holds a read-ahead place');
    // Chunks the abandoned read had claimed are free again: the next reader gets the whole file.
    const again = await fetch(b.url + path, { headers: { authorization: auth } });
    assert.equal(again.status, 200);
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(big));
  });

  it('closes an upload whose client stopped sending, and commits nothing', async () => {
    const path = '/remote.php/dav/files/bob/half.bin';
    const before = await closedCount('request-body');
    const t0 = Date.now();
    const r = rawRequest(`PUT ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Length: ${8 * MiB}\r\n\r\n`, Buffer.alloc(MiB, 7));
    const after = await stallLogged(path, t0, STALL_MS + SLACK_MS);
    assert.ok(after !== undefined, 'a stalled upload was not closed');
    assert.equal(await closedCount('request-body'), before + 1, '/metrics counts it');
    assert.ok(after >= STALL_MS - 50, `closed after ${after} ms, before the limit`);
    await r.drain(SLACK_MS);
    assert.ok(r.closedAt() !== undefined, 'the connection is closed');
    const res = await fetch(b.url + path, { headers: { authorization: auth } });
    assert.equal(res.status, 404, 'half an upload must not become a file');
  });

  it('leaves a slow client that keeps reading alone', async () => {
    const path = '/remote.php/dav/files/bob/big.bin';
    const t0 = Date.now();
    const r = rawRequest(getHead(path));
    r.socket.pause();
    // Every third of the limit, take at least 1 MiB (or what comes in 100 ms), for several limits:
    // a client on a slow link. The server counts a byte as moved when one of its socket writes
    // completes (1 MiB pieces), so a client must take that much per limit to count as moving; a
    // read of one event-loop turn did not always (the kernel's window for a slow reader stays
    // small), and one fresh-clone CI run cut it.
    while (Date.now() - t0 < STALL_MS * 4) {
      await new Promise((res) => setTimeout(res, STALL_MS / 3));
      const from = r.received();
      const until = Date.now() + 100;
      r.socket.resume();
      while (r.received() - from < MiB && Date.now() < until) await new Promise((res) => setTimeout(res, 2));
      r.socket.pause();
    }
    assert.equal(r.closedAt(), undefined, 'a slow but moving client was cut');
    const got = await r.drain(30_000);
    assert.ok(got > big.length, `the whole response arrived (${got} bytes with the head)`);
    assert.equal(await stallLogged(path, t0, 0), undefined);
  });

  it('leaves a request alone while a slow sender behind a mount is still answering', async () => {
    proxy.mode = { kind: 'latency', ms: STALL_MS * 3 };
    try {
      const path = `${mountPath}/small.txt`;
      const t0 = Date.now();
      const res = await fetch(b.url + path, { headers: { authorization: auth } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'small\n');
      assert.ok(Date.now() - t0 >= STALL_MS, 'the sender was not slow enough for this test');
      assert.equal(await stallLogged(path, t0, 0), undefined);
    } finally {
      proxy.mode = { kind: 'pass' };
    }
  });

  it('closes a connection that never sends a request', async () => {
    const socket = net.connect(Number(new URL(b.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    const t0 = Date.now();
    const closedAfter = await new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - t0)));
    assert.ok(closedAfter >= STALL_MS - 50 && closedAfter < STALL_MS + SLACK_MS, `closed after ${closedAfter} ms`);
  });
});

describe('stalled clients: a mount is a client of its sender', function () {
  this.timeout(120_000);
  const SENDER_STALL_MS = 3000;
  let share: ProxiedShare;
  const big = Buffer.alloc(48 * MiB);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i ^ 0x5a5a5a5a, i);
  const auth = 'Basic ' + Buffer.from(`bob:${PASSWORD}`).toString('base64');

  before(async () => {
    share = await startProxiedShare({}, { 'big.bin': big }, { limits: { clientStallMs: SENDER_STALL_MS } });
  });
  after(() => share?.stop());

  it("keeps streaming to a slow but moving reader of the mount: the mount's pauses stay below the sender's limit", async () => {
    const { b, mountPath } = share;
    const res = await fetch(b.url + mountPath + '/big.bin', { headers: { authorization: auth } });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const parts: Buffer[] = [];
    let got = 0;
    const t0 = Date.now();
    // About 8 MiB/s, far below loopback speed: the mount stops reading from the sender while it
    // waits for this reader, for less than a second at a time (its read-ahead is 4 MiB).
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(Buffer.from(value));
      got += value.length;
      const due = (got / (8 * MiB)) * 1000 - (Date.now() - t0);
      if (due > 0) await new Promise((r) => setTimeout(r, due));
    }
    assert.ok(Buffer.concat(parts).equals(big), `the whole file arrived (${got} bytes)`);
    assert.ok(Date.now() - t0 > SENDER_STALL_MS, 'the read was not slow enough to span the sender limit');
    assert.ok(!share.a.logLines.some((l) => l.includes('closing a stalled client connection')), 'the sender closed the mount as stalled');
  });
});
