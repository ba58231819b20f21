/**
 * `npm run bench`: runs each benchmark script that exists, one after another (dav, efss, ocm,
 * mounts, load), each in its own Node process with tsx, output passed through. Exit code 1 when any
 * script failed to run; missed targets are reported by the scripts themselves.
 * `npm run bench -- dav ocm` runs only the named ones.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const ORDER = ['dav', 'efss', 'ocm', 'mounts', 'load'];
const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : ORDER;

let current: ReturnType<typeof spawn> | undefined;
let stopping = false;
// Pass an interruption on to the running script so it can stop its servers, then stop.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    current?.kill(signal);
    process.exitCode = 130;
    stopping = true;
  });
}

function runScript(file: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
    current = child;
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const results: Array<[string, string]> = [];
for (const name of names) {
  if (stopping) break;
  const file = join(dir, `${name}.ts`);
  if (!existsSync(file)) {
    results.push([name, 'not present, skipped']);
    continue;
  }
  console.log(`\n=== bench/${name}.ts ===`);
  const t0 = Date.now();
  const code = await runScript(file);
  results.push([name, code === 0 ? `ran in ${((Date.now() - t0) / 1000).toFixed(0)} s` : `FAILED (exit ${code})`]);
}
console.log('\n=== benchmarks ===');
for (const [name, what] of results) console.log(`${name.padEnd(8)} ${what}`);
if (results.some(([, what]) => what.startsWith('FAILED'))) process.exitCode = 1;
