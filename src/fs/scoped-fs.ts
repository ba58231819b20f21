/**
 * ScopedFs(fs, root): the subtree of `fs` at `root`, seen as a whole Fs. Paths inside are
 * relative to `root`; nothing above it can be named (every path is normalised and joined below
 * `root`). When `root` is a file (a shared single file), the view's root `/` is that file.
 * Optional abilities of `fs` (move, copy, dead properties, quota, file ids, openEntry) are exposed only when
 * `fs` has them, with paths translated. The root itself can be neither removed nor moved.
 */
import type { Readable } from 'node:stream';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { isCopier, isMover, hasDeadProps, hasEntryOpener, hasFileIds, hasQuota } from './guards.js';
import { isWithin, normalizePath, relativeTo } from './path.js';
import type {
  Copier,
  DeadProps,
  Entry,
  EntryOpener,
  FileIdResolver,
  Fs,
  Mover,
  QuotaReporter,
  ReadOptions,
  TransferResult,
  WriteOptions,
  WriteResult,
} from './types.js';

export class ScopedFs implements Fs {
  readonly root: string;
  move?: Mover['move'];
  copy?: Copier['copy'];
  getProps?: DeadProps['getProps'];
  patchProps?: DeadProps['patchProps'];
  quota?: QuotaReporter['quota'];
  pathById?: FileIdResolver['pathById'];
  openEntry?: EntryOpener['openEntry'];

  constructor(
    private readonly inner: Fs,
    root: string,
  ) {
    this.root = normalizePath(root);
    const inn = inner;
    if (isMover(inn)) {
      this.move = async (from, to, o) => this.mapResult(await inn.move(this.outerMutable(from), this.outerMutable(to), o));
    }
    if (isCopier(inn)) {
      this.copy = async (from, to, o) => this.mapResult(await inn.copy(this.outer(from), this.outerMutable(to), o));
    }
    if (hasDeadProps(inn)) {
      this.getProps = async (p) => inn.getProps(this.outer(p));
      this.patchProps = async (p, patch) => inn.patchProps(this.outer(p), patch);
    }
    if (hasQuota(inn)) this.quota = () => inn.quota();
    if (hasEntryOpener(inn)) {
      this.openEntry = async (p, o) => {
        const { entry, body } = await inn.openEntry(this.outer(p), o);
        return { entry: this.inward(entry), body };
      };
    }
    if (hasFileIds(inn)) {
      this.pathById = async (id) => {
        const p = await inn.pathById(id);
        if (!isWithin(p, this.root)) throw new NotFoundError('no such file in this share');
        return relativeTo(p, this.root);
      };
    }
  }

  /** Path in the inner Fs for a path of this view. */
  outer(path: string): string {
    const p = normalizePath(path);
    return p === '/' ? this.root : normalizePath(this.root + p);
  }

  /** Like `outer`, for operations that would replace or remove the root itself. */
  private outerMutable(path: string): string {
    const p = normalizePath(path);
    if (p === '/') throw new ForbiddenError('the root of a share cannot be moved, replaced or removed');
    return this.outer(p);
  }

  /** An inner entry as seen through this view. */
  inward(e: Entry): Entry {
    if (!isWithin(e.path, this.root)) throw new NotFoundError('outside the shared subtree');
    const path = relativeTo(e.path, this.root);
    return { ...e, path, name: path === '/' ? '' : e.name };
  }

  private mapResult(r: TransferResult): TransferResult {
    return { ...r, entry: this.inward(r.entry) };
  }

  async stat(path: string): Promise<Entry> {
    return this.inward(await this.inner.stat(this.outer(path)));
  }

  async list(path: string): Promise<Entry[]> {
    return (await this.inner.list(this.outer(path))).map((e) => this.inward(e));
  }

  async openRead(path: string, options?: ReadOptions): Promise<Readable> {
    return this.inner.openRead(this.outer(path), options);
  }

  async write(path: string, body: Readable, options?: WriteOptions): Promise<WriteResult> {
    const r = await this.inner.write(this.outer(path), body, options);
    return { ...r, entry: this.inward(r.entry) };
  }

  async mkdir(path: string): Promise<Entry> {
    return this.inward(await this.inner.mkdir(this.outerMutable(path)));
  }

  async remove(path: string): Promise<void> {
    return this.inner.remove(this.outerMutable(path));
  }
}
