/**
 * HTTP helpers of RemoteFs: the dispatcher, rclone's Content-Range rule, bounded and discarded
 * bodies, and response bodies whose failures are mapped by classifyRemoteFailure.
 */
import { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { BadGatewayError, PreconditionFailedError, RangeNotSatisfiableError } from '../errors.js';
import { classifyRemoteFailure, isAbort } from './remote-errors.js';

/** A keep-alive dispatcher (one pool per origin) bounded by the node's remote timeouts. */
export function createRemoteAgent(remote: { connectTimeoutMs: number; idleTimeoutMs: number }): Agent {
  return new Agent({
    connect: { timeout: remote.connectTimeoutMs },
    headersTimeout: remote.idleTimeoutMs,
    bodyTimeout: remote.idleTimeoutMs,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
  });
}

export async function* iterate(stream: Readable): AsyncGenerator<Buffer> {
  for await (const chunk of stream) yield chunk as Buffer;
}

/** How much of a response body is buffered ahead of its reader. */
const BODY_BUFFER_BYTES = 256 * 1024;

/**
 * The body, whose failures (a body timeout, a reset) surface as typed errors; aborts pass as they
 * are. Pieces are forwarded as received (no copy, no per-piece promise), paced by the reader:
 * the body is paused while BODY_BUFFER_BYTES wait; destroying the result destroys the body.
 */
export function withMappedErrors(body: Readable): Readable {
  const out = new Readable({
    highWaterMark: BODY_BUFFER_BYTES,
    read() {
      body.resume();
    },
    destroy(err, cb) {
      body.off('error', onError);
      body.on('error', () => undefined);
      body.destroy();
      cb(err);
    },
  });
  const onError = (err: Error) => out.destroy(mapBodyError(err));
  body.on('data', (piece: Buffer) => {
    if (!out.push(piece)) body.pause();
  });
  body.once('end', () => out.push(null));
  body.once('error', onError);
  return out;
}

/** The error a response body fails with: aborts as they are, anything else mapped (a timeout, a reset). */
export function mapBodyError(err: Error): Error {
  if (isAbort(err)) return err;
  const verdict = classifyRemoteFailure({ kind: 'network', cause: err });
  return 'error' in verdict ? verdict.error : err;
}

/** Drops a response body we will not read (the connection is not reused). */
export function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

export function headerOf(res: Dispatcher.ResponseData, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function stripEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/**
 * rclone's CheckContentRange: 206 must match; 200 only when the request covered the whole object.
 * `header` looks a response header up by lower-case name. Returns how many bytes the answer
 * covers (the Content-Range's span for 206; the Content-Length, if any, for 200).
 */
export function checkRange(status: number, header: (name: string) => string | undefined, range: { start: number; end?: number }): number | undefined {
  if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header('content-range') ?? '');
    if (!m) throw new BadGatewayError('206 answer without a valid Content-Range');
    const start = Number(m[1]);
    const end = Number(m[2]);
    const total = m[3] === '*' ? undefined : Number(m[3]);
    if (end < start) throw new RangeNotSatisfiableError();
    // Without a total the server may end early only at the end of the file: accept end ≤ requested.
    const endOk =
      total !== undefined
        ? end === Math.min(range.end ?? total - 1, total - 1)
        : range.end === undefined || end <= range.end;
    if (start !== range.start || !endOk) throw new BadGatewayError('Content-Range does not match the requested range');
    return end - start + 1;
  }
  const length = Number(header('content-length') ?? NaN);
  const whole = range.start === 0 && (range.end === undefined || (Number.isFinite(length) && range.end >= length - 1));
  if (!whole) throw new BadGatewayError('the sharing site ignored the Range header');
  return Number.isFinite(length) ? length : undefined;
}

type ReadRequest = { range?: { start: number; end?: number }; ifMatch?: string };

/** The headers of a GET for `options`: its Range and its If-Match. */
export function readHeaders(options: ReadRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.range) headers.range = `bytes=${options.range.start}-${options.range.end ?? ''}`;
  if (options.ifMatch) headers['if-match'] = `"${options.ifMatch}"`;
  return headers;
}

/**
 * A GET answer's checks: the Range rules (checkRange) and, with If-Match, the answer's ETag.
 * Returns how many bytes the answer covers (see checkRange; undefined without a range).
 */
export function checkAnswer(status: number, header: (name: string) => string | undefined, options: ReadRequest): number | undefined {
  const covered = options.range ? checkRange(status, header, options.range) : undefined;
  const etag = header('etag');
  if (options.ifMatch && etag && stripEtag(etag) !== options.ifMatch) throw new PreconditionFailedError('the file changed at the sharing site');
  return covered;
}

export async function readBounded(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > max) {
      discard(body);
      throw new BadGatewayError('PROPFIND answer too large');
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}
