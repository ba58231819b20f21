/**
 * What every DAV method handler receives: the Koa context, the target Fs and where it is
 * mounted in URL space, the decoded request path inside that Fs, the abort signal of the
 * request, and the lock tokens the client submitted.
 */
import type { Context } from 'koa';
import type { Entry, Fs } from '../fs/types.js';
import { encodeUrlPath } from '../fs/path.js';
import { NotFoundError } from '../errors.js';
import type { LockManager } from './locks.js';

export interface DavTarget {
  fs: Fs;
  /** URL path prefix (percent-encoded) of the Fs root, no trailing slash. */
  base: string;
  /** Lock namespace, e.g. 'user:alice', 'share:42'. */
  lockScope: string;
  user?: { name: string; displayName?: string };
}

export interface DavEnv {
  locks: LockManager;
  /** Largest XML request body, bytes. */
  xmlBodyBytes: number;
  /** Host names besides the request's Host that name this node (Destination headers). */
  hosts: readonly string[];
}

export interface DavRequest {
  ctx: Context;
  target: DavTarget;
  env: DavEnv;
  fs: Fs;
  /** Normalised path inside the Fs. */
  path: string;
  /** Aborted when the client goes away before the response is complete. */
  signal: AbortSignal;
  /** Lock tokens named in the If header. */
  tokens: Set<string>;
}

/** A user name as an href segment: percent-encoded, but `@` kept literal as sabre/dav does. */
export function encodeUserSegment(name: string): string {
  return encodeURIComponent(name).replace(/%40/g, '@');
}

/** The href of a path inside the target; folders get a trailing slash. */
export function hrefFor(target: DavTarget, path: string, isDir: boolean): string {
  // The root is a file only for a single-file share: its href is the base itself.
  if (path === '/') return isDir || !target.base ? target.base + '/' : target.base;
  return target.base + encodeUrlPath(path) + (isDir ? '/' : '');
}

/** The entry at `path`, or null when nothing is there (other errors propagate). */
export async function statOrNull(fs: Fs, path: string): Promise<Entry | null> {
  try {
    return await fs.stat(path);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

/** Throws LockedError unless the submitted tokens unlock a change at `path`. */
export function assertUnlocked(req: DavRequest, path: string, opts: { deep?: boolean; member?: boolean } = {}): void {
  req.env.locks.assertCanModify(req.target.lockScope, path, req.tokens, opts);
}

/** Sets the headers that identify an entry's current version. */
export function setEntryHeaders(ctx: Context, e: Entry): void {
  ctx.set('ETag', `"${e.etag}"`);
  ctx.set('OC-ETag', `"${e.etag}"`);
  ctx.set('OC-FileId', e.fileId);
}

/** Ends the response with `status` and an empty body (Koa would otherwise send the status text). */
export function emptyResponse(ctx: Context, status: number): void {
  ctx.status = status;
  ctx.body = '';
}
