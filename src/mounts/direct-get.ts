/**
 * DirectClient: HTTP/1.1 GETs whose body the socket reads straight into memory the caller
 * chooses (a cache slab), over kept-alive connections. It exists for one job, the mount cache's
 * content fetches: there a general client (undici) costs a fresh buffer per socket read, a copy
 * into its parser, a stream hop and then our copy into the slab, about 1 s of CPU per GiB in
 * all; reading with `onread` into the slab costs about a quarter of that (README, Design).
 *
 * Contracts:
 *   - `get` sends one GET and reads the response head; `check(head)` runs before any body byte
 *     reaches the target: true reads the body (framed by Content-Length only) into
 *     `target.region()` memory and emits `target.received(n)`'s pieces on the returned body,
 *     false (or a body framed otherwise) resolves without a body and closes the connection,
 *     a throw rejects with that error;
 *   - no byte is read past the response (reads are bounded by what is left of the body), so a
 *     connection is clean when its body ends and goes back to the idle pool unless the answer
 *     said `Connection: close`; bytes arriving on an idle connection close it;
 *   - the body follows its reader's backpressure (the socket stops reading while the body's
 *     buffer is full) and never ends short: a connection that closes, fails or stays silent
 *     for `idleTimeoutMs` while the body is read errors the body (mapped by `mapError`);
 *     the idle timer does not run while the reader holds the body paused;
 *   - connecting is bounded by `connectTimeoutMs`, waiting for the head by `idleTimeoutMs`;
 *     a kept-alive connection the server closed before answering is retried once on a new one;
 *   - aborting `signal` rejects the GET, or destroys its body, with the signal's reason.
 */
import { isIP, connect as netConnect, type OnReadOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Readable } from 'node:stream';
import { parseResponseHead, type ResponseHead } from './response-head.js';

export interface BodyTarget {
  /** Memory for the next bytes of the body: a non-empty view of at most `max` bytes, filled from its start. */
  region(max: number): Buffer;
  /**
   * The next `n` bytes of the last region (after those already received) were written: the piece
   * the body emits for them. A region may be received in several parts before the next is asked.
   */
  received(n: number): Buffer;
}

export interface DirectClientOptions {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** How long an idle connection is kept (default 30 s, less when the server says so). */
  keepAliveMs?: number;
  /** Idle connections kept per origin (default 8). */
  maxIdlePerOrigin?: number;
  /** Extra TLS options (a private CA in tests). */
  tls?: ConnectionOptions;
}

export interface DirectRequest {
  url: URL;
  headers: Record<string, string>;
  target: BodyTarget;
  /** Accepts the head (true: read the body); throws to reject the answer. */
  check(head: ResponseHead): boolean;
  signal?: AbortSignal;
  /** Maps a failure of the body (a closed or silent connection) to the error it is destroyed with. */
  mapError?: (err: Error) => Error;
}

export interface DirectResponse {
  head: ResponseHead;
  /** The body: its length is `head.length`. Undefined when `check` declined it or it is not framed by Content-Length. */
  body?: DirectBody;
}

/** The most a response head may take. */
const HEAD_MAX = 64 * 1024;
/** Body buffered in the stream before the socket stops reading. */
const BODY_BUFFER_BYTES = 256 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function failure(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The request's text; throws on a header that could split it. */
function requestText(url: URL, headers: Record<string, string>): string {
  let text = `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) throw new TypeError(`invalid request header ${JSON.stringify(name)}`);
    text += `${name}: ${value}\r\n`;
  }
  return text + 'connection: keep-alive\r\n\r\n';
}

export class DirectClient {
  private readonly idle = new Map<string, Conn[]>();
  private closed = false;
  /** GETs sent (retries included), and answers resolved without a body (left to the caller's other way). */
  readonly stats = { requests: 0, declined: 0 };

  constructor(readonly options: DirectClientOptions) {}

  /** True for URLs this client can fetch (http: and https:). */
  static handles(url: URL): boolean {
    return url.protocol === 'http:' || url.protocol === 'https:';
  }

  async get(req: DirectRequest): Promise<DirectResponse> {
    if (this.closed) throw new Error('the client is closed');
    req.signal?.throwIfAborted();
    const text = requestText(req.url, req.headers);
    return new Promise<DirectResponse>((resolve, reject) => {
      const attempt = (retried: boolean) => {
        const conn = this.acquire(req.url);
        this.stats.requests++;
        conn.start({ req, text, resolve, reject, retry: conn.reused && !retried ? () => attempt(true) : undefined });
      };
      attempt(false);
    });
  }

  /** Idle connections now kept (for tests and metrics). */
  idleConnections(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const c of list.splice(0)) c.destroy();
  }

  private acquire(url: URL): Conn {
    const list = this.idle.get(url.origin);
    for (let c = list?.pop(); c; c = list?.pop()) {
      if (c.usable()) {
        c.reused = true;
        return c;
      }
    }
    return new Conn(url, this);
  }

  /** A connection whose answer ended cleanly: kept for the next GET to its origin, or closed. */
  park(conn: Conn, origin: string): void {
    let list = this.idle.get(origin);
    if (!list) this.idle.set(origin, (list = []));
    if (this.closed || list.length >= (this.options.maxIdlePerOrigin ?? 8)) return conn.destroy();
    list.push(conn);
  }

  /** Forgets an idle connection that closed. */
  unpark(conn: Conn, origin: string): void {
    const list = this.idle.get(origin);
    const i = list?.indexOf(conn) ?? -1;
    if (i >= 0) list!.splice(i, 1);
  }
}

interface Pending {
  req: DirectRequest;
  text: string;
  resolve(res: DirectResponse): void;
  reject(err: Error): void;
  /** Sends the request again on a new connection (a reused one the server had closed). */
  retry?: () => void;
}

type State = 'idle' | 'head' | 'body' | 'closed';

/** One connection: its socket reads into the head buffer, or into the target while a body is read. */
class Conn {
  reused = false;
  private readonly socket: Socket;
  private readonly origin: string;
  private state: State = 'idle';
  private readonly head = Buffer.allocUnsafe(HEAD_MAX);
  private headLen = 0;
  private pending?: Pending;
  private body?: DirectBody;
  private target?: BodyTarget;
  private mapError?: (err: Error) => Error;
  /** Bytes of the body not read yet. */
  private remaining = 0;
  /** The target's memory being filled, and how much of it holds bytes not emitted yet. */
  private region?: Buffer;
  private used = 0;
  private flushQueued = false;
  private reusable = false;
  private paused = false;
  private connected = false;
  private keepAliveMs: number;
  private readonly onAbort = () => this.abort();

  constructor(
    url: URL,
    private readonly client: DirectClient,
  ) {
    this.origin = url.origin;
    const { options } = client;
    this.keepAliveMs = options.keepAliveMs ?? 30_000;
    const https = url.protocol === 'https:';
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port) || (https ? 443 : 80);
    const onread: OnReadOpts = { buffer: () => this.nextBuffer(), callback: (n: number) => this.onRead(n) !== false };
    // tls.connect takes every socket.connect() option (Node's docs), onread included; its types omit it.
    const tlsOptions: ConnectionOptions & { onread: OnReadOpts } = {
      ...options.tls,
      host,
      port,
      servername: isIP(host) ? undefined : host,
      ALPNProtocols: ['http/1.1'],
      onread,
    };
    this.socket = https ? tlsConnect(tlsOptions) : netConnect({ host, port, onread });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(options.connectTimeoutMs);
    this.socket.once(https ? 'secureConnect' : 'connect', () => {
      this.connected = true;
      this.armTimer();
    });
    this.socket.on('timeout', () => {
      if (this.state === 'idle') this.destroy();
      else this.fail(failure(this.connected ? 'the sharing site stopped answering' : 'connecting to the sharing site timed out', 'ETIMEDOUT'));
    });
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('end', () => this.fail(failure('the sharing site closed the connection', 'ECONNRESET')));
    this.socket.on('close', () => this.fail(failure('the connection to the sharing site closed', 'ECONNRESET')));
  }

  usable(): boolean {
    return this.state === 'idle' && !this.socket.destroyed && !this.socket.readableEnded;
  }

  start(p: Pending): void {
    this.pending = p;
    this.state = 'head';
    this.headLen = 0;
    this.socket.ref();
    this.armTimer();
    const { signal } = p.req;
    if (signal?.aborted) return this.abort(); // a retry after the caller gave up
    signal?.addEventListener('abort', this.onAbort, { once: true });
    this.socket.write(p.text);
  }

  /** Where the socket's next read goes (called by Node after every read, and once at the start). */
  private nextBuffer(): Buffer {
    if (this.state === 'body' && this.remaining > 0) {
      this.region ??= this.regionFor(this.remaining);
      if (this.region) return this.region.subarray(this.used);
      // The target takes no more: fail before the next read (never from inside Node's read path).
      queueMicrotask(() => this.fail(failure('the body does not fit the memory it is read into', 'EPROTO')));
    }
    // Head, idle or closed: the head buffer (full only in a failing head, whose socket is closed).
    return this.headLen < HEAD_MAX ? this.head.subarray(this.headLen) : this.head;
  }

  /** The target's memory for up to `max` more bytes; undefined if it gives none (or too much, or throws). */
  private regionFor(max: number): Buffer | undefined {
    try {
      const region = this.target!.region(max);
      return region.length > 0 && region.length <= max ? region : undefined;
    } catch {
      return undefined;
    }
  }

  private onRead(n: number): boolean | undefined {
    if (this.state === 'head') return this.onHead(n);
    if (this.state === 'body') return this.onBody(n);
    // Bytes nobody asked for: the connection is out of step.
    this.destroy();
    return false;
  }

  private onHead(n: number): false | undefined {
    const from = Math.max(0, this.headLen - 3);
    this.headLen += n;
    const end = this.head.subarray(0, this.headLen).indexOf('\r\n\r\n', from, 'latin1');
    if (end < 0) {
      if (this.headLen >= HEAD_MAX) this.fail(failure('the response head is too large', 'EPROTO'));
      return undefined;
    }
    const p = this.pending!;
    let head: ResponseHead;
    let wanted: boolean;
    try {
      head = parseResponseHead(this.head.toString('latin1', 0, end));
      wanted = head.length !== undefined && p.req.check(head);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    if (!wanted) {
      this.client.stats.declined++;
      this.finishRequest();
      this.destroy();
      p.resolve({ head });
      return false;
    }
    this.state = 'body';
    this.remaining = head.length!;
    this.reusable = head.reusable;
    this.keepAliveMs = keepAliveOf(head, this.client.options.keepAliveMs ?? 30_000);
    this.target = p.req.target;
    this.mapError = p.req.mapError;
    const body = (this.body = new DirectBody(this));
    // Body bytes that came with the head go in before the body is handed out (a failure here
    // rejects the GET: nobody listens to the body yet).
    const got = this.headLen;
    let at = end + 4;
    while (at < got && this.state === 'body') {
      const region = this.regionFor(Math.min(got - at, this.remaining));
      if (!region) {
        this.finishRequest();
        this.destroy();
        body.destroy();
        p.reject(failure('the body does not fit the memory it is read into', 'EPROTO'));
        return false;
      }
      const k = region.length;
      this.head.copy(region, 0, at, at + k);
      at += k;
      this.region = region;
      this.used = k;
      this.remaining -= k;
      this.flush();
    }
    // More than the body came with the head: the connection is out of step (its answer is complete).
    if (at < got && (this.state as State) === 'idle') this.destroy();
    p.resolve({ head, body });
    return this.state === 'body' && this.paused ? false : undefined;
  }

  /**
   * Reads that land in one region within one turn of the event loop leave as one piece (a TLS
   * socket delivers a 16 KiB record per read): emitted when the region is full, the body
   * complete, or the turn over.
   */
  private onBody(n: number): false | undefined {
    this.used += n;
    this.remaining -= n;
    if (this.used === this.region!.length || this.remaining === 0) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushLater);
    }
    return this.state === 'body' && this.paused ? false : undefined;
  }

  private readonly flushLater = (): void => {
    this.flushQueued = false;
    if (this.state !== 'body' || this.used === 0) return;
    this.flush();
    if (this.paused) this.socket.pause(); // outside a read callback: stop reading this way
  };

  /** Emits the bytes of the region not emitted yet; ends the body when it is complete. */
  private flush(): void {
    const n = this.used;
    this.used = 0;
    if (this.region && n === this.region.length) this.region = undefined;
    else this.region = this.region?.subarray(n);
    const piece = this.target!.received(n);
    const more = this.body!.push(piece);
    if (this.remaining === 0) return this.endBody();
    if (!more && !this.paused) {
      this.paused = true;
      this.socket.setTimeout(0);
    }
  }

  private endBody(): void {
    const body = this.body!;
    this.finishRequest();
    body.push(null);
    if (!this.reusable || this.keepAliveMs <= 0) return this.destroy();
    this.state = 'idle';
    this.headLen = 0;
    this.socket.unref();
    this.armTimer();
    this.client.park(this, this.origin);
  }

  /** The body's reader wants more. */
  resume(): void {
    if (!this.paused || this.state !== 'body') return;
    this.paused = false;
    this.armTimer();
    this.socket.resume();
  }

  /** The body was destroyed before it ended: the connection cannot be reused. */
  abandon(body: DirectBody): void {
    if (this.body !== body) return;
    this.finishRequest();
    this.destroy();
  }

  private abort(): void {
    const reason = this.pending?.req.signal?.reason as Error | undefined;
    this.fail(reason ?? new Error('aborted'), true);
  }

  /** The connection failed (or was aborted): whoever waits on it learns why; it is closed. */
  private fail(err: Error, aborted = false): void {
    const { state } = this;
    const p = this.pending;
    const body = this.body;
    const mapError = this.mapError;
    this.finishRequest();
    this.destroy();
    if (state === 'head' && p) {
      // A kept-alive connection the server closed before answering: one more try on a new one.
      const stale = !aborted && this.headLen === 0 && (err as { code?: string }).code !== 'ETIMEDOUT';
      if (stale && p.retry) p.retry();
      else p.reject(err);
    } else if (state === 'body' && body) {
      body.destroy(aborted || !mapError ? err : mapError(err));
    }
  }

  private finishRequest(): void {
    this.pending?.req.signal?.removeEventListener('abort', this.onAbort);
    this.pending = undefined;
    this.body = undefined;
    this.target = undefined;
    this.mapError = undefined;
    this.region = undefined;
    this.used = 0;
    this.paused = false;
  }

  private armTimer(): void {
    if (!this.connected) return;
    const { idleTimeoutMs } = this.client.options;
    this.socket.setTimeout(this.state === 'idle' ? this.keepAliveMs : this.paused ? 0 : idleTimeoutMs);
  }

  destroy(): void {
    if (this.state === 'closed') return;
    const wasIdle = this.state === 'idle';
    this.state = 'closed';
    if (wasIdle) this.client.unpark(this, this.origin);
    this.socket.destroy();
  }
}

/** `Keep-Alive: timeout=N` shortens how long an idle connection is kept (a second early). */
function keepAliveOf(head: ResponseHead, fallback: number): number {
  const m = /(?:^|,)\s*timeout=(\d+)/i.exec(head.fields.get('keep-alive') ?? '');
  return m ? Math.max(0, Math.min(fallback, Number(m[1]) * 1000 - 1000)) : fallback;
}

/** A response body read by a Conn; destroying it before its end closes the connection. */
export class DirectBody extends Readable {
  constructor(private readonly conn: Conn) {
    super({ highWaterMark: BODY_BUFFER_BYTES });
  }

  override _read(): void {
    this.conn.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.conn.abandon(this);
    cb(err);
  }
}
