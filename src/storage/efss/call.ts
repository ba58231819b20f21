/** What every EFSS verb handler receives, and small helpers they share. */
import type { Context } from 'koa';
import type { Services } from '../../services.js';
import type { Fs } from '../../fs/types.js';
import { ForbiddenError, AlreadyExistsError, NotFoundError } from '../../errors.js';
import { parentPath } from '../../fs/path.js';
import type { Owner } from './resource.js';

export interface EfssCall {
  ctx: Context;
  services: Services;
  /** The `~{uid}` of the URL, decoded. */
  uid: string;
  /** Everything after the verb (`Upload/home/a/b` → `home/a/b`), still percent-encoded. */
  tail: string;
  /** Largest JSON body accepted. */
  jsonLimit: number;
}

export interface StorageCall extends EfssCall {
  /** The user's whole namespace (home with received shares overlaid). */
  fs: Fs;
  owner: Owner;
}

export type Handler<C extends EfssCall = EfssCall> = (call: C) => Promise<void>;

export interface Verb<C extends EfssCall = EfssCall> {
  method: 'GET' | 'POST' | 'PUT';
  /** true when the verb takes a path after its name (`Upload/home/…`). */
  tail?: boolean;
  handler: Handler<C>;
}

/** A success without a body reva reads. */
export function done(ctx: Context, status = 200): void {
  ctx.status = status;
  ctx.body = '';
}

export function json(ctx: Context, body: unknown, status = 200): void {
  ctx.status = status;
  ctx.body = body;
}

/** The ability if the Fs has it; ForbiddenError otherwise (e.g. no versions inside a remote share). */
export function need<T extends Fs>(fs: Fs, guard: (fs: Fs) => fs is T, what: string): T {
  if (!guard(fs)) throw new ForbiddenError(`${what} is not supported on this storage`);
  return fs;
}

/** Creates every missing ancestor folder of `path` (`mkdir -p` of its parent). */
export async function ensureParents(fs: Fs, path: string): Promise<void> {
  const parent = parentPath(path);
  if (parent === '/') return;
  try {
    const e = await fs.stat(parent);
    if (e.type === 'dir') return;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
  await ensureParents(fs, parent);
  try {
    await fs.mkdir(parent);
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
  }
}

/** An AbortSignal that fires when the client goes away before the exchange is complete. */
export function requestSignal(ctx: Context): AbortSignal {
  const ac = new AbortController();
  ctx.req.once('close', () => {
    if (!ctx.req.complete) ac.abort(new Error('client went away'));
  });
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) ac.abort(new Error('client went away'));
  });
  return ac.signal;
}
