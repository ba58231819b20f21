import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TestNode } from '../support/node.js';
import { client, domainOf, postAs, putFile, raw, startMesh } from './mesh.js';

function fixture(name: string, vars: Record<string, string>): any {
  let text = readFileSync(new URL(`../../fixtures/ocm/${name}`, import.meta.url), 'utf8');
  for (const [k, v] of Object.entries(vars)) text = text.split(`{{${k}}}`).join(v);
  return JSON.parse(text);
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return answer(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));
}

/** POSTs a fixture to an OCM API as sender node `from` (signed, as Nextcloud 31+ signs; the payload's shape is what is tested). */
async function postOcm(from: TestNode, url: string, body: unknown) {
  return answer(await postAs(from, url, JSON.stringify(body)));
}

async function answer(res: Response) {
  const text = await res.text();
  return { status: res.status, text, json: text ? (() => { try { return JSON.parse(text); } catch { return undefined; } })() : undefined };
}

describe('OCM payloads as Nextcloud and reva send them (fixtures)', function () {
  this.timeout(60_000);
  let a: TestNode, b: TestNode;
  let vars: Record<string, string>;

  before(async () => {
    [a, b] = await startMesh(2, {
      users: [[['einstein', 'Albert Einstein', 'einstein@a.example']], [['marie', 'Marie Curie', 'marie@b.example']]],
    });
    const inv = (await client(a, 'einstein').post('/sciencemesh/generate-invite')).json;
    const ok = await client(b, 'marie').post('/sciencemesh/accept-invite', { invite_string: inv.invite_string });
    assert.equal(ok.status, 200, ok.text);
    vars = { SENDER_DOMAIN: domainOf(a), SENDER_URL: a.url, RECIPIENT: 'marie', RECIPIENT_DOMAIN: domainOf(b) };
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('accepts an OCM 1.0 share as Nextcloud sends it (empty uri → sender WebDAV root, legacy)', async () => {
    const res = await postOcm(a, `${b.url}/ocm/shares`, fixture('share-nextcloud-1.0.json', vars));
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.recipientDisplayName, 'Marie Curie');
    const rec = (await b.services.ocm.received.list('marie')).find((s) => s.name === 'nextcloud-report.pdf')!;
    assert.equal(rec.state, 'pending');
    assert.equal(rec.owner, `einstein@${domainOf(a)}`);
    assert.equal(rec.webdav.legacy, true);
    assert.equal(rec.webdav.uri, `${a.url}/remote.php/dav/ocm`);
    assert.equal(rec.webdav.sharedSecret, 'hfiuhworzwnur98d3wjiwhr-nextcloud-legacy');
    assert.deepEqual(rec.webdav.permissions, ['read']);
  });

  it('removes it on SHARE_UNSHARED as Nextcloud sends it; a replay is 403', async () => {
    const note = fixture('notification-nextcloud-unshared.json', vars);
    const res = await postOcm(a, `${b.url}/ocm/notifications`, note);
    assert.equal(res.status, 201, res.text);
    assert.equal((await b.services.ocm.received.list('marie')).some((s) => s.name === 'nextcloud-report.pdf'), false);
    assert.equal((await postOcm(a, `${b.url}/ocm/notifications`, note)).status, 403);
  });

  it('accepts a 1.1 multi share as reva sends it (absolute uri, id@host@host sender)', async () => {
    const res = await postOcm(a, `${b.url}/ocm/shares`, fixture('share-reva-multi.json', vars));
    assert.equal(res.status, 201, res.text);
    const rec = (await b.services.ocm.received.list('marie')).find((s) => s.name === 'reva-folder')!;
    assert.equal(rec.resourceType, 'folder');
    assert.equal(rec.sender, `einstein@${domainOf(a)}`);
    assert.equal(rec.webdav.uri, `${a.url}/remote.php/dav/ocm/9f3c6a1e-5a0b-4d43-a7c2-0d5b1f3c2e11`);
    assert.deepEqual(rec.webdav.permissions, ['read', 'write']);
    assert.equal(rec.webdav.legacy, false);
  });

  it('accepts a 1.3 protocol object with a relative uri, resolved against discovery', async () => {
    const res = await postOcm(a, `${b.url}/ocm/shares`, fixture('share-ocm13-protocol-object.json', vars));
    assert.equal(res.status, 201, res.text);
    const rec = (await b.services.ocm.received.list('marie')).find((s) => s.name === 'spec.yaml')!;
    assert.equal(rec.webdav.uri, `${a.url}/remote.php/dav/ocm/7c084226-d9a1-11e6-bf26-cec0c932ce01`);
    assert.equal(rec.expiresAt, 4102444800 * 1000);
  });

  describe("revad's OCM share store", () => {
    const reva = (node: TestNode, user: string, verb: string, body: unknown, secret = node.config.revaSecret) =>
      postJson(`${node.url}/index.php/apps/sciencemesh/~${user}/api/ocm/${verb}`, body, { 'x-reva-secret': secret });

    it('refuses a missing or wrong X-Reva-Secret with 401 JSON', async () => {
      const res = await reva(a, 'einstein', 'ListSentShares', null, 'wrong-secret-wrong-secret');
      assert.equal(res.status, 401);
      assert.equal(typeof res.json.error, 'string');
    });

    it('addSentShare stores a share that the CLI lists, and its token opens it', async () => {
      await putFile(a, 'einstein', '/revad-shared.txt', 'via revad');
      const res = await reva(a, 'einstein', 'addSentShare', fixture('revad-addSentShare.json', { ...vars, USER: 'einstein' }));
      assert.equal(res.status, 201, res.text);
      const id = res.text;
      assert.match(id, /^[\w-]+$/);
      const listed = (await client(a, 'einstein').get('/sciencemesh/sent-shares')).json;
      const s = listed.find((x: any) => x.id === id);
      assert.equal(s.name, 'revad-shared.txt');
      assert.equal(s.recipient, `marie@${domainOf(b)}`);
      const got = await raw(`${a.url}/remote.php/dav/ocm/${id}`, { headers: { authorization: 'Bearer revad-token-7f1c9a0e3b5d4c2a9e8f' } });
      assert.equal(got.status, 200);
      assert.equal(got.text, 'via revad');

      const byToken = await reva(a, 'nobody', 'GetSentShareByToken', { Spec: { Token: 'revad-token-7f1c9a0e3b5d4c2a9e8f' } });
      assert.equal(byToken.status, 200, byToken.text);
      assert.equal(byToken.json.id.opaque_id, id);
      assert.equal(byToken.json.protocols.webdav.permissions, 1);
      assert.equal(byToken.json.grantee.id.opaque_id, 'marie');
      assert.equal(byToken.json.owner.id.opaque_id, 'einstein');
      const byId = await reva(a, 'einstein', 'GetSentShare', { Spec: { Id: { opaque_id: id } } });
      assert.equal(byId.json.token, 'revad-token-7f1c9a0e3b5d4c2a9e8f');
      const list = await reva(a, 'einstein', 'ListShares', [{ type: 4, Term: { Creator: { idp: domainOf(a), opaque_id: 'einstein', type: 1 } } }]);
      assert.ok(list.json.some((x: any) => x.id.opaque_id === id));
      assert.equal((await reva(a, 'einstein', 'Unshare', { Spec: { Id: { opaque_id: id } } })).status, 200);
      assert.equal((await raw(`${a.url}/remote.php/dav/ocm/${id}`, { headers: { authorization: 'Bearer revad-token-7f1c9a0e3b5d4c2a9e8f' } })).status, 401);
      assert.equal((await reva(a, 'einstein', 'GetSentShare', { Spec: { Id: { opaque_id: id } } })).status, 404);
    });

    it('answers under /apps/sciencemesh without /index.php too; unknown verbs 404, GET 405', async () => {
      const res = await postJson(`${a.url}/apps/sciencemesh/~einstein/api/ocm/ListSentShares`, null, { 'x-reva-secret': a.config.revaSecret });
      assert.equal(res.status, 200, res.text);
      assert.ok(Array.isArray(res.json));
      assert.equal((await reva(a, 'einstein', 'NoSuchVerb', {})).status, 404);
      const ghost = await reva(a, 'ghost', 'addSentShare', fixture('revad-addSentShare.json', { ...vars, USER: 'ghost' }));
      assert.equal(ghost.status, 404);
      const get = await fetch(`${a.url}/apps/sciencemesh/~einstein/api/ocm/ListSentShares`, { headers: { 'x-reva-secret': a.config.revaSecret } });
      assert.equal(get.status, 405);
    });

    it('lists shares created by the CLI to revad', async () => {
      await putFile(a, 'einstein', '/cli.txt', 'cli');
      const created = await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath: '/cli.txt', recipientUsername: 'marie', recipientHost: domainOf(b), role: 'editor' });
      assert.equal(created.status, 201, created.text);
      const list = await reva(a, 'einstein', 'ListSentShares', null);
      const s = list.json.find((x: any) => x.id.opaque_id === created.json.id);
      assert.equal(s.protocols.webdav.permissions, 15);
      assert.equal(s.protocols.webdav.uri, `${a.url}/remote.php/dav/ocm/${created.json.id}`);
      const recv = await reva(b, 'marie', 'ListReceivedShares', null);
      const r = recv.json.find((x: any) => x.share.name === 'cli.txt');
      assert.equal(r.state, 1);
      assert.equal(r.share.remote_share_id, created.json.id);
    });

    it('addReceivedShare / GetReceivedShare / UpdateReceivedShare on the same records', async () => {
      const res = await reva(b, 'marie', 'addReceivedShare', fixture('revad-addReceivedShare.json', { ...vars, USER: 'marie' }));
      assert.equal(res.status, 201, res.text);
      const id = res.text;
      const listed = (await client(b, 'marie').get('/sciencemesh/received-shares')).json.find((x: any) => x.id === id);
      assert.equal(listed.name, 'from-reva.txt');
      assert.equal(listed.state, 'pending');
      assert.equal(listed.resourceType, 'folder');
      assert.deepEqual(listed.permissions, ['read', 'write']);
      const got = await reva(b, 'marie', 'GetReceivedShare', { Spec: { Id: { opaque_id: id } } });
      assert.equal(got.json.state, 1);
      assert.equal(got.json.share.token, 'reva-received-secret-0123456789abcdef');
      const upd = await reva(b, 'marie', 'UpdateReceivedShare', fixture('revad-UpdateReceivedShare.json', { ID: id }));
      assert.equal(upd.status, 200, upd.text);
      assert.deepEqual(Object.keys(upd.json).sort(), ['share', 'state']);
      assert.equal(upd.json.state, 2);
      assert.equal((await b.services.ocm.received.get('marie', id)).state, 'accepted');
      assert.equal((await reva(b, 'marie', 'GetReceivedShare', { Spec: { Id: { opaque_id: 'nope' } } })).status, 404);
    });
  });
});
