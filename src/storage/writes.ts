/**
 * Atomic writes: the body streams into uploads/ through the hashing stream (byte count against
 * the quota; SHA1 plus any algorithm the client declared a checksum for — a small body gets all
 * three, and the MD5/Adler32 of a large one are computed later by checksum-backfill.ts, queued in
 * the commit's batch), is verified (declared size, declared checksum), and only then
 * renamed over the target under the user's mutex (grouped with other completed writes, see
 * write-commit.ts). Any failure — a client that disconnects, an
 * aborted signal, a mismatch, the quota — removes the temporary file and leaves the old content.
 */
import { createWriteStream } from 'node:fs';
import { lstat, rm, utimes } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, ConflictError, InsufficientStorageError, isMeshdavError } from '../errors.js';
import { normalizePath, parentPath } from '../fs/path.js';
import type { WriteOptions, WriteResult } from '../fs/types.js';
import { declaredAlgos, HASH_CHUNK, HashingStream, parseDeclaredChecksum, verifyChecksums } from './checksums.js';
import { translateFsError } from './fs-errors.js';
import { checkPreconditions, fsMtimeField, type HomeContext } from './home.js';
import { resolveMaybe } from './layout.js';
import { commitWrite } from './write-commit.js';
import { PACED_UPLOAD_BYTES } from '../http/gc-pacer.js';

function validateOptions(options: WriteOptions): void {
  if (options.size !== undefined && (!Number.isSafeInteger(options.size) || options.size < 0)) {
    throw new BadRequestError('declared size must be a non-negative integer');
  }
  if (options.mtime !== undefined && (!Number.isFinite(options.mtime) || options.mtime < 0)) {
    throw new BadRequestError('mtime must be a non-negative number of milliseconds');
  }
}

/** Bytes this write may still add on top of `oldSize` being replaced; Infinity when unlimited. */
async function room(home: HomeContext, oldSize: number): Promise<number> {
  if (home.quotaBytes === null) return Infinity;
  const used = (await home.store.get(home.user, '/'))?.size ?? 0;
  return Math.max(0, home.quotaBytes - used + oldSize);
}

export async function writeFile(home: HomeContext, rawPath: string, body: Readable, options: WriteOptions = {}): Promise<WriteResult> {
  const path = normalizePath(rawPath);
  if (path === '/') throw new ConflictError('cannot write to the root folder');
  validateOptions(options);
  const declared = parseDeclaredChecksum(options.checksum);
  const full = home.layout.full(home.user, path);
  const parent = parentPath(path);

  // Early refusals, before any byte is read (they are checked again at commit).
  const parentSt = await resolveMaybe(home.layout.full(home.user, parent), parent);
  if (!parentSt || !parentSt.isDirectory()) throw new ConflictError(`parent folder ${parent} does not exist`);
  const st = await resolveMaybe(full, path);
  if (st?.isDirectory()) throw new ConflictError(`${path} is a folder`);
  const current = st ? await home.store.get(home.user, path) : undefined;
  checkPreconditions(st ? (current ?? { id: '', type: 'file', size: st.size, mtime: 0, etag: '\0' }) : undefined, options);
  const limit = await room(home, current?.size ?? st?.size ?? 0);
  if (options.size !== undefined && options.size > limit) {
    throw new InsufficientStorageError(`quota exceeded: ${options.size} bytes do not fit in the ${limit} bytes left`);
  }

  const tmp = home.layout.tempPath();
  const hasher = new HashingStream({ limit, expectedSize: options.size, algos: ['sha1', ...declaredAlgos(declared)] });
  const endTransfer = home.activity.begin(options.size === undefined || options.size >= PACED_UPLOAD_BYTES);
  try {
    try {
      // flush: the content is on disk before the commit renames it into place (configuration fsync).
      await pipeline(body, hasher, createWriteStream(tmp, { flags: 'wx', highWaterMark: HASH_CHUNK, flush: home.fsync }), options.signal ? { signal: options.signal } : {});
    } catch (err) {
      if (isMeshdavError(err)) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') throw translateFsError(err, path);
      throw new BadRequestError('upload interrupted before the end of the body', { cause: err });
    }
    if (options.size !== undefined && hasher.bytes !== options.size) {
      throw new BadRequestError(`declared size ${options.size} but received ${hasher.bytes} bytes`);
    }
    const sums = await hasher.checksums().catch((err: unknown) => {
      throw translateFsError(err, path);
    });
    verifyChecksums(declared, sums);
    const mtime = Math.round(options.mtime ?? Date.now());
    await utimes(tmp, mtime / 1000, mtime / 1000);
    const diskTime = fsMtimeField(mtime, await lstat(tmp));

    const result = await commitWrite(home, { path, parent, full, tmp, bytes: hasher.bytes, sums, mtime, diskTime, options });
    if (result.versioned) home.pruneLater(result.result.entry.fileId);
    return result.result;
  } finally {
    endTransfer();
    hasher.abandon();
    await rm(tmp, { force: true });
  }
}
