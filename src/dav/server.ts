/**
 * The WebDAV protocol engine: one `serve()` for any Fs mounted at a URL prefix (a user's home, a
 * share's scoped view, a mounted remote). Knows HTTP, XML and the Fs interface only.
 *
 * Contract: sets `ctx.state.dav` so errors render as `<d:error>`; dispatches by method to
 * `methods/*.ts`; a method this engine does not know gets 405 with `Allow`.
 */
import type { Context } from 'koa';
import type { Readable } from 'node:stream';
import type { WriteResult } from '../fs/types.js';
import { decodeUrlPath, isWithin, relativeTo } from '../fs/path.js';
import { BadRequestError, MethodNotAllowedError, NotFoundError, PreconditionFailedError } from '../errors.js';
import { evaluateIf, parseIfHeader, submittedTokens } from './conditional.js';
import { statOrNull, type DavEnv, type DavRequest, type DavTarget } from './context.js';
import { resolveUrl } from './destination.js';
import { LockManager } from './locks.js';
import { ALLOW, options } from './methods/options.js';
import { propfind } from './methods/propfind.js';
import { proppatch } from './methods/proppatch.js';
import { get, head } from './methods/get.js';
import { put, storeFile, writeFile } from './methods/put.js';
import type { PartWriter } from './nextcloud/bulk-upload.js';
import { mkcol } from './methods/mkcol.js';
import { del } from './methods/delete.js';
import { copy, move } from './methods/copy-move.js';
import { lock } from './methods/lock.js';
import { unlock } from './methods/unlock.js';

export type { DavTarget } from './context.js';

/** Aborted when the client goes away before the response is complete. */
function abortOnClose(ctx: Context): AbortSignal {
  const controller = new AbortController();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}

export { ALLOW } from './methods/options.js';

type Handler = (req: DavRequest) => Promise<void>;

const HANDLERS: Record<string, Handler> = {
  OPTIONS: options,
  PROPFIND: propfind,
  PROPPATCH: proppatch,
  GET: get,
  HEAD: head,
  PUT: put,
  MKCOL: mkcol,
  DELETE: del,
  COPY: copy,
  MOVE: move,
  LOCK: lock,
  UNLOCK: unlock,
};

export interface DavServerOptions {
  limits: { xmlBodyBytes: number };
  /** This node's public URL: its host name is accepted in Destination headers besides the request's Host. */
  publicUrl?: string;
}

export class DavServer {
  readonly locks = new LockManager();
  private readonly env: DavEnv;

  constructor(options: DavServerOptions) {
    this.env = {
      locks: this.locks,
      xmlBodyBytes: options.limits.xmlBodyBytes,
      hosts: options.publicUrl ? [new URL(options.publicUrl).hostname] : [],
    };
  }

  /** Host names besides the request's Host that name this node (Destination headers). */
  get hosts(): readonly string[] {
    return this.env.hosts;
  }

  /** Answers the request for the resource `ctx.path` names below `target.base`. */
  async serve(ctx: Context, target: DavTarget): Promise<void> {
    ctx.state.dav = true;
    ctx.set('DAV', '1, 2');
    const handler = HANDLERS[ctx.method];
    if (!handler) throw new MethodNotAllowedError(`${ctx.method} is not supported here`, { headers: { Allow: ALLOW } });
    if (ctx.req.url?.includes('#')) throw new BadRequestError('a Request-URI must not contain a fragment');
    const full = decodeUrlPath(ctx.path);
    const base = decodeUrlPath(target.base || '/');
    if (!isWithin(full, base)) throw new NotFoundError('outside this collection');
    await handler(await this.request(ctx, target, relativeTo(full, base)));
  }

  /**
   * The end of a chunked upload (chunked-ng.ts): `body` written to `path` of `target` as a PUT
   * there would be (the request's If headers, locks, X-OC-Mtime, OC-Checksum), answered 201/204.
   */
  async writeAssembled(ctx: Context, target: DavTarget, path: string, body: Readable, size: number | undefined): Promise<WriteResult> {
    ctx.state.dav = true;
    return writeFile(await this.request(ctx, target, path), body, size);
  }

  /**
   * Writes for the parts of one bulk upload (nextcloud/bulk-upload.ts) to paths of `target`: each
   * a PUT of that file would be (a folder in the way, locks, the Fs's checks), sharing one abort
   * signal. No If header applies (it would name no single path).
   */
  bulkWriter(ctx: Context, target: DavTarget): PartWriter {
    const signal = abortOnClose(ctx);
    return (path, body, opts) => storeFile({ ctx, target, env: this.env, fs: target.fs, path, signal, tokens: new Set() }, body, opts);
  }

  /** The request on `path` of `target`, with its If header evaluated and lock tokens taken. */
  private async request(ctx: Context, target: DavTarget, path: string): Promise<DavRequest> {
    const req: DavRequest = { ctx, target, env: this.env, fs: target.fs, path, signal: abortOnClose(ctx), tokens: new Set() };
    const ifHeader = ctx.get('if');
    if (ifHeader) {
      const lists = parseIfHeader(ifHeader);
      req.tokens = submittedTokens(lists);
      const ok = await evaluateIf(lists, path, {
        pathOf: (tag) => {
          const r = resolveUrl(ctx, target, tag, { anyAuthority: true });
          return r.kind === 'ok' ? r.path : null;
        },
        etagOf: async (p) => (await statOrNull(target.fs, p))?.etag ?? null,
        tokenCovers: (token, p) => this.locks.tokenCovers(target.lockScope, token, p),
      });
      if (!ok) throw new PreconditionFailedError('If header conditions failed');
    }
    return req;
  }
}
