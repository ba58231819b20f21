/**
 * Web UI server side against a real node: static files and their headers, login → cookie,
 * session, CSRF and Origin checks on the session bridge, logout, login throttling, and the
 * session store's expiry rules.
 */
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '../support/node.js';
import { SessionStore } from '../../src/web/session.js';

const PASSWORD = 'correct horse battery';

describe('web: sessions, CSRF and static files', function () {
  let node: TestNode;
  let origin: string;

  before(async () => {
    node = await startTestNode();
    origin = new URL(node.url).origin;
    await node.services.users.add({ name: 'alice', password: PASSWORD, displayName: 'Alice A.' });
    await node.services.users.add({ name: 'bob', password: PASSWORD });
  });
  after(() => node?.stop());

  async function login(user = 'alice', password = PASSWORD, headers: Record<string, string> = { Origin: origin }) {
    return fetch(`${node.url}/web/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ user, password }),
    });
  }

  async function session(user = 'alice') {
    const res = await login(user);
    assert.equal(res.status, 200);
    const setCookie = res.headers.get('set-cookie')!;
    const cookie = setCookie.split(';')[0]!;
    const body = (await res.json()) as { csrfToken: string; user: { name: string; displayName: string } };
    return { cookie, csrf: body.csrfToken, body, setCookie };
  }

  it('serves the page and assets with types, CSP and revalidation', async () => {
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/accept-invite?token=abc&providerDomain=example.org', 'text/html'],
      ['/ui/app.js', 'text/javascript'],
      ['/ui/views/files.js', 'text/javascript'],
      ['/ui/app.css', 'text/css'],
    ] as const) {
      const res = await fetch(node.url + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type')!, new RegExp(`^${type}`), path);
      assert.match(res.headers.get('content-security-policy')!, /default-src 'self'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      const etag = res.headers.get('etag')!;
      await res.arrayBuffer();
      const again = await fetch(node.url + path, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304, path);
    }
    const html = await (await fetch(node.url + '/')).text();
    assert.match(html, /<script type="module" src="\/ui\/app.js">/);
  });

  it('serves nothing outside the UI folder', async () => {
    for (const path of ['/ui/nope.js', '/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/', '/ui/views']) {
      const res = await fetch(node.url + path);
      assert.equal(res.status, 404, path);
    }
  });

  it('logs in with name and password: HttpOnly SameSite=Strict cookie, 256-bit id, CSRF token', async () => {
    const { setCookie, body } = await session();
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.match(setCookie, /; Path=\//);
    assert.doesNotMatch(setCookie, /; Secure/, 'plain http: no Secure flag');
    const id = setCookie.split(';')[0]!.split('=')[1]!;
    assert.equal(Buffer.from(id, 'base64url').length, 32);
    assert.equal(body.user.name, 'alice');
    assert.equal(body.user.displayName, 'Alice A.');
    assert.ok(Buffer.from(body.csrfToken, 'base64url').length >= 32);
    assert.ok(!node.logLines.join('').includes(PASSWORD), 'password never logged');
    assert.ok(!node.logLines.join('').includes(id), 'session id never logged');
  });

  it('refuses a wrong password (401 without a Basic challenge) and a login from another site (403)', async () => {
    const wrong = await login('bob', 'nope');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), null);
    assert.equal(wrong.headers.get('set-cookie'), null);
    const foreign = await login('bob', PASSWORD, { Origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get('set-cookie'), null);
    const noOrigin = await login('bob', PASSWORD, {});
    assert.equal(noOrigin.status, 403);
    const bad = await fetch(`${node.url}/web/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: origin },
      body: JSON.stringify({ user: 'bob' }),
    });
    assert.equal(bad.status, 400);
  });

  it('throttles failed logins like Basic does (429 even with the right password)', async () => {
    const strict = await startTestNode({ loginThrottle: { maxFailures: 3, windowSeconds: 60 } });
    try {
      await strict.services.users.add({ name: 'carol', password: PASSWORD });
      const attempt = (password: string) =>
        fetch(`${strict.url}/web/api/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Origin: new URL(strict.url).origin },
          body: JSON.stringify({ user: 'carol', password }),
        });
      for (let i = 0; i < 3; i++) assert.equal((await attempt('wrong')).status, 401);
      const res = await attempt(PASSWORD);
      assert.equal(res.status, 429);
      assert.ok(res.headers.get('retry-after'));
    } finally {
      await strict.stop();
    }
  });

  it('GET /web/api/session: 200 with the cookie, 401 without', async () => {
    const { cookie, csrf } = await session();
    const ok = await fetch(`${node.url}/web/api/session`, { headers: { Cookie: cookie } });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { user: { name: string }; csrfToken: string; node: { providerDomain: string } };
    assert.equal(body.user.name, 'alice');
    assert.equal(body.csrfToken, csrf);
    assert.equal(body.node.providerDomain, new URL(node.url).host);
    assert.equal((await fetch(`${node.url}/web/api/session`)).status, 401);
    const forged = await fetch(`${node.url}/web/api/session`, { headers: { Cookie: cookie.replace(/=.*/, '=AAAA') } });
    assert.equal(forged.status, 401);
  });

  it('state-changing API calls with the cookie need the right X-CSRF-Token and our Origin (403, nothing runs)', async () => {
    const { cookie, csrf } = await session();
    const url = `${node.url}/sciencemesh/generate-invite`;
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json', ...headers }, body: '{}' });
    assert.equal((await post({ Origin: origin })).status, 403, 'no token');
    assert.equal((await post({ Origin: origin, 'X-CSRF-Token': csrf.slice(0, -2) + 'xx' })).status, 403, 'wrong token');
    assert.equal((await post({ Origin: 'https://evil.example', 'X-CSRF-Token': csrf })).status, 403, 'foreign origin');
    assert.equal((await post({ 'X-CSRF-Token': csrf, 'Sec-Fetch-Site': 'cross-site' })).status, 403, 'cross-site fetch');
    const dav = await fetch(`${node.url}/remote.php/dav/files/alice/x.txt`, {
      method: 'PUT',
      headers: { Cookie: cookie, Origin: origin },
      body: 'hello',
    });
    assert.equal(dav.status, 403, 'DAV writes need the token too');
  });

  it('a session authenticates the API and the own WebDAV home as its user, and no one else\'s', async () => {
    const { cookie, csrf } = await session();
    const auth = { Cookie: cookie, Origin: origin, 'X-CSRF-Token': csrf };
    const put = await fetch(`${node.url}/remote.php/dav/files/alice/hello.txt`, { method: 'PUT', headers: auth, body: 'hi there' });
    assert.ok(put.status === 201 || put.status === 204, `PUT ${put.status}`);
    const get = await fetch(`${node.url}/remote.php/dav/files/alice/hello.txt`, { headers: { Cookie: cookie } });
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'hi there');
    assert.match(get.headers.get('content-security-policy') ?? '', /^sandbox/, 'user files never run as pages of the site');
    const other = await fetch(`${node.url}/remote.php/dav/files/bob/`, { method: 'PROPFIND', headers: { ...auth, Depth: '0' } });
    assert.ok(other.status === 403 || other.status === 404 || other.status === 401, `bob's home: ${other.status}`);
    const invites = await fetch(`${node.url}/sciencemesh/list-invite`, { headers: { Cookie: cookie } });
    assert.equal(invites.status, 200);
    const gen = await fetch(`${node.url}/sciencemesh/generate-invite`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.equal(gen.status, 200);
    assert.ok(((await gen.json()) as { token?: string }).token);
  });

  it('without a session the APIs answer 401; to the UI without a Basic challenge', async () => {
    const plain = await fetch(`${node.url}/sciencemesh/list-invite`);
    assert.equal(plain.status, 401);
    assert.match(plain.headers.get('www-authenticate') ?? '', /Basic/);
    const ui = await fetch(`${node.url}/sciencemesh/list-invite`, { headers: { 'X-Requested-With': 'meshdav-web' } });
    assert.equal(ui.status, 401);
    assert.equal(ui.headers.get('www-authenticate'), null);
    const dav = await fetch(`${node.url}/remote.php/dav/files/alice/`, {
      method: 'PROPFIND',
      headers: { 'X-Requested-With': 'meshdav-web', Depth: '0', Cookie: 'meshdav-00000000=forged' },
    });
    assert.equal(dav.status, 401);
    assert.equal(dav.headers.get('www-authenticate'), null);
  });

  it('logout needs the CSRF token, ends the session and clears the cookie', async () => {
    const { cookie, csrf } = await session();
    const refused = await fetch(`${node.url}/web/api/logout`, { method: 'POST', headers: { Cookie: cookie, Origin: origin } });
    assert.equal(refused.status, 403);
    assert.equal((await fetch(`${node.url}/web/api/session`, { headers: { Cookie: cookie } })).status, 200, 'still logged in');
    const out = await fetch(`${node.url}/web/api/logout`, {
      method: 'POST',
      headers: { Cookie: cookie, Origin: origin, 'X-CSRF-Token': csrf },
    });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
    assert.equal((await fetch(`${node.url}/web/api/session`, { headers: { Cookie: cookie } })).status, 401);
  });

  it('a password change ends every open session of that user, and only theirs', async () => {
    const mine = await session();
    await node.services.users.add({ name: 'other', password: PASSWORD }).catch(() => undefined);
    const theirs = await session('other');
    await node.services.users.setPassword('alice', 'a brand new password');
    try {
      assert.equal((await fetch(`${node.url}/web/api/session`, { headers: { Cookie: mine.cookie } })).status, 401);
      assert.equal((await fetch(`${node.url}/web/api/session`, { headers: { Cookie: theirs.cookie } })).status, 200);
    } finally {
      await node.services.users.setPassword('alice', PASSWORD);
    }
  });

  it('a node published over https sets Secure __Host- cookies', async () => {
    const secure = await startTestNode({ publicUrl: 'https://mesh.example.org' });
    try {
      await secure.services.users.add({ name: 'alice', password: PASSWORD });
      const res = await fetch(`http://127.0.0.1:${secure.config.port}/web/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: 'https://mesh.example.org' },
        body: JSON.stringify({ user: 'alice', password: PASSWORD }),
      });
      assert.equal(res.status, 200);
      const setCookie = res.headers.get('set-cookie')!;
      assert.match(setCookie, /^__Host-meshdav-[0-9a-f]+=/);
      assert.match(setCookie, /; Secure/);
      assert.match(setCookie, /; Path=\//);
      assert.doesNotMatch(setCookie, /Domain=/i);
    } finally {
      await secure.stop();
    }
  });

  it('sessions of two nodes on one host use different cookie names', async () => {
    const other = await startTestNode();
    try {
      await other.services.users.add({ name: 'alice', password: PASSWORD });
      const a = (await session()).cookie.split('=')[0];
      const res = await fetch(`${other.url}/web/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: new URL(other.url).origin },
        body: JSON.stringify({ user: 'alice', password: PASSWORD }),
      });
      const b = res.headers.get('set-cookie')!.split('=')[0];
      assert.notEqual(a, b);
    } finally {
      await other.stop();
    }
  });
});

describe('web: session store', () => {
  it('ends a session after the idle time and after the maximum age', () => {
    let now = 1_000_000;
    const store = new SessionStore({ idleMs: 1000, maxAgeMs: 5000, now: () => now });
    const { id } = store.create('alice');
    now += 900;
    assert.equal(store.get(id)?.user, 'alice');
    now += 900; // used 900 ms ago: still alive
    assert.equal(store.get(id)?.user, 'alice');
    now += 1001;
    assert.equal(store.get(id), undefined, 'idle too long');

    const second = store.create('alice');
    for (let i = 0; i < 6; i++) {
      now += 900;
      if (i < 4) assert.ok(store.get(second.id));
    }
    assert.equal(store.get(second.id), undefined, 'older than maxAge');
  });

  it('checks CSRF tokens exactly and forgets destroyed sessions', () => {
    const store = new SessionStore();
    const { id, session } = store.create('bob');
    assert.ok(store.checkCsrf(session, session.csrfToken));
    assert.ok(!store.checkCsrf(session, session.csrfToken + 'x'));
    assert.ok(!store.checkCsrf(session, ''));
    assert.ok(!store.checkCsrf(session, undefined));
    store.destroy(id);
    assert.equal(store.get(id), undefined);
    const a = store.create('carol');
    const b = store.create('carol');
    store.destroyUser('carol');
    assert.equal(store.get(a.id), undefined);
    assert.equal(store.get(b.id), undefined);
  });
});
