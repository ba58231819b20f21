/**
 * Opening a data directory's LevelDB from a CLI command. LevelDB admits one process, so when a
 * running node holds it this returns undefined and the command goes through that node's
 * loopback admin endpoint instead.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import type { Config } from '../config.js';
import type { Db } from '../services.js';

/** The opened database, or undefined when a running node holds its lock. Other failures throw. */
export async function openDataDb(config: Config): Promise<Db | undefined> {
  const dbDir = join(config.dataDir, 'db');
  mkdirSync(dbDir, { recursive: true });
  const db: Db = new Level<string, unknown>(dbDir, { valueEncoding: 'json' });
  try {
    await db.open();
    return db;
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    if (e?.code === 'LEVEL_LOCKED' || e?.cause?.code === 'LEVEL_LOCKED') return undefined;
    throw err;
  }
}
