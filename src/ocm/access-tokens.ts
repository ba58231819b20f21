/**
 * Short-lived bearer tokens this node issues at its OCM token endpoint (the code flow: a
 * receiving site exchanges a share's secret for one, token-endpoint.ts), each opening exactly its
 * share at the share WebDAV endpoint until it expires (or the share is revoked: the endpoint
 * looks the share up on every request). Kept in memory only: after a restart the
 * receiver's next request gets a 401 and it exchanges the secret again.
 */
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** Lifetime of an access token, in seconds. */
export const ACCESS_TOKEN_TTL_S = 900;

export class AccessTokens {
  private readonly tokens = new LRUCache<string, { shareId: string }>({ max: 100_000, ttl: ACCESS_TOKEN_TTL_S * 1000, ttlAutopurge: false });

  /** Tokens issued since the start (for /metrics). */
  issued = 0;

  /** A new token for share `shareId`, valid ACCESS_TOKEN_TTL_S seconds. */
  issue(shareId: string): { token: string; expiresIn: number } {
    this.issued++;
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, { shareId });
    return { token, expiresIn: ACCESS_TOKEN_TTL_S };
  }

  /** The share a live token opens, or undefined. */
  shareOf(token: string): string | undefined {
    return this.tokens.get(token)?.shareId;
  }
}
