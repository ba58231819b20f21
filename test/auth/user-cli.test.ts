/**
 * `meshdav user …` as a real child process, on a data directory with no node running (direct
 * LevelDB) and with one running (LevelDB locked → the node's loopback admin endpoint); and
 * `meshdav serve` creating `admin` on first start.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { rawRequest } from '../efss/replay.js';

const BIN = new URL('../../bin/meshdav.js', import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function meshdav(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, MESHDAV_LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

async function authenticate(node: { url: string; revaSecret: string }, name: string, password: string): Promise<number> {
  const r = await rawRequest(node.url, 'POST', `/apps/sciencemesh/~${name}/api/auth/Authenticate`, {
    'x-reva-secret': node.revaSecret,
  }, JSON.stringify({ clientID: name, clientSecret: password }));
  return r.status;
}

describe('meshdav user (CLI)', function () {
  this.timeout(60_000);

  describe('without a running node', () => {
    let dir: string;
    before(() => (dir = tempDir('cli-users-')));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('adds, lists and changes passwords directly in the data directory', async () => {
      const add = await meshdav(['user', 'add', 'alice', '--password-stdin', '--email', 'alice@example.org', '--display-name', 'Alice L', '--data', dir], 'first-pw\n');
      assert.equal(add.code, 0, add.stderr);
      assert.ok(!add.stdout.includes('first-pw'));
      const dup = await meshdav(['user', 'add', 'alice', '--password-stdin', '--data', dir], 'x\n');
      assert.equal(dup.code, 6);
      assert.match(dup.stderr, /already exists/);
      const bad = await meshdav(['user', 'add', '../evil', '--password-stdin', '--data', dir], 'x\n');
      assert.equal(bad.code, 2);
      const noStdin = await meshdav(['user', 'add', 'carol', '--data', dir]);
      assert.equal(noStdin.code, 2);
      const pw = await meshdav(['user', 'passwd', 'alice', '--password-stdin', '--data', dir], 'second-pw\n');
      assert.equal(pw.code, 0, pw.stderr);
      const ghost = await meshdav(['user', 'passwd', 'ghost', '--password-stdin', '--data', dir], 'x\n');
      assert.equal(ghost.code, 5);
      const list = await meshdav(['user', 'list', '--json', '--data', dir]);
      assert.equal(list.code, 0, list.stderr);
      const users = JSON.parse(list.stdout) as Array<{ name: string; email?: string; displayName?: string }>;
      assert.deepEqual(users.map((u) => [u.name, u.email, u.displayName]), [['alice', 'alice@example.org', 'Alice L']]);

      // The node started on that directory sees the user with the changed password.
      const node = await startTestNode({ dataDir: dir }, { keepData: true });
      try {
        assert.equal(await authenticate({ url: node.url, revaSecret: node.config.revaSecret }, 'alice', 'second-pw'), 200);
        assert.equal(await authenticate({ url: node.url, revaSecret: node.config.revaSecret }, 'alice', 'first-pw'), 401);
      } finally {
        await node.close();
      }
    });
  });

  describe('with a running node', () => {
    let node: TestNode;
    before(async () => (node = await startTestNode()));
    after(async () => node?.stop());

    it('writes node.json while running', () => {
      const info = JSON.parse(readFileSync(join(node.dataDir, 'node.json'), 'utf8'));
      assert.equal(info.url, node.url);
      assert.equal(info.pid, process.pid);
    });

    it('goes through the admin endpoint while the node holds the database', async () => {
      const add = await meshdav(['user', 'add', 'bob', '--password-stdin', '--data', node.dataDir], 'builder\n');
      assert.equal(add.code, 0, add.stderr);
      assert.equal((await node.services.users.get('bob'))?.name, 'bob');
      assert.equal(await authenticate({ url: node.url, revaSecret: node.config.revaSecret }, 'bob', 'builder'), 200);

      const dup = await meshdav(['user', 'add', 'bob', '--password-stdin', '--data', node.dataDir], 'x\n');
      assert.equal(dup.code, 6);
      const pw = await meshdav(['user', 'passwd', 'bob', '--password-stdin', '--data', node.dataDir], 'digger\n');
      assert.equal(pw.code, 0, pw.stderr);
      assert.equal(await authenticate({ url: node.url, revaSecret: node.config.revaSecret }, 'bob', 'digger'), 200);
      const list = await meshdav(['user', 'list', '--data', node.dataDir]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^bob$/m);
      assert.ok(!node.logLines.join('').includes('digger'), 'a password reached the log');
    });

    it('refuses admin calls without the loopback secret', async () => {
      const none = await rawRequest(node.url, 'GET', '/admin/users', {});
      assert.equal(none.status, 401);
      const wrong = await rawRequest(node.url, 'GET', '/admin/users', { authorization: 'Bearer ' + node.config.revaSecret });
      assert.equal(wrong.status, 401);
      const ok = await rawRequest(node.url, 'GET', '/admin/users', { authorization: 'Bearer ' + node.config.loopbackSecret });
      assert.equal(ok.status, 200);
      const bad = await rawRequest(node.url, 'POST', '/admin/users', { authorization: 'Bearer ' + node.config.loopbackSecret }, '{"name":42}');
      assert.equal(bad.status, 400);
    });
  });

  describe('meshdav serve on a fresh data directory', () => {
    let dir: string;
    before(() => (dir = tempDir('first-start-')));
    after(() => rmSync(dir, { recursive: true, force: true }));

    async function serveUntilListening(): Promise<{ stdout: () => string; stop: () => Promise<void>; url: string }> {
      const child = spawn(process.execPath, [BIN, 'serve', '--data', dir, '--port', '0'], { env: { ...process.env, MESHDAV_LOG_LEVEL: 'silent' } });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      const closed = new Promise<void>((r) => child.on('close', () => r()));
      for (let i = 0; i < 200 && !/First start|meshdav is serving[^\n]*\n[\s\S]*data:/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 300));
      const url = /meshdav is serving (\S+)/.exec(out)?.[1] ?? '';
      return { stdout: () => out, url, stop: async () => { child.kill('SIGTERM'); await closed; } };
    }

    it('creates admin with a random password printed once', async () => {
      const first = await serveUntilListening();
      let password: string;
      try {
        const m = /created user "admin" with password: (\S+)/.exec(first.stdout());
        assert.ok(m, first.stdout());
        password = m[1]!;
        assert.ok(password.length >= 16);
        assert.ok(existsSync(join(dir, 'node.json')));
        const secrets = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8'));
        assert.equal(await authenticate({ url: first.url, revaSecret: secrets.revaSecret }, 'admin', password), 200);
      } finally {
        await first.stop();
      }
      assert.ok(!existsSync(join(dir, 'node.json')), 'node.json is removed at clean shutdown');
      const second = await serveUntilListening();
      try {
        assert.doesNotMatch(second.stdout(), /password/);
      } finally {
        await second.stop();
      }
    });
  });
});

describe('admin endpoint', () => {
  it('answers loopback clients only', async function () {
    const { networkInterfaces } = await import('node:os');
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!external) {
      console.log('      skipped: this machine has no non-loopback IPv4 address to call from');
      this.skip();
    }
    const node = await startTestNode({ host: '0.0.0.0' });
    try {
      const port = new URL(node.url).port;
      const auth = { authorization: 'Bearer ' + node.config.loopbackSecret };
      const viaLoopback = await rawRequest(`http://127.0.0.1:${port}`, 'GET', '/admin/users', auth);
      assert.equal(viaLoopback.status, 200);
      const viaNetwork = await rawRequest(`http://${external}:${port}`, 'GET', '/admin/users', auth);
      assert.equal(viaNetwork.status, 403);
    } finally {
      await node.stop();
    }
  });
});
