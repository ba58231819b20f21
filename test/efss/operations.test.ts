/**
 * Operations on the EFSS API: metrics labelled by verb (never by user or path), no secret or
 * password in the logs, and an interrupted Upload leaving nothing visible.
 */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import { startTestNode, type TestNode } from '../support/node.js';
import { rawRequest } from './replay.js';

describe('EFSS operations', () => {
  let node: TestNode;
  const api = '/index.php/apps/sciencemesh/~tester/api/';
  const post = (verb: string, body: unknown, secret?: string) =>
    rawRequest(node.url, 'POST', api + verb, { 'x-reva-secret': secret ?? node.config.revaSecret, 'content-type': 'application/json' }, JSON.stringify(body));

  before(async () => {
    node = await startTestNode();
    await node.services.users.add({ name: 'tester', password: 'tester-password-123' });
    assert.equal((await post('storage/CreateHome', {})).status, 200);
  });
  after(async () => node?.stop());

  it('counts requests by verb pattern, not by user or path', async () => {
    assert.equal((await post('storage/GetMD', { ref: { path: '/home' } })).status, 200);
    assert.equal((await post('storage/NoSuchVerb', {})).status, 404);
    const metrics = (await rawRequest(node.url, 'GET', '/metrics', {})).text;
    assert.match(metrics, /meshdav_http_requests_total\{[^}]*route="\/apps\/sciencemesh\/~:uid\/api\/storage\/GetMD"[^}]*status="200"/);
    assert.match(metrics, /route="\/apps\/sciencemesh\/~:uid\/api\/storage\/:unknown"/);
    assert.ok(!metrics.includes('~tester'), 'a user name became a label');
    assert.ok(!metrics.includes('NoSuchVerb'), 'an unknown verb became a label');
  });

  it('keeps passwords and secrets out of the logs', async () => {
    await post('auth/Authenticate', { clientID: 'tester', clientSecret: 'tester-password-123' });
    await post('auth/Authenticate', { clientID: 'tester', clientSecret: 'a-wrong-password-456' });
    await post('storage/GetMD', { ref: { path: '/home' } }, 'a-wrong-reva-secret-789');
    const logs = node.logLines.join('\n');
    for (const s of ['tester-password-123', 'a-wrong-password-456', 'a-wrong-reva-secret-789', node.config.revaSecret, node.config.loopbackSecret]) {
      assert.ok(!logs.includes(s), `"${s.slice(0, 6)}…" reached the log`);
    }
  });

  it('leaves no visible file when an Upload is cut off', async () => {
    const u = new URL(node.url);
    await new Promise<void>((resolve) => {
      const req = http.request({
        host: u.hostname,
        port: u.port,
        method: 'PUT',
        path: api + 'storage/Upload/home/partial.bin',
        headers: { 'x-reva-secret': node.config.revaSecret, 'content-length': String(4 * 1024 * 1024) },
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(256 * 1024, 1), () => setTimeout(() => {
        req.destroy();
        resolve();
      }, 100));
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await post('storage/GetMD', { ref: { path: '/home/partial.bin' } })).status, 404);
    const list = await post('storage/ListFolder', { ref: { path: '/home' } });
    assert.equal(list.status, 200);
    assert.ok(!list.text.includes('partial'), list.text);
    // And the same path takes a complete upload afterwards.
    const ok = await rawRequest(node.url, 'PUT', api + 'storage/Upload/home/partial.bin', { 'x-reva-secret': node.config.revaSecret }, 'complete');
    assert.equal(ok.status, 201);
  });
});

describe('EFSS shutdown during an Upload', function () {
  this.timeout(30_000);

  it('leaves neither a visible file nor a stray temporary behind', async () => {
    const { readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const node = await startTestNode({}, { keepData: true });
    await node.services.users.add({ name: 'tester', password: 'tester-password-123' });
    const u = new URL(node.url);
    const req = http.request({
      host: u.hostname,
      port: u.port,
      method: 'PUT',
      path: '/apps/sciencemesh/~tester/api/storage/Upload/home/during-shutdown.bin',
      headers: { 'x-reva-secret': node.config.revaSecret, 'content-length': String(8 * 1024 * 1024) },
    });
    req.on('error', () => undefined);
    await new Promise<void>((r) => req.write(Buffer.alloc(512 * 1024, 7), () => r()));
    await new Promise((r) => setTimeout(r, 200));
    await node.close(); // the upload never completes: cut after the grace period
    req.destroy();

    const again = await startTestNode({ dataDir: node.dataDir });
    try {
      const md = await rawRequest(again.url, 'POST', '/apps/sciencemesh/~tester/api/storage/GetMD', { 'x-reva-secret': again.config.revaSecret }, JSON.stringify({ ref: { path: '/home/during-shutdown.bin' } }));
      assert.equal(md.status, 404, md.text);
      const home = again.services.storage.layout.home('tester');
      assert.deepEqual(readdirSync(home).filter((n) => n.includes('during-shutdown')), []);
      const uploads = join(again.dataDir, 'uploads');
      const stray = readdirSync(uploads, { recursive: true }).filter((n) => String(n).length > 0);
      assert.deepEqual(stray, [], 'temporary upload files were left in dataDir/uploads');
    } finally {
      await again.stop();
    }
  });
});
