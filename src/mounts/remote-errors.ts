/**
 * The one place where failures of a remote WebDAV request become meshdav errors
 * (reva's `doRaw`, rclone's error handler). Rules:
 *   - network errors (refused, reset, DNS) and 5xx → the share is "unavailable":
 *     ServiceUnavailableError (refused/unreachable, 503) or BadGatewayError (reset, 500/502);
 *     the mount is kept;
 *   - connect, header and body timeouts, and 504 → GatewayTimeoutError;
 *   - 401, and 403 on a read → "revoked" (the caller hides the mount, 404 afterwards);
 *     403 on a write is a plain ForbiddenError (a read-only share);
 *   - 404 on the share root → "revoked" only while the sender's discovery answers, else unavailable;
 *   - other statuses → the matching catalogue error.
 * A caller's own abort passes through untouched.
 */
import {
  AlreadyExistsError,
  BadGatewayError,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  GatewayTimeoutError,
  InsufficientStorageError,
  LockedError,
  MeshdavError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
  ServiceUnavailableError,
  isMeshdavError,
} from '../errors.js';

/** A share the sender no longer grants: renders as 404, and the mount disappears. */
export class ShareRevokedError extends NotFoundError {
  readonly revoked = true;
  constructor(message = 'the share was revoked by its owner', opts?: ConstructorParameters<typeof NotFoundError>[1]) {
    super(message, opts);
  }
}

export function isShareRevoked(err: unknown): err is ShareRevokedError {
  return err instanceof ShareRevokedError;
}

export type RemoteFailure =
  | { kind: 'network'; cause: unknown }
  | { kind: 'status'; status: number; method: string; isRoot: boolean };

/** What the caller must do: throw this error, or decide revocation (a discovery probe for 'probe'). */
export type RemoteVerdict = { error: MeshdavError } | { revoked: 'yes' | 'probe' };

const WRITE_METHODS = new Set(['PUT', 'MKCOL', 'DELETE', 'MOVE', 'COPY', 'PROPPATCH']);

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export function isAbort(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | null;
  return !!e && (e.name === 'AbortError' || e.code === 'ABORT_ERR' || e.code === 'UND_ERR_ABORTED');
}

function errorCode(err: unknown): string | undefined {
  let cur = err as { code?: string; cause?: unknown } | undefined;
  for (let i = 0; cur && i < 4; i++) {
    if (typeof cur.code === 'string' && cur.code !== 'UND_ERR_SOCKET') return cur.code;
    if (cur.code === 'UND_ERR_SOCKET' && !cur.cause) return cur.code;
    cur = cur.cause as typeof cur;
  }
  return (err as { code?: string })?.code;
}

export function classifyRemoteFailure(failure: RemoteFailure): RemoteVerdict {
  if (failure.kind === 'network') {
    const err = failure.cause;
    if (isMeshdavError(err)) return { error: err };
    const code = errorCode(err) ?? '';
    if (TIMEOUT_CODES.has(code)) return { error: new GatewayTimeoutError('the sharing site did not answer in time', { cause: err }) };
    if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
      return { error: new BadRequestError('body length differs from the declared size', { cause: err }) };
    }
    if (UNREACHABLE_CODES.has(code)) {
      return { error: new ServiceUnavailableError('the sharing site is unreachable', { cause: err, headers: { 'Retry-After': '30' } }) };
    }
    return { error: new BadGatewayError('the connection to the sharing site failed', { cause: err }) };
  }
  const { status, method, isRoot } = failure;
  const write = WRITE_METHODS.has(method);
  switch (status) {
    case 400:
      return { error: new BadRequestError('the sharing site rejected the request') };
    case 401:
      return { revoked: 'yes' };
    case 403:
      return write ? { error: new ForbiddenError('the share does not allow this') } : { revoked: 'yes' };
    case 404:
      if (isRoot && !write) return { revoked: 'probe' };
      return { error: method === 'PUT' || method === 'MKCOL' ? new ConflictError('parent folder missing') : new NotFoundError() };
    case 405:
      return { error: method === 'MKCOL' ? new AlreadyExistsError('already exists', { status: 405 }) : new MethodNotAllowedError() };
    case 409:
      return { error: new ConflictError() };
    case 412:
      return { error: new PreconditionFailedError() };
    case 413:
      return { error: new PayloadTooLargeError() };
    case 416:
      return { error: new RangeNotSatisfiableError() };
    case 423:
      return { error: new LockedError() };
    case 507:
      return { error: new InsufficientStorageError('the sharing site is out of space') };
    case 503:
      return { error: new ServiceUnavailableError('the sharing site is unavailable', { headers: { 'Retry-After': '30' } }) };
    case 504:
      return { error: new GatewayTimeoutError('the sharing site timed out') };
    default:
      if (status >= 500) return { error: new BadGatewayError(`the sharing site failed (${status})`) };
      return { error: new BadGatewayError(`unexpected answer ${status} from the sharing site`) };
  }
}
