import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { put, readText } from '../contract/fs-helpers.js';
import { openTestStorage } from './storage-fixture.js';
import { entryKey } from '../../src/storage/meta-store.js';

describe('recovery of writes interrupted between rename and metadata', () => {
  it('brings metadata up to the content on disk at the next open, and clears the intent', async () => {
    const first = await openTestStorage();
    const dataDir = first.dataDir;
    try {
      const home = await first.storage.home('alice');
      await put(home, '/doc.txt', 'old content');
      const before = await home.stat('/doc.txt');
      const rootBefore = await home.stat('/');
      // The state a SIGKILL leaves after the rename and before the batch: intent present,
      // new content in place, metadata still describing the old content.
      await first.db.sublevel<string, number>(['storage', 'intents'], { valueEncoding: 'json' }).put(entryKey('alice', '/doc.txt'), Date.now());
      writeFileSync(join(dataDir, 'files', 'alice', 'doc.txt'), 'the new, longer content');
      await first.close();

      const second = await openTestStorage({ dataDir });
      try {
        const after = await (await second.storage.home('alice')).stat('/doc.txt');
        assert.equal(after.size, 'the new, longer content'.length);
        assert.notEqual(after.etag, before.etag);
        assert.equal(after.fileId, before.fileId, 'the file keeps its id');
        assert.equal(after.checksums?.sha1, createHash('sha1').update('the new, longer content').digest('hex'));
        assert.notEqual((await (await second.storage.home('alice')).stat('/')).etag, rootBefore.etag, 'ancestors get new ETags');
        assert.equal(await readText(await second.storage.home('alice'), '/doc.txt'), 'the new, longer content');
        assert.deepEqual(await second.db.sublevel(['storage', 'intents']).keys().all(), []);
        assert.deepEqual((await second.storage.scan('alice')).changed, [], 'nothing left for scan');
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('leaves no intent behind after normal writes', async () => {
    const t = await openTestStorage();
    try {
      const home = await t.storage.home('alice');
      await Promise.all(Array.from({ length: 20 }, (_, i) => put(home, `/f${i}.txt`, `content ${i}`)));
      assert.deepEqual(await t.db.sublevel(['storage', 'intents']).keys().all(), []);
    } finally {
      await t.close();
      await rm(t.dataDir, { recursive: true, force: true });
    }
  });
});
