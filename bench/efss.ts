/**
 * EFSS API benchmark (`node --import tsx bench/efss.ts [--size-mib N] [--entries N] [--rounds N]`):
 *  - 1 GiB upload through `PUT …/api/storage/Upload/home/…` and download through
 *    `GET …/api/storage/Download/…`, against a plain Node `http` + `fs` stream pipeline
 *    (1 MiB reads) measured in the same run; both servers are child processes on loopback and
 *    the same client code drives both (best of `rounds`, alternating servers);
 *  - peak RSS of the meshdav process (VmHWM) during those transfers;
 *  - GetMD latency p50 (sequential, keep-alive);
 *  - ListFolder of a folder with 10,000 entries (seeded through Upload).
 * Prints figures, ratios and whether each target is met. A script, not a test.
 */
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { writeRandomFile, MiB } from './lib/files.js';
import { deferredChecksumsDone, ROOT } from './lib/meshdav.js';
import { freePort, peakRss, resetPeakRss, startChild, waitForHttp, type Child } from './lib/proc.js';
import { fmtMB, fmtRate, fmtRatio, median } from './lib/report.js';

const SELF = fileURLToPath(import.meta.url);
const BIN = join(ROOT, 'bin', 'meshdav.js');

/** `--plain-peer DIR PORT`: the reference server, a bare http + fs stream pipeline. */
async function plainPeer(dir: string, port: number): Promise<void> {
  const server = http.createServer((req, res) => {
    const file = join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/[^\w.-]/g, '_'));
    const fail = (err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
      else res.destroy();
    };
    if (req.method === 'PUT') {
      const tmp = file + '.part';
      pipeline(req, createWriteStream(tmp))
        .then(() => rename(tmp, file))
        .then(() => res.writeHead(201).end(), fail);
    } else if (req.method === 'GET') {
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
      pipeline(createReadStream(file, { highWaterMark: MiB }), res).catch(fail);
    } else {
      res.writeHead(204).end();
    }
  });
  server.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => process.once('SIGTERM', () => server.close(() => resolve())));
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

interface Target {
  origin: string;
  path: (rel: string) => string;
  headers: Record<string, string>;
}

async function timedPut(t: Target, rel: string, file: string, size: number): Promise<number> {
  const pool = new Pool(t.origin, { connections: 1 });
  try {
    const t0 = performance.now();
    const res = await pool.request({
      method: 'PUT',
      path: t.path(rel),
      headers: { ...t.headers, 'content-length': String(size), 'content-type': 'application/octet-stream' },
      body: createReadStream(file, { highWaterMark: MiB }),
    });
    await res.body.dump();
    if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`PUT ${rel} → ${res.statusCode}`);
    return size / ((performance.now() - t0) / 1000);
  } finally {
    await pool.close();
  }
}

async function timedGet(t: Target, rel: string, size: number): Promise<number> {
  const pool = new Pool(t.origin, { connections: 1 });
  try {
    const t0 = performance.now();
    const res = await pool.request({ method: 'GET', path: t.path(rel), headers: t.headers });
    if (res.statusCode !== 200) throw new Error(`GET ${rel} → ${res.statusCode}: ${await res.body.text()}`);
    let bytes = 0;
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    if (bytes !== size) throw new Error(`GET ${rel}: ${bytes} bytes, expected ${size}`);
    return bytes / ((performance.now() - t0) / 1000);
  } finally {
    await pool.close();
  }
}

async function post(pool: Pool, t: Target, verb: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await pool.request({
    method: 'POST',
    path: t.path(verb),
    headers: { ...t.headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/** A meshdav node as a child process: `user add` then `serve`, through `entry` (bin/meshdav.js or a bundle). */
async function startNodeChild(entry: string, dataDir: string): Promise<{ child: Child; origin: string; revaSecret: string }> {
  const env = { ...process.env, MESHDAV_LOG_LEVEL: 'warn' };
  execFileSync(process.execPath, [entry, 'user', 'add', 'bench', '--password-stdin', '--data', dataDir], { input: 'bench-password\n', env, stdio: ['pipe', 'ignore', 'inherit'] });
  const port = await freePort();
  const child = startChild(process.execPath, [entry, 'serve', '--port', String(port), '--data', dataDir], { env, cwd: ROOT });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${origin}/healthz`, child, 180_000); // a loaded machine can take long to start
  } catch (err) {
    await child.stop();
    throw err;
  }
  const { revaSecret } = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { revaSecret: string };
  return { child, origin, revaSecret };
}

const efssTarget = (origin: string, revaSecret: string): Target => ({
  origin,
  path: (rel) => '/index.php/apps/sciencemesh/~bench/api/storage/' + rel,
  headers: { 'x-reva-secret': revaSecret },
});

/**
 * The same sources bundled with esbuild into plain JavaScript (dependencies stay external), so
 * the node can also be measured without the tsx loader that `bin/meshdav.js` runs it through.
 * Returns the bundle's path, or undefined when esbuild is not installed.
 */
async function bundleMeshdav(): Promise<string | undefined> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return undefined;
  }
  const outfile = join(ROOT, 'node_modules', '.cache', 'meshdav-bench', 'meshdav.mjs');
  await esbuild.build({
    stdin: { contents: "import { main } from './src/cli.ts';\nawait main(process.argv);\n", resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
    plugins: [
      {
        // Each module keeps its own import.meta.url (the web UI finds its static files by it).
        name: 'keep-import-meta-url',
        setup(build) {
          build.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => ({
            contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
            loader: 'ts',
          }));
        },
      },
    ],
  });
  return outfile;
}

/** Upload + download of `file` through the EFSS API of a bundled node; its peak RSS. */
async function compiledRss(work: string, src: string, size: number): Promise<{ idle: number; afterUpload: number; peak: number } | undefined> {
  const bundle = await bundleMeshdav();
  if (!bundle) return undefined;
  const { child, origin, revaSecret } = await startNodeChild(bundle, join(work, 'compiled'));
  try {
    const t = efssTarget(origin, revaSecret);
    resetPeakRss(child.pid);
    const idle = peakRss(child.pid);
    await timedPut(t, 'Upload/home/big.bin', src, size);
    const afterUpload = peakRss(child.pid);
    await timedGet(t, 'Download/home/big.bin', size);
    await deferredChecksumsDone(origin);
    return { idle, afterUpload, peak: peakRss(child.pid) };
  } finally {
    await child.stop();
  }
}

async function main(): Promise<void> {
  const sizeMiB = arg('--size-mib', 1024);
  const entries = arg('--entries', 10_000);
  const rounds = arg('--rounds', 2);
  const size = sizeMiB * MiB;
  const work = mkdtempSync(join(tmpdir(), 'meshdav-bench-efss-'));
  const children: Child[] = [];
  try {
    console.log(`EFSS benchmark: ${sizeMiB} MiB transfer, ${rounds} rounds, ${entries} entries; work dir ${work}`);
    const src = join(work, 'source.bin');
    await writeRandomFile(src, size);

    const mesh = await startNodeChild(BIN, join(work, 'meshdav'));
    children.push(mesh.child);
    const meshOrigin = mesh.origin;
    const api = '/index.php/apps/sciencemesh/~bench/api/storage/';
    const efss = efssTarget(mesh.origin, mesh.revaSecret);

    const peerPort = await freePort();
    const peerDir = join(work, 'plain');
    mkdirSync(peerDir);
    const peer = startChild(process.execPath, ['--import', 'tsx', SELF, '--plain-peer', peerDir, String(peerPort)]);
    children.push(peer);
    const plain: Target = { origin: `http://127.0.0.1:${peerPort}`, path: (rel) => '/' + rel, headers: {} };
    await waitForHttp(plain.origin + '/', peer);

    // Transfers, alternating servers; the best round of each counts.
    const up = { efss: [] as number[], plain: [] as number[] };
    const down = { efss: [] as number[], plain: [] as number[] };
    const rssReset = resetPeakRss(mesh.child.pid);
    resetPeakRss(peer.pid);
    const peerBefore = peakRss(peer.pid);
    const rssBefore = peakRss(mesh.child.pid);
    const backfill: number[] = [];
    // Who goes first alternates by round: the first 1 GiB write of a run lands in fresh page-cache
    // pages and ran up to twice as fast as later ones here, so a fixed order favoured one side.
    for (let r = 0; r < rounds; r++) {
      const plainUp = async () => up.plain.push(await timedPut(plain, 'big.bin', src, size));
      const efssUp = async () => {
        up.efss.push(await timedPut(efss, 'Upload/home/big.bin', src, size));
        // MD5/Adler32 of a large upload are computed once the node is quiet: let that finish
        // before anything else is measured, so it never competes with the next measurement.
        backfill.push(await deferredChecksumsDone(meshOrigin));
      };
      const plainDown = async () => down.plain.push(await timedGet(plain, 'big.bin', size));
      const efssDown = async () => down.efss.push(await timedGet(efss, 'Download/home/big.bin', size));
      const order = r % 2 === 0 ? [plainUp, efssUp, plainDown, efssDown] : [efssUp, plainUp, efssDown, plainDown];
      for (const step of order) await step();
    }
    const rssPeak = peakRss(mesh.child.pid);
    const peerPeak = peakRss(peer.pid);

    // GetMD latency.
    const pool = new Pool(meshOrigin, { connections: 1, keepAliveTimeout: 60_000 });
    const lat: number[] = [];
    for (let i = 0; i < 2_200; i++) {
      const t0 = performance.now();
      const r = await post(pool, efss, 'GetMD', { ref: { path: '/home/big.bin' }, mdKeys: null });
      const ms = performance.now() - t0;
      if (r.status !== 200) throw new Error(`GetMD → ${r.status} ${r.text}`);
      if (i >= 200) lat.push(ms); // the first 200 warm up
    }

    // ListFolder of `entries` entries, seeded through Upload.
    const mk = await post(pool, efss, 'CreateDir', { path: '/home/many' });
    if (mk.status !== 201) throw new Error(`CreateDir → ${mk.status} ${mk.text}`);
    const seedPool = new Pool(meshOrigin, { connections: 16 });
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < entries) {
          const i = next++;
          const res = await seedPool.request({ method: 'PUT', path: `${api}Upload/home/many/f${String(i).padStart(5, '0')}.txt`, headers: efss.headers, body: `entry ${i}\n` });
          await res.body.dump();
          if (res.statusCode !== 201) throw new Error(`Upload f${i} → ${res.statusCode}`);
        }
      }),
    );
    await seedPool.close();
    console.log(`seeded ${entries} entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const listMs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const s = performance.now();
      const r = await post(pool, efss, 'ListFolder', { ref: { path: '/home/many' }, mdKeys: null });
      const ms = performance.now() - s;
      if (r.status !== 200) throw new Error(`ListFolder → ${r.status}`);
      const n = (JSON.parse(r.text) as unknown[]).length;
      if (n !== entries) throw new Error(`ListFolder returned ${n} entries`);
      if (i > 0) listMs.push(ms); // the first warms up
    }
    await pool.close();
    await mesh.child.stop();
    const compiled = await compiledRss(work, src, size);

    const best = (xs: number[]) => Math.max(...xs);
    const upRatio = best(up.efss) / best(up.plain);
    const downRatio = best(down.efss) / best(down.plain);
    const p50 = median(lat);
    const p99 = [...lat].sort((a, b) => a - b)[Math.floor(lat.length * 0.99)]!;
    const list50 = median(listMs);
    const rows: Array<[string, string, string, string, boolean]> = [
      ['upload (Upload/home/…)', fmtRate(best(up.efss)), fmtRate(best(up.plain)), fmtRatio(upRatio), upRatio >= 0.9],
      ['download (Download/…)', fmtRate(best(down.efss)), fmtRate(best(down.plain)), fmtRatio(downRatio), downRatio >= 0.9],
      ['peak RSS of meshdav', fmtMB(rssPeak), fmtMB(peerPeak), `< 150 MB`, rssPeak < 150e6],
      ...(compiled
        ? [['peak RSS, bundled JS', fmtMB(compiled.peak), '', `< 150 MB (no tsx loader)`, compiled.peak < 150e6] as [string, string, string, string, boolean]]
        : []),
      ['GetMD p50', `${p50.toFixed(2)} ms`, '', `< 2 ms (p99 ${p99.toFixed(2)} ms)`, p50 < 2],
      [`ListFolder ${entries}`, `${list50.toFixed(0)} ms`, '', `< 300 ms (best ${Math.min(...listMs).toFixed(0)} ms)`, list50 < 300],
    ];
    console.log('');
    console.log(['metric'.padEnd(26), 'meshdav'.padEnd(12), 'plain node'.padEnd(12), 'ratio / target'.padEnd(34), 'result'].join(''));
    for (const [m, a, b, c, ok] of rows) console.log([m.padEnd(26), a.padEnd(12), b.padEnd(12), c.padEnd(34), ok ? 'met' : 'MISSED'].join(''));
    console.log(`\nall rounds (GB/s): upload meshdav ${up.efss.map((x) => (x / 1e9).toFixed(2)).join(', ')} vs plain ${up.plain.map((x) => (x / 1e9).toFixed(2)).join(', ')}; ` +
      `download meshdav ${down.efss.map((x) => (x / 1e9).toFixed(2)).join(', ')} vs plain ${down.plain.map((x) => (x / 1e9).toFixed(2)).join(', ')}`);
    console.log(`deferred checksums: SHA1 while uploading; MD5 + Adler32 done in the background ${backfill.map((x) => x.toFixed(1)).join(', ')} s after each upload (node quiet, nothing else measured meanwhile)`);
    console.log(`RSS: meshdav ${fmtMB(rssBefore)} before the transfers${rssReset ? ' (peak reset)' : ' (peak since start)'}, ${fmtMB(rssPeak)} peak (+${fmtMB(rssPeak - rssBefore)}); plain node peer ${fmtMB(peerBefore)} → ${fmtMB(peerPeak)} (+${fmtMB(peerPeak - peerBefore)})`);
    if (compiled) console.log(`RSS of the same node bundled to plain JS (esbuild, no tsx loader): ${fmtMB(compiled.idle)} idle, ${fmtMB(compiled.afterUpload)} peak after one upload, ${fmtMB(compiled.peak)} after a download too`);
    else console.log('esbuild not installed: the bundled-JS RSS figure was skipped');
  } finally {
    for (const c of children.reverse()) await c.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--plain-peer') {
  await plainPeer(process.argv[3]!, Number(process.argv[4]));
} else {
  await main();
}
