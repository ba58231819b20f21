/**
 * Mount reads that outlive their connection to the sender (src/mounts/resuming-body.ts), with a
 * real meshdav sender and receiver on loopback and a proxy between them that cuts or holds
 * requests: a GET broken off part-way is reopened where it stopped; a GET whose client pauses is
 * closed and reopened when the client reads on; a file that changed meanwhile fails the read
 * instead of joining two versions. In each case what got cached is the sender's bytes.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Perm } from '../../src/fs/types.js';
import { MAX_BREAKS } from '../../src/mounts/resuming-body.js';
import type { TestNode } from '../support/node.js';
import { PASSWORD, client, domainOf, putFile, startMesh } from '../ocm/mesh.js';
import { startProxy, type ProxyOptions, type TestProxy } from './support.js';

const MiB = 1024 * 1024;
const basic = 'Basic ' + Buffer.from(`marie:${PASSWORD}`).toString('base64');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Reads a body that must break off (the read rejects); the bytes that came before. */
async function abortedBody(res: Response): Promise<number> {
  let got = 0;
  const reader = res.body!.getReader();
  await assert.rejects(async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += value.length;
    }
  });
  return got;
}

describe('mounts: content GETs reopened where they stopped', function () {
  this.timeout(60_000);
  let a: TestNode;
  let b: TestNode;
  let shareUrl: string;
  let secret: string;
  const proxies: TestProxy[] = [];

  before(async () => {
    [a, b] = await startMesh(2, {
      users: [[['einstein', 'Albert Einstein', 'e@a.example']], [['marie', 'Marie Curie', 'm@b.example']]],
      extra: [{}, { remote: { pausedCloseMs: 300 }, cache: { chunkBytes: 1 * MiB } }],
    });
    await putFile(a, 'einstein', '/proj/keep.txt', 'x');
    const inv = await client(a, 'einstein').post('/sciencemesh/generate-invite', {});
    await client(b, 'marie').post('/sciencemesh/accept-invite', { token: inv.json.token, providerDomain: domainOf(a) });
    const sent = await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath: '/proj', recipientUsername: 'marie', recipientHost: domainOf(b), role: 'viewer' });
    assert.equal(sent.status, 201, sent.text);
    const share = await a.services.ocm.sent.get('einstein', sent.json.id);
    shareUrl = `/remote.php/dav/ocm/${share.id}`;
    secret = share.secret;
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all([a?.stop(), b?.stop()]);
  });

  /** Mounts the share for marie at /Shares/{name} through a proxy with `opts`. */
  async function mountVia(name: string, opts: ProxyOptions): Promise<TestProxy> {
    const proxy = await startProxy(a.url, opts);
    proxies.push(proxy);
    await b.services.mounts.mount({
      user: 'marie',
      name,
      url: proxy.url + shareUrl,
      auth: { kind: 'secret', secret },
      permissions: Perm.READ,
      origin: { shareId: name, owner: `einstein@${domainOf(a)}`, provider: domainOf(a) },
    });
    return proxy;
  }

  const get = (path: string) => fetch(`${b.url}/remote.php/dav/files/marie/Shares${path}`, { headers: { authorization: basic } });
  const gets = (proxy: TestProxy, file: string) => proxy.requests.filter((r) => r.startsWith('GET ') && r.includes(file));
  /** Start offsets of the ranged GETs the proxy saw for `file`. */
  const starts = (proxy: TestProxy, file: string) => gets(proxy, file).map((r) => Number(/bytes=(\d+)-/.exec(r)?.[1] ?? NaN));

  /** A read of /{name}/{name}.bin gives `data` and asks the sender for nothing. */
  async function readsFromCache(proxy: TestProxy, name: string, data: Buffer): Promise<void> {
    const before = gets(proxy, `${name}.bin`).length;
    const again = Buffer.from(await (await get(`/${name}/${name}.bin`)).arrayBuffer());
    assert.equal(sha(again), sha(data));
    assert.equal(gets(proxy, `${name}.bin`).length, before);
  }

  async function resumedMetric(why: 'paused' | 'broken'): Promise<number> {
    const text = await (await fetch(`${b.url}/metrics`)).text();
    const m = new RegExp(`^meshdav_mount_gets_resumed_total\\{why="${why}"\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  }

  it('finishes a download whose connection broke off, with one ranged GET from where it stopped, and caches the right bytes', async () => {
    const data = randomBytes(24 * MiB + 12345);
    await putFile(a, 'einstein', '/proj/broken.bin', data);
    const cutAt = 5 * MiB + 777; // inside a chunk: the chunk being filled continues on the new GET
    const proxy = await mountVia('broken', { cut: { afterBytes: cutAt } });
    const before = await resumedMetric('broken');

    const res = await get('/broken/broken.bin');
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(body.length, data.length);
    assert.equal(sha(body), sha(data));
    const s = starts(proxy, 'broken.bin');
    assert.equal(s.length, 2, gets(proxy, 'broken.bin').join('\n'));
    assert.equal(s[0], 0);
    assert.ok(s[1]! > 0 && s[1]! <= cutAt, `reopened at ${s[1]}, cut at ${cutAt}`);
    assert.equal((await resumedMetric('broken')) - before, 1);

    // What was cached across the break is the sender's bytes: a warm read asks the sender nothing.
    await readsFromCache(proxy, 'broken', data);
  });

  it('closes the connection while its client pauses and reopens it where it stopped when the client reads on', async () => {
    const data = randomBytes(48 * MiB);
    await putFile(a, 'einstein', '/proj/paused.bin', data);
    const proxy = await mountVia('paused', {});
    const before = await resumedMetric('paused');

    const res = await get('/paused/paused.bin');
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const parts: Buffer[] = [];
    const first = await reader.read();
    parts.push(Buffer.from(first.value!));
    // The client stops reading: every buffer on the way fills, and the receiver's GET is held
    // paused for longer than remote.pausedCloseMs (300 ms here).
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await resumedMetric('paused')) - before, 1, 'the paused GET was closed');
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(Buffer.from(value));
    }
    const body = Buffer.concat(parts);
    assert.equal(body.length, data.length);
    assert.equal(sha(body), sha(data));
    const s = starts(proxy, 'paused.bin');
    assert.equal(s.length, 2, gets(proxy, 'paused.bin').join('\n'));
    assert.ok(s[1]! > 0, `reopened at ${s[1]}`);

    await readsFromCache(proxy, 'paused', data);
  });

  it('lets another reader of the same chunks go on when the reader fetching them pauses', async () => {
    const data = randomBytes(48 * MiB);
    await putFile(a, 'einstein', '/proj/shared.bin', data);
    await mountVia('shared', {});
    const first = await get('/shared/shared.bin');
    const reader = first.body!.getReader();
    const parts: Buffer[] = [Buffer.from((await reader.read()).value!)];
    // The first reader stops; a second one wants the chunks the first has claimed.
    const t0 = Date.now();
    const second = Buffer.from(await (await get('/shared/shared.bin')).arrayBuffer());
    assert.equal(sha(second), sha(data));
    assert.ok(Date.now() - t0 < 10_000, `the second read took ${Date.now() - t0} ms`);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(Buffer.from(value));
    }
    assert.equal(sha(Buffer.concat(parts)), sha(data), 'and the first reads on, whole');
  });

  it('lets another reader go on within seconds when the reader fetching its chunks holds its GET paused, long before it is closed', async () => {
    // With pausedCloseMs 8 s (read when the mount is first used) the first reader's GET stays open
    // through the test; after 2 s (a quarter of it) it counts as held, and gives the chunks
    // another reader waits for up.
    b.config.remote.pausedCloseMs = 8000;
    try {
      const proxy = await mountVia('held', {});
      const data = randomBytes(48 * MiB);
      await putFile(a, 'einstein', '/proj/held.bin', data);
      const before = await resumedMetric('paused');
      const first = await get('/held/held.bin');
      const reader = first.body!.getReader();
      const parts: Buffer[] = [Buffer.from((await reader.read()).value!)];
      const t0 = Date.now();
      const second = Buffer.from(await (await get('/held/held.bin')).arrayBuffer());
      const took = Date.now() - t0;
      assert.equal(sha(second), sha(data));
      assert.ok(took < 6000, `the second read took ${took} ms (the first reader's GET closes after 8000)`);
      assert.equal((await resumedMetric('paused')) - before, 0, 'the first reader\'s GET was still open');
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(Buffer.from(value));
      }
      assert.equal(sha(Buffer.concat(parts)), sha(data), 'and the first reads on, whole');
      assert.ok(gets(proxy, 'held.bin').length >= 2);
    } finally {
      b.config.remote.pausedCloseMs = 300;
    }
  });

  it('gives up on a sender that keeps breaking off, after 16 breaks: the transfer aborts, never a short 200', async () => {
    const data = randomBytes(8 * MiB);
    await putFile(a, 'einstein', '/proj/flaky.bin', data);
    const proxy = await mountVia('flaky', { cut: { afterBytes: 64 * 1024, times: 1000 } });
    const res = await get('/flaky/flaky.bin');
    assert.equal(res.status, 200);
    const got = await abortedBody(res);
    assert.ok(got < data.length);
    // The first GET and one reopen per break, each from where the last stopped.
    const s = starts(proxy, 'flaky.bin');
    assert.equal(s.length, 1 + MAX_BREAKS, gets(proxy, 'flaky.bin').join('\n'));
    for (let i = 1; i < s.length; i++) assert.ok(s[i]! > s[i - 1]!, `GET ${i} starts at ${s[i]}, after ${s[i - 1]}`);
  });

  it('fails the transfer, never joining two versions, when the file changed before the reopen', async () => {
    const data = randomBytes(16 * MiB);
    await putFile(a, 'einstein', '/proj/changed.bin', data);
    let getsSeen = 0;
    let changed: Promise<void> | undefined;
    const proxy = await mountVia('changed', {
      cut: { afterBytes: 3 * MiB },
      hold: (req) => {
        if (req.method !== 'GET' || !req.url?.endsWith('changed.bin')) return;
        // The reopen waits until a new version is in place at the sender.
        if (++getsSeen === 2) return (changed = putFile(a, 'einstein', '/proj/changed.bin', randomBytes(16 * MiB)));
      },
    });

    const res = await get('/changed/changed.bin');
    assert.equal(res.status, 200);
    const got = await abortedBody(res);
    await changed;
    assert.ok(got < data.length, `got ${got} of ${data.length}`);
    // One reopen, from the cut, answered 412 (RemoteFs reads an answer its direct client declines
    // once more the general way, which maps it); a 412 is not retried.
    const [first, ...reopens] = starts(proxy, 'changed.bin');
    assert.equal(first, 0);
    assert.ok(reopens.length >= 1 && reopens.length <= 2, gets(proxy, 'changed.bin').join('\n'));
    assert.ok(reopens.every((at) => at === 3 * MiB));
  });
});
