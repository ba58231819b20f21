/**
 * ownCloud "chunking v1" uploads, which Nextcloud desktop clients use for big files when the
 * server offers no chunking-NG: `PUT {name}-chunking-{transferId}-{count}-{index}` with
 * `OC-Chunked: 1`. Chunks are staged in the same Fs under STAGING (hidden from listings of the
 * root) and, once all `count` are there, streamed in order into one `fs.write` of `{name}` —
 * nothing is held in memory. The request that completes the set answers with the file's
 * ETag/OC-FileId; the others answer 201 without them. Staged transfers idle for a day are removed.
 */
import { Readable } from 'node:stream';
import type { Fs } from '../../fs/types.js';
import { baseName, joinPath, parentPath } from '../../fs/path.js';
import { AlreadyExistsError, BadRequestError, MethodNotAllowedError, NotFoundError } from '../../errors.js';
import { assertUnlocked, emptyResponse, setEntryHeaders, statOrNull, type DavRequest } from '../context.js';
import { STAGING } from '../../fs/hidden.js';

const CHUNK_NAME = /^(.+)-chunking-(\d{1,19})-(\d{1,5})-(\d{1,5})$/;
const MAX_CHUNKS = 10_000;
const STALE_MS = 24 * 3600 * 1000;

/** Transfers being assembled right now (Fs-scoped by lock scope), so only one request does it. */
const assembling = new Set<string>();

/** Only on a user's own namespace (target.user set): a share view must not grow a staging folder. */
export function isChunkedV1(req: DavRequest): boolean {
  return req.target.user !== undefined && req.ctx.get('oc-chunked') === '1' && CHUNK_NAME.test(baseName(req.path));
}

async function mkdirIfMissing(fs: Fs, path: string): Promise<void> {
  try {
    await fs.mkdir(path);
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
  }
}

async function removeStale(fs: Fs): Promise<void> {
  const now = Date.now();
  for (const e of await fs.list(STAGING).catch(() => [])) {
    if (now - e.mtime > STALE_MS) await fs.remove(e.path).catch(() => undefined);
  }
}

export async function putChunkV1(req: DavRequest, write: { mtime?: number; checksum?: string; signal: AbortSignal }): Promise<void> {
  const { ctx, fs, path } = req;
  const m = CHUNK_NAME.exec(baseName(path))!;
  const [, name, transferId, countRaw, indexRaw] = m;
  const count = Number(countRaw);
  const index = Number(indexRaw);
  if (count < 1 || count > MAX_CHUNKS || index >= count) throw new BadRequestError('bad chunk number');
  const target = joinPath(parentPath(path), name!);
  const existing = await statOrNull(fs, target);
  if (existing?.type === 'dir') throw new MethodNotAllowedError('PUT on a collection');
  const parent = await fs.stat(parentPath(target));
  if (parent.type !== 'dir') throw new NotFoundError('parent is not a folder');
  assertUnlocked(req, target, { member: !existing });

  await mkdirIfMissing(fs, STAGING);
  if (index === 0) await removeStale(fs);
  const dir = joinPath(STAGING, `${transferId}-${count}`);
  await mkdirIfMissing(fs, dir);
  const rawLength = ctx.get('content-length');
  await fs.write(joinPath(dir, String(index)), ctx.req, { size: rawLength ? Number(rawLength) : undefined, signal: write.signal });

  const present = new Set((await fs.list(dir)).map((e) => e.name));
  const complete = present.size === count && Array.from({ length: count }, (_, i) => String(i)).every((n) => present.has(n));
  const key = `${req.target.lockScope}\0${dir}`;
  if (!complete || assembling.has(key)) {
    emptyResponse(ctx, 201);
    return;
  }
  assembling.add(key);
  try {
    async function* concatenated(): AsyncGenerator<Buffer> {
      for (let i = 0; i < count; i++) {
        for await (const chunk of await fs.openRead(joinPath(dir, String(i)), { signal: write.signal })) yield chunk as Buffer;
      }
    }
    const total = ctx.get('oc-total-length');
    const result = await fs.write(target, Readable.from(concatenated()), {
      mtime: write.mtime,
      checksum: write.checksum,
      size: total && /^\d+$/.test(total) ? Number(total) : undefined,
      signal: write.signal,
    });
    await fs.remove(dir);
    if ((await fs.list(STAGING)).length === 0) await fs.remove(STAGING).catch(() => undefined);
    setEntryHeaders(ctx, result.entry);
    if (write.mtime !== undefined) ctx.set('X-OC-MTime', 'accepted');
    emptyResponse(ctx, result.created ? 201 : 204);
  } finally {
    assembling.delete(key);
  }
}
