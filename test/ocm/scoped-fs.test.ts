/** ScopedFs and PermissionFs: the Fs contract through both decorators, plus what only they promise. */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ForbiddenError } from '../../src/errors.js';
import { hasDeadProps, isMover } from '../../src/fs/guards.js';
import { PermissionFs } from '../../src/fs/permission-fs.js';
import { ScopedFs } from '../../src/fs/scoped-fs.js';
import { Perm, type Fs } from '../../src/fs/types.js';
import { runFsContract } from '../contract/fs-contract.js';
import { openTestStorage } from '../storage/storage-fixture.js';

async function scoped(wrap: (fs: Fs) => Fs) {
  const t = await openTestStorage();
  const home = await t.storage.home('alice');
  await home.mkdir('/outside');
  await home.mkdir('/shared');
  await home.mkdir('/shared/sub');
  return {
    fs: wrap(new ScopedFs(home, '/shared/sub')),
    home,
    async cleanup() {
      await t.close();
      await rm(t.dataDir, { recursive: true, force: true });
    },
  };
}

runFsContract('ScopedFs(LocalFs, /shared/sub)', () => scoped((fs) => fs));
runFsContract('PermissionFs(ScopedFs(LocalFs), read+write)', () => scoped((fs) => new PermissionFs(fs, Perm.READ | Perm.UPDATE | Perm.CREATE | Perm.DELETE)));

const body = (s: string) => Readable.from([Buffer.from(s)]);

describe('ScopedFs and PermissionFs specifics', () => {
  it('a scoped view cannot name anything above its root, and keeps abilities', async () => {
    const t = await scoped((fs) => fs);
    try {
      await t.home.write('/outside/secret.txt', body('secret'));
      await assert.rejects(t.fs.stat('/../outside/secret.txt'), { status: 400 } as object);
      await t.fs.write('/in.txt', body('in'));
      assert.equal((await t.home.stat('/shared/sub/in.txt')).size, 2);
      const e = await t.fs.stat('/in.txt');
      assert.equal(e.path, '/in.txt');
      assert.equal((await t.fs.stat('/')).name, '');
      assert.ok(isMover(t.fs) && hasDeadProps(t.fs));
      await assert.rejects(t.fs.remove('/'), ForbiddenError);
    } finally {
      await t.cleanup();
    }
  });

  it('a single-file share has the file as its root', async () => {
    const t = await openTestStorage();
    try {
      const home = await t.storage.home('alice');
      await home.write('/paper.txt', body('paper'));
      const fs = new ScopedFs(home, '/paper.txt');
      const root = await fs.stat('/');
      assert.equal(root.type, 'file');
      assert.equal(root.size, 5);
      await fs.write('/', body('new paper'));
      assert.equal((await home.stat('/paper.txt')).size, 9);
      await assert.rejects(fs.stat('/x'));
    } finally {
      await t.close();
      await rm(t.dataDir, { recursive: true, force: true });
    }
  });

  it('read-only refuses every write path and reports the share permissions', async () => {
    const t = await scoped((fs) => new PermissionFs(fs, Perm.READ));
    try {
      await t.home.write('/shared/sub/a.txt', body('a'));
      const ro = t.fs as PermissionFs;
      await assert.rejects(ro.write('/a.txt', body('x')), ForbiddenError);
      await assert.rejects(ro.write('/b.txt', body('x')), ForbiddenError);
      await assert.rejects(ro.mkdir('/d'), ForbiddenError);
      await assert.rejects(ro.remove('/a.txt'), ForbiddenError);
      await assert.rejects(ro.move!('/a.txt', '/c.txt', { overwrite: false }), ForbiddenError);
      await assert.rejects(ro.copy!('/a.txt', '/c.txt', { overwrite: false }), ForbiddenError);
      await assert.rejects(ro.patchProps!('/a.txt', { set: { '{urn:x}y': '1' } }), ForbiddenError);
      assert.equal((await ro.stat('/a.txt')).permissions, Perm.READ);
      assert.deepEqual((await ro.list('/')).map((e) => e.permissions), [Perm.READ]);
      assert.equal((await t.home.stat('/shared/sub/a.txt')).size, 1);
    } finally {
      await t.cleanup();
    }
  });
});
