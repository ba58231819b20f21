import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { runCli, startForeignDav, type ForeignDav } from './support.js';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('meshdav client: one actionable line and a documented exit code per failure', function () {
  this.timeout(90_000);
  let node: TestNode;
  let dav: ForeignDav;
  let work: string;
  const env = { MESHDAV_USER: 'alice', MESHDAV_PASSWORD: 'secret-pw' };
  before(async () => {
    node = await startTestNode({ quotaBytes: 1000 });
    await node.services.users.add({ name: 'alice', password: 'secret-pw' });
    dav = await startForeignDav({ quotaBytes: 1000 });
    work = tempDir('cli-err-');
    writeFileSync(join(work, 'big.bin'), Buffer.alloc(5000, 1));
  });
  after(async () => {
    await Promise.all([node?.stop(), dav?.stop()]);
  });
  const home = () => `${node.url}/remote.php/dav/files/alice`;

  it('unreachable node: exit 3 and asks whether meshdav serve runs', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await runCli(['ls', `${url}/remote.php/dav/files/alice/`], { env });
    assert.equal(r.code, 3);
    assert.equal(r.stderr, `meshdav: cannot reach ${url}: connection refused — is \`meshdav serve\` running?\n`);
  });

  it('wrong password or no login: exit 4 with what to check', async () => {
    let r = await runCli(['ls', `${home()}/`], { env: { MESHDAV_USER: 'alice', MESHDAV_PASSWORD: 'wrong' } });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /^meshdav: PROPFIND http:\/\/127\.0\.0\.1:\d+\/remote\.php\/dav\/files\/alice\/: 401 Unauthorized.* — check the user name and password\n$/);
    r = await runCli(['ls', `${dav.url}/`]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /401 Unauthorized — this server needs a login: pass --user NAME with --password-stdin, set MESHDAV_USER and MESHDAV_PASSWORD, or add the host to ~\/\.netrc\n$/);
  });

  it('missing file: exit 5, no such file', async () => {
    for (const url of [`${home()}/nope.txt`, `${dav.url}/nope.txt`]) {
      const r = await runCli(['get', url, join(work, 'nope.txt')], { env });
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /^meshdav: GET .*\/nope\.txt: 404 Not Found — no such file or folder; check the path with `meshdav ls` on its folder\n$/);
    }
  });

  it('over quota: exit 7, quota exceeded', async () => {
    for (const url of [`${home()}/big.bin`, `${dav.url}/big.bin`]) {
      const r = await runCli(['put', join(work, 'big.bin'), url], { env });
      assert.equal(r.code, 7, r.stderr);
      assert.match(r.stderr, /^meshdav: PUT .*\/big\.bin: 507 Insufficient Storage — quota exceeded; delete something or ask the administrator for more space\n$/);
    }
  });

  it('a folder where a file is expected, and an existing destination: what to do instead', async () => {
    let r = await runCli(['cat', `${dav.url}/`], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^meshdav: GET http:\/\/127\.0\.0\.1:\d+\/: 405 Method Not Allowed — this is probably a folder: list it with `meshdav ls`\n$/);
    r = await runCli(['get', `${home()}/`, 'folder.out'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^meshdav: http:\/\/127\.0\.0\.1:\d+\/remote\.php\/dav\/files\/alice\/ is a folder — list it with `meshdav ls` \(get and cat fetch files\)\n$/);
    for (const name of ['x.txt', 'y.txt']) {
      r = await runCli(['put', '-', `${home()}/${name}`], { env, input: name });
      assert.equal(r.code, 0, r.stderr);
    }
    r = await runCli(['mv', `${home()}/x.txt`, 'y.txt'], { env });
    assert.equal(r.code, 6);
    assert.match(r.stderr, /^meshdav: MOVE .*\/x\.txt: 412 Precondition Failed — the destination exists; add --overwrite to replace it\n$/);
    r = await runCli(['mv', '--overwrite', `${home()}/x.txt`, 'y.txt'], { env });
    assert.equal(r.code, 0, r.stderr);
  });

  it('usage mistakes: exit 2 or 5 with the fix', async () => {
    let r = await runCli(['ls', 'example.org/files']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not a URL — give a full address like http:\/\//);
    r = await runCli(['put', join(work, 'absent.bin'), `${home()}/x`], { env });
    assert.equal(r.code, 5);
    assert.equal(r.stderr, `meshdav: no such local file: ${join(work, 'absent.bin')}\n`);
    r = await runCli(['mkdir', `${home()}/a/b/c`], { env });
    assert.equal(r.code, 6);
    assert.match(r.stderr, /409 Conflict.* — the parent folder does not exist \(create it with `meshdav mkdir -p`\)/);
  });
});
