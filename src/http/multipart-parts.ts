/**
 * A streaming reader of length-delimited multipart bodies, as Nextcloud's bulk upload sends them
 * (`multipart/related`): every part is `--boundary CRLF`, header lines, an empty line, exactly
 * `Content-Length` bytes of content, CRLF; the body ends with `--boundary-- CRLF`.
 *
 * Contracts: a part's content is a stream of views of the request's own chunks (nothing is
 * buffered beyond one chunk, whatever the part's size), which fails instead of ending when the
 * part is longer than its Content-Length; the caller reads it (or not) and then
 * calls `finish()`, which skips what it left; header sections are bounded (MAX_HEADER_BYTES);
 * anything out of shape (a missing boundary, a header line without a colon, no Content-Length,
 * a body that ends early) is a BadRequestError.
 *
 * Why by hand: busboy reads multipart/form-data only, and these parts are delimited by their
 * lengths (as Nextcloud's own parser reads them), not found by scanning for the boundary.
 */
import { Readable } from 'node:stream';
import { BadRequestError } from '../errors.js';

/** The most one part's header section may take. */
const MAX_HEADER_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');

export interface Part {
  /** Header names in lower case. */
  headers: Record<string, string>;
  length: number;
  /** The content: exactly `length` bytes (fails with BadRequestError when the body ends first). */
  body: Readable;
  /** Skips what the caller did not read of `body` (call once the caller is done with it). */
  finish(): Promise<void>;
}

/** The boundary of a `multipart/related` Content-Type; BadRequestError for anything else. */
export function relatedBoundary(contentType: string): string {
  const m = /^\s*multipart\/related\s*;(.*)$/i.exec(contentType);
  const b = m && /(?:^|;)\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(m[1]!);
  if (!b) throw new BadRequestError('Content-Type must be multipart/related with a boundary');
  return b[1] ?? b[2]!;
}

export class MultipartParts {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  private ended = false;
  private readonly open: Buffer;
  private readonly close: Buffer;
  /** Bytes of the current part's content not consumed yet. */
  private left = 0;
  /** Resolves once the current part's content stream has stopped pulling (at once if it never started). */
  private settled: Promise<void> = Promise.resolve();

  constructor(source: AsyncIterable<Buffer>, boundary: string) {
    this.it = source[Symbol.asyncIterator]();
    this.open = Buffer.from(`--${boundary}\r\n`);
    this.close = Buffer.from(`--${boundary}--`);
  }

  /** The next part, or undefined after the closing boundary. */
  async next(): Promise<Part | undefined> {
    const line = await this.line(this.open.length + 2);
    if (line.equals(this.close)) return undefined;
    if (!Buffer.concat([line, CRLF]).equals(this.open)) throw new BadRequestError('bulk upload: a part does not start with the boundary');
    const headers: Record<string, string> = {};
    let bytes = 0;
    for (;;) {
      const h = await this.line(MAX_HEADER_BYTES - bytes);
      bytes += h.length + 2;
      if (h.length === 0) break;
      const text = h.toString('utf8');
      const colon = text.indexOf(':');
      if (colon <= 0) throw new BadRequestError('bulk upload: a part header has no name');
      headers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
    }
    const raw = headers['content-length'];
    const length = raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(length)) throw new BadRequestError('bulk upload: a part has no valid Content-Length');
    this.left = length;
    this.settled = Promise.resolve();
    const body = Readable.from(this.content(), { objectMode: false });
    return { headers, length, body, finish: () => this.finish(body) };
  }

  private async *content(): AsyncGenerator<Buffer> {
    // (A generator that never starts never runs this: `settled` then stays resolved.)
    let done!: () => void;
    this.settled = new Promise((r) => (done = r));
    try {
      while (this.left > 0) yield await this.piece();
      // Checked before the stream ends, so a part longer than it says is never committed.
      await this.crlf();
    } finally {
      done();
    }
  }

  /** The next bytes of the current part's content (at most what is left of it). */
  private async piece(): Promise<Buffer> {
    if (this.buf.length === 0 && !(await this.pull())) throw new BadRequestError('bulk upload: the body ended inside a part');
    const n = Math.min(this.left, this.buf.length);
    const piece = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.left -= n;
    return piece;
  }

  private async finish(body: Readable): Promise<void> {
    if (!body.readableEnded) body.destroy();
    await this.settled;
    while (this.left > 0) await this.piece();
    await this.crlf();
    this.buf = this.buf.subarray(2);
  }

  /** The CRLF that ends a part's content comes next (not consumed). */
  private async crlf(): Promise<void> {
    while (this.buf.length < 2) {
      if (!(await this.pull())) throw new BadRequestError('bulk upload: the body ended inside a part');
    }
    if (this.buf[0] !== 0x0d || this.buf[1] !== 0x0a) throw new BadRequestError('bulk upload: a part is longer than its Content-Length');
  }

  /** The next line (without its CRLF), of at most `max` bytes. */
  private async line(max: number): Promise<Buffer> {
    for (;;) {
      const at = this.buf.indexOf(CRLF);
      if (at >= 0 && at <= max) {
        const line = this.buf.subarray(0, at);
        this.buf = this.buf.subarray(at + 2);
        return line;
      }
      if (at > max || this.buf.length > max + 1) throw new BadRequestError('bulk upload: a part header is too long');
      if (!(await this.pull())) {
        // The closing boundary may end the body without its CRLF.
        if (this.buf.length > 0 && this.buf.length <= max) {
          const rest = this.buf;
          this.buf = Buffer.alloc(0);
          return rest;
        }
        throw new BadRequestError('bulk upload: the body ended early');
      }
    }
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    let r: IteratorResult<Buffer>;
    try {
      r = await this.it.next();
    } catch (err) {
      // The client went away (or its connection broke) mid-body: its request, not our failure.
      throw new BadRequestError('bulk upload: the request body was cut off', { cause: err });
    }
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }
}
