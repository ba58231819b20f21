/**
 * Flushing to disk for configuration `fsync` (power-loss durability): a file's content, or a
 * folder's entries (a rename, a new or removed name in it), reach the disk when these resolve.
 */
import { open } from 'node:fs/promises';

/** fsync of one file or folder. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of each folder, once each, all at once. */
export async function syncFolders(folders: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(folders)].map(syncPath));
}
