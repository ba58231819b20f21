/**
 * Users' own quotas (LocalStorage.setQuota, the admin endpoint, `meshdav user quota`): set on a
 * running node they apply at once; set on a stopped node's data directory they apply from its
 * next start; `default` goes back to the node's `quotaBytes`.
 */
import assert from 'node:assert/strict';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { runCli } from '../cli/support.js';
import { cli, startChildNode, type ChildNode } from '../hardening/child-node.js';
import { parseQuota } from '../../src/cli/user.js';

const PASSWORD = 'quota test password';
const auth = (user: string) => 'Basic ' + Buffer.from(`${user}:${PASSWORD}`).toString('base64');

/** The CLI as a user runs it (test/cli/support.ts). */
const meshdav = (args: string[], input = '') => runCli(args, { input });

async function put(url: string, user: string, path: string, bytes: number): Promise<number> {
  const res = await fetch(`${url}/remote.php/dav/files/${user}${path}`, { method: 'PUT', headers: { authorization: auth(user) }, body: Buffer.alloc(bytes, 1) });
  await res.arrayBuffer();
  return res.status;
}

describe('users\' own quotas', function () {
  this.timeout(60_000);

  describe('on a running node (admin endpoint)', () => {
    let n: TestNode;
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${n.url}/admin/users${path}`, { method, headers: { authorization: `Bearer ${n.config.loopbackSecret}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    before(async () => {
      n = await startTestNode({ quotaBytes: 10_000 });
      for (const name of ['alice', 'bob']) await n.services.users.add({ name, password: PASSWORD });
    });
    after(() => n?.stop());

    it('applies a user\'s own quota at once, to that user only, and goes back to the node\'s with default', async () => {
      const set = await admin('PUT', '/alice/quota', { quotaBytes: 1000 });
      assert.equal(set.status, 200);
      assert.deepEqual(await set.json(), { quotaBytes: 1000, own: true, usedBytes: 0 });
      assert.equal(await put(n.url, 'alice', '/big.bin', 2000), 507);
      assert.equal(await put(n.url, 'alice', '/small.bin', 600), 201);
      assert.equal(await put(n.url, 'bob', '/big.bin', 2000), 201, 'bob has the node\'s 10,000 bytes');
      const props = await fetch(`${n.url}/remote.php/dav/files/alice/`, {
        method: 'PROPFIND',
        headers: { authorization: auth('alice'), depth: '0', 'content-type': 'application/xml' },
        body: '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:quota-available-bytes/><d:quota-used-bytes/></d:prop></d:propfind>',
      });
      assert.match(await props.text(), /<d:quota-available-bytes>400<\/d:quota-available-bytes>/);
      assert.deepEqual(await (await admin('GET', '/alice/quota')).json(), { quotaBytes: 1000, own: true, usedBytes: 600 });

      // Unlimited for alice, whatever the node's quota.
      assert.deepEqual(await (await admin('PUT', '/alice/quota', { quotaBytes: null })).json(), { quotaBytes: null, own: true, usedBytes: 600 });
      assert.equal(await put(n.url, 'alice', '/huge.bin', 20_000), 201);
      // Back to the node's 10,000: over it now, so the next write is refused.
      assert.deepEqual(await (await admin('PUT', '/alice/quota', { quotaBytes: 'default' })).json(), { quotaBytes: 10_000, own: false, usedBytes: 20_600 });
      assert.equal(await put(n.url, 'alice', '/more.bin', 10), 507);
    });

    it('refuses bad quotas and unknown users', async () => {
      assert.equal((await admin('PUT', '/alice/quota', { quotaBytes: -1 })).status, 400);
      assert.equal((await admin('PUT', '/alice/quota', { quotaBytes: '10GB' })).status, 400);
      assert.equal((await admin('PUT', '/nobody/quota', { quotaBytes: 5 })).status, 404);
      assert.equal((await admin('GET', '/nobody/quota')).status, 404);
    });
  });

  describe('meshdav user quota', () => {
    let node: ChildNode | undefined;
    after(() => node?.stop());

    it('reads sizes with units, none and default', () => {
      assert.equal(parseQuota('1048576'), 1048576);
      assert.equal(parseQuota('500MB'), 500e6);
      assert.equal(parseQuota('10 GiB'), 10 * 2 ** 30);
      assert.equal(parseQuota('1.5k'), 1500);
      assert.equal(parseQuota('none'), null);
      assert.equal(parseQuota('default'), 'default');
      assert.throws(() => parseQuota('lots'), /not a size/);
      assert.throws(() => parseQuota('5 parsecs'), /not a size/);
    });

    it('sets a quota on a stopped node\'s data directory, in force from its next start', async () => {
      const dir = tempDir('user-quota-');
      await cli(['user', 'add', 'ada', '--password-stdin', '--data', dir], PASSWORD + '\n');
      const set = await meshdav(['user', 'quota', 'ada', '1KB', '--data', dir]);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /ada: quota 1000 bytes \(own\), 0 bytes used/);
      assert.equal((await meshdav(['user', 'quota', 'ada', 'lots', '--data', dir])).code, 2);
      assert.equal((await meshdav(['user', 'quota', 'nobody', '1KB', '--data', dir])).code, 5);
      node = await startChildNode(dir);
      assert.equal(await put(node.url, 'ada', '/big.bin', 2000), 507);
      assert.equal(await put(node.url, 'ada', '/ok.bin', 900), 201);
      // Through the running node now.
      const shown = await meshdav(['user', 'quota', 'ada', '--json', '--data', dir]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.deepEqual(JSON.parse(shown.stdout), { quotaBytes: 1000, own: true, usedBytes: 900 });
      assert.equal((await meshdav(['user', 'quota', 'ada', 'none', '--data', dir])).code, 0);
      assert.equal(await put(node.url, 'ada', '/big.bin', 2000), 201);
    });
  });
});
