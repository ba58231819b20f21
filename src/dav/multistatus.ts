/**
 * 207 Multi-Status bodies, written as strings (no per-entry object trees) and streamed in chunks
 * of about 64 KiB so a listing of any size is never held in memory as a whole.
 */
import { Readable } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { Context } from 'koa';
import { ROOT_XMLNS } from './properties.js';
import { escapeXml } from './xml.js';

const CHUNK = 64 * 1024;

export const MULTISTATUS_OPEN = `<?xml version="1.0" encoding="utf-8"?>\n<d:multistatus${ROOT_XMLNS}>`;
export const MULTISTATUS_CLOSE = '</d:multistatus>';

export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`;
}

/** `<d:propstat>` with already rendered property elements. */
export function propstat(props: string, status: number): string {
  return `<d:propstat><d:prop>${props}</d:prop><d:status>${statusLine(status)}</d:status></d:propstat>`;
}

/** A `<d:response>` carrying a status for the href (DELETE/COPY/MOVE/LOCK failures). */
export function statusResponse(href: string, status: number, condition?: string): string {
  return (
    `<d:response><d:href>${escapeXml(href)}</d:href><d:status>${statusLine(status)}</d:status>` +
    (condition ? `<d:error><d:${condition}/></d:error>` : '') +
    '</d:response>'
  );
}

/**
 * Sends a 207 whose `<d:response>` elements come from `responses` (each a string). Pieces are
 * joined into chunks; an error thrown by the source after headers went out destroys the socket
 * (Koa pipes bodies with stream.pipeline), so a client never sees a short 207 as complete.
 */
export function sendMultistatus(ctx: Context, responses: AsyncIterable<string> | Iterable<string>): void {
  ctx.status = 207;
  ctx.type = 'application/xml; charset=utf-8';
  async function* chunks(): AsyncGenerator<string> {
    let buf = MULTISTATUS_OPEN;
    for await (const r of responses) {
      buf += r;
      if (buf.length >= CHUNK) {
        yield buf;
        buf = '';
      }
    }
    yield buf + MULTISTATUS_CLOSE;
  }
  ctx.body = Readable.from(chunks(), { objectMode: false });
}

/** A whole small multistatus as one string (DELETE/COPY/MOVE partial failures). */
export function multistatusString(responses: string[]): string {
  return MULTISTATUS_OPEN + responses.join('') + MULTISTATUS_CLOSE;
}
