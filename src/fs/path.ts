/**
 * Path rules shared by every layer. `normalizePath` is the single gate: everything that comes
 * from a URL or a JSON body goes through it before it reaches an Fs.
 */
import { BadRequestError } from '../errors.js';

/**
 * Normalises a decoded path to `/a/b` form. Throws BadRequestError for `..` segments, NUL or
 * other control characters, backslashes, and anything that would leave the root.
 * `.` segments, empty segments and a trailing slash are dropped.
 */
export function normalizePath(input: string): string {
  if (typeof input !== 'string') throw new BadRequestError('path must be a string');
  if (input.length > 4096) throw new BadRequestError('path too long');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(input)) throw new BadRequestError('path contains control characters');
  if (input.includes('\\')) throw new BadRequestError('path contains a backslash');
  const out: string[] = [];
  for (const seg of input.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') throw new BadRequestError('path contains ".."');
    if (seg.length > 255) throw new BadRequestError('path segment too long');
    out.push(seg);
  }
  return '/' + out.join('/');
}

/**
 * Decodes a percent-encoded URL path (each segment once) and normalises it. Invalid
 * percent-encoding or invalid UTF-8 is a BadRequestError; encoded `..`, `/` tricks and NUL are
 * caught by `normalizePath` after decoding.
 */
export function decodeUrlPath(raw: string): string {
  let decoded: string;
  try {
    decoded = raw
      .split('/')
      .map((seg) => {
        const d = decodeURIComponent(seg);
        if (d.includes('/')) throw new BadRequestError('encoded slash in path segment');
        return d;
      })
      .join('/');
  } catch (err) {
    if (err instanceof BadRequestError) throw err;
    throw new BadRequestError('invalid percent-encoding in path');
  }
  if (decoded.includes('\uFFFD')) throw new BadRequestError('path is not valid UTF-8');
  return normalizePath(decoded);
}

/** Percent-encodes a normalised path for use in an href (keeps `/`). */
export function encodeUrlPath(path: string): string {
  return path
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()))
    .join('/');
}

export function joinPath(base: string, ...rest: string[]): string {
  return normalizePath([base, ...rest].join('/'));
}

export function parentPath(path: string): string {
  const p = normalizePath(path);
  if (p === '/') return '/';
  return p.slice(0, p.lastIndexOf('/')) || '/';
}

export function baseName(path: string): string {
  const p = normalizePath(path);
  return p === '/' ? '' : p.slice(p.lastIndexOf('/') + 1);
}

/** true when `path` is `ancestor` itself or lies below it. */
export function isWithin(path: string, ancestor: string): boolean {
  if (ancestor === '/') return true;
  return path === ancestor || path.startsWith(ancestor + '/');
}

/** `path` relative to `ancestor`, as a normalised path (`/` when equal). Caller checks isWithin first. */
export function relativeTo(path: string, ancestor: string): string {
  if (ancestor === '/') return path;
  return path === ancestor ? '/' : path.slice(ancestor.length);
}
