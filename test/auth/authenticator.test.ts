import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { errorMiddleware } from '../../src/http/error-middleware.js';
import { LoginThrottle } from '../../src/auth/throttle.js';
import { TooManyRequestsError } from '../../src/errors.js';
import { startTestNode, type TestNode } from '../support/node.js';
import { rawRequest } from '../efss/replay.js';

const basic = (name: string, secret: string) => 'Basic ' + Buffer.from(`${name}:${secret}`).toString('base64');

/** A Koa server whose only route answers the name of the user `node.services.auth.basic` accepts. */
async function guarded(node: TestNode): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Koa();
  app.silent = true;
  app.use(errorMiddleware(node.services.log));
  app.use(async (ctx) => {
    const user = await node.services.auth.basic(ctx);
    ctx.body = { user: user.name };
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('Authenticator', () => {
  let node: TestNode;
  let app: { url: string; close(): Promise<void> };

  beforeEach(async () => {
    node = await startTestNode({ loginThrottle: { maxFailures: 3, windowSeconds: 60 } });
    await node.services.users.add({ name: 'alice', password: 'wonderland' });
    await node.services.users.add({ name: 'bob', password: 'builder' });
    app = await guarded(node);
  });
  afterEach(async () => {
    await app.close();
    await node.stop();
  });

  const get = (auth?: string) => rawRequest(app.url, 'GET', '/', auth ? { authorization: auth } : {});

  it('accepts the password and the loopback secret', async () => {
    const a = await get(basic('alice', 'wonderland'));
    assert.equal(a.status, 200);
    assert.deepEqual(JSON.parse(a.text), { user: 'alice' });
    const b = await get(basic('bob', node.config.loopbackSecret));
    assert.equal(b.status, 200);
    assert.deepEqual(JSON.parse(b.text), { user: 'bob' });
  });

  it('answers 401 with a Basic challenge for missing, malformed or wrong credentials', async () => {
    for (const auth of [undefined, 'Bearer x', 'Basic !!!', basic('alice', 'nope'), basic('ghost', 'wonderland'), basic('ghost', node.config.loopbackSecret)]) {
      const r = await get(auth);
      assert.equal(r.status, 401, String(auth));
      assert.equal(r.headers['www-authenticate'], 'Basic realm="meshdav", charset="UTF-8"');
      assert.equal(JSON.parse(r.text).code, 'UNAUTHORIZED');
    }
  });

  it('throttles a user name after too many failures, even with the right password', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get(basic('alice', 'wrong' + i))).status, 401);
    const r = await get(basic('alice', 'wonderland'));
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers['retry-after']) > 0 && Number(r.headers['retry-after']) <= 60);
    // The per-address counter is over the limit too: other users from this address wait as well.
    assert.equal((await get(basic('bob', 'builder'))).status, 429);
  });

  it('throttles Authenticate of the EFSS API per user name', async () => {
    const call = (secret: string) =>
      rawRequest(node.url, 'POST', '/apps/sciencemesh/~alice/api/auth/Authenticate', {
        'x-reva-secret': node.config.revaSecret,
        'content-type': 'application/json',
      }, JSON.stringify({ clientID: 'alice', clientSecret: secret }));
    for (let i = 0; i < 3; i++) assert.equal((await call('bad')).status, 401);
    const r = await call('wonderland');
    assert.equal(r.status, 429);
    assert.ok(r.headers['retry-after']);
    // Another user through the same revad is not affected.
    const bob = await rawRequest(node.url, 'POST', '/apps/sciencemesh/~bob/api/auth/Authenticate', {
      'x-reva-secret': node.config.revaSecret,
    }, JSON.stringify({ clientID: 'bob', clientSecret: 'builder' }));
    assert.equal(bob.status, 200);
  });

  it('never logs a password or secret', async () => {
    await get(basic('alice', 'wonderland'));
    await get(basic('alice', 'sekrit-wrong-password'));
    const logs = node.logLines.join('\n');
    for (const s of ['wonderland', 'sekrit-wrong-password', node.config.loopbackSecret, node.config.revaSecret]) {
      assert.ok(!logs.includes(s), 'a secret reached the log');
    }
  });
});

describe('LoginThrottle', () => {
  it('lets attempts through again once the window has passed', () => {
    let now = 1_000_000;
    const t = new LoginThrottle(2, 10, () => now);
    t.fail(['k']);
    t.check(['k']);
    t.fail(['k']);
    assert.throws(() => t.check(['k']), (e: unknown) => e instanceof TooManyRequestsError && e.headers['Retry-After'] === '10');
    now += 9_000;
    assert.throws(() => t.check(['k']), (e: unknown) => e instanceof TooManyRequestsError && e.headers['Retry-After'] === '1');
    now += 1_000;
    t.check(['k']);
    t.check(['other']);
  });
});
