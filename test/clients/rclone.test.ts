/**
 * rclone (webdav backend, vendor=nextcloud): copy a tree up and down, `rclone check` it, and
 * write and read a file through `rclone mount` (FUSE), all byte-identical.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { needFuse, needTool } from '../support/tools.js';
import { tempDir } from '../support/node.js';
import { describeRun, isMounted, randomFile, run, sha256, sha256File, startSiteWithUser, unmount, waitFor, type ClientSite } from './support.js';

describe('real client: rclone', function () {
  this.timeout(120_000);
  let site: ClientSite;
  let dir: string;
  let conf: string;
  const hashes = new Map<string, string>();

  const rclone = (args: string[], timeoutMs = 90_000) =>
    run('rclone', ['--config', conf, '--low-level-retries', '2', '--retries', '1', ...args], { timeoutMs });

  before(async function () {
    needTool(this, 'rclone');
    site = await startSiteWithUser('rita');
    dir = tempDir('rclone-');
    const obscured = await run('rclone', ['obscure', '-'], { input: site.password });
    assert.equal(obscured.code, 0, describeRun('rclone obscure', obscured));
    conf = join(dir, 'rclone.conf');
    writeFileSync(
      conf,
      `[mesh]\ntype = webdav\nurl = ${site.davUrl}\nvendor = nextcloud\nuser = ${site.user}\npass = ${obscured.stdout.trim()}\n`,
      { mode: 0o600 },
    );
    const up = join(dir, 'up');
    mkdirSync(join(up, 'sub dir', 'déeper'), { recursive: true });
    hashes.set('a.bin', await randomFile(join(up, 'a.bin'), 3 * 1024 * 1024 + 7));
    hashes.set('sub dir/b.bin', await randomFile(join(up, 'sub dir', 'b.bin'), 1024 * 1024));
    hashes.set('sub dir/déeper/c ü.txt', await randomFile(join(up, 'sub dir', 'déeper', 'c ü.txt'), 1234));
    writeFileSync(join(up, 'empty.txt'), '');
    hashes.set('empty.txt', sha256(''));
  });
  after(async () => {
    await site?.stop();
  });

  it('copies a tree up with `rclone copy`', async () => {
    const r = await rclone(['copy', join(dir, 'up'), 'mesh:tree']);
    assert.equal(r.code, 0, describeRun('rclone copy up', r));
    const ls = await rclone(['lsf', '-R', '--files-only', 'mesh:tree']);
    assert.equal(ls.code, 0, describeRun('rclone lsf', ls));
    assert.deepEqual(ls.stdout.trim().split('\n').sort(), [...hashes.keys()].sort());
  });

  it('finds no differences with `rclone check` (sizes and hashes, then content)', async () => {
    const r = await rclone(['check', join(dir, 'up'), 'mesh:tree']);
    assert.equal(r.code, 0, describeRun('rclone check', r));
    const d = await rclone(['check', '--download', join(dir, 'up'), 'mesh:tree']);
    assert.equal(d.code, 0, describeRun('rclone check --download', d));
  });

  it('reads the server\'s SHA1 checksums (oc:checksums) and they match the content', async () => {
    const remote = await rclone(['sha1sum', 'mesh:tree']);
    assert.equal(remote.code, 0, describeRun('rclone sha1sum remote', remote));
    const local = await rclone(['sha1sum', join(dir, 'up')]);
    const lines = (t: string) => t.trim().split('\n').sort();
    assert.equal(lines(remote.stdout).length, hashes.size);
    assert.ok(lines(remote.stdout).every((l) => /^[0-9a-f]{40}  /.test(l)), `every file has a SHA1:\n${remote.stdout}`);
    assert.deepEqual(lines(remote.stdout), lines(local.stdout));
  });

  it('copies the tree back down byte-identical', async () => {
    const down = join(dir, 'down');
    const r = await rclone(['copy', 'mesh:tree', down]);
    assert.equal(r.code, 0, describeRun('rclone copy down', r));
    for (const [name, hash] of hashes) assert.equal(await sha256File(join(down, name)), hash, name);
  });

  it('notices a changed file with `rclone check`', async () => {
    const changed = join(dir, 'changed');
    mkdirSync(changed);
    copyFileSync(join(dir, 'up', 'a.bin'), join(changed, 'a.bin'));
    writeFileSync(join(changed, 'a.bin'), 'different', { flag: 'r+' });
    const r = await rclone(['check', '--download', '--one-way', '--differ', '-', changed, 'mesh:tree']);
    assert.notEqual(r.code, 0, 'rclone check must report the differing file');
    assert.equal(r.stdout.trim(), 'a.bin', describeRun('rclone check --differ -', r));
  });

  // The node runs in this process: everything touching the mount must be async, or the
  // event loop blocks while rclone waits for the node to answer.
  describe('rclone mount (FUSE)', () => {
    let mnt: string;
    let mount: ChildProcess | undefined;
    let mountLog = '';

    before(async function () {
      needFuse(this);
      needTool(this, 'fusermount3', 'rclone mount unmounts with it');
      mnt = join(dir, 'mnt');
      mkdirSync(mnt);
      mount = spawn(
        'rclone',
        ['--config', conf, 'mount', 'mesh:', mnt, '--vfs-cache-mode', 'writes', '--vfs-write-back', '0s', '--cache-dir', join(dir, 'vfs-cache'), '--dir-cache-time', '1s', '--poll-interval', '0'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      mount.stdout!.on('data', (d) => (mountLog += d));
      mount.stderr!.on('data', (d) => (mountLog += d));
      const up = await waitFor(() => isMounted(mnt), 20_000);
      assert.ok(up, `rclone mount did not come up:\n${mountLog}`);
    });
    after(async () => {
      if (mnt) await unmount(mnt);
      if (mount && mount.exitCode === null) {
        mount.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 200));
        if (mount.exitCode === null) mount.kill('SIGKILL');
      }
    });

    it('lists the uploaded tree through the mount and reads a file byte-identical', async () => {
      assert.deepEqual((await readdir(join(mnt, 'tree'))).sort(), ['a.bin', 'empty.txt', 'sub dir']);
      assert.equal(await sha256File(join(mnt, 'tree', 'sub dir', 'b.bin')), hashes.get('sub dir/b.bin'));
    });

    it('writes a file through the mount that the server then serves byte-identical', async () => {
      const local = join(dir, 'via-mount.bin');
      const hash = await randomFile(local, 2 * 1024 * 1024 + 99);
      await mkdir(join(mnt, 'from mount'));
      await copyFile(local, join(mnt, 'from mount', 'file.bin'));
      assert.equal(await sha256File(join(mnt, 'from mount', 'file.bin')), hash);
      // The VFS uploads on close; wait until the server has the whole file.
      const auth = 'Basic ' + Buffer.from(`${site.user}:${site.password}`).toString('base64');
      let got = '';
      const ok = await waitFor(
        async () => {
          const res = await fetch(`${site.davUrl}from%20mount/file.bin`, { headers: { Authorization: auth } });
          if (res.status !== 200) {
            await res.body?.cancel();
            return false;
          }
          got = sha256(Buffer.from(await res.arrayBuffer()));
          return got === hash;
        },
        30_000,
        250,
      );
      assert.ok(ok, `the server never had the file written through the mount (last sha ${got})\n${mountLog}`);
    });
  });
});
