/**
 * The node's local admin endpoint, through which `meshdav user …` changes users while a running
 * node holds the LevelDB lock. Served only to loopback peers (the socket's address, never
 * X-Forwarded-For) that present `Authorization: Bearer <loopbackSecret>`; anything else is 403/401.
 *
 *   GET  /admin/users                    → [User]
 *   POST /admin/users                    {name,password,email?,displayName?} → 201 User; 409 duplicate
 *   POST /admin/users/:name/password     {password} → 204; 404 unknown user
 *   DELETE /admin/users/:name            → 200 RemovalReport (user-removal.ts); 404 unknown user
 *   GET  /admin/users/:name/quota        → {quotaBytes, own, usedBytes}: the quota in force (null:
 *                                          unlimited), whether it is the user's own, the bytes used
 *   PUT  /admin/users/:name/quota        {quotaBytes: bytes | null | "default"} → the same
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import type { Services } from '../services.js';
import { BadRequestError, ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.js';
import { readJson } from '../http/body.js';
import { secretsEqual } from './secrets.js';
import { removeUser } from '../user-removal.js';

const addSchema = z.object({
  name: z.string(),
  password: z.string(),
  email: z.string().optional(),
  displayName: z.string().optional(),
});
const passwordSchema = z.object({ password: z.string() });
const quotaSchema = z.object({ quotaBytes: z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.null(), z.literal('default')]) });

export function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new BadRequestError(r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}

export function adminRouter(services: Services): Router {
  const { users, config } = services;
  const router = new Router({ prefix: '/admin' });

  router.use(async (ctx: Context, next: Next) => {
    if (!isLoopbackAddress(ctx.req.socket.remoteAddress)) throw new ForbiddenError('the admin endpoint answers loopback clients only');
    const m = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
    if (!m || !secretsEqual(m[1], config.loopbackSecret)) throw new UnauthorizedError('admin endpoint needs the loopback secret');
    await next();
  });

  router.get('/users', async (ctx) => {
    ctx.body = await users.list();
  });

  router.post('/users', async (ctx) => {
    const body = parse(addSchema, await readJson(ctx, config.limits.jsonBodyBytes));
    ctx.status = 201;
    ctx.body = await users.add(body);
  });

  router.delete('/users/:name', async (ctx) => {
    ctx.body = await removeUser(services, ctx.params.name!);
  });

  /** The quota a user has now; NotFoundError for an unknown user. */
  const quotaInfo = async (name: string) => {
    if (!(await users.get(name))) throw new NotFoundError(`no user "${name}"`);
    const own = services.storage.ownQuota(name);
    return { quotaBytes: services.storage.quotaOf(name), own: own !== undefined, usedBytes: await services.storage.usedBytes(name) };
  };

  router.get('/users/:name/quota', async (ctx) => {
    ctx.body = await quotaInfo(ctx.params.name!);
  });

  router.put('/users/:name/quota', async (ctx) => {
    const body = parse(quotaSchema, await readJson(ctx, config.limits.jsonBodyBytes));
    await quotaInfo(ctx.params.name!);
    await services.storage.setQuota(ctx.params.name!, body.quotaBytes === 'default' ? undefined : body.quotaBytes);
    ctx.body = await quotaInfo(ctx.params.name!);
  });

  router.post('/users/:name/password', async (ctx) => {
    const body = parse(passwordSchema, await readJson(ctx, config.limits.jsonBodyBytes));
    await users.setPassword(ctx.params.name!, body.password);
    ctx.status = 204;
  });

  return router;
}
