/**
 * The one place where node:fs errors become meshdav errors. Every storage module calls
 * `translateFsError` on a foreign error before it leaves src/storage.
 */
import {
  AlreadyExistsError,
  ConflictError,
  ForbiddenError,
  InsufficientStorageError,
  isMeshdavError,
  MeshdavError,
  NotFoundError,
  ServiceUnavailableError,
} from '../errors.js';

/**
 * Maps an error met while touching `path` to a typed error; typed errors pass through unchanged.
 * `lookup`: the error came from resolving an existing path, where a file in the middle of the
 * path (ENOTDIR) just means the path does not exist.
 */
export function translateFsError(err: unknown, path: string, options: { lookup?: boolean } = {}): MeshdavError {
  if (isMeshdavError(err)) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (options.lookup && code === 'ENOTDIR') return new NotFoundError(`${path} not found`, { cause: err });
  if (typeof code === 'string' && code.startsWith('LEVEL_')) {
    return new ServiceUnavailableError('the metadata store is not available (shutting down?)', { cause: err });
  }
  switch (code) {
    case 'ENOENT':
      return new NotFoundError(`${path} not found`, { cause: err });
    case 'EEXIST':
      return new AlreadyExistsError(`${path} already exists`, { cause: err });
    case 'ENOTDIR':
      return new ConflictError(`a parent of ${path} is not a folder`, { cause: err });
    case 'EISDIR':
      return new ConflictError(`${path} is a folder`, { cause: err });
    case 'ENOTEMPTY':
      return new ConflictError(`${path} is not empty`, { cause: err });
    case 'ELOOP':
      return new ForbiddenError(`${path} is a symbolic link`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new ForbiddenError(`permission denied on ${path}`, { cause: err });
    case 'ENOSPC':
    case 'EDQUOT':
      return new InsufficientStorageError('the disk is full', { cause: err });
    case 'ENAMETOOLONG':
      return new ConflictError(`name too long: ${path}`, { cause: err });
    default:
      return new MeshdavError(500, 'STORAGE_ERROR', `storage failure on ${path}: ${code ?? String(err)}`, { cause: err });
  }
}
