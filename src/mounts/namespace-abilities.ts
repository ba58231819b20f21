/**
 * The optional abilities of a NamespaceFs, present exactly when the home has them (so the
 * type guards of src/fs/guards.ts answer for the namespace as for the home). Home paths go to
 * the home; below a mount: dead props in MountProps (writing them needs the share's UPDATE
 * bit), no versions, grants or metadata of ours (empty lists; changes are ForbiddenError).
 */
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import {
  hasDeadProps,
  hasEntryOpener,
  hasFileIds,
  hasGrants,
  hasMetadata,
  hasQuota,
  hasTrash,
  isVersioned,
} from '../fs/guards.js';
import { Perm, type ReadOptions } from '../fs/types.js';
import { MOUNT_ID_PATTERN, need, type MountedShare, type NamespaceFs } from './namespace.js';

type AnyFn = (...args: never[]) => unknown;

export function forwardHomeAbilities(ns: NamespaceFs): void {
  const home = ns.home;
  const target = ns as unknown as Record<string, AnyFn>;
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const byPath =
    (call: (path: string, ...rest: any[]) => Promise<unknown>, inMount: (mount: MountedShare, rel: string, ...rest: any[]) => Promise<unknown>) =>
    (async (path: string, ...rest: any[]) => {
      const r = ns.route(path);
      return r.kind === 'home' ? call(r.path, ...rest) : inMount(r.mount, r.rel, ...rest);
    }) as unknown as AnyFn;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  const forbidden = async (): Promise<never> => {
    throw new ForbiddenError('not available inside a mounted share');
  };

  if (hasDeadProps(home)) {
    target.getProps = byPath(
      (p) => home.getProps(p),
      async (m, rel): Promise<Record<string, string>> => {
        await m.fs.stat(rel);
        return ns.props ? ns.props.get(m.record.id, rel) : {};
      },
    );
    target.patchProps = byPath(
      (p, patch: Parameters<typeof home.patchProps>[1]) => home.patchProps(p, patch),
      async (m, rel, patch) => {
        await m.fs.stat(rel);
        need(m, Perm.UPDATE);
        if (!ns.props) throw new ForbiddenError('dead properties are not kept here');
        await ns.props.patch(m.record.id, rel, patch);
      },
    );
  }
  if (hasEntryOpener(home)) {
    // Stat and open in one: the home's own; below a mount, our stat then the share's content.
    target.openEntry = byPath(
      (p, o?: ReadOptions) => home.openEntry(p, o),
      async (m, rel, o?: ReadOptions) => {
        const entry = ns.rebase(await m.fs.stat(rel), m);
        if (entry.type !== 'file') throw new ConflictError('not a file');
        return { entry, body: await ns.openInMount(m, rel, o) };
      },
    );
  }
  if (hasQuota(home)) target.quota = (() => home.quota()) as AnyFn;
  if (hasFileIds(home)) {
    target.pathById = (async (id: string) => (MOUNT_ID_PATTERN.test(id) ? ns.mountedPathById(id) : home.pathById(id))) as unknown as AnyFn;
  }
  if (isVersioned(home)) {
    target.listVersions = byPath((p) => home.listVersions(p), async () => []);
    target.openVersion = byPath((p, key: string, o?: Parameters<typeof home.openVersion>[2]) => home.openVersion(p, key, o), async () => {
      throw new NotFoundError('no versions inside a mounted share');
    });
    target.restoreVersion = byPath((p, key: string) => home.restoreVersion(p, key), forbidden);
  }
  if (hasTrash(home)) {
    target.listTrash = (() => home.listTrash()) as AnyFn;
    target.restoreTrash = ((key: string, o?: { to?: string }) => home.restoreTrash(key, o)) as unknown as AnyFn;
    target.purgeTrash = ((key: string) => home.purgeTrash(key)) as unknown as AnyFn;
    target.emptyTrash = (() => home.emptyTrash()) as AnyFn;
    if (home.openTrash) target.openTrash = ((key: string, o?: Parameters<NonNullable<typeof home.openTrash>>[1], rel?: string) => home.openTrash!(key, o, rel)) as unknown as AnyFn;
    if (home.listTrashFolder) target.listTrashFolder = ((key: string, rel: string) => home.listTrashFolder!(key, rel)) as unknown as AnyFn;
  }
  if (hasGrants(home)) {
    target.listGrants = byPath((p) => home.listGrants(p), async () => []);
    target.setGrant = byPath((p, g: Parameters<typeof home.setGrant>[1]) => home.setGrant(p, g), forbidden);
    target.removeGrant = byPath((p, g: Parameters<typeof home.removeGrant>[1]) => home.removeGrant(p, g), forbidden);
  }
  if (hasMetadata(home)) {
    target.getMetadata = byPath((p, keys?: string[] | null) => home.getMetadata(p, keys), async () => ({}));
    target.setMetadata = byPath((p, md: Record<string, string>) => home.setMetadata(p, md), forbidden);
    target.unsetMetadata = byPath((p, keys: string[]) => home.unsetMetadata(p, keys), forbidden);
  }
}
