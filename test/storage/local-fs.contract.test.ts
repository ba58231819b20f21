/** The Fs contract suite against LocalFs (a fresh data directory and LevelDB per test). */
import { rm } from 'node:fs/promises';
import type { Fs } from '../../src/fs/types.js';
import { runFsContract } from '../contract/fs-contract.js';
import { openTestStorage } from './storage-fixture.js';

runFsContract('LocalFs', async () => {
  const t = await openTestStorage({ maxVersions: 5 });
  return {
    fs: await t.storage.home('alice'),
    async cleanup() {
      await t.close();
      await rm(t.dataDir, { recursive: true, force: true });
    },
  };
});

/** The core six methods only (no native move/copy, no abilities): exercises transfer()'s fallback. */
runFsContract('LocalFs (core methods only)', async () => {
  const t = await openTestStorage();
  const home = await t.storage.home('alice');
  const fs: Fs = {
    stat: (p) => home.stat(p),
    list: (p) => home.list(p),
    openRead: (p, o) => home.openRead(p, o),
    write: (p, b, o) => home.write(p, b, o),
    mkdir: (p) => home.mkdir(p),
    remove: (p) => home.remove(p),
  };
  return {
    fs,
    async cleanup() {
      await t.close();
      await rm(t.dataDir, { recursive: true, force: true });
    },
  };
});
