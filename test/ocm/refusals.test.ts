import assert from 'node:assert/strict';
import type { TestNode } from '../support/node.js';
import { client, domainOf, postAs, freePort, putFile, sharePayload, startMesh } from './mesh.js';
import { startTestNode } from '../support/node.js';

/** A and B trust each other; C trusts both, but neither trusts C. */
describe('OCM refusals between three real nodes', function () {
  this.timeout(60_000);
  let a: TestNode, b: TestNode, c: TestNode;

  before(async () => {
    [a, b, c] = await startMesh(3, {
      trusts: [[1], [0], [0, 1]],
      users: [
        [['einstein', 'Albert Einstein', 'einstein@a.example']],
        [['marie', 'Marie Curie', 'marie@b.example'], ['pierre', 'Pierre Curie', 'pierre@b.example']],
        [['mallory', 'Mallory', 'mallory@c.example']],
      ],
    });
    await putFile(a, 'einstein', '/paper.txt', 'hello');
    await putFile(c, 'mallory', '/evil.txt', 'evil');
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  async function invite(from: TestNode, user: string) {
    return (await client(from, user).post('/sciencemesh/generate-invite')).json as { token: string; invite_string: string };
  }

  it('an untrusted node is refused at every step', async () => {
    // Discovery is served to anyone, but C cannot accept an invite of A (A does not trust C: 403).
    const inv = await invite(a, 'einstein');
    const r = await client(c, 'mallory').post('/sciencemesh/accept-invite', { token: inv.token, providerDomain: domainOf(a) });
    assert.equal(r.status, 403, r.text);
    // B refuses to accept an invite from C (C not trusted by B): nothing contacted.
    const evil = await invite(c, 'mallory');
    const r2 = await client(b, 'marie').post('/sciencemesh/accept-invite', { invite_string: evil.invite_string });
    assert.equal(r2.status, 403);
    // C posting straight to A's /ocm/invite-accepted and /ocm/shares: 403.
    const ia = await fetch(`${a.url}/ocm/invite-accepted`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recipientProvider: domainOf(c), token: inv.token, userID: 'mallory', email: 'm@c', name: 'M' }),
    });
    assert.equal(ia.status, 403);
    const share = await fetch(`${a.url}/ocm/shares`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sharePayload(`einstein@${domainOf(a)}`, `mallory@${domainOf(c)}`)),
    });
    assert.equal(share.status, 403);
    assert.deepEqual(await a.services.ocm.received.list('einstein'), []);
    assert.deepEqual(await a.services.ocm.contacts.list('einstein'), []);
    // The invite was not consumed by the refused attempt.
    assert.equal((await a.services.ocm.invites.list('einstein'))[0]!.accepted, false);
    // C cannot create a share towards A either (C trusts A, but is not a contact).
    const cs = await client(c, 'mallory').post('/sciencemesh/create-share', { sourcePath: '/evil.txt', recipientUsername: 'einstein', recipientHost: domainOf(a), role: 'viewer' });
    assert.equal(cs.status, 403);
  });

  it('a sender that is not a contact is refused (403), and a non-contact recipient too', async () => {
    const r = await postAs(a, `${b.url}/ocm/shares`, JSON.stringify(sharePayload(`marie@${domainOf(b)}`, `einstein@${domainOf(a)}`)));
    assert.equal(r.status, 403);
    assert.deepEqual(await b.services.ocm.received.list('marie'), []);
    const cs = await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath: '/paper.txt', recipientUsername: 'pierre', recipientHost: domainOf(b), role: 'viewer' });
    assert.equal(cs.status, 403);
    assert.deepEqual(await a.services.ocm.sent.list('einstein'), []);
  });

  it('accepting the same invite twice gives 409; an unknown token 400', async () => {
    const inv = await invite(a, 'einstein');
    const ok = await client(b, 'marie').post('/sciencemesh/accept-invite', { invite_string: inv.invite_string });
    assert.equal(ok.status, 200, ok.text);
    const again = await client(b, 'pierre').post('/sciencemesh/accept-invite', { token: inv.token, providerDomain: domainOf(a) });
    assert.equal(again.status, 409);
    const bogus = await client(b, 'pierre').post('/sciencemesh/accept-invite', { token: 'x'.repeat(32), providerDomain: domainOf(a) });
    assert.equal(bogus.status, 400);
    assert.equal((await b.services.ocm.contacts.list('pierre')).length, 0);
    // Two concurrent acceptances of one token: exactly one wins.
    const inv2 = await invite(a, 'einstein');
    const both = await Promise.all(['marie', 'pierre'].map((u) => client(b, u).post('/sciencemesh/accept-invite', { invite_string: inv2.invite_string })));
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 409]);
  });

  it('an expired token is refused with 400', async () => {
    const port = await freePort();
    const short = await startTestNode({ port, trustedProviders: [b.url], inviteExpiryHours: 0.001 });
    try {
      await short.services.users.add({ name: 'ada', password: 'pw-pw-pw-pw', displayName: 'Ada', email: 'ada@x.example' });
      b.services.config.trustedProviders.push(short.url);
      const inv = (await client(short, 'ada', 'pw-pw-pw-pw').post('/sciencemesh/generate-invite')).json;
      await new Promise((r) => setTimeout(r, 3700));
      const res = await client(b, 'pierre').post('/sciencemesh/accept-invite', { token: inv.token, providerDomain: domainOf(short) });
      assert.equal(res.status, 400);
      assert.match(res.json.error, /expired/);
    } finally {
      b.services.config.trustedProviders.pop();
      await short.stop();
    }
  });

  it('sender down when accepting an invite: 502/504 and no contact stored', async () => {
    const port = await freePort();
    const tmp = await startTestNode({ port, trustedProviders: [b.url] });
    await tmp.services.users.add({ name: 'ada', password: 'pw-pw-pw-pw', displayName: 'Ada', email: 'ada@x.example' });
    b.services.config.trustedProviders.push(tmp.url);
    try {
      const inv = (await client(tmp, 'ada', 'pw-pw-pw-pw').post('/sciencemesh/generate-invite')).json;
      await tmp.stop();
      const res = await client(b, 'pierre').post('/sciencemesh/accept-invite', { invite_string: inv.invite_string });
      assert.ok(res.status === 502 || res.status === 504, `${res.status} ${res.text}`);
      assert.equal((await b.services.ocm.contacts.list('pierre')).some((c) => c.provider === domainOf(tmp)), false);
    } finally {
      b.services.config.trustedProviders.pop();
      await tmp.stop();
    }
  });

  it('receiver down when sharing: 502/504 and nothing stored on the sender', async () => {
    const port = await freePort();
    const tmp = await startTestNode({ port, trustedProviders: [a.url] });
    await tmp.services.users.add({ name: 'bob', password: 'pw-pw-pw-pw', displayName: 'Bob', email: 'bob@x.example' });
    a.services.config.trustedProviders.push(tmp.url);
    try {
      const inv = await invite(a, 'einstein');
      const ok = await client(tmp, 'bob', 'pw-pw-pw-pw').post('/sciencemesh/accept-invite', { invite_string: inv.invite_string });
      assert.equal(ok.status, 200, ok.text);
      await tmp.stop();
      a.services.ocm.discovery.forget(domainOf(tmp));
      const res = await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath: '/paper.txt', recipientUsername: 'bob', recipientHost: `127.0.0.1:${port}`, role: 'editor' });
      assert.ok(res.status === 502 || res.status === 504, `${res.status} ${res.text}`);
      assert.deepEqual(await a.services.ocm.sent.list('einstein'), []);
    } finally {
      a.services.config.trustedProviders.pop();
      await tmp.stop();
    }
  });
});
