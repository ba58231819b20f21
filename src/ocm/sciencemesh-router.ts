/**
 * The ScienceMesh endpoints of this site's GUI and CLI (`/sciencemesh/*`, and `/ocm/send`),
 * authenticated with Basic `user:password` or `user:loopbackSecret`.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { providerDomain } from '../config.js';
import { NotFoundError } from '../errors.js';
import { readJson } from '../http/body.js';
import { normalizeProvider, providerBaseUrl } from './addresses.js';
import { decodeInviteString } from './invites.js';
import { acceptInviteSchema, createShareSchema, deleteContactSchema, generateInviteSchema, validate } from './payloads.js';
import type { OcmRouterDeps } from './router-deps.js';
import { contactView, receivedShareView, sentShareView } from './views.js';

export function sciencemeshRouter(deps: OcmRouterDeps): Router {
  const { config, ocm } = deps;
  const router = new Router();
  const body = (ctx: Context) => readJson(ctx, config.limits.jsonBodyBytes);
  const user = (ctx: Context) => deps.authenticate(ctx);
  const domain = () => providerDomain(config.publicUrl);
  const query = (ctx: Context) => Object.fromEntries(Object.entries(ctx.query).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));

  const generate = async (ctx: Context) => {
    const me = await user(ctx);
    const input = validate(generateInviteSchema, ctx.method === 'GET' ? query(ctx) : await body(ctx), 'invite request');
    ctx.body = await ocm.invites.generate(me, { description: input.description ?? undefined, recipient: input.recipient ?? undefined });
  };
  router.post('/sciencemesh/generate-invite', generate);
  router.get('/sciencemesh/generate-invite', generate);

  router.get('/sciencemesh/list-invite', async (ctx) => {
    ctx.body = await ocm.invites.list(await user(ctx));
  });

  router.post('/sciencemesh/accept-invite', async (ctx) => {
    const me = await user(ctx);
    const input = validate(acceptInviteSchema, await body(ctx), 'accept-invite request');
    const target =
      'token' in input
        ? { token: input.token, providerDomain: input.providerDomain }
        : decodeInviteString('invite_string' in input ? input.invite_string : input.inviteString);
    const contact = await ocm.invites.accept(me, target);
    ctx.body = { display_name: contact.name, idp: contact.idp, user_id: contact.userID, mail: contact.email };
  });

  router.get('/sciencemesh/find-accepted-users', async (ctx) => {
    const me = await user(ctx);
    const search = typeof ctx.query.search === 'string' ? ctx.query.search : '';
    ctx.body = (await ocm.contacts.find(me, search)).map(contactView);
  });

  router.delete('/sciencemesh/delete-accepted-user', async (ctx) => {
    const me = await user(ctx);
    const raw = await body(ctx);
    const input = validate(deleteContactSchema, raw && Object.keys(raw as object).length ? raw : query(ctx), 'delete-accepted-user request');
    if (!(await ocm.contacts.remove(me, input.idp, input.user_id))) throw new NotFoundError('no such contact');
    ctx.body = {};
  });

  router.get('/sciencemesh/list-providers', async (ctx) => {
    await user(ctx);
    const search = (typeof ctx.query.search === 'string' ? ctx.query.search : '').toLowerCase();
    const providers = config.trustedProviders.flatMap((entry) => {
      try {
        const d = normalizeProvider(entry);
        return [{ full_name: providerBaseUrl(entry) ?? d, domain: d }];
      } catch {
        return [];
      }
    });
    ctx.body = providers.filter((p) => p.domain.includes(search) || p.full_name.toLowerCase().includes(search));
  });

  const createShare = async (ctx: Context) => {
    const me = await user(ctx);
    const input = validate(createShareSchema, await body(ctx), 'share request');
    const share = await ocm.sent.create(me, input);
    ctx.status = 201;
    ctx.body = sentShareView(share, domain());
  };
  router.post('/sciencemesh/create-share', createShare);
  router.post('/ocm/send', createShare);

  router.get('/sciencemesh/sent-shares', async (ctx) => {
    ctx.body = (await ocm.sent.list(await user(ctx))).map((s) => sentShareView(s, domain()));
  });
  router.delete('/sciencemesh/sent-shares/:id', async (ctx) => {
    const share = await ocm.sent.revoke(await user(ctx), ctx.params.id!);
    ctx.body = sentShareView(share, domain());
  });

  router.get('/sciencemesh/received-shares', async (ctx) => {
    ctx.body = (await ocm.received.list(await user(ctx))).map(receivedShareView);
  });
  router.post('/sciencemesh/received-shares/:id/accept', async (ctx) => {
    ctx.body = receivedShareView(await ocm.received.accept(await user(ctx), ctx.params.id!));
  });
  router.post('/sciencemesh/received-shares/:id/decline', async (ctx) => {
    ctx.body = receivedShareView(await ocm.received.decline(await user(ctx), ctx.params.id!));
  });

  return router;
}
