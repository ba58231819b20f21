import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCanary, snapshot, type Canary } from './canary.js';
import { replay, type HostileCase } from './replay.js';

const DIR = join(import.meta.dirname, '../../fixtures/hostile');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const corpus = files.map((f) => ({ file: f, ...(JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { about: string; cases: HostileCase[] }) }));

describe('hostile-input corpus (fixtures/hostile)', function () {
  this.timeout(300_000);
  let c: Canary;
  let initial: unknown;

  before(async () => {
    c = await startCanary();
    initial = await snapshot(c);
  });
  after(() => c?.stop());

  it('holds at least 200 requests across DAV, OCM, EFSS, ScienceMesh and share endpoints', () => {
    const total = corpus.reduce((n, f) => n + f.cases.length, 0);
    assert.ok(total >= 200, `only ${total} cases`);
    for (const area of ['dav-', 'ocm', 'efss', 'sciencemesh', 'share-endpoint']) assert.ok(files.some((f) => f.startsWith(area)), area);
  });

  for (const f of corpus) {
    it(`${f.file}: every request gets its documented 4xx, never a 5xx (${f.cases.length} cases)`, async () => {
      const wrong: string[] = [];
      for (const hc of f.cases) {
        const node = hc.target === 'B' ? c.b : c.a;
        const r = await replay(node.url, hc, c.vars, node.config.revaSecret);
        const expected = Array.isArray(hc.expect) ? hc.expect : [hc.expect];
        if (typeof r.status !== 'number' || !expected.includes(r.status)) {
          wrong.push(`  ${hc.name}: got ${r.status}${r.detail ? ` (${r.detail})` : ''}, expected ${expected.join('|')}`);
        }
      }
      assert.equal(wrong.length, 0, `${wrong.length} of ${f.cases.length} unexpected:\n${wrong.join('\n')}`);
    });
  }

  it('leaves both nodes serving and the canary world unchanged', async () => {
    for (const node of [c.a, c.b]) assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
    const auth = 'Basic ' + Buffer.from(`alice:${c.vars.password}`).toString('base64');
    const res = await fetch(`${c.a.url}/remote.php/dav/files/alice/canary/a.txt`, { headers: { authorization: auth } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'alpha content\n');
    assert.deepEqual(await snapshot(c), initial);
  });
});
