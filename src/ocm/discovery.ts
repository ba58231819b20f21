/**
 * OCM discovery: the document this node serves at `/.well-known/ocm` and `/ocm-provider`, and the
 * client that discovers other sites (well-known first, then /ocm-provider), cached per origin.
 */
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { BadGatewayError, ForbiddenError, GatewayTimeoutError, MeshdavError } from '../errors.js';
import type { ProviderTrust } from './addresses.js';
import { normalizeProvider } from './addresses.js';
import type { RemoteClient } from './remote.js';
import type { PublicKeyInfo } from './signatures.js';

export const WEBDAV_SHARE_PATH = '/remote.php/dav/ocm/';

/** The discovery document of this node (ocm.md), with the key it signs its requests with (signatures.ts). */
export function discoveryDocument(publicUrl: string, publicKey: PublicKeyInfo, options: { requireTokenExchange?: boolean } = {}) {
  const resource = (name: string) => ({ name, shareTypes: ['user'], protocols: { webdav: WEBDAV_SHARE_PATH } });
  return {
    enabled: true,
    apiVersion: '1.1.0',
    endPoint: `${publicUrl}/ocm`,
    provider: 'meshdav',
    resourceTypes: [resource('file'), resource('folder')],
    capabilities: ['invites', 'notifications', 'protocol-object', 'http-sig', 'exchange-token'],
    criteria: options.requireTokenExchange ? ['must-invite', 'must-exchange-token'] : ['must-invite'],
    inviteAcceptDialog: `${publicUrl}/accept-invite`,
    tokenEndPoint: `${publicUrl}/ocm/token`,
    publicKey,
  };
}

/** What we keep of another site's discovery. Liberal: reva mixes strings and objects in `protocols`. */
const remoteDiscoverySchema = z.object({
  enabled: z.boolean().optional(),
  apiVersion: z.string().optional(),
  endPoint: z.string().url(),
  provider: z.string().optional(),
  resourceTypes: z
    .array(z.object({ name: z.string(), protocols: z.record(z.string(), z.unknown()).optional() }).passthrough())
    .optional(),
  capabilities: z.array(z.string()).optional(),
  criteria: z.array(z.string()).optional().catch(undefined),
  tokenEndPoint: z.string().url().optional().catch(undefined),
  // Nextcloud and OCM 1.2 say keyId; the 1.2 spec.yaml said id.
  publicKey: z
    .object({ keyId: z.string().optional(), id: z.string().optional(), publicKeyPem: z.string() })
    .passthrough()
    .optional()
    .catch(undefined),
});

export interface RemoteDiscovery {
  /** Base URL the discovery was found at (scheme://host[:port]). */
  origin: string;
  /** OCM API endpoint, no trailing slash. */
  endPoint: string;
  /** WebDAV root for relative share URIs, absolute (`https://host/remote.php/dav/ocm`), no trailing slash. */
  webdavRoot: string;
  apiVersion?: string;
  provider?: string;
  /** The key the site signs its OCM requests with (draft-cavage), when it publishes one. */
  publicKey?: PublicKeyInfo;
  /** The site lists the `http-sig` capability: it signs with, and checks, RFC 9421 signatures (JWK Set at /.well-known/jwks.json). */
  httpSig: boolean;
  /** The OCM features the site lists (`invites`, `http-sig`, `exchange-token`, …). */
  capabilities: string[];
  /** What the site requires of the shares it receives (`must-exchange-token`, …). */
  criteria: string[];
  /** Where the site exchanges a share's secret for an access token (the code flow), when it does. */
  tokenEndPoint?: string;
}

export class DiscoveryClient {
  private readonly cache = new LRUCache<string, RemoteDiscovery>({ max: 500, ttl: 10 * 60_000 });

  constructor(
    private readonly remote: RemoteClient,
    private readonly trust: ProviderTrust,
  ) {}

  /**
   * Discovers a trusted provider. ForbiddenError when it is not trusted (nothing is contacted);
   * BadGatewayError / GatewayTimeoutError when it cannot be reached or serves no valid document.
   */
  async discover(provider: string, options: { fresh?: boolean } = {}): Promise<RemoteDiscovery> {
    const domain = normalizeProvider(provider);
    if (!this.trust.isTrusted(domain)) throw new ForbiddenError(`provider ${domain} is not trusted`);
    const hit = options.fresh ? undefined : this.cache.get(domain);
    if (hit) return hit;
    let last: MeshdavError | undefined;
    for (const base of this.trust.baseUrls(domain)) {
      for (const path of ['/.well-known/ocm', '/ocm-provider']) {
        try {
          const found = await this.fetchOne(base, path);
          if (found) {
            this.cache.set(domain, found);
            return found;
          }
        } catch (err) {
          if (!(err instanceof BadGatewayError || err instanceof GatewayTimeoutError)) throw err;
          last = err;
          // A site that cannot be reached at all will not answer the legacy path either.
          break;
        }
      }
    }
    throw last ?? new BadGatewayError(`${domain} serves no OCM discovery document`);
  }

  /** Forgets a cached discovery (after a failure that suggests it is stale). */
  forget(provider: string): void {
    this.cache.delete(normalizeProvider(provider));
  }

  /**
   * One discovery document, following up to three redirects on the same origin (Nextcloud and
   * reva redirect their discovery paths); undefined when there is none at this path.
   */
  private async fetchOne(base: string, path: string): Promise<RemoteDiscovery | undefined> {
    let url = base + path;
    let res = await this.remote.get(url);
    for (let hops = 0; hops < 3 && res.status >= 300 && res.status < 400 && res.location; hops++) {
      const next = new URL(res.location, url);
      if (next.origin !== new URL(base).origin) return undefined;
      url = next.href;
      res = await this.remote.get(url);
    }
    if (res.status !== 200) return undefined;
    const parsed = remoteDiscoverySchema.safeParse(res.json);
    if (!parsed.success || parsed.data.enabled === false) return undefined;
    const doc = parsed.data;
    const endPoint = doc.endPoint.replace(/\/+$/, '');
    const origin = new URL(endPoint).origin;
    let webdav: string | undefined;
    for (const rt of doc.resourceTypes ?? []) {
      const w = rt.protocols?.webdav;
      if (typeof w === 'string') {
        webdav = w;
        break;
      }
    }
    const root = webdav ?? '/public.php/webdav/';
    const webdavRoot = (/^https?:\/\//i.test(root) ? root : origin + (root.startsWith('/') ? root : '/' + root)).replace(/\/+$/, '');
    const keyId = doc.publicKey?.keyId ?? doc.publicKey?.id;
    const publicKey = keyId && doc.publicKey ? { keyId, publicKeyPem: doc.publicKey.publicKeyPem } : undefined;
    const httpSig = doc.capabilities?.includes('http-sig') ?? false;
    // On the site's own host only: this node posts shares' secrets there (no request to hosts a discovery names elsewhere).
    const advertised = doc.tokenEndPoint;
    const onSiteHost = advertised !== undefined && /^https?:\/\//i.test(advertised) && new URL(advertised).host === new URL(endPoint).host;
    const tokenEndPoint = onSiteHost ? advertised : undefined;
    return {
      origin,
      endPoint,
      webdavRoot,
      apiVersion: doc.apiVersion,
      provider: doc.provider,
      httpSig,
      capabilities: doc.capabilities ?? [],
      criteria: doc.criteria ?? [],
      ...(tokenEndPoint ? { tokenEndPoint } : {}),
      ...(publicKey ? { publicKey } : {}),
    };
  }
}
