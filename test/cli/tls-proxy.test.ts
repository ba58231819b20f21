import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { needTool } from '../support/tools.js';
import { runCli } from './support.js';

const auth = 'Basic ' + Buffer.from('alice:secret-pw').toString('base64');

describe('TLS: a node with its own certificate and key (config tls: {cert, key})', function () {
  this.timeout(90_000);
  let node: TestNode;
  let certFile: string;
  let agent: Agent;
  before(async function () {
    needTool(this, 'openssl');
    const dir = tempDir('tls-');
    certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'ignore' });
    node = await startTestNode({ tls: { cert: certFile, key: keyFile } });
    await node.services.users.add({ name: 'alice', password: 'secret-pw' });
    agent = new Agent({ connect: { ca: readFileSync(certFile) } });
  });
  after(async () => {
    await agent?.close();
    await node?.stop();
  });

  it('serves https, and its public URL and OCM endpoint say https', async () => {
    assert.match(node.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await request(`${node.url}/healthz`, { dispatcher: agent });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(await health.body.json(), { status: 'ok' });
    const disco = await request(`${node.url}/.well-known/ocm`, { dispatcher: agent });
    const doc = (await disco.body.json()) as { endPoint: string };
    assert.equal(doc.endPoint, `${node.url}/ocm`);
  });

  it('serves WebDAV over TLS to the CLI client that trusts the CA, and says what to do when it does not', async () => {
    const env = { MESHDAV_USER: 'alice', MESHDAV_PASSWORD: 'secret-pw' };
    const url = `${node.url}/remote.php/dav/files/alice/hello.txt`;
    let r = await runCli(['put', '-', url], { env: { ...env, NODE_EXTRA_CA_CERTS: certFile }, input: 'over tls' });
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['cat', '--insecure', url], { env });
    assert.equal(r.stdout, 'over tls');
    r = await runCli(['cat', url], { env });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^meshdav: cannot reach https:\/\/127\.0\.0\.1:\d+: TLS certificate not trusted \(\w+\) — add its CA with NODE_EXTRA_CA_CERTS=FILE, or pass --insecure for a test server\n$/);
  });

  it('does not answer plain http on the TLS port', async () => {
    const plain = node.url.replace('https:', 'http:');
    await assert.rejects(async () => {
      const res = await request(`${plain}/healthz`);
      await res.body.text();
      if (res.statusCode === 200) throw new Error('unexpected');
      throw new Error(`status ${res.statusCode}`);
    });
  });
});

/**
 * Behind a reverse proxy. What the node derives from a request's scheme and host: the MOVE/COPY
 * Destination check (same server?) and the client address for login throttling. What it never
 * derives from them: OCM discovery (publicUrl) and DAV hrefs (paths).
 */
describe('reverse proxy: X-Forwarded-Proto/-Host honoured only with trustProxy', function () {
  this.timeout(90_000);
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'files.example.org' };

  for (const trustProxy of [false, true]) {
    describe(`trustProxy: ${trustProxy}`, () => {
      let node: TestNode;
      before(async () => {
        node = await startTestNode({ trustProxy, publicUrl: 'https://files.example.org', loginThrottle: { maxFailures: 2, windowSeconds: 300 } });
        await node.services.users.add({ name: 'alice', password: 'secret-pw' });
      });
      after(() => node?.stop());
      // publicUrl is explicit, so talk to the bound address.
      const base = () => `http://127.0.0.1:${node.config.port}`;

      it('OCM discovery names the configured publicUrl whatever the forwarded headers say', async () => {
        for (const headers of [{}, forwarded, { 'x-forwarded-host': 'evil.example' }]) {
          const res = await request(`${base()}/.well-known/ocm`, { headers });
          const doc = (await res.body.json()) as { endPoint: string };
          assert.equal(doc.endPoint, 'https://files.example.org/ocm');
        }
      });

      it('DAV hrefs are absolute paths, so they are right on either side of the proxy', async () => {
        const put = await request(`${base()}/remote.php/dav/files/alice/a.txt`, { method: 'PUT', headers: { authorization: auth, ...forwarded }, body: 'a' });
        await put.body.dump();
        assert.equal(put.statusCode, 201);
        const res = await request(`${base()}/remote.php/dav/files/alice/`, { method: 'PROPFIND', headers: { authorization: auth, depth: '1', ...forwarded } });
        const xml = await res.body.text();
        assert.equal(res.statusCode, 207);
        const hrefs = [...xml.matchAll(/<d:href>([^<]*)<\/d:href>/g)].map((m) => m[1]);
        assert.ok(hrefs.includes('/remote.php/dav/files/alice/a.txt'), xml);
        assert.ok(hrefs.every((h) => h!.startsWith('/remote.php/dav/files/alice/')), xml);
      });

      it(`${trustProxy ? 'accepts' : 'refuses'} a MOVE whose Destination names a forwarded host`, async () => {
        const put = await request(`${base()}/remote.php/dav/files/alice/m.txt`, { method: 'PUT', headers: { authorization: auth }, body: 'm' });
        await put.body.dump();
        // A proxy host that is not the configured publicUrl: it means this node only when the forwarded headers are trusted.
        const edge = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'edge.example.net' };
        const res = await request(`${base()}/remote.php/dav/files/alice/m.txt`, {
          method: 'MOVE',
          headers: { authorization: auth, destination: 'https://edge.example.net/remote.php/dav/files/alice/moved.txt', ...edge },
        });
        await res.body.dump();
        // Without trust, the forwarded host is ignored: the destination is another server (502, RFC 4918 §9.9.4).
        assert.equal(res.statusCode, trustProxy ? 201 : 502);
      });

      it('accepts a Destination on the configured publicUrl host either way (it names this node)', async () => {
        const put = await request(`${base()}/remote.php/dav/files/alice/p.txt`, { method: 'PUT', headers: { authorization: auth }, body: 'p' });
        await put.body.dump();
        const res = await request(`${base()}/remote.php/dav/files/alice/p.txt`, {
          method: 'MOVE',
          headers: { authorization: auth, destination: 'https://files.example.org/remote.php/dav/files/alice/p-moved.txt' },
        });
        await res.body.dump();
        assert.equal(res.statusCode, 201);
      });

      // Last: it leaves the loopback address throttled when the forwarded one is ignored.
      it(`throttles failed logins by ${trustProxy ? 'the X-Forwarded-For address' : 'the socket address, ignoring X-Forwarded-For'}`, async () => {
        const attempt = async (who: string, password: string, ip: string) => {
          const res = await request(`${base()}/remote.php/dav/files/${who}/`, {
            method: 'PROPFIND',
            headers: { authorization: 'Basic ' + Buffer.from(`${who}:${password}`).toString('base64'), depth: '0', 'x-forwarded-for': ip },
          });
          await res.body.dump();
          return res.statusCode;
        };
        assert.equal(await attempt('mallory', 'guess-1', '203.0.113.7'), 401);
        assert.equal(await attempt('mallory', 'guess-2', '203.0.113.7'), 401);
        // alice, with her right password, from another client behind the same proxy:
        assert.equal(await attempt('alice', 'secret-pw', '198.51.100.9'), trustProxy ? 207 : 429);
        if (trustProxy) assert.equal(await attempt('alice', 'secret-pw', '203.0.113.7'), 429, 'the throttled client stays throttled');
      });
    });
  }
});

describe('TLS configuration mistakes stop start-up with the key and the reason', function () {
  this.timeout(60_000);
  it('names a missing or invalid certificate file', async () => {
    const dir = tempDir('tls-bad-');
    const missing = join(dir, 'missing.pem');
    await assert.rejects(startTestNode({ tls: { cert: missing, key: missing } }), (e: Error) => {
      assert.equal(e.message, `invalid configuration — tls.cert: cannot read ${missing} (ENOENT)`);
      return true;
    });
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    await assert.rejects(startTestNode({ tls: { cert: junk, key: junk } }), /^ConfigError: invalid configuration — tls: the certificate and key are not a valid PEM pair \(.*PEM routines/);
    const r = await runCli(['serve', '--port', '0', '--data', join(dir, 'data'), '--config', join(dir, 'c.json')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^meshdav: cannot read config file .*c\.json: ENOENT\n$/);
  });
});
