/** WebDAV locks outlive a restart (the `dav-locks` sublevel), and expired ones do not. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { request } from 'undici';
import { LockManager } from '../../src/dav/locks.js';
import { LockStore } from '../../src/dav/lock-store.js';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';

const lockBody =
  '<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype><d:owner><d:href>mailto:a@example.org</d:href></d:owner></d:lockinfo>';

describe('DAV locks survive a restart', function () {
  this.timeout(30_000);
  const dataDir = tempDir('meshdav-locks-');
  let node: TestNode | undefined;
  const auth = 'Basic ' + Buffer.from('alice:correct horse battery').toString('base64');
  const start = async () => (node = await startTestNode({ dataDir }, { keepData: true }));
  const req = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
    const res = await request(`${node!.url}/remote.php/dav/files/alice${path}`, { method, headers: { authorization: auth, ...headers }, body });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  };

  after(async () => {
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps a lock, its owner and its refreshed timeout; the token still works and UNLOCK ends it', async () => {
    await start();
    await node!.services.users.add({ name: 'alice', password: 'correct horse battery' });
    assert.equal((await req('PUT', '/doc.txt', {}, 'v1')).status, 201);
    const locked = await req('LOCK', '/doc.txt', { timeout: 'Second-300' }, lockBody);
    assert.equal(locked.status, 200);
    const token = String(locked.headers['lock-token']).replace(/^<|>$/g, '');
    assert.equal((await req('LOCK', '/doc.txt', { if: `(<${token}>)`, timeout: 'Second-900' })).status, 200);
    await node!.stop();

    await start();
    assert.equal((await req('PUT', '/doc.txt', {}, 'v2')).status, 423, 'still locked after the restart');
    const found = await req('PROPFIND', '/doc.txt', { depth: '0' }, '<d:propfind xmlns:d="DAV:"><d:prop><d:lockdiscovery/></d:prop></d:propfind>');
    assert.ok(found.text.includes(token), found.text);
    assert.ok(found.text.includes('mailto:a@example.org'), 'the owner is kept');
    const seconds = Number(/Second-(\d+)/.exec(found.text)?.[1]);
    assert.ok(seconds > 300 && seconds <= 900, `the refreshed timeout is kept (${seconds})`);
    assert.equal((await req('PUT', '/doc.txt', { if: `(<${token}>)` }, 'v2')).status, 204);
    assert.equal((await req('UNLOCK', '/doc.txt', { 'lock-token': `<${token}>` })).status, 204);
    await node!.stop();

    await start();
    assert.equal((await req('PUT', '/doc.txt', {}, 'v3')).status, 204, 'an unlocked file stays unlocked');
  });

  it('drops locks that expired while the node was down, in memory and on disk', async () => {
    const dir = tempDir('meshdav-lockstore-');
    const db = new Level<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' });
    try {
      let now = 1_000_000;
      const first = new LockManager(() => now);
      const store = new LockStore(db);
      await first.attach(store);
      const short = first.create('home:alice', { root: '/a.txt', scope: 'exclusive', depth: 0, owner: '', timeout: 10 });
      const long = first.create('home:alice', { root: '/b', scope: 'shared', depth: 'infinity', owner: '<d:href>x</d:href>', timeout: 3600 });
      await store.drain();

      now += 60_000;
      const second = new LockManager(() => now);
      await second.attach(new LockStore(db));
      assert.equal(second.get('home:alice', short.token), undefined);
      assert.deepEqual(second.get('home:alice', long.token), JSON.parse(JSON.stringify(long)));
      assert.ok(second.tokenCovers('home:alice', long.token, '/b/c/d.txt'), 'depth infinity is kept');
      assert.deepEqual((await db.sublevel('dav-locks').keys().all()).length, 1, 'the expired lock is deleted on disk');
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
