import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { TestNode } from '../support/node.js';
import { PASSWORD } from '../ocm/mesh.js';
import type { FaultProxy } from './fault-proxy.js';
import { startProxiedShare } from './proxied-share.js';

const CONNECT_MS = 1000;
const IDLE_MS = 1500;
/** Slack for a loaded CI machine on top of a timeout. */
const SLACK_MS = 4000;

const openFds = () => readdirSync('/proc/self/fd').length;

describe('faults on the mount path (receiver → fault proxy → sender)', function () {
  this.timeout(180_000);
  let a: TestNode; // sender: alice
  let b: TestNode; // receiver: bob
  let proxy: FaultProxy;
  let mount: string;
  const bobAuth = { authorization: 'Basic ' + Buffer.from(`bob:${PASSWORD}`).toString('base64') };
  const big = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);

  before(async () => {
    let mountPath: string;
    ({ a, b, proxy, mountPath } = await startProxiedShare(
      { remote: { connectTimeoutMs: CONNECT_MS, idleTimeoutMs: IDLE_MS }, cache: { mode: 'off' } },
      { 'small.txt': 'small and fine\n', 'big.bin': big },
    ));
    mount = b.url + mountPath;
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  /** Does one request through the mount; returns status, whether the body arrived whole, and the time taken. */
  async function through(method: 'GET' | 'PROPFIND', path: string): Promise<{ status: number; whole: boolean; ms: number }> {
    const t = Date.now();
    const res = await fetch(mount + path, { method, headers: { ...bobAuth, depth: '1' } });
    let whole = true;
    try {
      const body = Buffer.from(await res.arrayBuffer());
      if (method === 'GET' && res.status === 200 && path.endsWith('big.bin')) whole = body.equals(big);
    } catch {
      whole = false;
    }
    return { status: res.status, whole, ms: Date.now() - t };
  }

  async function healthy(): Promise<void> {
    proxy.mode = { kind: 'pass' };
    const r = await through('GET', '/small.txt');
    assert.equal(r.status, 200, 'recovers without a restart');
    const big2 = await through('GET', '/big.bin');
    assert.ok(big2.status === 200 && big2.whole, 'a whole file after recovery');
  }

  it('works when the path is healthy, and through added latency', async () => {
    await healthy();
    proxy.mode = { kind: 'latency', ms: 300 };
    const r = await through('PROPFIND', '/');
    assert.equal(r.status, 207);
    assert.ok(r.ms >= 300);
    await healthy();
  });

  it('answers a burst of sender 5xx with 502/503 and recovers on its own', async () => {
    proxy.mode = { kind: 'status', status: 503, count: 6 };
    for (const path of ['/', '/small.txt']) {
      const r = await through(path === '/' ? 'PROPFIND' : 'GET', path);
      assert.ok([502, 503].includes(r.status), `got ${r.status}`);
    }
    await healthy();
  });

  it('answers connection resets with a bounded error', async () => {
    proxy.mode = { kind: 'reset' };
    const r = await through('GET', '/small.txt');
    assert.ok([502, 503].includes(r.status), `got ${r.status}`);
    assert.ok(r.ms < CONNECT_MS + SLACK_MS, `${r.ms} ms`);
    await healthy();
  });

  it('never hangs past its timeouts on a sender that accepts and says nothing', async () => {
    proxy.mode = { kind: 'hang' };
    for (const method of ['PROPFIND', 'GET'] as const) {
      const r = await through(method, method === 'GET' ? '/small.txt' : '/');
      assert.ok([502, 503, 504].includes(r.status), `${method}: got ${r.status}`);
      assert.ok(r.ms < IDLE_MS + SLACK_MS, `${method} took ${r.ms} ms`);
    }
    await healthy();
  });

  it('aborts the client transfer when the sender drops mid-body — never a short 200', async () => {
    for (let i = 0; i < 3; i++) {
      proxy.mode = { kind: 'drop-mid-body', afterBytes: 1024 * 1024 };
      const r = await through('GET', '/big.bin');
      assert.ok(r.status >= 500 || !r.whole, `a cut transfer arrived as a whole ${r.status}`);
      assert.ok(!(r.status === 200 && r.whole));
    }
    await healthy();
  });

  it('bounds a trickling sender by the idle timeout', async () => {
    proxy.mode = { kind: 'trickle', everyMs: IDLE_MS * 2 };
    const listing = await through('PROPFIND', '/');
    assert.ok([502, 503, 504].includes(listing.status), `got ${listing.status}`);
    assert.ok(listing.ms < IDLE_MS * 2 + SLACK_MS, `${listing.ms} ms`);
    const get = await through('GET', '/big.bin');
    assert.ok(get.status >= 500 || !get.whole, 'a trickled file must not arrive as a whole 200');
    assert.ok(get.ms < IDLE_MS * 3 + SLACK_MS, `${get.ms} ms`);
    await healthy();
  });

  it('reports a sender that is down within the connect timeout, and works again when it is back', async () => {
    await proxy.stop();
    const r = await through('GET', '/small.txt');
    assert.ok([502, 503, 504].includes(r.status), `got ${r.status}`);
    assert.ok(r.ms < CONNECT_MS + SLACK_MS, `${r.ms} ms`);
    const listing = await fetch(`${b.url}/remote.php/dav/files/bob/`, { method: 'PROPFIND', headers: { ...bobAuth, depth: '1' } });
    assert.equal(listing.status, 207, 'the home still lists while a share is unavailable');
    await proxy.start();
    await healthy();
  });

  it('leaks no sockets or file descriptors across repeated faults', async () => {
    await healthy();
    await new Promise((r) => setTimeout(r, 500));
    const before = openFds();
    const modes = [
      { kind: 'reset' },
      { kind: 'status', status: 500, count: 1 },
      { kind: 'drop-mid-body', afterBytes: 256 * 1024 },
      { kind: 'hang' },
    ] as const;
    for (let round = 0; round < 5; round++) {
      for (const m of modes) {
        proxy.mode = { ...m } as never;
        await through('GET', '/big.bin');
      }
    }
    await healthy();
    await new Promise((r) => setTimeout(r, 1000));
    const after = openFds();
    assert.ok(after - before <= 6, `file descriptors grew from ${before} to ${after} over 20 faulty requests`);
  });
});
