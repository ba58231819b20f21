import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, tempDir, type TestNode } from '../support/node.js';
import { runCli, startForeignDav, type ForeignDav } from './support.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('meshdav client against a foreign WebDAV server (webdav-server v2)', function () {
  this.timeout(60_000);
  let dav: ForeignDav;
  let work: string;
  const env = { MESHDAV_USER: 'alice', MESHDAV_PASSWORD: 'secret-pw' };
  before(async () => {
    dav = await startForeignDav();
    work = tempDir('cli-work-');
  });
  after(() => dav.stop());

  it('mkdir -p, put, ls --json, cat, get, mv, rm round-trip', async () => {
    const content = randomBytes(300_000);
    writeFileSync(join(work, 'blob.bin'), content);
    let r = await runCli(['mkdir', '-p', `${dav.url}/a/b`], { env });
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['put', join(work, 'blob.bin'), `${dav.url}/a/b/`], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
    r = await runCli(['ls', '--json', `${dav.url}/a/b/`], { env });
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as Array<{ name: string; type: string; size: number }>;
    assert.deepEqual(list.map((e) => [e.name, e.type, e.size]), [['blob.bin', 'file', content.length]]);
    r = await runCli(['ls', `${dav.url}/a/`], { env });
    assert.match(r.stdout, /^d .* b\/\n$/);
    r = await runCli(['get', `${dav.url}/a/b/blob.bin`, join(work, 'copy.bin')], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(readFileSync(join(work, 'copy.bin'))), sha(content));
    r = await runCli(['mv', `${dav.url}/a/b/blob.bin`, 'renamed.bin'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dav.dir, 'a', 'b', 'renamed.bin')));
    r = await runCli(['cat', `${dav.url}/a/b/renamed.bin`], { env });
    assert.equal(r.stdout.length > 0, true);
    r = await runCli(['rm', `${dav.url}/a`], { env });
    assert.equal(r.code, 2, 'a folder needs -r');
    assert.match(r.stderr, /is a folder — use `meshdav rm -r`/);
    r = await runCli(['rm', '-r', `${dav.url}/a`], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(join(dav.dir, 'a')));
  });

  it('draws a progress bar with rate and ETA on stderr with --progress', async () => {
    writeFileSync(join(work, 'p.bin'), randomBytes(50_000));
    const r = await runCli(['put', '--progress', join(work, 'p.bin'), `${dav.url}/p.bin`], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /p\.bin .*100% \| 49 KiB\/49 KiB \| .*\/s \| ETA /);
  });

  it('streams put - from standard input and get - to standard output', async () => {
    let r = await runCli(['put', '-', `${dav.url}/stdin.txt`], { env, input: 'from stdin\n' });
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['get', `${dav.url}/stdin.txt`, '-'], { env });
    assert.equal(r.stdout, 'from stdin\n');
  });

  it('takes the login from --user with --password-stdin, and from a netrc file', async () => {
    let r = await runCli(['put', '-', `${dav.url}/n.txt`], { env, input: 'x' });
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['cat', '--user', 'alice', '--password-stdin', `${dav.url}/n.txt`], { input: 'secret-pw\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'x');
    const netrc = join(work, 'netrc');
    writeFileSync(netrc, '# test\nmachine elsewhere.example login bob password nope\n\nmachine 127.0.0.1\n  login alice\n  password "secret-pw"\n');
    r = await runCli(['cat', '--netrc', netrc, `${dav.url}/n.txt`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'x');
    const home = tempDir('cli-home-');
    writeFileSync(join(home, '.netrc'), 'default login alice password secret-pw\n');
    r = await runCli(['cat', `${dav.url}/n.txt`], { env: { HOME: home } });
    assert.equal(r.code, 0, r.stderr);
  });

  it('resumes a partial download with --continue', async () => {
    const content = randomBytes(200_000);
    writeFileSync(join(dav.dir, 'resume.bin'), content);
    const local = join(work, 'resume.bin');
    writeFileSync(local, content.subarray(0, 70_000));
    let r = await runCli(['get', `${dav.url}/resume.bin`, local], { env });
    assert.equal(r.code, 6);
    assert.match(r.stderr, /already exists — use --continue to resume it or --force to replace it/);
    r = await runCli(['get', '--continue', '--json', `${dav.url}/resume.bin`, local], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).resumed, true);
    assert.equal(sha(readFileSync(local)), sha(content));
    truncateSync(local, 10);
    r = await runCli(['get', '-c', `${dav.url}/resume.bin`, local], { env });
    assert.equal(sha(readFileSync(local)), sha(content));
  });
});

describe('meshdav get --continue against a meshdav node (If-Range with the saved ETag)', function () {
  this.timeout(60_000);
  let node: TestNode;
  let work: string;
  const env = { MESHDAV_USER: 'alice', MESHDAV_PASSWORD: 'secret-pw' };
  const auth = 'Basic ' + Buffer.from('alice:secret-pw').toString('base64');
  const url = () => `${node.url}/remote.php/dav/files/alice/big.bin`;
  const upload = async (body: Buffer) => {
    const res = await fetch(url(), { method: 'PUT', headers: { authorization: auth }, body: new Uint8Array(body) });
    assert.ok(res.ok, `PUT ${res.status}`);
    return res.headers.get('etag') ?? (await fetch(url(), { method: 'HEAD', headers: { authorization: auth } })).headers.get('etag')!;
  };
  before(async () => {
    node = await startTestNode();
    await node.services.users.add({ name: 'alice', password: 'secret-pw' });
    work = tempDir('cli-resume-');
  });
  after(() => node?.stop());

  it('appends the rest when the file is unchanged, and starts over when it changed', async () => {
    const v1 = randomBytes(300_000);
    const etag1 = await upload(v1);
    const local = join(work, 'big.bin');
    // A download that broke off after 100 kB leaves the partial file and its resume record.
    writeFileSync(local, v1.subarray(0, 100_000));
    writeFileSync(`${local}.meshdav-resume`, JSON.stringify({ url: url(), etag: etag1 }));
    let r = await runCli(['get', '--continue', '--json', url(), local], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).resumed, true);
    assert.equal(sha(readFileSync(local)), sha(v1));
    assert.ok(!existsSync(`${local}.meshdav-resume`), 'the resume record goes when the file is complete');

    writeFileSync(local, v1.subarray(0, 100_000));
    writeFileSync(`${local}.meshdav-resume`, JSON.stringify({ url: url(), etag: etag1 }));
    const v2 = randomBytes(300_000);
    await upload(v2);
    r = await runCli(['get', '--continue', '--json', url(), local], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).resumed, false);
    assert.equal(sha(readFileSync(local)), sha(v2), 'never a splice of two versions');
  });
});
