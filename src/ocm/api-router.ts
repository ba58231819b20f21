/**
 * The OCM API other sites call: discovery (`/.well-known/ocm`, `/ocm-provider`), the JWK Set of
 * this node's RFC 9421 signing key (`/.well-known/jwks.json`) and
 * `{endPoint}` = `/ocm`: `POST /invite-accepted`, `POST /shares`, `POST /notifications`, and the
 * code flow's `POST /token`.
 * No user authentication: provider trust, the invite gate and share secrets decide, and every
 * POST must come from the site it speaks for (its signature, or none from a site that signs
 * nothing: signed-origin.ts).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { decodeText, parseJson, readRaw } from '../http/body.js';
import { parseOcmAddress, normalizeProvider } from './addresses.js';
import { SignedOrigins } from './signed-origin.js';
import { discoveryDocument } from './discovery.js';
import { tokenRequest } from './token-endpoint.js';
import { incomingShareSchema, inviteAcceptedSchema, notificationSchema, validate } from './payloads.js';
import type { OcmRouterDeps } from './router-deps.js';

export function ocmApiRouter(deps: OcmRouterDeps): Router {
  const { config, ocm, log } = deps;
  const router = new Router();
  const origins = new SignedOrigins(ocm.discovery, ocm.jwks, config.publicUrl, ocm.signatureStats, (reason) => log?.warn({ reason }, 'OCM request refused: its signature'));
  /** The raw body and who signed it (undefined: not signed; a bad signature is a 400). */
  const signed = async (ctx: Context) => {
    const raw = await readRaw(ctx, config.limits.jsonBodyBytes);
    const signer = await origins.signer(ctx, raw);
    return { raw, from: (domain: string) => origins.assertFrom(signer, domain) };
  };
  /** The JSON body and who may have sent it. */
  const body = async (ctx: Context) => {
    const { raw, from } = await signed(ctx);
    return { json: parseJson(ctx, decodeText(raw)), from };
  };

  const discovery = async (ctx: Context) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = discoveryDocument(config.publicUrl, await ocm.signer.publicKey(), { requireTokenExchange: config.requireTokenExchange });
  };
  router.get('/.well-known/ocm', discovery);
  router.get('/ocm-provider', discovery);
  router.get('/ocm-provider/', discovery);
  // The keys this node's RFC 9421 signatures are checked with (OCM 1.3+: the `http-sig` capability).
  router.get('/.well-known/jwks.json', async (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = await ocm.messageSigner.jwks();
  });

  router.post('/ocm/invite-accepted', async (ctx) => {
    const { json, from } = await body(ctx);
    const req = validate(inviteAcceptedSchema, json, 'invite-accepted request');
    await from(normalizeProvider(req.recipientProvider));
    ctx.body = await ocm.invites.handleInviteAccepted(req);
  });

  router.post('/ocm/shares', async (ctx) => {
    const { json, from } = await body(ctx);
    const incoming = validate(incomingShareSchema, json, 'share');
    await from(parseOcmAddress(incoming.sender).provider);
    const { recipientDisplayName } = await ocm.received.receive(incoming);
    ctx.status = 201;
    ctx.body = { recipientDisplayName };
  });

  // The code flow: a share's secret for a short-lived bearer token (token-endpoint.ts).
  router.post('/ocm/token', async (ctx) => {
    const { raw, from } = await signed(ctx);
    await tokenRequest(ctx, ocm, raw, from);
  });

  router.post('/ocm/notifications', async (ctx) => {
    const { json, from } = await body(ctx);
    const n = validate(notificationSchema, json, 'notification');
    const secret = n.notification?.sharedSecret;
    switch (n.notificationType) {
      case 'SHARE_UNSHARED':
        await ocm.received.onUnshared(n.providerId, secret, from);
        break;
      case 'SHARE_ACCEPTED':
        await ocm.sent.onReceiverNotification(n.providerId, secret, 'accepted', from);
        break;
      case 'SHARE_DECLINED':
        await ocm.sent.onReceiverNotification(n.providerId, secret, 'declined', from);
        break;
      default:
        await ocm.notifier.record({
          notificationType: n.notificationType,
          resourceType: n.resourceType,
          providerId: n.providerId,
          message: typeof n.notification?.message === 'string' ? n.notification.message.slice(0, 1000) : undefined,
        });
    }
    ctx.status = 201;
    ctx.body = {};
  });

  return router;
}
