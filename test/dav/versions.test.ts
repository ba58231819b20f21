/**
 * Old versions of files over WebDAV, Nextcloud's way (/remote.php/dav/versions/{user}/versions/
 * {fileId}, src/dav/nextcloud/versions.ts): listing, downloading and restoring a version, and the
 * refusals.
 */
import assert from 'node:assert/strict';
import { parseMultistatus, startDavNode, type DavNode } from './support/dav-node.js';

const FILEID = `<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/></d:prop></d:propfind>`;

describe('DAV: file versions (Nextcloud /remote.php/dav/versions)', function () {
  this.timeout(30_000);
  let n: DavNode;
  let fileId = '';
  const root = '/remote.php/dav/versions/alice';
  before(async () => {
    n = await startDavNode();
    await n.node.services.users.add({ name: 'bob', password: 'bob password 123', displayName: 'Bob' });
    for (const text of ['first', 'second!', 'third draft']) assert.ok([201, 204].includes((await n.req('PUT', `${n.base}/paper.txt`, { body: text })).status));
    const r = await n.req('PROPFIND', `${n.base}/paper.txt`, { headers: { depth: '0' }, body: FILEID });
    fileId = String([...parseMultistatus(r.text).values()][0]![0]!.props.fileid);
    assert.ok(fileId);
  });
  after(() => n?.stop());

  async function versions(): Promise<Array<{ href: string; size: number }>> {
    const r = await n.req('PROPFIND', `${root}/versions/${fileId}`, { headers: { depth: '1' } });
    assert.equal(r.status, 207, r.text);
    return [...parseMultistatus(r.text)]
      .filter(([href]) => !href.endsWith('/'))
      .map(([href, stats]) => ({ href, size: Number(stats.find((s) => s.status === 200)!.props.getcontentlength) }));
  }

  it('lists a file\'s old versions, newest first, and downloads one', async () => {
    const list = await versions();
    assert.deepEqual(list.map((v) => v.size), [7, 5], 'second!, then first');
    assert.match(list[0]!.href, new RegExp(`^${root}/versions/${fileId}/\\d+$`));
    const got = await n.req('GET', list[1]!.href);
    assert.equal(got.status, 200);
    assert.equal(got.text, 'first');
    assert.match(String(got.headers['content-disposition']), /paper\.txt/);
    const head = await n.req('HEAD', list[1]!.href);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '5');
  });

  it('restores a version by MOVE into restore/: it becomes current, and the current one a version', async () => {
    const [, oldest] = await versions();
    const moved = await n.req('MOVE', oldest!.href, { headers: { destination: `${root}/restore/target` } });
    assert.equal(moved.status, 201, moved.text);
    assert.equal((await n.req('GET', `${n.base}/paper.txt`)).text, 'first');
    assert.ok((await versions()).some((v) => v.size === 11), 'third draft is kept as a version');
  });

  it('refuses what it does not do', async () => {
    const [v] = await versions();
    assert.equal((await n.req('PROPFIND', `${root}/versions/999999`, { headers: { depth: '1' } })).status, 404);
    assert.equal((await n.req('GET', `${root}/versions/${fileId}/123456789`)).status, 404);
    assert.equal((await n.req('PUT', `${root}/versions/${fileId}/1`, { body: 'x' })).status, 405);
    assert.equal((await n.req('MOVE', v!.href, { headers: { destination: `${n.base}/elsewhere.txt` } })).status, 403);
    assert.equal((await n.req('MOVE', v!.href)).status, 400);
    assert.equal((await n.req('PROPFIND', `${root}/`, { headers: { depth: '1' } })).status, 404);
    const bob = 'Basic ' + Buffer.from('bob:bob password 123').toString('base64');
    assert.equal((await n.req('PROPFIND', `${root}/versions/${fileId}`, { headers: { authorization: bob } })).status, 403);
    // Bob cannot reach Alice's file through his own versions either.
    assert.equal((await n.req('PROPFIND', `/remote.php/dav/versions/bob/versions/${fileId}`, { headers: { authorization: bob } })).status, 404);
    assert.equal((await n.req('PROPFIND', `${root}/restore/`, { headers: { depth: '0' } })).status, 207);
  });
});
