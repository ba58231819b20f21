/**
 * Removing a user (src/user-removal.ts): through the running node's admin endpoint between two
 * real sites, where the other site is told about every share; and `meshdav user delete` on a
 * stopped node's data directory.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestNode } from '../support/node.js';
import { runCli } from '../cli/support.js';
import { tempDir } from '../support/node.js';
import { client, domainOf, PASSWORD, putFile, startMesh } from '../ocm/mesh.js';

/** The CLI as a user runs it (test/cli/support.ts). */
const meshdav = (args: string[], input = '') => runCli(args, { input });

/** Keys of a LevelDB sublevel of a node's database that start with `prefix`. */
async function keysWith(node: TestNode, sublevel: string[], prefix: string): Promise<string[]> {
  const sub = node.services.db.sublevel<string, unknown>(sublevel, { valueEncoding: 'json' });
  return sub.keys({ gte: prefix, lt: prefix + '\uffff' }).all();
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('removing a user', function () {
  this.timeout(60_000);
  let a: TestNode, b: TestNode;

  before(async () => {
    [a, b] = await startMesh(2, {
      users: [
        [['einstein', 'Albert Einstein', 'e@a.example'], ['bohr', 'Niels Bohr', 'n@a.example']],
        [['marie', 'Marie Curie', 'm@b.example']],
      ],
    });
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('through the admin endpoint: revokes and declines their shares (the other site is told), then deletes their files, metadata, contacts, invites and account', async () => {
    // einstein and marie exchange an invite and share with each other; einstein has files,
    // an old version, something in the trash, and an invite nobody accepted yet.
    const inv = (await client(a, 'einstein').post('/sciencemesh/generate-invite')).json;
    assert.equal((await client(b, 'marie').post('/sciencemesh/accept-invite', { invite_string: inv.invite_string })).status, 200);
    await putFile(a, 'einstein', '/paper/draft.txt', 'v1');
    await putFile(a, 'einstein', '/paper/draft.txt', 'v2');
    await putFile(a, 'einstein', '/old.txt', 'to the trash');
    assert.equal((await client(a, 'einstein').call('DELETE', '/remote.php/dav/files/einstein/old.txt')).status, 204);
    await putFile(a, 'bohr', '/mine.txt', 'bohr keeps this');
    const sent = await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath: '/paper', recipientUsername: 'marie', recipientHost: domainOf(b), role: 'viewer' });
    assert.equal(sent.status, 201, sent.text);
    const onB = (await b.services.ocm.received.list('marie'))[0]!;
    await b.services.ocm.received.accept('marie', onB.id);
    await putFile(b, 'marie', '/radium.txt', 'Ra');
    const back = await client(b, 'marie').post('/sciencemesh/create-share', { sourcePath: '/radium.txt', recipientUsername: 'einstein', recipientHost: domainOf(a), role: 'viewer' });
    assert.equal(back.status, 201, back.text);
    const toEinstein = (await a.services.ocm.received.list('einstein'))[0]!;
    await a.services.ocm.received.accept('einstein', toEinstein.id);
    const pending = (await client(a, 'einstein').post('/sciencemesh/generate-invite')).json;
    assert.equal((await a.services.ocm.invites.list('einstein')).length, 2);
    await until(async () => a.services.mounts.mountedShares('einstein').length === 1, 'marie\'s share to be mounted for einstein');

    const res = await fetch(`${a.url}/admin/users/einstein`, { method: 'DELETE', headers: { authorization: `Bearer ${a.config.loopbackSecret}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { user: 'einstein', sharesRevoked: 1, sharesDeclined: 1, contacts: 1, invites: 2 });

    // On A: nothing of einstein is left.
    assert.equal(await a.services.users.get('einstein'), undefined);
    assert.equal((await client(a, 'einstein').call('PROPFIND', '/remote.php/dav/files/einstein/', undefined, { depth: '0' })).status, 401);
    for (const dir of ['files', 'versions', 'trash']) assert.equal(existsSync(join(a.config.dataDir, dir, 'einstein')), false, dir);
    for (const sub of ['entries', 'versions', 'trash', 'trashEntries', 'sums', 'intents']) {
      assert.deepEqual(await keysWith(a, ['storage', sub], 'einstein:'), [], `storage ${sub}`);
    }
    const ids = a.services.db.sublevel<string, string>(['storage', 'ids'], { valueEncoding: 'utf8' });
    assert.deepEqual((await ids.values().all()).filter((v) => v.startsWith('einstein:')), [], 'no file id points into his home');
    assert.deepEqual(a.services.mounts.mountedShares('einstein'), [], 'nothing mounted for him');
    assert.deepEqual(await a.services.ocm.sent.list('einstein'), []);
    assert.deepEqual(await a.services.ocm.received.list('einstein'), []);
    assert.deepEqual(await a.services.ocm.contacts.list('einstein'), []);
    assert.deepEqual(await a.services.ocm.invites.list('einstein'), []);
    const late = await client(b, 'marie').post('/sciencemesh/accept-invite', { invite_string: pending.invite_string });
    assert.ok(late.status >= 400 && late.status < 500, `an invite of a removed user is refused (${late.status})`);
    // bohr is untouched.
    assert.equal((await client(a, 'bohr').call('GET', '/remote.php/dav/files/bohr/mine.txt')).text, 'bohr keeps this');

    // On B: the share from einstein is gone (SHARE_UNSHARED), the one to him is declined (SHARE_DECLINED).
    await until(async () => (await b.services.ocm.received.list('marie')).length === 0, 'the share from einstein to disappear on B');
    const listing = await client(b, 'marie').call('PROPFIND', '/remote.php/dav/files/marie/Shares/', undefined, { depth: '1' });
    assert.doesNotMatch(listing.text, /paper/);
    await until(async () => (await b.services.ocm.sent.list('marie'))[0]?.state === 'declined', 'marie\'s share to be declined');
  });

  it('finishes a removal that was interrupted: the user was already unknown and locked out, and their data goes when it is run again', async () => {
    await putFile(a, 'bohr', '/notes.txt', 'n');
    // As if a removal had stopped right after its first step (a crash).
    await a.services.users.markRemoving('bohr');
    assert.equal(await a.services.users.get('bohr'), undefined);
    assert.ok(!(await a.services.users.list()).some((u) => u.name === 'bohr'), 'not listed');
    assert.equal((await client(a, 'bohr').call('PROPFIND', '/remote.php/dav/files/bohr/', undefined, { depth: '0' })).status, 401, 'cannot log in');
    assert.equal((await a.services.users.add({ name: 'bohr', password: PASSWORD }).catch((e: Error) => e)).constructor.name, 'AlreadyExistsError', 'the name is not free yet');
    assert.ok(existsSync(join(a.config.dataDir, 'files', 'bohr')));
    const res = await fetch(`${a.url}/admin/users/bohr`, { method: 'DELETE', headers: { authorization: `Bearer ${a.config.loopbackSecret}` } });
    assert.equal(res.status, 200);
    assert.equal(existsSync(join(a.config.dataDir, 'files', 'bohr')), false);
    await a.services.users.add({ name: 'bohr', password: PASSWORD });
    const fresh = await client(a, 'bohr').call('PROPFIND', '/remote.php/dav/files/bohr/', undefined, { depth: '1' });
    assert.equal(fresh.status, 207, 'the name is free again');
    assert.doesNotMatch(fresh.text, /mine\.txt|notes\.txt/, 'with an empty home');
  });

  it('answers 404 for an unknown user', async () => {
    const res = await fetch(`${a.url}/admin/users/nobody`, { method: 'DELETE', headers: { authorization: `Bearer ${a.config.loopbackSecret}` } });
    assert.equal(res.status, 404);
  });

  it('meshdav user delete: asks for --yes, then deletes on a stopped node\'s data directory', async () => {
    const dir = tempDir('user-delete-');
    assert.equal((await meshdav(['user', 'add', 'ada', '--password-stdin', '--data', dir], PASSWORD + '\n')).code, 0);
    assert.equal((await meshdav(['user', 'add', 'alan', '--password-stdin', '--data', dir], PASSWORD + '\n')).code, 0);
    const refused = await meshdav(['user', 'delete', 'ada', '--data', dir]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--yes/);
    const done = await meshdav(['user', 'delete', 'ada', '--yes', '--data', dir]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /user ada deleted/);
    const list = await meshdav(['user', 'list', '--data', dir]);
    assert.match(list.stdout, /^alan/m);
    assert.doesNotMatch(list.stdout, /^ada/m);
    assert.equal((await meshdav(['user', 'delete', 'ada', '--yes', '--data', dir])).code, 5, 'not found');
  });
});
