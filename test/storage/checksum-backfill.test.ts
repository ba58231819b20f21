/**
 * Deferred checksums (src/storage/checksum-backfill.ts): large uploads get SHA1 while streaming
 * and MD5/Adler32 in the background once the storage is quiet — same ETag, resumed after a
 * restart, never stored for content that changed meanwhile; `meshdav scan` fills what is missing.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Adler32 } from '../../src/storage/checksums.js';
import { md5, sha1 } from '../contract/fs-helpers.js';
import { openTestStorage, type TestStorage } from './storage-fixture.js';

const big = (): Buffer => randomBytes(3 * 1024 * 1024 + 7);
const all = (d: Buffer) => ({ sha1: sha1(d), md5: md5(d), adler32: new Adler32().update(d).digest() });
const body = (d: Buffer) => Readable.from([d.subarray(0, 4096), d.subarray(4096)]);

describe('deferred checksums', function () {
  this.timeout(30_000);
  let t: TestStorage;
  beforeEach(async () => {
    t = await openTestStorage();
  });
  afterEach(async () => {
    await t.close();
    await rm(t.dataDir, { recursive: true, force: true });
  });

  it('fills MD5 and Adler32 of a large upload in the background, keeping its ETag', async function () {
    const fs = await t.storage.home('alice');
    const d = big();
    const { entry } = await fs.write('/a.bin', body(d));
    assert.deepEqual(entry.checksums, { sha1: sha1(d) });
    assert.equal(await t.storage.backfill.pending(), 1);
    await t.storage.backfill.drained();
    const st = await fs.stat('/a.bin');
    assert.deepEqual(st.checksums, all(d));
    assert.equal(st.etag, entry.etag);
  });

  it('waits while a transfer is in flight', async function () {
    const fs = await t.storage.home('alice');
    const d = big();
    await fs.write('/a.bin', body(d));
    const reading = await fs.openRead('/a.bin'); // opened, not consumed: a transfer in flight
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(await t.storage.backfill.pending(), 1, 'nothing computed during the transfer');
    assert.equal((await fs.stat('/a.bin')).checksums?.md5, undefined);
    reading.destroy();
    await t.storage.backfill.drained();
    assert.deepEqual((await fs.stat('/a.bin')).checksums, all(d));
  });

  it('computes the sums of the newest content only, also after a move', async function () {
    const fs = await t.storage.home('alice');
    const [d1, d2] = [big(), big()];
    await fs.write('/a.bin', body(d1));
    await fs.write('/a.bin', body(d2));
    await fs.move('/a.bin', '/b.bin', { overwrite: false });
    await t.storage.backfill.drained();
    assert.deepEqual((await fs.stat('/b.bin')).checksums, all(d2));
  });

  it('resumes after a restart', async function () {
    const fs = await t.storage.home('alice');
    const d = big();
    const { entry } = await fs.write('/a.bin', body(d));
    await t.close(); // before the storage was quiet for long enough
    t = await openTestStorage({ dataDir: t.dataDir });
    await t.storage.backfill.drained();
    const st = await (await t.storage.home('alice')).stat('/a.bin');
    assert.deepEqual(st.checksums, all(d));
    assert.equal(st.etag, entry.etag);
  });

  it('is done by scan when the queue was lost, with the same ETag and no change reported', async function () {
    const fs = await t.storage.home('alice');
    const d = big();
    const { entry } = await fs.write('/a.bin', body(d));
    await t.close();
    t = await openTestStorage({ dataDir: t.dataDir });
    await t.storage.backfill.close(); // no background work: scan alone
    await t.storage.store.sums.clear();
    const report = await t.storage.scan('alice');
    assert.deepEqual(report.changed, []);
    const st = await (await t.storage.home('alice')).stat('/a.bin');
    assert.deepEqual(st.checksums, all(d));
    assert.equal(st.etag, entry.etag);
    assert.equal(createHash('sha1').update(d).digest('hex'), st.checksums?.sha1);
  });
});
