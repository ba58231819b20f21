import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ForbiddenError, GatewayTimeoutError } from '../../src/errors.js';
import { ProviderTrust } from '../../src/ocm/addresses.js';
import { DiscoveryClient } from '../../src/ocm/discovery.js';
import { RemoteClient } from '../../src/ocm/remote.js';
import type { TestNode } from '../support/node.js';
import { client, domainOf, postAs, putFile, sharePayload, startMesh } from './mesh.js';

/** A foreign OCM peer that only has the legacy /ocm-provider (like older Nextcloud), or never answers. */
async function peer(mode: 'legacy' | 'hang' | 'redirect'): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (mode === 'hang') return; // never answers
    if (mode === 'redirect' && req.url === '/.well-known/ocm') {
      res.writeHead(301, { location: '/index.php/ocm-provider' });
      res.end();
      return;
    }
    if (req.url === '/ocm-provider' || (mode === 'redirect' && req.url === '/index.php/ocm-provider')) {
      const { port } = server.address() as AddressInfo;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        enabled: true,
        apiVersion: '1.0-proposal1',
        endPoint: `http://127.0.0.1:${port}/index.php/ocm`,
        resourceTypes: [{ name: 'file', shareTypes: ['user', 'group'], protocols: { webdav: '/public.php/webdav/' } }],
      }));
      return;
    }
    res.statusCode = 404;
    res.end('<html>not found</html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('OCM discovery client', () => {
  it('falls back to /ocm-provider, resolves the WebDAV root, and caches per origin', async () => {
    const p = await peer('legacy');
    const remote = new RemoteClient({ connectTimeoutMs: 1000, idleTimeoutMs: 1000 });
    try {
      const disco = new DiscoveryClient(remote, new ProviderTrust(() => [p.url]));
      const host = new URL(p.url).host;
      const d = await disco.discover(host);
      assert.equal(d.endPoint, `${p.url}/index.php/ocm`);
      assert.equal(d.webdavRoot, `${p.url}/public.php/webdav`);
      assert.deepEqual(p.hits, ['/.well-known/ocm', '/ocm-provider']);
      await disco.discover(`http://${host}/`);
      assert.equal(p.hits.length, 2, 'served from the cache');
      await assert.rejects(disco.discover('untrusted.example'), ForbiddenError);
    } finally {
      await remote.close();
      await p.close();
    }
  });

  it('reads capabilities, criteria and a token endpoint on the site\'s own host; a token endpoint elsewhere is dropped', async () => {
    let tokenEndPoint = '';
    const server = http.createServer((req, res) => {
      const { port } = server.address() as AddressInfo;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ enabled: true, apiVersion: '1.3.0', endPoint: `http://127.0.0.1:${port}/ocm`, capabilities: ['http-sig', 'exchange-token'], criteria: ['must-exchange-token'], tokenEndPoint }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const remote = new RemoteClient({ connectTimeoutMs: 1000, idleTimeoutMs: 1000 });
    try {
      const disco = new DiscoveryClient(remote, new ProviderTrust(() => [url]));
      tokenEndPoint = `${url}/ocm/token`;
      const d = await disco.discover(new URL(url).host);
      assert.deepEqual([d.httpSig, d.capabilities, d.criteria, d.tokenEndPoint], [true, ['http-sig', 'exchange-token'], ['must-exchange-token'], `${url}/ocm/token`]);
      tokenEndPoint = 'http://elsewhere.example/token';
      assert.equal((await disco.discover(new URL(url).host, { fresh: true })).tokenEndPoint, undefined);
    } finally {
      await remote.close();
      server.close();
    }
  });

  it('follows a same-origin redirect of the discovery path', async () => {
    const p = await peer('redirect');
    const remote = new RemoteClient({ connectTimeoutMs: 1000, idleTimeoutMs: 1000 });
    try {
      const d = await new DiscoveryClient(remote, new ProviderTrust(() => [p.url])).discover(new URL(p.url).host);
      assert.equal(d.endPoint, `${p.url}/index.php/ocm`);
      assert.deepEqual(p.hits, ['/.well-known/ocm', '/index.php/ocm-provider']);
    } finally {
      await remote.close();
      await p.close();
    }
  });

  it('gives up on a silent site with 504 after the idle timeout', async () => {
    const p = await peer('hang');
    const remote = new RemoteClient({ connectTimeoutMs: 500, idleTimeoutMs: 300 });
    try {
      const disco = new DiscoveryClient(remote, new ProviderTrust(() => [p.url]));
      await assert.rejects(disco.discover(new URL(p.url).host), GatewayTimeoutError);
    } finally {
      await remote.close();
      await p.close();
    }
  });
});

describe('OCM with a receiver that never answers, and auto-accepted providers', function () {
  this.timeout(30_000);
  let a: TestNode, b: TestNode;
  let hang: Awaited<ReturnType<typeof peer>>;

  before(async () => {
    hang = await peer('hang');
    [a, b] = await startMesh(2, {
      users: [[['einstein', 'Albert Einstein', 'einstein@a.example']], [['marie', 'Marie Curie', 'marie@b.example']]],
      trusts: [[1], [0]],
      extra: [{ remote: { connectTimeoutMs: 500, idleTimeoutMs: 300 } }, {}],
    });
    b.services.config.autoAcceptProviders.push(domainOf(a));
    a.services.config.trustedProviders.push(hang.url);
    await putFile(a, 'einstein', '/x.txt', 'x');
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), hang?.close()]);
  });

  it('create-share towards a silent receiver: 504 and nothing stored', async () => {
    await a.services.ocm.contacts.add({ owner: 'einstein', userId: 'bob', provider: new URL(hang.url).host, name: 'Bob', email: '' });
    const res = await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath: '/x.txt', recipientUsername: 'bob', recipientHost: hang.url, role: 'viewer' });
    assert.equal(res.status, 504, res.text);
    assert.deepEqual(await a.services.ocm.sent.list('einstein'), []);
  });

  it('accepts a share without an invite from a provider in autoAcceptProviders', async () => {
    const payload = sharePayload(`marie@${domainOf(b)}`, `einstein@${domainOf(a)}`);
    const res = await postAs(a, `${b.url}/ocm/shares`, JSON.stringify(payload));
    assert.equal(res.status, 201);
    assert.equal((await b.services.ocm.received.list('marie')).length, 1);
  });
});
