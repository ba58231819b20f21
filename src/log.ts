/**
 * Structured JSON logs (pino). Secrets never reach a log line: known secret-bearing fields are
 * redacted, and request logging records the path without its query string and no headers.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'sharedSecret',
  '*.sharedSecret',
  '*.*.sharedSecret',
  'token',
  '*.token',
  'clientSecret',
  '*.clientSecret',
  'revaSecret',
  'loopbackSecret',
  '*.revaSecret',
  '*.loopbackSecret',
  'authorization',
  '*.authorization',
  'headers',
  '*.headers',
  'cookie',
  '*.cookie',
];

export function createLogger(options: { level: string; destination?: NodeJS.WritableStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'meshdav' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (options.destination ?? process.stdout) as pino.DestinationStream,
  );
}
