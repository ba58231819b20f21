/**
 * The README is executable documentation. Conventions (also described in README.md, "Testing
 * this README"):
 *   - the ```sh block after `<!-- test: quickstart -->` is `npm ci` then `npm start`; the test
 *     starts the node as `npm start` does (`node bin/meshdav.js serve`) in a fresh temporary
 *     directory on a free port;
 *   - every ```sh block after `<!-- test: tour [needs=PROGRAM] -->` runs, in order, in one `sh -e`
 *     shell in that directory (HOME = that directory, `npx meshdav` = this checkout), after
 *     replacing `127.0.0.1:8080` with the node's address; blocks whose PROGRAM is missing are skipped
 *     (failed under MESHDAV_REQUIRE_TOOLS=1).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { configSchema, envName } from '../src/config.js';
import { buildProgram } from '../src/cli.js';
import { tempDir } from './support/node.js';
import { needTool, toolPath } from './support/tools.js';
import { BIN, ROOT } from './cli/support.js';

interface Block {
  kind: string;
  needs?: string;
  code: string;
}

export function readmeBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const re = /<!-- test: (\w+)((?: \w+=\S+)*) -->\s*\n```sh\n([\s\S]*?)```/g;
  for (const m of text.matchAll(re)) {
    const needs = /needs=(\S+)/.exec(m[2] ?? '')?.[1];
    blocks.push({ kind: m[1]!, needs, code: m[3]! });
  }
  return blocks;
}

function fuseAvailable(): boolean {
  return existsSync('/dev/fuse') && process.getuid?.() === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README.md', function () {
  this.timeout(600_000);
  const blocks = readmeBlocks(README);
  let dir: string;
  let port: number;
  let server: ChildProcess;
  let serverOut = '';
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = tempDir('readme-');
    port = await freePort();
    env = { PATH: process.env.PATH, HOME: dir, npm_config_update_notifier: 'false' };
    mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(BIN, join(dir, 'node_modules', '.bin', 'meshdav'));
    server = spawn(process.execPath, [BIN, 'serve', '--port', String(port)], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stderr!.on('data', (d) => (serverOut += d));
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (d) => {
        serverOut += d;
        if (serverOut.includes('First start: created user')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`meshdav serve exited with ${code}: ${serverOut}`)));
    });
  });
  after(() => {
    // A tour that failed between mount and umount must not leave the davfs2 mount behind.
    if (existsSync(join(dir, 'mnt')) && readFileSync('/proc/mounts', 'utf8').includes(join(dir, 'mnt'))) spawnSync('umount', [join(dir, 'mnt')]);
    if (server.exitCode === null) server.kill('SIGKILL');
  });

  it('has the two set-up commands and the test command', () => {
    const quick = blocks.filter((b) => b.kind === 'quickstart');
    assert.equal(quick.length, 1);
    assert.deepEqual(quick[0]!.code.trim().split('\n'), ['npm ci', 'npm start']);
    assert.match(README, /```sh\nnpm test\n```/);
    assert.equal(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start, 'node bin/meshdav.js serve');
  });

  it('npm start prints the WebDAV URL, the OCM endpoint and the first admin password', () => {
    const url = `http://127.0.0.1:${port}`;
    assert.match(serverOut, new RegExp(`meshdav is serving ${url}\n`));
    assert.ok(serverOut.includes(`WebDAV:  ${url}/remote.php/dav/files/<user>/`));
    assert.ok(serverOut.includes(`OCM:     ${url}/ocm`));
    assert.match(serverOut, /First start: created user "admin" with password: \S{12,}/);
  });

  it('runs every tour command exactly as written', async function () {
    const tour = blocks.filter((b) => b.kind === 'tour');
    assert.ok(tour.length >= 5, 'the tour has its blocks');
    const parts: string[] = [];
    const ran = new Set<string>();
    for (const b of tour) {
      const missing = (b.needs?.split(',') ?? []).filter((t) => (t === 'fuse' ? !fuseAvailable() : !toolPath(t)));
      if (missing.length) {
        if (process.env.MESHDAV_REQUIRE_TOOLS === '1') throw new Error(`MESHDAV_REQUIRE_TOOLS=1 but ${missing.join(', ')} is missing`);
        console.log(`      skipped a tour block: needs ${missing.join(', ')}`);
        continue;
      }
      ran.add(b.needs ?? '');
      parts.push(b.code);
    }
    const script = parts.join('\n').replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`);
    const r = await run('sh', ['-e', '-c', script], { cwd: dir, env });
    assert.equal(r.code, 0, `the tour failed:\n${r.out}`);
    assert.ok(r.out.includes('{"status":"ok"}'), r.out);
    assert.match(r.out, /hello meshdav\n/);
    assert.match(r.out, /demo OK: einstein@127\.0\.0\.1:\d+ shared "demo" with marie@/);
    assert.equal(readFileSync(join(dir, 'copy.txt'), 'utf8'), 'hello meshdav\n');
    if (ran.has('rclone')) assert.match(r.out, /\s14 \d{4}-\d\d-\d\d [\d:.]+ hello\.txt\n/, 'rclone lsl lists the copied file');
    if (ran.has('cadaver')) assert.match(r.out, /Coll:\s+from-rclone/, 'cadaver lists the home');
    if (ran.has('mount.davfs,fuse')) assert.match(r.out, /-rw\S* .* hello\.txt\n/, 'the davfs2 mount shows the files');
  });

  it('documents every configuration key with its environment variable', () => {
    const rows = new Set([...README.matchAll(/^\| `([\w.]+)` \| (?:`(MESHDAV_\w+)`)? *\|/gm)].map((m) => `${m[1]} ${m[2] ?? ''}`.trim()));
    for (const [key, schema] of Object.entries(configSchema.shape)) {
      assert.ok(rows.has(`${key} ${envName(key)}`), `README configuration table lacks ${key} / ${envName(key)}`);
      let inner: unknown = schema;
      for (let i = 0; i < 5; i++) {
        const def = (inner as { def?: { innerType?: unknown } }).def;
        if (def?.innerType) inner = def.innerType;
      }
      const shape = (inner as { def?: { shape?: Record<string, unknown> } }).def?.shape;
      for (const sub of Object.keys(shape ?? {})) assert.ok(rows.has(`${key}.${sub}`), `README configuration table lacks ${key}.${sub}`);
    }
  });

  it('the CLI reference names only commands that exist, and every command is in it', () => {
    const known = new Set<string>();
    for (const cmd of buildProgram().commands) {
      known.add(cmd.name());
      for (const sub of cmd.commands) known.add(`${cmd.name()} ${sub.name()}`);
    }
    const section = README.slice(README.indexOf('## CLI reference'), README.indexOf('## revad on meshdav'));
    const documented = new Set<string>();
    for (const row of section.matchAll(/^\| (`[^|]*(?:\\\|[^|]*)*)\|/gm)) {
      for (const code of row[1]!.matchAll(/`([a-z][\w-]*)(?: ([a-z][\w-]*))?/g)) {
        const two = `${code[1]} ${code[2] ?? ''}`.trim();
        const name = known.has(two) ? two : code[1]!;
        assert.ok(known.has(name), `README documents \`${two}\`, which meshdav does not have`);
        documented.add(name);
      }
    }
    for (const cmd of buildProgram().commands) assert.ok(documented.has(cmd.name()) || [...documented].some((d) => d.startsWith(cmd.name() + ' ')), `README lacks \`${cmd.name()}\``);
  });

  it('the revad snippet is valid TOML and sets the reva v3.10 Nextcloud driver fields', async function () {
    needTool(this, 'python3', 'its tomllib parses the TOML');
    const toml = /```toml\n([\s\S]*?)```/.exec(README)?.[1];
    assert.ok(toml, 'README has a TOML block');
    const parse = spawnSync('python3', ['-c', 'import json, sys, tomllib; print(json.dumps(tomllib.loads(sys.stdin.read())))'], { input: toml, encoding: 'utf8' });
    assert.equal(parse.status, 0, parse.stderr);
    const cfg = JSON.parse(parse.stdout) as { grpc: { services: Record<string, any> }; http: { services: Record<string, any> } };
    const g = cfg.grpc.services;
    const drivers = {
      storageprovider: g.storageprovider.drivers.nextcloud,
      dataprovider: cfg.http.services.dataprovider.drivers.nextcloud,
      authprovider: g.authprovider.auth_managers.nextcloud,
      userprovider: g.userprovider.drivers.nextcloud,
      ocmshareprovider: g.ocmshareprovider.drivers.nextcloud,
      ocmcore: g.ocmcore.drivers.nextcloud,
    };
    for (const [service, d] of Object.entries(drivers)) {
      const ocm = service.startsWith('ocm');
      assert.deepEqual(Object.keys(d).sort(), (ocm ? ['endpoint', 'mock_http', 'mount_id', 'shared_secret', 'webdav_host'] : ['endpoint', 'mock_http', 'shared_secret']), service);
      assert.equal(d.endpoint, 'http://127.0.0.1:8080/index.php/apps/sciencemesh/', service);
      assert.equal(d.mock_http, false, service);
    }
    assert.equal(g.storageprovider.driver, 'nextcloud');
    assert.equal(g.authprovider.auth_manager, 'nextcloud');
    assert.equal(g.storageprovider.mount_id, drivers.ocmshareprovider.mount_id);
  });

  it('Ctrl-C shuts the node down cleanly', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.match(serverOut, /SIGINT received, shutting down/);
  });
});
