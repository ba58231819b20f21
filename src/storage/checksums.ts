/**
 * Checksums computed while content streams through: SHA1, MD5 and Adler32 in one pass,
 * plus a byte count with an optional limit (quota). Also parses client-declared checksums
 * (`SHA1:hex`, `MD5:hex`, `ADLER32:hex`, several separated by spaces as in OC-Checksum).
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BadRequestError, InsufficientStorageError } from '../errors.js';
import { adler32Digest, adler32Update, type AdlerState } from './adler32.js';
import { OffloadedHash } from './hash-worker.js';
import type { Checksums } from '../fs/types.js';

/** Adler-32 (RFC 1950), incremental; see adler32.ts. */
export class Adler32 {
  private readonly st: AdlerState = { a: 1, b: 0 };

  update(buf: Uint8Array): this {
    adler32Update(this.st, buf);
    return this;
  }

  /** Lower-case hex, 8 digits. */
  digest(): string {
    return adler32Digest(this.st);
  }
}

export const HASH_CHUNK = 1024 * 1024;

/** Below this declared size hashing stays on the main thread (messaging would cost more). */
const INLINE_MAX = 2 * HASH_CHUNK;

/**
 * Pass-through stream that hashes and counts. Chunks are forwarded as they are (no copies on
 * the data path). Fails with InsufficientStorageError as soon as more than `limit` bytes went
 * through. Bodies of unknown or large size are hashed in a worker (hash-worker.ts).
 */
export class HashingStream extends Transform {
  bytes = 0;
  private readonly inline: { sha1: Hash; md5: Hash; adler: Adler32 } | null;
  private readonly offload: OffloadedHash | null;

  constructor(options: { limit?: number; expectedSize?: number } = {}) {
    super({ highWaterMark: HASH_CHUNK, readableHighWaterMark: HASH_CHUNK, writableHighWaterMark: HASH_CHUNK });
    this.limit = options.limit ?? Infinity;
    const small = options.expectedSize !== undefined && options.expectedSize <= INLINE_MAX;
    this.inline = small ? { sha1: createHash('sha1'), md5: createHash('md5'), adler: new Adler32() } : null;
    this.offload = small ? null : new OffloadedHash();
  }

  private readonly limit: number;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      cb(new InsufficientStorageError('quota exceeded'));
      return;
    }
    if (this.inline) {
      this.inline.sha1.update(chunk);
      this.inline.md5.update(chunk);
      this.inline.adler.update(chunk);
      cb(null, chunk);
      return;
    }
    this.push(chunk);
    this.offload!.push(chunk, () => cb());
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (err) this.offload?.abandon();
    cb(err);
  }

  /** Only after the stream finished; the digests of every byte that went through. */
  async checksums(): Promise<Required<Checksums>> {
    if (this.inline) {
      return { sha1: this.inline.sha1.digest('hex'), md5: this.inline.md5.digest('hex'), adler32: this.inline.adler.digest() };
    }
    return this.offload!.finish();
  }

  /** Releases the worker when the stream will not be finished. */
  abandon(): void {
    this.offload?.abandon();
  }
}

const ALGOS: Record<string, keyof Checksums> = { SHA1: 'sha1', MD5: 'md5', ADLER32: 'adler32' };

/**
 * Parses a declared checksum header value. Unknown algorithms (e.g. SHA256) are ignored, so
 * newer clients still upload; a malformed value is a BadRequestError.
 */
export function parseDeclaredChecksum(value: string | undefined): Checksums {
  const out: Checksums = {};
  if (value === undefined || value.trim() === '') return out;
  for (const part of value.trim().split(/\s+/)) {
    const m = /^([A-Za-z0-9-]+):([0-9a-fA-F]+)$/.exec(part);
    if (!m) throw new BadRequestError(`malformed checksum "${part}" (expected TYPE:hex)`);
    const algo = ALGOS[m[1]!.toUpperCase()];
    if (algo) out[algo] = m[2]!.toLowerCase();
  }
  return out;
}

/** BadRequestError when a declared checksum differs from the computed one. */
export function verifyChecksums(declared: Checksums, actual: Required<Checksums>): void {
  for (const k of Object.keys(declared) as (keyof Checksums)[]) {
    const want = k === 'adler32' ? declared[k]!.padStart(8, '0') : declared[k];
    if (want !== actual[k]) throw new BadRequestError(`${k.toUpperCase()} checksum mismatch: declared ${declared[k]}, got ${actual[k]}`);
  }
}
