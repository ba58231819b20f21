/**
 * Nextcloud's bulk upload (`dav.bulkupload` 1.0), which the desktop client uses to send many small
 * files in one request: `POST /remote.php/dav/bulk`, a `multipart/related` body with one part per
 * file (headers `X-File-Path`, relative to the user's files; `X-File-MD5`; `X-File-Mtime` or
 * `X-OC-Mtime`; `Content-Length`). Each part is streamed into its own write, exactly as a PUT of
 * that file would be (locks, a folder in the way, a missing parent), with its MD5 checked before
 * the file is committed. The answer is 200 with a JSON object by path: `{error: false, etag,
 * fileid, permissions}` or `{error: true, message}`, a failed file never stopping the others.
 * A body out of shape stops the request: 400 with the files written so far, as Nextcloud answers
 * (and what went wrong in `X-Bulk-Error`).
 */
import type { Context } from 'koa';
import type { Readable } from 'node:stream';
import type { WriteResult } from '../../fs/types.js';
import { normalizePath } from '../../fs/path.js';
import { BadRequestError, MeshdavError } from '../../errors.js';
import { MultipartParts, relatedBoundary } from '../../http/multipart-parts.js';
import { parseMtime, type StoreOptions } from '../methods/put.js';
import { permissionLetters } from '../properties.js';

/** Writes one part's content to a path of the user's files (DavServer.bulkWriter). */
export type PartWriter = (path: string, body: Readable, opts: StoreOptions) => Promise<WriteResult>;

type FileResult = { error: false; etag: string; fileid: string; permissions: string } | { error: true; message: string };

export async function bulkUpload(ctx: Context, write: PartWriter): Promise<void> {
  const parts = new MultipartParts(ctx.req, relatedBoundary(ctx.get('content-type')));
  const written: Record<string, FileResult> = {};
  ctx.type = 'application/json';
  try {
    for (let part = await parts.next(); part; part = await parts.next()) {
      const h = part.headers;
      const path = h['x-file-path'];
      if (!path) throw new BadRequestError('bulk upload: a part has no X-File-Path');
      if (!/^[0-9a-f]{32}$/i.test(h['x-file-md5'] ?? '')) throw new BadRequestError('bulk upload: a part has no valid X-File-MD5');
      try {
        const mtime = parseMtime(h['x-file-mtime'] ?? h['x-oc-mtime'] ?? '');
        const { entry } = await write(normalizePath(path), part.body, { size: part.length, mtime, checksum: `MD5:${h['x-file-md5']!.toLowerCase()}` });
        written[path] = { error: false, etag: entry.etag, fileid: entry.fileId, permissions: permissionLetters(entry) };
      } catch (err) {
        if (!(err instanceof MeshdavError) || err.status >= 500) throw err;
        written[path] = { error: true, message: err.message };
      }
      await part.finish();
    }
  } catch (err) {
    if (!(err instanceof BadRequestError)) throw err;
    // As Nextcloud answers: the files written before the body went wrong.
    ctx.status = 400;
    ctx.set('X-Bulk-Error', err.message.replace(/[^\x20-\x7e]/g, '?'));
    ctx.body = written;
    return;
  }
  ctx.status = 200;
  ctx.body = written;
}
