/**
 * The receiving side of the OCM code flow: exchanges a share's secret for an access token at the
 * sender's `tokenEndPoint` (discovery), with a form-encoded request signed like every OCM
 * request (RFC 9421 to a site that lists `http-sig`): `grant_type=authorization_code`,
 * `client_id=<this node's domain>`, `code=<secret>`. Used by mounts of shares whose sender
 * requires it (`must-exchange-token`, src/mounts/exchanged-token.ts).
 */
import type { Config } from '../config.js';
import { providerDomain } from '../config.js';
import { BadGatewayError, UnauthorizedError } from '../errors.js';
import type { DiscoveryClient } from './discovery.js';
import type { RemoteClient } from './remote.js';

/** The sender refused the secret (invalid_grant, unauthorized_client): it no longer grants the share. */
export class TokenRefusedError extends UnauthorizedError {}

/** Lifetime assumed when the sender names none (the OCM draft's example value). */
const DEFAULT_EXPIRES_S = 300;

export class TokenClient {
  constructor(private readonly deps: { config: Config; discovery: DiscoveryClient; remote: RemoteClient }) {}

  /**
   * An access token for the share whose secret is `secret`, from `provider`'s token endpoint.
   * TokenRefusedError when the sender refuses the secret; BadGatewayError / GatewayTimeoutError
   * when it cannot be reached, has no token endpoint or answers otherwise.
   */
  async exchange(provider: string, secret: string): Promise<{ accessToken: string; expiresIn: number }> {
    const disco = await this.deps.discovery.discover(provider);
    if (!disco.tokenEndPoint) throw new BadGatewayError(`${provider} requires a token exchange but names no tokenEndPoint`);
    const res = await this.deps.remote.postForm(
      disco.tokenEndPoint,
      { grant_type: 'authorization_code', client_id: providerDomain(this.deps.config.publicUrl), code: secret },
      disco,
    );
    const body = (res.json ?? {}) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
    if (res.status === 200 && typeof body.access_token === 'string' && body.access_token) {
      const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_EXPIRES_S;
      return { accessToken: body.access_token, expiresIn };
    }
    if (res.status >= 400 && res.status < 500 && (body.error === 'invalid_grant' || body.error === 'unauthorized_client')) {
      throw new TokenRefusedError(`${provider} refused the share's secret (${body.error})`);
    }
    throw new BadGatewayError(`${provider}'s token endpoint answered ${res.status}${typeof body.error === 'string' ? ` (${body.error.slice(0, 100)})` : ''}`);
  }
}
