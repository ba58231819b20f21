/**
 * Bad input on the EFSS API beyond the replayed records (fixtures/efss/bad-input.json): symlinks
 * under dataDir pointing outside it, oversized and malformed bodies on every area, a flood of
 * bad requests — each a 4xx with a JSON reason, nothing changed, and the node keeps serving.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { rawRequest } from './replay.js';

describe('EFSS bad input', () => {
  let node: TestNode;
  let outside: string;
  const call = (verb: string, body: string | undefined, method = 'POST', uid = 'tester') =>
    rawRequest(node.url, method, `/apps/sciencemesh/~${uid}/api/${verb}`, { 'x-reva-secret': node.config.revaSecret, 'content-type': 'application/json' }, body);

  before(async () => {
    node = await startTestNode({ limits: { jsonBodyBytes: 4096, xmlBodyBytes: 4096 } });
    await node.services.users.add({ name: 'tester', password: 'testpass' });
    assert.equal((await call('storage/CreateHome', undefined)).status, 200);
    outside = tempDir('outside-');
    writeFileSync(join(outside, 'secret.txt'), 'do not read me');
    const home = node.services.storage.layout.home('tester');
    mkdirSync(home, { recursive: true });
    symlinkSync(outside, join(home, 'escape-dir'));
    symlinkSync(join(outside, 'secret.txt'), join(home, 'escape-file'));
  });
  after(async () => node?.stop());

  function assertJson4xx(r: { status: number; text: string }, status?: number): void {
    assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}: ${r.text}`);
    if (status) assert.equal(r.status, status, r.text);
    const body = JSON.parse(r.text) as { error?: unknown; code?: unknown };
    assert.equal(typeof body.error, 'string');
    assert.equal(typeof body.code, 'string');
  }

  it('never follows a symlink under dataDir that points outside it', async () => {
    for (const name of ['escape-dir', 'escape-file']) {
      const md = await call('storage/GetMD', JSON.stringify({ ref: { path: `/home/${name}` } }));
      assertJson4xx(md);
    }
    assertJson4xx(await call('storage/Download/home/escape-file', undefined, 'GET'));
    assertJson4xx(await call('storage/ListFolder', JSON.stringify({ ref: { path: '/home/escape-dir' } })));
    const up = await call('storage/Upload/home/escape-dir/planted.txt', 'x', 'PUT');
    assertJson4xx(up);
    assert.deepEqual(readdirSync(outside), ['secret.txt'], 'nothing was written outside dataDir');
    const list = await call('storage/ListFolder', JSON.stringify({ ref: { path: '/home' } }));
    assert.equal(list.status, 200);
    assert.ok(!list.text.includes('do not read me'));
  });

  it('refuses bodies over the configured limit with 413 and changes nothing', async () => {
    const big = JSON.stringify({ path: '/home/big', pad: 'x'.repeat(10_000) });
    assertJson4xx(await call('storage/CreateDir', big), 413);
    assertJson4xx(await call('auth/Authenticate', JSON.stringify({ clientID: 'tester', clientSecret: 'x'.repeat(10_000) }), 'POST', 'tester'), 413);
    assertJson4xx(await call('storage/GetMD', JSON.stringify({ ref: { path: '/home/big' } })), 404);
  });

  it('answers malformed and mistyped bodies on the auth and user areas with 400', async () => {
    assertJson4xx(await call('auth/Authenticate', '{"clientID":', 'POST', 'tester'), 400);
    assertJson4xx(await call('auth/Authenticate', JSON.stringify({ clientID: 7, clientSecret: 'testpass' }), 'POST', 'tester'), 400);
    assertJson4xx(await call('user/GetUser', '[]', 'POST', 'unauthenticated'), 400);
    assertJson4xx(await call('user/GetUserByClaim', JSON.stringify({ claim: 'username' }), 'POST', 'tester'), 400);
    assertJson4xx(await call('user/GetUser', '{', 'POST', 'unauthenticated'), 400);
  });

  it('keeps serving after a burst of bad requests', async () => {
    const bad = [
      call('storage/CreateDir', '{'),
      call('storage/CreateDir', JSON.stringify({ path: '/home/\u0000' })),
      call('storage/Download/home/%E0%A4%A', undefined, 'GET'),
      call('storage/Upload/home/%2e%2e/x', 'x', 'PUT'),
      call('storage/GetMD', JSON.stringify({ ref: { resource_id: { opaque_id: 'fileid-/home/../..' } } })),
      rawRequest(node.url, 'POST', '/apps/sciencemesh/~tester/api/storage/GetMD', {}, '{}'),
    ];
    for (const r of await Promise.all(bad)) assertJson4xx(r);
    const health = await rawRequest(node.url, 'GET', '/healthz', {});
    assert.equal(health.status, 200);
    const md = await call('storage/GetMD', JSON.stringify({ ref: { path: '/home' } }));
    assert.equal(md.status, 200);
  });

  it('leaves api/ocm to the OCM router (not answered as an unknown EFSS verb)', async () => {
    const r = await call('ocm/ListReceivedShares', '');
    const body = r.text ? (JSON.parse(r.text) as { error?: string }) : {};
    assert.ok(!String(body.error ?? '').includes('unknown'), r.text);
  });
});
