/**
 * Deleted files over WebDAV, Nextcloud's way (/remote.php/dav/trashbin/{user}/, src/dav/nextcloud/
 * trashbin.ts): listing with the trashbin properties, restoring by MOVE into restore/ (beside a
 * file that took the name meanwhile), purging one item and emptying the trash, and the refusals.
 */
import assert from 'node:assert/strict';
import { parseMultistatus, startDavNode, type DavNode } from './support/dav-node.js';

const PROPS = `<?xml version="1.0"?>
<d:propfind xmlns:d="DAV:" xmlns:nc="http://nextcloud.org/ns" xmlns:oc="http://owncloud.org/ns">
  <d:prop><nc:trashbin-filename/><nc:trashbin-original-location/><nc:trashbin-deletion-time/><d:getcontentlength/><d:resourcetype/><oc:size/></d:prop>
</d:propfind>`;

describe('DAV: the trash bin (Nextcloud /remote.php/dav/trashbin)', function () {
  this.timeout(30_000);
  let n: DavNode;
  const trash = '/remote.php/dav/trashbin/alice/trash';
  before(async () => {
    n = await startDavNode();
    await n.node.services.users.add({ name: 'bob', password: 'bob password 123', displayName: 'Bob' });
  });
  after(() => n?.stop());

  /** The trash listing: item href → its found props. */
  async function listTrash(): Promise<Map<string, Record<string, unknown>>> {
    const r = await n.req('PROPFIND', `${trash}/`, { headers: { depth: '1', 'content-type': 'application/xml' }, body: PROPS });
    assert.equal(r.status, 207, r.text);
    const out = new Map<string, Record<string, unknown>>();
    for (const [href, stats] of parseMultistatus(r.text)) if (href !== `${trash}/`) out.set(href, stats.find((s) => s.status === 200)?.props ?? {});
    return out;
  }

  it('lists deleted files and folders with their name, original location, deletion time and size', async () => {
    assert.equal((await n.req('MKCOL', `${n.base}/docs`)).status, 201);
    assert.equal((await n.req('PUT', `${n.base}/docs/notes.txt`, { body: 'twelve bytes' })).status, 201);
    assert.equal((await n.req('PUT', `${n.base}/docs/keep.txt`, { body: 'kept' })).status, 201);
    const before = Math.floor(Date.now() / 1000);
    assert.equal((await n.req('DELETE', `${n.base}/docs/notes.txt`)).status, 204);
    const items = await listTrash();
    assert.equal(items.size, 1);
    const [href, props] = [...items][0]!;
    assert.match(href, /^\/remote\.php\/dav\/trashbin\/alice\/trash\/notes\.txt\.d\d+$/);
    assert.equal(props['trashbin-filename'], 'notes.txt');
    assert.equal(props['trashbin-original-location'], 'docs/notes.txt');
    assert.ok(Number(props['trashbin-deletion-time']) >= before);
    assert.equal(props.getcontentlength, '12');
    // Its content can be read before it is restored.
    const got = await n.req('GET', href);
    assert.equal(got.status, 200);
    assert.equal(got.text, 'twelve bytes');
    assert.match(String(got.headers['content-disposition']), /notes\.txt/);
    const head = await n.req('HEAD', href);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '12');
    // The item on its own, and the root with its two collections.
    const one = await n.req('PROPFIND', href, { headers: { depth: '0' } });
    assert.equal(one.status, 207);
    assert.ok(parseMultistatus(one.text).has(href));
    const root = await n.req('PROPFIND', '/remote.php/dav/trashbin/alice/', { headers: { depth: '1' } });
    assert.deepEqual([...parseMultistatus(root.text).keys()].sort(), ['/remote.php/dav/trashbin/alice/', '/remote.php/dav/trashbin/alice/restore/', `${trash}/`]);
  });

  it('restores an item by MOVE into restore/, beside a file that took its name meanwhile', async () => {
    const [href] = [...(await listTrash()).keys()];
    const move = (from: string) => n.req('MOVE', from, { headers: { destination: `/remote.php/dav/trashbin/alice/restore/${from.replace(/\/$/, '').split('/').pop()}` } });
    const restored = await move(href!);
    assert.equal(restored.status, 201, restored.text);
    assert.equal((await n.req('GET', `${n.base}/docs/notes.txt`)).text, 'twelve bytes');
    assert.equal((await listTrash()).size, 0);
    // Deleted again, and a new notes.txt made: the restored one comes back as "notes (restored).txt".
    assert.equal((await n.req('DELETE', `${n.base}/docs/notes.txt`)).status, 204);
    assert.equal((await n.req('PUT', `${n.base}/docs/notes.txt`, { body: 'new' })).status, 201);
    const [again] = [...(await listTrash()).keys()];
    assert.equal((await move(again!)).status, 201);
    assert.equal((await n.req('GET', `${n.base}/docs/notes.txt`)).text, 'new');
    assert.equal((await n.req('GET', `${n.base}/docs/notes%20(restored).txt`)).text, 'twelve bytes');
    // A folder comes back whole, with what was in it, where it was (its parent made again).
    assert.equal((await n.req('DELETE', `${n.base}/docs`)).status, 204);
    const [folder] = [...(await listTrash()).entries()].find(([, p]) => p['trashbin-filename'] === 'docs')!;
    assert.equal((await n.req('GET', folder)).status, 409, 'a deleted folder is not read, it is restored');
    // What it held is listed and read below it, with the trashbin properties; not restored on its own.
    const inFolder = await n.req('PROPFIND', folder, { headers: { depth: '1', 'content-type': 'application/xml' }, body: PROPS });
    assert.equal(inFolder.status, 207);
    const held = parseMultistatus(inFolder.text);
    const keep = `${folder.replace(/\/$/, '')}/keep.txt`;
    assert.deepEqual([...held.keys()].map((h) => decodeURIComponent(h.slice(folder.length))).sort(), ['', 'keep.txt', 'notes (restored).txt', 'notes.txt']);
    const keepProps = held.get(keep)!.find((s) => s.status === 200)!.props;
    assert.equal(keepProps['trashbin-original-location'], 'docs/keep.txt');
    assert.equal(keepProps.getcontentlength, '4');
    assert.equal((await n.req('GET', keep)).text, 'kept');
    assert.equal((await n.req('PROPFIND', `${keep}`, { headers: { depth: '0' } })).status, 207);
    assert.equal((await n.req('GET', `${folder}nothing.txt`)).status, 404);
    assert.equal((await n.req('DELETE', keep)).status, 403);
    assert.equal((await n.req('MOVE', keep, { headers: { destination: '/remote.php/dav/trashbin/alice/restore/keep.txt' } })).status, 403);
    const back = await move(folder);
    assert.equal(back.status, 201, back.text);
    assert.equal((await n.req('GET', `${n.base}/docs/keep.txt`)).text, 'kept');
  });

  it('purges one item, empties the trash, and refuses what it does not do', async () => {
    for (const f of ['a.txt', 'b.txt', 'c.txt']) {
      assert.equal((await n.req('PUT', `${n.base}/${f}`, { body: f })).status, 201);
      assert.equal((await n.req('DELETE', `${n.base}/${f}`)).status, 204);
    }
    const items = [...(await listTrash()).keys()];
    assert.equal(items.length, 3);
    assert.equal((await n.req('DELETE', items[0]!)).status, 204);
    assert.equal((await listTrash()).size, 2);
    assert.equal((await n.req('DELETE', `${trash}/`)).status, 204);
    assert.equal((await listTrash()).size, 0);

    assert.equal((await n.req('PROPFIND', `${trash}/nothing.d1`, { headers: { depth: '0' } })).status, 404);
    assert.equal((await n.req('PROPFIND', '/remote.php/dav/trashbin/alice/elsewhere')).status, 404);
    assert.equal((await n.req('PUT', `${trash}/x.txt`, { body: 'x' })).status, 405);
    assert.equal((await n.req('GET', `${trash}/`)).status, 405);
    assert.equal((await n.req('DELETE', '/remote.php/dav/trashbin/alice/restore/')).status, 403);
    const bob = 'Basic ' + Buffer.from('bob:bob password 123').toString('base64');
    assert.equal((await n.req('PROPFIND', `${trash}/`, { headers: { authorization: bob, depth: '1' } })).status, 403);
    assert.equal((await n.req('PROPFIND', `${trash}/`, { headers: { authorization: 'Basic eDp5' } })).status, 401);
    // A MOVE that is not into restore/ moves nothing.
    assert.equal((await n.req('PUT', `${n.base}/d.txt`, { body: 'd' })).status, 201);
    assert.equal((await n.req('DELETE', `${n.base}/d.txt`)).status, 204);
    const [d] = [...(await listTrash()).keys()];
    assert.equal((await n.req('MOVE', d!, { headers: { destination: `${n.base}/d.txt` } })).status, 403);
    assert.equal((await n.req('GET', `${n.base}/d.txt`)).status, 404);
    // Names with spaces and Unicode round-trip through the item's URL.
    const odd = encodeURIComponent('ünï cödé #1.txt');
    assert.equal((await n.req('PUT', `${n.base}/${odd}`, { body: 'odd' })).status, 201);
    assert.equal((await n.req('DELETE', `${n.base}/${odd}`)).status, 204);
    const [oddHref, oddProps] = [...(await listTrash()).entries()].find(([, p]) => p['trashbin-filename'] === 'ünï cödé #1.txt')!;
    assert.equal((await n.req('GET', oddHref)).text, 'odd');
    assert.equal((await n.req('MOVE', oddHref, { headers: { destination: `/remote.php/dav/trashbin/alice/restore/x` } })).status, 201);
    assert.equal((await n.req('GET', `${n.base}/${odd}`)).text, 'odd');
    assert.equal(oddProps['trashbin-original-location'], 'ünï cödé #1.txt');
    const options = await n.req('OPTIONS', `${trash}/`);
    assert.equal(options.headers.allow, 'OPTIONS, PROPFIND, GET, HEAD, DELETE, MOVE');
  });
});
