/**
 * Bounded request-body readers for the JSON, form and XML endpoints. File bodies are never read
 * here: they stream straight to an Fs. Over the limit → PayloadTooLargeError; bad syntax →
 * BadRequestError; nothing is changed in either case.
 */
import getRawBody from 'raw-body';
import type { Context } from 'koa';
import { BadRequestError, PayloadTooLargeError } from '../errors.js';

export async function readText(ctx: Context, limit: number): Promise<string> {
  const declared = Number(ctx.get('content-length') || NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new PayloadTooLargeError(`request body over ${limit} bytes`);
  }
  try {
    return await getRawBody(ctx.req, { limit, encoding: 'utf8' });
  } catch (err) {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.too.large' || e.status === 413) throw new PayloadTooLargeError(`request body over ${limit} bytes`);
    throw new BadRequestError('could not read the request body');
  }
}

/** Reads a JSON body (or, for form-encoded requests, the form as an object). Empty body → {}. */
export async function readJson(ctx: Context, limit: number): Promise<unknown> {
  const text = await readText(ctx, limit);
  if (text.trim() === '') return {};
  if (ctx.is('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError('request body is not valid JSON');
  }
}
