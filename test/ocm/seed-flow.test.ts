import assert from 'node:assert/strict';
import type { TestNode } from '../support/node.js';
import { client, domainOf, putFile, raw, startMesh } from './mesh.js';

describe('OCM seed flow between two real nodes', function () {
  this.timeout(60_000);
  let a: TestNode; // sender (einstein)
  let b: TestNode; // receiver (marie)

  before(async () => {
    [a, b] = await startMesh(2, {
      users: [[['einstein', 'Albert Einstein', 'einstein@a.example']], [['marie', 'Marie Curie', 'marie@b.example']]],
    });
    await putFile(a, 'einstein', '/docs/relativity.txt', 'E = mc^2\n');
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('serves discovery at /.well-known/ocm and /ocm-provider', async () => {
    for (const p of ['/.well-known/ocm', '/ocm-provider']) {
      const res = await fetch(a.url + p);
      assert.equal(res.status, 200);
      const doc = await res.json();
      assert.equal(doc.endPoint, `${a.url}/ocm`);
      assert.equal(doc.enabled, true);
      assert.deepEqual(doc.resourceTypes.map((r: { name: string }) => r.name), ['file', 'folder']);
      assert.equal(doc.resourceTypes[0].protocols.webdav, '/remote.php/dav/ocm/');
      assert.deepEqual(doc.criteria, ['must-invite']);
    }
  });

  it('runs invite → accept → autocomplete → share → accept → read → revoke → 401', async () => {
    const einstein = client(a, 'einstein');
    const marie = client(b, 'marie');

    const inv = await einstein.post('/sciencemesh/generate-invite', { description: 'for marie' });
    assert.equal(inv.status, 200, inv.text);
    assert.ok(inv.json.token.length >= 22);
    assert.equal(Buffer.from(inv.json.invite_string, 'base64').toString(), `${inv.json.token}@${domainOf(a)}`);
    assert.match(inv.json.invite_link, /\/accept-invite\?token=/);
    assert.ok(inv.json.expiration > Date.now() / 1000);

    const acc = await marie.post('/sciencemesh/accept-invite', { token: inv.json.token, providerDomain: domainOf(a) });
    assert.equal(acc.status, 200, acc.text);
    assert.equal(acc.json.user_id, 'einstein');
    assert.equal(acc.json.display_name, 'Albert Einstein');

    // Both sides hold each other as contacts.
    const mine = await marie.get('/sciencemesh/find-accepted-users');
    assert.deepEqual(mine.json, [{ display_name: 'Albert Einstein', idp: domainOf(a), user_id: 'einstein', mail: 'einstein@a.example' }]);
    const auto = await einstein.get('/sciencemesh/find-accepted-users?search=Mar');
    assert.deepEqual(auto.json, [{ display_name: 'Marie Curie', idp: domainOf(b), user_id: 'marie', mail: 'marie@b.example' }]);
    assert.deepEqual((await einstein.get('/sciencemesh/find-accepted-users?search=zz')).json, []);
    const ocs = await einstein.get('/ocs/v2.php/apps/files_sharing/api/v1/sharees?search=cur&format=json');
    assert.equal(ocs.status, 200);
    assert.equal(ocs.json.ocs.data.remotes[0].value.shareWith, `marie@${domainOf(b)}`);

    const sent = await einstein.post('/sciencemesh/create-share', {
      sourcePath: '/docs/relativity.txt',
      recipientUsername: 'marie',
      recipientHost: domainOf(b),
      role: 'viewer',
    });
    assert.equal(sent.status, 201, sent.text);
    assert.equal(sent.json.name, 'relativity.txt');
    assert.equal(sent.json.secret, undefined, 'secrets are never listed');

    const pending = await marie.get('/sciencemesh/received-shares');
    assert.equal(pending.json.length, 1);
    assert.equal(pending.json[0].state, 'pending');
    assert.equal(pending.json[0].owner, `einstein@${domainOf(a)}`);
    const received = pending.json[0];

    const accepted = await marie.post(`/sciencemesh/received-shares/${received.id}/accept`);
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(accepted.json.state, 'accepted');
    assert.equal(accepted.json.mountPoint, '/Shares/relativity.txt');
    // The receiver reads it through its own WebDAV home (the mount fetches from the sender).
    const viaMount = await marie.get('/remote.php/dav/files/marie/Shares/relativity.txt');
    assert.equal(viaMount.status, 200);
    assert.equal(viaMount.text, 'E = mc^2\n');
    const sentList = await einstein.get('/sciencemesh/sent-shares');
    assert.equal(sentList.json[0].state, 'accepted', 'SHARE_ACCEPTED reached the sender');

    // Read the file through the share endpoint with the secret the receiver holds.
    const rec = (await b.services.ocm.received.list('marie'))[0]!;
    assert.equal(rec.webdav.uri, `${a.url}/remote.php/dav/ocm/${sent.json.id}`);
    const bearer = { authorization: `Bearer ${rec.webdav.sharedSecret}` };
    const got = await raw(rec.webdav.uri, { headers: bearer });
    assert.equal(got.status, 200);
    assert.equal(got.text, 'E = mc^2\n');
    const basic = { authorization: 'Basic ' + Buffer.from(`${rec.webdav.sharedSecret}:`).toString('base64') };
    assert.equal((await raw(rec.webdav.uri, { headers: basic })).text, 'E = mc^2\n');
    assert.equal((await raw(`${a.url}/public.php/webdav`, { headers: basic })).text, 'E = mc^2\n');

    // A rename on the sender keeps the share working (stable file id).
    const home = await a.services.storage.home('einstein');
    await home.move('/docs/relativity.txt', '/docs/renamed.txt', { overwrite: false });
    assert.equal((await raw(rec.webdav.uri, { headers: bearer })).status, 200);

    // Read-only: writes are refused.
    const put = await raw(rec.webdav.uri, { method: 'PUT', headers: bearer, body: 'x' });
    assert.equal(put.status, 403);

    const revoked = await einstein.del(`/sciencemesh/sent-shares/${sent.json.id}`);
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal((await raw(rec.webdav.uri, { headers: bearer })).status, 401);
    assert.deepEqual((await marie.get('/sciencemesh/received-shares')).json, [], 'SHARE_UNSHARED removed it');
    assert.equal((await marie.get('/remote.php/dav/files/marie/Shares/relativity.txt')).status, 404, 'and unmounted it');
    assert.deepEqual((await einstein.get('/sciencemesh/sent-shares')).json, []);

    // Secrets and tokens never reach a log line on either side.
    const logs = [...a.logLines, ...b.logLines].join('\n');
    assert.ok(logs.length > 0);
    for (const secret of [rec.webdav.sharedSecret, inv.json.token]) assert.ok(!logs.includes(secret), 'a secret was logged');
  });

  it('decline reaches the sender; GET generate-invite, list-providers and OCS v1 XML work too', async () => {
    const einstein = client(a, 'einstein');
    const marie = client(b, 'marie');
    const inv = await einstein.get('/sciencemesh/generate-invite?description=via%20GET');
    assert.equal(inv.status, 200);
    assert.equal(inv.json.description, 'via GET');
    const listed = await einstein.get('/sciencemesh/list-invite');
    assert.ok(listed.json.some((i: { token: string }) => i.token === inv.json.token));

    const providers = await marie.get('/sciencemesh/list-providers?search=127');
    assert.deepEqual(providers.json, [{ full_name: a.url, domain: domainOf(a) }]);

    const xml = await einstein.get('/ocs/v1.php/apps/files_sharing/api/v1/sharees?search=marie');
    assert.equal(xml.status, 200);
    assert.match(xml.text, /<statuscode>100<\/statuscode>/);
    assert.match(xml.text, new RegExp(`<shareWith>marie@${domainOf(b).replace(/\./g, '\\.')}</shareWith>`));

    await putFile(a, 'einstein', '/declined.txt', 'no thanks');
    const sent = await einstein.post('/ocm/send', { sourcePath: '/home/declined.txt', targetPath: '/', type: 'file', recipientUsername: 'marie', recipientHost: domainOf(b), role: 'editor' });
    assert.equal(sent.status, 201, sent.text);
    const rec = (await marie.get('/sciencemesh/received-shares')).json.find((r: { name: string }) => r.name === 'declined.txt');
    assert.equal(rec.role, 'editor');
    const declined = await marie.post(`/sciencemesh/received-shares/${rec.id}/decline`);
    assert.equal(declined.json.state, 'declined');
    const mine = (await einstein.get('/sciencemesh/sent-shares')).json.find((s: { id: string }) => s.id === sent.json.id);
    assert.equal(mine.state, 'declined');
    assert.equal((await marie.post('/sciencemesh/received-shares/no-such-id/accept')).status, 404);
  });
});
