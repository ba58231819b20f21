#!/usr/bin/env node
// Entry point. Runs the compiled dist/ (built by `npm ci` through `prepare`) when it is at least
// as new as every file under src/; otherwise the TypeScript sources through tsx, so a source
// checkout being edited never runs stale code.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

function distIsFresh() {
  try {
    return statSync(join(root, 'dist', '.build-stamp')).mtimeMs >= newestMtime(join(root, 'src'));
  } catch {
    return false;
  }
}

let cli;
if (process.env.MESHDAV_FROM_SOURCE !== '1' && distIsFresh()) {
  cli = await import('../dist/cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../src/cli.ts');
}
await cli.main(process.argv);
