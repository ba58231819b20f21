/** `meshdav rm [-r] URL`: delete a file, or with -r a folder and all it holds. */
import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import { addClientOptions, printJson, withSession, type ClientOptions } from './common.js';
import { propfind } from './propfind.js';

interface RmOptions extends ClientOptions {
  recursive?: boolean;
}

export function registerRm(program: Command): void {
  addClientOptions(
    program
      .command('rm')
      .argument('<url>', 'WebDAV URL of the file or folder to delete')
      .option('-r, --recursive', 'delete a folder with everything in it')
      .description('delete a file (or, with -r, a folder) on a WebDAV server'),
  ).action(async (urlArg: string, opts: RmOptions) => {
    await withSession(urlArg, opts, async (session, url) => {
      if (!opts.recursive) {
        const [self] = await propfind(session, url, '0');
        if (self?.type === 'dir') {
          throw new CliError(`${url.href} is a folder — use \`meshdav rm -r\` to delete it with its content`, EXIT.USAGE);
        }
      }
      const res = await session.request('DELETE', url);
      res.body.resume();
      if (opts.json) printJson({ url: url.href, deleted: true });
    });
  });
}
