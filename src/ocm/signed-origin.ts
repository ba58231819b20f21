/**
 * Which site an incoming OCM request speaks for, from its signature (signatures.ts) and the
 * signer's discovery: the gate the OCM API routes put in front of every POST.
 */
import type { Context } from 'koa';
import { BadRequestError } from '../errors.js';
import type { DiscoveryClient } from './discovery.js';
import type { JwksClient } from './jwks.js';
import { verifyMessageSignature, type JwkResolver } from './message-signatures.js';
import { verifyRequest, type KeyResolver } from './signatures.js';

/** What the gate saw, for /metrics: requests signed and verified, unsigned and let through, refused. */
export interface SignatureStats {
  verified: number;
  unsigned: number;
  refused: number;
}

export class SignedOrigins {
  /** Host and path prefix of this node's public URL: what a signer signs as the request's host and target. */
  private readonly host: string;
  private readonly prefix: string;

  /** Origin (scheme://host[:port]) of this node's public URL. */
  private readonly origin: string;

  constructor(
    private readonly discovery: DiscoveryClient,
    private readonly jwks: JwksClient,
    publicUrl: string,
    private readonly stats: SignatureStats = { verified: 0, unsigned: 0, refused: 0 },
    /** Told why a request was refused (a log line: no secret is in the reason). */
    private readonly onRefused: (reason: string) => void = () => undefined,
  ) {
    const u = new URL(publicUrl);
    this.host = u.host;
    this.origin = u.origin;
    this.prefix = u.pathname.replace(/\/+$/, '');
  }

  /** The JWK a trusted site publishes under `kid` in its JWK Set (ForbiddenError for an untrusted site). */
  private readonly resolveJwk: JwkResolver = async (identity, kid, fresh) => {
    const found = await this.discovery.discover(identity, { fresh });
    return this.jwks.key(found.origin, kid, fresh);
  };

  /** The draft-cavage key a trusted site publishes under `keyId` (ForbiddenError for an untrusted one). */
  private readonly resolve: KeyResolver = async (identity, keyId, fresh) => {
    const found = await this.discovery.discover(identity, { fresh });
    return found.publicKey?.keyId === keyId ? found.publicKey.publicKeyPem : undefined;
  };

  /**
   * The signer of the request whose raw body is `body`; undefined when it is not signed. An
   * RFC 9421 signature (Signature-Input: message-signatures.ts) or else a draft-cavage one
   * (signatures.ts) is checked. The host and path checked are those of this node's public URL
   * (a signer posts to the endpoint our discovery names), whatever a reverse proxy in front of it
   * rewrote; the Host (and scheme) the request arrived with is tried too.
   */
  async signer(ctx: Context, body: Buffer): Promise<string | undefined> {
    const url = this.prefix && !ctx.url.startsWith(this.prefix + '/') ? this.prefix + ctx.url : ctx.url;
    const req = {
      method: ctx.method,
      url,
      hosts: [this.host, ctx.host],
      targets: [this.origin + url, `${ctx.protocol}://${ctx.host}${url}`],
      header: (name: string) => ctx.get(name),
      body,
    };
    try {
      if (ctx.get('signature-input')) return await verifyMessageSignature(req, this.resolveJwk);
      return await verifyRequest(req, this.resolve);
    } catch (err) {
      this.refused((err as Error).message);
      throw err;
    }
  }

  /**
   * The request may speak for site `domain`: it was signed by that site, or it is not signed and
   * that site publishes no key and does not list `http-sig` (a site that does signs everything it
   * sends). A site whose
   * discovery cannot be read now is taken as one that does not sign, as before signatures.
   */
  async assertFrom(signer: string | undefined, domain: string): Promise<void> {
    if (signer !== undefined) {
      if (signer !== domain.toLowerCase()) {
        const reason = `the request is signed by ${signer} but speaks for ${domain}`;
        this.refused(reason);
        throw new BadRequestError(reason);
      }
      this.stats.verified++;
      return;
    }
    const found = await this.discovery.discover(domain).catch(() => undefined);
    if (found?.publicKey || found?.httpSig) {
      const reason = `${domain} signs its OCM requests, and this one is not signed`;
      this.refused(reason);
      throw new BadRequestError(reason);
    }
    this.stats.unsigned++;
  }

  private refused(reason: string): void {
    this.stats.refused++;
    this.onRefused(reason);
  }
}
