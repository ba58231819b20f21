/**
 * Checksums computed while content streams through (SHA1, MD5, Adler32 — all three for small
 * bodies, the chosen ones for large bodies), plus a byte count with an optional limit (quota).
 * Also parses client-declared checksums (`SHA1:hex`, `MD5:hex`, `ADLER32:hex`, several separated
 * by spaces as in OC-Checksum).
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BadRequestError, InsufficientStorageError } from '../errors.js';
import { adler32Digest, adler32Update, type AdlerState } from './adler32.js';
import { OffloadedHash, type Algo } from './hash-worker.js';
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

/** Bodies up to this size are hashed on the main thread (cheaper than waking the workers). */
const INLINE_MAX = 2 * HASH_CHUNK;

export const ALL_ALGOS: readonly Algo[] = ['sha1', 'md5', 'adler32'];

/** What HashingStream feeds a large body to. */
interface BodyHasher {
  push(chunk: Uint8Array, ready: () => void): void;
  finish(): Promise<Checksums>;
  abandon(): void;
}

/**
 * SHA1 alone, on the main thread: with the CPU's SHA extensions it runs at ~1.8 GB/s, and a
 * worker thread would cost ~18 MB of memory per upload for little gain.
 */
class InlineSha1 implements BodyHasher {
  private readonly h = createHash('sha1');
  push(chunk: Uint8Array, ready: () => void): void {
    this.h.update(chunk);
    ready();
  }
  async finish(): Promise<Checksums> {
    return { sha1: this.h.digest('hex') };
  }
  abandon(): void {}
}

/** The plain upload (SHA1 only) hashes inline; more algorithms go to parallel worker lanes. */
function hasherFor(lanes: Algo[][]): BodyHasher {
  if (lanes.length === 1 && lanes[0]!.length === 1 && lanes[0]![0] === 'sha1') return new InlineSha1();
  return new OffloadedHash(lanes);
}

export interface HashingOptions {
  /** Fail with InsufficientStorageError beyond this many bytes. */
  limit?: number;
  /** Declared body size, when known (a large one goes to the workers at once). */
  expectedSize?: number;
  /**
   * The algorithms a large body is hashed with, one worker lane each (default: all three).
   * Bodies up to INLINE_MAX always get all three.
   */
  algos?: readonly Algo[];
}

/**
 * Pass-through stream that hashes and counts. Chunks are forwarded as they are (no copies on
 * the data path). Fails with InsufficientStorageError as soon as more than `limit` bytes went
 * through. The first INLINE_MAX bytes are held (copied) until it is clear whether the body is
 * small (hashed inline at the end, all three sums) or large (handed to the hash workers of
 * hash-worker.ts, held bytes first, `algos` only); a declared size above INLINE_MAX goes to the
 * workers at once.
 */
export class HashingStream extends Transform {
  bytes = 0;
  private readonly limit: number;
  private held: Buffer[] | null = [];
  private offload: BodyHasher | null = null;
  private readonly lanes: Algo[][];

  constructor(options: HashingOptions = {}) {
    super({ highWaterMark: HASH_CHUNK, readableHighWaterMark: HASH_CHUNK, writableHighWaterMark: HASH_CHUNK });
    this.limit = options.limit ?? Infinity;
    const algos = options.algos?.length ? options.algos : ALL_ALGOS;
    this.lanes = ALL_ALGOS.filter((a) => algos.includes(a)).map((a) => [a]);
    if (options.expectedSize !== undefined && options.expectedSize > INLINE_MAX) {
      this.held = null;
      this.offload = hasherFor(this.lanes);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      cb(new InsufficientStorageError('quota exceeded'));
      return;
    }
    this.push(chunk);
    if (this.held) {
      this.held.push(Buffer.from(chunk));
      if (this.bytes <= INLINE_MAX) {
        cb();
        return;
      }
      const held = this.held;
      this.held = null;
      this.offload = hasherFor(this.lanes);
      const offload = this.offload;
      let i = 0;
      const next = (): void => {
        if (i < held.length) offload.push(held[i++]!, next);
        else cb();
      };
      next();
      return;
    }
    this.offload!.push(chunk, () => cb());
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (err) this.offload?.abandon();
    cb(err);
  }

  /**
   * Only after the stream finished; the digests of every byte that went through: all three for
   * a small body, the `algos` of the options for a large one.
   */
  async checksums(): Promise<Checksums> {
    if (this.held) {
      const sha1 = createHash('sha1');
      const md5 = createHash('md5');
      const adler = new Adler32();
      for (const c of this.held) {
        sha1.update(c);
        md5.update(c);
        adler.update(c);
      }
      return { sha1: sha1.digest('hex'), md5: md5.digest('hex'), adler32: adler.digest() };
    }
    return this.offload!.finish();
  }

  /** Releases the workers when the stream will not be finished. */
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

/** The algorithms `declared` names. */
export function declaredAlgos(declared: Checksums): Algo[] {
  return ALL_ALGOS.filter((a) => declared[a] !== undefined);
}

/** BadRequestError when a declared checksum differs from the computed one (which must include it). */
export function verifyChecksums(declared: Checksums, actual: Checksums): void {
  for (const k of Object.keys(declared) as (keyof Checksums)[]) {
    const want = k === 'adler32' ? declared[k]!.padStart(8, '0') : declared[k];
    if (want !== actual[k]) throw new BadRequestError(`${k.toUpperCase()} checksum mismatch: declared ${declared[k]}, got ${actual[k]}`);
  }
}
