/**
 * The stream sources of a ranged read (chunk-reader.ts): one ranged GET teed into chunk claims,
 * and one disk chunk.
 *
 * Contracts: a span's bytes are checked against the listed size (longer or shorter fails the read,
 * never a short success); its bytes land in reusable chunk-sized slabs (slabs.ts), read there
 * straight from the socket when the inner Fs is a RemoteFs, else copied there so the received
 * buffers die young (no GC backlog of external memory); each completed aligned chunk is handed to
 * its claim at once; claims not filled when the span finishes are abandoned (their waiters fetch
 * themselves). A disk chunk is read in DISK_READ_BYTES reads and stays pinned until finished.
 */
import type { Readable } from 'node:stream';
import { PreconditionFailedError } from '../errors.js';
import { FileChunks, ReadBuffers } from '../storage/file-chunks.js';
import type { Entry, Fs, ReadOptions } from '../fs/types.js';
import type { ChunkStore, Claim, ClaimRun, DiskChunk } from './chunk-store.js';
import type { BodyTarget } from './direct-get.js';
import type { StreamSource } from './range-stream.js';
import { RemoteFs, type BodyInto } from './remote-fs.js';
import { lendPiece, releaseSlab, retainSlab, takeSlab } from './slabs.js';
import { ResumingBody, TrackedTarget, type ReadResume } from './resuming-body.js';

/**
 * Read size for chunks on the disk tier: 1 MiB, as a local download reads. A read's bytes are
 * copied twice (page cache → buffer, buffer → socket); a 1 MiB buffer is still in the CPU cache
 * for the second copy, a 4 MiB one much less so. Measured with curl as the client (16 rounds
 * each): warm reads 1938 MiB/s against 1590 with 4 MiB reads, receiver CPU 0.52 s per GiB against
 * 0.60; with a client that is itself the bottleneck, no difference. (Fewer thread-pool dispatches
 * had looked like the better trade in a 4-round comparison.)
 */
const DISK_READ_BYTES = 1024 * 1024;

/**
 * Read buffers of every disk-tier read, shared by all reads: the DAV layer hands each back once
 * the client's socket has flushed it (RangeStream.release), so a warm read allocates none. Spares
 * cover the few a steady read keeps busy (socket, stream buffers, the next chunk's read-ahead).
 */
const diskBuffers = new ReadBuffers(DISK_READ_BYTES, 6);

/** Takes back a chunk a disk source pushed; any other buffer is ignored. */
export function releaseDiskBuffer(chunk: Buffer): void {
  diskBuffers.release(chunk);
}

type ConditionalReadOptions = ReadOptions & { ifMatch?: string };

/**
 * Opens ONE ranged GET of bytes [spanStart, spanEnd] of `entry`, received into chunk-sized slabs
 * from spanStart on; the part inside [start, end] is passed on. The k-th slab, once complete,
 * goes to `claims[k]` at once (the reader aligns a span to chunks and claims one per chunk, or
 * none), or is dropped once its pieces are handed back. A RemoteFs reads the body straight into
 * the slabs (openReadInto) and the pieces passed on are views of them; any other Fs's pieces are
 * copied into the slabs while a claim wants them. Claims not filled when the source finishes are
 * abandoned.
 */
export async function openRun(
  src: { inner: Fs; chunkBytes: number; resume: ReadResume },
  entry: Entry,
  spanStart: number,
  spanEnd: number,
  claims: (Claim | undefined)[],
  start: number,
  end: number,
  signal: AbortSignal,
  dropped?: (chunkIndex: number) => void,
  /** The run `claims` belong to (see ClaimRun). */
  run?: ClaimRun,
): Promise<StreamSource> {
  const fill = new SpanFill(src.chunkBytes, spanStart, spanEnd, claims, dropped);
  const target = new TrackedTarget(fill, spanStart);
  /** The span's bytes from `from` on, checked against the listed size. */
  const open = async (from: number): Promise<BodyInto> => {
    const readOptions: ConditionalReadOptions = { range: { start: from, end: spanEnd }, ifMatch: entry.etag, signal };
    const body = await openBody(src.inner, entry.path, readOptions, target);
    body.stream.on('error', () => undefined); // surfaced by ResumingBody
    if (body.direct && body.length !== spanEnd - from + 1) {
      body.stream.destroy();
      throw new PreconditionFailedError(`the file is ${body.length! > spanEnd - from + 1 ? 'longer' : 'shorter'} than its listed size`);
    }
    return body;
  };
  let opened: BodyInto;
  try {
    opened = await open(spanStart);
  } catch (err) {
    fill.finish(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  // A reader that has held its GET paused for a while (ResumingBody `held`: a few seconds, or its
  // GET closed) gives its claims up once another reader waits for one of them: that reader
  // fetches them itself instead of waiting as long as the first pauses. Nobody waiting, it keeps
  // them, and caches the rest of the span when it reads on.
  const release = () => fill.releaseClaims(new Error('the reader that was fetching it paused'));
  const whenFollowed = () => run?.followed && release();
  const body = new ResumingBody(opened, target, spanEnd, open, { ...src.resume, signal, onPausedClose: whenFollowed, onHeld: whenFollowed });
  if (run) run.onFollowed = () => body.held && release();
  body.on('error', () => undefined); // surfaced by RangeStream (its listener, or `errored` at attach)
  const { direct } = opened;
  let pos = spanStart;
  return {
    kind: 'stream',
    stream: body,
    take(piece: Buffer): Buffer | undefined {
      // Tee into the chunks first, so waiting readers get them soonest (direct pieces are in them already).
      if (!direct) fill.copyIn(piece);
      const base = pos;
      pos += piece.length;
      const from = Math.max(start, base);
      const to = Math.min(end + 1, pos);
      if (from >= to) {
        if (direct) releaseSlab(piece);
        return undefined;
      }
      const out = from === base && to === pos ? piece : piece.subarray(from - base, to - base);
      // A direct piece carries a reference on its slab, dropped when the reader hands it back.
      if (direct) lendPiece(out);
      return out;
    },
    end(): void {
      if (pos !== spanEnd + 1) throw new PreconditionFailedError('the file is shorter than its listed size');
    },
    finish(err?: Error): void {
      fill.finish(err ?? new Error('the read was abandoned'));
    },
  };
}

/** The body of a span: read into `target` by a RemoteFs, or any Fs's ranged read. */
function openBody(inner: Fs, path: string, options: ConditionalReadOptions, target: BodyTarget): Promise<BodyInto> {
  if (inner instanceof RemoteFs) return inner.openReadInto(path, options, target);
  return inner.openRead(path, options).then((stream) => ({ stream, direct: false }));
}

/**
 * The bytes of a span, in chunk-sized slabs (slabs.ts): each completed chunk is handed to its
 * claim at once (the claim's slab reference goes to the store), or its slab is dropped when no
 * claim wants it. Bytes arrive either straight into `region()` memory (`received`) or as pieces
 * copied in (`copyIn`, only while a claim wants them: the received buffers then die young).
 */
class SpanFill implements BodyTarget {
  /** Index (in claims) of the chunk being filled. */
  private index = 0;
  private slab?: Buffer;
  private filledTo = 0;
  private chunkLen: number;
  private pos: number;

  constructor(
    private readonly cb: number,
    spanStart: number,
    private readonly spanEnd: number,
    private readonly claims: (Claim | undefined)[],
    /** Told the index of each chunk its claim did not keep (the store's write queue was full). */
    private readonly dropped?: (chunkIndex: number) => void,
  ) {
    this.pos = spanStart;
    this.chunkLen = Math.min(cb, spanEnd + 1 - spanStart);
  }

  region(max: number): Buffer {
    this.slab ??= takeSlab(this.cb, this.chunkLen);
    return this.slab.subarray(this.filledTo, this.filledTo + Math.min(max, this.chunkLen - this.filledTo));
  }

  received(n: number): Buffer {
    const piece = this.slab!.subarray(this.filledTo, this.filledTo + n);
    retainSlab(piece);
    this.advance(n);
    return piece;
  }

  copyIn(piece: Buffer): void {
    if (this.pos + piece.length > this.spanEnd + 1) throw new PreconditionFailedError('the file is longer than its listed size');
    let at = 0;
    while (at < piece.length) {
      const k = Math.min(piece.length - at, this.chunkLen - this.filledTo);
      if (this.claims[this.index]) {
        this.slab ??= takeSlab(this.cb, this.chunkLen);
        piece.copy(this.slab, this.filledTo, at, at + k);
      }
      at += k;
      this.advance(k);
    }
  }

  private advance(n: number): void {
    this.filledTo += n;
    this.pos += n;
    if (this.filledTo < this.chunkLen) return;
    // Drop our reference to the claim: its settled promise would keep every chunk of a long span alive.
    const claim = this.claims[this.index];
    this.claims[this.index++] = undefined;
    const slab = this.slab;
    this.slab = undefined;
    if (slab && claim) {
      const chunkIndex = Math.floor((this.pos - this.filledTo) / this.cb);
      const dropped = this.dropped;
      const lost = dropped && (() => dropped(chunkIndex));
      if (!claim.fill([slab.subarray(0, this.filledTo)], () => releaseSlab(slab), lost)) lost?.();
    } else if (slab) releaseSlab(slab);
    this.filledTo = 0;
    this.chunkLen = Math.min(this.cb, this.spanEnd + 1 - this.pos);
  }

  /** Abandons the claims not filled and drops the slab being filled. */
  finish(err: Error): void {
    this.releaseClaims(err);
    if (this.slab) releaseSlab(this.slab);
    this.slab = undefined;
  }

  /** Abandons the claims not filled (their waiters fetch themselves); the bytes still go to the reader. */
  releaseClaims(err: Error): void {
    for (let k = this.index; k < this.claims.length; k++) {
      this.claims[k]?.abandon(err);
      this.claims[k] = undefined;
    }
  }
}

/** A disk chunk's read stream; the chunk stays pinned until the source finishes. */
export function diskSource(rs: Readable, length: number, pin: DiskChunk): StreamSource {
  let got = 0;
  return {
    kind: 'stream',
    stream: rs,
    ahead: DISK_READ_BYTES,
    take(b: Buffer): Buffer {
      got += b.length;
      return b;
    },
    end(): void {
      if (got !== length) throw new Error('a cached chunk file is short');
    },
    finish(): void {
      rs.destroy();
      pin.release();
    },
  };
}


/**
 * A stream of bytes [lo, hi) of a pinned disk chunk, in pooled buffers (see releaseDiskBuffer),
 * through the store's kept descriptor of its file; it starts reading at once (a read-ahead).
 * Undefined if the file cannot be opened.
 */
export async function openDisk(store: ChunkStore, chunk: DiskChunk, lo: number, hi: number): Promise<Readable | undefined> {
  const handle = await store.openChunk(chunk);
  if (!handle) return undefined;
  const rs = new FileChunks(chunk.file, lo, hi - 1, { fd: handle.fd, releaseFd: handle.release, buffers: diskBuffers });
  rs.on('error', () => undefined); // surfaced by RangeStream (its listener, or `errored` at attach)
  rs.read(0);
  return rs;
}
