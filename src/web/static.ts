/**
 * Serves the web UI's static files from src/web/public. Only files that exist there at start-up
 * are served (a fixed table, so no request path ever reaches the file system), with their MIME
 * type, an ETag (304 on If-None-Match), `Cache-Control: no-cache` (always revalidated: file
 * names carry no hashes) and the UI's security headers (CSP `default-src 'self'`, no framing,
 * no referrer — invite tokens travel in page URLs).
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'koa';

export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
};

export const CSP = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every UI page and asset carries. */
export function setUiHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...walk(p));
    else if (d.isFile() && TYPES[extname(d.name)]) out.push(p);
  }
  return out;
}

export class StaticFiles {
  /** URL path below the mount prefix (`app.js`, `views/files.js`) → absolute file path. */
  private readonly files = new Map<string, string>();

  constructor(readonly dir: string = PUBLIC_DIR) {
    for (const abs of walk(dir)) this.files.set(relative(dir, abs).split(sep).join('/'), abs);
  }

  has(name: string): boolean {
    return this.files.has(name);
  }

  /** Answers GET/HEAD for `name` (a key of the table); false when there is no such file. */
  serve(ctx: Context, name: string): boolean {
    const abs = this.files.get(name);
    if (!abs) return false;
    let st;
    try {
      st = statSync(abs);
    } catch {
      return false;
    }
    const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    setUiHeaders(ctx);
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('ETag', etag);
    ctx.set('Last-Modified', st.mtime.toUTCString());
    ctx.type = TYPES[extname(abs)]!;
    const inm = ctx.get('if-none-match');
    if (inm && inm.split(',').some((t) => t.trim() === etag)) {
      ctx.status = 304;
      return true;
    }
    ctx.status = 200;
    if (ctx.method !== 'HEAD') ctx.body = createReadStream(abs);
    ctx.length = st.size;
    return true;
  }
}
