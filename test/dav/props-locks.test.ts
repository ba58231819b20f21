/** PROPPATCH (atomic dead properties) and LOCK/UNLOCK against a real node. */
import assert from 'node:assert/strict';
import { startDavNode, parseMultistatus, found, type DavNode } from './support/dav-node.js';

const patch = (inner: string) =>
  `<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:z">${inner}</d:propertyupdate>`;
const lockBody = (scope: 'exclusive' | 'shared') =>
  `<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:${scope}/></d:lockscope><d:locktype><d:write/></d:locktype><d:owner><d:href>mailto:a@example.org</d:href></d:owner></d:lockinfo>`;

describe('DAV PROPPATCH', function () {
  let n: DavNode;
  before(async () => {
    n = await startDavNode();
    await n.req('PUT', `${n.base}/p.txt`, { body: 'p' });
  });
  after(() => n.stop());

  it('sets, reads back (namespaces inside values kept) and removes dead properties', async () => {
    const r = await n.req('PROPPATCH', `${n.base}/p.txt`, {
      body: patch('<d:set><d:prop><z:color>red</z:color><z:nested><z:a xmlns:q="urn:q"><q:b>1</q:b></z:a></z:nested></d:prop></d:set>'),
    });
    assert.equal(r.status, 207);
    assert.equal(parseMultistatus(r.text).get(`${n.base}/p.txt`)![0]!.status, 200);
    const g = await n.req('PROPFIND', `${n.base}/p.txt`, {
      headers: { depth: '0' },
      body: '<d:propfind xmlns:d="DAV:" xmlns:z="urn:z"><d:prop><z:color/><z:nested/></d:prop></d:propfind>',
    });
    assert.match(g.text, /<x:b xmlns:x="urn:q">1<\/x:b>/);
    assert.equal(found(parseMultistatus(g.text), `${n.base}/p.txt`).color, 'red');
    await n.req('PROPPATCH', `${n.base}/p.txt`, { body: patch('<d:remove><d:prop><z:color/></d:prop></d:remove>') });
    const after = await n.req('PROPFIND', `${n.base}/p.txt`, { headers: { depth: '0' }, body: '<d:propfind xmlns:d="DAV:" xmlns:z="urn:z"><d:prop><z:color/></d:prop></d:propfind>' });
    assert.equal(parseMultistatus(after.text).get(`${n.base}/p.txt`)![0]!.status, 404);
  });

  it('reports members\' dead properties in a Depth 1 listing, for prop and allprop', async () => {
    await n.req('MKCOL', `${n.base}/listed`);
    for (const name of ['one', 'two', 'three']) {
      await n.req('PUT', `${n.base}/listed/${name}.txt`, { body: name });
      await n.req('PROPPATCH', `${n.base}/listed/${name}.txt`, { body: patch(`<d:set><d:prop><z:label>${name}</z:label></d:prop></d:set>`) });
    }
    await n.req('PUT', `${n.base}/listed/bare.txt`, { body: 'bare' });
    const asked = await n.req('PROPFIND', `${n.base}/listed/`, {
      headers: { depth: '1' },
      body: '<d:propfind xmlns:d="DAV:" xmlns:z="urn:z"><d:prop><z:label/></d:prop></d:propfind>',
    });
    const ms = parseMultistatus(asked.text);
    for (const name of ['one', 'two', 'three']) assert.equal(found(ms, `${n.base}/listed/${name}.txt`).label, name);
    assert.equal(ms.get(`${n.base}/listed/bare.txt`)![0]!.status, 404);
    const all = await n.req('PROPFIND', `${n.base}/listed/`, { headers: { depth: '1' } });
    assert.equal(found(parseMultistatus(all.text), `${n.base}/listed/two.txt`).label, 'two');
  });

  it('is all or nothing: a protected property gives 403 and the rest 424, nothing changes', async () => {
    const r = await n.req('PROPPATCH', `${n.base}/p.txt`, {
      body: patch('<d:set><d:prop><z:new>v</z:new><d:getetag>x</d:getetag></d:prop></d:set>'),
    });
    assert.equal(r.status, 207);
    const stats = parseMultistatus(r.text).get(`${n.base}/p.txt`)!;
    assert.deepEqual(stats.map((s) => s.status).sort(), [403, 424]);
    const g = await n.req('PROPFIND', `${n.base}/p.txt`, { headers: { depth: '0' }, body: '<d:propfind xmlns:d="DAV:" xmlns:z="urn:z"><d:prop><z:new/></d:prop></d:propfind>' });
    assert.equal(parseMultistatus(g.text).get(`${n.base}/p.txt`)![0]!.status, 404);
  });
});

describe('DAV LOCK and UNLOCK', function () {
  let n: DavNode;
  before(async () => {
    n = await startDavNode();
    await n.req('MKCOL', `${n.base}/d`);
    await n.req('PUT', `${n.base}/d/f.txt`, { body: 'f' });
  });
  after(() => n.stop());

  it('an exclusive lock blocks changes without the token (423) and allows them with it', async () => {
    const l = await n.req('LOCK', `${n.base}/d/f.txt`, { body: lockBody('exclusive'), headers: { timeout: 'Second-300' } });
    assert.equal(l.status, 200);
    const token = /<([^>]+)>/.exec(String(l.headers['lock-token']))![1]!;
    assert.match(l.text, /mailto:a@example.org/);
    assert.match(l.text, /Second-(300|299)/);
    const denied = await n.req('PUT', `${n.base}/d/f.txt`, { body: 'x' });
    assert.equal(denied.status, 423);
    assert.match(denied.text, /lock-token-submitted/);
    assert.equal((await n.req('DELETE', `${n.base}/d`)).status, 207);
    assert.equal((await n.req('HEAD', `${n.base}/d/f.txt`)).status, 200);
    assert.equal((await n.req('LOCK', `${n.base}/d/f.txt`, { body: lockBody('shared') })).status, 423);
    assert.equal((await n.req('PUT', `${n.base}/d/f.txt`, { body: 'x', headers: { if: `(<${token}>)` } })).status, 204);
    // A tagged list names the resource by the URL the client mounted, perhaps through a proxy: only the path counts.
    const tag = `<https://cloud.example.org${n.base}/d/f.txt> (<${token}>)`;
    assert.equal((await n.req('PUT', `${n.base}/d/f.txt`, { body: 'x', headers: { if: tag } })).status, 204);
    const refreshed = await n.req('LOCK', `${n.base}/d/f.txt`, { headers: { if: `(<${token}>)`, timeout: 'Second-100' } });
    assert.equal(refreshed.status, 200);
    assert.match(refreshed.text, /Second-(100|99)/);
    assert.equal((await n.req('UNLOCK', `${n.base}/d/f.txt`, { headers: { 'lock-token': '<opaquelocktoken:bogus>' } })).status, 409);
    assert.equal((await n.req('UNLOCK', `${n.base}/d/f.txt`, { headers: { 'lock-token': `<${token}>` } })).status, 204);
    assert.equal((await n.req('PUT', `${n.base}/d/f.txt`, { body: 'y' })).status, 204);
  });

  it('shared locks coexist; a depth-infinity lock on a folder covers new members; lockdiscovery shows it', async () => {
    const a = await n.req('LOCK', `${n.base}/d/f.txt`, { body: lockBody('shared') });
    const b = await n.req('LOCK', `${n.base}/d/f.txt`, { body: lockBody('shared') });
    assert.deepEqual([a.status, b.status], [200, 200]);
    const ta = /<([^>]+)>/.exec(String(a.headers['lock-token']))![1]!;
    const tb = /<([^>]+)>/.exec(String(b.headers['lock-token']))![1]!;
    await n.req('UNLOCK', `${n.base}/d/f.txt`, { headers: { 'lock-token': `<${ta}>` } });
    await n.req('UNLOCK', `${n.base}/d/f.txt`, { headers: { 'lock-token': `<${tb}>` } });
    const dl = await n.req('LOCK', `${n.base}/d`, { body: lockBody('exclusive'), headers: { depth: 'infinity' } });
    const td = /<([^>]+)>/.exec(String(dl.headers['lock-token']))![1]!;
    assert.equal((await n.req('PUT', `${n.base}/d/new.txt`, { body: 'n' })).status, 423);
    assert.equal((await n.req('PUT', `${n.base}/d/new.txt`, { body: 'n', headers: { if: `(<${td}>)` } })).status, 201);
    const pf = await n.req('PROPFIND', `${n.base}/d/new.txt`, { headers: { depth: '0' }, body: '<propfind xmlns="DAV:"><prop><lockdiscovery/></prop></propfind>' });
    assert.ok(pf.text.includes(td));
    assert.equal((await n.req('UNLOCK', `${n.base}/d`, { headers: { 'lock-token': `<${td}>` } })).status, 204);
  });

  it('LOCK on an unmapped URL creates an empty file (201); missing parent → 409', async () => {
    const l = await n.req('LOCK', `${n.base}/d/locknull.txt`, { body: lockBody('exclusive') });
    assert.equal(l.status, 201);
    const h = await n.req('HEAD', `${n.base}/d/locknull.txt`);
    assert.equal(h.status, 200);
    assert.equal(h.headers['content-length'], '0');
    assert.equal((await n.req('LOCK', `${n.base}/nothere/x`, { body: lockBody('exclusive') })).status, 409);
  });
});
