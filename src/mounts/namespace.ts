/**
 * A user's namespace: their LocalFs home with the mount points of their received shares
 * overlaid under the sharesFolder (an overlay Fs; the DAV and EFSS layers see one tree).
 *
 * Contracts:
 *   - the sharesFolder exists in the namespace even when absent on disk (created on disk on the
 *     first local write below it); its list() holds the local entries plus one entry per mount
 *     point, with the remote root's size and ETag, the share's permissions and `entry.remote`
 *     (state `unavailable` when the sender cannot be reached; revoked mounts are left out);
 *   - every call below a mount point goes to that share's Fs with the path rebased; entries
 *     come back rebased, their permissions cut to the share's, file ids prefixed by the mount;
 *   - writes below a mount need the share's CREATE (new), UPDATE (existing) or DELETE bits,
 *     else ForbiddenError; removing a mount point leaves the share (as in Nextcloud), moving it
 *     within the sharesFolder renames it; it is never overwritten;
 *   - move/copy across a mount boundary is transfer() (streamed copy, plus delete for a move);
 *   - the home's other abilities (dead props, quota, versions, trash, grants, metadata, file
 *     ids) are forwarded for home paths; below a mount, dead props live in MountProps.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { LRUCache } from 'lru-cache';
import { AlreadyExistsError, ForbiddenError, NotFoundError, PreconditionFailedError } from '../errors.js';
import { transfer } from '../fs/fallbacks.js';
import { baseName, isWithin, joinPath, normalizePath, parentPath, relativeTo } from '../fs/path.js';
import {
  Perm,
  type Entry,
  type Fs,
  type ReadOptions,
  type TransferOptions,
  type TransferResult,
  type WriteOptions,
  type WriteResult,
} from '../fs/types.js';
import { forwardHomeAbilities } from './namespace-abilities.js';
import type { MountProps } from './mount-props.js';
import type { MountRecord } from './mount-table.js';
import { isShareRevoked } from './remote-errors.js';

export interface MountedShare {
  record: MountRecord;
  /** CachedFs(RemoteFs) of the share. */
  fs: Fs;
}

type Route = { kind: 'home'; path: string } | { kind: 'mount'; path: string; mount: MountedShare; rel: string };

export class NamespaceFs implements Fs {
  constructor(
    readonly home: Fs,
    readonly sharesFolder: string,
    private readonly mounts: () => MountedShare[],
    readonly user: string,
  ) {
    forwardHomeAbilities(this);
  }

  /** Where `path` lives: the home, or a mount with the path inside the share. */
  route(path: string): Route {
    const p = normalizePath(path);
    if (isWithin(p, this.sharesFolder) && p !== this.sharesFolder) {
      for (const mount of this.mounts()) {
        const at = this.mountPath(mount);
        if (isWithin(p, at)) return { kind: 'mount', path: p, mount, rel: relativeTo(p, at) };
      }
    }
    return { kind: 'home', path: p };
  }

  mountPath(m: MountedShare): string {
    return joinPath(this.sharesFolder, m.record.name);
  }

  async stat(path: string): Promise<Entry> {
    const r = this.route(path);
    if (r.kind === 'mount') return this.rebase(await r.mount.fs.stat(r.rel), r.mount);
    if (r.path === this.sharesFolder) return this.sharesFolderEntry();
    return this.home.stat(r.path);
  }

  async list(path: string): Promise<Entry[]> {
    const r = this.route(path);
    if (r.kind === 'mount') return (await r.mount.fs.list(r.rel)).map((e) => this.rebase(e, r.mount));
    if (r.path === this.sharesFolder) {
      const mounts = this.mounts();
      const names = new Set(mounts.map((m) => m.record.name));
      const local = (await this.homeListOrEmpty(r.path)).filter((e) => !names.has(e.name));
      const points = await Promise.all(mounts.map((m) => this.mountPointEntry(m)));
      return [...local, ...points.filter((e): e is Entry => e !== undefined)];
    }
    const entries = await this.home.list(r.path);
    if (r.path === parentPath(this.sharesFolder) && !entries.some((e) => e.path === this.sharesFolder)) {
      entries.push(await this.sharesFolderEntry());
    }
    return entries;
  }

  async openRead(path: string, options?: ReadOptions): Promise<Readable> {
    const r = this.route(path);
    return r.kind === 'home' ? this.home.openRead(r.path, options) : this.openInMount(r.mount, r.rel, options);
  }

  /** The content of `rel` in `mount`, counted as a transfer until its stream closes. */
  async openInMount(mount: MountedShare, rel: string, options?: ReadOptions): Promise<Readable> {
    const stream = await mount.fs.openRead(rel, options);
    const end = this.activity?.begin(false);
    if (end) stream.once('close', end);
    return stream;
  }

  async write(path: string, body: Readable, options?: WriteOptions): Promise<WriteResult> {
    const r = this.route(path);
    if (r.kind === 'home') {
      await this.ensureSharesFolder(r.path);
      return this.home.write(r.path, body, options);
    }
    await this.checkWrite(r.mount, r.rel);
    const end = this.activity?.begin(false);
    try {
      const result = await r.mount.fs.write(r.rel, body, options);
      return { ...result, entry: this.rebase(result.entry, r.mount) };
    } finally {
      end?.();
    }
  }

  async mkdir(path: string): Promise<Entry> {
    const r = this.route(path);
    if (r.kind === 'home') {
      if (r.path === this.sharesFolder) {
        if (await this.homeExists(r.path)) throw new AlreadyExistsError();
        return this.home.mkdir(r.path);
      }
      await this.ensureSharesFolder(r.path);
      return this.home.mkdir(r.path);
    }
    if (r.rel === '/') throw new AlreadyExistsError('a share is mounted here');
    need(r.mount, Perm.CREATE);
    return this.rebase(await r.mount.fs.mkdir(r.rel), r.mount);
  }

  async remove(path: string): Promise<void> {
    const r = this.route(path);
    if (r.kind === 'home') {
      // Removing the sharesFolder (or an ancestor) removes its local part only; mounts stay.
      if (r.path === this.sharesFolder && !(await this.homeExists(r.path))) throw new ForbiddenError('the shares folder holds only mounts');
      return this.home.remove(r.path);
    }
    if (r.rel === '/') {
      // As in Nextcloud: deleting the mount point leaves (declines) the share.
      if (!this.mountOps) throw new ForbiddenError('a mounted share is removed by declining it');
      await this.mountOps.leave(r.mount.record);
      return;
    }
    need(r.mount, Perm.DELETE);
    await r.mount.fs.remove(r.rel);
    if (this.props) await this.props.forget(r.mount.record.id, r.rel);
  }

  move(from: string, to: string, options: TransferOptions): Promise<TransferResult> {
    return this.transfer('move', from, to, options);
  }

  copy(from: string, to: string, options: TransferOptions & { depth?: 0 | 'infinity' }): Promise<TransferResult> {
    return this.transfer('copy', from, to, options);
  }

  /** Set by the Mounts service: leaving a share (DELETE of its mount point) and renaming a mount point. */
  mountOps?: {
    leave(record: MountRecord): Promise<void>;
    rename(record: MountRecord, name: string): Promise<void>;
  };

  /** Set by the Mounts service: dead properties of paths below mounts. */
  props?: MountProps;
  /** Set by the Mounts service: where recently seen mounted file ids live (for pathById). */
  ids?: LRUCache<string, string>;
  /**
   * Set by the Mounts service: the node's transfer activity (storage/activity.ts). Reads and
   * writes through mounts count, so background work (deferred checksums) waits for them as it
   * waits for local transfers: a warm mount read during a 1 GiB file's checksums ran at about
   * half speed.
   */
  activity?: { begin(large?: boolean): () => void };

  private remember(fileId: string, path: string): string {
    this.ids?.set(`${this.user}\0${fileId}`, path);
    return fileId;
  }

  /** Path of a mounted entry by its (prefixed) file id, as last seen; NotFoundError when unknown or gone. */
  async mountedPathById(fileId: string): Promise<string> {
    const path = this.ids?.get(`${this.user}\0${fileId}`);
    if (path) {
      const entry = await this.stat(path).catch(() => undefined);
      if (entry?.fileId === fileId) return path;
    }
    throw new NotFoundError('no such file id in the mounted shares');
  }

  private async transfer(
    mode: 'move' | 'copy',
    from: string,
    to: string,
    options: TransferOptions & { depth?: 0 | 'infinity' },
  ): Promise<TransferResult> {
    const src = this.route(from);
    const dst = this.route(to);
    if (src.kind === 'mount' && src.rel === '/' && mode === 'move') return this.renameMount(src.mount, dst, options);
    if (dst.kind === 'mount' && dst.rel === '/') throw new ForbiddenError('a share is mounted at the destination');
    if (src.kind === 'home' && mode === 'move' && src.path === this.sharesFolder) throw new ForbiddenError('the shares folder cannot be moved');
    if (src.kind === 'mount' && mode === 'move') need(src.mount, Perm.DELETE);
    if (dst.kind === 'mount') await this.checkWrite(dst.mount, dst.rel);
    if (dst.kind === 'home') await this.ensureSharesFolder(dst.path);
    const srcFs = src.kind === 'mount' ? src.mount.fs : this.home;
    const dstFs = dst.kind === 'mount' ? dst.mount.fs : this.home;
    const result = await transfer(srcFs, src.kind === 'mount' ? src.rel : src.path, dstFs, dst.kind === 'mount' ? dst.rel : dst.path, {
      mode,
      overwrite: options.overwrite,
      depth: options.depth,
      signal: options.signal,
    });
    if (this.props && src.kind === 'mount') {
      // Dead properties kept here for mounted paths follow the resource (mount to mount).
      if (dst.kind === 'mount') await this.props.copyTree(src.mount.record.id, src.rel, dst.mount.record.id, dst.rel);
      if (mode === 'move') await this.props.forget(src.mount.record.id, src.rel);
    } else if (this.props && dst.kind === 'mount') {
      await this.props.forget(dst.mount.record.id, dst.rel);
    }
    return { ...result, entry: dst.kind === 'mount' ? this.rebase(result.entry, dst.mount) : result.entry };
  }

  /** MOVE of a mount point to another name directly in the sharesFolder renames the mount. */
  private async renameMount(mount: MountedShare, dst: Route, options: TransferOptions): Promise<TransferResult> {
    if (!this.mountOps || dst.kind !== 'home' || parentPath(dst.path) !== this.sharesFolder) {
      throw new ForbiddenError('a mount point can only be renamed within the shares folder');
    }
    const taken = await this.homeExists(dst.path);
    if (taken && !options.overwrite) throw new PreconditionFailedError('the destination exists');
    if (taken) throw new ForbiddenError('a mount point does not replace a local folder');
    await this.mountOps.rename(mount.record, baseName(dst.path));
    return { entry: await this.stat(dst.path), replaced: false };
  }

  private async checkWrite(mount: MountedShare, rel: string): Promise<void> {
    let exists = true;
    try {
      await mount.fs.stat(rel);
    } catch (err) {
      if (!(err instanceof NotFoundError) || isShareRevoked(err)) throw err;
      exists = false;
    }
    need(mount, exists ? Perm.UPDATE : Perm.CREATE);
  }

  /** An entry of the share, as seen at its place in this namespace. */
  rebase(e: Entry, m: MountedShare): Entry {
    const at = this.mountPath(m);
    const origin = { ...(e.remote ?? m.record.origin), state: 'ok' as const };
    return {
      ...e,
      path: e.path === '/' ? at : at + e.path,
      name: e.path === '/' ? m.record.name : e.name,
      permissions: e.permissions & m.record.permissions,
      fileId: this.remember(`${mountIdPrefix(m.record)}${e.fileId}`, e.path === '/' ? at : at + e.path),
      remote: origin,
    };
  }

  private async mountPointEntry(m: MountedShare): Promise<Entry | undefined> {
    try {
      return this.rebase(await m.fs.stat('/'), m);
    } catch (err) {
      if (isShareRevoked(err)) return undefined;
      const path = this.mountPath(m);
      return {
        path,
        name: m.record.name,
        type: 'dir',
        size: 0,
        mtime: m.record.createdAt,
        etag: 'unavailable-' + m.record.id,
        fileId: `${mountIdPrefix(m.record)}root`,
        mime: 'httpd/unix-directory',
        permissions: Perm.READ,
        remote: { ...m.record.origin, state: 'unavailable' },
      };
    }
  }

  private async sharesFolderEntry(): Promise<Entry> {
    const local = await this.home.stat(this.sharesFolder).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    const points = await Promise.all(this.mounts().map((m) => this.mountPointEntry(m)));
    const hash = createHash('sha1').update(local?.etag ?? '');
    for (const p of points) if (p) hash.update(`\0${p.name}\0${p.etag}`);
    const name = this.sharesFolder.slice(1);
    return {
      ...(local ?? {
        path: this.sharesFolder,
        name,
        type: 'dir' as const,
        size: 0,
        // Never 0 (clients refuse 1970): the newest of the home root and the mounts' creation.
        mtime: Math.max((await this.home.stat('/')).mtime, ...this.mounts().map((m) => m.record.createdAt)),
        fileId: `shares-${this.user}`,
        mime: 'httpd/unix-directory',
        permissions: Perm.READ | Perm.CREATE,
      }),
      size: (local?.size ?? 0) + points.reduce((s, p) => s + (p?.size ?? 0), 0),
      etag: local && points.length === 0 ? local.etag : hash.digest('hex').slice(0, 32),
    };
  }

  private async homeExists(path: string): Promise<boolean> {
    try {
      await this.home.stat(path);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  private async homeListOrEmpty(path: string): Promise<Entry[]> {
    try {
      return await this.home.list(path);
    } catch (err) {
      if (err instanceof NotFoundError) return [];
      throw err;
    }
  }

  /** Creates the sharesFolder on disk before the first local write below it. */
  private async ensureSharesFolder(path: string): Promise<void> {
    if (path === this.sharesFolder || !isWithin(path, this.sharesFolder)) return;
    if (await this.homeExists(this.sharesFolder)) return;
    try {
      await this.home.mkdir(this.sharesFolder);
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
    }
  }
}

/** File ids inside a mount: `mount-{8 hex of the mount id}-{remote id}` (local ids are numeric). */
export const MOUNT_ID_PATTERN = /^mount-[0-9a-f]{8}-/;

function mountIdPrefix(record: MountRecord): string {
  return `mount-${createHash('sha1').update(record.id).digest('hex').slice(0, 8)}-`;
}

export function need(mount: MountedShare, bit: number): void {
  if ((mount.record.permissions & bit) !== bit) throw new ForbiddenError('the share does not allow this');
}
