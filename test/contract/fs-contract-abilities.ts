/**
 * The optional-ability half of the Fs contract: each block runs only when the Fs has the
 * ability (guards.ts). transfer() (fallbacks.ts) runs for every Fs, native or not.
 */
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { BadRequestError, ConflictError, NotFoundError, PreconditionFailedError } from '../../src/errors.js';
import { transfer } from '../../src/fs/fallbacks.js';
import {
  hasDeadProps,
  hasEntryOpener,
  hasFileIds,
  hasGrants,
  hasMetadata,
  hasQuota,
  hasTrash,
  isCopier,
  isMover,
  isVersioned,
} from '../../src/fs/guards.js';
import type { Fs } from '../../src/fs/types.js';
import { expectError, exists, put, readText } from './fs-helpers.js';

export function runAbilityContract(ctx: { fs: Fs }): void {
  const skipUnless = (t: Mocha.Context, ok: boolean) => {
    if (!ok) t.skip();
  };

  describe('transfer (native or fallback)', function () {
    for (const mode of ['move', 'copy'] as const) {
      it(`${mode === 'copy' ? 'copies' : 'moves'} a tree with content and dead properties`, async function () {
        const fs = ctx.fs;
        await fs.mkdir('/src');
        await fs.mkdir('/src/in');
        await put(fs, '/src/in/a.txt', 'A');
        await put(fs, '/src/b.txt', 'BB');
        if (hasDeadProps(fs)) await fs.patchProps('/src/b.txt', { set: { '{urn:t}color': 'blue' } });
        const r = await transfer(fs, '/src', fs, '/dst', { mode, overwrite: false });
        assert.equal(r.replaced, false);
        assert.equal(r.entry.type, 'dir');
        assert.equal(await readText(fs, '/dst/in/a.txt'), 'A');
        assert.equal(await readText(fs, '/dst/b.txt'), 'BB');
        if (hasDeadProps(fs)) assert.equal((await fs.getProps('/dst/b.txt'))['{urn:t}color'], 'blue');
        assert.equal(await exists(fs, '/src'), mode === 'copy');
      });

      it(`${mode}: RFC 4918 overwrite semantics`, async function () {
        const fs = ctx.fs;
        await put(fs, '/x', 'new');
        await put(fs, '/y', 'old');
        await expectError(transfer(fs, '/x', fs, '/y', { mode, overwrite: false }), PreconditionFailedError, 'exists, no overwrite');
        assert.equal(await readText(fs, '/y'), 'old');
        await expectError(transfer(fs, '/x', fs, '/none/y', { mode, overwrite: true }), ConflictError, 'missing parent');
        await expectError(transfer(fs, '/missing', fs, '/z', { mode, overwrite: true }), NotFoundError, 'missing source');
        const r = await transfer(fs, '/x', fs, '/y', { mode, overwrite: true });
        assert.equal(r.replaced, true);
        assert.equal(await readText(fs, '/y'), 'new');
        await fs.mkdir('/f');
        await expectError(transfer(fs, '/f', fs, '/f/inner', { mode, overwrite: true }), ConflictError, 'into itself');
      });
    }

    it('copies a folder without members at depth 0', async function () {
      const fs = ctx.fs;
      await fs.mkdir('/d0');
      await put(fs, '/d0/member', 'm');
      await transfer(fs, '/d0', fs, '/d0copy', { mode: 'copy', overwrite: false, depth: 0 });
      assert.equal((await fs.stat('/d0copy')).type, 'dir');
      assert.deepEqual(await fs.list('/d0copy'), []);
    });
  });

  describe('EntryOpener', function () {
    it('opens a file and returns the same entry stat() gives', async function () {
      skipUnless(this, hasEntryOpener(ctx.fs));
      const fs = ctx.fs as Fs & import('../../src/fs/types.js').EntryOpener;
      await fs.mkdir('/o');
      await put(fs, '/o/f.txt', '0123456789');
      const { entry, body } = await fs.openEntry('/o/f.txt', { range: { start: 3, end: 5 } });
      assert.equal(await text(body), '345');
      assert.deepEqual(entry, await fs.stat('/o/f.txt'));
      await expectError(fs.openEntry('/o'), ConflictError, 'folder');
      await expectError(fs.openEntry('/o/missing'), NotFoundError, 'missing');
    });
  });

  describe('Mover and Copier', function () {
    it('moves keep the file id; copies get new ones', async function () {
      skipUnless(this, isMover(ctx.fs) && isCopier(ctx.fs));
      const fs = ctx.fs as Fs & import('../../src/fs/types.js').Mover & import('../../src/fs/types.js').Copier;
      const { entry } = await put(fs, '/orig.txt', 'o');
      const moved = await fs.move('/orig.txt', '/moved.txt', { overwrite: false });
      assert.equal(moved.entry.fileId, entry.fileId);
      assert.equal(moved.entry.path, '/moved.txt');
      const copied = await fs.copy('/moved.txt', '/copy.txt', { overwrite: false });
      assert.notEqual(copied.entry.fileId, entry.fileId);
      assert.equal(await readText(fs, '/copy.txt'), 'o');
    });
  });

  describe('DeadProps', function () {
    it('sets, reads and removes properties atomically', async function () {
      skipUnless(this, hasDeadProps(ctx.fs));
      const fs = ctx.fs as Fs & import('../../src/fs/types.js').DeadProps;
      await put(fs, '/p.txt', 'p');
      await fs.patchProps('/p.txt', { set: { '{urn:a}one': '1', '{urn:a}two': '<x:y xmlns:x="urn:x">2</x:y>' } });
      assert.deepEqual(await fs.getProps('/p.txt'), { '{urn:a}one': '1', '{urn:a}two': '<x:y xmlns:x="urn:x">2</x:y>' });
      await fs.patchProps('/p.txt', { set: { '{urn:a}three': '3' }, remove: ['{urn:a}one'] });
      assert.deepEqual(await fs.getProps('/p.txt'), { '{urn:a}two': '<x:y xmlns:x="urn:x">2</x:y>', '{urn:a}three': '3' });
      await expectError(fs.patchProps('/p.txt', { set: { '{urn:a}four': '4', 'not clark': 'x' } }), BadRequestError, 'bad name');
      assert.equal((await fs.getProps('/p.txt'))['{urn:a}four'], undefined, 'nothing applied from a refused patch');
      await expectError(fs.getProps('/missing'), NotFoundError, 'props of missing');
    });
  });

  describe('QuotaReporter', function () {
    it('reports used bytes that grow with content', async function () {
      skipUnless(this, hasQuota(ctx.fs));
      const fs = ctx.fs as Fs & import('../../src/fs/types.js').QuotaReporter;
      const q0 = await fs.quota();
      await put(fs, '/q.bin', Buffer.alloc(4096));
      const q1 = await fs.quota();
      assert.ok(q1.used >= q0.used + 4096, `used ${q0.used} → ${q1.used}`);
      if (q1.total !== null) assert.equal(q1.available, Math.max(0, q1.total - q1.used));
    });
  });

  describe('FileIdResolver', function () {
    it('resolves ids to current paths, following moves', async function () {
      skipUnless(this, hasFileIds(ctx.fs));
      const fs = ctx.fs as Fs & import('../../src/fs/types.js').FileIdResolver;
      await fs.mkdir('/dir');
      const { entry } = await put(fs, '/dir/f.txt', 'f');
      assert.equal(await fs.pathById(entry.fileId), '/dir/f.txt');
      await transfer(fs, '/dir', fs, '/renamed', { mode: 'move', overwrite: false });
      if (isMover(fs)) assert.equal(await fs.pathById(entry.fileId), '/renamed/f.txt');
      await fs.remove('/renamed');
      await expectError(fs.pathById(entry.fileId), NotFoundError, 'removed');
      await expectError(fs.pathById('999999999'), NotFoundError, 'unknown id');
    });
  });

  describe('Versioned', function () {
    it('keeps the old content as a version and restores it', async function () {
      skipUnless(this, isVersioned(ctx.fs));
      const fs = ctx.fs as Fs & import('../../src/fs/types.js').Versioned;
      const v1 = await put(fs, '/v.txt', 'first');
      await put(fs, '/v.txt', 'second!');
      const versions = await fs.listVersions('/v.txt');
      if (versions.length === 0) this.skip(); // versioning switched off in this instance
      assert.equal(versions[0]!.etag, v1.entry.etag);
      assert.equal(versions[0]!.size, 5);
      assert.equal(await text(await fs.openVersion('/v.txt', versions[0]!.key)), 'first');
      await fs.restoreVersion('/v.txt', versions[0]!.key);
      assert.equal(await readText(fs, '/v.txt'), 'first');
      assert.ok((await fs.listVersions('/v.txt')).some((v) => v.size === 7), 'the replaced content became a version');
      await expectError(fs.openVersion('/v.txt', 'nope'), NotFoundError, 'unknown version');
    });
  });

  describe('TrashBin', function () {
    it('lists, restores, purges and empties', async function () {
      skipUnless(this, hasTrash(ctx.fs));
      const fs = ctx.fs as Fs & import('../../src/fs/types.js').TrashBin;
      await fs.mkdir('/t');
      await put(fs, '/t/a.txt', 'a');
      await put(fs, '/b.txt', 'b');
      await fs.remove('/t');
      await fs.remove('/b.txt');
      let items = await fs.listTrash();
      assert.deepEqual(items.map((i) => i.originalPath).sort(), ['/b.txt', '/t']);
      const t = items.find((i) => i.originalPath === '/t')!;
      assert.equal(t.type, 'dir');
      await fs.restoreTrash(t.key);
      assert.equal(await readText(fs, '/t/a.txt'), 'a');
      const b = items.find((i) => i.originalPath === '/b.txt')!;
      await fs.restoreTrash(b.key, { to: '/t/b-restored.txt' });
      assert.equal(await readText(fs, '/t/b-restored.txt'), 'b');
      assert.deepEqual(await fs.listTrash(), []);
      await put(fs, '/c.txt', 'c');
      await fs.remove('/c.txt');
      await put(fs, '/c.txt', 'c2');
      items = await fs.listTrash();
      await expectError(fs.restoreTrash(items[0]!.key), ConflictError, 'restore over an existing path');
      await fs.purgeTrash(items[0]!.key);
      assert.deepEqual(await fs.listTrash(), []);
      await expectError(fs.purgeTrash(items[0]!.key), NotFoundError, 'purged twice');
      await fs.remove('/t');
      await fs.remove('/c.txt');
      await fs.emptyTrash();
      assert.deepEqual(await fs.listTrash(), []);
    });
  });

  describe('GrantStore', function () {
    it('adds, replaces and removes grants per grantee', async function () {
      skipUnless(this, hasGrants(ctx.fs));
      const fs = ctx.fs as Fs & import('../../src/fs/types.js').GrantStore;
      await put(fs, '/g.txt', 'g');
      await fs.setGrant('/g.txt', { grantee: { type: 'user', id: 'bob' }, permissions: ['stat'] });
      await fs.setGrant('/g.txt', { grantee: { type: 'group', id: 'bob' }, permissions: ['stat'] });
      await fs.setGrant('/g.txt', { grantee: { type: 'user', id: 'bob' }, permissions: ['stat', 'initiate_file_download'] });
      const grants = await fs.listGrants('/g.txt');
      assert.equal(grants.length, 2);
      assert.deepEqual(grants.find((g) => g.grantee.type === 'user')!.permissions, ['stat', 'initiate_file_download']);
      await fs.removeGrant('/g.txt', { type: 'user', id: 'bob' });
      assert.deepEqual((await fs.listGrants('/g.txt')).map((g) => g.grantee.type), ['group']);
    });
  });

  describe('ArbitraryMetadata', function () {
    it('sets, selects and unsets keys', async function () {
      skipUnless(this, hasMetadata(ctx.fs));
      const fs = ctx.fs as Fs & import('../../src/fs/types.js').ArbitraryMetadata;
      await fs.mkdir('/m');
      await fs.setMetadata('/m', { a: '1', b: '2' });
      assert.deepEqual(await fs.getMetadata('/m'), { a: '1', b: '2' });
      assert.deepEqual(await fs.getMetadata('/m', ['b', 'zz']), { b: '2' });
      await fs.unsetMetadata('/m', ['a']);
      assert.deepEqual(await fs.getMetadata('/m', null), { b: '2' });
    });
  });
}
