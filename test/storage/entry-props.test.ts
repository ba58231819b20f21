/** Entries from local storage carry their dead properties, read with their records (no lookup per member in listings). */
import assert from 'node:assert/strict';
import { put } from '../contract/fs-helpers.js';
import { useTestStorage } from './storage-fixture.js';

describe('LocalFs entries with their dead properties', function () {
  const t = useTestStorage();

  it('list() and stat() give each entry the dead properties of its record, as of the call', async function () {
    const fs = await t().storage.home('alice');
    await fs.mkdir('/d');
    await put(fs, '/d/a.txt', 'a');
    await put(fs, '/d/b.txt', 'b');
    await fs.patchProps('/d/a.txt', { set: { '{urn:x}color': 'red' } });
    await fs.patchProps('/d', { set: { '{urn:x}kind': 'project' } });

    const listed = Object.fromEntries((await fs.list('/d')).map((e) => [e.name, e.props]));
    assert.deepEqual(listed, { 'a.txt': { '{urn:x}color': 'red' }, 'b.txt': {} });
    assert.deepEqual((await fs.stat('/d')).props, { '{urn:x}kind': 'project' });

    const before = (await fs.stat('/d/a.txt')).props;
    await fs.patchProps('/d/a.txt', { set: { '{urn:x}color': 'blue' }, remove: [] });
    assert.deepEqual(before, { '{urn:x}color': 'red' }, 'an entry is a snapshot');
    assert.deepEqual((await fs.stat('/d/a.txt')).props, { '{urn:x}color': 'blue' });
    assert.deepEqual(await fs.getProps('/d/a.txt'), { '{urn:x}color': 'blue' });
  });
});
