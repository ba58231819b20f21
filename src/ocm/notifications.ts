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

  /** Sends to the provider's `/notifications`; resolves true when it answered 2xx, false otherwise. Never throws. */
  async sendBestEffort(provider: string, body: OcmNotification): Promise<boolean> {
    try {
      const disco = await this.deps.discovery.discover(provider);
      const res = await this.deps.remote.postJson(`${disco.endPoint}/notifications`, body);
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
