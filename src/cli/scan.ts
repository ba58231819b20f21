/**
 * `meshdav scan [--user U]`: reconciles storage metadata with files changed outside meshdav
 * (src/storage/scan.ts) and prints what changed. It opens the data directory's LevelDB itself;
 * when a running node holds the lock, it asks that node through its loopback admin endpoint
 * (POST /admin/scan, Bearer loopbackSecret) named in dataDir/node.json.
 */
import type { Command } from 'commander';
import { request } from 'undici';
import type { Config } from '../config.js';
import { createLogger } from '../log.js';
import { readNodeFile } from '../auth/node-file.js';
import { BadRequestError } from '../errors.js';
import { LocalStorage, type ScanReport } from '../storage/local-storage.js';
import { addCommonOptions, configFrom, type CommonOptions } from './options.js';
import { CliError, EXIT } from './errors.js';
import { openDataDb } from './data-db.js';

export function registerScan(program: Command): void {
  addCommonOptions(
    program
      .command('scan')
      .description('reconcile storage metadata with files added, changed or removed outside meshdav')
      .option('-u, --user <name>', 'scan only this user (default: every user)')
      .option('--json', 'print the report as JSON'),
  ).action(async (opts: CommonOptions & { user?: string; json?: boolean }) => {
    const config = configFrom(opts);
    let report: ScanReport;
    try {
      report = await runScan(config, opts.user);
    } catch (err) {
      if (err instanceof BadRequestError) throw new CliError(err.message, EXIT.USAGE);
      throw err;
    }
    process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
  });
}

async function runScan(config: Config, user: string | undefined): Promise<ScanReport> {
  const db = await openDataDb(config);
  if (!db) return scanThroughNode(config, user);
  try {
    const storage = await LocalStorage.open({
      dataDir: config.dataDir,
      db,
      log: createLogger({ level: 'silent' }),
      quotaBytes: config.quotaBytes,
      maxVersions: config.maxVersions,
    });
    try {
      return await storage.scan(user);
    } finally {
      await storage.close();
    }
  } finally {
    await db.close();
  }
}

async function scanThroughNode(config: Config, user: string | undefined): Promise<ScanReport> {
  const node = readNodeFile(config.dataDir);
  const stopHint = 'the data directory is in use by a running node; stop it (or let it finish starting) and run `meshdav scan` again';
  if (!node) throw new CliError(stopHint, EXIT.FAILURE);
  let res;
  try {
    res = await request(`${node.url}/admin/scan`, {
      method: 'POST',
      headers: { authorization: `Bearer ${config.loopbackSecret}`, 'content-type': 'application/json' },
      body: JSON.stringify(user === undefined ? {} : { user }),
    });
  } catch {
    throw new CliError(`${stopHint} (it did not answer at ${node.url})`, EXIT.UNREACHABLE);
  }
  const text = await res.body.text();
  if (res.statusCode === 404 || res.statusCode === 405) throw new CliError(`${stopHint} (that node has no scan endpoint)`, EXIT.FAILURE);
  if (res.statusCode !== 200) {
    let reason = text;
    try {
      reason = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // plain-text error body
    }
    throw new CliError(`scan through the running node failed (${res.statusCode}): ${reason}`, res.statusCode === 400 ? EXIT.USAGE : EXIT.FAILURE);
  }
  return JSON.parse(text) as ScanReport;
}

export function formatReport(r: ScanReport): string {
  const lines = [`scanned ${r.users.length} user(s): ${r.files} file(s), ${r.folders} folder(s)`];
  for (const [label, list] of [
    ['added', r.added],
    ['changed', r.changed],
    ['removed', r.removed],
    ['skipped', r.skipped],
  ] as const) {
    lines.push(`${label}: ${list.length}`);
    for (const c of list) lines.push(`  ${c.user}:${c.path}`);
  }
  return lines.join('\n') + '\n';
}
