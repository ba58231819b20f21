/**
 * RemoteFs: the Fs contract over a remote WebDAV endpoint (an OCM share of another site, or any
 * WebDAV server). Knows nothing of caching; CachedFs wraps it.
 *
 * Contracts:
 *   - every request goes through one undici dispatcher (keep-alive pool per origin) whose
 *     connect, header and body timeouts bound it; the caller's AbortSignal aborts it;
 *   - content is never buffered: openRead returns the response body, write streams the request
 *     body; a sender dying mid-body errors the returned stream (never a short, clean end);
 *   - a Range answered with 206 must carry a matching Content-Range; a 200 is accepted only
 *     when the range covered the whole object (rclone's rule); with `ifMatch`, an answer whose
 *     ETag differs fails with PreconditionFailedError;
 *   - auth `secret`: `Bearer <secret>`, on 401 once `Basic secret:`; what works is remembered
 *     (and reported through onAuthMode); bodies that cannot be replayed are sent only after a
 *     PROPFIND has settled the mode; with access tokens (the code flow, `token`) the token is
 *     sent as Bearer instead, and a 401 gets one retry with a renewed token; the sender refusing
 *     the secret at its token endpoint counts as a revocation;
 *   - failures are mapped by classifyRemoteFailure (remote-errors.ts); once revoked, every call
 *     throws ShareRevokedError without contacting the sender, and onRevoked runs once.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import {
  BadGatewayError,
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  ServiceUnavailableError,
  UnauthorizedError,
  type MeshdavError,
} from '../errors.js';
import { baseName, encodeUrlPath, normalizePath, parentPath } from '../fs/path.js';
import {
  Perm,
  type Copier,
  type Entry,
  type Fs,
  type Mover,
  type ReadOptions,
  type RemoteOrigin,
  type TransferOptions,
  type TransferResult,
  type WriteOptions,
  type WriteResult,
} from '../fs/types.js';
import { PROPFIND_BODY, parseMultistatus, type RemoteResource } from './multistatus.js';
import { ShareRevokedError, classifyRemoteFailure, isAbort, isShareRevoked, type RemoteFailure } from './remote-errors.js';
import { DirectClient, type BodyTarget } from './direct-get.js';
import type { TokenSource } from './exchanged-token.js';
import { checkAnswer, discard, headerOf, iterate, mapBodyError, readBounded, readHeaders, withMappedErrors } from './remote-http.js';

export type RemoteAuth =
  /**
   * OCM shared secret: Bearer first, then Basic with the secret as user name and an empty
   * password. `exchangeToken`: the sender requires the code flow; the secret is only exchanged
   * for access tokens (RemoteFsOptions.token), which are sent as Bearer instead.
   */
  | { kind: 'secret'; secret: string; exchangeToken?: boolean }
  /** Plain Basic user:password (a WebDAV home or any server with accounts). */
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'none' };

export type AuthMode = 'bearer' | 'basic';

export interface RemoteFsOptions {
  /** Absolute URL of the remote root (the share), without a trailing slash. */
  url: string;
  auth: RemoteAuth;
  dispatcher: Dispatcher;
  /** Mode learnt earlier for this share. */
  authMode?: AuthMode;
  onAuthMode?: (mode: AuthMode) => void;
  /** Called once when the sender no longer grants the share. */
  onRevoked?: (reason: string) => void;
  /** Sender's OCM discovery URL; a 404 on the root counts as revocation only while it answers. */
  discoveryUrl?: string;
  /** Upper bound of the permissions of every entry (the share's permissions). */
  permissions?: number;
  /** Set as `entry.remote` on every entry. */
  origin?: RemoteOrigin;
  /** Client for `openReadInto` (ranged GETs read straight into the caller's memory). */
  direct?: DirectClient;
  /** Access tokens to send as Bearer instead of the secret (auth `exchangeToken`: the code flow). */
  token?: TokenSource;
}

/** A body opened by `openReadInto`: `direct` when its bytes were read into the target (then `length` is theirs). */
export interface BodyInto {
  stream: Readable;
  direct: boolean;
  length?: number;
}

const MAX_MULTISTATUS_BYTES = 64 * 1024 * 1024;

export { createRemoteAgent } from './remote-http.js';

interface SendOptions {
  headers?: Record<string, string>;
  body?: string | Readable;
  signal?: AbortSignal;
  /** Statuses that are answers, not failures. Default: any 2xx. */
  ok?: (status: number) => boolean;
}

export class RemoteFs implements Fs, Mover, Copier {
  readonly url: string;
  private readonly basePath: string;
  private authMode: AuthMode;
  private authSettled: boolean;
  private revokedError?: ShareRevokedError;

  constructor(private readonly options: RemoteFsOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.basePath = decodeURIComponent(new URL(this.url).pathname).replace(/\/+$/, '');
    this.authMode = options.authMode ?? 'bearer';
    this.authSettled = options.auth.kind !== 'secret' || options.authMode !== undefined || options.token !== undefined;
  }

  get revoked(): boolean {
    return this.revokedError !== undefined;
  }

  async stat(path: string): Promise<Entry> {
    const p = normalizePath(path);
    const [self] = await this.propfind(p, '0');
    if (!self) throw new BadGatewayError('empty PROPFIND answer from the sharing site');
    return self;
  }

  async list(path: string): Promise<Entry[]> {
    const p = normalizePath(path);
    const all = await this.propfind(p, '1');
    const self = all.find((e) => e.path === p);
    if (self && self.type !== 'dir') throw new ConflictError('not a folder');
    return all.filter((e) => e.path !== p);
  }

  async openRead(path: string, options: ReadOptions & { ifMatch?: string } = {}): Promise<Readable> {
    const p = normalizePath(path);
    const res = await this.send('GET', p, { headers: readHeaders(options), signal: options.signal });
    const body = res.body as unknown as Readable;
    try {
      checkAnswer(res.statusCode, (name) => headerOf(res, name), options);
    } catch (err) {
      discard(body);
      throw err;
    }
    return withMappedErrors(body);
  }

  /**
   * A ranged openRead whose body is read straight into `target`'s memory, with the same checks
   * (Content-Range, If-Match and the answer's ETag) and error mapping. Answers it cannot read that
   * way (another status, a body not framed by Content-Length), a read without a range, an auth
   * mode not settled yet, or no direct client: the GET goes through openRead instead.
   */
  async openReadInto(path: string, options: ReadOptions & { ifMatch?: string }, target: BodyTarget): Promise<BodyInto> {
    const p = normalizePath(path);
    const { range } = options;
    const direct = this.options.direct;
    const url = new URL(this.urlOf(p));
    if (!direct || !range || !this.authSettled || !DirectClient.handles(url)) {
      return { stream: await this.openRead(p, options), direct: false };
    }
    if (this.revokedError) throw this.revokedError;
    const headers = readHeaders(options);
    const authorization = await this.authorization(this.authMode);
    if (authorization) headers.authorization = authorization;
    let res;
    try {
      res = await direct.get({
        url,
        headers,
        target,
        signal: options.signal,
        mapError: mapBodyError,
        check: (head) => {
          if (head.status !== 200 && head.status !== 206) return false;
          if (checkAnswer(head.status, (name) => head.fields.get(name), options) !== head.length) {
            throw new BadGatewayError('Content-Length does not match Content-Range');
          }
          return true;
        },
      });
    } catch (err) {
      if (isAbort(err) || options.signal?.aborted) throw err;
      throw await this.fail({ kind: 'network', cause: err });
    }
    // Any other answer is fetched again the general way, which maps it (auth, revocation, 412, 416…).
    if (!res.body) return { stream: await this.openRead(p, options), direct: false };
    return { stream: res.body, direct: true, length: res.head.length };
  }

  async write(path: string, body: Readable, options: WriteOptions = {}): Promise<WriteResult> {
    const p = normalizePath(path);
    if (!this.authSettled) await this.stat('/');
    // Checked here as well: not every server honours If-Match / If-None-Match on PUT.
    if (options.ifMatch || options.ifNoneMatch) await this.checkPreconditions(p, options);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (options.ifMatch) headers['if-match'] = options.ifMatch === '*' ? '*' : `"${options.ifMatch}"`;
    if (options.ifNoneMatch) headers['if-none-match'] = '*';
    if (options.mtime !== undefined) headers['x-oc-mtime'] = String(Math.floor(options.mtime / 1000));
    if (options.size !== undefined) headers['content-length'] = String(options.size);
    if (options.checksum) headers['oc-checksum'] = options.checksum;
    // undici destroys a stream body once sent; the caller's stream (often the client's request)
    // is handed over as an iterable so that its socket stays the caller's.
    const res = await this.send('PUT', p, { headers, body: Readable.from(iterate(body), { objectMode: false }), signal: options.signal });
    await res.body.dump();
    return { entry: await this.stat(p), created: res.statusCode === 201 };
  }

  async mkdir(path: string): Promise<Entry> {
    const p = normalizePath(path);
    const res = await this.send('MKCOL', p, {});
    await res.body.dump();
    return this.stat(p);
  }

  async remove(path: string): Promise<void> {
    const res = await this.send('DELETE', normalizePath(path), {});
    await res.body.dump();
  }

  move(from: string, to: string, options: TransferOptions): Promise<TransferResult> {
    return this.transfer('MOVE', from, to, options, {});
  }

  copy(from: string, to: string, options: TransferOptions & { depth?: 0 | 'infinity' }): Promise<TransferResult> {
    return this.transfer('COPY', from, to, options, { depth: options.depth === 0 ? '0' : 'infinity' });
  }

  private async transfer(
    method: 'MOVE' | 'COPY',
    from: string,
    to: string,
    options: TransferOptions,
    headers: Record<string, string>,
  ): Promise<TransferResult> {
    const dst = normalizePath(to);
    // RFC 4918 semantics checked here too: some servers ignore Overwrite: F, Depth: 0 and missing parents.
    const source = await this.stat(from);
    const parent = await this.statOrNull(parentPath(dst));
    if (!parent || parent.type !== 'dir') throw new ConflictError('destination folder does not exist');
    const existing = await this.statOrNull(dst);
    if (existing && !options.overwrite) throw new PreconditionFailedError('destination exists');
    if (method === 'COPY' && headers.depth === '0' && source.type === 'dir') {
      if (existing) await this.remove(dst);
      return { entry: await this.mkdir(dst), replaced: existing !== null };
    }
    const res = await this.send(method, normalizePath(from), {
      headers: { ...headers, destination: this.urlOf(dst), overwrite: options.overwrite ? 'T' : 'F' },
      signal: options.signal,
    });
    await res.body.dump();
    return { entry: await this.stat(dst), replaced: existing !== null || res.statusCode === 204 };
  }

  private async statOrNull(path: string): Promise<Entry | null> {
    try {
      return await this.stat(path);
    } catch (err) {
      if (err instanceof NotFoundError && !isShareRevoked(err)) return null;
      throw err;
    }
  }

  private async checkPreconditions(path: string, options: WriteOptions): Promise<void> {
    const current = await this.statOrNull(path);
    if (options.ifNoneMatch && current) throw new PreconditionFailedError('the file exists');
    if (options.ifMatch && (!current || (options.ifMatch !== '*' && current.etag !== options.ifMatch))) {
      throw new PreconditionFailedError('the file changed');
    }
  }

  private async propfind(path: string, depth: '0' | '1'): Promise<Entry[]> {
    const res = await this.send('PROPFIND', path, {
      headers: { depth, 'content-type': 'application/xml; charset=utf-8' },
      body: PROPFIND_BODY,
      ok: (s) => s === 207,
    });
    let xml: string;
    try {
      xml = await readBounded(res.body, MAX_MULTISTATUS_BYTES);
    } catch (err) {
      if (isAbort(err)) throw err;
      throw await this.fail({ kind: 'network', cause: err });
    }
    const entries: Entry[] = [];
    for (const r of parseMultistatus(xml)) {
      const entry = this.toEntry(r);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  private toEntry(r: RemoteResource): Entry | undefined {
    if (r.hrefPath !== this.basePath && !r.hrefPath.startsWith(this.basePath + '/')) return undefined;
    let path: string;
    try {
      path = normalizePath(r.hrefPath.slice(this.basePath.length));
    } catch {
      return undefined;
    }
    const type = r.isDir ? 'dir' : 'file';
    const size = r.size ?? 0;
    const mtime = r.mtime ?? 0;
    const fallbackPerm = type === 'dir' ? Perm.ALL : Perm.ALL & ~Perm.CREATE;
    const entry: Entry = {
      path,
      name: path === '/' ? '' : baseName(path),
      type,
      size,
      mtime,
      etag: r.etag ?? `${size.toString(16)}-${mtime.toString(16)}`,
      fileId: r.fileId ?? 'remote-' + createHash('sha1').update(this.url + '\0' + path).digest('hex').slice(0, 24),
      mime: type === 'dir' ? 'httpd/unix-directory' : (r.mime ?? 'application/octet-stream'),
      permissions: (r.permissions ?? fallbackPerm) & (this.options.permissions ?? Perm.ALL),
    };
    if (r.checksums) entry.checksums = r.checksums;
    if (this.options.origin) entry.remote = this.options.origin;
    return entry;
  }

  private urlOf(path: string): string {
    // The root is the share URL itself (a file share has no trailing slash).
    if (path === '/') return this.basePath === '' ? this.url + '/' : this.url;
    return this.url + encodeUrlPath(path);
  }

  /** The Authorization header for `mode`: an access token when the share has one (the code flow). */
  private async authorization(mode: AuthMode): Promise<string | undefined> {
    const token = this.options.token;
    if (!token) return this.authHeader(mode);
    try {
      return `Bearer ${await token.get()}`;
    } catch (err) {
      throw await this.tokenFailure(err);
    }
  }

  /** An exchange that failed: the sender refusing the secret is a revocation; anything else is passed on. */
  private async tokenFailure(err: unknown): Promise<Error> {
    if (err instanceof UnauthorizedError) return this.fail({ kind: 'status', status: 401, method: 'POST', isRoot: true });
    return err as Error;
  }

  private authHeader(mode: AuthMode): string | undefined {
    const auth = this.options.auth;
    if (auth.kind === 'none') return undefined;
    if (auth.kind === 'basic') return 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
    return mode === 'bearer' ? `Bearer ${auth.secret}` : 'Basic ' + Buffer.from(`${auth.secret}:`).toString('base64');
  }

  /** One request, with the auth fallback; a non-answer status is consumed and thrown as a mapped error. */
  private async send(method: string, path: string, opts: SendOptions): Promise<Dispatcher.ResponseData> {
    if (this.revokedError) throw this.revokedError;
    const replayable = typeof opts.body !== 'object';
    const canFallback = this.options.auth.kind === 'secret' && !this.authSettled && replayable;
    const modes: AuthMode[] = canFallback ? [this.authMode, this.authMode === 'bearer' ? 'basic' : 'bearer'] : [this.authMode];
    // With access tokens: one more try with a new token when the sender refuses the one sent.
    if (this.options.token && replayable) modes.push(this.authMode);
    for (let i = 0; i < modes.length; i++) {
      const mode = modes[i]!;
      const headers: Record<string, string> = { ...opts.headers };
      let authorization = await this.authorization(mode);
      if (i > 0 && this.options.token) {
        try {
          authorization = `Bearer ${await this.options.token.renew(authorization!.slice('Bearer '.length))}`;
        } catch (err) {
          throw await this.tokenFailure(err);
        }
      }
      if (authorization) headers.authorization = authorization;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(this.urlOf(path), {
          method: method as Dispatcher.HttpMethod,
          headers,
          body: opts.body,
          signal: opts.signal,
          dispatcher: this.options.dispatcher,
        });
      } catch (err) {
        if (isAbort(err) || opts.signal?.aborted) throw err;
        throw await this.fail({ kind: 'network', cause: err });
      }
      const status = res.statusCode;
      if (opts.ok ? opts.ok(status) : status >= 200 && status < 300) {
        if (!this.authSettled && this.options.auth.kind === 'secret') {
          this.authSettled = true;
          this.authMode = mode;
          this.options.onAuthMode?.(mode);
        }
        return res;
      }
      await res.body.dump().catch(() => undefined);
      if (status === 401 && i + 1 < modes.length) continue;
      throw await this.fail({ kind: 'status', status, method, isRoot: path === '/' });
    }
    throw new BadGatewayError('no authentication mode accepted');
  }

  private async fail(failure: RemoteFailure): Promise<MeshdavError> {
    const verdict = classifyRemoteFailure(failure);
    if ('error' in verdict) return verdict.error;
    if (verdict.revoked === 'probe' && !(await this.discoveryAnswers())) {
      return new ServiceUnavailableError('the share root is missing and the sharing site does not answer discovery');
    }
    return this.markRevoked(failure.kind === 'status' ? `status ${failure.status}` : 'network');
  }

  private markRevoked(reason: string): ShareRevokedError {
    if (!this.revokedError) {
      this.revokedError = new ShareRevokedError();
      try {
        this.options.onRevoked?.(reason);
      } catch {
        /* a failing listener does not change the verdict */
      }
    }
    return this.revokedError;
  }

  private async discoveryAnswers(): Promise<boolean> {
    const url = this.options.discoveryUrl ?? new URL('/.well-known/ocm', this.url).toString();
    try {
      const res = await request(url, { method: 'GET', headers: { accept: 'application/json' }, dispatcher: this.options.dispatcher });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      return false;
    }
  }
}
