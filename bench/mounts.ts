/**
 * Receiver-mount benchmark (prints figures; run once: it moves several GiB on loopback).
 *
 * Sender A runs in this process; receiver B is a separate `meshdav serve` process (so its peak
 * RSS is its own). A shares a folder with B over the real OCM flow; B mounts it at /Shares/bench.
 * Two more mounts of the same share go through proxies in this process: one that counts
 * requests, one that adds 20 ms to each request.
 *
 *   1. GET of 1 GiB: straight from A's share endpoint vs through B's mount, cold then warm;
 *      the same through an rclone proxy (`rclone serve webdav --vfs-cache-mode full`) as peer,
 *      and through two raw TCP relays as the floor of any proxy: socat (user-space copies, when
 *      installed) and a zero-copy splice(2) relay (bench/lib/splice-relay.py, when python3 is). Each mount
 *      read is also paired with a direct read next to it, and the whole machine's CPU per GiB is
 *      counted for every side, which bounds what a read can reach when the cores are the limit.
 *   2. PROPFIND Depth 1 of a 1,000-entry mounted folder behind the 20 ms proxy: cold vs warm,
 *      and the requests the sender saw for the warm one.
 *   3. 32 concurrent readers of one uncached 100 MiB file: requests the sender served per chunk.
 *   4. Peak RSS (VmHWM) of a fresh B while streaming 2 GiB with its memory cache at its bound.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { Level } from 'level';
import { request } from 'undici';
import { UserStore } from '../src/auth/user-store.js';
import { meshdavRuntime, ROOT } from './lib/meshdav.js';
import { Perm } from '../src/fs/types.js';
import { MountTable } from '../src/mounts/mount-table.js';
import { directGet, drained, type Got } from './lib/direct-read.js';
import { client, domainOf, freePort, PASSWORD } from '../test/ocm/mesh.js';
import { startTestNode, tempDir, type TestNode } from '../test/support/node.js';
import { toolPath } from '../test/support/tools.js';
import { startProxy } from '../test/mounts/support.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** The receiver's chunk size (BENCH_MOUNTS_CHUNK_MIB, default 4, the configuration's default). */
const CHUNK = Number(process.env.BENCH_MOUNTS_CHUNK_MIB ?? 4) * MiB;
/** The receiver's memory cache bound; its process starts at ~130 MiB (tsx-compiled sources). */
const MEMORY_CACHE = 32 * MiB;
const basic = (u: string) => 'Basic ' + Buffer.from(`${u}:${PASSWORD}`).toString('base64');
/** BENCH_MOUNTS_SCALE=N divides the file sizes by N (a quick dry run); figures are for N=1. */
const SCALE = Math.max(1, Number(process.env.BENCH_MOUNTS_SCALE ?? 1));
/** Rounds of part 1 (each side measured once per round, same way; best and median reported). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_MOUNTS_ROUNDS ?? 3));
/** Warm reads through the mount per round in part 1 (BENCH_MOUNTS_WARM_READS, default 3), each paired with a direct read. */
const WARM_READS = Math.max(1, Number(process.env.BENCH_MOUNTS_WARM_READS ?? 3));
/** BENCH_MOUNTS_PARTS=1,4 runs only those parts (default all). */
const parts = new Set((process.env.BENCH_MOUNTS_PARTS ?? '1,2,3,4').split(',').map(Number));
/** Extra node flags for the receiver child (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, or `--trace-gc` with BENCH_RECEIVER_STDOUT=1). */
const RECEIVER_NODE_ARGS = (process.env.BENCH_RECEIVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
/**
 * BENCH_MOUNTS_CACHE_MODE=metadata (or off) runs the receiver with that cache mode: part 1's
 * "cold" and "warm" reads are then both read through from the sender, which shows what the mount
 * costs as a relay, without the cache write. The targets are for mode full (the default).
 */
const CACHE_MODE = (process.env.BENCH_MOUNTS_CACHE_MODE ?? 'full') as 'off' | 'metadata' | 'full';
/** BENCH_RECEIVER_BIN=/other/checkout/bin/meshdav.js runs the receiver from another build (A/B comparisons). */
const RECEIVER_BIN = process.env.BENCH_RECEIVER_BIN ?? join(import.meta.dirname, '..', 'bin', 'meshdav.js');

type Side = 'direct' | 'cold' | 'warm' | 'rCold' | 'rWarm' | 'relay' | 'splice';
const best = (xs: number[]) => Math.max(...xs);
const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Writes `bytes` of pseudo-random content into A's home, streamed. */
async function putBig(a: TestNode, path: string, bytes: number): Promise<void> {
  const block = randomBytes(MiB);
  let left = bytes;
  const body = Readable.from(
    (function* () {
      while (left > 0) {
        const n = Math.min(left, block.length);
        left -= n;
        block[0] = (block[0]! + 1) & 0xff;
        yield Buffer.from(block.subarray(0, n));
      }
    })(),
  );
  const home = await a.services.storage.home('einstein');
  await home.write(path, body);
}

/**
 * The client that reads part 1's files, BENCH_MOUNTS_CLIENT:
 *   - `direct` (default): meshdav's own DirectClient (src/mounts/direct-get.ts) in this process,
 *     reading every body into one reused buffer, so the client makes no garbage;
 *   - `undici`: undici's `request`, as before 2026-11-28. Each socket read is a fresh 64 KiB buffer,
 *     and in some reads this process (sender A and the client) fell into a full collection every
 *     ~40 ms (`--trace-gc`: "finalize incremental marking via task"): its user CPU for the same
 *     1 GiB direct read went from 0.2 s to 1.2–1.7 s, so any side could lose half its speed to the
 *     harness at random;
 *   - `curl`: curl in its own process (then the client has a core of its own);
 *   - `process`: the same DirectClient read, in a process of its own (bench/lib/read-client.ts).
 */
const CLIENT = process.env.BENCH_MOUNTS_CLIENT ?? 'direct';
if (!['direct', 'process', 'undici', 'curl'].includes(CLIENT)) throw new Error(`BENCH_MOUNTS_CLIENT=${CLIENT}: use direct, process, undici or curl`);
const CURL = CLIENT === 'curl' ? toolPath('curl') : undefined;
if (CLIENT === 'curl' && !CURL) throw new Error('BENCH_MOUNTS_CLIENT=curl: curl is not installed');


/** GETs a URL with curl, discarding the body. */
async function curlGet(url: string, auth: string): Promise<Got> {
  const args = ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', ...(auth ? ['-H', `authorization: ${auth}`] : []), url];
  const t0 = performance.now();
  const out = await new Promise<string>((resolve, reject) => {
    const proc = spawn(CURL!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    proc.stdout.on('data', (d: Buffer) => (text += d));
    proc.once('error', reject);
    proc.once('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`curl exited ${code}`))));
  });
  const ms = performance.now() - t0;
  const [status, size] = out.trim().split(' ');
  if (status !== '200') throw new Error(`GET ${url}: ${status}`);
  const bytes = Number(size);
  return { mibs: bytes / MiB / (ms / 1000), bytes, ms, pieces: 0 };
}

/** The client process of BENCH_MOUNTS_CLIENT=process, and its answers to come, in order. */
let reader: { proc: ChildProcess; waiting: ((line: string) => void)[] } | undefined;

/** GETs a URL in the client process (started on first use, ended when this process exits). */
function processGet(url: string, auth: string): Promise<Got> {
  if (!reader) {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'lib', 'read-client.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const r = { proc, waiting: [] as ((line: string) => void)[] };
    createInterface({ input: proc.stdout! }).on('line', (l) => r.waiting.shift()?.(l));
    proc.unref();
    (proc.stdin as unknown as { unref(): void }).unref();
    reader = r;
  }
  const r = reader;
  return new Promise<Got>((resolve, reject) => {
    r.waiting.push((l) => {
      const got = JSON.parse(l) as Got & { error?: string };
      if (got.error) reject(new Error(got.error));
      else resolve(got);
    });
    r.proc.stdin!.write(JSON.stringify({ url, auth }) + '\n');
  });
}

/** GETs a URL, discarding the body; MiB/s. */
async function timedGet(url: string, auth: string): Promise<Got> {
  if (CURL) return curlGet(url, auth);
  if (CLIENT === 'process') return processGet(url, auth);
  if (CLIENT === 'direct') return directGet(url, auth);
  const t0 = performance.now();
  const res = await request(url, { headers: { authorization: auth } });
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}`);
  return drained(res.body, t0);
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await request(url);
      await r.body.dump();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} never answered`);
}

interface Receiver {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Runtimes the receiver children ran (dist unless src/ changed under a running bench). */
const runtimes = new Set<string>();

async function startReceiver(configFile: string, url: string): Promise<Receiver> {
  // Run what `npm ci` ships: rebuild dist/ right before each start if src/ changed meanwhile.
  if (meshdavRuntime() === 'tsx' && process.env.BENCH_FROM_SOURCE !== '1') {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  runtimes.add(meshdavRuntime());
  // Every start is with an empty content cache (what a "cold" read needs): the index of the disk
  // tier that the last clean stop saved goes; its slot files stay, to be overwritten in place.
  rmSync(join(dirname(configFile), 'cache', 'index.json'), { force: true });
  const proc = spawn(process.execPath, [...RECEIVER_NODE_ARGS, RECEIVER_BIN, 'serve', '--config', configFile], { stdio: ['ignore', process.env.BENCH_RECEIVER_STDOUT === '1' ? 'inherit' : 'ignore', 'inherit'] });
  await waitFor(url + '/healthz');
  return {
    proc,
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/**
 * CPU seconds (user, system) a process and its children have used so far (reaped ones, and live
 * ones such as a forking relay's child still holding a kept-alive connection), and its minor page
 * faults.
 */
function cpuSeconds(pid: number): { user: number; sys: number; faults: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const own = { user: (Number(f[11]) + Number(f[13])) / 100, sys: (Number(f[12]) + Number(f[14])) / 100, faults: Number(f[7]) };
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // no such file on this kernel: reaped children only
  }
  for (const child of children) {
    try {
      const c = cpuSeconds(Number(child));
      own.user += c.user;
      own.sys += c.sys;
    } catch {
      // it exited meanwhile (and will be counted once reaped)
    }
  }
  return own;
}

/** What this process (sender A and the client) spent on a read: CPU and minor page faults. */
function ownCost(own: NodeJS.CpuUsage, faults: number, ms: number): string {
  return `bench ${(own.user / 1e6).toFixed(2)}u+${(own.system / 1e6).toFixed(2)}s ${(faults / 1000).toFixed(0)}k faults in ${(ms / 1000).toFixed(2)}s`;
}

/** CPU seconds the whole machine has been busy (user, nice, system, irq, softirq, steal) and idle so far (/proc/stat). */
function machineCpu(): { busy: number; idle: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number) as number[];
  return { busy: (user! + nice! + system! + irq! + softirq! + steal!) / 100, idle: (idle! + iowait!) / 100 };
}

/**
 * `timedGet`, what this process spent on it (ownCost), and the machine's busy CPU seconds per GiB
 * moved (every process and the kernel: sender, proxy, client, loopback TCP, page cache).
 */
async function timedGetOwn(url: string, auth: string): Promise<Got & { own: string; machinePerGiB: number }> {
  // Every measured read starts with no file data waiting to be written back: a read right after
  // a cold one otherwise shared the cores with the kernel writing that GiB to disk (the first
  // warm read of a round ran at ~0.8× the next ones).
  execFileSync('sync');
  const own0 = process.cpuUsage();
  const f0 = process.resourceUsage().minorPageFault;
  const m0 = machineCpu();
  const r = await timedGet(url, auth);
  const m1 = machineCpu();
  return {
    ...r,
    own: ownCost(process.cpuUsage(own0), process.resourceUsage().minorPageFault - f0, r.ms) + `; machine ${(m1.busy - m0.busy).toFixed(2)} s busy, ${(m1.idle - m0.idle).toFixed(2)} s idle`,
    machinePerGiB: (m1.busy - m0.busy) / (r.bytes / GiB),
  };
}

/** `timedGet` plus the CPU seconds the proxy process `pid` spent on it. */
async function timedGetCpu(url: string, auth: string, pid: number): Promise<{ mibs: number; cpu: string; cpuPerGiB: number; machinePerGiB: number }> {
  const c0 = cpuSeconds(pid);
  const r = await timedGetOwn(url, auth);
  const c1 = cpuSeconds(pid);
  const cpuPerGiB = (c1.user - c0.user + c1.sys - c0.sys) / (r.bytes / GiB);
  return { mibs: r.mibs, cpuPerGiB, machinePerGiB: r.machinePerGiB, cpu: `${(c1.user - c0.user).toFixed(2)}u+${(c1.sys - c0.sys).toFixed(2)}s ${((c1.faults - c0.faults) / 1000).toFixed(0)}k faults (${r.own}, ${r.pieces ? (r.bytes / r.pieces / 1024).toFixed(0) : '-'} KiB/piece)` };
}

/** One counter of the receiver's /metrics. */
async function receiverMetric(url: string, name: string): Promise<number> {
  const res = await request(`${url}/metrics`);
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(await res.body.text());
  return m ? Number(m[1]) : NaN;
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const line = (label: string, value: string) => console.log(`${label.padEnd(62)} ${value}`);

async function main(): Promise<void> {
  const portB = await freePort();
  const urlB = `http://127.0.0.1:${portB}`;
  const a = await startTestNode({ trustedProviders: [urlB], logLevel: 'warn' });
  await a.services.users.add({ name: 'einstein', password: PASSWORD });

  const dataB = tempDir('bench-receiver-');
  const configB = join(dataB, 'config.json');
  writeFileSync(
    configB,
    JSON.stringify({
      host: '127.0.0.1',
      port: portB,
      dataDir: dataB,
      logLevel: 'warn',
      trustedProviders: [a.url],
      cache: { mode: CACHE_MODE, memoryBytes: MEMORY_CACHE, diskBytes: 1536 * MiB, chunkBytes: CHUNK, metadataTtlMs: 60_000 },
    }),
  );
  {
    const db = new Level<string, unknown>(join(dataB, 'db'), { valueEncoding: 'json' });
    await new UserStore(db).add({ name: 'marie', password: PASSWORD });
    await db.close();
  }

  console.log(`preparing the sender's files (parts ${[...parts].join(',')}, sizes / ${SCALE}) …`);
  await (await a.services.storage.home('einstein')).mkdir('/bench');
  if (parts.has(1)) await putBig(a, '/bench/big.bin', GiB / SCALE);
  if (parts.has(1)) await putBig(a, '/bench/warmup.bin', 32 * MiB);
  if (parts.has(4)) await putBig(a, '/bench/huge.bin', (2 * GiB) / SCALE);
  if (parts.has(3)) await putBig(a, '/bench/hundred.bin', (100 * MiB) / SCALE);
  // The sender's background MD5/Adler32 of those files finish before anything is measured.
  await a.services.storage.backfill.drained();
  const home = await a.services.storage.home('einstein');
  await home.mkdir('/bench/many');
  if (parts.has(2)) for (let i = 0; i < 1000; i++) await home.write(`/bench/many/f${String(i).padStart(4, '0')}.txt`, Readable.from([Buffer.from(`file ${i}`)]));

  let b = await startReceiver(configB, urlB);
  const inv = await client(a, 'einstein').post('/sciencemesh/generate-invite', {});
  await client({ url: urlB } as TestNode, 'marie').post('/sciencemesh/accept-invite', { token: inv.json.token, providerDomain: domainOf(a) });
  const sent = await client(a, 'einstein').post('/sciencemesh/create-share', { sourcePath: '/bench', recipientUsername: 'marie', recipientHost: new URL(urlB).host, role: 'viewer' });
  if (sent.status !== 201) throw new Error(`create-share: ${sent.text}`);
  const [received] = (await client({ url: urlB } as TestNode, 'marie').get('/sciencemesh/received-shares')).json;
  await client({ url: urlB } as TestNode, 'marie').post(`/sciencemesh/received-shares/${received.id}/accept`);
  const share = await a.services.ocm.sent.get('einstein', sent.json.id);
  const shareUri = `${a.url}/remote.php/dav/ocm/${share.id}`;
  const bearer = `Bearer ${share.secret}`;

  // Two more mounts of the same share, through a counting proxy and a 20 ms delay proxy.
  const counting = await startProxy(a.url);
  const delayed = await startProxy(a.url, { delayMs: 20 });
  await b.stop();
  {
    const db = new Level<string, unknown>(join(dataB, 'db'), { valueEncoding: 'json' });
    const table = await MountTable.open(db);
    for (const [name, proxy] of [['counted', counting], ['delayed', delayed]] as const) {
      await table.add({
        user: 'marie',
        name,
        url: `${proxy.url}/remote.php/dav/ocm/${share.id}`,
        auth: { kind: 'secret', secret: share.secret },
        permissions: Perm.READ,
        origin: { shareId: share.id, owner: `einstein@${domainOf(a)}`, provider: domainOf(a) },
      });
    }
    await db.close();
  }
  b = await startReceiver(configB, urlB);
  const mountUrl = (mount: string, path: string) => `${urlB}/remote.php/dav/files/marie/Shares/${mount}${path}`;

  if (parts.has(1)) {
    console.log(`\n1. GET of ${(GiB / SCALE / MiB).toFixed(0)} MiB: ${ROUNDS} rounds; each round restarts B (empty cache) and a fresh rclone; order alternates`);
    // BENCH_MOUNTS_RCLONE=0 leaves the rclone peer out (quicker runs while working on the receiver).
    const rclone = process.env.BENCH_MOUNTS_RCLONE === '0' ? undefined : toolPath('rclone');
    // Floors for any proxy: raw TCP relays between the client and A (no HTTP, no cache, no disk).
    // socat copies every byte through user space (1 MiB reads and writes), as any user-space
    // proxy must; the splice relay copies none (socket → pipe → socket in the kernel), the least
    // any proxy can cost on this kernel. BENCH_MOUNTS_RELAY=0 leaves both out.
    const relays = process.env.BENCH_MOUNTS_RELAY === '0' ? {} : { socat: toolPath('socat'), python3: toolPath('python3') };
    const rounds: Record<Side, number[]> = { direct: [], cold: [], warm: [], rCold: [], rWarm: [], relay: [], splice: [] };
    const cpu: Record<Side, string> = { direct: '', cold: '', warm: '', rCold: '', rWarm: '', relay: '', splice: '' };
    /** CPU seconds per GiB the proxy process spent, per side and round (less noisy than throughput here). */
    const cpuPerGiB: Record<Side, number[]> = { direct: [], cold: [], warm: [], rCold: [], rWarm: [], relay: [], splice: [] };
    /** The whole machine's busy CPU seconds per GiB, per side and read. */
    const machine: Record<Side, number[]> = { direct: [], cold: [], warm: [], rCold: [], rWarm: [], relay: [], splice: [] };
    /**
     * Paired ratios: each mount read over a direct read made right next to it (this machine's speed
     * drifts by 2× within seconds, so a ratio of neighbours is steadier than one of medians).
     */
    const paired: { cold: number[]; warm: number[] } = { cold: [], warm: [] };
    const measure = async (side: Side, url: string, auth: string, pid: number) => {
      const r = await timedGetCpu(url, auth, pid);
      rounds[side].push(r.mibs);
      cpu[side] = r.cpu;
      cpuPerGiB[side].push(r.cpuPerGiB);
      machine[side].push(r.machinePerGiB);
      return r.mibs;
    };
    const direct = async () => {
      const r = await timedGetOwn(`${shareUri}/big.bin`, bearer);
      cpu.direct = r.own;
      rounds.direct.push(r.mibs);
      machine.direct.push(r.machinePerGiB);
      return r.mibs;
    };
    const viaMount = async () => {
      await b.stop();
      b = await startReceiver(configB, urlB);
      // The same unmeasured warm-up for both proxies: a fresh process's first cold read, then its
      // first cached read (that one opened every slot file and compiled the cached-read path, and
      // so made the first measured warm read of a round ~0.8× the next ones).
      for (let i = 0; i < 2; i++) await timedGet(mountUrl('bench', '/warmup.bin'), basic('marie'));
      const before = await direct();
      paired.cold.push((await measure('cold', mountUrl('bench', '/big.bin'), basic('marie'), b.proc.pid!)) / before);
      const fetchedCold = await receiverMetric(urlB, 'meshdav_mount_cache_fetched_chunks_total');
      const refilledCold = await receiverMetric(urlB, 'meshdav_mount_cache_refilled_chunks_total');
      // Each warm read paired with a direct read next to it, which one goes first alternating.
      const warm = () => measure('warm', mountUrl('bench', '/big.bin'), basic('marie'), b.proc.pid!);
      for (let k = 0; k < WARM_READS; k++) {
        let w: number, d: number;
        if (k % 2 === 0) {
          w = await warm();
          d = await direct();
        } else {
          d = await direct();
          w = await warm();
        }
        paired.warm.push(w / d);
      }
      const refilled = (await receiverMetric(urlB, 'meshdav_mount_cache_refilled_chunks_total')) - refilledCold;
      // Chunks fetched while the warm reads ran, other than the background refills.
      const fetchedWarm = (await receiverMetric(urlB, 'meshdav_mount_cache_fetched_chunks_total')) - fetchedCold - refilled;
      const dropped = await receiverMetric(urlB, 'meshdav_mount_cache_spills_dropped_total');
      cpu.warm += ` · the warm reads fetched ${fetchedWarm} chunks again (${dropped} not cached: disk queue full; ${refilled} fetched again in the background)`;
    };
    const viaRclone = async () => {
      if (!rclone) return;
      const port = await freePort();
      const cacheDir = tempDir('bench-rclone-cache-');
      const proc = spawn(
        rclone,
        ['serve', 'webdav', ':webdav:', '--webdav-url', shareUri, '--webdav-bearer-token', share.secret, '--vfs-cache-mode', 'full', '--cache-dir', cacheDir, '--addr', `127.0.0.1:${port}`],
        { stdio: 'ignore' },
      );
      try {
        await waitFor(`http://127.0.0.1:${port}/`);
        for (let i = 0; i < 2; i++) await timedGet(`http://127.0.0.1:${port}/warmup.bin`, '');
        await measure('rCold', `http://127.0.0.1:${port}/big.bin`, '', proc.pid!);
        await measure('rWarm', `http://127.0.0.1:${port}/big.bin`, '', proc.pid!);
      } finally {
        await new Promise<void>((resolve) => {
          proc.once('exit', () => resolve());
          proc.kill();
        });
        rmSync(cacheDir, { recursive: true, force: true });
      }
    };
    /** One read through a relay between the client and A: socat's or the splice one. */
    const viaRelay = async (side: 'relay' | 'splice') => {
      const port = await freePort();
      const to = new URL(a.url).port;
      let proc: ChildProcess;
      if (side === 'relay' && relays.socat) {
        proc = spawn(relays.socat, [`-b${MiB}`, `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${to}`], { stdio: 'ignore' });
      } else if (side === 'splice' && relays.python3) {
        proc = spawn(relays.python3, [join(import.meta.dirname, 'lib', 'splice-relay.py'), String(port), to], { stdio: 'ignore' });
      } else return;
      try {
        const uri = `http://127.0.0.1:${port}${new URL(shareUri).pathname}/big.bin`;
        for (let i = 0; i < 50; i++) {
          if (execFileSync('sh', ['-c', `ss -ltn | grep -c ':${port} ' || true`], { encoding: 'utf8' }).trim() !== '0') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await measure(side, uri, bearer, proc.pid!);
      } finally {
        await new Promise<void>((resolve) => {
          if (proc.exitCode !== null) return resolve();
          proc.once('exit', () => resolve());
          proc.kill();
        });
      }
    };
    await direct(); // warms A's page cache for every side alike
    rounds.direct.length = 0;
    // B's disk tier reuses its slot files across restarts (their pages stay allocated); a node that
    // has run a while has them all. One unmeasured read creates them, so round 1 measures the
    // steady state too instead of the one-off cost of allocating 1 GiB of fresh file pages.
    await timedGet(mountUrl('bench', '/big.bin'), basic('marie'));
    for (let r = 0; r < ROUNDS; r++) {
      const viaRelays = async () => {
        await viaRelay('relay');
        await viaRelay('splice');
      };
      const order = r % 2 === 0 ? [direct, viaMount, viaRclone, viaRelays, direct] : [direct, viaRelays, viaRclone, viaMount, direct];
      const from = Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, v.length])) as Record<Side, number>;
      for (const step of order) await step();
      const these = (k: Side) => (rounds[k].length > from[k] ? rounds[k].slice(from[k]).map((v) => v.toFixed(0)).join('/') : '-');
      line(`  round ${r + 1} (${r % 2 === 0 ? 'direct, mount, rclone, relay, direct' : 'direct, relay, rclone, mount, direct'})`,
        `direct ${these('direct')} · mount cold ${these('cold')} warm ${these('warm')} · rclone ${these('rCold')}/${these('rWarm')} · relay socat ${these('relay')} splice ${these('splice')} MiB/s`);
      line('    direct CPU (last; bench = sender A + client)', cpu.direct);
      line('    proxy CPU (cold / warm)', `mount ${cpu.cold} / ${cpu.warm} · rclone ${cpu.rCold} / ${cpu.rWarm} · relay socat ${cpu.relay} splice ${cpu.splice}`);
    }
    for (const [name, pick] of [['best of', best], ['median of', median]] as const) {
      const d = pick(rounds.direct);
      const c = pick(rounds.cold);
      const w = pick(rounds.warm);
      console.log(`  ${name} each side's rounds:`);
      line(`direct from the sender share endpoint (${name} ${rounds.direct.length})`, `${d.toFixed(0)} MiB/s`);
      line(`through the mount, cold (${name} ${rounds.cold.length})`, `${c.toFixed(0)} MiB/s  = ${(c / d).toFixed(2)}× direct (target ≥ 0.8)`);
      line(`through the mount, warm (${name} ${rounds.warm.length})`, `${w.toFixed(0)} MiB/s  = ${(w / d).toFixed(2)}× direct (target ≥ 1.0)`);
      if (rounds.rCold.length) {
        const rc = pick(rounds.rCold);
        const rw = pick(rounds.rWarm);
        line(`rclone serve webdav --vfs-cache-mode full, cold (${name} ${rounds.rCold.length})`, `${rc.toFixed(0)} MiB/s  → mount/rclone ${(c / rc).toFixed(2)}× (target ≥ 1)`);
        line(`rclone serve webdav --vfs-cache-mode full, warm (${name} ${rounds.rWarm.length})`, `${rw.toFixed(0)} MiB/s  → mount/rclone ${(w / rw).toFixed(2)}× (target ≥ 1)`);
      } else line('rclone peer', 'rclone not installed, skipped');
      if (rounds.rCold.length && name === 'median of') {
        const fewer = (ours: Side, theirs: Side) => cpuPerGiB[ours].filter((v, i) => v <= cpuPerGiB[theirs][i]!).length;
        line(
          'proxy CPU per GiB, mount vs rclone (median of rounds)',
          `cold ${median(cpuPerGiB.cold).toFixed(2)} vs ${median(cpuPerGiB.rCold).toFixed(2)} s (mount ≤ rclone in ${fewer('cold', 'rCold')} of ${cpuPerGiB.cold.length} rounds) · ` +
            `warm ${median(cpuPerGiB.warm).toFixed(2)} vs ${median(cpuPerGiB.rWarm).toFixed(2)} s (${fewer('warm', 'rWarm')} of ${cpuPerGiB.warm.length})`,
        );
      }
      if (rounds.relay.length) {
        const rl = pick(rounds.relay);
        line(`raw TCP relay, socat (user-space copies; no HTTP, no cache) (${name} ${rounds.relay.length})`, `${rl.toFixed(0)} MiB/s  = ${(rl / d).toFixed(2)}× direct (what a user-space proxy's ratio is bounded by here)`);
      }
      if (rounds.splice.length) {
        const sp = pick(rounds.splice);
        line(`raw TCP relay, splice (zero-copy; no HTTP, no cache) (${name} ${rounds.splice.length})`, `${sp.toFixed(0)} MiB/s  = ${(sp / d).toFixed(2)}× direct (what any proxy's ratio is bounded by here)`);
      }
    }
    // BENCH_MOUNTS_DUMP=1 prints every read's figures (MiB/s, the proxy's and the machine's CPU per GiB) as JSON.
    if (process.env.BENCH_MOUNTS_DUMP === '1') console.log(JSON.stringify({ mibs: rounds, proxyCpuPerGiB: cpuPerGiB, machineCpuPerGiB: machine, paired }));
    const spread = (xs: number[]) => `median ${median(xs).toFixed(2)}× (${xs.length} pairs, ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
    console.log('  paired (each mount read over the direct read next to it):');
    line('cold / the direct read just before it', `${spread(paired.cold)} (target ≥ 0.8)`);
    line('warm / the direct read next to it (before or after, alternating)', `${spread(paired.warm)} (target ≥ 1.0)`);
    // What the machine as a whole spent per GiB. On a CPU-bound machine a read can go no faster
    // than cores / (busy CPU seconds per GiB), however its work is spread over processes.
    const cores = availableParallelism();
    const perGiB = (k: Side) => (machine[k].length ? `${k} ${median(machine[k]).toFixed(2)}` : undefined);
    line('machine CPU seconds per GiB (all processes and the kernel; medians)', (['direct', 'cold', 'warm', 'rCold', 'rWarm', 'relay', 'splice'] as Side[]).map(perGiB).filter(Boolean).join(' · '));
    const ceiling = (cores / median(machine.cold)) * 1024;
    line(
      `cold read's CPU-bound ceiling on ${cores} cores`,
      `${cores} / ${median(machine.cold).toFixed(2)} s per GiB = ${ceiling.toFixed(0)} MiB/s = ${(ceiling / median(rounds.direct)).toFixed(2)}× the direct median (even with no core ever idle)`,
    );
  }

  if (parts.has(2)) {
  console.log('\n2. PROPFIND Depth 1 of a 1,000-entry mounted folder, 20 ms added per sender request');
  const propfind = async () => {
    const t0 = performance.now();
    const res = await request(mountUrl('delayed', '/many'), { method: 'PROPFIND', headers: { authorization: basic('marie'), depth: '1' } });
    const text = await res.body.text();
    if (res.statusCode !== 207) throw new Error(`PROPFIND ${res.statusCode}`);
    return { ms: performance.now() - t0, entries: (text.match(/<d:response>/g) ?? []).length };
  };
  delayed.requests.length = 0;
  const pCold = await propfind();
  const coldRequests = delayed.requests.length;
  delayed.requests.length = 0;
  const warms: number[] = [];
  for (let i = 0; i < 5; i++) warms.push((await propfind()).ms);
  const pWarm = warms.sort((x, y) => x - y)[2]!;
  line('cold', `${pCold.ms.toFixed(1)} ms (${pCold.entries} entries, ${coldRequests} sender requests)`);
  line('warm (median of 5)', `${pWarm.toFixed(1)} ms, ${delayed.requests.length} sender requests → ${(pCold.ms / pWarm).toFixed(1)}× faster (target ≥ 10, 0 requests)`);

  }

  if (parts.has(3)) {
  console.log('\n3. 32 concurrent readers of one uncached 100 MiB file');
  counting.requests.length = 0;
  const dropped0 = await receiverMetric(urlB, 'meshdav_mount_cache_spills_dropped_total');
  const t0 = performance.now();
  const reads = await Promise.all(Array.from({ length: 32 }, () => timedGet(mountUrl('counted', '/hundred.bin'), basic('marie'))));
  const ms = performance.now() - t0;
  const gets = counting.requests.filter((r) => r.startsWith('GET'));
  const chunks = Math.ceil((100 * MiB) / SCALE / CHUNK);
  line('bytes delivered', `${(reads.reduce((s, r) => s + r.bytes, 0) / MiB).toFixed(0)} MiB in ${(ms / 1000).toFixed(1)} s`);
  // Bytes the sender was asked for, from the Range headers ("GET path bytes=a-b"), vs the file size.
  const asked = gets.reduce((n, g) => {
    const m = /bytes=(\d+)-(\d*)/.exec(g);
    return n + (m ? (m[2] ? Number(m[2]) : (100 * MiB) / SCALE - 1) - Number(m[1]) + 1 : (100 * MiB) / SCALE);
  }, 0);
  line('sender GETs / distinct ranges / chunks in the file', `${gets.length} / ${new Set(gets).size} / ${chunks} (target: each chunk once)`);
  line('chunks not cached because the disk write queue was full', String((await receiverMetric(urlB, 'meshdav_mount_cache_spills_dropped_total')) - dropped0));
  line('bytes the sender was asked for / file size', `${(asked / MiB).toFixed(1)} / ${(100 / SCALE).toFixed(1)} MiB  ${gets.map((g) => g.split(' ').pop()).join(' ')}`);

  }

  if (parts.has(4)) {
  console.log(`\n4. Peak RSS of the receiver while streaming 2 GiB (memory cache bound ${MEMORY_CACHE / MiB} MiB)`);
  await b.stop();
  b = await startReceiver(configB, urlB);
  const before = peakRssMiB(b.proc.pid!);
  const big = await timedGet(mountUrl('bench', '/huge.bin'), basic('marie'));
  const peak = peakRssMiB(b.proc.pid!);
  line('receiver peak RSS (VmHWM) at start / after 2 GiB', `${before.toFixed(0)} MiB / ${peak.toFixed(0)} MiB (target < 200 MB = 190.7 MiB) at ${big.mibs.toFixed(0)} MiB/s`);
  }

  console.log(`\nreceiver runtime: ${[...runtimes].join(', ')}`);
  await b.stop();
  await counting.close();
  await delayed.close();
  await a.stop();
  rmSync(dataB, { recursive: true, force: true }); // the receiver's disk tier holds up to 1.5 GiB
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
