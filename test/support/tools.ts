/**
 * Tests that need a real outside program (litmus, rclone, davfs2, cadaver, nextcloudcmd,
 * chromium) call `needTool`. On a developer's machine a missing program skips the test with a
 * plain message; with MESHDAV_REQUIRE_TOOLS=1 (set by .ci/run) a missing program fails it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function toolPath(name: string): string | undefined {
  if (name.startsWith('/')) return existsSync(name) ? name : undefined;
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function needTool(ctx: Mocha.Context, name: string, why = ''): string {
  const found = toolPath(name);
  if (found) return found;
  const msg = `needs the real program "${name}"${why ? ` (${why})` : ''}; install it (see .ci/run) to run this test`;
  if (process.env.MESHDAV_REQUIRE_TOOLS === '1') throw new Error(`MESHDAV_REQUIRE_TOOLS=1 but ${msg}`);
  console.log(`      skipped: ${msg}`);
  ctx.skip();
}

/** FUSE tests also need /dev/fuse and root. */
export function needFuse(ctx: Mocha.Context): void {
  const ok = existsSync('/dev/fuse') && process.getuid?.() === 0;
  if (ok) return;
  const msg = 'needs /dev/fuse and root for a real FUSE mount';
  if (process.env.MESHDAV_REQUIRE_TOOLS === '1') throw new Error(`MESHDAV_REQUIRE_TOOLS=1 but ${msg}`);
  console.log(`      skipped: ${msg}`);
  ctx.skip();
}
