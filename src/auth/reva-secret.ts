/**
 * Guards the revad-facing API: every request must carry `X-Reva-Secret` equal to
 * config.revaSecret (compared in constant time). Missing or wrong → UnauthorizedError, which the
 * error middleware renders as JSON `{"error","code"}` with status 401.
 */
import type { Context, Next } from 'koa';
import type { Config } from '../config.js';
import { UnauthorizedError } from '../errors.js';
import { secretsEqual } from './secrets.js';

export function requireRevaSecret(config: Pick<Config, 'revaSecret'>) {
  return async function revaSecret(ctx: Context, next: Next): Promise<void> {
    const given = ctx.get('x-reva-secret');
    if (!given) throw new UnauthorizedError('missing X-Reva-Secret');
    if (!secretsEqual(given, config.revaSecret)) throw new UnauthorizedError('wrong X-Reva-Secret');
    await next();
  };
}
