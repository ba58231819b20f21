import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/node.js';
import { BIN, runCli } from './support.js';

describe('meshdav demo', function () {
  this.timeout(120_000);

  it('--once runs invite → accept → share → accept between two sites and reads the file through the mount', async () => {
    const data = join(tempDir('demo-'), 'sites');
    const r = await runCli(['demo', '--once', '--data', data]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^demo OK: einstein@127\.0\.0\.1:\d+ shared "demo" with marie@127\.0\.0\.1:\d+; read 91 bytes of hello\.txt through http:\/\/127\.0\.0\.1:\d+\/remote\.php\/dav\/files\/marie\/Shares\/demo\/\n$/,
    );
    assert.deepEqual(readdirSync(data).sort(), ['site-a', 'site-b'], 'each site has its own data directory');
  });

  it('refuses a non-empty --data directory with one line', async () => {
    const data = tempDir('demo-full-');
    writeFileSync(join(data, 'something'), 'x');
    const r = await runCli(['demo', '--once', '--data', data]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `meshdav: ${data} is not empty — the demo sets up two fresh sites; give a new or empty directory to --data\n`);
  });

  it('without --once prints a mount URL and login that work, and stops cleanly on Ctrl-C', async () => {
    const child = spawn(process.execPath, [BIN, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => out.includes('Press Ctrl-C') && resolve());
      void exited.then((code) => reject(new Error(`demo exited early (${code}): ${out}`)));
    });
    const login = /Log in as (\w+) \/ (\S+)\. Try:/.exec(out);
    const mount = /^  (http:\/\/127\.0\.0\.1:\d+\/remote\.php\/dav\/files\/marie\/Shares\/demo\/)$/m.exec(out);
    const data = /^  data    (\S+) \(removed on exit\)$/m.exec(out);
    assert.ok(login && mount && data, out);
    const r = await runCli(['cat', `${mount[1]}hello.txt`], { env: { MESHDAV_USER: login[1]!, MESHDAV_PASSWORD: login[2]! } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Hello from site A!/);
    child.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /SIGINT received, stopping both sites/);
    assert.ok(!existsSync(data[1]!), 'the temporary data directory is removed');
  });
});
