/**
 * End to end on a real node: a client that disconnects in the middle of a WebDAV PUT leaves the
 * old content, no partial file and no temporary file (the storage side of "no upload left
 * half-visible").
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestNode, type TestNode } from '../support/node.js';
import { put, readText, exists } from '../contract/fs-helpers.js';

describe('storage under a real node', function () {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
    await node.services.users.add({ name: 'alice', password: 'correct horse' });
  });
  after(async () => {
    await node?.stop();
  });

  function cutUpload(path: string, total: number, sendBytes: number): Promise<void> {
    const url = new URL(`/remote.php/dav/files/alice${path}`, node.url);
    return new Promise((resolve) => {
      const req = http.request(url, {
        method: 'PUT',
        headers: { 'content-length': total, authorization: 'Basic ' + Buffer.from('alice:correct horse').toString('base64') },
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(sendBytes, 7), () => {
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 100);
      });
    });
  }

  it('stores a complete PUT (the route under test is live)', async function () {
    const res = await fetch(new URL('/remote.php/dav/files/alice/whole.txt', node.url), {
      method: 'PUT',
      body: 'whole',
      headers: { authorization: 'Basic ' + Buffer.from('alice:correct horse').toString('base64') },
    });
    assert.ok(res.status === 201 || res.status === 204, `status ${res.status}`);
    assert.equal(await readText(await node.services.storage.home('alice'), '/whole.txt'), 'whole');
  });

  it('keeps the old content when a PUT is cut mid-body', async function () {
    const home = await node.services.storage.home('alice');
    await put(home, '/doc.bin', 'old content');
    const before = await home.stat('/doc.bin');
    await cutUpload('/doc.bin', 8 * 1024 * 1024, 3 * 1024 * 1024);
    await cutUpload('/new.bin', 8 * 1024 * 1024, 1024 * 1024);
    // The server notices the cut asynchronously; on a saturated machine that can take seconds.
    for (let i = 0; i < 200 && (await readdir(join(node.dataDir, 'uploads'))).length; i++) await sleep(50);
    assert.deepEqual(await readdir(join(node.dataDir, 'uploads')), [], 'temporary files removed');
    assert.equal(await readText(home, '/doc.bin'), 'old content');
    assert.equal((await home.stat('/doc.bin')).etag, before.etag);
    assert.equal(await exists(home, '/new.bin'), false);
  });
});
