/**
 * The mount cache's disk tier outlives a clean restart of the receiving node: a file read before
 * the restart is served after it without asking the sender for its bytes again (a real node over
 * an independent WebDAV server behind a counting proxy).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Perm } from '../../src/fs/types.js';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { PASSWORD } from '../ocm/mesh.js';
import { startProxy, startWebdavServer } from './support.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('mounts: the content cache across a restart', function () {
  this.timeout(60_000);

  it('serves a file read before a clean restart from its disk cache after it, asking the sender for no byte', async () => {
    const srv = await startWebdavServer();
    const proxy = await startProxy(srv.url);
    const dataDir = tempDir('cache-restart-');
    const config = { dataDir, cache: { chunkBytes: 1 * MiB, memoryBytes: 0 } };
    let b: TestNode | undefined;
    try {
      const data = randomBytes(6 * MiB + 4321); // six full chunks (slot files) and a partial one (a file of its own)
      writeFileSync(join(srv.dir, 'kept.bin'), data);
      b = await startTestNode(config, { keepData: true });
      await b.services.users.add({ name: 'marie', password: PASSWORD });
      await b.services.mounts.mount({
        user: 'marie', name: 'lab', url: proxy.url, auth: { kind: 'none' }, permissions: Perm.READ,
        origin: { shareId: 'lab', owner: 'x@elsewhere', provider: new URL(proxy.url).host },
      });
      const get = async () => {
        const res = await fetch(`${b!.url}/remote.php/dav/files/marie/Shares/lab/kept.bin`, {
          headers: { authorization: 'Basic ' + Buffer.from(`marie:${PASSWORD}`).toString('base64') },
        });
        assert.equal(res.status, 200);
        return Buffer.from(await res.arrayBuffer());
      };
      const contentGets = () => proxy.requests.filter((r) => r.startsWith('GET /kept.bin')).length;
      assert.equal(sha(await get()), sha(data));
      assert.ok(contentGets() >= 1);
      await b.services.mounts.refill.idle();
      await b.services.mounts.store.quiet(); // every chunk written
      await b.stop();

      b = await startTestNode(config, { keepData: true });
      assert.equal(b.services.mounts.store.restored, 7, 'every chunk was taken back');
      const before = contentGets();
      assert.equal(sha(await get()), sha(data));
      assert.equal(contentGets(), before, 'no byte was fetched again');
    } finally {
      await b?.stop();
      await proxy.close();
      await srv.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
