/**
 * What revad sees of a received share: two real nodes, an OCM share from A accepted on B; B's
 * EFSS API lists and streams the mounted share with the share's permissions and the remote owner.
 */
import { strict as assert } from 'node:assert';
import type { TestNode } from '../support/node.js';
import { client, domainOf, putFile, startMesh } from '../ocm/mesh.js';
import { rawRequest } from './replay.js';

describe('EFSS on a mounted received share', function () {
  this.timeout(60_000);
  let a: TestNode;
  let b: TestNode;

  const efss = (verb: string, body?: unknown, method = 'POST') =>
    rawRequest(b.url, method, `/apps/sciencemesh/~marie/api/storage/${verb}`, { 'x-reva-secret': b.config.revaSecret, 'content-type': 'application/json' },
      body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));

  before(async () => {
    [a, b] = await startMesh(2, { users: [[['einstein', 'Albert Einstein', 'e@a.example']], [['marie', 'Marie Curie', 'm@b.example']]] });
    await putFile(a, 'einstein', '/papers/relativity.txt', 'E = mc^2\n');
    const inv = await client(a, 'einstein').post('/sciencemesh/generate-invite', {});
    const acc = await client(b, 'marie').post('/sciencemesh/accept-invite', { token: inv.json.token, providerDomain: domainOf(a) });
    assert.ok(acc.status < 300, acc.text);
    const sent = await client(a, 'einstein').post('/sciencemesh/create-share', {
      sourcePath: '/papers', recipientUsername: 'marie', recipientHost: domainOf(b), role: 'viewer',
    });
    assert.equal(sent.status, 201, sent.text);
    const list = await client(b, 'marie').get('/sciencemesh/received-shares');
    const rec = list.json.find((s: { state: string }) => s.state === 'pending');
    assert.equal((await client(b, 'marie').post(`/sciencemesh/received-shares/${rec.id}/accept`)).status, 200);
  });
  after(() => Promise.all([a?.stop(), b?.stop()]));

  it('lists the share with its permissions and the remote owner', async () => {
    const r = await efss('ListFolder', { ref: { path: '/home/Shares/papers' }, mdKeys: null });
    assert.equal(r.status, 200, r.text);
    const items = JSON.parse(r.text) as Array<{ path: string; permissions: number; owner: { opaque_id: string; idp: string }; size: number; type: number }>;
    assert.deepEqual(items.map((i) => [i.path, i.type, i.size]), [['/home/Shares/papers/relativity.txt', 1, 9]]);
    assert.equal(items[0]!.permissions & 2, 0, 'a viewer share must not report the update bit');
    assert.ok([1, 15, 31, 4].includes(items[0]!.permissions), `permissions ${items[0]!.permissions} is none of the values reva v3 maps to a role`);
    assert.ok(items[0]!.permissions & 1, 'read bit');
    assert.deepEqual(items[0]!.owner, { opaque_id: 'einstein', idp: domainOf(a) });
  });

  it('streams content from the sender and refuses writes into a read-only share', async () => {
    const got = await efss('Download/home/Shares/papers/relativity.txt', undefined, 'GET');
    assert.equal(got.status, 200);
    assert.equal(got.text, 'E = mc^2\n');
    const put = await efss('Upload/home/Shares/papers/new.txt', 'nope', 'PUT');
    assert.equal(put.status, 403, put.text);
    const home = await a.services.storage.home('einstein');
    await assert.rejects(home.stat('/papers/new.txt'));
  });
});

describe('revaRole', () => {
  it('maps every permission mask to one of the values reva v3 knows', async () => {
    const { revaRole } = await import('../../src/storage/efss/resource.js');
    assert.deepEqual([31, 27, 15, 19, 3, 17, 1, 4, 0].map(revaRole), [31, 15, 15, 15, 15, 1, 1, 4, 0]);
    for (let m = 0; m < 32; m++) assert.ok([0, 1, 4, 15, 31].includes(revaRole(m)), String(m));
  });
});
