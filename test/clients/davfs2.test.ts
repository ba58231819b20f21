/**
 * davfs2 (`mount -t davfs`): mount a user's home, copy files in and out through the mount,
 * byte-identical, with the server holding the same bytes after unmount.
 * davfs2 keeps its cache under /var/cache/davfs2 when run as root and drops to the davfs2
 * user; `buf_size 64` works around its FUSE readdir failing (EINVAL) on Linux ≥ 6.16 with
 * davfs2 < 1.7.2.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile, copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { needFuse, needTool } from '../support/tools.js';
import { tempDir } from '../support/node.js';
import { describeRun, isMounted, randomFile, run, sha256, sha256File, startSiteWithUser, unmount, type ClientSite } from './support.js';

describe('real client: davfs2 (mount -t davfs)', function () {
  this.timeout(120_000);
  let site: ClientSite;
  let dir: string;
  let mnt: string;
  let conf: string;
  let auth: string;

  const mountIt = async () => {
    const r = await run('mount', ['-t', 'davfs', '-o', `conf=${conf}`, site.davUrl, mnt], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, describeRun('mount -t davfs', r));
    assert.ok(isMounted(mnt), 'mount point is mounted');
  };
  const getHash = async (path: string) => {
    const res = await fetch(site.davUrl + path, { headers: { Authorization: auth } });
    assert.equal(res.status, 200, `GET ${path}`);
    return sha256(Buffer.from(await res.arrayBuffer()));
  };

  before(async function () {
    needTool(this, 'mount.davfs');
    needFuse(this);
    site = await startSiteWithUser('dave');
    auth = 'Basic ' + Buffer.from(`${site.user}:${site.password}`).toString('base64');
    dir = tempDir('davfs2-');
    mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    const secrets = join(dir, 'secrets');
    writeFileSync(secrets, `${site.davUrl} ${site.user} ${site.password}\n`, { mode: 0o600 });
    conf = join(dir, 'davfs2.conf');
    writeFileSync(conf, [`secrets ${secrets}`, 'use_locks 1', 'buf_size 64', 'delay_upload 0', 'dir_refresh 1', 'file_refresh 1', ''].join('\n'));
    await mountIt();
  });
  after(async () => {
    if (mnt) await unmount(mnt);
    await site?.stop();
  });

  it('copies files in (a new folder, a few MiB, a Unicode name) and reads them back', async () => {
    const a = await randomFile(join(dir, 'a.bin'), 4 * 1024 * 1024 + 3);
    const b = await randomFile(join(dir, 'b.txt'), 777);
    await mkdir(join(mnt, 'in folder'));
    await copyFile(join(dir, 'a.bin'), join(mnt, 'in folder', 'a.bin'));
    await copyFile(join(dir, 'b.txt'), join(mnt, 'in folder', 'bé ü.txt'));
    assert.deepEqual((await readdir(join(mnt, 'in folder'))).sort(), ['a.bin', 'bé ü.txt']);
    assert.equal(await sha256File(join(mnt, 'in folder', 'a.bin')), a);
    assert.equal(await sha256File(join(mnt, 'in folder', 'bé ü.txt')), b);
  });

  it('has uploaded them after unmount: the server serves the same bytes', async () => {
    await unmount(mnt);
    assert.ok(!isMounted(mnt), 'unmounted');
    assert.equal(await getHash('in%20folder/a.bin'), await sha256File(join(dir, 'a.bin')));
    assert.equal(await getHash('in%20folder/b%C3%A9%20%C3%BC.txt'), await sha256File(join(dir, 'b.txt')));
  });

  it('copies a file the server has out of a fresh mount byte-identical', async () => {
    const hash = await randomFile(join(dir, 'server.bin'), 3 * 1024 * 1024);
    const put = await fetch(site.davUrl + 'from-server.bin', {
      method: 'PUT',
      headers: { Authorization: auth },
      body: readFileSync(join(dir, 'server.bin')),
    });
    assert.ok(put.status === 201 || put.status === 204, `PUT status ${put.status}`);
    await mountIt();
    await copyFile(join(mnt, 'from-server.bin'), join(dir, 'out.bin'));
    assert.equal(await sha256File(join(dir, 'out.bin')), hash);
  });

  it('edits a file in place through the mount (LOCK, PUT with the lock token, UNLOCK)', async () => {
    await appendFile(join(mnt, 'in folder', 'bé ü.txt'), 'appended through davfs2\n');
    await unmount(mnt);
    const expected = Buffer.concat([readFileSync(join(dir, 'b.txt')), Buffer.from('appended through davfs2\n')]);
    assert.equal(await getHash('in%20folder/b%C3%A9%20%C3%BC.txt'), sha256(expected));
  });
});
