/** `meshdav cat URL`: stream a remote file to standard output. */
import type { Command } from 'commander';
import { pipeline } from 'node:stream/promises';
import { addClientOptions, assertFileBody, withSession, type ClientOptions } from './common.js';
import { networkFailure } from './failures.js';

export function registerCat(program: Command): void {
  addClientOptions(
    program.command('cat').argument('<url>', 'WebDAV URL of a file').description('print a remote file to standard output'),
  ).action(async (urlArg: string, opts: ClientOptions) => {
    await withSession(urlArg, opts, async (session, url) => {
      const res = await session.request('GET', url);
      assertFileBody(res, url);
      try {
        // end: false — ending stdout would shut down a socket shared with the shell's other commands.
        await pipeline(res.body, process.stdout, { end: false });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') return; // the reader (e.g. `head`) has had enough
        throw networkFailure(err, url);
      }
    });
  });
}
