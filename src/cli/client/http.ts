/**
 * The client's one door to the network: a WebDAV session against any server (meshdav or not),
 * over undici, with the login resolved once and sent pre-emptively. Bodies stream both ways;
 * nothing here buffers a file. Every failure becomes a CliError: one line saying what failed and
 * what to do, with an exit code from ../errors.ts.
 */
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { CliError } from '../errors.js';
import { basicAuth, resolveCredentials, type CredentialOptions, type Credentials } from './credentials.js';
import { httpFailure, networkFailure } from './failures.js';

export interface SessionOptions extends CredentialOptions {
  /** Accept any TLS certificate (self-signed test servers). */
  insecure?: boolean;
}

export interface DavResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer | Readable;
  /** Statuses that are not failures for this request (default: any 2xx). */
  ok?: (status: number) => boolean;
  signal?: AbortSignal;
}

export class DavSession {
  private constructor(
    readonly credentials: Credentials | undefined,
    private readonly dispatcher: Dispatcher | undefined,
  ) {}

  static async open(url: URL, opts: SessionOptions): Promise<DavSession> {
    const credentials = await resolveCredentials(url, opts);
    const dispatcher = opts.insecure ? new Agent({ connect: { rejectUnauthorized: false } }) : undefined;
    return new DavSession(credentials, dispatcher);
  }

  /**
   * Sends one request. Resolves with the open response when `ok(status)`; otherwise reads at most
   * a few KiB of the error body (for the server's reason) and throws a CliError.
   */
  async request(method: string, url: URL, opts: RequestOptions = {}): Promise<DavResponse> {
    const headers: Record<string, string> = { 'user-agent': 'meshdav-cli', ...opts.headers };
    if (this.credentials) headers.authorization = basicAuth(this.credentials);
    const ok = opts.ok ?? ((s: number) => s >= 200 && s < 300);
    let res: Dispatcher.ResponseData;
    for (let hops = 0; ; hops++) {
      try {
        res = await request(clean(url), {
          method: method as Dispatcher.HttpMethod,
          headers,
          body: opts.body,
          signal: opts.signal,
          dispatcher: this.dispatcher,
        });
      } catch (err) {
        throw networkFailure(err, url);
      }
      // Follow a redirect (e.g. "/folder" → "/folder/") on the same origin when the body can be sent again.
      const location = res.headers.location;
      if (ok(res.statusCode) || ![301, 302, 307, 308].includes(res.statusCode) || typeof location !== 'string') break;
      const next = new URL(location, url);
      const resendable = opts.body === undefined || typeof opts.body === 'string' || Buffer.isBuffer(opts.body);
      res.body.resume();
      if (next.origin !== url.origin || !resendable || hops >= 5) {
        throw new CliError(`${method} ${clean(url)}: ${res.statusCode} moved to ${clean(next)} — use that URL`, 1);
      }
      url = next;
    }
    if (ok(res.statusCode)) return { status: res.statusCode, headers: res.headers, body: res.body };
    const reason = await readReason(res.body);
    throw httpFailure({ method, url: clean(url), status: res.statusCode, reason, hasCredentials: Boolean(this.credentials) });
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}

/** The URL without user:password, as it is sent and shown. */
export function clean(url: URL): string {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  return u.href;
}

/** The server's reason from a small error body: DAV `<s:message>`, JSON `error`/`message`, or short plain text. */
async function readReason(body: Readable): Promise<string | undefined> {
  let text = '';
  try {
    for await (const chunk of body) {
      text += String(chunk);
      if (text.length > 8192) break;
    }
  } catch {
    return undefined;
  } finally {
    discard(body);
  }
  const xml = /<(?:\w+:)?message[^>]*>([^<]{1,300})</.exec(text);
  if (xml) return xml[1]!.trim();
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown };
    const m = typeof j.message === 'string' ? j.message : typeof j.error === 'string' ? j.error : undefined;
    if (m) return m.slice(0, 300);
  } catch {
    /* not JSON */
  }
  const plain = text.trim();
  return plain && !plain.startsWith('<') && plain.length <= 200 && !plain.includes('\n') ? plain : undefined;
}

/** Parses a URL argument; anything that is not an http(s) URL is a usage error. */
export function parseUrl(arg: string, what = 'URL'): URL {
  let url: URL;
  try {
    url = new URL(arg);
  } catch {
    throw new CliError(`"${arg}" is not a ${what} — give a full address like http://127.0.0.1:8080/remote.php/dav/files/alice/`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`"${arg}" is not an http(s) ${what} — give a full address like http://127.0.0.1:8080/remote.php/dav/files/alice/`, 2);
  }
  return url;
}

/** The last path segment of a URL, decoded ('' for a root). */
export function baseName(url: URL): string {
  const segs = url.pathname.split('/').filter(Boolean);
  return segs.length ? decodeURIComponent(segs[segs.length - 1]!) : '';
}

/** URL of `name` inside the folder URL `dir`. */
export function child(dir: URL, name: string): URL {
  const u = new URL(dir.href);
  u.pathname = u.pathname.replace(/\/?$/, '/') + encodeURIComponent(name);
  return u;
}

/** Drops a response body we will not read (undici reports the abort as an error; nobody needs it). */
export function discard(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}
