/**
 * `meshdav put -r` and `get -r`: whole folders, against a meshdav node and a foreign WebDAV
 * server (webdav-server v2), through the CLI as a user runs it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { runCli, startForeignDav, type ForeignDav } from './support.js';

/** Every file below `dir` (relative path → content), and every folder (relative path → null). */
function tree(dir: string, base = dir, out = new Map<string, string | null>()): Map<string, string | null> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      out.set(relative(base, p), null);
      tree(p, base, out);
    } else out.set(relative(base, p), readFileSync(p, 'utf8'));
  }
  return out;
}

function makeTree(root: string): void {
  mkdirSync(join(root, 'data', 'raw'), { recursive: true });
  mkdirSync(join(root, 'empty'), { recursive: true });
  writeFileSync(join(root, 'README.md'), '# results\n');
  writeFileSync(join(root, 'data', 'raw', 'run 1.csv'), 'a,b\n1,2\n');
  writeFileSync(join(root, 'data', 'summary ünïcode.txt'), 'ok');
}

describe('meshdav put -r / get -r (whole folders)', function () {
  this.timeout(60_000);
  let node: TestNode;
  let dav: ForeignDav;
  before(async () => {
    node = await startTestNode();
    await node.services.users.add({ name: 'alice', password: 'secret-pw' });
    dav = await startForeignDav();
  });
  after(async () => {
    await node?.stop();
    await dav?.stop();
  });
  const env = { MESHDAV_USER: 'alice', MESHDAV_PASSWORD: 'secret-pw' };

  for (const server of ['meshdav', 'webdav-server'] as const) {
    it(`uploads a folder into a folder URL and downloads it back, the same tree (${server})`, async () => {
      const base = server === 'meshdav' ? `${node.url}/remote.php/dav/files/alice` : dav.url;
      const work = tempDir('cli-tree-');
      const local = join(work, 'results');
      makeTree(local);
      let r = await runCli(['put', '-r', local, `${base}/`, '--json'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as Array<{ url: string }>).map((f) => decodeURIComponent(new URL(f.url).pathname.split('/results/')[1]!)).sort(),
        ['README.md', 'data/raw/run 1.csv', 'data/summary ünïcode.txt']);
      if (server === 'webdav-server') assert.deepEqual(tree(join(dav.dir, 'results')), tree(local));
      const back = join(work, 'back');
      r = await runCli(['get', '-r', `${base}/results/`, back], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(tree(back), tree(local));
      // Again: existing files are refused unless resumed (--continue: complete ones stay) or replaced.
      r = await runCli(['get', '-r', `${base}/results/`, back], { env });
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /already exists — use --continue/);
      r = await runCli(['get', '-r', '--continue', `${base}/results/`, back], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(tree(back), tree(local));
      // put -r onto an existing tree replaces the files.
      writeFileSync(join(local, 'README.md'), '# results, v2\n');
      r = await runCli(['put', '-r', local, `${base}/results`], { env });
      assert.equal(r.code, 0, r.stderr);
      r = await runCli(['cat', `${base}/results/README.md`], { env });
      assert.equal(r.stdout, '# results, v2\n');
    });
  }

  it('says what is wrong: a file given to -r, a folder given without it', async () => {
    const work = tempDir('cli-tree-');
    writeFileSync(join(work, 'one.txt'), '1');
    const base = `${node.url}/remote.php/dav/files/alice`;
    let r = await runCli(['put', '-r', join(work, 'one.txt'), `${base}/`], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not a local folder/);
    r = await runCli(['put', work, `${base}/`], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /put -r uploads a folder/);
    assert.equal((await runCli(['put', join(work, 'one.txt'), `${base}/one.txt`], { env })).code, 0);
    r = await runCli(['get', '-r', `${base}/one.txt`, join(work, 'x')], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is a file — get it without -r/);
  });
});
