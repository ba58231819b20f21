/**
 * Storage engine benchmark: prints figures, asserts nothing.
 *   node --import tsx bench/storage.ts [--size-mib 256] [--rounds 3] [--entries 10000]
 * - upload/download of one file over loopback HTTP: LocalFs.write / openRead against a plain
 *   `pipeline(req, fs.createWriteStream)` + rename / `pipeline(fs.createReadStream, res)` (1 MiB
 *   chunks), alternating, same process, same disk; prints MB/s and the ratio (target ≥ 0.9);
 * - list() of a folder with --entries files (target well under 300 ms) and stat() p50 (≪ 1 ms).
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Level } from 'level';
import { createLogger } from '../src/log.js';
import type { Db } from '../src/services.js';
import { LocalStorage } from '../src/storage/local-storage.js';
import { tempDir } from '../test/support/node.js';

const { values } = parseArgs({
  options: { 'size-mib': { type: 'string', default: '256' }, rounds: { type: 'string', default: '3' }, entries: { type: 'string', default: '10000' } },
});
const MiB = 1024 * 1024;
const size = Number(values['size-mib']) * MiB;
const rounds = Number(values.rounds);
const entries = Number(values.entries);

const dataDir = tempDir('meshdav-bench-storage-');
const db: Db = new Level<string, unknown>(join(dataDir, 'db'), { valueEncoding: 'json' });
await db.open();
const storage = await LocalStorage.open({ dataDir, db, log: createLogger({ level: 'silent' }), quotaBytes: null, maxVersions: 0 });
const fs = await storage.home('bench');
const plainDir = join(dataDir, 'plain');
await (await import('node:fs/promises')).mkdir(plainDir, { recursive: true });

const server = http.createServer(async (req, res) => {
  try {
    const [, arm, name] = req.url!.split('/');
    if (req.method === 'PUT' && arm === 'plain') {
      const tmp = join(plainDir, `.${name}.part`);
      await pipeline(req, createWriteStream(tmp, { highWaterMark: MiB }));
      await rename(tmp, join(plainDir, name!));
    } else if (req.method === 'PUT') {
      await fs.write(`/${name}`, req, { size: Number(req.headers['content-length']) });
    } else if (arm === 'plain') {
      await pipeline(createReadStream(join(plainDir, name!), { highWaterMark: MiB }), res);
      return;
    } else {
      await pipeline(await fs.openRead(`/${name}`), res);
      return;
    }
    res.statusCode = 201;
    res.end();
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
const agent = new http.Agent({ keepAlive: true });
const block = randomBytes(MiB);

function upload(path: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', path, method: 'PUT', agent, headers: { 'content-length': size } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve(performance.now() - t0) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    let sent = 0;
    Readable.from(
      (function* () {
        while (sent < size) {
          const n = Math.min(MiB, size - sent);
          sent += n;
          yield n === MiB ? block : block.subarray(0, n);
        }
      })(),
    ).pipe(req);
  });
}

function download(path: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', path, agent }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (n === size ? resolve(performance.now() - t0) : reject(new Error(`got ${n} bytes`))));
    }).on('error', reject);
  });
}

const rate = (ms: number) => size / MiB / (ms / 1000);
const totals = { plainUp: 0, meshUp: 0, plainDown: 0, meshDown: 0 };
for (let i = 0; i < rounds; i++) {
  totals.plainUp += await upload(`/plain/f${i}`);
  totals.meshUp += await upload(`/mesh/f${i}`);
  totals.plainDown += await download(`/plain/f${i}`);
  totals.meshDown += await download(`/mesh/f${i}`);
  await rm(join(plainDir, `f${i}`));
  await fs.remove(`/f${i}`);
  await fs.emptyTrash();
}
const line = (what: string, plain: number, mesh: number) =>
  console.log(`${what}: plain ${rate(plain / rounds).toFixed(0)} MB/s, LocalFs ${rate(mesh / rounds).toFixed(0)} MB/s, ratio ${(plain / mesh).toFixed(2)}`);
console.log(`file ${size / MiB} MiB × ${rounds} rounds`);
line('upload  ', totals.plainUp, totals.meshUp);
line('download', totals.plainDown, totals.meshDown);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (client and server in one process)`);

await fs.mkdir('/many');
const { writeFile } = await import('node:fs/promises');
const manyDir = join(dataDir, 'files', 'bench', 'many');
for (let i = 0; i < entries; i++) await writeFile(join(manyDir, `file-${i}.txt`), 'x');
await fs.list('/many'); // first listing adopts the files created behind its back
const listTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const l = await fs.list('/many');
  listTimes.push(performance.now() - t0);
  if (l.length !== entries) throw new Error(`listed ${l.length}`);
}
listTimes.sort((a, b) => a - b);
console.log(`list() of ${entries} entries: median ${listTimes[2]!.toFixed(1)} ms (min ${listTimes[0]!.toFixed(1)})`);
const statTimes: number[] = [];
for (let i = 0; i < 2000; i++) {
  const t0 = performance.now();
  await fs.stat(`/many/file-${i % entries}.txt`);
  statTimes.push(performance.now() - t0);
}
statTimes.sort((a, b) => a - b);
console.log(`stat() warm: p50 ${(statTimes[1000]! * 1000).toFixed(0)} µs, p99 ${(statTimes[1980]! * 1000).toFixed(0)} µs`);

server.close();
agent.destroy();
await storage.close();
await db.close();
await rm(dataDir, { recursive: true, force: true });
