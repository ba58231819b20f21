/**
 * Where things live on disk under dataDir:
 *   files/{user}/…            current content
 *   uploads/                  in-progress writes and copies (renamed into place when complete)
 *   versions/{user}/{fileId}/{key}  old contents
 *   trash/{user}/{key}        deleted items
 * Symbolic links are never followed: `resolveExisting` refuses any path that passes through one.
 */
import { lstat, mkdir, readdir, realpath, rm } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BadRequestError, ForbiddenError, NotFoundError } from '../errors.js';
import { translateFsError } from './fs-errors.js';

/** Same rule as the user store: no `/`, no `:`, nothing that could leave files/. */
export const STORAGE_USER_RE = /^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$/;

export function validateUser(user: string): string {
  if (typeof user !== 'string' || !STORAGE_USER_RE.test(user)) throw new BadRequestError(`invalid user name "${String(user)}"`);
  return user;
}

export class Layout {
  readonly files: string;
  readonly uploads: string;
  readonly versions: string;
  readonly trash: string;

  /** `dataDir` must already be a real path (no symlinks in it). */
  constructor(readonly dataDir: string) {
    this.files = join(dataDir, 'files');
    this.uploads = join(dataDir, 'uploads');
    this.versions = join(dataDir, 'versions');
    this.trash = join(dataDir, 'trash');
  }

  static async create(dataDir: string): Promise<Layout> {
    await mkdir(dataDir, { recursive: true });
    const real = await realpath(dataDir);
    const layout = new Layout(real);
    for (const d of [layout.files, layout.uploads, layout.versions, layout.trash]) await mkdir(d, { recursive: true });
    // Leftovers of writes cut by a crash are never visible; drop them.
    for (const name of await readdir(layout.uploads)) await rm(join(layout.uploads, name), { recursive: true, force: true });
    return layout;
  }

  home(user: string): string {
    return join(this.files, user);
  }

  /** Disk path of a normalised Fs path in a user's home. */
  full(user: string, path: string): string {
    return path === '/' ? join(this.files, user) : join(this.files, user, path);
  }

  tempPath(): string {
    return join(this.uploads, `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`);
  }

  versionDir(user: string, fileId: string): string {
    return join(this.versions, user, fileId);
  }

  trashPath(user: string, key: string): string {
    return join(this.trash, user, key);
  }
}

/**
 * Folders (absolute paths) recently verified to contain no symbolic link on the way from `/`,
 * with their expiry. meshdav never creates symlinks, so its own operations cannot invalidate an
 * entry; a symlink planted behind its back is noticed within VERIFIED_TTL_MS. This saves a
 * realpath() on every lookup, the largest cost of a small GET under load.
 */
const verifiedDirs = new Map<string, number>();
const VERIFIED_TTL_MS = 5_000;
const VERIFIED_MAX = 20_000;

async function checkFolderChain(dir: string, path: string): Promise<void> {
  const now = Date.now();
  const until = verifiedDirs.get(dir);
  if (until !== undefined && until > now) return;
  let real: string;
  try {
    real = await realpath(dir);
  } catch (err) {
    throw translateFsError(err, path, { lookup: true });
  }
  if (real !== dir) throw new ForbiddenError(`${path} passes through a symbolic link`);
  if (verifiedDirs.size >= VERIFIED_MAX) verifiedDirs.clear();
  verifiedDirs.set(dir, now + VERIFIED_TTL_MS);
}

/**
 * lstat of `full` after checking that no component of it is a symbolic link (the last one by
 * lstat, the folders above it by realpath, cached briefly — see checkFolderChain).
 * NotFoundError when absent; ForbiddenError when a symlink is met anywhere on the way.
 */
export async function resolveExisting(full: string, path: string): Promise<Stats> {
  let st: Stats;
  try {
    [st] = await Promise.all([lstat(full), checkFolderChain(dirname(full), path)]);
  } catch (err) {
    throw translateFsError(err, path, { lookup: true });
  }
  if (st.isSymbolicLink()) throw new ForbiddenError(`${path} is a symbolic link`);
  if (!st.isFile() && !st.isDirectory()) throw new ForbiddenError(`${path} is not a regular file or folder`);
  return st;
}

/** Like resolveExisting but null when absent (a symlink still throws ForbiddenError). */
export async function resolveMaybe(full: string, path: string): Promise<Stats | null> {
  try {
    return await resolveExisting(full, path);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}
