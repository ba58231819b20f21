import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, type TestNode } from '../support/node.js';
import { client, freePort, putFile, PASSWORD } from '../ocm/mesh.js';
import { FaultProxy } from './fault-proxy.js';

const SRC = join(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('security checks', function () {
  this.timeout(120_000);

  it('compares secrets only in constant time (no ===/!== on secrets, tokens or passwords in src/)', () => {
    const secretish = /(secret|token|password|apikey)/i;
    const offenders: string[] = [];
    for (const file of sourceFiles(SRC)) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\/\/|\*)/.test(line)) return;
          for (const m of line.matchAll(/([\w.$\]\)]+)\s*[!=]==\s*([\w.$'"`]+)/g)) {
            const [, left, right] = m as unknown as [string, string, string];
            if (!secretish.test(left) && !secretish.test(right)) continue;
            if (/^(undefined|null|''|""|true|false|\d+)$/.test(right) || /^['"`]/.test(right)) continue; // presence and kind checks
            if (/typeof|\.length|\.type|\.kind|Kind|Type\b/.test(left + right)) continue;
            if (file.endsWith('config.ts')) continue; // persisting generated secrets, not checking input
            offenders.push(`${file.slice(SRC.length + 1)}:${i + 1}: ${line.trim()}`);
          }
        });
    }
    assert.deepEqual(offenders, []);
  });

  describe('two federated nodes with a fault proxy that records what crosses the wire', () => {
    let a: TestNode;
    let b: TestNode;
    let proxy: FaultProxy;
    let shareSecret = '';
    let inviteToken = '';
    const wrongPassword = 'wrong-password-that-must-not-be-logged';

    before(async () => {
      const [pa, pp, pb] = [await freePort(), await freePort(), await freePort()];
      a = await startTestNode({ port: pa, publicUrl: `http://127.0.0.1:${pp}`, trustedProviders: [`127.0.0.1:${pb}`], logLevel: 'trace' });
      proxy = new FaultProxy(pa, pp);
      await proxy.start();
      b = await startTestNode({ port: pb, trustedProviders: [`127.0.0.1:${pp}`], logLevel: 'trace' });
      await a.services.users.add({ name: 'alice', password: PASSWORD });
      await b.services.users.add({ name: 'bob', password: PASSWORD });
      await putFile(a, 'alice', '/s/doc.txt', 'shared words\n');

      // The whole flow, plus failures that carry secrets in their requests.
      const inv = await client(a, 'alice').post('/sciencemesh/generate-invite', {});
      inviteToken = inv.json.token;
      assert.equal((await client(b, 'bob').post('/sciencemesh/accept-invite', { token: inviteToken, providerDomain: `127.0.0.1:${pp}` })).status, 200);
      const s = await client(a, 'alice').post('/sciencemesh/create-share', { sourcePath: '/s', recipientUsername: 'bob', recipientHost: `127.0.0.1:${pb}`, role: 'editor' });
      assert.equal(s.status, 201, s.text);
      const rec = (await b.services.ocm.received.list('bob'))[0]!;
      shareSecret = rec.webdav.sharedSecret;
      const acc = await client(b, 'bob').post(`/sciencemesh/received-shares/${rec.id}/accept`, {});
      assert.equal(acc.status, 200);
      const bobAuth = 'Basic ' + Buffer.from(`bob:${PASSWORD}`).toString('base64');
      const mount = `${b.url}/remote.php/dav/files/bob${acc.json.mountPoint}`;
      assert.equal(await (await fetch(`${mount}/doc.txt`, { headers: { authorization: bobAuth } })).text(), 'shared words\n');
      assert.equal((await fetch(`${mount}/new.txt`, { method: 'PUT', body: 'x', headers: { authorization: bobAuth } })).status, 201);
      await client(a, 'alice', wrongPassword).get('/sciencemesh/sent-shares');
      await fetch(`${a.url}/index.php/apps/sciencemesh/~alice/api/auth/Authenticate`, {
        method: 'POST',
        headers: { 'x-reva-secret': a.config.revaSecret, 'content-type': 'application/json' },
        body: JSON.stringify({ clientID: 'alice', clientSecret: PASSWORD }),
      });
      await fetch(`${a.url}/index.php/apps/sciencemesh/~alice/api/storage/GetMD`, {
        method: 'POST',
        headers: { 'x-reva-secret': 'a-wrong-reva-secret-value', 'content-type': 'application/json' },
        body: '{"ref":{"path":"/home"}}',
      });
      await fetch(`${a.url}/remote.php/dav/ocm/${s.json.id}/doc.txt`, { headers: { authorization: `Bearer ${shareSecret}x` } });
      assert.equal((await client(a, 'alice').del(`/sciencemesh/sent-shares/${s.json.id}`)).status, 200);
    });
    after(async () => {
      await proxy?.stop();
      await Promise.all([a?.stop(), b?.stop()]);
    });

    it('writes no password, secret or token to the logs, even at trace level', () => {
      const secrets = {
        password: PASSWORD,
        wrongPassword,
        revaSecretA: a.config.revaSecret,
        revaSecretB: b.config.revaSecret,
        loopbackA: a.config.loopbackSecret,
        loopbackB: b.config.loopbackSecret,
        shareSecret,
        inviteToken,
      };
      const logs = [...a.logLines, ...b.logLines].join('');
      assert.ok(logs.length > 1000, 'the nodes did log');
      for (const [name, value] of Object.entries(secrets)) assert.ok(!logs.includes(value), `${name} appears in a log line`);
      assert.ok(!logs.includes(Buffer.from(`bob:${PASSWORD}`).toString('base64')), 'Basic credentials appear in a log line');
    });

    it('never puts a share secret in a URL between the sites', () => {
      assert.ok(proxy.seen.length > 3, 'the receiver talked to the sender through the proxy');
      for (const r of proxy.seen) assert.ok(!r.url.includes(shareSecret) && !decodeURIComponent(r.url).includes(shareSecret), `${r.method} ${r.url}`);
      assert.ok(proxy.seen.some((r) => /^(Bearer|Basic) /.test(String(r.headers.authorization))), 'secrets travel in the Authorization header');
    });

    it('answers a revoked share at once with 401 and keeps the secret out of every error body', async () => {
      const res = await fetch(`${a.url}/remote.php/dav/ocm/x/doc.txt`, { headers: { authorization: `Bearer ${shareSecret}` } });
      assert.equal(res.status, 401);
      assert.ok(!(await res.text()).includes(shareSecret));
    });
  });

  it('throttles brute force across DAV, the API and the revad Authenticate verb alike', async () => {
    const n = await startTestNode({ loginThrottle: { maxFailures: 3, windowSeconds: 60 } });
    try {
      await n.services.users.add({ name: 'victim', password: PASSWORD });
      const basic = (p: string) => ({ authorization: 'Basic ' + Buffer.from(`victim:${p}`).toString('base64') });
      assert.equal((await fetch(`${n.url}/remote.php/dav/files/victim/`, { method: 'PROPFIND', headers: { ...basic('guess1'), depth: '0' } })).status, 401);
      assert.equal((await fetch(`${n.url}/sciencemesh/list-invite`, { headers: basic('guess2') })).status, 401);
      assert.equal((await fetch(`${n.url}/remote.php/webdav/`, { method: 'PROPFIND', headers: { ...basic('guess3'), depth: '0' } })).status, 401);
      const locked = await fetch(`${n.url}/remote.php/dav/files/victim/`, { method: 'PROPFIND', headers: { ...basic(PASSWORD), depth: '0' } });
      assert.equal(locked.status, 429, 'the right password is refused while the window lasts');
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
    } finally {
      await n.stop();
    }
  });

  it('refuses an untrusted third node at every OCM step', async () => {
    const [pa, pc] = [await freePort(), await freePort()];
    const a = await startTestNode({ port: pa, trustedProviders: [] });
    const c = await startTestNode({ port: pc, trustedProviders: [`127.0.0.1:${pa}`] });
    try {
      await a.services.users.add({ name: 'alice', password: PASSWORD });
      await c.services.users.add({ name: 'mallory', password: PASSWORD });
      await putFile(a, 'alice', '/x.txt', 'x');
      // C accepts A's invite: A refuses the forwarded acceptance (403), nothing stored on either side.
      const inv = await client(a, 'alice').post('/sciencemesh/generate-invite', {});
      const acc = await client(c, 'mallory').post('/sciencemesh/accept-invite', { token: inv.json.token, providerDomain: `127.0.0.1:${pa}` });
      assert.ok([401, 403].includes(acc.status), `accept-invite via an untrusting sender: ${acc.status}`);
      assert.deepEqual(await a.services.ocm.contacts.list('alice'), []);
      assert.deepEqual(await c.services.ocm.contacts.list('mallory'), []);
      // A refuses to accept C's invite, to discover C, and to share with C.
      const cinv = await client(c, 'mallory').post('/sciencemesh/generate-invite', {});
      assert.ok([401, 403].includes((await client(a, 'alice').post('/sciencemesh/accept-invite', { token: cinv.json.token, providerDomain: `127.0.0.1:${pc}` })).status));
      const share = await client(a, 'alice').post('/sciencemesh/create-share', { sourcePath: '/x.txt', recipientUsername: 'mallory', recipientHost: `127.0.0.1:${pc}`, role: 'viewer' });
      assert.equal(share.status, 403);
      // C pushes a share and an invite acceptance straight at A's OCM API.
      const push = await fetch(`${a.url}/ocm/shares`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          shareWith: `alice@127.0.0.1:${pa}`, name: 'evil', providerId: 'e1', owner: `mallory@127.0.0.1:${pc}`, sender: `mallory@127.0.0.1:${pc}`,
          shareType: 'user', resourceType: 'file', protocol: { name: 'multi', webdav: { uri: `http://127.0.0.1:${pc}/remote.php/dav/ocm/e1`, sharedSecret: 'e'.repeat(32), permissions: ['read'] } },
        }),
      });
      assert.ok([401, 403].includes(push.status), `/ocm/shares: ${push.status}`);
      const ia = await fetch(`${a.url}/ocm/invite-accepted`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ recipientProvider: `127.0.0.1:${pc}`, token: inv.json.token, userID: 'mallory', email: 'm@c', name: 'Mallory' }),
      });
      assert.equal(ia.status, 403);
      assert.deepEqual(await a.services.ocm.received.list('alice'), []);
      assert.deepEqual(await a.services.ocm.contacts.list('alice'), []);
    } finally {
      await Promise.all([a.stop(), c.stop()]);
    }
  });
});
