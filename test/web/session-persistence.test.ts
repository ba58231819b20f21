/** Web UI sessions outlive a restart (the `web-sessions` sublevel); ended ones do not. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { LevelMirror } from '../../src/storage/level-mirror.js';
import { SessionStore, type Session } from '../../src/web/session.js';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { freePort } from '../support/ports.js';

const PASSWORD = 'correct horse battery';

describe('web: sessions survive a restart', function () {
  this.timeout(30_000);
  const dataDir = tempDir('meshdav-sessions-');
  let node: TestNode | undefined;
  let port = 0;
  // The same address each time: the session cookie is named after the node's public URL.
  const start = async () => (node = await startTestNode({ dataDir, port: (port ||= await freePort()) }, { keepData: true }));
  const api = (path: string, init: RequestInit = {}) => fetch(`${node!.url}${path}`, init);

  after(async () => {
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps a logged-in browser logged in, CSRF token included; logout and a password change still end sessions', async () => {
    await start();
    await node!.services.users.add({ name: 'alice', password: PASSWORD });
    const origin = new URL(node!.url).origin;
    const login = async () => {
      const res = await api('/web/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: origin }, body: JSON.stringify({ user: 'alice', password: PASSWORD }) });
      assert.equal(res.status, 200);
      return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
    };
    const kept = await login();
    const ended = await login();
    assert.equal((await api('/web/api/logout', { method: 'POST', headers: { cookie: ended.cookie, 'X-CSRF-Token': ended.csrf, Origin: origin } })).status, 204);
    await node!.stop();

    await start();
    const me = await api('/web/api/session', { headers: { cookie: kept.cookie } });
    assert.equal(me.status, 200, 'still logged in after the restart');
    assert.equal(((await me.json()) as { csrfToken: string }).csrfToken, kept.csrf);
    // The session still works for a CSRF-checked change through the session bridge.
    const mkcol = await api('/remote.php/dav/files/alice/after-restart', { method: 'MKCOL', headers: { cookie: kept.cookie, 'X-CSRF-Token': kept.csrf, Origin: origin } });
    assert.equal(mkcol.status, 201);
    assert.equal((await api('/web/api/session', { headers: { cookie: ended.cookie } })).status, 401, 'a logged-out session stays ended');

    await node!.services.users.setPassword('alice', 'another horse battery');
    await node!.stop();
    await start();
    assert.equal((await api('/web/api/session', { headers: { cookie: kept.cookie } })).status, 401, 'a password change ended it for good');
  });

  it('drops sessions that ended while the node was down, in memory and on disk', async () => {
    const dir = tempDir('meshdav-sessionstore-');
    const db = new Level<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' });
    try {
      let now = 1_000_000;
      const opts = { idleMs: 10_000, maxAgeMs: 60_000, now: () => now };
      const first = new SessionStore(opts);
      const mirror = new LevelMirror<Session>(db, 'web-sessions', 'a web session');
      await first.attach(mirror);
      const idle = first.create('alice');
      const busy = first.create('bob');
      now += 8_000;
      assert.ok(first.get(busy.id));
      await mirror.drain();

      now += 5_000; // alice idle 13 s (> 10 s); bob used 5 s ago, but saved only at his login
      const second = new SessionStore(opts);
      await second.attach(new LevelMirror<Session>(db, 'web-sessions', 'a web session'));
      assert.equal(second.get(idle.id), undefined, 'idle too long');
      assert.equal(second.get(busy.id), undefined, 'a last use not saved yet (< 1 min) counts from the last saved one');
      assert.equal((await db.sublevel('web-sessions').keys().all()).length, 0, 'ended sessions are deleted on disk');

      const longer = { ...opts, idleMs: 120_000, maxAgeMs: 600_000 };
      const third = new SessionStore(longer);
      const m3 = new LevelMirror<Session>(db, 'web-sessions', 'a web session');
      await third.attach(m3);
      const fresh = third.create('dave');
      now += 70_000;
      assert.ok(third.get(fresh.id), 'used after 70 s: the use is saved (more than a minute since the last save)');
      await m3.drain();
      now += 60_000; // 60 s after that use, 130 s after the login (idle limit 120 s)
      const fourth = new SessionStore(longer);
      await fourth.attach(new LevelMirror<Session>(db, 'web-sessions', 'a web session'));
      assert.equal(fourth.get(fresh.id)?.user, 'dave', 'alive after the restart: its last use was saved');
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
