/** Checksums computed in the write pass (SHA1, MD5, hand-written Adler32) and the per-user quota. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BadRequestError, InsufficientStorageError } from '../../src/errors.js';
import { Adler32, parseDeclaredChecksum } from '../../src/storage/checksums.js';
import { expectError, exists, failingBody, md5, put, readText, sha1 } from '../contract/fs-helpers.js';
import { useTestStorage, type TestStorage } from './storage-fixture.js';

/** Textbook Adler-32, one modulo per byte: the reference for the blocked implementation. */
function adlerReference(buf: Buffer): string {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b * 65536 + a) >>> 0).toString(16).padStart(8, '0');
}

describe('checksums', function () {
  it('computes Adler-32 like the reference, across chunk boundaries', function () {
    assert.equal(new Adler32().update(Buffer.from('Wikipedia')).digest(), '11e60398');
    assert.equal(new Adler32().digest(), '00000001');
    const data = Buffer.alloc(300_000, 0xff);
    randomBytes(100_000).copy(data, 100_000);
    const chunked = new Adler32();
    for (let i = 0; i < data.length; i += 7777) chunked.update(data.subarray(i, i + 7777));
    assert.equal(chunked.digest(), adlerReference(data));
  });

  it('parses declared checksums, ignores unknown types, refuses malformed ones', function () {
    assert.deepEqual(parseDeclaredChecksum('SHA1:ABC md5:def Adler32:01 SHA256:ff'), { sha1: 'abc', md5: 'def', adler32: '01' });
    assert.throws(() => parseDeclaredChecksum('SHA1'), BadRequestError);
    assert.throws(() => parseDeclaredChecksum('SHA1:xyz'), BadRequestError);
  });

  describe('on LocalFs', function () {
    const fresh = useTestStorage();
    let t: TestStorage;
    beforeEach(() => {
      t = fresh();
    });

    it('stores SHA1, MD5 and Adler32 of what streamed in, and verifies each declared type', async function () {
      const fs = await t.storage.home('alice');
      const data = randomBytes(2 * 1024 * 1024 + 3);
      const chunks = [data.subarray(0, 1000), data.subarray(1000, 1_500_000), data.subarray(1_500_000)];
      const { entry } = await fs.write('/x.bin', Readable.from(chunks), { checksum: `ADLER32:${adlerReference(data)}` });
      // A large body: SHA1 and the declared type while streaming, MD5 later in the background.
      assert.deepEqual(entry.checksums, { sha1: sha1(data), adler32: adlerReference(data) });
      await t.storage.backfill.drained();
      const all = { sha1: sha1(data), md5: md5(data), adler32: adlerReference(data) };
      assert.deepEqual((await fs.stat('/x.bin')).checksums, all);
      assert.deepEqual((await fs.list('/'))[0]!.checksums, all);
      assert.equal((await fs.stat('/x.bin')).etag, entry.etag, 'deferred checksums do not change the ETag');
      await put(fs, '/y', 'y', { checksum: `MD5:${md5('y')}` });
      await expectError(put(fs, '/y', 'z', { checksum: `ADLER32:${adlerReference(Buffer.from('y'))}` }), BadRequestError, 'adler mismatch');
      assert.equal(await readText(fs, '/y'), 'y');
    });

    it('hashes concurrent large uploads independently, also after an abandoned one', async function () {
      const fs = await t.storage.home('alice');
      await assert.rejects(fs.write('/cut', failingBody(randomBytes(5 * 1024 * 1024))));
      const datas = [0, 1, 2].map(() => randomBytes(3 * 1024 * 1024 + 5));
      const entries = await Promise.all(datas.map((d, i) => fs.write(`/c${i}`, Readable.from([d.subarray(0, 777), d.subarray(777)]))));
      entries.forEach((r, i) => assert.deepEqual(r.entry.checksums, { sha1: sha1(datas[i]!) }));
      await t.storage.backfill.drained();
      for (const [i, d] of datas.entries()) {
        assert.deepEqual((await fs.stat(`/c${i}`)).checksums, { sha1: sha1(d), md5: md5(d), adler32: adlerReference(d) });
      }
    });
  });
});

describe('quota', function () {
  const fresh = useTestStorage({ quotaBytes: 1000 });
  let t: TestStorage;
  beforeEach(() => {
    t = fresh();
  });

  const uploadsEmpty = async () => assert.deepEqual(await readdir(join(t.dataDir, 'uploads')), []);

  it('refuses a declared size that does not fit before reading the body', async function () {
    const fs = await t.storage.home('alice');
    let pulled = false;
    const body = new Readable({
      read() {
        pulled = true;
        this.push(null);
      },
    });
    const err = await expectError(fs.write('/big', body, { size: 1001 }), InsufficientStorageError, 'declared');
    assert.equal(err.status, 507);
    assert.equal(pulled, false, 'the body was not read');
    assert.equal(await exists(fs, '/big'), false);
  });

  it('stops a body that grows past the quota and writes nothing', async function () {
    const fs = await t.storage.home('alice');
    await put(fs, '/keep', 'k'.repeat(600));
    await expectError(put(fs, '/over', Buffer.alloc(500)), InsufficientStorageError, 'streamed');
    await expectError(put(fs, '/keep', Buffer.alloc(1001)), InsufficientStorageError, 'overwrite too big');
    assert.equal(await exists(fs, '/over'), false);
    assert.equal(await readText(fs, '/keep'), 'k'.repeat(600));
    assert.deepEqual(await fs.quota(), { used: 600, total: 1000, available: 400 });
    await uploadsEmpty();
  });

  it('counts the replaced content as freed, and frees space on removal', async function () {
    const fs = await t.storage.home('alice');
    await put(fs, '/a', Buffer.alloc(900));
    await put(fs, '/a', Buffer.alloc(1000));
    assert.equal((await fs.quota()).used, 1000);
    await fs.remove('/a');
    assert.equal((await fs.quota()).available, 1000, 'the trash does not count');
    await put(fs, '/b', Buffer.alloc(800));
    await expectError(fs.copy('/b', '/b2', { overwrite: false }), InsufficientStorageError, 'copy');
    assert.equal(await exists(fs, '/b2'), false);
    await uploadsEmpty();
  });

  it('refuses trash and version restores that would not fit', async function () {
    const fs = await t.storage.home('alice');
    await put(fs, '/v', Buffer.alloc(600));
    await put(fs, '/v', Buffer.alloc(100));
    await put(fs, '/big', Buffer.alloc(300));
    await fs.remove('/big');
    await put(fs, '/filler', Buffer.alloc(750));
    const [version] = await fs.listVersions('/v');
    await expectError(fs.restoreVersion('/v', version!.key), InsufficientStorageError, 'version');
    const [item] = await fs.listTrash();
    await expectError(fs.restoreTrash(item!.key), InsufficientStorageError, 'trash');
    assert.equal((await fs.stat('/v')).size, 100);
    assert.equal(await exists(fs, '/big'), false);
    await fs.remove('/filler');
    await fs.restoreTrash(item!.key);
    await fs.restoreVersion('/v', version!.key);
    assert.equal((await fs.quota()).used, 900);
  });

  it('lets only what fits through when concurrent writes together exceed the quota', async function () {
    const fs = await t.storage.home('alice');
    const results = await Promise.allSettled([put(fs, '/a', Buffer.alloc(600)), put(fs, '/b', Buffer.alloc(600))]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(failed.reason instanceof InsufficientStorageError);
    assert.equal((await fs.quota()).used, 600);
    assert.equal((await fs.list('/')).length, 1);
    await uploadsEmpty();
  });

  it('is per user', async function () {
    const alice = await t.storage.home('alice');
    const bob = await t.storage.home('bob');
    await put(alice, '/a', Buffer.alloc(1000));
    await put(bob, '/b', Buffer.alloc(1000));
    assert.equal((await bob.quota()).used, 1000);
  });
});
