/**
 * POST /admin/scan `{user?}` → ScanReport: lets `meshdav scan` run inside the node that holds
 * the LevelDB lock. Loopback peers only (socket address), `Authorization: Bearer <loopbackSecret>`.
 */
import Router from '@koa/router';
import { z } from 'zod';
import { isLoopbackAddress } from '../auth/admin-router.js';
import { secretsEqual } from '../auth/secrets.js';
import { BadRequestError, ForbiddenError, UnauthorizedError } from '../errors.js';
import { readJson } from '../http/body.js';
import type { Services } from '../services.js';

const scanSchema = z.object({ user: z.string().optional() }).strict();

export function scanAdminRouter(services: Services): Router {
  const router = new Router();
  router.post('/admin/scan', async (ctx) => {
    if (!isLoopbackAddress(ctx.req.socket.remoteAddress)) throw new ForbiddenError('the admin endpoint answers loopback clients only');
    const m = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
    if (!m || !secretsEqual(m[1], services.config.loopbackSecret)) throw new UnauthorizedError('admin endpoint needs the loopback secret');
    const raw = ctx.request.length ? await readJson(ctx, services.config.limits.jsonBodyBytes) : {};
    const parsed = scanSchema.safeParse(raw ?? {});
    if (!parsed.success) throw new BadRequestError(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    ctx.body = await services.storage.scan(parsed.data.user);
  });
  return router;
}
