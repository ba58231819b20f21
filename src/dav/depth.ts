/** The `Depth:` header (RFC 4918 §10.2): 0, 1 or infinity; anything else is a BadRequestError. */
import type { Context } from 'koa';
import { BadRequestError } from '../errors.js';

export type Depth = 0 | 1 | 'infinity';

export function parseDepth(ctx: Context, fallback: Depth): Depth {
  const raw = ctx.get('depth').trim().toLowerCase();
  if (raw === '') return fallback;
  if (raw === '0') return 0;
  if (raw === '1') return 1;
  if (raw === 'infinity') return 'infinity';
  throw new BadRequestError(`invalid Depth header "${raw.slice(0, 20)}"`);
}
