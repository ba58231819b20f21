/**
 * Receiver mounts with real nodes: OCM shares from a meshdav sender appear under /Shares in the
 * recipient's DAV home and EFSS namespace; third-party senders (webdav-server, rclone) mount too;
 * failures of the sender reach the client as errors, never as short or stale success.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Perm } from '../../src/fs/types.js';
import type { TestNode } from '../support/node.js';
import { startTestNode, tempDir } from '../support/node.js';
import { needTool } from '../support/tools.js';
import { PASSWORD, client, domainOf, putFile, startMesh, freePort } from '../ocm/mesh.js';
import { startProxy, startWebdavServer, type TestProxy } from './support.js';

const basic = (u: string, p = PASSWORD) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

async function dav(node: TestNode, user: string, method: string, path: string, init: { body?: string | Buffer; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${node.url}/remote.php/dav/files/${user}${path}`, {
    method,
    headers: { authorization: basic(user), ...(init.headers ?? {}) },
    body: init.body as BodyInit | undefined,
  });
  return res;
}

async function propfindNames(node: TestNode, user: string, path: string): Promise<string[]> {
  const res = await dav(node, user, 'PROPFIND', path, { headers: { depth: '1' } });
  assert.equal(res.status, 207, `PROPFIND ${path}: ${res.status}`);
  const xml = await res.text();
  return [...xml.matchAll(/<d:href>([^<]*)<\/d:href>/gi)].map((m) => decodeURIComponent(m[1]!));
}

describe('mounts: received shares mounted under /Shares', function () {
  this.timeout(60_000);

  describe('OCM share from a meshdav sender', () => {
    let a: TestNode;
    let b: TestNode;
    before(async () => {
      [a, b] = await startMesh(2, {
        users: [[['einstein', 'Albert Einstein', 'e@a.example']], [['marie', 'Marie Curie', 'm@b.example']]],
        extra: [{}, { cache: { metadataTtlMs: 300 } }],
      });
      await putFile(a, 'einstein', '/proj/notes.txt', 'hello from A\n');
      const inv = await client(a, 'einstein').post('/sciencemesh/generate-invite', {});
      await client(b, 'marie').post('/sciencemesh/accept-invite', { token: inv.json.token, providerDomain: domainOf(a) });
    });
    after(() => Promise.all([a?.stop(), b?.stop()]));

    async function shareAndAccept(sourcePath: string, role: 'viewer' | 'editor') {
      const sent = await client(a, 'einstein').post('/sciencemesh/create-share', {
        sourcePath, recipientUsername: 'marie', recipientHost: domainOf(b), role,
      });
      assert.equal(sent.status, 201, sent.text);
      const list = await client(b, 'marie').get('/sciencemesh/received-shares');
      const rec = list.json.find((s: { state: string }) => s.state === 'pending');
      const ok = await client(b, 'marie').post(`/sciencemesh/received-shares/${rec.id}/accept`);
      assert.equal(ok.status, 200, ok.text);
      return sent.json.id as string;
    }

    it('mounts an accepted share, reads and writes through it, and unmounts it when revoked', async () => {
      const id = await shareAndAccept('/proj', 'editor');
      const names = await propfindNames(b, 'marie', '/Shares');
      assert.ok(names.some((h) => h.endsWith('/Shares/proj/')), names.join(' '));
      const got = await dav(b, 'marie', 'GET', '/Shares/proj/notes.txt');
      assert.equal(got.status, 200);
      assert.equal(await got.text(), 'hello from A\n');
      const put = await dav(b, 'marie', 'PUT', '/Shares/proj/from-b.txt', { body: 'written by marie' });
      assert.ok(put.status === 201 || put.status === 204, String(put.status));
      const home = await a.services.storage.home('einstein');
      assert.equal((await home.stat('/proj/from-b.txt')).size, 'written by marie'.length);

      // Nextcloud's bulk upload into the mount: each file lands at the sender, a wrong MD5 nowhere.
      const md5 = (t: string) => createHash('md5').update(t).digest('hex');
      const part = (path: string, text: string, sum = md5(text)) => `--bnd\r\nX-File-Path: ${path}\r\nX-File-MD5: ${sum}\r\nContent-Length: ${text.length}\r\n\r\n${text}\r\n`;
      const bulk = await fetch(`${b.url}/remote.php/dav/bulk`, {
        method: 'POST',
        headers: { authorization: basic('marie'), 'content-type': 'multipart/related; boundary=bnd' },
        body: part('/Shares/proj/bulk-1.txt', 'sent in bulk') + part('/Shares/proj/bulk-bad.txt', 'corrupt', md5('other')) + '--bnd--\r\n',
      });
      assert.equal(bulk.status, 200);
      const results = (await bulk.json()) as Record<string, { error: boolean }>;
      assert.deepEqual(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.error])), { '/Shares/proj/bulk-1.txt': false, '/Shares/proj/bulk-bad.txt': true });
      assert.equal((await home.stat('/proj/bulk-1.txt')).size, 'sent in bulk'.length);
      await assert.rejects(home.stat('/proj/bulk-bad.txt'), 'a part with a wrong MD5 reaches no one');

      // The EFSS namespace (what revad sees) holds the mount too.
      const ns = await b.services.namespaces.forUser('marie');
      const entry = await ns.stat('/Shares/proj/notes.txt');
      assert.equal(entry.remote?.provider, domainOf(a));
      assert.deepEqual((await ns.list('/Shares')).map((e) => [e.name, e.permissions & Perm.UPDATE]), [['proj', Perm.UPDATE]]);

      // A file changed at the sender: seen once the metadata TTL (300 ms here) has passed.
      await putFile(a, 'einstein', '/proj/notes.txt', 'changed at A\n');
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(await (await dav(b, 'marie', 'GET', '/Shares/proj/notes.txt')).text(), 'changed at A\n');

      const del = await client(a, 'einstein').del(`/sciencemesh/sent-shares/${id}`);
      assert.equal(del.status, 200, del.text);
      assert.equal((await dav(b, 'marie', 'PROPFIND', '/Shares/proj', { headers: { depth: '0' } })).status, 404);
      assert.ok(!(await propfindNames(b, 'marie', '/Shares')).some((h) => h.includes('/Shares/proj')));
    });

    it('reports its content cache on /metrics (fetched chunks, hits by tier, dropped spills, bytes)', async () => {
      await putFile(a, 'einstein', '/metered/m.bin', randomBytes(100_000));
      await shareAndAccept('/metered', 'viewer');
      const metric = async (name: string) => {
        const text = await (await fetch(`${b.url}/metrics`)).text();
        const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
        assert.ok(m, `${name} missing`);
        return Number(m[1]);
      };
      const fetched = await metric('meshdav_mount_cache_fetched_chunks_total');
      const hits = async () => (await metric('meshdav_mount_cache_memory_hits_total')) + (await metric('meshdav_mount_cache_disk_hits_total'));
      const hitsBefore = await hits();
      assert.equal((await (await dav(b, 'marie', 'GET', '/Shares/metered/m.bin')).arrayBuffer()).byteLength, 100_000);
      assert.equal(await metric('meshdav_mount_cache_fetched_chunks_total'), fetched + 1);
      assert.ok((await metric('meshdav_mount_direct_gets_total')) >= 1, 'the chunk was read straight into the cache');
      assert.equal(await metric('meshdav_mount_direct_declined_total'), 0);
      await new Promise((r) => setTimeout(r, 100)); // the write-through to the disk tier
      assert.equal((await (await dav(b, 'marie', 'GET', '/Shares/metered/m.bin')).arrayBuffer()).byteLength, 100_000);
      assert.equal(await metric('meshdav_mount_cache_fetched_chunks_total'), fetched + 1);
      assert.equal(await hits(), hitsBefore + 1);
      assert.equal(await metric('meshdav_mount_cache_spills_dropped_total'), 0);
      assert.match(await (await fetch(`${b.url}/metrics`)).text(), /^meshdav_mount_cache_bytes\{tier="disk"\} [1-9]\d*$/m);
    });

    it('gives fast and slow clients exact bytes, cold and from the cache (recycled read buffers), whole and ranged', async () => {
      const content = randomBytes(9 * 1024 * 1024 + 321); // several cache chunks and a partial last one
      await putFile(a, 'einstein', '/big/data.bin', content);
      await shareAndAccept('/big', 'viewer');
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      const get = (range: string | undefined, slow: boolean) =>
        new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
          const headers: Record<string, string> = { authorization: basic('marie') };
          if (range) headers.range = range;
          http
            .get(`${b.url}/remote.php/dav/files/marie/Shares/big/data.bin`, { headers, agent: false }, (res) => {
              const parts: Buffer[] = [];
              let n = 0;
              res.on('data', (c: Buffer) => {
                parts.push(Buffer.from(c)); // a copy: a recycled buffer would change under a reference
                if (slow && ++n % 4 === 0) {
                  res.pause();
                  setTimeout(() => res.resume(), 3);
                }
              });
              res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts) }));
              res.on('error', reject);
            })
            .on('error', reject);
        });
      for (const round of ['cold', 'cached']) {
        const [fast, slow, ranged, rangedSlow] = await Promise.all([
          get(undefined, false),
          get(undefined, true),
          get('bytes=1000-6000000', false),
          get('bytes=4194000-', true),
        ]);
        assert.deepEqual([fast.status, sha(fast.body)], [200, sha(content)], round);
        assert.deepEqual([slow.status, sha(slow.body)], [200, sha(content)], round);
        assert.deepEqual([ranged.status, sha(ranged.body)], [206, sha(content.subarray(1000, 6000001))], round);
        assert.deepEqual([rangedSlow.status, sha(rangedSlow.body)], [206, sha(content.subarray(4194000))], round);
        await new Promise((r) => setTimeout(r, 200)); // the write-through to the disk tier
      }
    });

    it('hides a share the sender revoked silently (401 on access), and removes its record', async () => {
      await putFile(a, 'einstein', '/silent/s.txt', 'soon gone');
      const id = await shareAndAccept('/silent', 'viewer');
      assert.equal(await (await dav(b, 'marie', 'GET', '/Shares/silent/s.txt')).text(), 'soon gone');
      const sent = await a.services.ocm.sent.get('einstein', id);
      await a.services.ocm.sent.remove(sent); // no SHARE_UNSHARED notification
      await new Promise((r) => setTimeout(r, 400)); // past the metadata TTL
      assert.equal((await dav(b, 'marie', 'GET', '/Shares/silent/s.txt')).status, 404);
      assert.equal((await dav(b, 'marie', 'PROPFIND', '/Shares/silent', { headers: { depth: '0' } })).status, 404);
      assert.ok(!(await propfindNames(b, 'marie', '/Shares')).some((h) => h.includes('/Shares/silent')));
      const left = (await client(b, 'marie').get('/sciencemesh/received-shares')).json as Array<{ name: string }>;
      assert.ok(!left.some((s) => s.name === 'silent'));
    });

    it('renames a mount point with MOVE and leaves the share with DELETE (as Nextcloud does)', async () => {
      await putFile(a, 'einstein', '/mv/m.txt', 'movable');
      const id = await shareAndAccept('/mv', 'viewer');
      const move = await dav(b, 'marie', 'MOVE', '/Shares/mv', { headers: { destination: `${b.url}/remote.php/dav/files/marie/Shares/renamed` } });
      assert.equal(move.status, 201, await move.text());
      assert.equal(await (await dav(b, 'marie', 'GET', '/Shares/renamed/m.txt')).text(), 'movable');
      assert.equal((await dav(b, 'marie', 'GET', '/Shares/mv/m.txt')).status, 404);
      const del = await dav(b, 'marie', 'DELETE', '/Shares/renamed');
      assert.equal(del.status, 204);
      assert.equal((await dav(b, 'marie', 'PROPFIND', '/Shares/renamed', { headers: { depth: '0' } })).status, 404);
      const sentList = (await client(a, 'einstein').get('/sciencemesh/sent-shares')).json as Array<{ id: string; state: string }>;
      assert.equal(sentList.find((s) => s.id === id)?.state, 'declined', 'SHARE_DECLINED reached the sender');
    });

    it('refuses writes into a read-only share with 403 and picks a free name when taken', async () => {
      await putFile(a, 'einstein', '/ro/r.txt', 'read only');
      await putFile(b, 'marie', '/Shares/ro/local.txt', 'a local folder of the same name');
      await shareAndAccept('/ro', 'viewer');
      const names = await propfindNames(b, 'marie', '/Shares');
      assert.ok(names.some((h) => h.endsWith('/Shares/ro (2)/')), names.join(' '));
      assert.equal(await (await dav(b, 'marie', 'GET', '/Shares/ro (2)/r.txt')).text(), 'read only');
      assert.equal((await dav(b, 'marie', 'PUT', '/Shares/ro (2)/x.txt', { body: 'x' })).status, 403);
      assert.equal((await dav(b, 'marie', 'DELETE', '/Shares/ro (2)/r.txt')).status, 403);
      // COPY out of the mount into the local home streams across the boundary.
      const copy = await dav(b, 'marie', 'COPY', '/Shares/ro (2)/r.txt', {
        headers: { destination: `${b.url}/remote.php/dav/files/marie/copied.txt` },
      });
      assert.equal(copy.status, 201);
      assert.equal(await (await dav(b, 'marie', 'GET', '/copied.txt')).text(), 'read only');
    });
  });

  describe('third-party and failing senders', () => {
    let b: TestNode;
    before(async () => {
      b = await startTestNode({ remote: { connectTimeoutMs: 500, idleTimeoutMs: 2000 }, cache: { chunkBytes: 256 * 1024 } });
      await b.services.users.add({ name: 'marie', password: PASSWORD });
    });
    after(() => b?.stop());

    const mountAt = (name: string, url: string, auth: { kind: 'none' } | { kind: 'basic'; username: string; password: string } = { kind: 'none' }) =>
      b.services.mounts.mount({ user: 'marie', name, url, auth, permissions: Perm.ALL, origin: { shareId: name, owner: 'x@elsewhere', provider: new URL(url).host } });

    it('mounts a webdav-server share', async () => {
      const srv = await startWebdavServer();
      writeFileSync(join(srv.dir, 'third.txt'), 'third party');
      await mountAt('third', srv.url);
      assert.equal(await (await dav(b, 'marie', 'GET', '/Shares/third/third.txt')).text(), 'third party');
      // File ids inside a mount resolve back to their path (what revad's GetPathByID needs).
      const ns = await b.services.namespaces.forUser('marie');
      const entry = await ns.stat('/Shares/third/third.txt');
      assert.match(entry.fileId, /^mount-[0-9a-f]{8}-/);
      assert.equal(await (ns as unknown as { pathById(id: string): Promise<string> }).pathById(entry.fileId), '/Shares/third/third.txt');
      await srv.close();
    });

    it('serves mounts through the EFSS API (GetMD, ListFolder, Download) as revad sees them', async () => {
      const srv = await startWebdavServer();
      writeFileSync(join(srv.dir, 'efss.txt'), 'via revad');
      await mountAt('efss', srv.url);
      const api = (verb: string, init: RequestInit = {}) =>
        fetch(`${b.url}/apps/sciencemesh/~marie/api/storage/${verb}`, {
          method: 'POST',
          ...init,
          headers: { 'x-reva-secret': b.config.revaSecret, 'content-type': 'application/json', ...(init.headers ?? {}) },
        });
      const md = await api('GetMD', { body: JSON.stringify({ ref: { path: '/home/Shares/efss/efss.txt' } }) });
      assert.equal(md.status, 200);
      assert.equal((await md.json()).size, 9);
      const ls = await api('ListFolder', { body: JSON.stringify({ ref: { path: '/home/Shares' } }) });
      assert.equal(ls.status, 200);
      assert.ok(((await ls.json()) as Array<{ path: string }>).some((e) => e.path.endsWith('/Shares/efss')));
      const dl = await api('Download/home/Shares/efss/efss.txt', { method: 'GET' });
      assert.equal(dl.status, 200);
      assert.equal(await dl.text(), 'via revad');
      await srv.close();
    });

    it('counts reads and writes through a mount as transfers, which background work waits for', async () => {
      const srv = await startWebdavServer();
      writeFileSync(join(srv.dir, 'busy.bin'), randomBytes(8 * 1024 * 1024));
      await mountAt('busy', srv.url);
      const activity = b.services.storage.activity;
      assert.ok(activity.isQuiet(0));
      const res = await dav(b, 'marie', 'GET', '/Shares/busy/busy.bin');
      const reader = res.body!.getReader();
      await reader.read();
      assert.equal(activity.isQuiet(0), false, 'a read in flight');
      while (!(await reader.read()).done);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(activity.isQuiet(0), 'over when the read is');
      let seen = false;
      const body = new ReadableStream({
        pull(controller) {
          seen ||= !activity.isQuiet(0);
          if (seen) controller.close();
          else controller.enqueue(new Uint8Array(64 * 1024));
        },
      });
      const put = await fetch(`${b.url}/remote.php/dav/files/marie/Shares/busy/up.bin`, {
        method: 'PUT', body, headers: { authorization: basic('marie') }, duplex: 'half',
      } as RequestInit);
      assert.ok(put.status < 300, String(put.status));
      assert.ok(seen, 'a write in flight');
      await srv.close();
    });

    it('mounts `rclone serve webdav` as a sender', async function () {
      const rclone = needTool(this, 'rclone');
      const dir = tempDir('rclone-sender-');
      writeFileSync(join(dir, 'r.txt'), 'served by rclone');
      const port = await freePort();
      const child: ChildProcess = spawn(rclone, ['serve', 'webdav', dir, '--addr', `127.0.0.1:${port}`], { stdio: 'ignore' });
      try {
        for (let i = 0; i < 50; i++) {
          if (await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        await mountAt('rclone', `http://127.0.0.1:${port}`);
        assert.equal(await (await dav(b, 'marie', 'GET', '/Shares/rclone/r.txt')).text(), 'served by rclone');
        const put = await dav(b, 'marie', 'PUT', '/Shares/rclone/up.txt', { body: 'up' });
        assert.ok(put.status < 300, String(put.status));
      } finally {
        child.kill();
      }
    });

    it('aborts the client transfer when the sender dies mid-body, errs within the timeout while it is down, and recovers', async () => {
      const srv = await startWebdavServer();
      const data = randomBytes(8 * 1024 * 1024);
      writeFileSync(join(srv.dir, 'big.bin'), data);
      let proxy: TestProxy = await startProxy(srv.url);
      const port = Number(new URL(proxy.url).port);
      await mountAt('flaky', proxy.url);

      const res = await dav(b, 'marie', 'GET', '/Shares/flaky/big.bin');
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let got = 0;
      const first = await reader.read();
      got += first.value?.length ?? 0;
      await proxy.close(); // the sender dies mid-transfer
      await assert.rejects(
        (async () => {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            got += value.length;
          }
        })(),
      );
      assert.ok(got < data.length);

      const t0 = Date.now();
      const down = await dav(b, 'marie', 'GET', '/Shares/flaky/big.bin', { headers: { range: 'bytes=7000000-7000010' } });
      assert.ok([502, 503, 504].includes(down.status), String(down.status));
      assert.ok(Date.now() - t0 < 5000);

      proxy = await startProxy(srv.url, { port });
      const back = await dav(b, 'marie', 'GET', '/Shares/flaky/big.bin');
      assert.equal(back.status, 200);
      assert.ok(Buffer.from(await back.arrayBuffer()).equals(data));
      await proxy.close();
      await srv.close();
    });
  });
});
