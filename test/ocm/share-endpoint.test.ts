import assert from 'node:assert/strict';
import type { TestNode } from '../support/node.js';
import { needTool } from '../support/tools.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { client, domainOf, putFile, raw, startMesh } from './mesh.js';

const run = promisify(execFile);

describe('OCM share endpoint (/remote.php/dav/ocm/{id}, /public.php/webdav)', function () {
  this.timeout(120_000);
  let a: TestNode, b: TestNode;
  const shares: Record<string, { id: string; secret: string }> = {};

  async function share(sourcePath: string, role: 'viewer' | 'editor') {
    const res = await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath, recipientUsername: 'marie', recipientHost: domainOf(b), role });
    assert.equal(res.status, 201, res.text);
    const rec = (await b.services.ocm.received.list('marie')).find((r) => r.remoteShareId === res.json.id)!;
    return { id: res.json.id as string, secret: rec.webdav.sharedSecret };
  }

  before(async () => {
    [a, b] = await startMesh(2, {
      users: [[['einstein', 'Albert Einstein', 'einstein@a.example']], [['marie', 'Marie Curie', 'marie@b.example']]],
    });
    await putFile(a, 'einstein', '/private/secret.txt', 'not shared');
    await putFile(a, 'einstein', '/ro/inner/a.txt', 'read only');
    await putFile(a, 'einstein', '/rw/b.txt', 'writable');
    await putFile(a, 'einstein', '/litmus/.keep', '');
    const inv = (await client(a, 'einstein').post('/sciencemesh/generate-invite')).json;
    assert.equal((await client(b, 'marie').post('/sciencemesh/accept-invite', { invite_string: inv.invite_string })).status, 200);
    shares.ro = await share('/ro', 'viewer');
    shares.rw = await share('/rw', 'editor');
    shares.litmus = await share('/litmus', 'editor');
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const bearer = (s: { secret: string }) => ({ authorization: `Bearer ${s.secret}` });
  const url = (s: { id: string }, rest = '') => `${a.url}/remote.php/dav/ocm/${s.id}${rest}`;

  it('exposes exactly the shared folder, nothing above it', async () => {
    const got = await raw(url(shares.ro!, '/inner/a.txt'), { headers: bearer(shares.ro!) });
    assert.equal(got.status, 200);
    assert.equal(got.text, 'read only');
    for (const escape of ['/../private/secret.txt', '/%2e%2e/private/secret.txt', '/..%2fprivate%2fsecret.txt']) {
      const r = await raw(url(shares.ro!, escape), { headers: bearer(shares.ro!) });
      assert.ok([400, 401, 404].includes(r.status), `${escape} → ${r.status}`);
      assert.ok(!r.text.includes('not shared'));
    }
  });

  it("a share's secret opens that share and no other", async () => {
    assert.equal((await raw(url(shares.rw!, '/b.txt'), { headers: bearer(shares.ro!) })).status, 401);
    const basicRo = { authorization: 'Basic ' + Buffer.from(`${shares.ro!.secret}:`).toString('base64') };
    assert.equal((await raw(url(shares.rw!, '/b.txt'), { headers: basicRo })).status, 401);
    // OCM 1.0 receivers (Nextcloud) read at the discovery WebDAV root with Basic.
    const legacy = await raw(`${a.url}/remote.php/dav/ocm/inner/a.txt`, { headers: basicRo });
    assert.equal(legacy.status, 200);
    assert.equal(legacy.text, 'read only');
    assert.equal((await raw(`${a.url}/remote.php/dav/ocm/inner/a.txt`, { headers: bearer(shares.ro!) })).text, 'read only');
    assert.equal((await raw(url(shares.rw!, '/b.txt'), { headers: bearer(shares.ro!) })).status, 401);
    // public.php serves the share the secret belongs to.
    const pub = await raw(`${a.url}/public.php/webdav/inner/a.txt`, { headers: basicRo });
    assert.equal(pub.status, 200);
    assert.equal(pub.text, 'read only');
    assert.equal((await raw(url(shares.ro!, '/inner/a.txt'))).status, 401);
    assert.equal((await raw(`${a.url}/remote.php/dav/ocm/`)).status, 401);
    assert.equal((await raw(url(shares.ro!, '/inner/a.txt'), { headers: { authorization: 'Bearer not-a-secret' } })).status, 401);
    // An id that is no share is a path inside the secret's own share (legacy root): not found there.
    assert.equal((await raw(`${a.url}/remote.php/dav/ocm/unknown-id/x`, { headers: bearer(shares.ro!) })).status, 404);
  });

  it('read-only shares refuse every write; PROPFIND shows the share permissions', async () => {
    const h = bearer(shares.ro!);
    assert.equal((await raw(url(shares.ro!, '/inner/a.txt'), { method: 'PUT', headers: h, body: 'x' })).status, 403);
    assert.equal((await raw(url(shares.ro!, '/new'), { method: 'MKCOL', headers: h })).status, 403);
    assert.equal((await raw(url(shares.ro!, '/inner/a.txt'), { method: 'DELETE', headers: h })).status, 403);
    assert.equal((await raw(url(shares.ro!, '/inner/a.txt'), { method: 'MOVE', headers: { ...h, destination: url(shares.ro!, '/inner/b.txt') } })).status, 403);
    const lockBody = '<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>';
    assert.equal((await raw(url(shares.ro!, '/inner/a.txt'), { method: 'LOCK', headers: { ...h, 'content-type': 'application/xml' }, body: lockBody })).status, 403);
    assert.equal((await raw(url(shares.ro!, '/inner/a.txt'), { method: 'PROPPATCH', headers: h, body: '<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><x xmlns="urn:x">1</x></d:prop></d:set></d:propertyupdate>' })).status, 403);
    const pf = await raw(url(shares.ro!, '/inner/a.txt'), {
      method: 'PROPFIND',
      headers: { ...h, depth: '0', 'content-type': 'application/xml' },
      body: '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:ocm="http://open-cloud-mesh.org/ns"><d:prop><oc:permissions/><ocm:share-permissions/></d:prop></d:propfind>',
    });
    assert.equal(pf.status, 207);
    assert.match(pf.text.replace(/&quot;/g, '"'), /share-permissions[^>]*>\s*\[\s*"read"\s*\]/);
    assert.doesNotMatch(pf.text, /<[^>]*permissions[^>]*>[^<]*[WCKNVD][^<]*<\/[^>]*:permissions>/);
    assert.equal((await a.services.storage.home('einstein').then((h) => h.stat('/ro/inner/a.txt'))).size, 9);
  });

  it('editor shares allow writes inside the share', async () => {
    const h = bearer(shares.rw!);
    assert.equal((await raw(url(shares.rw!, '/new.txt'), { method: 'PUT', headers: h, body: 'from marie' })).status, 201);
    assert.equal((await raw(url(shares.rw!, '/dir'), { method: 'MKCOL', headers: h })).status, 201);
    const home = await a.services.storage.home('einstein');
    assert.equal((await home.stat('/rw/new.txt')).size, 10);
    assert.equal((await home.stat('/rw/dir')).type, 'dir');
    assert.ok((await raw(url(shares.rw!, '/new.txt'), { method: 'DELETE', headers: h })).status < 300);
  });

  it('an editor single-file share can overwrite that file and nothing else', async () => {
    await putFile(a, 'einstein', '/single.txt', 'v1');
    const s = await share('/single.txt', 'editor');
    const h = bearer(s);
    assert.equal((await raw(url(s), { headers: h })).text, 'v1');
    const put = await raw(url(s), { method: 'PUT', headers: h, body: 'version 2' });
    assert.ok(put.status === 200 || put.status === 204, String(put.status));
    assert.equal((await (await a.services.storage.home('einstein')).stat('/single.txt')).size, 9);
    assert.equal((await raw(url(s, '/other.txt'), { method: 'PUT', headers: h, body: 'x' })).status >= 400, true);
    assert.equal((await raw(url(s), { method: 'DELETE', headers: h })).status, 403);
  });

  it('passes litmus against a writable share', async function () {
    const litmus = needTool(this, 'litmus');
    const s = shares.litmus!;
    const { stdout } = await run(litmus, [`${url(s)}/`, s.secret, ''], { timeout: 100_000, env: { ...process.env, TESTS: 'basic copymove props locks http' } }).catch((e) => e);
    const summaries = String(stdout).match(/summary for `\w+': of \d+ tests run: \d+ passed, \d+ failed/g) ?? [];
    assert.equal(summaries.length, 5, String(stdout).slice(-2000));
    for (const line of summaries) assert.match(line, / 0 failed/, line);
  });
});
