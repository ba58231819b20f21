/** LocalFs specifics the contract leaves open: id stability and persistence, ETag and size propagation. */
import assert from 'node:assert/strict';
import { readdir, rm, stat as fsStat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../../src/errors.js';
import { expectError, put, readText } from '../contract/fs-helpers.js';
import { openTestStorage, useTestStorage, type TestStorage } from './storage-fixture.js';

describe('LocalFs ids, ETags and sizes', function () {
  const fresh = useTestStorage();
  let t: TestStorage;
  beforeEach(() => {
    t = fresh();
  });

  it('keeps every file id of a moved tree and resolves them to the new paths', async function () {
    const fs = await t.storage.home('alice');
    await fs.mkdir('/a');
    await fs.mkdir('/a/b');
    const deep = await put(fs, '/a/b/deep.txt', 'deep');
    const b = await fs.stat('/a/b');
    await fs.mkdir('/z');
    await fs.move('/a', '/z/renamed', { overwrite: false });
    assert.equal((await fs.stat('/z/renamed/b/deep.txt')).fileId, deep.entry.fileId);
    assert.equal(await fs.pathById(deep.entry.fileId), '/z/renamed/b/deep.txt');
    assert.equal(await fs.pathById(b.fileId), '/z/renamed/b');
  });

  it('uses numeric ids that never repeat, also across a restart', async function () {
    const fs = await t.storage.home('alice');
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await put(fs, `/f${i}`, 'x')).entry.fileId);
    const f0 = await fs.stat('/f0');
    await t.close();
    t = await openTestStorage({ dataDir: t.dataDir });
    const again = await t.storage.home('alice');
    assert.equal((await again.stat('/f0')).fileId, f0.fileId, 'ids persist');
    assert.equal((await again.stat('/f0')).etag, f0.etag, 'ETags persist');
    for (let i = 0; i < 5; i++) ids.add((await put(again, `/g${i}`, 'x')).entry.fileId);
    assert.equal(ids.size, 10);
    for (const id of ids) assert.match(id, /^\d+$/);
  });

  it('does not resolve another user\'s ids', async function () {
    const alice = await t.storage.home('alice');
    const bob = await t.storage.home('bob');
    const { entry } = await put(alice, '/secret.txt', 's');
    await expectError(bob.pathById(entry.fileId), NotFoundError, 'foreign id');
  });

  it('keeps folder sizes recursive through writes, moves, copies and removals', async function () {
    const fs = await t.storage.home('alice');
    await fs.mkdir('/p');
    await fs.mkdir('/p/q');
    await put(fs, '/p/q/a', '12345');
    await put(fs, '/p/b', '123');
    const size = async (p: string) => (await fs.stat(p)).size;
    assert.deepEqual([await size('/'), await size('/p'), await size('/p/q')], [8, 8, 5]);
    await put(fs, '/p/q/a', '1');
    assert.deepEqual([await size('/'), await size('/p'), await size('/p/q')], [4, 4, 1]);
    await fs.copy('/p', '/p2', { overwrite: false });
    assert.deepEqual([await size('/'), await size('/p2'), await size('/p2/q')], [8, 4, 1]);
    await fs.move('/p2/q', '/q', { overwrite: false });
    assert.deepEqual([await size('/'), await size('/p2'), await size('/q')], [8, 3, 1]);
    await fs.remove('/p');
    assert.deepEqual([await size('/'), (await fs.quota()).used], [4, 4]);
  });

  it('changes the ETags of both ancestor chains on a move, and of the destination chain on a copy', async function () {
    const fs = await t.storage.home('alice');
    for (const d of ['/s', '/s/t', '/d', '/d/e']) await fs.mkdir(d);
    await put(fs, '/s/t/f', 'f');
    const chain = ['/', '/s', '/s/t', '/d', '/d/e'];
    const tags = async () => Object.fromEntries(await Promise.all(chain.map(async (p) => [p, (await fs.stat(p)).etag])));
    let before = await tags();
    await fs.move('/s/t/f', '/d/e/f', { overwrite: false });
    let after = await tags();
    for (const p of chain) assert.notEqual(after[p], before[p], `${p} after move`);
    before = after;
    await fs.copy('/d/e/f', '/s/t/f', { overwrite: false });
    after = await tags();
    for (const p of ['/', '/s', '/s/t']) assert.notEqual(after[p], before[p], `${p} after copy`);
    assert.equal(after['/d/e'], before['/d/e'], 'the source side is untouched by a copy');
  });

  it('keeps the client mtime on disk, so the tree stays consistent for scan', async function () {
    const fs = await t.storage.home('alice');
    const mtime = 1600000000123;
    await put(fs, '/m.txt', 'm', { mtime });
    const st = await fsStat(join(t.dataDir, 'files', 'alice', 'm.txt'));
    assert.equal(Math.round(st.mtimeMs), mtime);
    assert.equal((await fs.stat('/m.txt')).mtime, mtime);
  });

  it('serialises concurrent writes in one folder without losing a size or an id', async function () {
    const fs = await t.storage.home('alice');
    await fs.mkdir('/c');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => put(fs, `/c/f${i}`, 'x'.repeat(i + 1))));
    assert.equal(new Set(results.map((r) => r.entry.fileId)).size, 20);
    assert.equal((await fs.stat('/c')).size, (20 * 21) / 2);
    assert.equal((await fs.list('/c')).length, 20);
    assert.equal(await readText(fs, '/c/f19'), 'x'.repeat(20));
    assert.deepEqual(await readdir(join(t.dataDir, 'uploads')), [], 'no temporary file left');
  });

  it('commits a burst of writes with individual outcomes and consistent metadata', async function () {
    const fs = await t.storage.home('alice');
    await put(fs, '/taken.txt', 'already here');
    const ops = [
      ...Array.from({ length: 10 }, (_, i) => put(fs, `/b${i}.txt`, 'y'.repeat(10 + i))),
      put(fs, '/same.txt', 'first'),
      put(fs, '/same.txt', 'second!'),
      put(fs, '/taken.txt', 'not allowed', { ifNoneMatch: '*' }),
      put(fs, '/no/parent.txt', 'x'),
    ];
    const results = await Promise.allSettled(ops);
    assert.deepEqual(results.map((r) => r.status), [...Array(12).fill('fulfilled'), 'rejected', 'rejected']);
    const same = await readText(fs, '/same.txt');
    assert.ok(same === 'first' || same === 'second!', 'one whole body wins (the one that completed last)');
    assert.equal(await readText(fs, '/taken.txt'), 'already here');
    const total = 'already here'.length + same.length + Array.from({ length: 10 }, (_, i) => 10 + i).reduce((a, b) => a + b, 0);
    assert.equal((await fs.stat('/')).size, total);
    assert.equal((await fs.list('/')).length, 12);
    const ids = await Promise.all((await fs.list('/')).map(async (e) => [await fs.pathById(e.fileId), e.path]));
    for (const [a, b] of ids) assert.equal(a, b);
  });
});
