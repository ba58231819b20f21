/**
 * The head of an HTTP/1.x response (RFC 9112 §4–5), as direct-get.ts reads it: status line and
 * header fields, and how the body is framed.
 *
 * Contracts: a malformed head (bad status line, a field without a colon, whitespace before the
 * colon, obsolete line folding) throws; repeated fields are joined with ", " (Content-Length
 * values must then all agree); `length` is the Content-Length only for a body framed by it
 * alone: undefined with any Transfer-Encoding (which overrides Content-Length) and for a status
 * that has no body (1xx, 204, 304).
 */

export interface ResponseHead {
  status: number;
  /** HTTP/1.1 or later (keep-alive by default). */
  http11: boolean;
  /** Field values by lower-case name. */
  fields: Map<string, string>;
  /** Body length, when the body is framed by Content-Length alone. */
  length?: number;
  /** The connection may carry another request after this response's body. */
  reusable: boolean;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parses the head's latin1 `text` (up to, not including, the blank line). */
export function parseResponseHead(text: string): ResponseHead {
  const lines = text.split('\r\n');
  const m = STATUS_LINE.exec(lines[0] ?? '');
  if (!m) throw new Error('malformed status line');
  const fields = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new Error('malformed header field');
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = fields.get(key);
    fields.set(key, prev === undefined ? value : `${prev}, ${value}`);
  }
  const status = Number(m[2]);
  const http11 = m[1] === '1';
  const connection = (fields.get('connection') ?? '').toLowerCase().split(',').map((s) => s.trim());
  const reusable = http11 ? !connection.includes('close') : connection.includes('keep-alive');
  const noBody = status < 200 || status === 204 || status === 304;
  const head: ResponseHead = { status, http11, fields, reusable };
  if (!noBody && !fields.has('transfer-encoding')) head.length = contentLength(fields.get('content-length'));
  return head;
}

function contentLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const values = new Set(value.split(',').map((s) => s.trim()));
  if (values.size !== 1) throw new Error('conflicting Content-Length values');
  const [only] = values;
  if (!/^\d{1,15}$/.test(only!)) throw new Error('malformed Content-Length');
  return Number(only);
}
