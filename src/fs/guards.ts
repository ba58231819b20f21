/** Type guards that discover an Fs's optional abilities (rclone's `fs.Mover` checks). */
import type {
  ArbitraryMetadata,
  Copier,
  DeadProps,
  EntryOpener,
  FileIdResolver,
  Fs,
  GrantStore,
  Mover,
  QuotaReporter,
  TrashBin,
  Versioned,
} from './types.js';

function has<K extends string>(fs: object, ...methods: K[]): boolean {
  return methods.every((m) => typeof (fs as Record<string, unknown>)[m] === 'function');
}

export const isMover = (fs: Fs): fs is Fs & Mover => has(fs, 'move');
export const isCopier = (fs: Fs): fs is Fs & Copier => has(fs, 'copy');
export const hasDeadProps = (fs: Fs): fs is Fs & DeadProps => has(fs, 'getProps', 'patchProps');
export const hasQuota = (fs: Fs): fs is Fs & QuotaReporter => has(fs, 'quota');
export const hasFileIds = (fs: Fs): fs is Fs & FileIdResolver => has(fs, 'pathById');
export const isVersioned = (fs: Fs): fs is Fs & Versioned =>
  has(fs, 'listVersions', 'openVersion', 'restoreVersion');
export const hasTrash = (fs: Fs): fs is Fs & TrashBin =>
  has(fs, 'listTrash', 'restoreTrash', 'purgeTrash', 'emptyTrash');
export const hasGrants = (fs: Fs): fs is Fs & GrantStore => has(fs, 'listGrants', 'setGrant', 'removeGrant');
export const hasMetadata = (fs: Fs): fs is Fs & ArbitraryMetadata =>
  has(fs, 'getMetadata', 'setMetadata', 'unsetMetadata');
export const hasEntryOpener = (fs: Fs): fs is Fs & EntryOpener => has(fs, 'openEntry');
