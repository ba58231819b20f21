/** The Nextcloud client endpoints: status.php and the OCS capabilities and user calls. */
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { startDavNode, type DavNode } from './support/dav-node.js';

describe('Nextcloud client endpoints', function () {
  let n: DavNode;
  before(async () => {
    n = await startDavNode();
  });
  after(() => n.stop());

  it('/status.php says installed, not in maintenance, a Nextcloud 28 version, productname meshdav', async () => {
    const r = await n.req('GET', '/status.php', { headers: { authorization: '' } });
    assert.equal(r.status, 200);
    const s = JSON.parse(r.text);
    assert.equal(s.installed, true);
    assert.equal(s.maintenance, false);
    assert.match(s.version, /^28\.0\.\d+\.\d+$/);
    assert.equal(s.productname, 'meshdav');
  });

  it('capabilities in JSON (v1 and v2): SHA1 checksums, chunking 1.0, the webdav root', async () => {
    for (const v of [1, 2]) {
      const r = await n.req('GET', `/ocs/v${v}.php/cloud/capabilities?format=json`, { headers: { 'ocs-apirequest': 'true' } });
      assert.equal(r.status, 200);
      const { ocs } = JSON.parse(r.text);
      assert.equal(ocs.meta.statuscode, v === 1 ? 100 : 200);
      assert.deepEqual(ocs.data.capabilities.checksums.supportedTypes, ['SHA1']);
      assert.equal(ocs.data.capabilities.dav.chunking, '1.0');
      assert.equal(ocs.data.capabilities.core['webdav-root'], 'remote.php/webdav');
      assert.equal(ocs.data.version.major, 28);
    }
  });

  it('capabilities in XML by default', async () => {
    const r = await n.req('GET', '/ocs/v1.php/cloud/capabilities');
    assert.match(String(r.headers['content-type']), /xml/);
    const doc = new XMLParser({ parseTagValue: false }).parse(r.text);
    assert.equal(doc.ocs.meta.statuscode, '100');
    assert.equal(doc.ocs.data.capabilities.checksums.supportedTypes.element, 'SHA1');
  });

  it('the current user, by /cloud/user and /cloud/users/{id}; another id is an OCS 404', async () => {
    const me = JSON.parse((await n.req('GET', '/ocs/v2.php/cloud/user?format=json')).text).ocs.data;
    assert.equal(me.id, n.user);
    assert.equal(me['display-name'], 'Alice Example');
    assert.equal(typeof me.quota.used, 'number');
    const byId = JSON.parse((await n.req('GET', `/ocs/v1.php/cloud/users/${n.user}?format=json`)).text).ocs.data;
    assert.equal(byId.id, n.user);
    const other = await n.req('GET', '/ocs/v2.php/cloud/users/somebody?format=json');
    assert.equal(other.status, 404);
    assert.equal(JSON.parse(other.text).ocs.meta.statuscode, 404);
  });

  it('needs credentials for OCS', async () => {
    const r = await n.req('GET', '/ocs/v2.php/cloud/user?format=json', { headers: { authorization: '' } });
    assert.equal(r.status, 401);
  });
});
