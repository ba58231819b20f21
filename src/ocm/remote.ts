/**
 * HTTP calls from this node to other sites (discovery, invite-accepted, shares, notifications).
 * Timeouts come from config.remote; network failures become BadGatewayError, timeouts
 * GatewayTimeoutError — translated here, once. Response bodies are read up to a bound.
 */
import { Agent, request, errors as undiciErrors } from 'undici';
import { BadGatewayError, GatewayTimeoutError } from '../errors.js';
import type { MessageSigner } from './message-signatures.js';
import type { RequestSigner } from './signatures.js';

export interface RemoteResponse {
  status: number;
  /** The Location header of a redirect, if any. */
  location?: string;
  /** Body parsed as JSON when it is JSON, else undefined. */
  json: unknown;
  text: string;
}

export interface RemoteOptions {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Largest response body read (bytes). */
  maxResponseBytes?: number;
}

export class RemoteClient {
  private readonly agent: Agent;
  private readonly maxBytes: number;

  constructor(
    private readonly opts: RemoteOptions,
    /**
     * Sign every POST (OCM requests to other sites), when given: RFC 9421 (`rfc9421`) to a site
     * whose discovery lists `http-sig`, draft-cavage (`cavage`, Nextcloud's form) to the others.
     */
    private readonly signers?: { cavage: RequestSigner; rfc9421: MessageSigner },
  ) {
    this.agent = new Agent({
      connect: { timeout: opts.connectTimeoutMs },
      headersTimeout: opts.idleTimeoutMs,
      bodyTimeout: opts.idleTimeoutMs,
      keepAliveTimeout: 10_000,
    });
    this.maxBytes = opts.maxResponseBytes ?? 1024 * 1024;
  }

  /** GET a URL; throws BadGatewayError / GatewayTimeoutError when the site cannot be reached. */
  get(url: string, headers: Record<string, string> = {}): Promise<RemoteResponse> {
    return this.call('GET', url, undefined, headers);
  }

  /**
   * POST a JSON body to a site, signed when this client has signers: in the form `peer` (its
   * discovery) says it checks.
   */
  postJson(url: string, body: unknown, peer: { httpSig?: boolean } = {}): Promise<RemoteResponse> {
    return this.post(url, JSON.stringify(body), 'application/json', peer);
  }

  /** POST form fields (`application/x-www-form-urlencoded`: the code flow's token request), signed as postJson. */
  postForm(url: string, fields: Record<string, string>, peer: { httpSig?: boolean } = {}): Promise<RemoteResponse> {
    return this.post(url, new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', peer);
  }

  private async post(url: string, text: string, type: string, peer: { httpSig?: boolean }): Promise<RemoteResponse> {
    const signer = peer.httpSig ? this.signers?.rfc9421 : this.signers?.cavage;
    const signed = signer ? await signer.headers('POST', url, text) : {};
    return this.call('POST', url, text, { 'content-type': type, ...signed });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async call(method: 'GET' | 'POST', url: string, body: string | undefined, headers: Record<string, string>): Promise<RemoteResponse> {
    const origin = safeOrigin(url);
    let res;
    try {
      res = await request(url, {
        method,
        body,
        headers: { accept: 'application/json', 'user-agent': 'meshdav', ...headers },
        dispatcher: this.agent,
        // Redirects are not followed (undici's default): a peer cannot bounce us elsewhere.
        signal: AbortSignal.timeout(this.opts.connectTimeoutMs + this.opts.idleTimeoutMs),
      });
    } catch (err) {
      throw translate(err, origin);
    }
    let text: string;
    try {
      text = await readBounded(res.body, this.maxBytes);
    } catch (err) {
      throw translate(err, origin);
    }
    let json: unknown;
    try {
      json = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const location = res.headers.location;
    return { status: res.statusCode, json, text, ...(typeof location === 'string' ? { location } : {}) };
  }
}

async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    n += chunk.length;
    if (n > max) {
      body.destroy();
      throw new BadGatewayError('remote response too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'remote site';
  }
}

function translate(err: unknown, origin: string): Error {
  if (err instanceof BadGatewayError || err instanceof GatewayTimeoutError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  const timeout =
    err instanceof undiciErrors.ConnectTimeoutError ||
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    e?.name === 'TimeoutError' ||
    e?.code === 'ETIMEDOUT';
  if (timeout) return new GatewayTimeoutError(`${origin} did not answer in time`, { cause: err });
  const reason = e?.code ?? e?.message ?? 'connection failed';
  return new BadGatewayError(`cannot reach ${origin}: ${reason}`, { cause: err });
}
