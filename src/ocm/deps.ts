/**
 * What the OCM layer needs from the other areas, as small structural interfaces. services.ts
 * adapts the real UserStore / LocalStorage to these, so src/ocm depends on no other area's
 * internals.
 */
import type { FileIdResolver, Fs } from '../fs/types.js';

export interface LocalUser {
  name: string;
  displayName: string;
  email: string;
}

export interface UserDirectory {
  /** The local user with this name, or undefined. */
  lookup(name: string): Promise<LocalUser | undefined>;
}

export interface Homes {
  /** The user's home storage (not their namespace: received shares are not re-shared). */
  home(user: string): Promise<Fs & Partial<FileIdResolver>>;
}
