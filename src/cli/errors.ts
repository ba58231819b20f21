/**
 * CLI failures: one line that says what failed and what to do, and a documented exit code.
 *   1 general failure · 2 usage · 3 cannot reach the node · 4 authentication failed ·
 *   5 not found · 6 conflict or already exists · 7 quota exceeded · 8 refused (forbidden/untrusted) ·
 *   9 the server failed (5xx)
 */
import { ConfigError } from '../config.js';
import { MeshdavError } from '../errors.js';

export const EXIT = {
  FAILURE: 1,
  USAGE: 2,
  UNREACHABLE: 3,
  AUTH: 4,
  NOT_FOUND: 5,
  CONFLICT: 6,
  QUOTA: 7,
  FORBIDDEN: 8,
  SERVER: 9,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILURE,
  ) {
    super(message);
  }
}

export function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof ConfigError) return { message: err.message, exitCode: EXIT.USAGE };
  if (err instanceof MeshdavError) {
    const code =
      err.status === 401 ? EXIT.AUTH : err.status === 404 ? EXIT.NOT_FOUND : err.status === 409 ? EXIT.CONFLICT
        : err.status === 507 ? EXIT.QUOTA : err.status === 403 ? EXIT.FORBIDDEN : EXIT.FAILURE;
    return { message: err.message, exitCode: code };
  }
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'LEVEL_LOCKED' || (e?.cause as NodeJS.ErrnoException | undefined)?.code === 'LEVEL_LOCKED') {
    return { message: 'the data directory is in use by a running node and it could not be reached', exitCode: EXIT.FAILURE };
  }
  if (e?.code === 'EADDRINUSE') return { message: `address already in use — is another meshdav (or another server) running on that port? Choose one with --port`, exitCode: EXIT.FAILURE };
  if (e?.code === 'EACCES') return { message: `permission denied: ${e.message}`, exitCode: EXIT.FAILURE };
  return { message: e?.message ?? String(err), exitCode: EXIT.FAILURE };
}
