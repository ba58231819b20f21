/**
 * The EFSS wire contract, replayed: every record of fixtures/efss/*.json is sent to a real node
 * (one fresh node per fixture file, records in order) and the parsed response compared.
 */
import { strict as assert } from 'node:assert';
import { providerDomain } from '../../src/config.js';
import { EFSS_VERBS } from '../../src/storage/efss/router.js';
import { startTestNode, type TestNode } from '../support/node.js';
import { compare, loadFixtures, replay, type Vars } from './replay.js';

const fixtures = loadFixtures();

/** The verbs of the storage, auth and user tables of efss-api.md. */
const CONTRACT = {
  storage: [
    'CreateHome', 'CreateDir', 'Delete', 'Move', 'GetMD', 'ListFolder', 'InitiateUpload', 'InitiateDownload', 'Upload',
    'Download', 'ListRevisions', 'DownloadRevision', 'RestoreRevision', 'ListRecycle', 'RestoreRecycleItem',
    'PurgeRecycleItem', 'EmptyRecycle', 'GetPathByID', 'AddGrant', 'UpdateGrant', 'RemoveGrant', 'DenyGrant', 'ListGrants',
    'GetQuota', 'CreateReference', 'SetArbitraryMetadata', 'UnsetArbitraryMetadata',
  ],
  auth: ['Authenticate'],
  user: ['GetUser', 'GetUserByClaim', 'GetUserGroups', 'FindUsers'],
};

export async function seedUsers(node: TestNode): Promise<void> {
  await node.services.users.add({ name: 'tester', password: 'testpass' });
  await node.services.users.add({ name: 'einstein', password: 'relativity', email: 'einstein@example.org', displayName: 'Albert Einstein' });
  await node.services.users.add({ name: 'marie', password: 'radium', email: 'marie@example.org', displayName: 'Marie Curie' });
}

describe('EFSS fixtures replay', function () {
  for (const [file, records] of Object.entries(fixtures)) {
    describe(file, function () {
      let node: TestNode;
      const vars: Vars = {};

      before(async () => {
        node = await startTestNode();
        await seedUsers(node);
        vars.idp = providerDomain(node.url);
        vars.loopbackSecret = node.config.loopbackSecret;
      });
      after(async () => node?.stop());

      for (const rec of records) {
        it(`${rec.method} ${rec.path.replace(/^.*\/api\//, '')} — ${rec.name}`, async () => {
          const errors = await replay(node.url, node.config.revaSecret, rec, vars);
          assert.deepEqual(errors, [], errors.join('\n'));
        });
      }
    });
  }
});

describe('EFSS fixtures coverage', () => {
  const records = Object.values(fixtures).flat();
  const succeeded = new Set(
    records
      .filter((r) => r.status >= 200 && r.status < 300)
      .map((r) => /\/api\/(storage|auth|user)\/([A-Za-z]+)/.exec(r.path))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${m[1]}/${m[2]}`),
  );

  for (const [area, verbs] of Object.entries(CONTRACT)) {
    it(`the router answers every ${area} verb of the contract`, () => {
      const missing = verbs.filter((v) => !EFSS_VERBS[area as keyof typeof EFSS_VERBS].includes(v));
      assert.deepEqual(missing, []);
    });
    it(`a fixture replays a successful call of every ${area} verb`, () => {
      const uncovered = [...new Set([...verbs, ...EFSS_VERBS[area as keyof typeof EFSS_VERBS]])].filter((v) => !succeeded.has(`${area}/${v}`));
      assert.deepEqual(uncovered, []);
    });
  }

  it('every record is well formed', () => {
    for (const r of records) {
      assert.equal(typeof r.name, 'string');
      assert.match(r.method, /^(GET|POST|PUT)$/, r.name);
      assert.match(r.path, /^(\/index\.php)?\/apps\/sciencemesh\/~[^/]+\/api\/(storage|auth|user)\//, r.name);
      assert.ok(Number.isInteger(r.status), r.name);
      assert.ok('response' in r, r.name);
    }
  });

  it('the comparison itself catches differences', () => {
    const v: Vars = {};
    assert.deepEqual(compare({ a: '$number', b: ['$capture:x'] }, { a: 1, b: ['id'] }, v), []);
    assert.equal(v.x, 'id');
    assert.notDeepEqual(compare({ a: '$number' }, { a: '1' }, v), []);
    assert.notDeepEqual(compare({ a: 1 }, { a: 1, extra: true }, v), []);
    assert.notDeepEqual(compare(['${x}'], ['other'], v), []);
  });
});
