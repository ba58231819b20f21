/** `meshdav serve`: run a node until SIGINT/SIGTERM, then shut down cleanly. */
import type { Command } from 'commander';
import { addCommonOptions, configFrom, type CommonOptions } from './options.js';
import { startNode } from '../node.js';
import { ensureFirstAdmin } from '../auth/first-admin.js';

export function registerServe(program: Command): void {
  addCommonOptions(
    program
      .command('serve')
      .description('run a meshdav node (WebDAV, OCM, EFSS API) on the configured address')
      .option('-p, --port <n>', 'port to listen on (default 8080; 0 = any free port)')
      .option('--host <addr>', 'address to bind (default 127.0.0.1)'),
  ).action(async (opts: CommonOptions) => {
    const config = configFrom(opts, {}, true);
    const node = await startNode(config);
    const out = process.stdout;
    out.write(`meshdav is serving ${node.url}\n`);
    out.write(`  WebDAV:  ${node.url}/remote.php/dav/files/<user>/\n`);
    out.write(`  OCM:     ${node.url}/ocm  (discovery at ${node.url}/.well-known/ocm)\n`);
    out.write(`  data:    ${config.dataDir}\n`);
    const admin = await ensureFirstAdmin(node.services.users);
    if (admin) {
      out.write(`\nFirst start: created user "${admin.name}" with password: ${admin.password}\n`);
      out.write(`  (shown only this once; change it with: meshdav user passwd ${admin.name} --password-stdin)\n\n`);
    }
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        out.write(`\n${signal} received, shutting down…\n`);
        node.close().then(resolve, resolve);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  });
}
