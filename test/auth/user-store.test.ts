import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { UserStore } from '../../src/auth/user-store.js';
import { AlreadyExistsError, BadRequestError, NotFoundError } from '../../src/errors.js';
import type { Db } from '../../src/services.js';
import { tempDir } from '../support/node.js';

describe('UserStore', () => {
  let dir: string;
  let db: Db;
  let users: UserStore;

  beforeEach(async () => {
    dir = tempDir('users-');
    db = new Level<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' });
    await db.open();
    users = new UserStore(db);
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds, gets and lists users without exposing hashes', async () => {
    const u = await users.add({ name: 'einstein', password: 'relativity', email: 'einstein@example.org', displayName: 'Albert Einstein' });
    assert.equal(u.name, 'einstein');
    assert.equal((u as unknown as Record<string, unknown>).password, undefined);
    assert.deepEqual((await users.get('einstein'))?.email, 'einstein@example.org');
    assert.equal(await users.get('nobody'), undefined);
    assert.equal(await users.get('../x'), undefined);
    await users.add({ name: 'marie', password: 'radium' });
    assert.deepEqual((await users.list()).map((x) => x.name), ['einstein', 'marie']);
  });

  it('refuses duplicates and invalid names', async () => {
    await users.add({ name: 'alice', password: 'pw' });
    await assert.rejects(users.add({ name: 'alice', password: 'other' }), AlreadyExistsError);
    for (const name of ['', '.hidden', 'a/b', 'a b', 'x'.repeat(65), '-dash', 'a\\b']) {
      await assert.rejects(users.add({ name, password: 'pw' }), BadRequestError, name);
    }
    await assert.rejects(users.add({ name: 'bob', password: '' }), BadRequestError);
  });

  it('verifies passwords and changes them', async () => {
    await users.add({ name: 'alice', password: 'first' });
    assert.equal((await users.verifyPassword('alice', 'first'))?.name, 'alice');
    assert.equal((await users.verifyPassword('alice', 'first'))?.name, 'alice'); // memoised path
    assert.equal(await users.verifyPassword('alice', 'wrong'), null);
    assert.equal(await users.verifyPassword('ghost', 'first'), null);
    await users.setPassword('alice', 'second');
    assert.equal(await users.verifyPassword('alice', 'first'), null);
    assert.equal((await users.verifyPassword('alice', 'second'))?.name, 'alice');
    await assert.rejects(users.setPassword('ghost', 'x'), NotFoundError);
  });

  it('searches by prefix of name, display name and mail', async () => {
    await users.add({ name: 'einstein', password: 'p', email: 'albert@relativity.org', displayName: 'Albert Einstein' });
    await users.add({ name: 'marie', password: 'p', email: 'curie@radium.org', displayName: 'Marie Curie' });
    assert.deepEqual((await users.search('ein', 10)).map((u) => u.name), ['einstein']);
    assert.deepEqual((await users.search('ALB', 10)).map((u) => u.name), ['einstein']);
    assert.deepEqual((await users.search('curie', 10)).map((u) => u.name), ['marie']);
    assert.deepEqual((await users.search('', 1)).length, 1);
    assert.deepEqual(await users.search('zzz', 10), []);
  });
});
