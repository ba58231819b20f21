import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/node.js';
import { cli, startChildNode, type ChildNode } from './child-node.js';

const PASSWORD = 'crash test password';
const AUTH = 'Basic ' + Buffer.from(`alice:${PASSWORD}`).toString('base64');
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

/** Deterministic content per (name, generation, size). */
function content(name: string, gen: string, size: number): Buffer {
  const seed = createHash('sha256').update(`${name}/${gen}`).digest();
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += seed.length) seed.copy(out, i);
  return out;
}

function put(url: string, path: string, body: Buffer, slow: boolean): { done: Promise<number | 'aborted'>; req: http.ClientRequest } {
  const u = new URL(url + path);
  const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', agent: false, headers: { authorization: AUTH, 'content-length': body.length } });
  const done = new Promise<number | 'aborted'>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', () => resolve('aborted'));
  });
  if (!slow) req.end(body);
  else {
    let off = 0;
    const step = () => {
      if (req.destroyed) return;
      const next = Math.min(off + 64 * 1024, body.length);
      req.write(body.subarray(off, next));
      off = next;
      if (off < body.length) setTimeout(step, 25);
      else req.end();
    };
    step();
  }
  return { done, req };
}

async function get(url: string, path: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url + path, { headers: { authorization: AUTH } });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

describe('crash consistency: SIGKILL during 100 concurrent uploads and overwrites', function () {
  this.timeout(180_000);
  const dataDir = tempDir('crash-');
  let node: ChildNode | undefined;
  after(() => node?.stop());

  it('keeps every file old-or-new, no partial file visible, metadata consistent with disk', async () => {
    await cli(['user', 'add', 'alice', '--password-stdin', '--data', dataDir], PASSWORD + '\n');
    node = await startChildNode(dataDir);
    const base = `${node.url}/remote.php/dav/files/alice`;
    assert.equal((await fetch(`${base}/crash`, { method: 'MKCOL', headers: { authorization: AUTH } })).status, 201);

    // 50 files with known old content.
    const old = new Map<string, string>();
    for (let i = 0; i < 50; i++) {
      const name = `/crash/file-${i}.bin`;
      const body = content(name, 'old', 100 * 1024 + i);
      assert.equal((await put(base, name, body, false).done), 201);
      old.set(name, sha1(body));
    }

    // 100 concurrent writers: 50 overwrites and 50 new files; sizes mixed so that some finish
    // before the kill and some are cut mid-body.
    const fresh = new Map<string, string>();
    const inflight: Promise<number | 'aborted'>[] = [];
    let finished = 0;
    for (let i = 0; i < 100; i++) {
      const name = i < 50 ? `/crash/file-${i}.bin` : `/crash/new-${i}.bin`;
      const size = i % 3 === 0 ? 32 * 1024 : 4 * 1024 * 1024 + i;
      const body = content(name, 'new', size);
      fresh.set(name, sha1(body));
      inflight.push(put(base, name, body, size > 64 * 1024).done.then((o) => (finished++, o)));
    }
    // Kill once some uploads have completed; the paced ones (4 MiB at 64 KiB per 25 ms) are then
    // still mid-body. Waiting on state, not on a clock, keeps this right on a loaded machine.
    for (let waited = 0; finished < 5 && waited < 60_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    await node.kill('SIGKILL');
    const outcomes = await Promise.all(inflight);
    const completed = outcomes.filter((o) => o === 201 || o === 204).length;
    assert.ok(completed > 0 && completed < 100, `want a mix of finished and cut uploads, got ${completed} finished`);

    node = await startChildNode(dataDir);
    const base2 = `${node.url}/remote.php/dav/files/alice`;
    for (const [name, newSum] of fresh) {
      const r = await get(base2, name);
      if (old.has(name)) {
        assert.equal(r.status, 200, name);
        assert.ok([old.get(name), newSum].includes(sha1(r.body)), `${name} holds neither its old nor its new content (${r.body.length} bytes)`);
      } else {
        assert.ok(r.status === 404 || (r.status === 200 && sha1(r.body) === newSum), `${name}: ${r.status}, ${r.body.length} bytes`);
      }
    }
    // Nothing but the expected names is visible, and no upload remnant is left on disk.
    const listing = await fetch(`${base2}/crash/`, { method: 'PROPFIND', headers: { authorization: AUTH, depth: '1' } });
    assert.equal(listing.status, 207);
    const hrefs = [...(await listing.text()).matchAll(/<d:href>([^<]+)<\/d:href>/g)].map((m) => decodeURIComponent(m[1]!));
    for (const h of hrefs.filter((x) => !x.endsWith('/crash/'))) {
      assert.ok(fresh.has(h.slice(h.indexOf('/crash/'))), `unexpected entry ${h}`);
    }
    assert.deepEqual(readdirSync(join(dataDir, 'uploads')), []);
    await node.stop();
    node = undefined;

    // LevelDB opens and the metadata agrees with the disk.
    const report = JSON.parse(await cli(['scan', '--data', dataDir, '--json']));
    assert.deepEqual({ added: report.added, changed: report.changed, removed: report.removed }, { added: [], changed: [], removed: [] });
  });
});
