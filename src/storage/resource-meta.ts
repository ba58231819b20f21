/**
 * Per-resource metadata kept in the entry record, so moves carry it for free: dead properties
 * (Clark-notation names, XML fragments stored verbatim), CS3 grants, arbitrary key/values.
 * None of these change the ETag.
 */
import { BadRequestError } from '../errors.js';
import { normalizePath } from '../fs/path.js';
import type { Grant } from '../fs/types.js';
import { locked, recordFor, type HomeContext } from './home.js';
import { resolveExisting } from './layout.js';
import type { EntryRecord } from './meta-store.js';

const CLARK = /^\{[^{}]*\}[^{}\s<>/]+$/;

async function readRecord(home: HomeContext, rawPath: string): Promise<EntryRecord> {
  const path = normalizePath(rawPath);
  const st = await resolveExisting(home.layout.full(home.user, path), path);
  return recordFor(home, path, st);
}

/** Applies `change` to the record of `path` under the lock. */
async function updateRecord(home: HomeContext, rawPath: string, change: (rec: EntryRecord) => EntryRecord): Promise<void> {
  const path = normalizePath(rawPath);
  await locked(home, async (txn) => {
    const st = await resolveExisting(home.layout.full(home.user, path), path);
    const rec = await txn.getOrAdopt(path, st);
    txn.put(path, change(rec));
    await txn.commit();
  });
}

export async function getProps(home: HomeContext, path: string): Promise<Record<string, string>> {
  return { ...((await readRecord(home, path)).props ?? {}) };
}

export async function patchProps(home: HomeContext, path: string, patch: { set?: Record<string, string>; remove?: string[] }): Promise<void> {
  const set = patch.set ?? {};
  const remove = patch.remove ?? [];
  for (const name of [...Object.keys(set), ...remove]) {
    if (!CLARK.test(name)) throw new BadRequestError(`property name "${name}" is not in Clark notation {namespace}name`);
  }
  for (const [name, value] of Object.entries(set)) {
    if (typeof value !== 'string') throw new BadRequestError(`value of ${name} must be a string`);
  }
  await updateRecord(home, path, (rec) => {
    const props = { ...(rec.props ?? {}), ...set };
    for (const name of remove) delete props[name];
    return { ...rec, props };
  });
}

function sameGrantee(a: Grant['grantee'], b: Grant['grantee']): boolean {
  return a.type === b.type && a.id === b.id && (a.idp ?? '') === (b.idp ?? '');
}

function validateGrantee(g: Grant['grantee']): void {
  if (!g || (g.type !== 'user' && g.type !== 'group') || typeof g.id !== 'string' || g.id === '') {
    throw new BadRequestError('grantee needs a type (user or group) and an id');
  }
}

export async function listGrants(home: HomeContext, path: string): Promise<Grant[]> {
  return ((await readRecord(home, path)).grants ?? []).map((g) => ({ ...g, grantee: { ...g.grantee }, permissions: [...g.permissions] }));
}

export async function setGrant(home: HomeContext, path: string, grant: Grant): Promise<void> {
  validateGrantee(grant?.grantee);
  if (!Array.isArray(grant.permissions) || grant.permissions.some((p) => typeof p !== 'string')) {
    throw new BadRequestError('grant permissions must be a list of names');
  }
  const clean: Grant = { grantee: { ...grant.grantee }, permissions: [...grant.permissions] };
  if (grant.denied) clean.denied = true;
  await updateRecord(home, path, (rec) => ({
    ...rec,
    grants: [...(rec.grants ?? []).filter((g) => !sameGrantee(g.grantee, grant.grantee)), clean],
  }));
}

export async function removeGrant(home: HomeContext, path: string, grantee: Grant['grantee']): Promise<void> {
  validateGrantee(grantee);
  await updateRecord(home, path, (rec) => ({ ...rec, grants: (rec.grants ?? []).filter((g) => !sameGrantee(g.grantee, grantee)) }));
}

export async function getMetadata(home: HomeContext, path: string, keys?: string[] | null): Promise<Record<string, string>> {
  const all = (await readRecord(home, path)).meta ?? {};
  if (!keys) return { ...all };
  return Object.fromEntries(keys.filter((k) => k in all).map((k) => [k, all[k]!]));
}

export async function setMetadata(home: HomeContext, path: string, metadata: Record<string, string>): Promise<void> {
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (k === '' || typeof v !== 'string') throw new BadRequestError(`metadata ${k || '(empty key)'} must be a non-empty key with a string value`);
  }
  await updateRecord(home, path, (rec) => ({ ...rec, meta: { ...(rec.meta ?? {}), ...metadata } }));
}

export async function unsetMetadata(home: HomeContext, path: string, keys: string[]): Promise<void> {
  await updateRecord(home, path, (rec) => {
    const meta = { ...(rec.meta ?? {}) };
    for (const k of keys) delete meta[k];
    return { ...rec, meta };
  });
}
