/**
 * `meshdav peer check SITE`: a real node looked at from a fresh data folder (not trusting it yet,
 * then trusting it), a site that cannot be reached, and a third-party site whose discovery lists
 * http-sig without serving a key set.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { freePort } from '../support/ports.js';
import type { PeerReport } from '../../src/cli/peer.js';
import { runCli } from './support.js';

describe('meshdav peer check', function () {
  this.timeout(60_000);
  let node: TestNode;
  let site: Server;
  before(async () => {
    node = await startTestNode({ requireTokenExchange: true });
    // A site that says it signs RFC 9421 but serves no key set (404 at /.well-known/jwks.json).
    site = createServer((req, res) => {
      if (req.url === '/.well-known/ocm') {
        const base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ enabled: true, apiVersion: '1.3.0', endPoint: `${base}/ocm`, capabilities: ['http-sig', 'exchange-token'] }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    await node?.stop();
    site?.close();
  });

  it('reports a meshdav site: its features, keys and code flow, and how this node will talk to it', async () => {
    const data = tempDir('peer-check-');
    let r = await runCli(['peer', 'check', node.url, '--json', '--data', data]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as PeerReport;
    const domain = new URL(node.url).host;
    assert.equal(report.site, domain);
    assert.equal(report.trusted, false);
    assert.equal(report.discovery.endPoint, `${node.url}/ocm`);
    assert.ok(report.capabilities.includes('http-sig') && report.capabilities.includes('exchange-token'));
    assert.deepEqual(report.criteria, ['must-invite', 'must-exchange-token']);
    assert.equal(report.signatures.cavageKeyId, `${node.url}/ocm#signature`);
    assert.deepEqual(report.signatures.jwks, [`${domain}#key1`]);
    assert.equal(report.tokenEndPoint, `${node.url}/ocm/token`);
    assert.deepEqual(report.behaviour, { signsWith: 'rfc9421', refusesUnsignedInItsName: true, sharesRequireTokenExchange: true });
    assert.deepEqual(report.problems, []);

    const config = join(data, 'config.json');
    writeFileSync(config, JSON.stringify({ dataDir: data, trustedProviders: [node.url] }));
    r = await runCli(['peer', 'check', domain, '--config', config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^trusted here {2}yes$/m);
    assert.match(r.stdout, new RegExp(`^signs {9}draft-cavage \\(key ${node.url.replace(/[.]/g, '\\.')}/ocm#signature\\); RFC 9421 \\(keys ${domain.replace(/[.]/g, '\\.')}#key1\\)$`, 'm'));
    assert.match(r.stdout, /^this node {5}signs its requests to it with rfc9421; refuses unsigned requests in its name; marks its shares to it must-exchange-token$/m);
    assert.match(r.stdout, /^problems {6}none$/m);
  });

  it('lists what is wrong with a site (exit 1), and says when a site cannot be reached (exit 3)', async () => {
    const data = tempDir('peer-check-');
    const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    let r = await runCli(['peer', 'check', url, '--data', data]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /it lists http-sig but .*\/\.well-known\/jwks\.json has no key/);
    assert.match(r.stdout, /it lists exchange-token but names no tokenEndPoint/);
    r = await runCli(['peer', 'check', `http://127.0.0.1:${await freePort()}`, '--data', data]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /^meshdav: 127\.0\.0\.1:\d+: cannot reach/);
    r = await runCli(['peer', 'check', 'not a site', '--data', data]);
    assert.equal(r.code, 2, r.stderr);
  });
});
