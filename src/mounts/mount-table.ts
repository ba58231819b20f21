/**
 * The mount table: which remote shares are mounted where in whose namespace, kept in the
 * `mounts` sublevel (key `{user}!{id}`) and mirrored in memory (a node holds few mounts).
 *
 * Contracts: names are unique per user (the caller picks a free one with `freeName`); `add`,
 * `remove` and `update` persist before they return; listeners see every add and remove.
 */
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, BadRequestError, NotFoundError } from '../errors.js';
import type { RemoteOrigin } from '../fs/types.js';
import type { Db } from '../services.js';
import type { AuthMode, RemoteAuth } from './remote-fs.js';

export interface MountRecord {
  /** Local id; for an OCM share, the received share's id. */
  id: string;
  user: string;
  /** Folder name under the sharesFolder. */
  name: string;
  /** Absolute URL of the remote root. */
  url: string;
  auth: RemoteAuth;
  /** Auth mode learnt for this share (secret auth only). */
  authMode?: AuthMode;
  /** Perm mask the share grants. */
  permissions: number;
  origin: RemoteOrigin;
  /** Sender's OCM discovery URL (revocation check on a 404 root). */
  discoveryUrl?: string;
  createdAt: number;
}

export type MountInput = Omit<MountRecord, 'id' | 'createdAt'> & { id?: string };

export type MountEvent = { type: 'added' | 'removed'; mount: MountRecord };

const NAME = /^[^/\\\u0000-\u001f]{1,255}$/;

export class MountTable {
  private readonly byUser = new Map<string, Map<string, MountRecord>>();
  private readonly listeners = new Set<(e: MountEvent) => void>();
  private readonly sub;

  private constructor(db: Db) {
    this.sub = db.sublevel<string, MountRecord>('mounts', { valueEncoding: 'json' });
  }

  static async open(db: Db): Promise<MountTable> {
    const table = new MountTable(db);
    for await (const value of table.sub.values()) table.index(value);
    return table;
  }

  onChange(listener: (e: MountEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(user: string): MountRecord[] {
    return [...(this.byUser.get(user)?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(user: string, id: string): MountRecord | undefined {
    return this.byUser.get(user)?.get(id);
  }

  /** `name`, or `name (2)`, `name (3)`… — the first not taken by a mount nor by `taken`. */
  freeName(user: string, name: string, taken: (name: string) => boolean = () => false): string {
    const clean = name.replace(/[/\\\u0000-\u001f]/g, '_').trim() || 'share';
    const used = new Set(this.list(user).map((m) => m.name));
    for (let i = 1; ; i++) {
      const candidate = i === 1 ? clean : `${clean} (${i})`;
      if (!used.has(candidate) && !taken(candidate)) return candidate;
    }
  }

  async add(input: MountInput): Promise<MountRecord> {
    if (!NAME.test(input.name) || input.name === '.' || input.name === '..') throw new BadRequestError('invalid mount name');
    try {
      new URL(input.url);
    } catch {
      throw new BadRequestError('mount url must be an absolute URL');
    }
    const id = input.id ?? randomUUID();
    if (this.get(input.user, id)) throw new AlreadyExistsError(`mount ${id} exists`);
    if (this.list(input.user).some((m) => m.name === input.name)) throw new AlreadyExistsError(`a mount named ${input.name} exists`);
    const record: MountRecord = { ...input, id, createdAt: Date.now() };
    await this.sub.put(`${record.user}!${id}`, record);
    this.index(record);
    this.emit({ type: 'added', mount: record });
    return record;
  }

  async update(user: string, id: string, patch: Partial<Pick<MountRecord, 'authMode' | 'permissions' | 'url' | 'auth'>>): Promise<MountRecord> {
    const current = this.get(user, id);
    if (!current) throw new NotFoundError(`no mount ${id}`);
    const record = { ...current, ...patch };
    await this.sub.put(`${user}!${id}`, record);
    this.index(record);
    return record;
  }

  /** Gives the mount another (free) name. */
  async rename(user: string, id: string, name: string): Promise<MountRecord> {
    const current = this.get(user, id);
    if (!current) throw new NotFoundError(`no mount ${id}`);
    if (!NAME.test(name) || name === '.' || name === '..') throw new BadRequestError('invalid mount name');
    if (this.list(user).some((m) => m.name === name && m.id !== id)) throw new AlreadyExistsError(`a mount named ${name} exists`);
    const record = { ...current, name };
    await this.sub.put(`${user}!${id}`, record);
    this.index(record);
    return record;
  }

  /** Removes the mount; false when there was none. */
  async remove(user: string, id: string): Promise<boolean> {
    const record = this.get(user, id);
    if (!record) return false;
    await this.sub.del(`${user}!${id}`);
    this.byUser.get(user)?.delete(id);
    this.emit({ type: 'removed', mount: record });
    return true;
  }

  private index(record: MountRecord): void {
    let m = this.byUser.get(record.user);
    if (!m) this.byUser.set(record.user, (m = new Map()));
    m.set(record.id, record);
  }

  private emit(e: MountEvent): void {
    for (const l of this.listeners) l(e);
  }
}
