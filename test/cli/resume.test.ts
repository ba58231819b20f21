import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../support/node.js';
import { runCli } from './support.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A plain HTTP file server whose first full download breaks off half-way (the connection is
 * cut), and which honours Range with If-Range afterwards — what a flaky network looks like.
 */
describe('meshdav get: a download that breaks off is resumed with --continue', function () {
  this.timeout(60_000);
  const content = randomBytes(512 * 1024);
  const v2 = randomBytes(300 * 1024);
  const seen: IncomingHttpHeaders[] = [];
  let server: Server;
  let base: string;
  before(async () => {
    let cut = true;
    server = createServer((req, res) => {
      seen.push(req.headers);
      if (req.url === '/old.bin') return void res.writeHead(301, { location: '/file.bin' }).end();
      if (req.url === '/ignores-if-range.bin') {
        // A server that answers any Range with 206, whatever If-Range says; its file is now "v2".
        const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
        const headers = { etag: '"v2"', 'content-length': v2.length - from };
        if (!req.headers.range) return void res.writeHead(200, headers).end(v2);
        return void res.writeHead(206, { ...headers, 'content-range': `bytes ${from}-${v2.length - 1}/${v2.length}` }).end(v2.subarray(from));
      }
      if (req.url === '/elsewhere.bin') return void res.writeHead(302, { location: 'http://127.0.0.2:9/file.bin' }).end();
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range && req.headers['if-range'] === '"v1"') {
        const from = Number(range[1]);
        res.writeHead(206, { etag: '"v1"', 'content-length': content.length - from, 'content-range': `bytes ${from}-${content.length - 1}/${content.length}` });
        res.end(content.subarray(from));
        return;
      }
      res.writeHead(200, { etag: '"v1"', 'content-length': content.length });
      if (!cut) return void res.end(content);
      cut = false;
      res.write(content.subarray(0, content.length / 2), () => setTimeout(() => res.socket?.destroy(), 50));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('says how to resume, keeps the partial file and its ETag, then finishes it', async () => {
    const local = join(tempDir('resume-'), 'file.bin');
    let r = await runCli(['get', `${base}/file.bin`, local]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^meshdav: GET http:\/\/127\.0\.0\.1:\d+\/file\.bin: the transfer broke off after \d+ bytes \(.*\) — run the same command with --continue to resume\n$/);
    const partial = statSync(local).size;
    assert.ok(partial > 0 && partial < content.length, `partial file of ${partial} bytes`);
    assert.ok(existsSync(`${local}.meshdav-resume`));

    r = await runCli(['get', '--continue', `${base}/file.bin`, local]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(readFileSync(local)), sha(content));
    const last = seen[seen.length - 1]!;
    assert.equal(last.range, `bytes=${partial}-`);
    assert.equal(last['if-range'], '"v1"');
    assert.ok(!existsSync(`${local}.meshdav-resume`));
  });

  it('starts over when a server ignores If-Range and sends a part of another version', async () => {
    const local = join(tempDir('ignores-'), 'f.bin');
    writeFileSync(local, content.subarray(0, 1000));
    writeFileSync(`${local}.meshdav-resume`, JSON.stringify({ url: `${base}/ignores-if-range.bin`, etag: '"v1"' }));
    const r = await runCli(['get', '--continue', '--json', `${base}/ignores-if-range.bin`, local]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).resumed, false);
    assert.equal(sha(readFileSync(local)), sha(v2));
  });

  it('follows a redirect on the same server, and names the new place of one elsewhere', async () => {
    const local = join(tempDir('redirect-'), 'old.bin');
    let r = await runCli(['get', `${base}/old.bin`, local]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(readFileSync(local)), sha(content));
    r = await runCli(['cat', `${base}/elsewhere.bin`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^meshdav: GET http:\/\/127\.0\.0\.1:\d+\/elsewhere\.bin: 302 moved to http:\/\/127\.0\.0\.2:9\/file\.bin — use that URL\n$/);
  });
});
