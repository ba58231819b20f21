/** Symlinks are never followed, user names are validated, failed writes leave nothing behind. */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadRequestError, ForbiddenError } from '../../src/errors.js';
import { expectError, failingBody, put, readText } from '../contract/fs-helpers.js';
import { tempDir } from '../support/node.js';
import { openTestStorage, type TestStorage } from './storage-fixture.js';

describe('LocalFs safety', function () {
  let t: TestStorage;
  let outside: string;
  beforeEach(async () => {
    t = await openTestStorage();
    outside = tempDir('meshdav-outside-');
    await writeFile(join(outside, 'secret.txt'), 'top secret');
  });
  afterEach(async () => {
    await t.close();
    await rm(t.dataDir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('refuses paths through a symlink that points outside, and never lists it', async function () {
    const fs = await t.storage.home('alice');
    const home = join(t.dataDir, 'files', 'alice');
    await symlink(outside, join(home, 'escape'));
    await symlink(join(outside, 'secret.txt'), join(home, 'link.txt'));
    await put(fs, '/normal.txt', 'n');
    assert.deepEqual((await fs.list('/')).map((e) => e.name), ['normal.txt']);
    await expectError(fs.stat('/escape'), ForbiddenError, 'stat dir link');
    await expectError(fs.list('/escape'), ForbiddenError, 'list dir link');
    await expectError(fs.stat('/escape/secret.txt'), ForbiddenError, 'stat through link');
    await expectError(fs.openRead('/escape/secret.txt'), ForbiddenError, 'read through link');
    await expectError(fs.openRead('/link.txt'), ForbiddenError, 'read file link');
    await expectError(put(fs, '/escape/new.txt', 'x'), ForbiddenError, 'write through link');
    await expectError(put(fs, '/link.txt', 'x'), ForbiddenError, 'overwrite a link');
    await expectError(fs.mkdir('/escape/d'), ForbiddenError, 'mkdir through link');
    await expectError(fs.move('/escape/secret.txt', '/stolen.txt', { overwrite: false }), ForbiddenError, 'move through link');
    await expectError(fs.copy('/escape', '/copied', { overwrite: false }), ForbiddenError, 'copy a link');
    assert.deepEqual((await readdir(outside)).sort(), ['secret.txt']);
    assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), 'top secret');
  });

  it('does not copy symlinks found inside a copied folder', async function () {
    const fs = await t.storage.home('alice');
    await fs.mkdir('/d');
    await put(fs, '/d/ok.txt', 'ok');
    await symlink(outside, join(t.dataDir, 'files', 'alice', 'd', 'escape'));
    await fs.copy('/d', '/d2', { overwrite: false });
    assert.deepEqual((await readdir(join(t.dataDir, 'files', 'alice', 'd2'))).sort(), ['ok.txt']);
  });

  it('refuses a home that is itself a symlink', async function () {
    await mkdir(join(t.dataDir, 'files'), { recursive: true });
    await symlink(outside, join(t.dataDir, 'files', 'mallory'));
    const fs = await t.storage.home('mallory');
    await expectError(fs.list('/'), ForbiddenError, 'list');
    await expectError(put(fs, '/x', 'x'), ForbiddenError, 'write');
  });

  it('validates user names', async function () {
    for (const bad of ['', '..', '../x', 'a/b', 'a:b', '.hidden', 'x'.repeat(65), 'nul\u0000']) {
      await expectError(t.storage.home(bad), BadRequestError, JSON.stringify(bad));
    }
  });

  it('leaves the old content, no partial file and no temporary file after an interrupted write', async function () {
    const fs = await t.storage.home('alice');
    await put(fs, '/doc.txt', 'version one');
    const before = await fs.stat('/doc.txt');
    await assert.rejects(fs.write('/doc.txt', failingBody(Buffer.alloc(3 * 1024 * 1024, 1))), BadRequestError);
    assert.equal(await readText(fs, '/doc.txt'), 'version one');
    assert.deepEqual(await fs.stat('/doc.txt'), before);
    assert.deepEqual(await readdir(join(t.dataDir, 'uploads')), []);
    assert.deepEqual(await readdir(join(t.dataDir, 'files', 'alice')), ['doc.txt']);
  });

  it('drops leftovers of writes cut by a crash when it opens', async function () {
    await writeFile(join(t.dataDir, 'uploads', 'stale-upload'), 'half');
    await t.close();
    t = await openTestStorage({ dataDir: t.dataDir });
    assert.deepEqual(await readdir(join(t.dataDir, 'uploads')), []);
  });
});
