#!/usr/bin/env node
// Compiles src/**/*.ts to dist/ (one ESM file per source, no bundling) with esbuild and copies
// the web UI's static files. Runs at `npm ci`/`npm install` (prepare). The running node then
// needs no TypeScript loader in its process: less memory, faster start. Type checking is
// `npm run typecheck` (tsc), not this script.
import { build } from 'esbuild';
import { cpSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const files = walk(src);
const entryPoints = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: dist,
  outbase: src,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
for (const f of files.filter((f) => !f.endsWith('.ts'))) {
  cpSync(f, join(dist, relative(src, f)));
}
writeFileSync(join(dist, '.build-stamp'), new Date().toISOString() + '\n');
console.log(`meshdav: built ${entryPoints.length} modules into dist/`);
