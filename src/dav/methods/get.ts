/**
 * GET and HEAD: conditional (304/412), single ranges (206 + Content-Range) and multiple ranges
 * (206 multipart/byteranges with exact Content-Length). Content streams from the Fs; an error
 * after the headers went out destroys the socket (Koa pipes with stream.pipeline).
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Entry } from '../../fs/types.js';
import { hasEntryOpener } from '../../fs/guards.js';
import { ConflictError, ServiceUnavailableError } from '../../errors.js';
import { checkHttpPreconditions } from '../conditional.js';
import { setEntryHeaders, type DavRequest } from '../context.js';
import { ifRangeAllows, parseRange, type Span } from '../range.js';
import { recycled } from '../recycling-body.js';

function setCommonHeaders(req: DavRequest, e: Entry): void {
  const { ctx } = req;
  setEntryHeaders(ctx, e);
  ctx.set('Last-Modified', new Date(e.mtime).toUTCString());
  ctx.set('Accept-Ranges', 'bytes');
  // Nextcloud clients verify downloads against it.
  if (e.type === 'file' && e.checksums?.sha1) ctx.set('OC-Checksum', `SHA1:${e.checksums.sha1}`);
}

/** Entries up to this size are collected before the response starts (one buffer, one write). */
const SMALL_BODY = 64 * 1024;

/**
 * The whole of a small entry's body. Exactly `size` bytes, else ServiceUnavailableError before
 * any header is sent (the content changed or ended early while read): a 200 is never short.
 */
function collect(body: Readable, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let ended = false;
    const changed = () =>
      new ServiceUnavailableError('the content changed or ended early while it was read; try again', { headers: { 'Retry-After': '1' } });
    body.on('data', (chunk: Buffer) => {
      n += chunk.length;
      if (n > size) body.destroy(changed());
      else chunks.push(chunk);
    });
    body.once('error', reject);
    body.once('end', () => {
      ended = true;
      if (n === size) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n));
      else reject(changed());
    });
    // Destroyed without an error (e.g. aborted) settles too.
    body.once('close', () => {
      if (!ended) reject(changed());
    });
  });
}

/** A GET that needs the content whatever the entry is: no Range, no validators. */
function isPlainGet(req: DavRequest): boolean {
  const { ctx } = req;
  return !ctx.get('range') && !ctx.get('if-match') && !ctx.get('if-none-match') && !ctx.get('if-modified-since') && !ctx.get('if-unmodified-since');
}

async function serve(req: DavRequest, withBody: boolean): Promise<void> {
  const { ctx, fs, path, signal } = req;
  if (withBody && hasEntryOpener(fs) && isPlainGet(req)) {
    // One path resolution instead of stat + openRead; a folder falls through to the general path.
    const opened = await fs.openEntry(path, { signal }).catch((err: unknown) => {
      if (err instanceof ConflictError) return null;
      throw err;
    });
    if (opened) {
      const { entry, body } = opened;
      // A small body is collected first and sent in one write (no stream pipeline per request);
      // a big one hands its chunks back for reuse once sent, where its Fs takes them.
      let content: Buffer | Readable = body;
      if (entry.size <= SMALL_BODY) content = await collect(body, entry.size);
      else content = recycled(body, ctx.res);
      setCommonHeaders(req, entry);
      ctx.status = 200;
      ctx.type = entry.mime;
      ctx.length = entry.size;
      ctx.body = content;
      return;
    }
  }
  const e = await fs.stat(path);
  setCommonHeaders(req, e);
  if (checkHttpPreconditions(ctx, e) === 'not-modified') {
    ctx.status = 304;
    return;
  }
  if (e.type === 'dir') {
    ctx.status = 200;
    ctx.type = 'httpd/unix-directory';
    ctx.length = 0;
    ctx.body = withBody ? '' : null;
    return;
  }
  const spans = ifRangeAllows(ctx, e) ? parseRange(ctx.get('range') || undefined, e.size) : null;
  if (!spans) {
    ctx.status = 200;
    ctx.type = e.mime;
    ctx.length = e.size;
    if (withBody) ctx.body = recycled(await fs.openRead(path, { signal }), ctx.res);
    return;
  }
  ctx.status = 206;
  if (spans.length === 1) {
    const s = spans[0]!;
    ctx.type = e.mime;
    ctx.set('Content-Range', `bytes ${s.start}-${s.end}/${e.size}`);
    ctx.length = s.end - s.start + 1;
    if (withBody) ctx.body = recycled(await fs.openRead(path, { range: { start: s.start, end: s.end }, signal }), ctx.res);
    return;
  }
  const boundary = randomBytes(12).toString('hex');
  const heads = spans.map(
    (s, i) => `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${e.mime}\r\nContent-Range: bytes ${s.start}-${s.end}/${e.size}\r\n\r\n`,
  );
  const tail = `\r\n--${boundary}--\r\n`;
  const length = heads.reduce((n, h) => n + Buffer.byteLength(h), 0) + spans.reduce((n, s) => n + s.end - s.start + 1, 0) + tail.length;
  ctx.type = `multipart/byteranges; boundary=${boundary}`;
  ctx.length = length;
  if (!withBody) return;
  async function* parts(): AsyncGenerator<Buffer | string> {
    for (let i = 0; i < spans!.length; i++) {
      const s: Span = spans![i]!;
      yield heads[i]!;
      const stream = await fs.openRead(path, { range: { start: s.start, end: s.end }, signal });
      for await (const chunk of stream) yield chunk as Buffer;
    }
    yield tail;
  }
  ctx.body = Readable.from(parts(), { objectMode: false });
}

export async function get(req: DavRequest): Promise<void> {
  await serve(req, true);
}

export async function head(req: DavRequest): Promise<void> {
  await serve(req, false);
}
