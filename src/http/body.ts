/**
 * Bounded request-body readers for the JSON, form and XML endpoints. File bodies are never read
 * here: they stream straight to an Fs. Over the limit → PayloadTooLargeError; bad syntax →
 * BadRequestError; nothing is changed in either case.
 */
import getRawBody from 'raw-body';
import type { Context } from 'koa';
import { BadRequestError, PayloadTooLargeError } from '../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Reads the body's bytes, up to `limit`. */
export async function readRaw(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new PayloadTooLargeError(`request body over ${limit} bytes`);
  }
  let raw: Buffer;
  try {
    raw = await getRawBody(ctx.req, { limit });
  } catch (err) {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.too.large' || e.status === 413) throw new PayloadTooLargeError(`request body over ${limit} bytes`);
    throw new BadRequestError('could not read the request body');
  }
  return raw;
}

/** Reads the body as text. Invalid UTF-8 is a BadRequestError: it is never silently replaced. */
export async function readText(ctx: Context, limit: number): Promise<string> {
  return decodeText(await readRaw(ctx, limit));
}

/** A body's bytes as text (invalid UTF-8 is a BadRequestError). */
export function decodeText(raw: Buffer): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw new BadRequestError('request body is not valid UTF-8');
  }
}

/** Deepest JSON nesting accepted; real OCM, EFSS and ScienceMesh payloads stay far below it. */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of a JSON text, counted in one pass without parsing (strings are skipped). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) max = depth;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return max;
}

/**
 * Reads a JSON body (or, for form-encoded requests, the form as an object). Empty body → {}.
 * Nesting deeper than MAX_JSON_DEPTH is a BadRequestError, so no consumer can be driven into
 * unbounded recursion.
 */
export async function readJson(ctx: Context, limit: number): Promise<unknown> {
  return parseJson(ctx, await readText(ctx, limit));
}

/** A body read as text, parsed as readJson does. */
export function parseJson(ctx: Context, text: string): unknown {
  if (text.trim() === '') return {};
  if (ctx.is('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new BadRequestError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch {
    // Syntax errors, and RangeError for nesting deeper than the parser's stack.
    throw new BadRequestError('request body is not valid JSON');
  }
}
