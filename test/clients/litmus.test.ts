/**
 * litmus (the WebDAV compliance suite) against a live node: every one of its five suites
 * must pass every test, with none skipped, at /remote.php/dav/files/{user}/ and at the legacy
 * /remote.php/webdav/. Each suite runs in its own temporary directory,
 * whose debug.log (litmus's full HTTP trace) is named in the failure message.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { needTool } from '../support/tools.js';
import { tempDir } from '../support/node.js';
import { run, startSiteWithUser, type ClientSite } from './support.js';

const SUITES = ['basic', 'copymove', 'props', 'locks', 'http'] as const;

interface SuiteResult {
  ran: number;
  passed: number;
  failed: number;
  skipped: number;
  warnings: number;
  failures: string[];
  summary: string;
}

/** Parses litmus's output for one suite (`<- summary for `x': of N tests run: P passed, F failed.`). */
export function parseLitmus(suite: string, out: string): SuiteResult | undefined {
  const m = new RegExp(`<- summary for \`${suite}': of (\\d+) tests run: (\\d+) passed, (\\d+) failed\\.[^\\n]*`).exec(out);
  if (!m) return undefined;
  const skipped = /-> (\d+) tests? (?:was|were) skipped/.exec(out);
  const warnings = /-> (\d+) warnings? (?:was|were) issued/.exec(out);
  const failures = out
    .split('\n')
    .filter((l) => /\b(FAIL|SKIPPED)\b/.test(l) || /WARNING:/.test(l))
    .map((l) => l.replace(/^\s*\d+\.\s+\S+\s+/, '').trim());
  return {
    ran: Number(m[1]),
    passed: Number(m[2]),
    failed: Number(m[3]),
    skipped: skipped ? Number(skipped[1]) : 0,
    warnings: warnings ? Number(warnings[1]) : 0,
    failures,
    summary: m[0],
  };
}

describe('real client: litmus (WebDAV compliance, all five suites)', function () {
  this.timeout(180_000);
  let site: ClientSite;
  let work: string;

  before(async function () {
    needTool(this, 'litmus');
    site = await startSiteWithUser('alice');
    work = tempDir('litmus-');
  });
  after(async () => {
    await site?.stop();
  });

  const endpoints = [
    { label: '', dir: '', url: () => site.davUrl },
    { label: ' at the legacy /remote.php/webdav/', dir: '-legacy', url: () => `${site.url}/remote.php/webdav/` },
  ];
  for (const endpoint of endpoints) {
    for (const suite of SUITES) {
      it(`passes every test of the "${suite}" suite${endpoint.label}`, async () => {
        const cwd = join(work, suite + endpoint.dir);
        mkdirSync(cwd, { recursive: true });
        const r = await run('litmus', [endpoint.url(), site.user, site.password], {
          cwd,
          env: { TESTS: suite },
          timeoutMs: 150_000,
        });
        const res = parseLitmus(suite, r.stdout);
        const where = `(trace: ${join(cwd, 'debug.log')})`;
        assert.ok(res, `litmus ${suite} printed no summary ${where}; exit ${r.code}\n${r.stdout}\n${r.stderr}`);
        console.log(`      ${res.summary}${res.skipped ? ` (${res.skipped} skipped)` : ''}${res.warnings ? ` (${res.warnings} warnings)` : ''}`);
        assert.equal(res.failed, 0, `litmus ${suite}: ${res.failed} failed ${where}\n  ${res.failures.join('\n  ')}`);
        assert.equal(res.skipped, 0, `litmus ${suite}: ${res.skipped} skipped ${where}\n  ${res.failures.join('\n  ')}`);
        assert.equal(res.passed, res.ran);
        assert.equal(r.code, 0, `litmus ${suite} exited ${r.code}`);
      });
    }
  }
});
