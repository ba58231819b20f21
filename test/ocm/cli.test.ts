import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestNode } from '../support/node.js';
import { domainOf, freePort, PASSWORD, putFile, startMesh } from './mesh.js';

const BIN = fileURLToPath(new URL('../../bin/meshdav.js', import.meta.url));

function meshdav(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
    else child.stdin!.end();
  });
}

describe('meshdav invite / contacts / share (CLI against two real nodes)', function () {
  this.timeout(120_000);
  let a: TestNode, b: TestNode;
  const as = (node: TestNode, user: string) => ({ MESHDAV_URL: node.url, MESHDAV_USER: user, MESHDAV_PASSWORD: PASSWORD });

  before(async () => {
    [a, b] = await startMesh(2, {
      users: [[['einstein', 'Albert Einstein', 'einstein@a.example']], [['marie', 'Marie Curie', 'marie@b.example']]],
    });
    await putFile(a, 'einstein', '/notes/todo.txt', 'todo');
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('runs the whole flow from the command line', async () => {
    const gen = await meshdav(['invite', 'generate', '--json', '--description', 'cli'], as(a, 'einstein'));
    assert.equal(gen.code, 0, gen.stderr);
    const invite = JSON.parse(gen.stdout);
    const acc = await meshdav(['invite', 'accept', invite.invite_string, '--url', b.url, '--user', 'marie', '--password-stdin'], {}, PASSWORD + '\n');
    assert.equal(acc.code, 0, acc.stderr);
    assert.match(acc.stdout, /Albert Einstein \(einstein@/);
    const again = await meshdav(['invite', 'accept', invite.invite_link], as(b, 'marie'));
    assert.equal(again.code, 6, 'conflict exit code');
    assert.match(again.stderr, /already accepted/);

    const contacts = await meshdav(['contacts', '--search', 'mar'], as(a, 'einstein'));
    assert.equal(contacts.code, 0, contacts.stderr);
    assert.match(contacts.stdout, new RegExp(`marie@${domainOf(b).replace(/\./g, '\\.')}\\tMarie Curie`));

    const created = await meshdav(['share', 'create', '/notes', `marie@${domainOf(b)}`, '--role', 'editor', '--json'], as(a, 'einstein'));
    assert.equal(created.code, 0, created.stderr);
    const sent = JSON.parse(created.stdout);
    assert.equal(sent.role, 'editor');

    const list = await meshdav(['share', 'list', '--received', '--json'], as(b, 'marie'));
    const received = JSON.parse(list.stdout).received;
    assert.equal(received.length, 1);
    const accepted = await meshdav(['share', 'accept', received[0].id], as(b, 'marie'));
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /notes: accepted/);

    const revoked = await meshdav(['share', 'revoke', sent.id], as(a, 'einstein'));
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(JSON.parse((await meshdav(['share', 'list', '--json'], as(b, 'marie'))).stdout).received.length, 0);

    const del = await meshdav(['contacts', 'delete', `marie@${domainOf(b)}`], as(a, 'einstein'));
    assert.equal(del.code, 0, del.stderr);
  });

  it('fails with one actionable line', async () => {
    const port = await freePort();
    const down = await meshdav(['share', 'list'], { MESHDAV_URL: `http://127.0.0.1:${port}`, MESHDAV_USER: 'x', MESHDAV_PASSWORD: 'y' });
    assert.equal(down.code, 3);
    assert.equal(down.stderr, `meshdav: cannot reach http://127.0.0.1:${port}: connection refused — is \`meshdav serve\` running?\n`);
    const auth = await meshdav(['invite', 'list'], { ...as(a, 'einstein'), MESHDAV_PASSWORD: 'wrong' });
    assert.equal(auth.code, 4);
    assert.match(auth.stderr, /^meshdav: authentication failed for user einstein/);
    const nouser = await meshdav(['invite', 'list'], { MESHDAV_URL: a.url });
    assert.equal(nouser.code, 2);
    assert.match(nouser.stderr, /--user/);
    const notContact = await meshdav(['share', 'create', '/notes', `pierre@${domainOf(b)}`], as(a, 'einstein'));
    assert.equal(notContact.code, 8);
    assert.match(notContact.stderr, /not a contact/);
  });
});
