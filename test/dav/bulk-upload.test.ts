/**
 * Nextcloud's bulk upload, POST /remote.php/dav/bulk (src/dav/nextcloud/bulk-upload.ts,
 * src/http/multipart-parts.ts), request by request; the desktop client itself uses it in
 * test/clients/nextcloudcmd.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { startDavNode, type DavNode } from './support/dav-node.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const BOUNDARY = 'boundary_8c4f0e2a';

interface FilePart {
  path: string;
  content: Buffer | string;
  md5?: string;
  mtime?: number;
  /** Content-Length to declare (default: the content's). */
  length?: number;
}

/** A bulk body as the desktop client sends it. */
function bulkBody(files: FilePart[], close = true): Buffer {
  const out: Buffer[] = [];
  for (const f of files) {
    const content = Buffer.from(f.content);
    const headers = [`X-File-Path: ${f.path}`, `X-File-MD5: ${f.md5 ?? md5(content)}`, `Content-Length: ${f.length ?? content.length}`];
    if (f.mtime !== undefined) headers.push(`X-File-Mtime: ${f.mtime}`);
    out.push(Buffer.from(`--${BOUNDARY}\r\n${headers.join('\r\n')}\r\n\r\n`), content, Buffer.from('\r\n'));
  }
  if (close) out.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(out);
}

describe('DAV: bulk upload (Nextcloud dav.bulkupload, /remote.php/dav/bulk)', function () {
  this.timeout(30_000);
  let n: DavNode;
  before(async () => {
    n = await startDavNode();
    assert.equal((await n.req('MKCOL', n.base + '/docs')).status, 201);
  });
  after(() => n.stop());

  const post = (body: Buffer, headers: Record<string, string> = {}) =>
    n.req('POST', '/remote.php/dav/bulk', { headers: { 'content-type': `multipart/related; boundary=${BOUNDARY}`, ...headers }, body });

  it('writes every part as its own file, with its mtime, and answers etag, fileid and permissions by path', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 5);
    const res = await post(bulkBody([
      { path: '/one.txt', content: 'first file\n', mtime: 1700000000 },
      { path: '/docs/two ü.txt', content: 'second\n' },
      { path: '/docs/big.bin', content: big },
      { path: '/empty.txt', content: '' },
    ]));
    assert.equal(res.status, 200, res.text);
    const json = JSON.parse(res.text);
    assert.deepEqual(Object.keys(json).sort(), ['/docs/big.bin', '/docs/two ü.txt', '/empty.txt', '/one.txt']);
    for (const r of Object.values(json) as any[]) {
      assert.equal(r.error, false);
      assert.ok(r.etag && r.fileid);
      assert.equal(r.permissions, 'RDNVW');
    }
    assert.equal((await n.req('GET', n.base + '/one.txt')).text, 'first file\n');
    assert.equal((await n.req('GET', n.base + '/docs/two%20%C3%BC.txt')).text, 'second\n');
    assert.equal(md5((await n.req('GET', n.base + '/docs/big.bin')).body), md5(big));
    assert.equal((await n.req('GET', n.base + '/empty.txt')).body.length, 0);
    const got = await n.req('HEAD', n.base + '/one.txt');
    assert.equal(String(got.headers.etag).replace(/"/g, ''), json['/one.txt'].etag);
    const props = await n.req('PROPFIND', n.base + '/one.txt', { headers: { depth: '0' } });
    assert.match(props.text, /Tue, 14 Nov 2023 22:13:20 GMT/, 'X-File-Mtime kept');
  });

  it('reports a failed file (wrong MD5, missing folder, a folder in the way, a lock, a bad path) and writes the others', async () => {
    const lock = await n.req('LOCK', n.base + '/locked.txt', {
      headers: { depth: '0', timeout: 'Second-60' },
      body: '<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>',
    });
    assert.ok([200, 201].includes(lock.status), lock.text);
    const res = await post(bulkBody([
      { path: '/bad-md5.txt', content: 'some bytes', md5: md5('other bytes') },
      { path: '/no/such/folder/x.txt', content: 'x' },
      { path: '/docs', content: 'a folder is here' },
      { path: '/locked.txt', content: 'locked' },
      { path: '/../escape.txt', content: 'x' },
      { path: '/fine.txt', content: 'fine' },
    ]));
    assert.equal(res.status, 200, res.text);
    const json = JSON.parse(res.text);
    for (const p of ['/bad-md5.txt', '/no/such/folder/x.txt', '/docs', '/locked.txt', '/../escape.txt']) {
      assert.equal(json[p]?.error, true, `${p}: ${JSON.stringify(json[p])}`);
      assert.ok(json[p].message);
    }
    assert.equal(json['/fine.txt'].error, false);
    assert.equal((await n.req('GET', n.base + '/bad-md5.txt')).status, 404, 'a file whose MD5 is wrong is not written');
    assert.equal((await n.req('GET', n.base + '/locked.txt')).text, '', 'the locked (empty, lock-null) file is unchanged');
    assert.equal((await n.req('GET', n.base + '/fine.txt')).text, 'fine');
  });

  it('stops at a body out of shape: 400 with the files written before it, nothing of the broken part', async () => {
    const cut = bulkBody([{ path: '/before.txt', content: 'before' }, { path: '/cut.txt', content: 'x'.repeat(100), length: 1000 }], false);
    const res = await post(cut);
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.text)['/before.txt'].error, false);
    assert.match(String(res.headers['x-bulk-error']), /ended inside a part/);
    assert.equal((await n.req('GET', n.base + '/cut.txt')).status, 404);

    const noLength = Buffer.from(`--${BOUNDARY}\r\nX-File-Path: /nolen.txt\r\nX-File-MD5: ${md5('x')}\r\n\r\nx\r\n--${BOUNDARY}--\r\n`);
    assert.equal((await post(noLength)).status, 400);
    const noMd5 = Buffer.from(`--${BOUNDARY}\r\nX-File-Path: /nomd5.txt\r\nContent-Length: 1\r\n\r\nx\r\n--${BOUNDARY}--\r\n`);
    assert.equal((await post(noMd5)).status, 400);
    const longer = Buffer.from(`--${BOUNDARY}\r\nX-File-Path: /long.txt\r\nX-File-MD5: ${md5('x')}\r\nContent-Length: 1\r\n\r\nxyz\r\n--${BOUNDARY}--\r\n`);
    assert.equal((await post(longer)).status, 400);
    const hugeHeader = Buffer.from(`--${BOUNDARY}\r\nX-File-Path: /${'a'.repeat(20000)}\r\n\r\n`);
    assert.equal((await post(hugeHeader)).status, 400);
    assert.equal((await post(bulkBody([{ path: '/x.txt', content: 'x' }]), { 'content-type': 'multipart/form-data; boundary=x' })).status, 400);
    for (const p of ['/nolen.txt', '/nomd5.txt', '/long.txt', '/x.txt']) assert.equal((await n.req('GET', n.base + p)).status, 404, p);
  });

  it('treats a client that goes away mid-body as its own failure: nothing written, no server error logged', async () => {
    const head = Buffer.from(`--${BOUNDARY}\r\nX-File-Path: /gone.bin\r\nX-File-MD5: ${md5('x')}\r\nContent-Length: 1048576\r\n\r\n`);
    const before = n.node.logLines.length;
    await new Promise<void>((resolve) => {
      const req = http.request(`${n.node.url}/remote.php/dav/bulk`, {
        method: 'POST',
        headers: { authorization: n.auth, 'content-type': `multipart/related; boundary=${BOUNDARY}`, 'content-length': head.length + 1048576 + 100 },
      });
      req.on('error', () => resolve());
      req.write(head);
      req.write(Buffer.alloc(100 * 1024, 1), () => setTimeout(() => req.destroy(), 100));
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await n.req('GET', n.base + '/gone.bin')).status, 404);
    const errors = n.node.logLines.slice(before).map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50);
    assert.deepEqual(errors, [], 'no error-level log line for a client that went away');
  });

  it('takes POST only, from an authenticated user, into that user\'s files', async () => {
    assert.equal((await n.req('GET', '/remote.php/dav/bulk')).status, 405);
    assert.equal((await post(bulkBody([{ path: '/anon.txt', content: 'x' }]), { authorization: 'Basic ' + Buffer.from('alice:wrong').toString('base64') })).status, 401);
    assert.equal((await n.req('GET', n.base + '/anon.txt')).status, 404);
  });

  it('streams a large part through without holding it in memory', async () => {
    // 64 MiB in one part, sent as a stream; the node's heap and buffers stay far below it.
    const size = 64 * 1024 * 1024;
    const block = randomBytes(1024 * 1024);
    const hash = createHash('md5');
    for (let i = 0; i < 64; i++) hash.update(block);
    const head = Buffer.from(`--${BOUNDARY}\r\nX-File-Path: /stream.bin\r\nX-File-MD5: ${hash.digest('hex')}\r\nContent-Length: ${size}\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 5);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${n.node.url}/remote.php/dav/bulk`, {
        method: 'POST',
        headers: { authorization: n.auth, 'content-type': `multipart/related; boundary=${BOUNDARY}`, 'content-length': head.length + size + tail.length },
      }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.once('error', reject);
      (async () => {
        req.write(head);
        for (let i = 0; i < 64; i++) if (!req.write(block)) await new Promise((r) => req.once('drain', r));
        req.end(tail);
      })().catch(reject);
    });
    clearInterval(timer);
    assert.equal(status, 200);
    assert.ok(peak - before < 48 * 1024 * 1024, `buffers grew by ${((peak - before) / 1048576).toFixed(0)} MiB for a 64 MiB part`);
    const stat = await n.req('PROPFIND', n.base + '/stream.bin', { headers: { depth: '0' } });
    assert.match(stat.text, new RegExp(`<d:getcontentlength>${size}</d:getcontentlength>`));
  });
});
