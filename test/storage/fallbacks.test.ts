/** transfer() between two different Fs (two homes): the streamed fallback, with dead properties. */
import assert from 'node:assert/strict';
import { ConflictError, PreconditionFailedError } from '../../src/errors.js';
import { transfer } from '../../src/fs/fallbacks.js';
import { expectError, exists, put, readText } from '../contract/fs-helpers.js';
import { useTestStorage, type TestStorage } from './storage-fixture.js';

describe('transfer() across Fs instances', function () {
  const fresh = useTestStorage();
  let t: TestStorage;
  beforeEach(() => {
    t = fresh();
  });

  it('copies a tree from one home to another with mtimes and dead properties, then moves it', async function () {
    const alice = await t.storage.home('alice');
    const bob = await t.storage.home('bob');
    await alice.mkdir('/proj');
    await alice.mkdir('/proj/src');
    await put(alice, '/proj/src/main.ts', 'main', { mtime: 1_500_000_000_000 });
    await alice.patchProps('/proj', { set: { '{urn:x}tag': 'p' } });
    const copied = await transfer(alice, '/proj', bob, '/proj-copy', { mode: 'copy', overwrite: false });
    assert.equal(copied.replaced, false);
    assert.equal(copied.entry.size, 4);
    assert.equal(await readText(bob, '/proj-copy/src/main.ts'), 'main');
    assert.equal((await bob.stat('/proj-copy/src/main.ts')).mtime, 1_500_000_000_000);
    assert.equal((await bob.getProps('/proj-copy'))['{urn:x}tag'], 'p');
    assert.equal((await bob.quota()).used, 4);

    await expectError(transfer(alice, '/proj', bob, '/proj-copy', { mode: 'move', overwrite: false }), PreconditionFailedError, 'exists');
    await expectError(transfer(alice, '/proj', bob, '/no/where', { mode: 'move', overwrite: true }), ConflictError, 'no parent');
    const moved = await transfer(alice, '/proj', bob, '/proj-copy', { mode: 'move', overwrite: true });
    assert.equal(moved.replaced, true);
    assert.equal(await exists(alice, '/proj'), false);
    assert.equal((await alice.listTrash())[0]!.originalPath, '/proj', 'the moved source went to the trash');
    assert.equal((await bob.listTrash())[0]!.originalPath, '/proj-copy', 'the replaced destination went to the trash');
  });

  it('copies only the folder at depth 0', async function () {
    const alice = await t.storage.home('alice');
    const bob = await t.storage.home('bob');
    await alice.mkdir('/d');
    await put(alice, '/d/x', 'x');
    await transfer(alice, '/d', bob, '/d', { mode: 'copy', overwrite: false, depth: 0 });
    assert.deepEqual(await bob.list('/d'), []);
  });
});
