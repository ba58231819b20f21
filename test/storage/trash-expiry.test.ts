/** Deleted items older than trashRetentionDays go for good (src/storage/trash-expiry.ts). */
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { put } from '../contract/fs-helpers.js';
import { openTestStorage, type TestStorage } from './storage-fixture.js';

const DAY = 24 * 3600_000;

describe('LocalStorage: trash retention', function () {
  let t: TestStorage;
  afterEach(async () => {
    await t.close();
    await rm(t.dataDir, { recursive: true, force: true });
  });

  it('purges items deleted longer ago than the retention, of every user, and keeps the newer ones', async () => {
    t = await openTestStorage({ trashRetentionDays: 1, trashSweepMs: 3600_000 });
    for (const user of ['alice', 'bob']) {
      const fs = await t.storage.home(user);
      await put(fs, '/old.txt', 'old');
      await put(fs, '/new.txt', 'new');
      await fs.remove('/old.txt');
      await fs.remove('/new.txt');
      // Deleted two days ago, as the record says.
      const old = (await fs.listTrash()).find((i) => i.originalPath === '/old.txt')!;
      const key = `${user}:${old.key}`;
      await t.storage.store.trash.put(key, { ...(await t.storage.store.trash.get(key))!, deletedAt: Date.now() - 2 * DAY });
    }
    await t.storage.trashExpiry.sweep();
    for (const user of ['alice', 'bob']) {
      const fs = await t.storage.home(user);
      assert.deepEqual((await fs.listTrash()).map((i) => i.originalPath), ['/new.txt'], `${user}: the old item went, the new one stayed`);
    }
    assert.equal(t.storage.trashExpiry.purged, 2);
    // Their files went from the trash folder too: one item's left for each user.
    for (const user of ['alice', 'bob']) assert.equal((await readdir(t.storage.layout.trashPath(user, ''))).length, 1);
  });

  it('keeps everything with a retention of 0; with one, sweeps at open', async () => {
    t = await openTestStorage({ trashRetentionDays: 0 });
    const fs = await t.storage.home('alice');
    await put(fs, '/a.txt', 'a');
    await fs.remove('/a.txt');
    const [item] = await fs.listTrash();
    const key = `alice:${item!.key}`;
    await t.storage.store.trash.put(key, { ...(await t.storage.store.trash.get(key))!, deletedAt: 0 });
    await t.storage.trashExpiry.sweep();
    assert.equal((await fs.listTrash()).length, 1, 'kept for ever');
    const dataDir = t.dataDir;
    await t.close();
    t = await openTestStorage({ dataDir, trashRetentionDays: 30 });
    await t.storage.trashExpiry.sweep(); // the sweep started at open, or a new one
    assert.deepEqual(await (await t.storage.home('alice')).listTrash(), []);
  });
});
