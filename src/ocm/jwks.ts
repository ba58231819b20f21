/**
 * The JWK Sets other sites publish at `/.well-known/jwks.json` (OCM 1.3+, RFC 7517), whose keys
 * check their RFC 9421 request signatures (message-signatures.ts). Fetched from a site's
 * discovered origin, cached per origin; a `fresh` lookup fetches again (a site that made a new key).
 */
import type { JsonWebKey } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { RemoteClient } from './remote.js';

export class JwksClient {
  private readonly cache = new LRUCache<string, JsonWebKey[]>({ max: 500, ttl: 10 * 60_000 });
  /** One fetch per origin at a time. */
  private readonly inFlight = new Map<string, Promise<JsonWebKey[]>>();

  constructor(private readonly remote: RemoteClient) {}

  /**
   * The key whose `kid` is exactly `kid` in the JWK Set at `origin` (scheme://host[:port]);
   * undefined when the set has none, or the site serves no set. Network failures throw
   * (BadGatewayError / GatewayTimeoutError, from RemoteClient).
   */
  async key(origin: string, kid: string, fresh = false): Promise<JsonWebKey | undefined> {
    const keys = (fresh ? undefined : this.cache.get(origin)) ?? (await this.fetch(origin));
    return keys.find((k) => k.kid === kid);
  }

  /** The kids of the JWK Set at `origin`, fetched now (`meshdav peer check`). */
  async kids(origin: string): Promise<string[]> {
    return (await this.fetch(origin)).map((k) => String(k.kid));
  }

  private fetch(origin: string): Promise<JsonWebKey[]> {
    let p = this.inFlight.get(origin);
    if (!p) {
      p = this.load(origin).finally(() => this.inFlight.delete(origin));
      this.inFlight.set(origin, p);
    }
    return p;
  }

  private async load(origin: string): Promise<JsonWebKey[]> {
    const res = await this.remote.get(`${origin}/.well-known/jwks.json`);
    const set = res.status === 200 ? (res.json as { keys?: unknown } | undefined) : undefined;
    const keys = Array.isArray(set?.keys) ? (set.keys as unknown[]).filter((k): k is JsonWebKey => typeof k === 'object' && k !== null && typeof (k as JsonWebKey).kid === 'string') : [];
    this.cache.set(origin, keys);
    return keys;
  }
}
