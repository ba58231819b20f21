/**
 * The Fs contract suite (rclone fstests style). Every Fs implementation runs it:
 *   runFsContract('LocalFs', async () => ({ fs, cleanup }))
 * `makeFs` is called before each test and must return an empty Fs (an empty root folder);
 * `cleanup` is awaited after it. The suite uses only the Fs interface, the ability guards and
 * transfer(); optional abilities are tested when the Fs has them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AlreadyExistsError,
  BadRequestError,
  ConflictError,
  isMeshdavError,
  NotFoundError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
} from '../../src/errors.js';
import type { Fs } from '../../src/fs/types.js';
import { runAbilityContract } from './fs-contract-abilities.js';
import { expectError, exists, failingBody, md5, put, readBuf, readText, sha1 } from './fs-helpers.js';

export type MakeFs = () => Promise<{ fs: Fs; cleanup(): Promise<void> }>;

export function runFsContract(name: string, makeFs: MakeFs): void {
  describe(`Fs contract: ${name}`, function () {
    const ctx: { fs: Fs; cleanup?: () => Promise<void> } = { fs: undefined as unknown as Fs };
    beforeEach(async function () {
      const made = await makeFs();
      ctx.fs = made.fs;
      ctx.cleanup = made.cleanup;
    });
    afterEach(async function () {
      await ctx.cleanup?.();
    });

    describe('stat and list', function () {
      it('has a root folder', async function () {
        const root = await ctx.fs.stat('/');
        assert.equal(root.type, 'dir');
        assert.equal(root.path, '/');
        assert.equal(root.name, '');
        assert.equal(root.mime, 'httpd/unix-directory');
        assert.ok(root.etag);
        assert.deepEqual(await ctx.fs.list('/'), []);
      });

      it('lists direct children only, with types, sizes and names', async function () {
        await ctx.fs.mkdir('/d');
        await ctx.fs.mkdir('/d/sub');
        await put(ctx.fs, '/d/a.txt', 'abc');
        await put(ctx.fs, '/d/sub/deep.txt', 'deeper');
        const kids = (await ctx.fs.list('/d')).sort((a, b) => a.name.localeCompare(b.name));
        assert.deepEqual(kids.map((e) => [e.name, e.path, e.type]), [
          ['a.txt', '/d/a.txt', 'file'],
          ['sub', '/d/sub', 'dir'],
        ]);
        assert.equal(kids[0]!.size, 3);
        assert.equal(kids[0]!.mime, 'text/plain');
        assert.equal(kids[1]!.mime, 'httpd/unix-directory');
        for (const k of kids) {
          assert.ok(k.etag, 'every entry has an ETag');
          assert.ok(k.fileId, 'every entry has a file id');
          assert.equal(typeof k.mtime, 'number');
          assert.equal(typeof k.permissions, 'number');
        }
        const st = await ctx.fs.stat('/d/a.txt');
        assert.deepEqual({ ...st, checksums: undefined }, { ...kids[0]!, checksums: undefined });
      });

      it('throws NotFoundError for missing paths and ConflictError when listing a file', async function () {
        await put(ctx.fs, '/f.txt', 'x');
        await expectError(ctx.fs.stat('/nope'), NotFoundError, 'stat');
        await expectError(ctx.fs.stat('/nope/deeper'), NotFoundError, 'stat below missing');
        await expectError(ctx.fs.list('/nope'), NotFoundError, 'list');
        await expectError(ctx.fs.openRead('/nope'), NotFoundError, 'openRead');
        await expectError(ctx.fs.remove('/nope'), NotFoundError, 'remove');
        await expectError(ctx.fs.list('/f.txt'), ConflictError, 'list a file');
      });

      it('keeps unicode and unusual names intact', async function () {
        const names = ['ünïcødé 文件 🚀.txt', 'with space & #hash %25 ?q.md', "quote'\"s.txt", 'Ω', '-dash', '.hidden'];
        await ctx.fs.mkdir('/ü dir');
        for (const n of names) await put(ctx.fs, `/ü dir/${n}`, n);
        const listed = (await ctx.fs.list('/ü dir')).map((e) => e.name).sort();
        assert.deepEqual(listed, [...names].sort());
        for (const n of names) assert.equal(await readText(ctx.fs, `/ü dir/${n}`), n);
      });
    });

    describe('write and read', function () {
      it('creates, reads back and overwrites a file', async function () {
        const r1 = await put(ctx.fs, '/a.txt', 'hello');
        assert.equal(r1.created, true);
        assert.equal(r1.entry.type, 'file');
        assert.equal(r1.entry.size, 5);
        assert.equal(r1.entry.name, 'a.txt');
        assert.equal(await readText(ctx.fs, '/a.txt'), 'hello');
        const r2 = await put(ctx.fs, '/a.txt', 'hello, world');
        assert.equal(r2.created, false);
        assert.equal(r2.entry.size, 12);
        assert.notEqual(r2.entry.etag, r1.entry.etag, 'ETag changes with the content');
        assert.equal(r2.entry.fileId, r1.entry.fileId, 'the file id survives an overwrite');
        assert.equal(await readText(ctx.fs, '/a.txt'), 'hello, world');
        assert.equal((await ctx.fs.stat('/a.txt')).etag, r2.entry.etag);
      });

      it('writes empty files and multi-MiB files byte for byte', async function () {
        await put(ctx.fs, '/empty', '');
        assert.equal((await ctx.fs.stat('/empty')).size, 0);
        assert.equal((await readBuf(ctx.fs, '/empty')).length, 0);
        const big = randomBytes(3 * 1024 * 1024 + 17);
        const chunks = [big.subarray(0, 100_000), big.subarray(100_000, 2_000_000), big.subarray(2_000_000)];
        const r = await ctx.fs.write('/big.bin', Readable.from(chunks));
        assert.equal(r.entry.size, big.length);
        assert.equal(sha1(await readBuf(ctx.fs, '/big.bin')), sha1(big));
      });

      it('serves byte ranges', async function () {
        await put(ctx.fs, '/r.txt', '0123456789');
        assert.equal(await readText(ctx.fs, '/r.txt', { start: 2, end: 4 }), '234');
        assert.equal(await readText(ctx.fs, '/r.txt', { start: 7 }), '789');
        assert.equal(await readText(ctx.fs, '/r.txt', { start: 8, end: 100 }), '89');
        await expectError(readBuf(ctx.fs, '/r.txt', { start: 10 }), RangeNotSatisfiableError, 'range past the end');
      });

      it('keeps a client-supplied mtime', async function () {
        const mtime = Date.UTC(2021, 4, 6, 7, 8, 9);
        const r = await put(ctx.fs, '/m.txt', 'm', { mtime });
        assert.ok(Math.abs(r.entry.mtime - mtime) < 1000, `mtime ${r.entry.mtime} != ${mtime}`);
        assert.ok(Math.abs((await ctx.fs.stat('/m.txt')).mtime - mtime) < 1000);
      });

      it('refuses a write whose parent is missing, or onto a folder', async function () {
        await expectError(put(ctx.fs, '/no/such/file.txt', 'x'), ConflictError, 'missing parent');
        await ctx.fs.mkdir('/dir');
        await assert.rejects(put(ctx.fs, '/dir', 'x'), (err) => isMeshdavError(err) && err.status >= 400 && err.status < 500);
        assert.equal((await ctx.fs.stat('/dir')).type, 'dir');
      });

      it('honours ifMatch and ifNoneMatch', async function () {
        const { entry } = await put(ctx.fs, '/c.txt', 'v1');
        await expectError(put(ctx.fs, '/c.txt', 'v2', { ifNoneMatch: '*' }), PreconditionFailedError, 'If-None-Match on existing');
        await expectError(put(ctx.fs, '/c.txt', 'v2', { ifMatch: 'not-the-etag' }), PreconditionFailedError, 'wrong If-Match');
        await expectError(put(ctx.fs, '/new.txt', 'v2', { ifMatch: '*' }), PreconditionFailedError, 'If-Match on missing');
        assert.equal(await readText(ctx.fs, '/c.txt'), 'v1');
        assert.equal(await exists(ctx.fs, '/new.txt'), false);
        await put(ctx.fs, '/c.txt', 'v2', { ifMatch: entry.etag });
        assert.equal(await readText(ctx.fs, '/c.txt'), 'v2');
        const created = await put(ctx.fs, '/n2.txt', 'n', { ifNoneMatch: '*' });
        assert.equal(created.created, true);
      });

      it('refuses a body whose length differs from the declared size, writing nothing', async function () {
        await put(ctx.fs, '/s.txt', 'old');
        await expectError(put(ctx.fs, '/s.txt', 'longer body', { size: 3 }), BadRequestError, 'size mismatch on overwrite');
        await expectError(put(ctx.fs, '/t.txt', 'ab', { size: 5 }), BadRequestError, 'size mismatch on create');
        assert.equal(await readText(ctx.fs, '/s.txt'), 'old');
        assert.equal(await exists(ctx.fs, '/t.txt'), false);
      });

      it('leaves the old content and no partial file when the body fails mid-way', async function () {
        await put(ctx.fs, '/keep.txt', 'original');
        const before = await ctx.fs.stat('/keep.txt');
        await assert.rejects(ctx.fs.write('/keep.txt', failingBody('partial new content')));
        await assert.rejects(ctx.fs.write('/fresh.txt', failingBody('partial')));
        assert.equal(await readText(ctx.fs, '/keep.txt'), 'original');
        assert.equal((await ctx.fs.stat('/keep.txt')).etag, before.etag);
        assert.deepEqual((await ctx.fs.list('/')).map((e) => e.name), ['keep.txt']);
      });

      it('leaves the old content when the write is aborted by its signal', async function () {
        await put(ctx.fs, '/ab.txt', 'original');
        const ac = new AbortController();
        const body = failingBody('x'.repeat(1000));
        setImmediate(() => ac.abort());
        await assert.rejects(ctx.fs.write('/ab.txt', body, { signal: ac.signal }));
        assert.equal(await readText(ctx.fs, '/ab.txt'), 'original');
      });

      it('verifies declared checksums and reports computed ones', async function () {
        const { entry } = await put(ctx.fs, '/sum.txt', 'checksum me', { checksum: `SHA1:${sha1('checksum me')}` });
        await expectError(put(ctx.fs, '/sum.txt', 'changed', { checksum: `SHA1:${sha1('other')}` }), BadRequestError, 'SHA1 mismatch');
        await expectError(put(ctx.fs, '/sum2.txt', 'changed', { checksum: `MD5:${md5('other')}` }), BadRequestError, 'MD5 mismatch');
        assert.equal(await readText(ctx.fs, '/sum.txt'), 'checksum me');
        assert.equal(await exists(ctx.fs, '/sum2.txt'), false);
        if (entry.checksums?.sha1) assert.equal(entry.checksums.sha1, sha1('checksum me'));
        if (entry.checksums?.md5) assert.equal(entry.checksums.md5, md5('checksum me'));
      });

      it('ends with one whole body when writes to the same path race', async function () {
        const bodies = ['a'.repeat(5000), 'b'.repeat(7000), 'c'.repeat(3000)];
        const results = await Promise.allSettled(bodies.map((b) => put(ctx.fs, '/race.txt', b)));
        assert.ok(results.some((r) => r.status === 'fulfilled'));
        const final = await readText(ctx.fs, '/race.txt');
        assert.ok(bodies.includes(final), 'content is one of the bodies, not a mix');
        assert.equal((await ctx.fs.stat('/race.txt')).size, final.length);
      });
    });

    describe('folders and removal', function () {
      it('creates folders; refuses existing paths and missing parents', async function () {
        const e = await ctx.fs.mkdir('/f');
        assert.equal(e.type, 'dir');
        assert.equal(e.path, '/f');
        await expectError(ctx.fs.mkdir('/f'), AlreadyExistsError, 'mkdir existing');
        await put(ctx.fs, '/file', 'x');
        await expectError(ctx.fs.mkdir('/file'), AlreadyExistsError, 'mkdir over a file');
        await expectError(ctx.fs.mkdir('/missing/child'), ConflictError, 'mkdir without parent');
      });

      it('removes files and whole trees', async function () {
        await ctx.fs.mkdir('/t');
        await ctx.fs.mkdir('/t/u');
        await put(ctx.fs, '/t/u/x', 'x');
        await put(ctx.fs, '/y', 'y');
        await ctx.fs.remove('/y');
        assert.equal(await exists(ctx.fs, '/y'), false);
        await ctx.fs.remove('/t');
        assert.equal(await exists(ctx.fs, '/t'), false);
        assert.equal(await exists(ctx.fs, '/t/u/x'), false);
        assert.deepEqual(await ctx.fs.list('/'), []);
      });

      it('changes the ETag of every ancestor when something below changes', async function () {
        await ctx.fs.mkdir('/p');
        await ctx.fs.mkdir('/p/q');
        await put(ctx.fs, '/p/q/f.txt', 'one');
        const tags = async () => Promise.all(['/', '/p', '/p/q'].map(async (p) => (await ctx.fs.stat(p)).etag));
        let before = await tags();
        await put(ctx.fs, '/p/q/f.txt', 'two');
        let after = await tags();
        after.forEach((t, i) => assert.notEqual(t, before[i], `ancestor #${i} after overwrite`));
        before = after;
        await put(ctx.fs, '/p/q/g.txt', 'new');
        after = await tags();
        after.forEach((t, i) => assert.notEqual(t, before[i], `ancestor #${i} after create`));
        before = after;
        await ctx.fs.remove('/p/q/g.txt');
        after = await tags();
        after.forEach((t, i) => assert.notEqual(t, before[i], `ancestor #${i} after remove`));
      });

      it('shows its own changes at once in list() and stat() (no stale entries)', async function () {
        await ctx.fs.mkdir('/fresh');
        assert.deepEqual(await ctx.fs.list('/fresh'), []);
        const w1 = await put(ctx.fs, '/fresh/f.txt', 'one');
        let listed = await ctx.fs.list('/fresh');
        assert.deepEqual(listed.map((e) => [e.name, e.size, e.etag]), [['f.txt', 3, w1.entry.etag]]);
        const w2 = await put(ctx.fs, '/fresh/f.txt', 'three');
        listed = await ctx.fs.list('/fresh');
        assert.deepEqual(listed.map((e) => [e.name, e.size, e.etag]), [['f.txt', 5, w2.entry.etag]]);
        assert.equal((await ctx.fs.stat('/fresh/f.txt')).etag, w2.entry.etag);
        await ctx.fs.remove('/fresh/f.txt');
        assert.deepEqual(await ctx.fs.list('/fresh'), []);
        await expectError(ctx.fs.stat('/fresh/f.txt'), NotFoundError, 'stat after remove');
      });

      it('gives different entries different file ids', async function () {
        const a = await put(ctx.fs, '/a', 'a');
        const b = await put(ctx.fs, '/b', 'b');
        const d = await ctx.fs.mkdir('/d');
        assert.equal(new Set([a.entry.fileId, b.entry.fileId, d.fileId, (await ctx.fs.stat('/')).fileId]).size, 4);
      });
    });

    runAbilityContract(ctx);
  });
}
