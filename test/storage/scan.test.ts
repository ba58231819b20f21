/** scan(): reconciling metadata after files were added, changed and removed behind meshdav's back. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NotFoundError } from '../../src/errors.js';
import { put, sha1 } from '../contract/fs-helpers.js';
import { startTestNode } from '../support/node.js';
import { openTestStorage, type TestStorage } from './storage-fixture.js';

describe('LocalStorage.scan', function () {
  let t: TestStorage;
  beforeEach(async () => {
    t = await openTestStorage();
  });
  afterEach(async () => {
    await t.close().catch(() => undefined);
    await rm(t.dataDir, { recursive: true, force: true });
  });

  it('adopts, updates and forgets out-of-band changes and propagates ETags and sizes', async function () {
    const fs = await t.storage.home('alice');
    const home = join(t.dataDir, 'files', 'alice');
    await fs.mkdir('/docs');
    await fs.mkdir('/docs/deep');
    const kept = await put(fs, '/docs/kept.txt', 'kept');
    const edited = await put(fs, '/docs/deep/edited.txt', 'before');
    await put(fs, '/gone.txt', 'gone');
    const tags = async () => Promise.all(['/', '/docs', '/docs/deep'].map(async (p) => (await fs.stat(p)).etag));
    const before = await tags();

    await appendFile(join(home, 'docs', 'deep', 'edited.txt'), ' and after');
    await writeFile(join(home, 'docs', 'added.txt'), 'added');
    await mkdir(join(home, 'newdir'));
    await writeFile(join(home, 'newdir', 'inner.txt'), 'inner');
    await rm(join(home, 'gone.txt'));
    await symlink('/etc', join(home, 'etc-link'));

    const report = await t.storage.scan('alice');
    const paths = (l: { path: string }[]) => l.map((c) => c.path).sort();
    assert.deepEqual(paths(report.added), ['/docs/added.txt', '/newdir', '/newdir/inner.txt']);
    assert.deepEqual(paths(report.changed), ['/docs/deep/edited.txt']);
    assert.deepEqual(paths(report.removed), ['/gone.txt']);
    assert.deepEqual(paths(report.skipped), ['/etc-link']);

    const e = await fs.stat('/docs/deep/edited.txt');
    assert.equal(e.fileId, edited.entry.fileId, 'a changed file keeps its id');
    assert.notEqual(e.etag, edited.entry.etag);
    assert.equal(e.size, 'before and after'.length);
    assert.equal(e.checksums?.sha1, sha1('before and after'));
    assert.equal((await fs.stat('/docs/added.txt')).checksums?.sha1, sha1('added'));
    assert.equal((await fs.stat('/docs/kept.txt')).etag, kept.entry.etag, 'untouched files keep their ETag');
    const after = await tags();
    after.forEach((tag, i) => assert.notEqual(tag, before[i], `ancestor #${i}`));
    assert.equal((await fs.stat('/')).size, 'kept'.length + 'before and after'.length + 'added'.length + 'inner'.length);
    assert.deepEqual((await fs.list('/')).map((x) => x.name).sort(), ['docs', 'newdir']);

    const again = await t.storage.scan('alice');
    assert.deepEqual([again.added, again.changed, again.removed], [[], [], []], 'a second scan finds nothing');
  });

  it('forgets a whole folder removed behind its back, and a folder replaced by a file', async function () {
    const fs = await t.storage.home('alice');
    const home = join(t.dataDir, 'files', 'alice');
    await fs.mkdir('/tree');
    await fs.mkdir('/tree/sub');
    const deep = await put(fs, '/tree/sub/deep.txt', 'deep');
    await fs.mkdir('/swap');
    await put(fs, '/swap/inner.txt', 'inner');
    await rm(join(home, 'tree'), { recursive: true });
    await rm(join(home, 'swap'), { recursive: true });
    await writeFile(join(home, 'swap'), 'now a file');
    const report = await t.storage.scan('alice');
    assert.deepEqual(report.removed.map((c) => c.path).sort(), ['/swap', '/tree']);
    assert.deepEqual(report.added.map((c) => c.path), ['/swap']);
    await assert.rejects(fs.pathById(deep.entry.fileId), NotFoundError);
    assert.equal((await fs.stat('/swap')).type, 'file');
    assert.equal((await fs.stat('/')).size, 'now a file'.length);
  });

  it('never reports a stale size from stat() for a file edited outside meshdav', async function () {
    const fs = await t.storage.home('alice');
    await fs.mkdir('/d');
    const w = await put(fs, '/d/f.txt', 'short');
    const parentTag = (await fs.stat('/d')).etag;
    await appendFile(join(t.dataDir, 'files', 'alice', 'd', 'f.txt'), ' and longer');
    const st = await fs.stat('/d/f.txt');
    assert.equal(st.size, 'short and longer'.length);
    assert.notEqual(st.etag, w.entry.etag);
    assert.equal(st.fileId, w.entry.fileId);
    assert.equal(st.checksums, undefined, 'old checksums are not reported for new content');
    assert.notEqual((await fs.stat('/d')).etag, parentTag);
    assert.equal((await fs.list('/d'))[0]!.size, st.size, 'list agrees with stat');
    assert.equal((await fs.stat('/')).size, st.size);
    await t.storage.scan('alice');
    assert.equal((await fs.stat('/d/f.txt')).checksums?.sha1, sha1('short and longer'));
  });

  it('notices a changed mtime with the same size', async function () {
    const fs = await t.storage.home('alice');
    const { entry } = await put(fs, '/same.txt', 'abc', { mtime: 1_000_000 });
    await writeFile(join(t.dataDir, 'files', 'alice', 'same.txt'), 'xyz');
    await utimes(join(t.dataDir, 'files', 'alice', 'same.txt'), 5000, 5000);
    const report = await t.storage.scan();
    assert.deepEqual(report.changed.map((c) => c.path), ['/same.txt']);
    const st = await fs.stat('/same.txt');
    assert.notEqual(st.etag, entry.etag);
    assert.equal(st.checksums?.sha1, sha1('xyz'));
    assert.equal(st.mtime, 5_000_000);
  });

  it('runs as `meshdav scan --data DIR --user U` and prints the report', async function () {
    await mkdir(join(t.dataDir, 'files', 'carol', 'sub'), { recursive: true });
    await writeFile(join(t.dataDir, 'files', 'carol', 'sub', 'c.txt'), 'c');
    await t.close();
    const dataDir = t.dataDir;
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/meshdav.js', 'scan', '--data', dataDir, '--user', 'carol'], {
      env: { ...process.env, MESHDAV_QUOTA_BYTES: '' },
    });
    assert.match(stdout, /scanned 1 user\(s\): 1 file\(s\), 2 folder\(s\)/);
    assert.match(stdout, /carol:\/sub\/c\.txt/);
    t = await openTestStorage({ dataDir });
    assert.equal((await (await t.storage.home('carol')).stat('/sub/c.txt')).checksums?.sha1, sha1('c'));
  });

  it('goes through the running node when it holds the database', async function () {
    await t.close();
    const node = await startTestNode({ dataDir: t.dataDir }, { keepData: true });
    try {
      await mkdir(join(t.dataDir, 'files', 'dave'), { recursive: true });
      await writeFile(join(t.dataDir, 'files', 'dave', 'd.txt'), 'd');
      const { stdout } = await promisify(execFile)(process.execPath, ['bin/meshdav.js', 'scan', '--data', t.dataDir, '--user', 'dave', '--json']);
      const report = JSON.parse(stdout) as { added: { path: string }[] };
      assert.deepEqual(report.added.map((a) => a.path).sort(), ['/', '/d.txt']);
      assert.equal((await (await node.services.storage.home('dave')).stat('/d.txt')).checksums?.sha1, sha1('d'));
      const refused = await fetch(new URL('/admin/scan', node.url), { method: 'POST', headers: { authorization: 'Bearer wrong' } });
      assert.equal(refused.status, 401);
    } finally {
      await node.stop();
      t = await openTestStorage({ dataDir: t.dataDir });
    }
  });
});
