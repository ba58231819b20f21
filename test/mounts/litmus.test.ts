/**
 * litmus against a writable mounted share: A shares a folder (editor) with B over OCM; litmus
 * runs against B's DAV URL of `/Shares/{name}/`, so every request goes client → B → A.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestNode } from '../support/node.js';
import { tempDir } from '../support/node.js';
import { needTool } from '../support/tools.js';
import { run } from '../clients/support.js';
import { PASSWORD, client, domainOf, putFile, startMesh } from '../ocm/mesh.js';

const SUITES = ['basic', 'copymove', 'props', 'locks', 'http'] as const;

describe('mounts: litmus against a writable mounted share', function () {
  this.timeout(240_000);
  let a: TestNode;
  let b: TestNode;
  let url: string;
  let work: string;

  before(async function () {
    needTool(this, 'litmus');
    [a, b] = await startMesh(2, { users: [[['einstein', 'Albert Einstein', 'e@a.example']], [['marie', 'Marie Curie', 'm@b.example']]] });
    await putFile(a, 'einstein', '/lit/readme.txt', 'litmus lives here');
    const inv = await client(a, 'einstein').post('/sciencemesh/generate-invite', {});
    await client(b, 'marie').post('/sciencemesh/accept-invite', { token: inv.json.token, providerDomain: domainOf(a) });
    await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath: '/lit', recipientUsername: 'marie', recipientHost: domainOf(b), role: 'editor' });
    const [share] = (await client(b, 'marie').get('/sciencemesh/received-shares')).json;
    assert.equal((await client(b, 'marie').post(`/sciencemesh/received-shares/${share.id}/accept`)).status, 200);
    url = `${b.url}/remote.php/dav/files/marie/Shares/lit/`;
    work = tempDir('mount-litmus-');
  });
  after(() => Promise.all([a?.stop(), b?.stop()]));

  for (const suite of SUITES) {
    it(`passes the "${suite}" suite through the mount`, async () => {
      const cwd = join(work, suite);
      mkdirSync(cwd, { recursive: true });
      const r = await run('litmus', [url, 'marie', PASSWORD], { cwd, env: { TESTS: suite }, timeoutMs: 200_000 });
      const m = new RegExp(`<- summary for \`${suite}': of (\\d+) tests run: (\\d+) passed, (\\d+) failed`).exec(r.stdout);
      const failures = r.stdout.split('\n').filter((l) => /\b(FAIL|SKIPPED)\b/.test(l));
      assert.ok(m, `no summary (trace: ${join(cwd, 'debug.log')})\n${r.stdout}\n${r.stderr}`);
      console.log(`      ${m[0]}`);
      assert.equal(Number(m[3]), 0, `${suite}: failures (trace: ${join(cwd, 'debug.log')})\n  ${failures.join('\n  ')}`);
      assert.equal(failures.length, 0, failures.join('\n'));
    });
  }
});
