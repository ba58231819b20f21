/**
 * PUT: streams the request body straight into fs.write (no buffering). 201 when created, 204 when
 * replaced; honours If-Match/If-None-Match (also passed down so the Fs checks atomically),
 * X-OC-Mtime (answered with `X-OC-MTime: accepted`), OC-Checksum and Content-Length. A folder at
 * the path → 405; a missing parent → 409 (from the Fs); Content-Range → 400 (RFC 9110 §14.4).
 */
import type { Readable } from 'node:stream';
import type { WriteResult } from '../../fs/types.js';
import { BadRequestError, MethodNotAllowedError } from '../../errors.js';
import { checkHttpPreconditions } from '../conditional.js';
import { isChunkedV1, putChunkV1 } from './chunked-v1.js';
import { assertUnlocked, setEntryHeaders, statOrNull, type DavRequest, emptyResponse } from '../context.js';

function singleEtag(header: string): string | undefined {
  const v = header.trim();
  if (!v) return undefined;
  if (v === '*') return '*';
  const parts = v.split(',');
  if (parts.length !== 1) return undefined;
  return v.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/** X-OC-Mtime (seconds since the epoch, may have a fraction) → ms; junk → BadRequestError. */
export function parseMtime(raw: string): number | undefined {
  if (!raw) return undefined;
  const secs = Number(raw);
  if (!Number.isFinite(secs) || secs < 0 || secs > 1e11) throw new BadRequestError('X-OC-Mtime must be seconds since the epoch');
  return Math.round(secs * 1000);
}

export async function put(req: DavRequest): Promise<void> {
  const { ctx, signal } = req;
  if (ctx.get('content-range')) throw new BadRequestError('Content-Range is not allowed on PUT');
  if (isChunkedV1(req)) {
    await putChunkV1(req, { mtime: parseMtime(ctx.get('x-oc-mtime')), checksum: ctx.get('oc-checksum') || undefined, signal });
    return;
  }
  let size: number | undefined;
  const rawLength = ctx.get('content-length');
  if (rawLength) {
    size = Number(rawLength);
    if (!Number.isSafeInteger(size) || size < 0) throw new BadRequestError('bad Content-Length');
  }
  await writeFile(req, ctx.req, size);
}

/**
 * Writes `body` (of `size` bytes when known) to `req.path` as PUT does, with the request's
 * preconditions, locks, X-OC-Mtime and OC-Checksum, and answers 201 or 204 with the new
 * version's headers. Also the end of a chunked upload (chunked-ng.ts), with the chunks as body.
 */
export async function writeFile(req: DavRequest, body: Readable, size: number | undefined): Promise<WriteResult> {
  const { ctx } = req;
  const mtime = parseMtime(ctx.get('x-oc-mtime'));
  const result = await storeFile(req, body, { size, mtime, checksum: ctx.get('oc-checksum') || undefined });
  setEntryHeaders(ctx, result.entry);
  if (mtime !== undefined) ctx.set('X-OC-MTime', 'accepted');
  emptyResponse(ctx, result.created ? 201 : 204);
  return result;
}

/** What a write takes besides the request's own headers: the body's size, the mtime to keep, a checksum to verify. */
export interface StoreOptions {
  size?: number;
  mtime?: number;
  checksum?: string;
}

/**
 * The write itself, without the answer: a folder there → 405; the request's If-Match,
 * If-None-Match and locks; then `fs.write` with the size, mtime and checksum given (a PUT's
 * headers, or a bulk upload part's: nextcloud/bulk-upload.ts).
 */
export async function storeFile(req: DavRequest, body: Readable, opts: StoreOptions): Promise<WriteResult> {
  const { ctx, fs, path, signal } = req;
  const existing = await statOrNull(fs, path);
  if (existing?.type === 'dir') throw new MethodNotAllowedError('PUT on a collection', { headers: { Allow: 'OPTIONS, PROPFIND, PROPPATCH, DELETE, COPY, MOVE, LOCK, UNLOCK, MKCOL' } });
  checkHttpPreconditions(ctx, existing);
  assertUnlocked(req, path, { member: !existing });
  const ifMatch = singleEtag(ctx.get('if-match'));
  const ifNoneMatch = ctx.get('if-none-match').trim() === '*' ? ('*' as const) : undefined;
  return fs.write(path, body, { ifMatch, ifNoneMatch, ...opts, signal });
}
