/**
 * Shared helpers for the real-client tests: a node with one user, random content files,
 * sha256 of files, and a child-process runner with a hard timeout that never leaves a
 * program behind. Every client test starts its own node (no state shared between files).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { startTestNode, type TestNode } from '../support/node.js';
import { startTraceProxy } from './trace-proxy.js';

export interface ClientSite {
  node: TestNode;
  /** The base URL clients use: the node's, or a tracing proxy's (MESHDAV_CLIENT_TRACE=<dir>). */
  url: string;
  user: string;
  password: string;
  /** `…/remote.php/dav/files/<user>/`, with the trailing slash clients expect. */
  davUrl: string;
  /** Path part of davUrl. */
  davPath: string;
  /** Stops the node (and the tracing proxy). */
  stop(): Promise<void>;
}

/**
 * Starts a node and creates one user through the agreed UserStore API (`services.users.add`).
 * With MESHDAV_CLIENT_TRACE=<dir>, clients talk through a tracing proxy that writes every
 * exchange to <dir>/<user>.trace (passwords redacted).
 */
export async function startSiteWithUser(user = 'alice', password = `pw-${randomBytes(9).toString('base64url')}`): Promise<ClientSite> {
  const node = await startTestNode();
  try {
    await node.services.users.add({ name: user, password, displayName: user[0]!.toUpperCase() + user.slice(1) });
  } catch (err) {
    await node.stop();
    throw err;
  }
  const traceDir = process.env.MESHDAV_CLIENT_TRACE;
  const proxy = traceDir ? await startTraceProxy(node.url, join(traceDir, `${user}.trace`)) : undefined;
  const url = proxy?.url ?? node.url;
  const davPath = `/remote.php/dav/files/${encodeURIComponent(user)}/`;
  return {
    node,
    url,
    user,
    password,
    davUrl: `${url}${davPath}`,
    davPath,
    async stop() {
      await proxy?.stop();
      await node.stop();
    },
  };
}

/** Writes `bytes` of random data (no holes) to `path`, streaming in 1 MiB pieces. */
export async function randomFile(path: string, bytes: number): Promise<string> {
  let left = bytes;
  const source = Readable.from(
    (function* () {
      while (left > 0) {
        const n = Math.min(left, 1024 * 1024);
        left -= n;
        yield randomBytes(n);
      }
    })(),
  );
  await pipeline(source, createWriteStream(path));
  return sha256File(path);
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the whole process group after this long (default 60 s). */
  timeoutMs?: number;
}

/**
 * Runs a program to completion (never through a shell), in its own process group so that a
 * timeout kills it and everything it started. Never rejects for a non-zero exit: callers
 * assert on `code` and show `stdout`/`stderr` in their messages.
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** A readable summary of a run for assertion messages. */
export function describeRun(what: string, r: RunResult): string {
  const tail = (s: string) => (s.length > 4000 ? '…' + s.slice(-4000) : s);
  return `${what}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}${r.timedOut ? ' after timeout' : ''}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

/** Whether `dir` is a mount point right now (per /proc/self/mountinfo). */
export function isMounted(dir: string): boolean {
  if (!existsSync('/proc/self/mountinfo')) return false;
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === dir);
}

/** Unmounts a FUSE mount point, lazily if it is busy; quiet when it is not mounted. */
export async function unmount(dir: string): Promise<void> {
  if (!isMounted(dir)) return;
  for (const [cmd, args] of [
    ['umount', [dir]],
    ['fusermount3', ['-u', dir]],
    ['umount', ['-l', dir]],
  ] as const) {
    try {
      await run(cmd, [...args], { timeoutMs: 30_000 });
    } catch {
      /* program missing: try the next way */
    }
    if (!isMounted(dir)) return;
  }
}

/** Waits until `check()` is true or `ms` passed; returns the last value of `check()`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, stepMs = 100): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
