/** Versions (kept on overwrite, pruned, following moves) and the trash (ids kept, purge drops versions). */
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { ConflictError, NotFoundError } from '../../src/errors.js';
import { expectError, put, readText } from '../contract/fs-helpers.js';
import { openTestStorage, type TestStorage } from './storage-fixture.js';

describe('LocalFs versions and trash', function () {
  let t: TestStorage;
  afterEach(async () => {
    await t.close();
    await rm(t.dataDir, { recursive: true, force: true });
  });

  it('keeps at most maxVersions, newest first, and they follow the file through a move', async function () {
    t = await openTestStorage({ maxVersions: 2 });
    const fs = await t.storage.home('alice');
    for (let i = 1; i <= 5; i++) await put(fs, '/v.txt', `content ${i}`, { mtime: i * 1000 });
    let versions = await fs.listVersions('/v.txt');
    assert.deepEqual(versions.map((v) => v.mtime), [4000, 3000]);
    assert.equal(await text(await fs.openVersion('/v.txt', versions[1]!.key)), 'content 3');
    assert.equal(await text(await fs.openVersion('/v.txt', versions[0]!.key, { range: { start: 8 } })), '4');
    await fs.move('/v.txt', '/w.txt', { overwrite: false });
    versions = await fs.listVersions('/w.txt');
    assert.equal(versions.length, 2);
    const restored = await fs.restoreVersion('/w.txt', versions[1]!.key);
    assert.equal(restored.mtime, 3000);
    assert.equal(await readText(fs, '/w.txt'), 'content 3');
    const after = await fs.listVersions('/w.txt');
    assert.equal(after.length, 2);
    assert.deepEqual(after.map((v) => v.mtime).sort(), [4000, 5000]);
    assert.equal(after.find((v) => v.mtime === 5000)!.size, 'content 5'.length);
    assert.equal((await readdir(join(t.dataDir, 'versions', 'alice', restored.fileId))).length, 2);
  });

  it('keeps no versions with maxVersions 0', async function () {
    t = await openTestStorage({ maxVersions: 0 });
    const fs = await t.storage.home('alice');
    await put(fs, '/v', '1');
    await put(fs, '/v', '2');
    assert.deepEqual(await fs.listVersions('/v'), []);
  });

  it('restores from the trash with the same file ids, props and versions', async function () {
    t = await openTestStorage();
    const fs = await t.storage.home('alice');
    await fs.mkdir('/d');
    const f = await put(fs, '/d/f.txt', 'one');
    await put(fs, '/d/f.txt', 'two');
    await fs.patchProps('/d/f.txt', { set: { '{urn:x}p': 'v' } });
    await fs.remove('/d');
    await expectError(fs.pathById(f.entry.fileId), NotFoundError, 'id of a trashed file');
    const [item] = await fs.listTrash();
    assert.equal(item!.size, 3);
    assert.equal((await fs.stat('/')).size, 0);
    await fs.restoreTrash(item!.key);
    assert.equal(await fs.pathById(f.entry.fileId), '/d/f.txt');
    assert.equal((await fs.getProps('/d/f.txt'))['{urn:x}p'], 'v');
    assert.equal((await fs.listVersions('/d/f.txt')).length, 1);
    assert.equal((await fs.stat('/')).size, 3);
  });

  it('recreates missing folders on a restore to the original path; refuses an explicit target without parent', async function () {
    t = await openTestStorage();
    const fs = await t.storage.home('alice');
    await fs.mkdir('/d');
    const f = await put(fs, '/d/f.txt', 'one');
    await put(fs, '/d/f.txt', 'two');
    await fs.remove('/d/f.txt');
    await fs.remove('/d');
    const item = (await fs.listTrash()).find((i) => i.originalPath === '/d/f.txt')!;
    await expectError(fs.restoreTrash(item.key, { to: '/nowhere/f.txt' }), ConflictError, 'explicit target without parent');
    const restored = await fs.restoreTrash(item.key);
    assert.equal(restored.fileId, f.entry.fileId);
    assert.equal(await readText(fs, '/d/f.txt'), 'two');
    assert.equal((await fs.stat('/d')).size, 3);
    assert.equal((await fs.stat('/')).size, 3);
    const dTrash = (await fs.listTrash()).find((i) => i.originalPath === '/d')!;
    await expectError(fs.restoreTrash(dTrash.key), ConflictError, '/d exists again');
    await fs.remove('/d');
    await fs.emptyTrash();
    assert.deepEqual(await fs.listTrash(), []);
    assert.deepEqual(await readdir(join(t.dataDir, 'trash', 'alice')), []);
    const left: string[] = await readdir(join(t.dataDir, 'versions', 'alice')).catch(() => []);
    assert.ok(!left.includes(f.entry.fileId), 'versions of purged files are gone');
  });

  it('keeps one user\'s trash away from another', async function () {
    t = await openTestStorage();
    const alice = await t.storage.home('alice');
    const bob = await t.storage.home('bob');
    await put(alice, '/a', 'a');
    await alice.remove('/a');
    assert.deepEqual(await bob.listTrash(), []);
    const [item] = await alice.listTrash();
    await expectError(bob.restoreTrash(item!.key), NotFoundError, 'foreign trash key');
  });
});
