/**
 * PermissionFs(fs, perms): enforces a share's permissions. Without UPDATE/CREATE/DELETE every
 * write path (write, mkdir, remove, move, copy, patchProps) fails with ForbiddenError before
 * touching `fs`; entries report the share's permission mask (so PROPFIND shows the share's
 * permissions, not the owner's). Abilities of `fs` are passed through only when present.
 */
import type { Readable } from 'node:stream';
import { ForbiddenError } from '../errors.js';
import { hasDeadProps, hasEntryOpener, hasFileIds, hasQuota, isCopier, isMover } from './guards.js';
import {
  Perm,
  type Copier,
  type DeadProps,
  type Entry,
  type EntryOpener,
  type FileIdResolver,
  type Fs,
  type Mover,
  type QuotaReporter,
  type ReadOptions,
  type WriteOptions,
  type WriteResult,
} from './types.js';

export class PermissionFs implements Fs {
  move?: Mover['move'];
  copy?: Copier['copy'];
  getProps?: DeadProps['getProps'];
  patchProps?: DeadProps['patchProps'];
  quota?: QuotaReporter['quota'];
  pathById?: FileIdResolver['pathById'];
  openEntry?: EntryOpener['openEntry'];

  /** `perms`: Perm bit mask the share grants (Perm.READ for read-only). */
  constructor(
    private readonly inner: Fs,
    readonly perms: number,
  ) {
    const inn = inner;
    if (isMover(inn)) {
      this.move = async (from, to, o) => {
        this.need(Perm.UPDATE | Perm.DELETE | Perm.CREATE, 'move');
        const r = await inn.move(from, to, o);
        return { ...r, entry: this.mask(r.entry) };
      };
    }
    if (isCopier(inn)) {
      this.copy = async (from, to, o) => {
        this.need(Perm.CREATE | Perm.UPDATE, 'copy');
        const r = await inn.copy(from, to, o);
        return { ...r, entry: this.mask(r.entry) };
      };
    }
    if (hasDeadProps(inn)) {
      this.getProps = (p) => inn.getProps(p);
      this.patchProps = async (p, patch) => {
        this.need(Perm.UPDATE, 'change properties');
        return inn.patchProps(p, patch);
      };
    }
    if (hasQuota(inn)) this.quota = () => inn.quota();
    if (hasFileIds(inn)) this.pathById = (id) => inn.pathById(id);
    if (hasEntryOpener(inn)) {
      this.openEntry = async (p, o) => {
        const { entry, body } = await inn.openEntry(p, o);
        return { entry: this.mask(entry), body };
      };
    }
  }

  private need(bits: number, what: string): void {
    if ((this.perms & bits) !== bits) throw new ForbiddenError(`this share does not allow you to ${what}`);
  }

  private mask(e: Entry): Entry {
    // A file cannot receive members: CREATE is meaningless on it.
    const perms = e.type === 'file' ? this.perms & ~Perm.CREATE : this.perms;
    return { ...e, permissions: perms };
  }

  async stat(path: string): Promise<Entry> {
    return this.mask(await this.inner.stat(path));
  }

  async list(path: string): Promise<Entry[]> {
    return (await this.inner.list(path)).map((e) => this.mask(e));
  }

  openRead(path: string, options?: ReadOptions): Promise<Readable> {
    return this.inner.openRead(path, options);
  }

  async write(path: string, body: Readable, options?: WriteOptions): Promise<WriteResult> {
    this.need(Perm.UPDATE, 'write');
    const r = await this.inner.write(path, body, options);
    return { ...r, entry: this.mask(r.entry) };
  }

  async mkdir(path: string): Promise<Entry> {
    this.need(Perm.CREATE, 'create folders');
    return this.mask(await this.inner.mkdir(path));
  }

  async remove(path: string): Promise<void> {
    this.need(Perm.DELETE, 'delete');
    return this.inner.remove(path);
  }
}
