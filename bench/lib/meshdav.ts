/**
 * Starts a meshdav node as a CHILD process (so its memory can be read from /proc) with one
 * user, through the real CLI: `meshdav user add` then `meshdav serve`. Logs at `warn`, the
 * equivalent of rclone's default of no access log. With `cpuProfDir` the child runs under
 * `node --cpu-prof` and writes a .cpuprofile there when stopped.
 * bin/meshdav.js runs the compiled dist/ when it is fresh, else the sources through tsx; the
 * benchmark builds dist/ first (what `npm ci` ships) unless BENCH_FROM_SOURCE=1, and reports
 * which of the two the child ran.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { freePort, startChild, waitForHttp, type Child } from './proc.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'meshdav.js');

/** What bin/meshdav.js will run now: the compiled dist/ when at least as new as all of src/. */
export function meshdavRuntime(): 'dist' | 'tsx' {
  if (process.env.BENCH_FROM_SOURCE === '1') return 'tsx';
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  try {
    return statSync(join(ROOT, 'dist', '.build-stamp')).mtimeMs >= newest(join(ROOT, 'src')) ? 'dist' : 'tsx';
  } catch {
    return 'tsx';
  }
}

/** Builds dist/ (scripts/build.mjs) when it is stale, so the child runs what `npm ci` ships. */
function ensureBuilt(): void {
  if (process.env.BENCH_FROM_SOURCE === '1' || meshdavRuntime() === 'dist') return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * Waits until the meshdav node at `origin` reports no deferred checksums left (MD5/Adler32 of large
 * uploads, computed when the node is quiet), so that work never overlaps the next measurement of
 * any server; returns the seconds it took.
 */
export async function deferredChecksumsDone(origin: string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const text = await (await fetch(new URL('/metrics', origin))).text();
    const m = /^meshdav_storage_checksums_deferred (\d+)/m.exec(text);
    if (!m || m[1] === '0') return (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface DavServer {
  name: string;
  /** Base URL of the WebDAV tree under test, with a trailing slash. */
  davUrl: string;
  /** Authorization header value. */
  auth: string;
  /** The server process, for memory readings (undefined when not ours to measure). */
  child: Child;
  stop(): Promise<void>;
}

export interface MeshdavOptions {
  dataDir: string;
  user: string;
  password: string;
  cpuProfDir?: string;
  /** Extra Node.js flags for the child (e.g. --trace-gc, --heap-prof). */
  nodeArgs?: string[];
}

export async function startMeshdav(opts: MeshdavOptions): Promise<DavServer & { filesDir: string; runtime: 'dist' | 'tsx' }> {
  ensureBuilt();
  const env = { ...process.env, MESHDAV_LOG_LEVEL: 'warn', MESHDAV_FROM_SOURCE: process.env.BENCH_FROM_SOURCE === '1' ? '1' : '0' };
  execFileSync(process.execPath, [BIN, 'user', 'add', opts.user, '--password-stdin', '--data', opts.dataDir], {
    input: opts.password + '\n',
    env,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const port = await freePort();
  ensureBuilt(); // again: sources may have changed while the user was added
  const runtime = meshdavRuntime();
  const nodeArgs = [
    ...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : []),
    ...(opts.nodeArgs ?? []),
  ];
  const child = startChild(process.execPath, [...nodeArgs, BIN, 'serve', '--port', String(port), '--data', opts.dataDir], { env, cwd: ROOT });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/healthz`, child);
  return {
    name: 'meshdav',
    davUrl: `${base}/remote.php/dav/files/${opts.user}/`,
    auth: basic(opts.user, opts.password),
    child,
    filesDir: join(opts.dataDir, 'files', opts.user),
    runtime,
    stop: () => child.stop(),
  };
}

export function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}
