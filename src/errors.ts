/**
 * The one catalogue of errors meshdav raises. Every error has an HTTP status and a stable `code`;
 * the outer middleware (src/http/error-middleware.ts) renders them once, as DAV XML or JSON.
 * Handlers throw these and never set an error status by hand. Foreign errors (ENOENT, LevelDB,
 * remote HTTP statuses) are translated into these at the border of the module that met them.
 */

export interface ValidationIssue {
  name: string;
  message: string;
}

export class MeshdavError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra headers the response must carry (e.g. WWW-Authenticate, Retry-After, Allow). */
  readonly headers: Record<string, string>;
  /** For DAV: the RFC 4918 precondition element name, e.g. `lock-token-submitted`. */
  readonly davCondition?: string;
  /** For OCM 400s: the per-field reasons. */
  readonly validationErrors?: ValidationIssue[];

  constructor(
    status: number,
    code: string,
    message: string,
    options: {
      headers?: Record<string, string>;
      davCondition?: string;
      validationErrors?: ValidationIssue[];
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.davCondition = options.davCondition;
    this.validationErrors = options.validationErrors;
  }

  /** 5xx messages may carry internals; only 4xx messages are shown to clients. */
  get expose(): boolean {
    return this.status < 500 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

type Opts = ConstructorParameters<typeof MeshdavError>[3];

export class BadRequestError extends MeshdavError {
  constructor(message = 'bad request', opts?: Opts) {
    super(400, 'BAD_REQUEST', message, opts);
  }
}
export class UnauthorizedError extends MeshdavError {
  constructor(message = 'authentication required', opts?: Opts) {
    super(401, 'UNAUTHORIZED', message, opts);
  }
}
export class ForbiddenError extends MeshdavError {
  constructor(message = 'forbidden', opts?: Opts) {
    super(403, 'FORBIDDEN', message, opts);
  }
}
export class NotFoundError extends MeshdavError {
  constructor(message = 'not found', opts?: Opts) {
    super(404, 'NOT_FOUND', message, opts);
  }
}
export class MethodNotAllowedError extends MeshdavError {
  constructor(message = 'method not allowed', opts?: Opts) {
    super(405, 'METHOD_NOT_ALLOWED', message, opts);
  }
}
export class ConflictError extends MeshdavError {
  constructor(message = 'conflict', opts?: Opts) {
    super(409, 'CONFLICT', message, opts);
  }
}
/** The target already exists where the operation needs it not to (MKCOL on an existing path, an accepted invite). */
export class AlreadyExistsError extends MeshdavError {
  constructor(message = 'already exists', opts?: Opts & { status?: number }) {
    super(opts?.status ?? 409, 'ALREADY_EXISTS', message, opts);
  }
}
export class PreconditionFailedError extends MeshdavError {
  constructor(message = 'precondition failed', opts?: Opts) {
    super(412, 'PRECONDITION_FAILED', message, opts);
  }
}
export class PayloadTooLargeError extends MeshdavError {
  constructor(message = 'request body too large', opts?: Opts) {
    super(413, 'PAYLOAD_TOO_LARGE', message, opts);
  }
}
export class UnsupportedMediaTypeError extends MeshdavError {
  constructor(message = 'unsupported media type', opts?: Opts) {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', message, opts);
  }
}
export class RangeNotSatisfiableError extends MeshdavError {
  constructor(message = 'range not satisfiable', opts?: Opts) {
    super(416, 'RANGE_NOT_SATISFIABLE', message, opts);
  }
}
export class UnprocessableError extends MeshdavError {
  constructor(message = 'unprocessable entity', opts?: Opts) {
    super(422, 'UNPROCESSABLE', message, opts);
  }
}
export class LockedError extends MeshdavError {
  constructor(message = 'resource is locked', opts?: Opts) {
    super(423, 'LOCKED', message, opts);
  }
}
export class FailedDependencyError extends MeshdavError {
  constructor(message = 'failed dependency', opts?: Opts) {
    super(424, 'FAILED_DEPENDENCY', message, opts);
  }
}
export class TooManyRequestsError extends MeshdavError {
  constructor(message = 'too many requests', opts?: Opts) {
    super(429, 'TOO_MANY_REQUESTS', message, opts);
  }
}
export class NotImplementedError extends MeshdavError {
  constructor(message = 'not implemented', opts?: Opts) {
    super(501, 'NOT_IMPLEMENTED', message, opts);
  }
}
export class BadGatewayError extends MeshdavError {
  constructor(message = 'upstream failed', opts?: Opts) {
    super(502, 'BAD_GATEWAY', message, opts);
  }
}
export class ServiceUnavailableError extends MeshdavError {
  constructor(message = 'service unavailable', opts?: Opts) {
    super(503, 'UNAVAILABLE', message, opts);
  }
}
export class GatewayTimeoutError extends MeshdavError {
  constructor(message = 'upstream timed out', opts?: Opts) {
    super(504, 'GATEWAY_TIMEOUT', message, opts);
  }
}
export class InsufficientStorageError extends MeshdavError {
  constructor(message = 'quota exceeded', opts?: Opts) {
    super(507, 'INSUFFICIENT_STORAGE', message, opts);
  }
}

/** Every error class, for the test that checks each code is documented and renders. */
export const ERROR_CATALOGUE = [
  BadRequestError,
  UnauthorizedError,
  ForbiddenError,
  NotFoundError,
  MethodNotAllowedError,
  ConflictError,
  AlreadyExistsError,
  PreconditionFailedError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  RangeNotSatisfiableError,
  UnprocessableError,
  LockedError,
  FailedDependencyError,
  TooManyRequestsError,
  NotImplementedError,
  BadGatewayError,
  ServiceUnavailableError,
  GatewayTimeoutError,
  InsufficientStorageError,
] as const;

export function isMeshdavError(err: unknown): err is MeshdavError {
  return err instanceof MeshdavError;
}
