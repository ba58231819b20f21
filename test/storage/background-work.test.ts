/**
 * What a write leaves for later: pruning old versions (coalesced, so the queue stays bounded
 * under sustained overwrites) and pacing the collector (large or unsized uploads only).
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { PACED_UPLOAD_BYTES, pacedTransfers } from '../../src/http/gc-pacer.js';
import { put } from '../contract/fs-helpers.js';
import { useTestStorage } from './storage-fixture.js';

describe('storage work after writes', function () {
  const t = useTestStorage({ maxVersions: 2 });

  it('queues a file for pruning at most once, however many overwrites come before the pruner', async function () {
    const { storage, dataDir } = t();
    const fs = await storage.home('alice');
    const files = ['/a.txt', '/b.txt', '/c.txt'];
    let most = 0;
    for (let round = 0; round < 40; round++) {
      await Promise.all(files.map((f) => put(fs, f, `round ${round}`)));
      most = Math.max(most, storage.pruner.queued);
    }
    assert.ok(most <= files.length, `at most one waiting prune per file, saw ${most}`);
    await storage.pruner.drain();
    assert.equal(storage.pruner.queued, 0);
    for (const f of files) {
      const { fileId } = await fs.stat(f);
      assert.equal((await readdir(join(dataDir, 'versions', 'alice', fileId))).length, 2, `${f}: two versions on disk`);
      assert.deepEqual((await fs.listVersions(f)).map((v) => v.size), [8, 8]);
    }
  });

  it('takes no more files once closed (a write ending while the storage closes), after finishing those queued', async function () {
    const { storage, dataDir } = t();
    const fs = await storage.home('alice');
    for (let round = 0; round < 4; round++) await put(fs, '/d.txt', `round ${round}`);
    await storage.pruner.close();
    const { fileId } = await fs.stat('/d.txt');
    const onDisk = async () => (await readdir(join(dataDir, 'versions', 'alice', fileId))).length;
    assert.equal(await onDisk(), 2, 'what was queued before was pruned');
    assert.equal(storage.pruner.queued, 0);
    await put(fs, '/d.txt', 'after close');
    await put(fs, '/d.txt', 'after close, again');
    assert.equal(storage.pruner.queued, 0, 'nothing queued once closed');
    await sleep(50);
    assert.equal(await onDisk(), 4, 'no prune ran: the extra versions wait for a later one');
  });

  it('paces the collector for uploads of unknown or large size, not for small ones', async function () {
    const fs = await t().storage.home('alice');
    const cases: Array<[number | undefined, number]> = [
      [4096, 0],
      [PACED_UPLOAD_BYTES - 1, 0],
      [undefined, 1],
      [PACED_UPLOAD_BYTES, 1],
    ];
    for (const [size, paced] of cases) {
      const body = new PassThrough();
      const writing = fs.write(`/upload-${size}.bin`, body, { size });
      body.write(Buffer.alloc(4096));
      while (!body.readableFlowing) await sleep(5); // the storage reads the body: the transfer has begun
      assert.equal(pacedTransfers(), paced, `declared size ${size}`);
      body.end();
      if (size === undefined || size === 4096) await writing;
      else await assert.rejects(writing, /declared size/);
    }
    assert.equal(pacedTransfers(), 0);
  });
});
