import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { client, domainOf, freePort, PASSWORD, putFile, raw } from './mesh.js';

describe('OCM records survive a restart', function () {
  this.timeout(60_000);
  let a: TestNode | undefined, b: TestNode | undefined;
  const dirA = tempDir('meshdav-ocm-a-');

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    rmSync(dirA, { recursive: true, force: true });
  });

  it('keeps contacts, invites and shares, and the share secret still opens the share', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const urlA = `http://127.0.0.1:${pa}`;
    const urlB = `http://127.0.0.1:${pb}`;
    a = await startTestNode({ port: pa, dataDir: dirA, trustedProviders: [urlB] }, { keepData: true });
    b = await startTestNode({ port: pb, trustedProviders: [urlA] });
    await a.services.users.add({ name: 'einstein', password: PASSWORD, displayName: 'Albert Einstein', email: 'einstein@a.example' });
    await b.services.users.add({ name: 'marie', password: PASSWORD, displayName: 'Marie Curie', email: 'marie@b.example' });
    await putFile(a, 'einstein', '/kept.txt', 'kept');
    const inv = (await client(a, 'einstein').post('/sciencemesh/generate-invite')).json;
    assert.equal((await client(b, 'marie').post('/sciencemesh/accept-invite', { invite_string: inv.invite_string })).status, 200);
    const sent = (await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath: '/kept.txt', recipientUsername: 'marie', recipientHost: domainOf(b), role: 'viewer' })).json;
    const secret = (await b.services.ocm.received.list('marie'))[0]!.webdav.sharedSecret;

    await a.stop();
    a = await startTestNode({ port: pa, dataDir: dirA, trustedProviders: [urlB] }, { keepData: true });

    const einstein = client(a, 'einstein');
    assert.equal((await einstein.get('/sciencemesh/find-accepted-users')).json[0].user_id, 'marie');
    assert.equal((await einstein.get('/sciencemesh/list-invite')).json[0].accepted, true);
    assert.equal((await einstein.get('/sciencemesh/sent-shares')).json[0].id, sent.id);
    assert.equal((await raw(`${a.url}/remote.php/dav/ocm/${sent.id}`, { headers: { authorization: `Bearer ${secret}` } })).text, 'kept');
    // And revocation after the restart still reaches the receiver.
    assert.equal((await einstein.del(`/sciencemesh/sent-shares/${sent.id}`)).status, 200);
    assert.deepEqual(await b.services.ocm.received.list('marie'), []);
  });
});
