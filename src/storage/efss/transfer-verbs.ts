/**
 * The streaming verbs of `api/storage/`: `PUT Upload/home/{path}` (raw body streamed into an
 * atomic Fs write; missing parents are created; 201 created / 200 replaced),
 * `GET Download/{path}` (streamed, with single-range `Range` support: 206 / 416) and
 * `GET DownloadRevision/{key}/{path}` (key is the first segment: reva v3.10.4 joins it in raw,
 * older revads query-escape it; meshdav keys never hold a slash).
 * Content is never buffered: Fs stream → socket with stream/promises.pipeline.
 */
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Context } from 'koa';
import { BadRequestError, ConflictError, NotFoundError, RangeNotSatisfiableError } from '../../errors.js';
import { hasEntryOpener, isVersioned } from '../../fs/guards.js';
import { recycled } from '../../dav/recycling-body.js';
import type { ByteRange, Entry } from '../../fs/types.js';
import { decodeUrlPath } from '../../fs/path.js';
import { ensureParents, need, requestSignal, type StorageCall, type Verb } from './call.js';
import { homePath } from './reference.js';

function tailPath(tail: string): string {
  if (tail === '') throw new BadRequestError('a path is required after the verb');
  return homePath(decodeUrlPath('/' + tail));
}

/** Parses a single `bytes=` range against `size`; undefined = whole file. */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // not a single byte range: ignore, as RFC 9110 allows
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) {
    throw new RangeNotSatisfiableError(`range ${header} outside a ${size}-byte file`, { headers: { 'Content-Range': `bytes */${size}` } });
  }
  return { start, end };
}

/** Sends `body` as the response and waits until it is written; a client abort ends quietly. */
async function send(ctx: Context, body: Readable): Promise<void> {
  ctx.respond = false;
  ctx.res.flushHeaders();
  try {
    await pipeline(body, ctx.res);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'ABORT_ERR') return;
    throw err;
  }
}

async function download(ctx: Context, entry: Entry, open: (range?: ByteRange) => Promise<Readable>): Promise<void> {
  if (entry.type === 'dir') throw new BadRequestError('a folder cannot be downloaded');
  const range = parseRange(ctx.get('range') || undefined, entry.size);
  const stream = await open(range);
  ctx.set('Content-Type', entry.mime || 'application/octet-stream');
  ctx.set('ETag', `"${entry.etag}"`);
  ctx.set('Last-Modified', new Date(entry.mtime).toUTCString());
  ctx.set('Accept-Ranges', 'bytes');
  if (entry.checksums?.sha1) ctx.set('OC-Checksum', `SHA1:${entry.checksums.sha1}`);
  if (range) {
    const end = range.end ?? entry.size - 1;
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${range.start}-${end}/${entry.size}`);
    ctx.set('Content-Length', String(end - range.start + 1));
  } else {
    ctx.status = 200;
    ctx.set('Content-Length', String(entry.size));
  }
  // Chunks of a local file go back to it once the socket took them (no allocation per chunk).
  await send(ctx, recycled(stream, ctx.res));
}

export const transferVerbs: Record<string, Verb<StorageCall>> = {
  Upload: {
    method: 'PUT',
    tail: true,
    handler: async (call) => {
      const path = tailPath(call.tail);
      if (path === '/') throw new BadRequestError('cannot upload over the home folder');
      const declared = call.ctx.get('content-length');
      const size = declared === '' ? undefined : Number(declared);
      if (size !== undefined && !Number.isSafeInteger(size)) throw new BadRequestError('invalid Content-Length');
      const signal = requestSignal(call.ctx);
      await ensureParents(call.fs, path);
      const result = await call.fs.write(path, call.ctx.req, { size, signal });
      call.ctx.status = result.created ? 201 : 200;
      call.ctx.set('ETag', `"${result.entry.etag}"`);
      call.ctx.set('OC-FileId', result.entry.fileId);
      call.ctx.body = '';
    },
  },

  Download: {
    method: 'GET',
    tail: true,
    handler: async (call) => {
      const path = tailPath(call.tail);
      const signal = requestSignal(call.ctx);
      if (!call.ctx.get('range') && hasEntryOpener(call.fs)) {
        // A whole file: entry and content from one lookup (they always match).
        const { entry, body } = await call.fs.openEntry(path, { signal }).catch((err: unknown) => {
          throw err instanceof ConflictError ? new BadRequestError('a folder cannot be downloaded') : err;
        });
        await download(call.ctx, entry, async () => body).catch((err: unknown) => {
          body.destroy();
          throw err;
        });
        return;
      }
      const entry = await call.fs.stat(path);
      await download(call.ctx, entry, (range) => call.fs.openRead(path, { range, signal }));
    },
  },

  DownloadRevision: {
    method: 'GET',
    tail: true,
    handler: async (call) => {
      const slash = call.tail.indexOf('/');
      if (slash <= 0) throw new BadRequestError('DownloadRevision needs a key and a path');
      let key: string;
      try {
        key = decodeURIComponent(call.tail.slice(0, slash).replace(/\+/g, ' '));
      } catch {
        throw new BadRequestError('invalid percent-encoding in the revision key');
      }
      const path = tailPath(call.tail.slice(slash + 1));
      const fs = need(call.fs, isVersioned, 'versions');
      const version = (await fs.listVersions(path)).find((v) => v.key === key);
      const current = await call.fs.stat(path);
      if (!version) throw new NotFoundError(`no revision "${key}" of ${path}`);
      const entry: Entry = { ...current, size: version.size, etag: version.etag, mtime: version.mtime, checksums: undefined };
      const signal = requestSignal(call.ctx);
      await download(call.ctx, entry, (range) => fs.openVersion(path, key, { range, signal }));
    },
  },
};
