/**
 * Child-process plumbing for the benchmarks: free ports, waiting for a server to answer,
 * peak resident memory of a child (VmHWM in /proc/<pid>/status, resettable through
 * /proc/<pid>/clear_refs), and stopping a child for sure.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/support/ports.js';

export { freePort };

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Everything the child wrote to stdout and stderr (capped at 1 MiB). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a program whose output is collected; `stop` sends SIGTERM, then SIGKILL after 5 s.
 * With BENCH_CHILD_OUTPUT=<dir>, each child's whole output is also written to <dir>/<pid>.log
 * (for `--trace-gc` and the like, whose output outgrows the collected 1 MiB).
 */
export function startChild(cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  const keep = process.env.BENCH_CHILD_OUTPUT ? createWriteStream(join(process.env.BENCH_CHILD_OUTPUT, `${proc.pid}.log`)) : undefined;
  const collect = (d: Buffer) => {
    keep?.write(d);
    if (out.length < 1 << 20) out += d.toString();
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.on('error', () => undefined); // a missing program: reported just below
  if (!proc.pid) throw new Error(`could not start ${cmd} (is it installed? see .ci/run)`);
  return {
    proc,
    pid: proc.pid,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * Polls `url` until any HTTP answer comes back (401 counts), or throws after `ms`. Each attempt
 * has its own 2 s timeout: a server may accept connections before it answers them.
 */
export async function waitForHttp(url: string, child: Child, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`server exited (${child.proc.exitCode}):\n${child.output()}`);
    try {
      const res = await fetch(url, { method: 'OPTIONS', signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return;
    } catch {
      if (Date.now() > end) throw new Error(`no answer from ${url} after ${ms} ms:\n${child.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Peak resident set size of a process since start or since the last `resetPeakRss`, bytes. */
export function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(m[1]) * 1024;
}

export function currentRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Resets VmHWM to the current RSS (Linux: "5" to clear_refs); false when not permitted. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
