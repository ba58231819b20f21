/** A LocalStorage on a fresh data directory with its own LevelDB, for storage tests. */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { createLogger } from '../../src/log.js';
import type { Db } from '../../src/services.js';
import { LocalStorage } from '../../src/storage/local-storage.js';
import { tempDir } from '../support/node.js';

export interface TestStorage {
  storage: LocalStorage;
  db: Db;
  dataDir: string;
  /** Closes storage and db (the data directory stays for reopen tests). */
  close(): Promise<void>;
}

export async function openTestStorage(
  options: { quotaBytes?: number | null; maxVersions?: number; dataDir?: string; trashRetentionDays?: number; trashSweepMs?: number } = {},
): Promise<TestStorage> {
  const dataDir = options.dataDir ?? tempDir('meshdav-storage-');
  const db: Db = new Level<string, unknown>(join(dataDir, 'db'), { valueEncoding: 'json' });
  await db.open();
  const storage = await LocalStorage.open({
    dataDir,
    db,
    log: createLogger({ level: 'silent' }),
    quotaBytes: options.quotaBytes ?? null,
    maxVersions: options.maxVersions ?? 10,
    ...(options.trashRetentionDays !== undefined ? { trashRetentionDays: options.trashRetentionDays } : {}),
    ...(options.trashSweepMs !== undefined ? { trashSweepMs: options.trashSweepMs } : {}),
  });
  return {
    storage,
    db,
    dataDir,
    async close() {
      await storage.close();
      await db.close();
    },
  };
}

/**
 * Mocha hooks giving each test of the calling suite a fresh storage, closed and removed after it.
 * Returns a getter: `const t = useTestStorage(); … t().storage.home('alice')`.
 */
export function useTestStorage(options: Parameters<typeof openTestStorage>[0] = {}): () => TestStorage {
  let current: TestStorage | undefined;
  beforeEach(async () => {
    current = await openTestStorage(options);
  });
  afterEach(async () => {
    await current?.close();
    if (current) await rm(current.dataDir, { recursive: true, force: true });
    current = undefined;
  });
  return () => current!;
}
