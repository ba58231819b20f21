/** Options every subcommand shares, and the way they become a Config. */
import type { Command } from 'commander';
import { loadConfig, type Config, type ConfigInput } from '../config.js';

export interface CommonOptions {
  config?: string;
  data?: string;
  port?: string;
  host?: string;
}

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'JSON configuration file')
    .option('-d, --data <dir>', 'data directory (default ./data)');
}

export function configFrom(opts: CommonOptions, extra: ConfigInput = {}, persistSecrets = false): Config {
  const overrides: ConfigInput = { ...extra };
  if (opts.data) overrides.dataDir = opts.data;
  if (opts.host) overrides.host = opts.host;
  if (opts.port !== undefined) {
    const n = Number(opts.port);
    overrides.port = Number.isInteger(n) ? n : (opts.port as unknown as number);
  }
  return loadConfig({ file: opts.config, overrides, persistSecrets });
}
