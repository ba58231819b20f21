import assert from 'node:assert/strict';
import type { TestNode } from '../support/node.js';
import { parseOcmAddress, normalizeProvider } from '../../src/ocm/addresses.js';
import { decodeInviteString } from '../../src/ocm/invites.js';
import { client, domainOf, postAs, sharePayload, startMesh } from './mesh.js';

describe('OCM addresses', () => {
  it('split on the last @, strip schemes and trailing slashes, collapse id@host@host', () => {
    assert.deepEqual(parseOcmAddress('marie@cloud.example.org'), { user: 'marie', provider: 'cloud.example.org' });
    assert.deepEqual(parseOcmAddress('marie@https://Cloud.Example.org/'), { user: 'marie', provider: 'cloud.example.org' });
    assert.deepEqual(parseOcmAddress('marie@b.org@b.org'), { user: 'marie', provider: 'b.org' });
    assert.deepEqual(parseOcmAddress('marie@https://b.org@b.org'), { user: 'marie', provider: 'b.org' });
    assert.deepEqual(parseOcmAddress('m.curie@lab.fr@b.org:8443'), { user: 'm.curie@lab.fr', provider: 'b.org:8443' });
    assert.deepEqual(parseOcmAddress('x@http://127.0.0.1:8080//'), { user: 'x', provider: '127.0.0.1:8080' });
    assert.equal(normalizeProvider('https://b.org:443/'), 'b.org');
    for (const bad of ['', 'marie', '@b.org', 'marie@', 'ma rie@b.org', 'marie@b .org', 'marie@http://', 'marie@b.org/path?x']) {
      assert.throws(() => parseOcmAddress(bad), { status: 400 } as object, bad);
    }
  });

  it('decode invite strings on the last @', () => {
    const s = Buffer.from('tok-1@b.org:8443').toString('base64');
    assert.deepEqual(decodeInviteString(s), { token: 'tok-1', providerDomain: 'b.org:8443' });
    assert.throws(() => decodeInviteString(Buffer.from('no-at-sign').toString('base64')), { status: 400 } as object);
  });
});

describe('OCM bad input stores nothing and the node keeps serving', function () {
  this.timeout(60_000);
  let a: TestNode, b: TestNode;

  before(async () => {
    [a, b] = await startMesh(2, {
      users: [[['einstein', 'Albert Einstein', 'einstein@a.example']], [['marie', 'Marie Curie', 'marie@b.example']]],
      extra: [{}, { limits: { jsonBodyBytes: 4096, xmlBodyBytes: 1024 * 1024 } }],
    });
    const inv = (await client(a, 'einstein').post('/sciencemesh/generate-invite')).json;
    assert.equal((await client(b, 'marie').post('/sciencemesh/accept-invite', { invite_string: inv.invite_string })).status, 200);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  async function post(path: string, body: string, type = 'application/json') {
    const res = await postAs(a, b.url + path, body, type);
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }
  const good = () => sharePayload(`marie@${domainOf(b)}`, `einstein@${domainOf(a)}`);

  it('rejects malformed JSON and form bodies with 400', async () => {
    assert.equal((await post('/ocm/shares', '{"shareWith": ')).status, 400);
    assert.equal((await post('/ocm/shares', 'shareWith=marie&name=x', 'application/x-www-form-urlencoded')).status, 400);
    assert.equal((await post('/ocm/invite-accepted', 'not json')).status, 400);
    assert.equal((await post('/ocm/notifications', '[1,2')).status, 400);
  });

  it('takes invite-accepted as a form too (as reva does)', async () => {
    const form = new URLSearchParams({ recipientProvider: domainOf(a), token: 'no-such-token', userID: 'einstein', email: 'e@a.example', name: 'E' });
    const res = await post('/ocm/invite-accepted', form.toString(), 'application/x-www-form-urlencoded');
    assert.equal(res.status, 400);
    assert.match(res.json.message, /invalid or non existing token/);
  });

  it('answers missing and mistyped fields with 400 and validationErrors', async () => {
    const missing = await post('/ocm/shares', JSON.stringify({ ...good(), shareWith: undefined, name: 42 }));
    assert.equal(missing.status, 400);
    const names = missing.json.validationErrors.map((v: { name: string }) => v.name).sort();
    assert.deepEqual(names, ['name', 'shareWith']);
    const noSecret = good();
    noSecret.protocol.webdav.sharedSecret = '';
    const r = await post('/ocm/shares', JSON.stringify(noSecret));
    assert.equal(r.status, 400);
    assert.equal(r.json.validationErrors[0].name, 'protocol.webdav.sharedSecret');
    const badPerm = good() as any;
    badPerm.protocol.webdav.permissions = ['read', 'fly'];
    assert.equal((await post('/ocm/shares', JSON.stringify(badPerm))).status, 400);
    const badUri = good() as any;
    badUri.protocol.webdav.uri = 'https://http://evil';
    assert.equal((await post('/ocm/shares', JSON.stringify(badUri))).status, 400);
    for (const name of ['../../etc', 'a/b', '..', 'x\u0000y']) {
      const r3 = await post('/ocm/shares', JSON.stringify({ ...good(), name }));
      assert.equal(r3.status, 400, name);
      assert.equal(r3.json.validationErrors[0].name, 'name');
    }
    const ssrf = good() as any;
    ssrf.protocol.webdav.uri = 'http://169.254.169.254/latest/meta-data/';
    const r2 = await post('/ocm/shares', JSON.stringify(ssrf));
    assert.equal(r2.status, 400);
    assert.equal(r2.json.validationErrors[0].name, 'protocol.webdav.uri');
    const ia = await post('/ocm/invite-accepted', JSON.stringify({ recipientProvider: domainOf(a), token: 5 }));
    assert.equal(ia.status, 400);
    assert.ok(ia.json.validationErrors.length >= 2);
    const cs = await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath: '/x', recipientUsername: 'marie', recipientHost: domainOf(b), role: 'owner' });
    assert.equal(cs.status, 400);
    assert.equal(cs.json.validationErrors[0].name, 'role');
  });

  it('unknown recipient 404; unsupported protocol, share type or requirement 501', async () => {
    assert.equal((await post('/ocm/shares', JSON.stringify({ ...good(), shareWith: `nobody@${domainOf(b)}` }))).status, 404);
    assert.equal((await post('/ocm/shares', JSON.stringify({ ...good(), shareWith: 'marie@elsewhere.example' }))).status, 404);
    const p = good() as any;
    p.protocol = { name: 'ssh', ssh: {} };
    assert.equal((await post('/ocm/shares', JSON.stringify(p))).status, 501);
    assert.equal((await post('/ocm/shares', JSON.stringify({ ...good(), shareType: 'group' }))).status, 501);
    assert.equal((await post('/ocm/shares', JSON.stringify({ ...good(), resourceType: 'calendar' }))).status, 501);
    const req = good() as any;
    req.protocol.webdav.requirements = ['must-use-mfa'];
    assert.equal((await post('/ocm/shares', JSON.stringify(req))).status, 501);
  });

  it('odd OCM addresses: schemes and trailing slashes work, garbage is 400', async () => {
    const odd = { ...good(), shareWith: `marie@http://${domainOf(b)}/`, sender: `einstein@${domainOf(a)}@${domainOf(a)}`, providerId: 'odd-1' };
    assert.equal((await post('/ocm/shares', JSON.stringify(odd))).status, 201);
    assert.equal((await b.services.ocm.received.list('marie')).filter((s) => s.remoteShareId === 'odd-1').length, 1);
    for (const shareWith of ['marie', '@', 'marie@', 'marie@http://']) {
      assert.equal((await post('/ocm/shares', JSON.stringify({ ...good(), shareWith, providerId: 'odd-2' }))).status, 400, shareWith);
    }
    assert.equal((await b.services.ocm.received.list('marie')).filter((s) => s.remoteShareId === 'odd-2').length, 0);
  });

  it('bodies over the limit get 413', async () => {
    const big = { ...good(), description: 'x'.repeat(10_000), providerId: 'big' };
    assert.equal((await post('/ocm/shares', JSON.stringify(big))).status, 413);
    assert.equal((await b.services.ocm.received.list('marie')).some((s) => s.remoteShareId === 'big'), false);
  });

  it('forged notifications are 403 and change nothing; unknown types are recorded with 201', async () => {
    const share = { ...good(), providerId: 'keep-me' };
    assert.equal((await post('/ocm/shares', JSON.stringify(share))).status, 201);
    const forged = { notificationType: 'SHARE_UNSHARED', resourceType: 'file', providerId: 'keep-me', notification: { sharedSecret: 'guess-guess-guess' } };
    assert.equal((await post('/ocm/notifications', JSON.stringify(forged))).status, 403);
    const noSecret = { notificationType: 'SHARE_UNSHARED', resourceType: 'file', providerId: 'keep-me' };
    assert.equal((await post('/ocm/notifications', JSON.stringify(noSecret))).status, 403);
    const accepted = { notificationType: 'SHARE_ACCEPTED', resourceType: 'file', providerId: 'keep-me', notification: { sharedSecret: share.protocol.webdav.sharedSecret } };
    assert.equal((await post('/ocm/notifications', JSON.stringify(accepted))).status, 403, 'no such sent share here');
    assert.equal((await b.services.ocm.received.list('marie')).some((s) => s.remoteShareId === 'keep-me'), true);
    const other = { notificationType: 'USER_REMOVED', resourceType: 'user', providerId: 'einstein' };
    assert.equal((await post('/ocm/notifications', JSON.stringify(other))).status, 201);
    const health = await fetch(b.url + '/healthz');
    assert.equal(health.status, 200);
  });

  it('the ScienceMesh endpoints need a user', async () => {
    const res = await fetch(b.url + '/sciencemesh/received-shares');
    assert.equal(res.status, 401);
    const bad = await client(b, 'marie', 'wrong password').get('/sciencemesh/received-shares');
    assert.equal(bad.status, 401);
  });
});
