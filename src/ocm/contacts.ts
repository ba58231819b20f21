/**
 * Address books: the remote users a local user exchanged an invite with. Both sides of an
 * accepted invite hold each other as contacts; the invite gate and create-share consult them.
 */
import type { Contact, OcmDb } from './records.js';
import { valuesWithPrefix } from './records.js';
import { normalizeProvider } from './addresses.js';

const key = (owner: string, provider: string, userId: string) => `${owner}!${provider}!${userId}`;

export class Contacts {
  constructor(private readonly db: OcmDb) {}

  /** Adds or refreshes a contact (idempotent). */
  async add(c: Omit<Contact, 'createdAt'> & { createdAt?: number }): Promise<Contact> {
    const provider = normalizeProvider(c.provider);
    const existing = await this.get(c.owner, provider, c.userId);
    const contact: Contact = { ...c, provider, createdAt: existing?.createdAt ?? c.createdAt ?? Date.now() };
    await this.db.contacts.put(key(c.owner, provider, c.userId), contact);
    return contact;
  }

  async get(owner: string, provider: string, userId: string): Promise<Contact | undefined> {
    return (await this.db.contacts.get(key(owner, normalizeProvider(provider), userId))) ?? undefined;
  }

  async list(owner: string): Promise<Contact[]> {
    return valuesWithPrefix<Contact>(this.db.contacts, `${owner}!`);
  }

  /** Contacts whose user id, name or mail starts with `search` (case-insensitive); all when empty. */
  async find(owner: string, search: string): Promise<Contact[]> {
    const q = search.trim().toLowerCase();
    const all = await this.list(owner);
    if (q === '') return all;
    return all.filter((c) =>
      [c.userId, c.name, c.email, `${c.userId}@${c.provider}`].some((f) => {
        const v = (f ?? '').toLowerCase();
        return v.startsWith(q) || v.split(/\s+/).some((w) => w.startsWith(q));
      }),
    );
  }

  /** Removes a contact; false when there was none. */
  async remove(owner: string, provider: string, userId: string): Promise<boolean> {
    const k = key(owner, normalizeProvider(provider), userId);
    if ((await this.db.contacts.get(k)) === undefined) return false;
    await this.db.contacts.del(k);
    return true;
  }
}
