/**
 * The `meshdav` command. Each area registers its subcommands from src/cli/*.ts.
 * Exit code 0 on success; otherwise one clear line on stderr and a non-zero code
 * (see CliError and the README's table of exit codes).
 */
import { Command, CommanderError } from 'commander';
import { registerServe } from './cli/serve.js';
import { registerUser } from './cli/user.js';
import { registerScan } from './cli/scan.js';
import { registerClient } from './cli/client/index.js';
import { registerDemo } from './cli/demo.js';
import { registerInvite } from './cli/invite.js';
import { registerShare } from './cli/share.js';
import { registerPeer } from './cli/peer.js';
import { CliError, describeError } from './cli/errors.js';

export function buildProgram(): Command {
  const program = new Command('meshdav')
    .description('A ScienceMesh / Open Cloud Mesh node: WebDAV, OCM sharing, live mounts, and an EFSS API for revad')
    .version('0.1.0')
    .showHelpAfterError(false)
    .exitOverride();
  registerServe(program);
  registerUser(program);
  registerScan(program);
  registerClient(program);
  registerDemo(program);
  registerInvite(program);
  registerShare(program);
  registerPeer(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed by commander.
      process.exitCode = err.exitCode;
      return;
    }
    const { message, exitCode } = describeError(err);
    process.stderr.write(`meshdav: ${message}\n`);
    process.exitCode = exitCode;
    if (!(err instanceof CliError) && process.env.MESHDAV_DEBUG) console.error(err);
  }
}
