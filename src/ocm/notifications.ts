/**
 * Outgoing OCM notifications (SHARE_ACCEPTED, SHARE_DECLINED, SHARE_UNSHARED), sent best effort:
 * a peer that cannot be reached is logged and otherwise ignored (OCM peers must detect
 * revocation by themselves anyway). Incoming ones are dispatched by the OCM router.
 */
import type { Logger } from '../log.js';
import type { DiscoveryClient } from './discovery.js';
import type { RemoteClient } from './remote.js';
import type { OcmDb, RecordedNotification } from './records.js';

export interface OcmNotification {
  notificationType: 'SHARE_ACCEPTED' | 'SHARE_DECLINED' | 'SHARE_UNSHARED';
  resourceType: string;
  providerId: string;
  notification: { sharedSecret: string; message?: string };
}

export class Notifier {
  constructor(
    private readonly deps: { discovery: DiscoveryClient; remote: RemoteClient; log: Logger; db: OcmDb },
  ) {}

  /**
   * Sends in the background and waits at most `waitMs` for the answer, so a slow peer cannot hold
   * up the local request (the send goes on and is logged if it fails). Resolves true when the
   * peer answered 2xx within the wait. Never throws.
   */
  async notify(provider: string, body: OcmNotification, waitMs = 3_000): Promise<boolean> {
    const sending = this.sendBestEffort(provider, body);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), waitMs);
      timer.unref();
    });
    try {
      return await Promise.race([sending, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends to the provider's `/notifications`; resolves true when it answered 2xx, false otherwise. Never throws. */
  async sendBestEffort(provider: string, body: OcmNotification): Promise<boolean> {
    try {
      const disco = await this.deps.discovery.discover(provider);
      const res = await this.deps.remote.postJson(`${disco.endPoint}/notifications`, body, disco);
      if (res.status >= 200 && res.status < 300) return true;
      this.deps.log.warn({ provider, type: body.notificationType, status: res.status }, 'OCM notification refused');
    } catch (err) {
      this.deps.log.warn({ provider, type: body.notificationType, reason: (err as Error).message }, 'OCM notification not delivered');
    }
    return false;
  }

  /** Keeps a notification this node does not act on (answered 201 all the same). */
  async record(n: Omit<RecordedNotification, 'at'>): Promise<void> {
    const at = Date.now();
    await this.deps.db.notifications.put(`${at.toString(36).padStart(9, '0')}-${Math.random().toString(36).slice(2)}`, { at, ...n });
  }
}
