/**
 * The npm `webdav` client (v5): a multi-MiB round trip with streams, byte-identical, and
 * stat / getDirectoryContents / moveFile / copyFile / deleteFile against a live node.
 */
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createClient, type FileStat, type WebDAVClient } from 'webdav';
import { tempDir } from '../support/node.js';
import { randomFile, sha256, sha256File, startSiteWithUser, type ClientSite } from './support.js';

const SIZE = 5 * 1024 * 1024 + 12_345;

describe('real client: npm webdav v5', function () {
  this.timeout(60_000);
  let site: ClientSite;
  let client: WebDAVClient;
  let dir: string;
  let srcHash: string;

  before(async () => {
    site = await startSiteWithUser('wendy');
    client = createClient(site.davUrl, { username: site.user, password: site.password });
    dir = tempDir('webdav-client-');
    srcHash = await randomFile(join(dir, 'src.bin'), SIZE);
  });
  after(async () => {
    await site?.stop();
  });

  it('uploads a multi-MiB file from a stream and downloads it byte-identical as a stream', async () => {
    await client.createDirectory('/round trip');
    const ok = await client.putFileContents('/round trip/big file ü.bin', createReadStream(join(dir, 'src.bin')), {
      contentLength: SIZE,
    });
    assert.equal(ok, true);
    const down = join(dir, 'down.bin');
    await pipeline(client.createReadStream('/round trip/big file ü.bin') as Readable, createWriteStream(down));
    assert.equal(statSync(down).size, SIZE);
    assert.equal(await sha256File(down), srcHash);
  });

  it('stats a file and a folder', async () => {
    const f = (await client.stat('/round trip/big file ü.bin')) as FileStat;
    assert.equal(f.type, 'file');
    assert.equal(f.size, SIZE);
    assert.equal(f.basename, 'big file ü.bin');
    assert.ok(f.etag, 'a file has an ETag');
    assert.ok(!Number.isNaN(Date.parse(f.lastmod)), `lastmod is an HTTP date: ${f.lastmod}`);
    const d = (await client.stat('/round trip')) as FileStat;
    assert.equal(d.type, 'directory');
  });

  it('lists a folder with getDirectoryContents', async () => {
    await client.putFileContents('/round trip/small.txt', 'hello from webdav');
    const list = (await client.getDirectoryContents('/round trip')) as FileStat[];
    const byName = new Map(list.map((e) => [e.basename, e]));
    assert.deepEqual([...byName.keys()].sort(), ['big file ü.bin', 'small.txt']);
    assert.equal(byName.get('small.txt')!.size, 'hello from webdav'.length);
    assert.equal(byName.get('small.txt')!.filename, '/round trip/small.txt');
  });

  it('copies and moves files, and deletes them', async () => {
    await client.copyFile('/round trip/big file ü.bin', '/copy.bin');
    const copied = (await client.getFileContents('/copy.bin')) as Buffer;
    assert.equal(sha256(copied), srcHash);

    await client.createDirectory('/moved');
    await client.moveFile('/copy.bin', '/moved/renamed.bin');
    assert.equal(await client.exists('/copy.bin'), false);
    const moved = (await client.stat('/moved/renamed.bin')) as FileStat;
    assert.equal(moved.size, SIZE);

    await client.deleteFile('/moved/renamed.bin');
    assert.equal(await client.exists('/moved/renamed.bin'), false);
    await client.deleteFile('/round trip');
    assert.equal(await client.exists('/round trip'), false);
    const root = (await client.getDirectoryContents('/')) as FileStat[];
    assert.deepEqual(
      root.map((e) => e.basename).filter((n) => n === 'round trip' || n === 'moved'),
      ['moved'],
    );
  });

  it('is refused with 401 and a Basic challenge on a wrong password', async () => {
    const bad = createClient(site.davUrl, { username: site.user, password: 'wrong-password' });
    await assert.rejects(bad.getDirectoryContents('/'), (err: { status?: number }) => err.status === 401);
    const res = await fetch(site.davUrl, { method: 'PROPFIND', headers: { Depth: '0' } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="meshdav"/);
  });
});
