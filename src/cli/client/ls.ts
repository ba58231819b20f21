/** `meshdav ls URL`: list a folder (or describe one file) on any WebDAV server. */
import type { Command } from 'commander';
import { addClientOptions, printJson, withSession, type ClientOptions } from './common.js';
import { isSelf, propfind, type RemoteEntry } from './propfind.js';
import { humanBytes } from './progress.js';

export function registerLs(program: Command): void {
  addClientOptions(
    program
      .command('ls')
      .argument('<url>', 'WebDAV URL of a folder or file')
      .description('list a folder on a WebDAV server (type, size, modification time, name)'),
  ).action(async (urlArg: string, opts: ClientOptions) => {
    await withSession(urlArg, opts, async (session, url) => {
      const all = await propfind(session, url, '1');
      const self = all.find((e) => isSelf(e, url));
      const entries = self?.type === 'file' || all.length === 1 ? all : all.filter((e) => !isSelf(e, url));
      entries.sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'dir' ? -1 : 1));
      if (opts.json) printJson(entries);
      else process.stdout.write(entries.map(formatLine).join(''));
    });
  });
}

function formatLine(e: RemoteEntry): string {
  const size = e.type === 'dir' ? '-' : e.size === null ? '?' : humanBytes(e.size);
  const when = e.mtime ? e.mtime.slice(0, 16).replace('T', ' ') : '-'.padEnd(16);
  return `${e.type === 'dir' ? 'd' : '-'} ${size.padStart(10)}  ${when}  ${e.name}${e.type === 'dir' ? '/' : ''}\n`;
}
