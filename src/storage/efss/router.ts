/**
 * The revad-facing EFSS API: `/index.php/apps/sciencemesh/~{uid}/api/{storage|auth|user}/{Verb}…`
 * and the same without `/index.php`. Only those three areas are matched here; anything else
 * (including `api/ocm/…`) passes to the next middleware untouched.
 *
 * Order of checks: X-Reva-Secret (401 JSON) → known verb (404 JSON) → method (405) → for storage,
 * a known user (404) → the verb's own body validation (400). Errors are rendered as
 * `{"error","code"}` by the outer error middleware.
 */
import type { Context, Next } from 'koa';
import type { Namespaces, Services } from '../../services.js';
import { BadRequestError, MethodNotAllowedError, NotFoundError, ServiceUnavailableError } from '../../errors.js';
import { requireRevaSecret } from '../../auth/reva-secret.js';
import { providerDomain } from '../../config.js';
import type { EfssCall, StorageCall, Verb } from './call.js';
import { storageVerbs } from './storage-verbs.js';
import { historyVerbs } from './history-verbs.js';
import { grantVerbs } from './grant-verbs.js';
import { transferVerbs } from './transfer-verbs.js';
import { authVerbs, userVerbs } from './user-verbs.js';

const ROUTE = /^(?:\/index\.php)?\/apps\/sciencemesh\/(?:~|%7[Ee])([^/]+)\/api\/(storage|auth|user)(?:\/([^/]*)(?:\/(.*))?)?$/;

const STORAGE: Record<string, Verb<StorageCall>> = { ...storageVerbs, ...historyVerbs, ...grantVerbs, ...transferVerbs };
const AREAS = { storage: STORAGE, auth: authVerbs, user: userVerbs } as Record<string, Record<string, Verb<never>>>;

/** Every verb this router answers, by area (the fixtures test checks each is covered). */
export const EFSS_VERBS: Record<'storage' | 'auth' | 'user', string[]> = {
  storage: Object.keys(STORAGE),
  auth: Object.keys(authVerbs),
  user: Object.keys(userVerbs),
};

function namespacesOf(services: Services): Namespaces {
  const ns = (services as Services & { namespaces?: Namespaces }).namespaces;
  if (!ns) throw new ServiceUnavailableError('storage is not available on this node');
  return ns;
}

function decodeSegment(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequestError(`invalid percent-encoding in the ${what}`);
  }
}

export function efssMiddleware(services: Services) {
  const checkSecret = requireRevaSecret(services.config);
  const jsonLimit = services.config.limits.jsonBodyBytes;
  const idp = () => providerDomain(services.config.publicUrl);

  return async function efss(ctx: Context, next: Next): Promise<void> {
    const m = ROUTE.exec(ctx.path);
    if (!m) return next();
    const area = m[2]!;
    const verbName = m[3] ?? '';
    const verbs = AREAS[area]!;
    const verb = Object.hasOwn(verbs, verbName) ? (verbs[verbName] as Verb<EfssCall>) : undefined;
    ctx.state.route = verb ? `/apps/sciencemesh/~:uid/api/${area}/${verbName}` : `/apps/sciencemesh/~:uid/api/${area}/:unknown`;
    await checkSecret(ctx, async () => {
      if (!verb || (m[4] !== undefined && !verb.tail)) throw new NotFoundError(`unknown ${area} verb "${verbName}"`);
      if (ctx.method !== verb.method) {
        throw new MethodNotAllowedError(`${verbName} takes ${verb.method}`, { headers: { Allow: verb.method } });
      }
      const uid = decodeSegment(m[1]!, 'user id');
      const call: EfssCall = { ctx, services, uid, tail: m[4] ?? '', jsonLimit };
      if (area !== 'storage') {
        await verb.handler(call);
        return;
      }
      if (!(await services.users.get(uid))) throw new NotFoundError(`no user "${uid}"`);
      const fs = await namespacesOf(services).forUser(uid);
      await (verb as Verb<StorageCall>).handler({ ...call, fs, owner: { uid, idp: idp() } });
    });
  };
}
