/**
 * Folders meshdav keeps at the root of a user's home for its own work, which no listing shows:
 * chunks of ownCloud chunking v1 uploads (dav/methods/chunked-v1.ts) and the upload folders of
 * Nextcloud's chunked uploads (dav/methods/chunked-ng.ts).
 */
export const STAGING = '/.meshdav-chunks';
export const UPLOADS = '/.meshdav-uploads';

const HIDDEN = new Set([STAGING, UPLOADS]);

/** False for meshdav's own folders at the root, which listings leave out. */
export function isListed(entry: { path: string }): boolean {
  return !HIDDEN.has(entry.path);
}

/** True for those folders and anything in them: removed for good, never kept in the trash. */
export function isInternalPath(path: string): boolean {
  for (const root of HIDDEN) if (path === root || path.startsWith(root + '/')) return true;
  return false;
}
