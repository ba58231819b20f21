/**
 * Seeded random requests (methods × odd paths × hostile headers × odd bodies): none may get a
 * 5xx or log an error, and the node keeps answering. Deterministic (fixed seed), so a failure
 * replays.
 */
import assert from 'node:assert/strict';
import { startDavNode, type DavNode } from './support/dav-node.js';

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('DAV random requests (seeded)', function () {
  this.timeout(120_000);
  let n: DavNode;
  before(async () => {
    n = await startDavNode();
  });
  after(() => n.stop());

  it('never answers 5xx to 1,500 random requests and keeps serving', async () => {
    await n.req('MKCOL', `${n.base}/d`);
    await n.req('PUT', `${n.base}/d/f.txt`, { body: 'hello' });
    const methods = ['GET', 'HEAD', 'PUT', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'DELETE', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'OPTIONS', 'POST', 'REPORT'];
    const paths = ['/', '/d', '/d/', '/d/f.txt', '/d/f.txt/', '/nope', '/d/nope/x', '/%ZZ', '/%00', '/a%2fb', '/%C0%AF', '/' + 'x'.repeat(300), '/d/f.txt-chunking-1-2-0', '/d/%E2%9C%93'];
    const hdrs = [
      {}, { depth: '0' }, { depth: '1' }, { depth: 'infinity' }, { depth: 'x' }, { destination: `${n.base}/d/g` }, { destination: '/x' }, { destination: 'http://[::1' },
      { destination: `${n.base}/d/f.txt`, overwrite: 'F' }, { if: '(<opaquelocktoken:x>)' }, { if: '(["x"])' }, { if: '<http://[>(<a>)' }, { if: '(Not <DAV:no-lock>)' },
      { range: 'bytes=0-1' }, { range: 'bytes=-0' }, { range: 'bytes=1-0,2-3' }, { range: 'bytes=0-0,0-0' }, { 'if-range': 'garbage', range: 'bytes=0-1' },
      { 'if-modified-since': 'garbage' }, { 'if-match': '*' }, { 'if-none-match': '*' }, { 'lock-token': '<x>' }, { 'lock-token': '' }, { timeout: 'Second-99999999999999999999' },
      { 'x-oc-mtime': '-1' }, { 'x-oc-mtime': '1e300' }, { 'oc-chunked': '1' }, { 'oc-checksum': 'SHA1:zz' }, { 'content-range': 'bytes */*' }, { prefer: 'return=minimal' },
    ];
    const bodies = [undefined, '', '<x/>', '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>', '<d:lockinfo xmlns:d="DAV:"><d:lockscope><d:shared/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>',
      '<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><z:a xmlns:z="urn:z">1</z:a></d:prop></d:set></d:propertyupdate>', '<<<', '\u0000', '<d:propfind xmlns:d="DAV:"><d:prop/></d:propfind>', 'x'.repeat(5000)];
    const random = mulberry32(20261127);
    const pick = <T,>(a: T[]): T => a[Math.floor(random() * a.length)]!;
    const failures: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const m = pick(methods);
      const p = pick(paths);
      const h = { ...pick(hdrs), ...(random() < 0.3 ? pick(hdrs) : {}) } as Record<string, string>;
      const b = pick(bodies);
      const r = await n.req(m, `${n.base}${p}`, { headers: h, body: b });
      if (r.status >= 500) failures.push(`${r.status} ${m} ${p} ${JSON.stringify(h)} ${JSON.stringify(b)?.slice(0, 60)}`);
      if (i % 300 === 0) {
        await n.req('MKCOL', `${n.base}/d`);
        await n.req('PUT', `${n.base}/d/f.txt`, { body: 'hello' });
      }
    }
    const errors = n.node.logLines.filter((l) => /"level":(50|60)/.test(l));
    assert.deepEqual(failures, [], errors.join('\n').slice(0, 4000));
    assert.equal((await n.req('PROPFIND', `${n.base}/`, { headers: { depth: '1' } })).status, 207);
    assert.deepEqual(errors, []);
  });
});
