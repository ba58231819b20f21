/** `meshdav mv SRC DEST`: move or rename on the server (WebDAV MOVE; nothing is downloaded). */
import type { Command } from 'commander';
import { addClientOptions, printJson, withSession, type ClientOptions } from './common.js';
import { baseName, child, clean, parseUrl } from './http.js';

interface MvOptions extends ClientOptions {
  overwrite?: boolean;
}

export function registerMv(program: Command): void {
  addClientOptions(
    program
      .command('mv')
      .argument('<src>', 'WebDAV URL of the file or folder to move')
      .argument('<dest>', 'new URL, a path on the same server, or a name relative to SRC (ending in / = into that folder)')
      .option('--overwrite', 'replace an existing destination')
      .description('move or rename a file or folder on a WebDAV server'),
  ).action(async (srcArg: string, destArg: string, opts: MvOptions) => {
    await withSession(srcArg, opts, async (session, src) => {
      const dest = resolveDestination(src, destArg);
      const res = await session.request('MOVE', src, {
        headers: { destination: clean(dest), overwrite: opts.overwrite ? 'T' : 'F' },
      });
      res.body.resume();
      if (opts.json) printJson({ from: clean(src), to: clean(dest), replaced: res.status === 204 });
    });
  });
}

/** DEST as a full URL, else resolved against SRC's parent folder; a trailing slash means "into". */
export function resolveDestination(src: URL, destArg: string): URL {
  const srcFile = new URL(src.href);
  srcFile.pathname = src.pathname.replace(/\/+$/, '');
  const dest = /^https?:\/\//i.test(destArg) ? parseUrl(destArg, 'destination URL') : new URL(destArg, srcFile);
  return dest.pathname.endsWith('/') ? child(dest, baseName(src)) : dest;
}
