/**
 * Nextcloud's chunked uploads under /remote.php/dav/uploads/{user} (src/dav/methods/chunked-ng.ts),
 * request by request as the Android app and the desktop client send them (the desktop client
 * itself runs in test/clients/nextcloudcmd.test.ts).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { removeStaleUploads, uploadsFs, UPLOADS } from '../../src/dav/methods/chunked-ng.js';
import { startDavNode, type DavNode } from './support/dav-node.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('DAV: chunked uploads (Nextcloud chunking NG, /remote.php/dav/uploads)', function () {
  this.timeout(30_000);
  let n: DavNode;
  let up: string;
  let host: string;
  before(async () => {
    n = await startDavNode();
    up = `/remote.php/dav/uploads/${n.user}`;
    host = new URL(n.node.url).host;
  });
  after(() => n.stop());

  const dest = (path: string) => `http://${host}${n.base}${path}`;
  const chunkNames = async (id: string) => {
    const r = await n.req('PROPFIND', `${up}/${id}`, { headers: { depth: '1' } });
    assert.equal(r.status, 207, r.text);
    return [...r.text.matchAll(/<d:href>[^<]*\/([^/<]+)<\/d:href>/g)].map((m) => m[1]!).filter((name) => name !== id);
  };

  it('assembles the Android app\'s upload: MKCOL, PROPFIND to resume, numbered PUTs, MOVE .file with the mtime', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const id = createHash('md5').update(data).digest('hex');
    const headers = { destination: dest('/phone/photo.jpg') };
    assert.equal((await n.req('MKCOL', n.base + '/phone')).status, 201);
    assert.equal((await n.req('MKCOL', `${up}/${id}`, { headers })).status, 201);
    assert.deepEqual(await chunkNames(id), [], 'nothing to resume yet');
    const parts = [data.subarray(0, 1024000), data.subarray(1024000, 2048000), data.subarray(2048000)];
    // The first two go up, then the connection drops; the app lists what arrived and goes on.
    for (const [i, part] of parts.slice(0, 2).entries()) {
      assert.equal((await n.req('PUT', `${up}/${id}/${String(i + 1).padStart(6, '0')}`, { headers, body: part })).status, 201);
    }
    assert.deepEqual((await chunkNames(id)).sort(), ['000001', '000002']);
    assert.equal((await n.req('PUT', `${up}/${id}/000003`, { headers, body: parts[2] })).status, 201);

    const moved = await n.req('MOVE', `${up}/${id}/.file`, { headers: { ...headers, 'x-oc-mtime': '1700000000', overwrite: 'T' } });
    assert.equal(moved.status, 201, moved.text);
    assert.ok(moved.headers['oc-fileid'], 'the new file\'s id');
    assert.equal(moved.headers['x-oc-mtime'], 'accepted');
    const got = await n.req('GET', n.base + '/phone/photo.jpg');
    assert.equal(sha(got.body), sha(data));
    assert.equal(got.headers.etag, moved.headers.etag);
    const listed = await n.req('PROPFIND', n.base + '/phone/photo.jpg', { headers: { depth: '0' } });
    assert.match(listed.text, /Tue, 14 Nov 2023 22:13:20 GMT/, 'X-OC-Mtime kept');
    assert.equal((await n.req('PROPFIND', `${up}/${id}`, { headers: { depth: '0' } })).status, 404, 'the upload folder is gone');
    const root = await n.req('PROPFIND', n.base + '/', { headers: { depth: '1' } });
    assert.doesNotMatch(root.text, /meshdav-uploads/, 'upload folders are never listed');
    const home = await n.node.services.storage.home(n.user);
    assert.deepEqual(await home.listTrash(), [], 'nor kept in the trash');
    const efss = await fetch(`${n.node.url}/apps/sciencemesh/~${n.user}/api/storage/ListFolder`, {
      method: 'POST',
      headers: { 'x-reva-secret': n.node.config.revaSecret!, 'content-type': 'application/json' },
      body: JSON.stringify({ ref: { path: '/home' } }),
    });
    assert.equal(efss.status, 200);
    assert.doesNotMatch(await efss.text(), /meshdav-uploads/, 'nor by the EFSS API (revad)');
  });

  it('assembles version 2 uploads in the numeric order of unpadded chunk names, replacing a file with If-Match', async () => {
    const etag = String((await n.req('PUT', n.base + '/big.bin', { body: 'old' })).headers.etag);
    const parts = Array.from({ length: 11 }, (_, i) => Buffer.from(`part ${i + 1};`));
    const headers = { destination: dest('/big.bin') };
    assert.equal((await n.req('MKCOL', `${up}/v2-upload`, { headers })).status, 201);
    for (const i of [10, 2, 1, 11, 3, 4, 5, 6, 7, 8, 9]) {
      assert.equal((await n.req('PUT', `${up}/v2-upload/${i}`, { headers, body: parts[i - 1] })).status, 201);
    }
    const whole = Buffer.concat(parts);
    const stale = await n.req('MOVE', `${up}/v2-upload/.file`, { headers: { ...headers, 'if-match': '"not-the-etag"', 'oc-total-length': String(whole.length) } });
    assert.equal(stale.status, 412);
    assert.equal((await n.req('GET', n.base + '/big.bin')).text, 'old', 'nothing changed');
    const moved = await n.req('MOVE', `${up}/v2-upload/.file`, { headers: { ...headers, 'if-match': etag, 'oc-total-length': String(whole.length) } });
    assert.equal(moved.status, 204, moved.text);
    assert.equal((await n.req('GET', n.base + '/big.bin')).text, whole.toString());
  });

  it('answers a MOVE sent again while the first is still assembling with the first one\'s result', async () => {
    const parts = [randomBytes(8 * 1024 * 1024), randomBytes(8 * 1024 * 1024), randomBytes(8 * 1024 * 1024)];
    const headers = { destination: dest('/twice.bin') };
    await n.req('MKCOL', `${up}/twice`, { headers });
    for (const [i, part] of parts.entries()) await n.req('PUT', `${up}/twice/${i + 1}`, { headers, body: part });
    const [first, again] = await Promise.all([
      n.req('MOVE', `${up}/twice/.file`, { headers }),
      new Promise((r) => setTimeout(r, 5)).then(() => n.req('MOVE', `${up}/twice/.file`, { headers })),
    ]);
    assert.equal(first.status, 201, first.text);
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers.etag, first.headers.etag, 'one assembly, one version');
    assert.equal(sha((await n.req('GET', n.base + '/twice.bin')).body), sha(Buffer.concat(parts)));
  });

  it('answers a MOVE retried after the assembly finished with its result; a new upload under the same name starts afresh', async () => {
    const headers = { destination: dest('/retried.bin') };
    await n.req('MKCOL', `${up}/retried`, { headers });
    await n.req('PUT', `${up}/retried/1`, { headers, body: 'first upload' });
    const first = await n.req('MOVE', `${up}/retried/.file`, { headers });
    assert.equal(first.status, 201, first.text);
    // The client never saw that answer (a timeout) and sends the MOVE again.
    const again = await n.req('MOVE', `${up}/retried/.file`, { headers });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers.etag, first.headers.etag);
    assert.equal((await n.req('GET', n.base + '/retried.bin')).text, 'first upload');
    assert.equal((await n.req('MOVE', `${up}/retried/.file`, { headers: { destination: dest('/elsewhere.bin') } })).status, 404, 'not for another destination');
    // The same name made again is a new upload: given up, its MOVE finds nothing.
    assert.equal((await n.req('MKCOL', `${up}/retried`, { headers })).status, 201);
    assert.equal((await n.req('DELETE', `${up}/retried`)).status, 204);
    assert.equal((await n.req('MOVE', `${up}/retried/.file`, { headers })).status, 404);
    assert.equal((await n.req('GET', n.base + '/retried.bin')).text, 'first upload');
  });

  it('keeps an upload whose chunks do not add up to OC-Total-Length (400), so the client can send the missing one', async () => {
    const headers = { destination: dest('/sum.bin') };
    await n.req('MKCOL', `${up}/sum`, { headers });
    await n.req('PUT', `${up}/sum/1`, { headers, body: 'aaaa' });
    const short = await n.req('MOVE', `${up}/sum/.file`, { headers: { ...headers, 'oc-total-length': '8' } });
    assert.equal(short.status, 400);
    assert.match(short.text, /sum up to 4 bytes, not the 8/);
    assert.equal((await n.req('GET', n.base + '/sum.bin')).status, 404);
    await n.req('PUT', `${up}/sum/2`, { headers, body: 'bbbb' });
    assert.equal((await n.req('MOVE', `${up}/sum/.file`, { headers: { ...headers, 'oc-total-length': '8' } })).status, 201);
    assert.equal((await n.req('GET', n.base + '/sum.bin')).text, 'aaaabbbb');
  });

  it('gives an upload up on DELETE, and refuses other users, foreign destinations, locked targets and unknown uploads', async () => {
    await n.req('MKCOL', `${up}/gone`);
    await n.req('PUT', `${up}/gone/1`, { body: 'x' });
    assert.equal((await n.req('DELETE', `${up}/gone`)).status, 204);
    const trash = await (await n.node.services.storage.home(n.user)).listTrash();
    assert.ok(!trash.some((t) => t.originalPath.startsWith('/.meshdav-uploads')), 'a cancelled upload is not kept in the trash');
    assert.equal((await n.req('MOVE', `${up}/gone/.file`, { headers: { destination: dest('/gone.bin') } })).status, 404);

    await n.node.services.users.add({ name: 'bob', password: 'bob password here' });
    const bob = 'Basic ' + Buffer.from('bob:bob password here').toString('base64');
    assert.equal((await n.req('MKCOL', `${up}/theirs`, { headers: { authorization: bob } })).status, 403, 'another user\'s uploads');

    await n.req('MKCOL', `${up}/odd`);
    await n.req('PUT', `${up}/odd/1`, { body: 'y' });
    const outside = await n.req('MOVE', `${up}/odd/.file`, { headers: { destination: `http://${host}/remote.php/dav/files/bob/x.bin` } });
    assert.equal(outside.status, 400, 'a destination outside the user\'s files');
    assert.equal((await n.req('MOVE', `${up}/odd/.file`, { headers: {} })).status, 400, 'no destination');

    await n.req('PUT', n.base + '/locked.txt', { body: 'mine' });
    const lock = await n.req('LOCK', n.base + '/locked.txt', {
      body: '<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>',
    });
    assert.equal(lock.status, 200);
    const locked = await n.req('MOVE', `${up}/odd/.file`, { headers: { destination: dest('/locked.txt') } });
    assert.equal(locked.status, 423);
    const token = String(lock.headers['lock-token']);
    const unlocked = await n.req('MOVE', `${up}/odd/.file`, { headers: { destination: dest('/locked.txt'), if: `(${token})` } });
    assert.equal(unlocked.status, 204);
    assert.equal((await n.req('GET', n.base + '/locked.txt')).text, 'y');
  });

  it('removes upload folders idle for a day', async () => {
    await n.req('MKCOL', `${up}/old`);
    const uploads = await uploadsFs(await n.node.services.namespaces.forUser(n.user));
    await removeStaleUploads(uploads, Date.now());
    assert.equal((await n.req('PROPFIND', `${up}/old`, { headers: { depth: '0' } })).status, 207, 'a fresh one stays');
    await removeStaleUploads(uploads, Date.now() + 25 * 3600 * 1000);
    assert.equal((await n.req('PROPFIND', `${up}/old`, { headers: { depth: '0' } })).status, 404);
    assert.ok(UPLOADS.startsWith('/.'));
  });
});
