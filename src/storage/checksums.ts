/**
 * Checksums computed while content streams through: SHA1, MD5 and Adler32 in one pass,
 * plus a byte count with an optional limit (quota). Also parses client-declared checksums
 * (`SHA1:hex`, `MD5:hex`, `ADLER32:hex`, several separated by spaces as in OC-Checksum).
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BadRequestError, InsufficientStorageError } from '../errors.js';
import type { Checksums } from '../fs/types.js';

const MOD_ADLER = 65521;
/** Largest block after which a and b must be reduced so they stay within int32 (V8 fast path). */
const ADLER_BLOCK = 3500;

/** Adler-32 (RFC 1950), incremental. */
export class Adler32 {
  private a = 1;
  private b = 0;

  update(buf: Uint8Array): this {
    let a = this.a;
    let b = this.b;
    const len = buf.length;
    let i = 0;
    while (i < len) {
      const end = Math.min(len, i + ADLER_BLOCK);
      for (; i < end; i++) {
        a += buf[i]!;
        b += a;
      }
      a %= MOD_ADLER;
      b %= MOD_ADLER;
    }
    this.a = a;
    this.b = b;
    return this;
  }

  /** Lower-case hex, 8 digits. */
  digest(): string {
    return ((this.b * 65536 + this.a) >>> 0).toString(16).padStart(8, '0');
  }
}

export const HASH_CHUNK = 1024 * 1024;

/**
 * Pass-through stream that hashes and counts. Chunks are forwarded as they are (no copies).
 * Fails with InsufficientStorageError as soon as more than `limit` bytes went through.
 */
export class HashingStream extends Transform {
  bytes = 0;
  private readonly sha1: Hash = createHash('sha1');
  private readonly md5: Hash = createHash('md5');
  private readonly adler = new Adler32();

  constructor(private readonly limit: number = Infinity) {
    super({ highWaterMark: HASH_CHUNK, readableHighWaterMark: HASH_CHUNK, writableHighWaterMark: HASH_CHUNK });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      cb(new InsufficientStorageError('quota exceeded'));
      return;
    }
    this.sha1.update(chunk);
    this.md5.update(chunk);
    this.adler.update(chunk);
    cb(null, chunk);
  }

  /** Only after the stream finished. */
  checksums(): Required<Checksums> {
    return { sha1: this.sha1.digest('hex'), md5: this.md5.digest('hex'), adler32: this.adler.digest() };
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
