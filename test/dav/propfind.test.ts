import assert from 'node:assert/strict';
import { startDavNode, parseMultistatus, found, type DavNode } from './support/dav-node.js';

describe('DAV PROPFIND', function () {
  let n: DavNode;
  before(async () => {
    n = await startDavNode();
    assert.equal((await n.req('MKCOL', `${n.base}/docs`)).status, 201);
    assert.equal((await n.req('PUT', `${n.base}/docs/a%20b.txt`, { body: 'hello' })).status, 201);
    assert.equal((await n.req('PUT', `${n.base}/docs/%C3%A9t%C3%A9.txt`, { body: 'été' })).status, 201);
  });
  after(() => n.stop());

  it('lists a folder at Depth 1 with the live properties of allprop', async () => {
    const r = await n.req('PROPFIND', `${n.base}/docs/`, { headers: { depth: '1' } });
    assert.equal(r.status, 207);
    const ms = parseMultistatus(r.text);
    assert.deepEqual([...ms.keys()].sort(), [`${n.base}/docs/`, `${n.base}/docs/%C3%A9t%C3%A9.txt`, `${n.base}/docs/a%20b.txt`].sort());
    const file = found(ms, `${n.base}/docs/a%20b.txt`);
    assert.equal(file.getcontentlength, '5');
    assert.equal(file.displayname, 'a b.txt');
    assert.match(String(file.getetag), /^".+"$/);
    assert.ok(file.getlastmodified);
    const dir = found(ms, `${n.base}/docs/`);
    assert.ok(dir.resourcetype && typeof dir.resourcetype === 'object' && 'collection' in dir.resourcetype);
    // allprop never reports 404s
    assert.ok(ms.get(`${n.base}/docs/`)!.every((p) => p.status === 200));
  });

  it('answers named props with 404 ones in their own propstat, including the ownCloud ones', async () => {
    const body =
      '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:x="urn:x">' +
      '<d:prop><d:getetag/><oc:fileid/><oc:permissions/><oc:size/><oc:checksums/><d:quota-available-bytes/><x:nothing/></d:prop></d:propfind>';
    const r = await n.req('PROPFIND', `${n.base}/docs/a%20b.txt`, { headers: { depth: '0' }, body });
    assert.equal(r.status, 207);
    const stats = parseMultistatus(r.text).get(`${n.base}/docs/a%20b.txt`)!;
    const ok = stats.find((s) => s.status === 200)!.props;
    const missing = stats.find((s) => s.status === 404)!.props;
    assert.ok(ok.fileid);
    assert.equal(ok.permissions, 'RDNVW');
    assert.equal(ok.size, '5');
    assert.match(String((ok.checksums as { checksum: string }).checksum), /SHA1:[0-9a-f]{40}/i);
    assert.deepEqual(Object.keys(missing).sort(), ['nothing', 'quota-available-bytes']);
  });

  it('leaves out the 404 propstat with Prefer: return=minimal', async () => {
    const body = '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:nothing-here/></d:prop></d:propfind>';
    const r = await n.req('PROPFIND', `${n.base}/docs/a%20b.txt`, { headers: { depth: '0', prefer: 'return=minimal' }, body });
    const stats = parseMultistatus(r.text).get(`${n.base}/docs/a%20b.txt`)!;
    assert.deepEqual(stats.map((s) => s.status), [200]);
  });

  it('propname lists names without values', async () => {
    const r = await n.req('PROPFIND', `${n.base}/docs/`, {
      headers: { depth: '0' },
      body: '<?xml version="1.0"?><propfind xmlns="DAV:"><propname/></propfind>',
    });
    const props = found(parseMultistatus(r.text), `${n.base}/docs/`);
    assert.ok('resourcetype' in props && 'getetag' in props);
    assert.equal(props.getetag, '');
  });

  it('refuses Depth: infinity with propfind-finite-depth', async () => {
    const r = await n.req('PROPFIND', `${n.base}/`, { headers: { depth: 'infinity' } });
    assert.equal(r.status, 403);
    assert.match(r.text, /propfind-finite-depth/);
  });

  it('answers 404 for a missing resource and 401 without credentials', async () => {
    assert.equal((await n.req('PROPFIND', `${n.base}/nope`, { headers: { depth: '0' } })).status, 404);
    const r = await n.req('PROPFIND', `${n.base}/`, { headers: { depth: '0', authorization: '' } });
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /Basic/);
  });

  it('serves the legacy /remote.php/webdav root and the principal collections', async () => {
    const r = await n.req('PROPFIND', '/remote.php/webdav/docs', { headers: { depth: '0' } });
    assert.equal(r.status, 207);
    assert.ok(parseMultistatus(r.text).has('/remote.php/webdav/docs/'));
    const p = await n.req('PROPFIND', '/remote.php/dav/files/', {
      headers: { depth: '1' },
      body: '<propfind xmlns="DAV:"><prop><resourcetype/><current-user-principal/></prop></propfind>',
    });
    assert.equal(p.status, 207);
    assert.ok(parseMultistatus(p.text).has(`${n.base}/`));
  });

  it('keeps @ literal in the hrefs of a user name like dora@lab', async () => {
    await n.node.services.users.add({ name: 'dora@lab', password: 'dora password 1' });
    const auth = 'Basic ' + Buffer.from('dora@lab:dora password 1').toString('base64');
    const r = await n.req('PROPFIND', '/remote.php/dav/files/dora%40lab/', { headers: { depth: '0', authorization: auth } });
    assert.equal(r.status, 207);
    assert.ok(parseMultistatus(r.text).has('/remote.php/dav/files/dora@lab/'), r.text);
  });

  it('keeps users apart: another user\'s home is 403, an unknown user 404', async () => {
    await n.node.services.users.add({ name: 'bob', password: 'bob password 1' });
    assert.equal((await n.req('PROPFIND', '/remote.php/dav/files/bob/', { headers: { depth: '0' } })).status, 403);
    assert.equal((await n.req('PROPFIND', '/remote.php/dav/files/carol/', { headers: { depth: '0' } })).status, 404);
  });
});
