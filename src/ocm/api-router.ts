/**
 * The OCM API other sites call: discovery (`/.well-known/ocm`, `/ocm-provider`) and
 * `{endPoint}` = `/ocm`: `POST /invite-accepted`, `POST /shares`, `POST /notifications`.
 * No user authentication: provider trust, the invite gate and share secrets decide.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { readJson } from '../http/body.js';
import { discoveryDocument } from './discovery.js';
import { incomingShareSchema, inviteAcceptedSchema, notificationSchema, validate } from './payloads.js';
import type { OcmRouterDeps } from './router-deps.js';

export function ocmApiRouter(deps: OcmRouterDeps): Router {
  const { config, ocm } = deps;
  const router = new Router();
  const body = (ctx: Context) => readJson(ctx, config.limits.jsonBodyBytes);

  const discovery = (ctx: Context) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = discoveryDocument(config.publicUrl);
  };
  router.get('/.well-known/ocm', discovery);
  router.get('/ocm-provider', discovery);
  router.get('/ocm-provider/', discovery);

  router.post('/ocm/invite-accepted', async (ctx) => {
    const req = validate(inviteAcceptedSchema, await body(ctx), 'invite-accepted request');
    ctx.body = await ocm.invites.handleInviteAccepted(req);
  });

  router.post('/ocm/shares', async (ctx) => {
    const incoming = validate(incomingShareSchema, await body(ctx), 'share');
    const { recipientDisplayName } = await ocm.received.receive(incoming);
    ctx.status = 201;
    ctx.body = { recipientDisplayName };
  });

  router.post('/ocm/notifications', async (ctx) => {
    const n = validate(notificationSchema, await body(ctx), 'notification');
    const secret = n.notification?.sharedSecret;
    switch (n.notificationType) {
      case 'SHARE_UNSHARED':
        await ocm.received.onUnshared(n.providerId, secret);
        break;
      case 'SHARE_ACCEPTED':
        await ocm.sent.onReceiverNotification(n.providerId, secret, 'accepted');
        break;
      case 'SHARE_DECLINED':
        await ocm.sent.onReceiverNotification(n.providerId, secret, 'declined');
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
