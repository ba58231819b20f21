import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CachedFs } from '../../src/mounts/cached-fs.js';
import { ChunkStore } from '../../src/mounts/chunk-store.js';
import { ChunkRefill } from '../../src/mounts/chunk-refill.js';
import { aheadReadsInUse } from '../../src/mounts/range-stream.js';
import { DirectClient } from '../../src/mounts/direct-get.js';
import { RemoteFs, createRemoteAgent } from '../../src/mounts/remote-fs.js';
import { NotFoundError, ServiceUnavailableError } from '../../src/errors.js';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { startProxy, startWebdavServer, type TestProxy, type ThirdPartyDav } from './support.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const agent = createRemoteAgent({ connectTimeoutMs: 1000, idleTimeoutMs: 3000 });
const direct = new DirectClient({ connectTimeoutMs: 1000, idleTimeoutMs: 3000 });
after(() => direct.close());

async function bytes(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

for (const viaDirect of [true, false]) {
  describe(`mounts: CachedFs over RemoteFs (webdav-server behind a counting proxy; content read ${viaDirect ? 'straight into the slabs' : 'through undici and copied'})`, function () {
    this.timeout(30_000);
    let dav: ThirdPartyDav;
    let proxy: TestProxy;
    let store: ChunkStore;
    let n = 0;
    const make = (opts: { ttl?: number; store?: ChunkStore } = {}) =>
      new CachedFs(new RemoteFs({ url: proxy.url, auth: { kind: 'none' }, dispatcher: agent, direct: viaDirect ? direct : undefined }), {
        mode: 'full',
        metadataTtlMs: opts.ttl ?? 60_000,
        chunkBytes: 64 * KiB,
        cacheId: `t${n++}`,
        store: opts.store ?? store,
      });
    const count = (prefix: string) => proxy.requests.filter((r) => r.startsWith(prefix)).length;
    const gets = (path: string) => proxy.requests.filter((r) => r.startsWith(`GET ${path} `));

    before(async () => {
      dav = await startWebdavServer();
      proxy = await startProxy(dav.url);
      store = new ChunkStore({ memoryBytes: 8 * 1024 * KiB, diskBytes: 0 });
    });
    after(async () => {
      await proxy.close();
      await dav.close();
    });
    beforeEach(() => {
      proxy.requests.length = 0;
    });

    it('caches stat and list, seeds children from a listing, and caches 404s', async () => {
      writeFileSync(join(dav.dir, 'm1.txt'), 'one');
      writeFileSync(join(dav.dir, 'm2.txt'), 'two');
      const fs = make();
      const names = (await fs.list('/')).map((e) => e.name).sort();
      assert.ok(names.includes('m1.txt') && names.includes('m2.txt'));
      await fs.list('/');
      assert.equal((await fs.stat('/m2.txt')).size, 3);
      await assert.rejects(fs.stat('/absent'), NotFoundError);
      await assert.rejects(fs.stat('/absent'), NotFoundError);
      assert.equal(count('PROPFIND'), 2, proxy.requests.join('\n'));
    });

    it('makes one request for concurrent stats of one path', async () => {
      const fs = make();
      await Promise.all(Array.from({ length: 10 }, () => fs.stat('/m1.txt')));
      assert.equal(count('PROPFIND'), 1);
    });

    it('invalidates the path and its ancestors on writes through it', async () => {
      const fs = make();
      await fs.mkdir('/w');
      assert.deepEqual(await fs.list('/w'), []);
      await fs.write('/w/new.txt', Readable.from([Buffer.from('x')]));
      assert.deepEqual((await fs.list('/w')).map((e) => e.name), ['new.txt']);
      await fs.remove('/w/new.txt');
      assert.deepEqual(await fs.list('/w'), []);
      await assert.rejects(fs.stat('/w/new.txt'), NotFoundError);
    });

    it('keeps a fresh parent listing on a write through it, with the written entry in place, and asks only for the folder again', async () => {
      const fs = make();
      await fs.mkdir('/k');
      await fs.write('/k/a.txt', Readable.from([Buffer.from('a')]));
      await fs.list('/k');
      await fs.write('/k/b.txt', Readable.from([Buffer.from('bb')]));
      await fs.write('/k/a.txt', Readable.from([Buffer.from('aaa')]));
      const before = count('PROPFIND');
      const listed = (await fs.list('/k')).map((e) => [e.name, e.size, e.etag]).sort();
      assert.equal(count('PROPFIND'), before, 'the listing came from the cache');
      assert.deepEqual(listed.map(([name, size]) => [name, size]), [['a.txt', 3], ['b.txt', 2]]);
      const atSender = (await make().list('/k')).map((e) => [e.name, e.size, e.etag]).sort();
      assert.deepEqual(listed, atSender, 'the same entries the sender lists');
      proxy.requests.length = 0;
      await fs.stat('/k');
      assert.equal(count('PROPFIND'), 1, 'the folder itself (a new ETag) is asked for again');
    });

    it('keeps fresh listings on mkdir, remove, move and copy through it, with each change made, as the sender lists them', async () => {
      const fs = make();
      await fs.mkdir('/q');
      await fs.mkdir('/q/sub');
      for (const name of ['a.txt', 'b.txt', 'c.txt']) await fs.write(`/q/${name}`, Readable.from([Buffer.from(name)]));
      await fs.list('/q');
      await fs.list('/q/sub');
      await fs.mkdir('/q/made');
      await fs.remove('/q/b.txt');
      await fs.move!('/q/a.txt', '/q/renamed.txt', { overwrite: false });
      await fs.copy!('/q/renamed.txt', '/q/copied.txt', { overwrite: false });
      const listing = async (cached: CachedFs, path: string) => (await cached.list(path)).map((e) => [e.name, e.type, e.size, e.etag]).sort();
      const before = count('PROPFIND');
      const listed = await listing(fs, '/q');
      await assert.rejects(fs.stat('/q/b.txt'), NotFoundError);
      await assert.rejects(fs.stat('/q/a.txt'), NotFoundError);
      assert.equal((await fs.stat('/q/renamed.txt')).size, 5);
      assert.equal(count('PROPFIND'), before, 'the listing and the touched paths came from the cache');
      assert.deepEqual(listed.map(([name]) => name), ['c.txt', 'copied.txt', 'made', 'renamed.txt', 'sub']);
      assert.deepEqual(listed, await listing(make(), '/q'), 'the same entries the sender lists');

      // Moved one level down: the folder it left has a member with a new ETag (sub), so its
      // listing is fetched again; the folder it went to is patched.
      await fs.move!('/q/c.txt', '/q/sub/c.txt', { overwrite: false });
      proxy.requests.length = 0;
      const sub = await listing(fs, '/q/sub');
      assert.equal(count('PROPFIND'), 0, proxy.requests.join('\n'));
      assert.deepEqual(sub, await listing(make(), '/q/sub'));
      proxy.requests.length = 0;
      const left = await listing(fs, '/q');
      assert.equal(count('PROPFIND'), 1, 'the folder it left was listed again');
      assert.deepEqual(left, await listing(make(), '/q'));
      assert.deepEqual(left.map(([name]) => name), ['copied.txt', 'made', 'renamed.txt', 'sub']);
    });

    it('does not keep a patched listing past its own expiry: changes by others show up on time', async () => {
      const fs = make({ ttl: 2_000 });
      await fs.mkdir('/e');
      await fs.list('/e');
      await sleep(1_200);
      await fs.write('/e/mine.txt', Readable.from([Buffer.from('m')]));
      writeFileSync(join(dav.dir, 'e', 'theirs.txt'), 'made at the sender by someone else');
      await sleep(1_000); // past the listing's 2 s; a listing re-set with a new TTL would live to 3.2 s
      await fs.list('/e'); // stale: served while one refresh runs
      await sleep(300);
      assert.deepEqual((await fs.list('/e')).map((e) => e.name).sort(), ['mine.txt', 'theirs.txt']);
    });

    it('streams a cold read through ONE ranged GET, then serves cached content and exact ranges without asking again', async () => {
      const data = randomBytes(300 * KiB + 7);
      writeFileSync(join(dav.dir, 'big.bin'), data);
      const fs = make();
      const sent = direct.stats.requests;
      assert.ok((await bytes(await fs.openRead('/big.bin'))).equals(data));
      assert.deepEqual(gets('/big.bin'), [`GET /big.bin bytes=0-${data.length - 1}`]); // 5 chunks of 64 KiB, one GET
      assert.equal(direct.stats.requests - sent, viaDirect ? 1 : 0, 'the GET went the way this suite says');
      assert.ok((await bytes(await fs.openRead('/big.bin'))).equals(data));
      const part = await bytes(await fs.openRead('/big.bin', { range: { start: 60 * KiB, end: 200 * KiB } }));
      assert.ok(part.equals(data.subarray(60 * KiB, 200 * KiB + 1)));
      assert.equal(count('GET'), 1);
    });

    it('fetches only the uncached runs of a read, each in one GET on chunk boundaries', async () => {
      const data = randomBytes(640 * KiB);
      writeFileSync(join(dav.dir, 'runs.bin'), data);
      const fs = make();
      const mid = await bytes(await fs.openRead('/runs.bin', { range: { start: 200 * KiB, end: 300 * KiB } }));
      assert.ok(mid.equals(data.subarray(200 * KiB, 300 * KiB + 1)));
      assert.deepEqual(gets('/runs.bin'), [`GET /runs.bin bytes=${192 * KiB}-${320 * KiB - 1}`]); // chunks 3 and 4
      assert.ok((await bytes(await fs.openRead('/runs.bin'))).equals(data));
      assert.deepEqual(gets('/runs.bin').slice(1), [`GET /runs.bin bytes=0-${192 * KiB - 1}`, `GET /runs.bin bytes=${320 * KiB}-${640 * KiB - 1}`]);
    });

    it('lets 32 concurrent readers of an uncached file share the fetch: the sender serves each byte once', async () => {
      const data = randomBytes(640 * KiB);
      writeFileSync(join(dav.dir, 'shared.bin'), data);
      const fs = make();
      const results = await Promise.all(Array.from({ length: 32 }, async () => bytes(await fs.openRead('/shared.bin'))));
      for (const r of results) assert.ok(r.equals(data));
      const served = gets('/shared.bin').map((r) => /bytes=(\d+)-(\d+)$/.exec(r)!.slice(1).map(Number) as [number, number]);
      served.sort((x, y) => x[0] - y[0]);
      let next = 0;
      for (const [from, to] of served) {
        assert.equal(from, next, gets('/shared.bin').join('\n'));
        next = to + 1;
      }
      assert.equal(next, data.length);
    });

    it('releases a stream-through abandoned by its reader: a waiting reader fetches the rest itself', async () => {
      const data = randomBytes(1024 * KiB);
      writeFileSync(join(dav.dir, 'abandon.bin'), data);
      const fs = make();
      const ac = new AbortController();
      const first = await fs.openRead('/abandon.bin', { signal: ac.signal });
      const second = fs.openRead('/abandon.bin').then(bytes); // waits for the first reader's chunks
      await new Promise((r) => setTimeout(r, 50));
      ac.abort();
      await assert.rejects(bytes(first));
      assert.ok((await second).equals(data));
      assert.ok((await bytes(await fs.openRead('/abandon.bin'))).equals(data));
    });

    it('lets a stream-through run ahead of a slow reader, and gives its read-ahead place back however the read ends', async () => {
      const data = randomBytes(32 * MiB); // more than the read-ahead and the sockets' buffers hold
      writeFileSync(join(dav.dir, 'ahead.bin'), data);
      const fs = make();
      // A reader that takes one piece and stalls: the sender goes on streaming into the read's buffer.
      const slow = await fs.openRead('/ahead.bin');
      slow.once('data', () => slow.pause());
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(aheadReadsInUse(), 1);
      assert.ok(slow.readableLength > 1 * MiB && slow.readableLength <= 5 * MiB, `buffered ${slow.readableLength}`);
      slow.destroy();
      // Completed, abandoned and failed reads, several at once.
      const ac = new AbortController();
      const cut = await make().openRead('/ahead.bin', { signal: ac.signal });
      const whole = [make().openRead('/ahead.bin').then(bytes), make().openRead('/ahead.bin').then(bytes)];
      ac.abort();
      await assert.rejects(bytes(cut));
      for (const b of await Promise.all(whole)) assert.ok(b.equals(data));
      await new Promise((r) => setImmediate(r));
      assert.equal(aheadReadsInUse(), 0);
    });

    it('finishes a read whose connection was cut before the reader started reading (reopened where it stopped, no hang)', async () => {
      const data = randomBytes(4 * 1024 * KiB);
      writeFileSync(join(dav.dir, 'early.bin'), data);
      const fs = make();
      const opened = await fs.openRead('/early.bin');
      const before = gets('/early.bin').length;
      proxy.killConnections();
      await new Promise((r) => setTimeout(r, 100));
      assert.ok((await bytes(opened)).equals(data));
      const reopens = gets('/early.bin').slice(before);
      assert.equal(reopens.length, 1, reopens.join('\n'));
      assert.match(reopens[0]!, /bytes=\d+-/);
      // Cached across the cut: the next read asks the sender nothing.
      assert.ok((await bytes(await fs.openRead('/early.bin'))).equals(data));
      assert.equal(gets('/early.bin').length, before + 1);
    });

    it('sees a file changed at the sender after the TTL, never old chunks for a new ETag', async () => {
      const fs = make({ ttl: 300 });
      writeFileSync(join(dav.dir, 'chg.txt'), 'version one');
      assert.equal(String(await bytes(await fs.openRead('/chg.txt'))), 'version one');
      await new Promise((r) => setTimeout(r, 1100)); // webdav-server's ETag has 1 s resolution
      writeFileSync(join(dav.dir, 'chg.txt'), 'version two!');
      assert.equal(String(await bytes(await fs.openRead('/chg.txt'))), 'version two!');
    });

    it('spills evicted chunks to disk and reads them back from there', async () => {
      const dir = tempDir('chunks-');
      const small = new ChunkStore({ memoryBytes: 128 * KiB, diskBytes: 4 * 1024 * KiB, dir: join(dir, 'cache'), chunkBytes: 64 * KiB });
      const data = randomBytes(1024 * KiB);
      writeFileSync(join(dav.dir, 'spill.bin'), data);
      const fs = make({ store: small });
      assert.ok((await bytes(await fs.openRead('/spill.bin'))).equals(data));
      const gets = count('GET');
      await new Promise((r) => setTimeout(r, 200));
      assert.ok((await bytes(await fs.openRead('/spill.bin'))).equals(data));
      assert.equal(count('GET'), gets);
      assert.ok(small.stats.diskHits > 0);
      assert.ok(small.stats.memoryBytes <= 128 * KiB);
      small.close();
    });

    it('fetches again in the background the chunks a read could not cache, so the next read asks the sender nothing', async () => {
      const dir = tempDir('chunks-');
      // A write queue of one chunk: a cold read outruns the disk, and most chunks find it full.
      const slow = new ChunkStore({ memoryBytes: 0, diskBytes: 16 * 1024 * KiB, dir: join(dir, 'cache'), chunkBytes: 64 * KiB, spillQueueBytes: 64 * KiB });
      const refill = new ChunkRefill(slow);
      const data = randomBytes(4 * 1024 * KiB + 999);
      writeFileSync(join(dav.dir, 'holes.bin'), data);
      const fs = new CachedFs(new RemoteFs({ url: proxy.url, auth: { kind: 'none' }, dispatcher: agent, direct: viaDirect ? direct : undefined }), {
        mode: 'full',
        metadataTtlMs: 60_000,
        chunkBytes: 64 * KiB,
        cacheId: `t${n++}`,
        store: slow,
        refill,
      });
      assert.ok((await bytes(await fs.openRead('/holes.bin'))).equals(data));
      const dropped = slow.stats.spillsDropped;
      assert.ok(dropped > 0, 'the read left chunks uncached');
      await refill.idle();
      assert.equal(refill.stats.refilled, dropped, 'each dropped chunk was fetched again once');
      assert.equal(refill.stats.failed, 0);
      const refetches = gets('/holes.bin').slice(1);
      assert.equal(refetches.length, dropped, refetches.join('\n'));
      for (const r of refetches) assert.match(r, /bytes=(\d+)-(\d+)$/);
      for (const r of refetches) {
        const [, lo, hi] = /bytes=(\d+)-(\d+)$/.exec(r)!.map(Number);
        assert.equal(lo! % (64 * KiB), 0, 'one aligned chunk');
        assert.ok(hi! - lo! + 1 <= 64 * KiB);
      }
      const before = gets('/holes.bin').length;
      assert.ok((await bytes(await fs.openRead('/holes.bin'))).equals(data));
      assert.equal(gets('/holes.bin').length, before, 'the second read came from the cache');
      refill.close();
      slow.close();
    });

    it('writes fetched chunks through to the disk tier and serves concurrent readers the right bytes', async () => {
      const dir = tempDir('chunks-');
      const disk = new ChunkStore({ memoryBytes: 256 * KiB, diskBytes: 16 * 1024 * KiB, dir: join(dir, 'cache'), chunkBytes: 64 * KiB });
      const files = [randomBytes(2 * 1024 * KiB + 5), randomBytes(1024 * KiB)];
      files.forEach((d, i) => writeFileSync(join(dav.dir, `wt${i}.bin`), d));
      const fs = make({ store: disk });
      for (let round = 0; round < 2; round++) {
        const reads = Array.from({ length: 12 }, async (_, k) => {
          const i = k % 2;
          const from = (k * 37 * KiB) % files[i]!.length;
          const got = await bytes(await fs.openRead(`/wt${i}.bin`, k < 4 ? {} : { range: { start: from, end: files[i]!.length - 1 } }));
          assert.ok(got.equals(k < 4 ? files[i]! : files[i]!.subarray(from)), `reader ${k} round ${round}`);
        });
        await Promise.all(reads);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(disk.stats.diskHits > 0);
      assert.equal(disk.stats.memoryBytes, 0); // fetched chunks went to disk, not memory
      disk.close();
    });

    it('never fails readers while writers invalidate the same folder', async () => {
      const fs = make();
      await fs.mkdir('/busy');
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        work.push(fs.write(`/busy/f${i}.txt`, Readable.from([Buffer.from(`n${i}`)])));
        work.push(fs.list('/busy'));
        work.push(fs.stat('/busy'));
      }
      const results = await Promise.allSettled(work);
      assert.deepEqual(results.filter((r) => r.status === 'rejected'), []);
      assert.equal((await fs.list('/busy')).length, 20);
    });

    it('reads exactly the bytes asked in mode metadata, from the sender every time, the same way as an uncached run', async () => {
      const data = randomBytes(200 * KiB + 11);
      writeFileSync(join(dav.dir, 'meta.bin'), data);
      const fs = new CachedFs(new RemoteFs({ url: proxy.url, auth: { kind: 'none' }, dispatcher: agent, direct: viaDirect ? direct : undefined }), {
        mode: 'metadata', metadataTtlMs: 60_000, chunkBytes: 64 * KiB, cacheId: 'meta',
      });
      await fs.stat('/meta.bin');
      const sent = direct.stats.requests;
      assert.ok((await bytes(await fs.openRead('/meta.bin'))).equals(data));
      assert.equal(direct.stats.requests - sent, viaDirect ? 1 : 0, 'the GET went the way this suite says');
      const part = await bytes(await fs.openRead('/meta.bin', { range: { start: 70_000, end: 130_000 } }));
      assert.ok(part.equals(data.subarray(70_000, 130_001)));
      assert.ok((await bytes(await fs.openRead('/meta.bin'))).equals(data));
      assert.deepEqual(gets('/meta.bin'), [`GET /meta.bin bytes=0-${data.length - 1}`, 'GET /meta.bin bytes=70000-130000', `GET /meta.bin bytes=0-${data.length - 1}`]);
      assert.equal(count('PROPFIND'), 1, 'the stat stays cached');
    });

    it('passes everything through in mode off', async () => {
      const fs = new CachedFs(new RemoteFs({ url: proxy.url, auth: { kind: 'none' }, dispatcher: agent }), {
        mode: 'off', metadataTtlMs: 60_000, chunkBytes: 64 * KiB, cacheId: 'off',
      });
      await fs.stat('/m1.txt');
      await fs.stat('/m1.txt');
      assert.equal(count('PROPFIND'), 2);
    });
  });
}

describe('mounts: CachedFs over RemoteFs (a meshdav sender, which honours If-Match)', function () {
  this.timeout(30_000);
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
    await node.services.users.add({ name: 'ana', password: 'ana-password-1' });
  });
  after(() => node?.stop());

  it('never serves new bytes cut to an old cached length', async () => {
    const home = await node.services.storage.home('ana');
    for (const mode of ['full', 'metadata'] as const) {
      const fs = new CachedFs(
        new RemoteFs({ url: `${node.url}/remote.php/dav/files/ana`, auth: { kind: 'basic', username: 'ana', password: 'ana-password-1' }, dispatcher: agent, direct }),
        { mode, metadataTtlMs: 60_000, chunkBytes: 64 * KiB, cacheId: `mix-${mode}`, store: new ChunkStore({ memoryBytes: MiB, diskBytes: 0 }) },
      );
      const path = `/mix-${mode}.txt`;
      await home.write(path, Readable.from([Buffer.from('edited at B')]));
      assert.equal((await fs.stat(path)).size, 11); // cached
      await home.write(path, Readable.from([Buffer.from('answered at A')]));
      await assert.rejects(fs.openRead(path), ServiceUnavailableError);
      assert.equal(String(await bytes(await fs.openRead(path))), 'answered at A');
      // Same size: the cached version (full) or the new one (metadata) — always one version whole.
      await home.write(path, Readable.from([Buffer.from('answered at Z')]));
      assert.equal(String(await bytes(await fs.openRead(path))), mode === 'full' ? 'answered at A' : 'answered at Z');
    }
  });
});

describe('mounts: CachedFs over RemoteFs (a sender that answers ranges chunked)', function () {
  this.timeout(30_000);

  it('reads it the general way (counted as declined) with the same bytes and caching', async () => {
    const data = randomBytes(200 * KiB + 3);
    const ranges: string[] = [];
    const server = http.createServer((req, res) => {
      if (req.method === 'PROPFIND') {
        const xml =
          '<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/f.bin</d:href><d:propstat><d:prop>' +
          `<d:resourcetype/><d:getcontentlength>${data.length}</d:getcontentlength><d:getetag>"v1"</d:getetag>` +
          '</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>';
        return void res.writeHead(207, { 'content-type': 'application/xml' }).end(xml);
      }
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')!;
      const start = Number(m[1]);
      const end = m[2] ? Number(m[2]) : data.length - 1;
      ranges.push(`${start}-${end}`);
      res.writeHead(206, { etag: '"v1"', 'content-range': `bytes ${start}-${end}/${data.length}` }); // no length: chunked
      res.end(data.subarray(start, end + 1));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const fs = new CachedFs(new RemoteFs({ url, auth: { kind: 'none' }, dispatcher: agent, direct }), {
      mode: 'full',
      metadataTtlMs: 60_000,
      chunkBytes: 64 * KiB,
      cacheId: 'chunked',
      store: new ChunkStore({ memoryBytes: 4 * MiB, diskBytes: 0 }),
    });
    const declined = direct.stats.declined;
    assert.ok((await bytes(await fs.openRead('/f.bin'))).equals(data));
    assert.equal(direct.stats.declined - declined, 1);
    assert.ok((await bytes(await fs.openRead('/f.bin', { range: { start: 70 * KiB, end: 150 * KiB } }))).equals(data.subarray(70 * KiB, 150 * KiB + 1)));
    assert.deepEqual(ranges, [`0-${data.length - 1}`, `0-${data.length - 1}`], 'asked twice (direct, then the general way), then served from the cache');
    server.closeAllConnections();
    server.close();
  });
});
