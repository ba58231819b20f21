/**
 * Removing a user from a node (`meshdav user delete`, the admin endpoint's DELETE): everything of
 * theirs goes, and the sites they share with are told, in this order:
 *   1. the shares they sent are revoked (each recipient's site gets SHARE_UNSHARED);
 *   2. the shares they received are declined (each sender's site gets SHARE_DECLINED) and removed,
 *      which unmounts them;
 *   3. their contacts and the invites they made (an invite of theirs is refused from then on);
 *   4. their WebDAV locks;
 *   5. their home: files, old versions, trash and all their metadata;
 *   6. their account.
 * Before all that the account is marked as being removed: the user can no longer log in (their web
 * sessions end) nor be found, so nothing of theirs is made again meanwhile; the record itself goes
 * last, so a removal that was interrupted (a crash, a failed disk) is finished by running it again.
 * Telling another site is best effort (the notifier logs a site that cannot be reached); nothing
 * of the user stays because a site did not answer.
 */
import type { Services } from './services.js';

export interface RemovalReport {
  user: string;
  sharesRevoked: number;
  sharesDeclined: number;
  contacts: number;
  invites: number;
}

export async function removeUser(services: Services, name: string): Promise<RemovalReport> {
  const { users, ocm, storage, dav } = services;
  await users.markRemoving(name); // NotFoundError when there is no such user

  const report: RemovalReport = { user: name, sharesRevoked: 0, sharesDeclined: 0, contacts: 0, invites: 0 };

  // Each notification waits up to a few seconds for its site: all of them at once.
  const sent = await ocm.sent.list(name);
  await Promise.all(sent.map((share) => ocm.sent.revoke(name, share.id)));
  report.sharesRevoked = sent.length;
  const received = await ocm.received.list(name);
  await Promise.all(
    received.map(async (share) => {
      if (share.state !== 'declined') {
        await ocm.received.decline(name, share.id);
        report.sharesDeclined++;
      }
      await ocm.received.remove(share);
    }),
  );
  for (const contact of await ocm.contacts.list(name)) {
    if (await ocm.contacts.remove(name, contact.provider, contact.userId)) report.contacts++;
  }
  report.invites = await ocm.invites.removeAll(name);
  dav.locks.removeTree(`user:${name}`, '/');
  await storage.removeHome(name);
  await users.remove(name);
  services.log.info({ ...report }, 'user removed');
  return report;
}
