/**
 * cadaver: a scripted session (commands on stdin, credentials from ~/.netrc in a temporary
 * HOME) — mkcol, put, ls, get, copy, move, propset/propget, lock/unlock, delete — then the
 * results checked both in cadaver's output and on the server.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needTool } from '../support/tools.js';
import { tempDir } from '../support/node.js';
import { describeRun, randomFile, run, sha256, sha256File, startSiteWithUser, type ClientSite } from './support.js';

describe('real client: cadaver (scripted session)', function () {
  this.timeout(60_000);
  let site: ClientSite;
  let dir: string;
  let auth: string;
  let out = '';
  let bigHash: string;
  const note = 'a small note from cadaver\n';

  before(async function () {
    needTool(this, 'cadaver');
    site = await startSiteWithUser('carla');
    auth = 'Basic ' + Buffer.from(`${site.user}:${site.password}`).toString('base64');
    dir = tempDir('cadaver-');
    const home = join(dir, 'home');
    mkdirSync(home);
    writeFileSync(join(home, '.netrc'), `machine 127.0.0.1\nlogin ${site.user}\npassword ${site.password}\n`, { mode: 0o600 });
    bigHash = await randomFile(join(dir, 'big.bin'), 2 * 1024 * 1024 + 5);
    writeFileSync(join(dir, 'note.txt'), note);
    const script = [
      'mkcol docs',
      'put big.bin docs/big.bin',
      'put note.txt docs/note.txt',
      'ls docs',
      'get docs/big.bin got.bin',
      'copy docs/note.txt docs/note-copy.txt',
      'move docs/note.txt docs/renamed.txt',
      'propset docs/renamed.txt color blue',
      'propget docs/renamed.txt color',
      'lock docs/renamed.txt',
      'unlock docs/renamed.txt',
      'delete docs/note-copy.txt',
      'ls docs',
      'quit',
      '',
    ].join('\n');
    const r = await run('cadaver', [site.davUrl], { input: script, cwd: dir, env: { HOME: home }, timeoutMs: 45_000 });
    out = r.stdout + r.stderr;
    assert.equal(r.code, 0, describeRun('cadaver', r));
  });
  after(async () => {
    await site?.stop();
  });

  const get = async (path: string) => {
    const res = await fetch(site.davUrl + path, { headers: { Authorization: auth } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };

  it('reports every command as succeeded, none failed', () => {
    assert.doesNotMatch(out, /failed|error/i, out);
    for (const what of [
      "Creating `docs': succeeded",
      "Uploading big.bin to `/remote.php/dav/files/carla/docs/big.bin': [",
      "Downloading `/remote.php/dav/files/carla/docs/big.bin' to got.bin",
      "Copying `/remote.php/dav/files/carla/docs/note.txt' to `/remote.php/dav/files/carla/docs/note-copy.txt'",
      "Moving `/remote.php/dav/files/carla/docs/note.txt' to `/remote.php/dav/files/carla/docs/renamed.txt'",
      "Deleting `docs/note-copy.txt': succeeded",
    ]) {
      assert.ok(out.includes(what), `cadaver output lacks ${JSON.stringify(what)}:\n${out}`);
    }
    assert.match(out, /Value of color is: blue/, out);
    assert.match(out, /Locking `docs\/renamed\.txt': succeeded/, out);
    assert.match(out, /Unlocking `docs\/renamed\.txt': succeeded/, out);
  });

  it('lists the folder with the right names and sizes', () => {
    // The first `ls docs` shows both uploads, the last one the renamed note and big.bin only.
    const listings = out.split("Listing collection `/remote.php/dav/files/carla/docs/': succeeded.").slice(1);
    assert.equal(listings.length, 2, out);
    assert.match(listings[0]!, new RegExp(`big\\.bin\\s+${2 * 1024 * 1024 + 5}\\s`));
    assert.match(listings[0]!, new RegExp(`note\\.txt\\s+${note.length}\\s`));
    const last = listings[1]!.split('dav:/')[0]!;
    assert.match(last, /renamed\.txt/);
    assert.doesNotMatch(last, /note-copy\.txt|note\.txt/);
  });

  it('downloaded and uploaded byte-identical content', async () => {
    assert.equal(await sha256File(join(dir, 'got.bin')), bigHash);
    const big = await get('docs/big.bin');
    assert.equal(big.status, 200);
    assert.equal(sha256(big.body), bigHash);
  });

  it('left the server in the state the session asked for', async () => {
    const renamed = await get('docs/renamed.txt');
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.toString(), note);
    assert.equal((await get('docs/note.txt')).status, 404);
    assert.equal((await get('docs/note-copy.txt')).status, 404);
  });
});
