/**
 * Nextcloud's chunked uploads ("chunking NG", versions 1 and 2), which Nextcloud clients use for
 * large files: the Android app for every file over 1 MB, the desktop client when the capabilities
 * say `dav.chunking`. Under `/remote.php/dav/uploads/{user}/`:
 *   MKCOL {id}            an upload folder (405 when it exists);
 *   PUT {id}/{chunk}      a chunk, any name; PROPFIND {id} lists those received (a client resumes
 *                         from there); DELETE {id} gives the upload up;
 *   MOVE {id}/.file       with `Destination: …/remote.php/dav/files/{user}/path`: the chunks, in
 *                         the order of their names (numeric when every name is a number), are
 *                         streamed into one write of that file, as a PUT there would be (its
 *                         If-Match, locks, X-OC-Mtime, OC-Checksum; OC-Total-Length must be their
 *                         sum, else 400 and the upload stays); the folder is then removed.
 * Version 2's `Destination` header on MKCOL and PUT needs nothing here: the target is named again
 * by the final MOVE. Upload folders live in the user's home under UPLOADS (never listed) and are
 * removed after a day without a change, as Nextcloud does.
 */
import { Readable } from 'node:stream';
import type { Context } from 'koa';
import { LRUCache } from 'lru-cache';
import type { Entry, Fs, WriteResult } from '../../fs/types.js';
import { ScopedFs } from '../../fs/scoped-fs.js';
import { joinPath } from '../../fs/path.js';
import { AlreadyExistsError, BadRequestError, NotFoundError } from '../../errors.js';
import { parseDestination } from '../destination.js';
import { emptyResponse, setEntryHeaders, type DavTarget } from '../context.js';
import { UPLOADS } from '../../fs/hidden.js';

export { UPLOADS };

/** An upload folder idle this long is removed (at the next MKCOL of an upload). */
const STALE_MS = 24 * 3600 * 1000;
/** The request path (below the uploads base) that assembles an upload. */
export const ASSEMBLE = /^\/([^/]+)\/\.file$/;

/** What assembling needs from the DAV engine (DavServer.writeAssembled). */
export interface AssembleWriter {
  writeAssembled(ctx: Context, target: DavTarget, path: string, body: Readable, size: number | undefined): Promise<WriteResult>;
}

/** Assemblies running now, by user and upload: a client's retried MOVE waits for the first. */
const assembling = new Map<string, Promise<WriteResult>>();
/**
 * Assemblies finished lately, by user and upload, with the path written: a MOVE retried after the
 * first one finished (its answer lost to a timeout or a dropped connection) finds no upload folder
 * any more, and gets the first one's answer instead of a 404 that would make the client send the
 * whole file again.
 */
const finished = new LRUCache<string, { path: string; result: WriteResult }>({ max: 1000, ttl: 15 * 60 * 1000 });

/** The user's upload folders as an Fs (UPLOADS of `home`, made when missing). */
export async function uploadsFs(home: Fs): Promise<Fs> {
  try {
    await home.mkdir(UPLOADS);
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
  }
  return new ScopedFs(home, UPLOADS);
}

/** Removes upload folders nobody touched for a day. */
export async function removeStaleUploads(uploads: Fs, now = Date.now()): Promise<void> {
  for (const e of await uploads.list('/').catch(() => [] as Entry[])) {
    if (e.type === 'dir' && now - e.mtime > STALE_MS) await uploads.remove(e.path).catch(() => undefined);
  }
}

/** The chunks of an upload folder in assembly order. */
export function chunkOrder(chunks: Entry[]): Entry[] {
  const numeric = chunks.every((c) => /^\d{1,19}$/.test(c.name));
  return [...chunks].sort((a, b) => (numeric ? Number(BigInt(a.name) - BigInt(b.name)) || 0 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * MOVE {id}/.file: streams the chunks of upload `id` into the file the Destination header names
 * in the user's files (`files`), then removes the upload folder.
 */
export async function assembleUpload(ctx: Context, dav: AssembleWriter, uploads: Fs, id: string, files: DavTarget, hosts: readonly string[]): Promise<void> {
  // A client that timed out waiting for a large assembly sends its MOVE again: that one gets the
  // first one's answer instead of a second assembly racing the first.
  const key = `${files.lockScope}\0${id}`;
  const answer = (result: WriteResult) => {
    setEntryHeaders(ctx, result.entry);
    emptyResponse(ctx, result.created ? 201 : 204);
  };
  const running = assembling.get(key);
  if (running) return answer(await running);
  const assembly = assemble(ctx, dav, uploads, id, files, hosts);
  assembling.set(key, assembly);
  try {
    finished.set(key, { path: parseDestination(ctx, files, hosts), result: await assembly });
  } catch (err) {
    const done = err instanceof NoUploadError ? finished.get(key) : undefined;
    if (done && done.path === parseDestination(ctx, files, hosts)) return answer(done.result);
    throw err;
  } finally {
    assembling.delete(key);
  }
}

/** Forgets a finished assembly of upload `id` in `lockScope`'s uploads (a MKCOL starts a new upload under that name). */
export function forgetAssembly(lockScope: string, id: string): void {
  finished.delete(`${lockScope}\0${id}`);
}

/** The upload folder a MOVE names does not exist. */
class NoUploadError extends NotFoundError {}

async function assemble(ctx: Context, dav: AssembleWriter, uploads: Fs, id: string, files: DavTarget, hosts: readonly string[]): Promise<WriteResult> {
  const folder = joinPath('/', id);
  let entries: Entry[];
  try {
    entries = await uploads.list(folder);
  } catch (err) {
    if (err instanceof NotFoundError) throw new NoUploadError(`no upload ${id}`);
    throw err;
  }
  const chunks = chunkOrder(entries.filter((e) => e.type === 'file'));
  if (chunks.length === 0) throw new BadRequestError('the upload has no chunks');
  const sum = chunks.reduce((n, c) => n + c.size, 0);
  const total = ctx.get('oc-total-length');
  if (total) {
    if (!/^\d{1,16}$/.test(total)) throw new BadRequestError('bad OC-Total-Length');
    if (Number(total) !== sum) throw new BadRequestError(`the chunks sum up to ${sum} bytes, not the ${total} announced`);
  }
  const destination = parseDestination(ctx, files, hosts);
  async function* concatenated(): AsyncGenerator<Buffer> {
    for (const c of chunks) {
      for await (const piece of await uploads.openRead(c.path)) yield piece as Buffer;
    }
  }
  const result = await dav.writeAssembled(ctx, files, destination, Readable.from(concatenated(), { objectMode: false }), sum);
  await uploads.remove(folder).catch(() => undefined);
  return result;
}
