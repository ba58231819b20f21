/**
 * Starts real meshdav nodes for tests: a fresh data directory, an ephemeral port on 127.0.0.1,
 * silent logs. Always stop them (the returned `stop` also removes the data directory).
 */
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type ConfigInput } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startNode, type MeshdavNode } from '../../src/node.js';

export interface TestNode extends MeshdavNode {
  dataDir: string;
  /** Log lines written by the node, for tests that check what is (not) logged. */
  logLines: string[];
  stop(): Promise<void>;
}

export function tempDir(prefix = 'meshdav-test-'): string {
  const base = join(tmpdir(), 'meshdav-tests');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, prefix));
}

export async function startTestNode(overrides: ConfigInput = {}, opts: { keepData?: boolean } = {}): Promise<TestNode> {
  const dataDir = overrides.dataDir ?? tempDir();
  const config = loadConfig({
    env: {},
    overrides: { host: '127.0.0.1', port: 0, logLevel: 'info', ...overrides, dataDir },
    persistSecrets: true,
  });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      if (process.env.MESHDAV_TEST_LOGS) process.stderr.write(chunk);
      cb();
    },
  });
  const log = createLogger({ level: config.logLevel, destination: sink });
  const node = await startNode(config, { log });
  return Object.assign(node, {
    dataDir,
    logLines,
    async stop() {
      await node.close();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
