import assert from 'node:assert/strict';
import { statSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, tempDir, type TestNode } from './support/node.js';
import { loadConfig, ConfigError, envName } from '../src/config.js';

describe('operations basics', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node.stop());

  it('answers /healthz', async () => {
    const res = await fetch(`${node.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('exposes request counts and latencies by route and status on /metrics', async () => {
    await fetch(`${node.url}/healthz`);
    const text = await (await fetch(`${node.url}/metrics`)).text();
    assert.match(text, /meshdav_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    assert.match(text, /meshdav_http_request_duration_seconds_bucket\{/);
  });

  it('stores generated secrets in dataDir with mode 0600', () => {
    const st = statSync(join(node.dataDir, 'secrets.json'));
    assert.equal(st.mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(join(node.dataDir, 'secrets.json'), 'utf8'));
    assert.equal(stored.revaSecret, node.config.revaSecret);
    assert.ok(node.config.revaSecret.length >= 32);
  });
});

describe('configuration', () => {
  it('layers defaults < file < environment < flags', () => {
    const dir = tempDir();
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ port: 9001, sharesFolder: '/Incoming', trustedProviders: ['a.org'] }));
    const env = { [envName('port')]: '9002', MESHDAV_TRUSTED_PROVIDERS: 'b.org, c.org:8443', MESHDAV_CACHE: '{"mode":"off"}' };
    const c = loadConfig({ file, env, overrides: { dataDir: dir, port: 9003 } });
    assert.equal(c.port, 9003);
    assert.equal(c.sharesFolder, '/Incoming');
    assert.deepEqual(c.trustedProviders, ['b.org', 'c.org:8443']);
    assert.equal(c.cache.mode, 'off');
    assert.equal(c.cache.chunkBytes, 4 * 1024 * 1024);
    assert.equal(c.publicUrl, 'http://127.0.0.1:9003');
  });

  it('names the key and the problem when the configuration is bad', () => {
    const dir = tempDir();
    assert.throws(() => loadConfig({ env: {}, overrides: { dataDir: dir, port: 70000 } }), (e: Error) => e instanceof ConfigError && /port: /.test(e.message));
    assert.throws(() => loadConfig({ env: { MESHDAV_PUBLIC_URL: 'not a url' }, overrides: { dataDir: dir } }), /publicUrl: /);
    assert.throws(() => loadConfig({ env: {}, overrides: { dataDir: dir, sharesFolder: 'x/y' } }), /sharesFolder: /);
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    assert.throws(() => loadConfig({ file, env: {} }), /unknown key\(s\) prot/);
  });
});
