import assert from 'node:assert/strict';
import { startDavNode, type DavNode } from './support/dav-node.js';

describe('DAV GET, HEAD and PUT', function () {
  let n: DavNode;
  const body = Buffer.from('0123456789abcdefghij');
  before(async () => {
    n = await startDavNode();
  });
  after(() => n.stop());

  it('PUT creates (201) then replaces (204) with ETag, OC-ETag and OC-FileId', async () => {
    const a = await n.req('PUT', `${n.base}/f.txt`, { body });
    assert.equal(a.status, 201);
    assert.match(String(a.headers.etag), /^".+"$/);
    assert.equal(a.headers['oc-etag'], a.headers.etag);
    assert.ok(a.headers['oc-fileid']);
    const b = await n.req('PUT', `${n.base}/f.txt`, { body });
    assert.equal(b.status, 204);
    assert.equal(b.headers['oc-fileid'], a.headers['oc-fileid']);
  });

  it('GET and HEAD answer content, length, validators and Accept-Ranges', async () => {
    const g = await n.req('GET', `${n.base}/f.txt`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.body, body);
    assert.equal(g.headers['content-length'], String(body.length));
    assert.equal(g.headers['accept-ranges'], 'bytes');
    assert.ok(g.headers['last-modified']);
    const h = await n.req('HEAD', `${n.base}/f.txt`);
    assert.equal(h.status, 200);
    assert.equal(h.headers['content-length'], String(body.length));
    assert.equal(h.body.length, 0);
    assert.equal(h.headers.etag, g.headers.etag);
  });

  it('answers 304 and 412 to conditional GETs', async () => {
    const etag = String((await n.req('HEAD', `${n.base}/f.txt`)).headers.etag);
    const lm = String((await n.req('HEAD', `${n.base}/f.txt`)).headers['last-modified']);
    assert.equal((await n.req('GET', `${n.base}/f.txt`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await n.req('GET', `${n.base}/f.txt`, { headers: { 'if-modified-since': lm } })).status, 304);
    assert.equal((await n.req('GET', `${n.base}/f.txt`, { headers: { 'if-match': '"nope"' } })).status, 412);
    assert.equal((await n.req('GET', `${n.base}/f.txt`, { headers: { 'if-unmodified-since': 'Thu, 01 Jan 1998 00:00:00 GMT' } })).status, 412);
    assert.equal((await n.req('GET', `${n.base}/f.txt`, { headers: { 'if-match': etag } })).status, 200);
  });

  it('serves single and multiple ranges with correct Content-Range totals', async () => {
    const one = await n.req('GET', `${n.base}/f.txt`, { headers: { range: 'bytes=2-5' } });
    assert.equal(one.status, 206);
    assert.equal(one.headers['content-range'], `bytes 2-5/${body.length}`);
    assert.equal(one.text, '2345');
    const suffix = await n.req('GET', `${n.base}/f.txt`, { headers: { range: 'bytes=-3' } });
    assert.equal(suffix.text, 'hij');
    const multi = await n.req('GET', `${n.base}/f.txt`, { headers: { range: 'bytes=0-1,10-12' } });
    assert.equal(multi.status, 206);
    const m = /boundary=(\S+)/.exec(String(multi.headers['content-type']));
    assert.ok(m);
    assert.equal(Number(multi.headers['content-length']), multi.body.length);
    const parts = multi.text.split(`--${m[1]}`).slice(1, -1);
    assert.equal(parts.length, 2);
    assert.match(parts[0]!, /Content-Range: bytes 0-1\/20\r\n\r\n01\r\n$/);
    assert.match(parts[1]!, /Content-Range: bytes 10-12\/20\r\n\r\nabc\r\n$/);
    const bad = await n.req('GET', `${n.base}/f.txt`, { headers: { range: 'bytes=50-60' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */20');
    const stale = await n.req('GET', `${n.base}/f.txt`, { headers: { range: 'bytes=0-1', 'if-range': '"old"' } });
    assert.equal(stale.status, 200);
  });

  it('honours X-OC-Mtime, If-Match and If-None-Match on PUT', async () => {
    const r = await n.req('PUT', `${n.base}/m.txt`, { body: 'x', headers: { 'x-oc-mtime': '1500000000' } });
    assert.equal(r.status, 201);
    assert.equal(r.headers['x-oc-mtime'], 'accepted');
    const h = await n.req('HEAD', `${n.base}/m.txt`);
    assert.equal(new Date(String(h.headers['last-modified'])).getTime(), 1500000000_000);
    assert.equal((await n.req('PUT', `${n.base}/m.txt`, { body: 'y', headers: { 'if-none-match': '*' } })).status, 412);
    assert.equal((await n.req('PUT', `${n.base}/m.txt`, { body: 'y', headers: { 'if-match': '"wrong"' } })).status, 412);
    assert.equal((await n.req('PUT', `${n.base}/m.txt`, { body: 'y', headers: { 'if-match': String(h.headers.etag) } })).status, 204);
    assert.equal((await n.req('GET', `${n.base}/m.txt`)).text, 'y');
  });

  it('refuses PUT on a folder (405), without a parent (409) and a checksum mismatch (4xx, nothing written)', async () => {
    assert.equal((await n.req('MKCOL', `${n.base}/dir`)).status, 201);
    assert.equal((await n.req('PUT', `${n.base}/dir`, { body: 'x' })).status, 405);
    assert.equal((await n.req('PUT', `${n.base}/no/such/f`, { body: 'x' })).status, 409);
    const c = await n.req('PUT', `${n.base}/sum.txt`, { body: 'abc', headers: { 'oc-checksum': 'SHA1:0000000000000000000000000000000000000000' } });
    assert.ok(c.status >= 400 && c.status < 500, String(c.status));
    assert.equal((await n.req('HEAD', `${n.base}/sum.txt`)).status, 404);
    const ok = await n.req('PUT', `${n.base}/sum.txt`, { body: 'abc', headers: { 'oc-checksum': 'SHA1:a9993e364706816aba3e25717850c26c9cd0d89d' } });
    assert.equal(ok.status, 201);
  });

  it('assembles ownCloud v1 chunked uploads (OC-Chunked) in order, hiding the staging folder', async () => {
    const parts = ['first-', 'second-', 'third'];
    const name = (i: number) => `${n.base}/big.bin-chunking-4242-3-${i}`;
    const headers = { 'oc-chunked': '1', 'x-oc-mtime': '1600000000', 'oc-total-length': String(parts.join('').length) };
    assert.equal((await n.req('PUT', name(1), { body: parts[1], headers })).status, 201);
    assert.equal((await n.req('PUT', name(0), { body: parts[0], headers })).status, 201);
    const listing = await n.req('PROPFIND', `${n.base}/`, { headers: { depth: '1' } });
    assert.doesNotMatch(listing.text, /chunking|meshdav-chunks/);
    const last = await n.req('PUT', name(2), { body: parts[2], headers });
    assert.equal(last.status, 201);
    assert.ok(last.headers['oc-fileid'] && last.headers.etag);
    assert.equal(last.headers['x-oc-mtime'], 'accepted');
    assert.equal((await n.req('GET', `${n.base}/big.bin`)).text, parts.join(''));
    assert.equal((await n.req('PROPFIND', `${n.base}/.meshdav-chunks`, { headers: { depth: '0' } })).status, 404);
    const home = await n.node.services.storage.home(n.user);
    assert.deepEqual(await home.listTrash(), [], 'the chunks are not kept in the trash');
  });

  it('OPTIONS advertises DAV 1, 2 and the methods', async () => {
    const r = await n.req('OPTIONS', `${n.base}/`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.dav, '1, 2');
    for (const m of ['PROPFIND', 'LOCK', 'COPY', 'MOVE', 'PUT']) assert.match(String(r.headers.allow), new RegExp(m));
  });
});
