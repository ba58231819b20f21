/**
 * Grant verbs of `api/storage/`: AddGrant, UpdateGrant (add or replace the grantee's grant),
 * DenyGrant (a deny entry: every permission false), RemoveGrant, ListGrants (every one of the 19
 * permission keys as a boolean — revad panics on a missing key).
 */
import { BadRequestError } from '../../errors.js';
import { hasGrants } from '../../fs/guards.js';
import type { Grant } from '../../fs/types.js';
import { done, json, need, type StorageCall, type Verb } from './call.js';
import { resolveRef } from './reference.js';
import { grantJson, PERMISSION_KEYS } from './resource.js';
import { grantSchema, readBody, referenceSchema, type GranteeWire } from './wire.js';

const KNOWN = new Set<string>(PERMISSION_KEYS);

/** Grantee in either spelling → meshdav's Grant grantee. */
export function granteeOf(w: GranteeWire): Grant['grantee'] {
  const user = w.id?.user_id ?? w.user_id;
  const group = w.id?.group_id ?? w.group_id;
  const typeGroup = w.type === 2 || w.type === 'GRANTEE_TYPE_GROUP';
  const typeUser = w.type === 1 || w.type === 'GRANTEE_TYPE_USER';
  if (w.type !== undefined && !typeGroup && !typeUser) throw new BadRequestError('g.grantee.type must be 1 (user) or 2 (group)');
  const isGroup = typeGroup || (!typeUser && !user && Boolean(group));
  const id = isGroup ? group : user;
  if (!id?.opaque_id) throw new BadRequestError('g.grantee needs an id with an opaque_id');
  const out: Grant['grantee'] = { type: isGroup ? 'group' : 'user', id: id.opaque_id };
  if (id.idp) out.idp = id.idp;
  return out;
}

function permissionsOf(p: Record<string, boolean | null> | null | undefined): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(p ?? {})) {
    if (!KNOWN.has(k)) throw new BadRequestError(`unknown permission "${k}"`);
    if (v === true) out.push(k);
  }
  return out;
}

async function setGrant(call: StorageCall, deny: boolean): Promise<void> {
  const body = await readBody(call.ctx, grantSchema, call.jsonLimit);
  const path = await resolveRef(call.fs, body.ref);
  const grantee = granteeOf(body.g.grantee);
  const store = need(call.fs, hasGrants, 'grants');
  await call.fs.stat(path);
  const grant: Grant = deny ? { grantee, permissions: [], denied: true } : { grantee, permissions: permissionsOf(body.g.permissions) };
  await store.setGrant(path, grant);
  done(call.ctx);
}

export const grantVerbs: Record<string, Verb<StorageCall>> = {
  AddGrant: { method: 'POST', handler: (call) => setGrant(call, false) },
  UpdateGrant: { method: 'POST', handler: (call) => setGrant(call, false) },
  DenyGrant: { method: 'POST', handler: (call) => setGrant(call, true) },

  RemoveGrant: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, grantSchema, call.jsonLimit);
      const path = await resolveRef(call.fs, body.ref);
      await need(call.fs, hasGrants, 'grants').removeGrant(path, granteeOf(body.g.grantee));
      done(call.ctx);
    },
  },

  ListGrants: {
    method: 'POST',
    handler: async (call) => {
      const ref = await readBody(call.ctx, referenceSchema, call.jsonLimit);
      const path = await resolveRef(call.fs, ref);
      const grants = await need(call.fs, hasGrants, 'grants').listGrants(path);
      json(call.ctx, grants.map(grantJson));
    },
  },
};
