/**
 * `api/auth/` and `api/user/` verbs (efss-api.md), for reva's Nextcloud auth and user managers.
 *  - auth/Authenticate: `{clientID, clientSecret}`; the secret is the user's password or the
 *    node's loopbackSecret. Wrong → 401; too many failures for that user name → 429. revad logs
 *    in for many users from one address, so only the per-name throttle applies here.
 *  - user/GetUser (UserId), GetUserByClaim (`username`|`userid`|`mail`), GetUserGroups (meshdav
 *    has no groups: `[]` for a known user), FindUsers (raw query string body, prefix match).
 * The `idp` of the users returned is this node's provider domain.
 */
import { Buffer } from 'node:buffer';
import { BadRequestError, NotFoundError, UnauthorizedError } from '../../errors.js';
import { providerDomain } from '../../config.js';
import type { User } from '../../auth/user-store.js';
import { json, type EfssCall, type Verb } from './call.js';
import { userJson } from './resource.js';
import { authenticateSchema, claimSchema, readBody, readText, userIdSchema } from './wire.js';

const FIND_LIMIT = 100;
/** The scope reva attaches to the session: the whole namespace, role OWNER (1). */
const OWNER_SCOPE = {
  user: { resource: { decoder: 'json', value: Buffer.from(JSON.stringify({ path: '/' })).toString('base64') }, role: 1 },
};

const idpOf = (call: EfssCall) => providerDomain(call.services.config.publicUrl);

async function known(call: EfssCall, name: string | undefined): Promise<User> {
  const user = name ? await call.services.users.get(name) : undefined;
  if (!user) throw new NotFoundError('user does not exist');
  return user;
}

export const authVerbs: Record<string, Verb> = {
  Authenticate: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, authenticateSchema, call.jsonLimit);
      const name = body.client_id || call.uid;
      if (body.client_id && body.client_id !== call.uid) throw new BadRequestError('clientID does not match the user in the URL');
      if (!body.client_secret) throw new UnauthorizedError('clientSecret is required');
      const user = await call.services.auth.login({ name, secret: body.client_secret });
      json(call.ctx, { user: userJson(user, idpOf(call)), scopes: OWNER_SCOPE });
    },
  },
};

export const userVerbs: Record<string, Verb> = {
  GetUser: {
    method: 'POST',
    handler: async (call) => {
      const id = await readBody(call.ctx, userIdSchema, call.jsonLimit);
      json(call.ctx, userJson(await known(call, id.opaque_id), idpOf(call)));
    },
  },

  GetUserByClaim: {
    method: 'POST',
    handler: async (call) => {
      const { claim, value } = await readBody(call.ctx, claimSchema, call.jsonLimit);
      let user: User | undefined;
      if (claim === 'username' || claim === 'userid' || claim === 'uid') {
        user = await call.services.users.get(value);
      } else if (claim === 'mail' || claim === 'email') {
        const v = value.toLowerCase();
        user = (await call.services.users.list()).find((u) => u.email?.toLowerCase() === v);
      } else {
        throw new BadRequestError(`unsupported claim "${claim}" (username, userid or mail)`);
      }
      if (!user) throw new NotFoundError('user does not exist');
      json(call.ctx, userJson(user, idpOf(call)));
    },
  },

  GetUserGroups: {
    method: 'POST',
    handler: async (call) => {
      const id = await readBody(call.ctx, userIdSchema, call.jsonLimit);
      await known(call, id.opaque_id);
      json(call.ctx, []);
    },
  },

  FindUsers: {
    method: 'POST',
    handler: async (call) => {
      let query = (await readText(call.ctx, call.jsonLimit)).trim();
      if (query.startsWith('"')) {
        // A JSON-encoded string from a caller that marshals the query.
        try {
          const parsed: unknown = JSON.parse(query);
          if (typeof parsed === 'string') query = parsed;
        } catch {
          /* a raw query that merely starts with a quote */
        }
      }
      const users = await call.services.users.search(query, FIND_LIMIT);
      json(call.ctx, users.map((u) => userJson(u, idpOf(call))));
    },
  },
};
