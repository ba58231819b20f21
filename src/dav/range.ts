/**
 * `Range:` for GET (RFC 9110 §14). Returns the ranges to send, or null to send the whole body
 * (no Range, another unit, bad syntax, a failed If-Range, more than MAX_RANGES ranges, or
 * overlapping ranges). Nothing satisfiable → RangeNotSatisfiableError with `Content-Range: bytes *\/size`.
 */
import type { Context } from 'koa';
import type { Entry } from '../fs/types.js';
import { RangeNotSatisfiableError } from '../errors.js';

export const MAX_RANGES = 16;

export interface Span {
  start: number;
  /** Inclusive. */
  end: number;
}

export function parseRange(header: string | undefined, size: number): Span[] | null {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return null;
  const parts = m[1]!.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0 || parts.length > MAX_RANGES) return null;
  const spans: Span[] = [];
  for (const p of parts) {
    const r = /^(\d*)\s*-\s*(\d*)$/.exec(p);
    if (!r || (r[1] === '' && r[2] === '')) return null;
    if (r[1] === '') {
      const n = Number(r[2]);
      if (n === 0) continue;
      if (size === 0) continue;
      spans.push({ start: Math.max(0, size - n), end: size - 1 });
    } else {
      const start = Number(r[1]);
      const end = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
      if (r[2] !== '' && Number(r[2]) < start) return null;
      if (start >= size) continue;
      spans.push({ start, end });
    }
  }
  if (spans.length === 0) throw new RangeNotSatisfiableError('no satisfiable range', { headers: { 'Content-Range': `bytes */${size}` } });
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.start <= sorted[i - 1]!.end) return null;
  return spans;
}

/** true when an If-Range header allows the Range to apply to this entry. */
export function ifRangeAllows(ctx: Context, entry: Entry): boolean {
  const v = ctx.get('if-range');
  if (!v) return true;
  if (v.startsWith('"') || v.startsWith('W/')) return v === `"${entry.etag}"`;
  const t = Date.parse(v);
  return Number.isFinite(t) && Math.floor(entry.mtime / 1000) * 1000 === t;
}
