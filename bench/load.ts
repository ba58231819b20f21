/**
 * Load (issue 8): 200 concurrent clients mixing PROPFIND, GET and PUT against one node, then the
 * same through a receiver's mount of a share from a second node. Both nodes are child processes
 * started with the real CLI, so their memory is their own. Prints requests/s, p50/p99 latency
 * per operation, errors, and RSS after the first minute vs at the end (medians of 15 s windows).
 *
 *   node --import tsx bench/load.ts            (LOAD_SECONDS=120 by default; LOAD_CLIENTS=200)
 *   LOAD_PARTS=direct LOAD_NODE_ARGS='--heap-prof' …   (one part; node flags for both nodes)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { ROOT, basic } from './lib/meshdav.js';
import { currentRss, freePort, startChild, waitForHttp, type Child } from './lib/proc.js';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 120);
const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 200);
const FILES = 50;
/** Extra node flags for both nodes (say `--heap-prof`), and which parts to run (`direct,mount`). */
const NODE_ARGS = (process.env.LOAD_NODE_ARGS ?? '').split(' ').filter(Boolean);
const PARTS = (process.env.LOAD_PARTS ?? 'direct,mount').split(',');
const SMALL = Buffer.alloc(4096, 'x');
const BIN = join(ROOT, 'bin', 'meshdav.js');
const PASSWORD = 'load test password';

async function startNode(name: string, user: string, trust: string[], port: number): Promise<{ child: Child; url: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `meshdav-load-${name}-`));
  const env = { ...process.env, MESHDAV_LOG_LEVEL: process.env.LOAD_LOG_LEVEL ?? 'warn', MESHDAV_TRUSTED_PROVIDERS: trust.join(',') };
  execFileSync(process.execPath, [BIN, 'user', 'add', user, '--password-stdin', '--data', dir], { input: PASSWORD + '\n', env, stdio: ['pipe', 'ignore', 'inherit'] });
  const child = startChild(process.execPath, [...NODE_ARGS, BIN, 'serve', '--port', String(port), '--data', dir], { env, cwd: ROOT });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, child);
  return { child, url, dir };
}

async function api(url: string, user: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: basic(user, PASSWORD), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function seed(davBase: string, auth: string): Promise<void> {
  await fetch(`${davBase}load`, { method: 'MKCOL', headers: { authorization: auth } });
  for (let i = 0; i < FILES; i++) {
    const r = await fetch(`${davBase}load/f${i}.txt`, { method: 'PUT', body: SMALL, headers: { authorization: auth } });
    if (r.status >= 300) throw new Error(`seed PUT ${r.status}`);
  }
}

interface Stats {
  ms: Record<'GET' | 'PROPFIND' | 'PUT', number[]>;
  errors: number;
  samples: string[];
  /** RSS samples every 250 ms: [seconds since the start, bytes]. */
  rss: Array<[number, number]>;
  seconds: number;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function load(davBase: string, auth: string, rssPid: number): Promise<Stats> {
  const u = new URL(davBase);
  const pool = new Pool(u.origin, { connections: CLIENTS, pipelining: 1 });
  const stats: Stats = { ms: { GET: [], PROPFIND: [], PUT: [] }, errors: 0, samples: [], rss: [], seconds: 0 };
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  const sampler = setInterval(() => stats.rss.push([(performance.now() - t0) / 1000, currentRss(rssPid)]), 250);
  const worker = async (w: number) => {
    let k = w;
    while (performance.now() < end) {
      const r = (k++ * 7919) % 100;
      const op = r < 45 ? 'GET' : r < 80 ? 'PROPFIND' : 'PUT';
      const path = op === 'PROPFIND' ? `${u.pathname}load/` : op === 'GET' ? `${u.pathname}load/f${k % FILES}.txt` : `${u.pathname}load/w${w}.txt`;
      const t = performance.now();
      try {
        const res = await pool.request({
          method: op,
          path,
          headers: { authorization: auth, ...(op === 'PROPFIND' ? { depth: '1' } : {}) },
          body: op === 'PUT' ? SMALL : undefined,
        });
        await res.body.dump({ limit: 1 << 22 });
        const ok = op === 'PROPFIND' ? res.statusCode === 207 : op === 'GET' ? res.statusCode === 200 : res.statusCode === 201 || res.statusCode === 204;
        if (ok) stats.ms[op].push(performance.now() - t);
        else {
          stats.errors++;
          if (stats.samples.length < 5) stats.samples.push(`${op} ${path}: ${res.statusCode}`);
        }
      } catch (err) {
        stats.errors++;
        if (stats.samples.length < 5) stats.samples.push(`${op} ${path}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => worker(i)));
  clearInterval(sampler);
  stats.seconds = (performance.now() - t0) / 1000;
  await pool.close();
  return stats;
}

/**
 * RSS after the first minute and at the end, each the median of the samples of the `window`
 * seconds before: under 200 clients a node's RSS swings by ±15% with the collector's phase (V8
 * grows and shrinks its heap between full collections), so two single samples measure the phase,
 * not growth. The single samples and the range are printed too.
 */
function rssGrowth(s: Stats): { minute: number; end: number; window: number; growth: number; single: [number, number, number, number] } {
  const mark = Math.min(60, SECONDS / 2);
  const window = Math.min(15, SECONDS / 8);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const within = (from: number, to: number) => s.rss.filter(([t]) => t > from && t <= to).map(([, b]) => b);
  const minute = median(within(mark - window, mark));
  const end = median(within(s.seconds - window, s.seconds));
  const later = within(mark, s.seconds);
  const atMark = s.rss.find(([t]) => t >= mark)?.[1] ?? NaN;
  const last = s.rss.at(-1)?.[1] ?? NaN;
  return { minute, end, window, growth: (end - minute) / minute, single: [atMark, last, Math.min(...later), Math.max(...later)] };
}

function report(name: string, s: Stats): boolean {
  const total = s.ms.GET.length + s.ms.PROPFIND.length + s.ms.PUT.length;
  const { minute, end, window, growth, single } = rssGrowth(s);
  console.log(`\n${name}: ${CLIENTS} clients, ${s.seconds.toFixed(0)} s, ${total} requests (${(total / s.seconds).toFixed(0)}/s), ${s.errors} errors`);
  for (const op of ['GET', 'PROPFIND', 'PUT'] as const) {
    console.log(`  ${op.padEnd(8)} n=${String(s.ms[op].length).padStart(7)}  p50 ${pct(s.ms[op], 50).toFixed(1).padStart(7)} ms  p99 ${pct(s.ms[op], 99).toFixed(1).padStart(7)} ms`);
  }
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  console.log(`  RSS after the first minute ${mib(minute)} MiB, at the end ${mib(end)} MiB (${(growth * 100).toFixed(1)}%, target < 10%; medians of the ${window} s before each)`);
  console.log(`  single samples: ${mib(single[0])} → ${mib(single[1])} MiB (${((single[1] / single[0] - 1) * 100).toFixed(1)}%); range after the first minute ${mib(single[2])}–${mib(single[3])} MiB`);
  for (const x of s.samples) console.log(`  error: ${x}`);
  const ok = s.errors === 0 && growth < 0.1;
  console.log(`  ${ok ? 'MET' : 'MISSED'}: 0 errors and RSS growth < 10%`);
  return ok;
}

/** Shares alice's `/load` with bob and accepts it; returns the WebDAV URL under which `load/` is bob's mount. */
async function mountShare(aUrl: string, bUrl: string, pa: number, pb: number): Promise<string> {
  const inv = await api(aUrl, 'alice', 'POST', '/sciencemesh/generate-invite', {});
  await api(bUrl, 'bob', 'POST', '/sciencemesh/accept-invite', { token: inv.token, providerDomain: `127.0.0.1:${pa}` });
  await api(aUrl, 'alice', 'POST', '/sciencemesh/create-share', { sourcePath: '/load', recipientUsername: 'bob', recipientHost: `127.0.0.1:${pb}`, role: 'editor' });
  const [rec] = await api(bUrl, 'bob', 'GET', '/sciencemesh/received-shares');
  const acc = await api(bUrl, 'bob', 'POST', `/sciencemesh/received-shares/${rec.id}/accept`, {});
  const mountDav = `${bUrl}/remote.php/dav/files/bob${encodeURI(acc.mountPoint)}/`.replace(/load\/$/, '');
  // The mount point is the share's folder itself; the load paths add `load/` below the Shares folder.
  const sharesDav = `${bUrl}/remote.php/dav/files/bob${encodeURI(acc.mountPoint.replace(/\/[^/]+$/, ''))}/`;
  return acc.mountPoint.endsWith('/load') ? sharesDav : mountDav;
}

const [pa, pb] = [await freePort(), await freePort()];
console.log("starting nodes…");
const a = await startNode('a', 'alice', [`127.0.0.1:${pb}`], pa);
const b = await startNode('b', 'bob', [`127.0.0.1:${pa}`], pb);
let allMet = true;
try {
  const aDav = `${a.url}/remote.php/dav/files/alice/`;
  console.log("seeding…");
  await seed(aDav, basic('alice', PASSWORD));
  if (PARTS.includes('direct')) allMet = report('one node (direct)', await load(aDav, basic('alice', PASSWORD), a.child.pid)) && allMet;
  if (PARTS.includes('mount')) {
    const named = await mountShare(a.url, b.url, pa, pb);
    allMet = report(`through a mount (receiver ${b.url}, share of ${a.url})`, await load(named, basic('bob', PASSWORD), b.child.pid)) && allMet;
  }
} finally {
  if (process.env.LOAD_SHOW_ERRORS) {
    for (const [n, c] of [['sender', a.child], ['receiver', b.child]] as const) {
      const lines = c.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
      console.log(`\n${n}: ${lines.length} error lines`);
      for (const l of lines.slice(0, 3)) console.log(l.slice(0, 2000));
    }
  }
  await Promise.all([a.child.stop(), b.child.stop()]);
  for (const d of [a.dir, b.dir]) rmSync(d, { recursive: true, force: true });
}
console.log(`\nload: ${allMet ? 'all targets met' : 'some targets missed'}`);
