/**
 * nextcloudcmd (the Nextcloud desktop client's command-line sync, Debian
 * nextcloud-desktop-cmd): a two-way sync of a local folder with a user's home. First run
 * uploads; then one edit on each side (and a new file and a delete); a second run must leave
 * both sides with the same names and the same bytes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createClient, type FileStat, type WebDAVClient } from 'webdav';
import { needTool } from '../support/tools.js';
import { tempDir } from '../support/node.js';
import { describeRun, randomFile, run, sha256, startSiteWithUser, type ClientSite } from './support.js';

/** Every file below `root` (relative path → sha256), skipping nextcloudcmd's own journal files. */
function localTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.sync_') || e.name.startsWith('._sync_') || e.name === '.owncloudsync.log') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(root, p), sha256(readFileSync(p)));
    }
  };
  walk(root);
  return out;
}

/** Every file in the user's home (relative path → sha256), walked with Depth 1 PROPFINDs. */
async function remoteTree(client: WebDAVClient): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const e of (await client.getDirectoryContents(d)) as FileStat[]) {
      if (e.type === 'directory') await walk(e.filename);
      else out.set(e.filename.replace(/^\//, ''), sha256((await client.getFileContents(e.filename)) as Buffer));
    }
  };
  await walk('/');
  return out;
}

describe('real client: nextcloudcmd (two-way sync)', function () {
  this.timeout(180_000);
  let site: ClientSite;
  let dir: string;
  let local: string;
  let exclude: string;
  let client: WebDAVClient;

  const sync = async () => {
    const r = await run(
      'nextcloudcmd',
      ['--non-interactive', '--max-sync-retries', '1', '--exclude', exclude, '-u', site.user, '-p', site.password, local, site.url],
      { env: { HOME: join(dir, 'home'), QT_QPA_PLATFORM: 'offscreen' }, timeoutMs: 120_000 },
    );
    assert.equal(r.code, 0, describeRun('nextcloudcmd', r));
    return r;
  };

  before(async function () {
    needTool(this, 'nextcloudcmd');
    site = await startSiteWithUser('nina');
    client = createClient(site.davUrl, { username: site.user, password: site.password });
    dir = tempDir('nextcloudcmd-');
    mkdirSync(join(dir, 'home'));
    exclude = join(dir, 'exclude.lst');
    writeFileSync(exclude, '*~\n.#*\n*.part\n');
    local = join(dir, 'local');
    mkdirSync(join(local, 'sub folder', 'deep'), { recursive: true });
    await randomFile(join(local, 'big.bin'), 3 * 1024 * 1024 + 1);
    // Over the client's 10 MB chunk size: uploaded in chunks (chunking NG, as the capabilities
    // offer: MKCOL and PUTs under /remote.php/dav/uploads, then MOVE .file to assemble).
    await randomFile(join(local, 'sub folder', 'large.bin'), 25 * 1024 * 1024 + 3);
    writeFileSync(join(local, 'a.txt'), 'version 1 of a\n');
    writeFileSync(join(local, 'sub folder', 'c ü.txt'), 'c, first\n');
    writeFileSync(join(local, 'sub folder', 'deep', 'gone-later.txt'), 'to be deleted locally\n');
  });
  after(async () => {
    await site?.stop();
  });

  it('uploads a local folder on the first run, the large file in chunks (chunking NG: /remote.php/dav/uploads) and the small ones in bulk (/remote.php/dav/bulk)', async () => {
    await sync();
    assert.deepEqual(await remoteTree(client), localTree(local));
    const logged = site.node.logLines.map((l) => JSON.parse(l) as { msg?: string; method?: string; path?: string; status?: number }).filter((l) => l.msg === 'request');
    const bulk = logged.filter((l) => l.path === '/remote.php/dav/bulk');
    assert.ok(bulk.length >= 1 && bulk.every((l) => l.method === 'POST' && l.status === 200), `small files went up in bulk: ${JSON.stringify(bulk)}`);
    const requests = logged.filter((l) => l.path?.startsWith('/remote.php/dav/uploads/'));
    const puts = requests.filter((l) => l.method === 'PUT' && l.status === 201);
    const assembled = requests.filter((l) => l.method === 'MOVE' && l.path!.endsWith('/.file'));
    assert.ok(puts.length >= 2, `large.bin went up in chunks: ${JSON.stringify(requests)}`);
    assert.deepEqual(assembled.map((l) => l.status), [201], 'and was assembled once');
  });

  it('carries an edit on each side (plus a new file and a delete) on the second run', async () => {
    // Server side: edit a.txt, add a new file in a subfolder.
    await client.putFileContents('/a.txt', 'version 2 of a, edited on the server\n');
    await client.putFileContents('/sub folder/from-server.txt', 'created on the server\n');
    // Local side: edit c ü.txt (size and mtime change), add a file, delete one. (An mtime in
    // the future would make the client refuse the file as "changed during sync".)
    writeFileSync(join(local, 'sub folder', 'c ü.txt'), 'c, edited locally and longer\n');
    writeFileSync(join(local, 'local-new.txt'), 'created locally\n');
    rmSync(join(local, 'sub folder', 'deep', 'gone-later.txt'));

    await sync();

    assert.equal(readFileSync(join(local, 'a.txt'), 'utf8'), 'version 2 of a, edited on the server\n');
    assert.equal(readFileSync(join(local, 'sub folder', 'from-server.txt'), 'utf8'), 'created on the server\n');
    assert.equal(await client.getFileContents('/sub folder/c ü.txt', { format: 'text' }), 'c, edited locally and longer\n');
    assert.equal(await client.getFileContents('/local-new.txt', { format: 'text' }), 'created locally\n');
    assert.equal(await client.exists('/sub folder/deep/gone-later.txt'), false);
    const remote = await remoteTree(client);
    const here = localTree(local);
    assert.deepEqual(remote, here);
    assert.equal(here.size, 6);
    assert.ok(statSync(join(local, 'sub folder', 'deep')).isDirectory());
  });

  it('changes nothing on a third run with no edits', async () => {
    const before = await remoteTree(client);
    await sync();
    assert.deepEqual(await remoteTree(client), before);
    assert.deepEqual(localTree(local), before);
  });
});
