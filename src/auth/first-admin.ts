/**
 * First start: a data directory without any user gets `admin` with a random password, so that
 * `npm start` alone gives a usable node. The caller prints the password once; it is never logged.
 */
import { randomBytes } from 'node:crypto';
import type { UserStore } from './user-store.js';

/** Creates `admin` when there are no users; returns its password, or undefined when users exist. */
export async function ensureFirstAdmin(users: UserStore): Promise<{ name: string; password: string } | undefined> {
  if (await users.hasUsers()) return undefined;
  const password = randomBytes(18).toString('base64url');
  await users.add({ name: 'admin', password, displayName: 'Administrator' });
  return { name: 'admin', password };
}
