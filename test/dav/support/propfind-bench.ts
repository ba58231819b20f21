/**
 * Quick PROPFIND Depth 1 (allprop) comparison for development, on the same 10,000 files:
 * meshdav's DAV layer over LocalFs (this process) against `rclone serve webdav`.
 *   npx tsx test/dav/support/propfind-bench.ts [files]
 * (The committed benchmark is bench/dav.ts; this one measures the protocol layer alone.)
 */
import Koa from 'koa';
import { Level } from 'level';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { errorMiddleware } from '../../../src/http/error-middleware.js';
import { createLogger } from '../../../src/log.js';
import { LocalStorage } from '../../../src/storage/local-storage.js';
import { DavServer } from '../../../src/dav/server.js';

const FILES = Number(process.argv[2] ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), 'meshdav-pfbench-'));
const log = createLogger({ level: 'error' });
const db = new Level<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' });
await db.open();
const storage = await LocalStorage.open({ dataDir: dir, db: db as never, log, quotaBytes: null, maxVersions: 0 });
const fs = await storage.home('bench');
const filesDir = join(dir, 'files', 'bench', 'many');
mkdirSync(filesDir, { recursive: true });
for (let i = 0; i < FILES; i++) writeFileSync(join(filesDir, `file-${String(i).padStart(5, '0')}.txt`), 'x'.repeat(100));
await storage.scan('bench');
console.log('listed', (await fs.list('/many')).length, 'entries');

const dav = new DavServer({ limits: { xmlBodyBytes: 1 << 20 } });
const app = new Koa();
app.use(errorMiddleware(log));
app.use((ctx) => dav.serve(ctx, { fs, base: '/dav', lockScope: 'bench' }));
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const mesh = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dav/many/`;

const rport = 20000 + Math.floor(Math.random() * 20000);
const rclone = spawn('rclone', ['serve', 'webdav', join(dir, 'files', 'bench'), '--addr', `127.0.0.1:${rport}`], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 1500));
const rc = `http://127.0.0.1:${rport}/many/`;

async function time(url: string): Promise<[number, number]> {
  const t = performance.now();
  const r = await fetch(url, { method: 'PROPFIND', headers: { depth: '1' } });
  const text = await r.text();
  if (r.status !== 207) throw new Error(`${url} → ${r.status}`);
  return [(performance.now() - t) / 1000, (text.match(/<[a-zA-Z]+:response>/g) ?? []).length];
}
const rounds = 5;
const m: number[] = [];
const c: number[] = [];
for (let i = 0; i < rounds; i++) {
  const [tm, nm] = await time(mesh);
  const [tc, nc] = await time(rc);
  m.push(tm);
  c.push(tc);
  if (i === 0) console.log(`responses: meshdav ${nm}, rclone ${nc}`);
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(`PROPFIND Depth 1 allprop of ${FILES} files, median of ${rounds}: meshdav ${med(m).toFixed(3)} s, rclone ${med(c).toFixed(3)} s, ratio ${(med(m) / med(c)).toFixed(2)}×`);
// 100 concurrent clients GETting small files for a few seconds (requests/s, errors). The load runs
// in this process, beside meshdav's server, so meshdav's figure is pessimistic; bench/dav.ts runs
// meshdav as a child process.
const { Pool } = await import('undici');
async function load(base: string, seconds: number): Promise<{ rps: number; errors: number }> {
  const url = new URL(base);
  const pool = new Pool(url.origin, { connections: 100 });
  const end = Date.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: 100 }, async (_, w) => {
      let i = w;
      while (Date.now() < end) {
        try {
          const r = await pool.request({ path: `${url.pathname}file-${String(i % FILES).padStart(5, '0')}.txt`, method: 'GET' });
          await r.body.arrayBuffer();
          if (r.statusCode === 200) done++;
          else errors++;
        } catch {
          errors++;
        }
        i += 100;
      }
    }),
  );
  await pool.close();
  return { rps: done / seconds, errors };
}
const lm = await load(mesh, 5);
const lc = await load(rc, 5);
console.log(`100 clients × 5 s small GETs: meshdav ${lm.rps.toFixed(0)} req/s (${lm.errors} errors), rclone ${lc.rps.toFixed(0)} req/s (${lc.errors} errors), ratio ${(lm.rps / lc.rps).toFixed(2)}×`);
rclone.kill();
server.close();
await storage.close?.();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
