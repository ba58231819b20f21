/**
 * A meshdav node as a real child process (`node bin/meshdav.js serve`), for tests that kill it
 * (SIGKILL) or measure it from outside. Resolves once the node prints the URL it serves.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../bin/meshdav.js');
const run = promisify(execFile);

export interface ChildNode {
  url: string;
  proc: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** `wrap`: a command the node runs under (e.g. strace and its options). */
export async function startChildNode(dataDir: string, port = 0, env: NodeJS.ProcessEnv = {}, wrap: string[] = []): Promise<ChildNode> {
  const argv = [process.execPath, BIN, 'serve', '--data', dataDir, '--port', String(port)];
  const proc = spawn(wrap[0] ?? argv[0]!, [...wrap.slice(1), ...(wrap.length ? argv : argv.slice(1))], {
    env: { ...process.env, MESHDAV_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start:\n${out}`)), 20_000);
    proc.stdout!.on('data', () => {
      const m = /serving (http\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before serving:\n${out}`));
    });
  });
  return {
    url,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
    async kill(signal) {
      proc.kill(signal);
      await exited;
    },
  };
}

/** Runs the meshdav CLI; resolves with stdout, rejects with stderr on a non-zero exit. */
export async function cli(args: string[], input?: string): Promise<string> {
  const child = execFile(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  if (input !== undefined) child.stdin!.end(input);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`meshdav ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}
export { run };
