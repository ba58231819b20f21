/** MKCOL, DELETE, COPY and MOVE against a real node. */
import assert from 'node:assert/strict';
import { startDavNode, parseMultistatus, type DavNode } from './support/dav-node.js';

describe('DAV MKCOL, DELETE, COPY, MOVE', function () {
  let n: DavNode;
  const url = (p: string) => `${n.base}${p}`;
  const exists = async (p: string) => (await n.req('HEAD', url(p))).status === 200;
  before(async () => {
    n = await startDavNode();
  });
  after(() => n.stop());

  it('MKCOL: 201, then 405 when something exists, 409 without a parent, 415 with a body', async () => {
    assert.equal((await n.req('MKCOL', url('/a'))).status, 201);
    assert.equal((await n.req('MKCOL', url('/a'))).status, 405);
    assert.equal((await n.req('PUT', url('/a/f'), { body: 'x' })).status, 201);
    assert.equal((await n.req('MKCOL', url('/a/f'))).status, 405);
    assert.equal((await n.req('MKCOL', url('/x/y'))).status, 409);
    assert.equal((await n.req('MKCOL', url('/b'), { body: '<x/>', headers: { 'content-type': 'application/xml' } })).status, 415);
    assert.equal(await exists('/b'), false);
  });

  it('COPY: 201 new, 204 over, 412 with Overwrite F, 409 without parent, 403 onto itself, Depth 0 copies only the folder', async () => {
    await n.req('PUT', url('/a/sub.txt'), { body: 'sub' });
    assert.equal((await n.req('COPY', url('/a'), { headers: { destination: url('/c') } })).status, 201);
    assert.equal((await n.req('GET', url('/c/sub.txt'))).text, 'sub');
    assert.equal((await n.req('COPY', url('/a/f'), { headers: { destination: url('/c/f'), overwrite: 'F' } })).status, 412);
    assert.equal((await n.req('COPY', url('/a/sub.txt'), { headers: { destination: url('/c/f') } })).status, 204);
    assert.equal((await n.req('GET', url('/c/f'))).text, 'sub');
    assert.equal((await n.req('COPY', url('/a/f'), { headers: { destination: url('/none/f') } })).status, 409);
    assert.equal((await n.req('COPY', url('/a/f'), { headers: { destination: url('/a/f') } })).status, 403);
    assert.equal((await n.req('COPY', url('/a'), { headers: { destination: url('/a/inside') } })).status, 403);
    assert.equal((await n.req('COPY', url('/a'), { headers: { destination: url('/shallow'), depth: '0' } })).status, 201);
    const ms = parseMultistatus((await n.req('PROPFIND', url('/shallow'), { headers: { depth: '1' } })).text);
    assert.deepEqual([...ms.keys()], [url('/shallow/')]);
  });

  it('COPY and MOVE take the Destination as an absolute URL, percent-encoded and Unicode', async () => {
    await n.req('PUT', url('/%C3%BCber.txt'), { body: 'u' });
    const abs = `${n.node.url}${url('/na%C3%AFve%20copy.txt')}`;
    assert.equal((await n.req('COPY', url('/%C3%BCber.txt'), { headers: { destination: abs } })).status, 201);
    assert.equal((await n.req('GET', url('/na%C3%AFve%20copy.txt'))).text, 'u');
    assert.equal((await n.req('MOVE', url('/na%C3%AFve%20copy.txt'), { headers: { destination: Buffer.from(url('/a/日本.txt')).toString('latin1') } })).status, 201);
    assert.equal((await n.req('GET', url('/a/%E6%97%A5%E6%9C%AC.txt'))).text, 'u');
  });

  it('MOVE keeps the file id, replaces with 204 and refuses Depth 0', async () => {
    const before = (await n.req('HEAD', url('/c/sub.txt'))).headers['oc-fileid'];
    assert.equal((await n.req('MOVE', url('/c/sub.txt'), { headers: { destination: url('/moved.txt') } })).status, 201);
    assert.equal((await n.req('HEAD', url('/moved.txt'))).headers['oc-fileid'], before);
    assert.equal(await exists('/c/sub.txt'), false);
    assert.equal((await n.req('MOVE', url('/c'), { headers: { destination: url('/d'), depth: '0' } })).status, 400);
    await n.req('PUT', url('/other.txt'), { body: 'o' });
    assert.equal((await n.req('MOVE', url('/other.txt'), { headers: { destination: url('/moved.txt') } })).status, 204);
    assert.equal((await n.req('GET', url('/moved.txt'))).text, 'o');
  });

  it('DELETE removes files and whole trees, 404 afterwards, and refuses the root', async () => {
    assert.equal((await n.req('DELETE', url('/c'))).status, 204);
    assert.equal(await exists('/c/f'), false);
    assert.equal((await n.req('DELETE', url('/c'))).status, 404);
    assert.equal((await n.req('DELETE', url('/moved.txt'))).status, 204);
    assert.equal((await n.req('DELETE', url('/'))).status, 403);
  });
});
