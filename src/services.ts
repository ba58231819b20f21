/**
 * The services of one node, built once from the configuration and handed to the routers.
 * Each area adds its own service here; app.ts only wires routers to these.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { Metrics } from './http/metrics.js';
import type { Fs } from './fs/types.js';
import { UserStore } from './auth/user-store.js';
import { Authenticator } from './auth/authenticator.js';

export type Db = Level<string, unknown>;

/** Resolves a user's whole namespace: their home, with received shares overlaid under sharesFolder. */
export interface Namespaces {
  forUser(user: string): Promise<Fs>;
}

export interface Services {
  config: Config;
  log: Logger;
  /** The one LevelDB of this node; each area takes a sublevel of its own. */
  db: Db;
  metrics: Metrics;
  /** Local users (scrypt hashes in the `users` sublevel). */
  users: UserStore;
  /** HTTP Basic (password or loopbackSecret) with failed-login throttling. */
  auth: Authenticator;
  /** Closes everything in reverse order of opening. */
  close(): Promise<void>;
}

export async function openServices(config: Config, log: Logger): Promise<Services> {
  mkdirSync(join(config.dataDir, 'db'), { recursive: true });
  const db: Db = new Level<string, unknown>(join(config.dataDir, 'db'), { valueEncoding: 'json' });
  await db.open();
  const metrics = new Metrics();
  const closers: Array<() => Promise<void>> = [() => db.close()];
  const users = new UserStore(db);
  const auth = new Authenticator(users, config);
  return {
    config,
    log,
    db,
    metrics,
    users,
    auth,
    async close() {
      for (const c of closers.reverse()) await c();
    },
  };
}
