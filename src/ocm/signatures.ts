/**
 * OCM request signatures, as OCM 1.2 (Appendix B, draft-cavage-http-signatures-12) and Nextcloud
 * (31+) make them (message-signatures.ts has OCM 1.3's RFC 9421 form, used with sites that list
 * `http-sig`): this node signs every OCM POST it sends, publishes its public key in its
 * discovery (`publicKey: {keyId, publicKeyPem}`), and checks the signature of every signed request
 * it receives.
 *
 * Wire form (what Nextcloud sends and checks):
 *   Date: <RFC 7231 date>            at most DATE_TTL_S old (or ahead)
 *   Digest: SHA-256=<b64> | SHA-512=<b64>   of the body
 *   Content-Length: <body bytes>
 *   Signature: keyId="https://<host[:port]>/ocm#signature",algorithm="rsa-sha512",
 *              headers="(request-target) content-length date digest host",signature="<b64>"
 * where the signed text is one `name: value` line per entry of `headers`, joined by "\n",
 * `(request-target)` being `<lower-case method> <path>`, `host` the Host the request was sent to.
 * The signer's identity is the host[:port] of its keyId; a request is accepted only when that
 * identity is also the site the payload speaks for (checked by the caller: SignedOrigins.assertFrom).
 *
 * Policy for unsigned requests (Nextcloud's, made stricter by what discovery tells): accepted,
 * unless the site they claim to come from publishes a key in its discovery, in which case it
 * signs everything it sends and an unsigned request in its name is a forgery.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { BadRequestError } from '../errors.js';
import { loadOrCreateKey } from './key-file.js';

/** How old (or how far ahead) a signed request's Date may be, as Nextcloud's verifier allows. */
export const DATE_TTL_S = 300;
/** Headers every signature must cover. */
const REQUIRED = ['content-length', 'date', 'digest', 'host'];
const SIGNED = ['(request-target)', 'content-length', 'date', 'digest', 'host'];
const DIGESTS: Record<string, string> = { 'SHA-256': 'sha256', 'SHA-512': 'sha512' };
const ALGORITHMS: Record<string, string> = { 'rsa-sha256': 'sha256', 'rsa-sha512': 'sha512' };

export interface PublicKeyInfo {
  keyId: string;
  publicKeyPem: string;
}

/** The body's Digest header value. */
export function digestOf(body: string | Buffer, algorithm = 'SHA-512'): string {
  return `${algorithm}=${createHash(DIGESTS[algorithm]!).update(body).digest('base64')}`;
}

/** The signer's identity (host[:port]) named by a keyId URL. */
export function identityOf(keyId: string): string {
  try {
    return new URL(keyId).host.toLowerCase();
  } catch {
    throw new BadRequestError('the signature\'s keyId is not a URL');
  }
}

/** This node's signing key: an RSA pair in `keyFile` (PKCS#8, mode 0600), made on first use. */
export class RequestSigner {
  readonly keyId: string;
  private loaded?: Promise<{ privateKey: KeyObject; publicKeyPem: string }>;

  constructor(
    private readonly keyFile: string,
    publicUrl: string,
  ) {
    this.keyId = `${new URL(publicUrl).origin}/ocm#signature`;
  }

  async publicKey(): Promise<PublicKeyInfo> {
    return { keyId: this.keyId, publicKeyPem: (await this.key()).publicKeyPem };
  }

  /**
   * The headers that sign a request with `body` sent to `url`: Date, Digest and Signature (the
   * signed Content-Length and Host are the ones any HTTP client sends for that body and URL).
   */
  async headers(method: string, url: string, body: string, now = new Date()): Promise<Record<string, string>> {
    const { privateKey } = await this.key();
    const target = new URL(url);
    const values: Record<string, string> = {
      '(request-target)': `${method.toLowerCase()} ${target.pathname}`,
      'content-length': String(Buffer.byteLength(body)),
      date: now.toUTCString(),
      digest: digestOf(body),
      host: target.host,
    };
    const text = SIGNED.map((h) => `${h}: ${values[h]}`).join('\n');
    const signature = sign('sha512', Buffer.from(text), privateKey).toString('base64');
    return {
      date: values.date!,
      digest: values.digest!,
      signature: `keyId="${this.keyId}",algorithm="rsa-sha512",headers="${SIGNED.join(' ')}",signature="${signature}"`,
    };
  }

  private key(): Promise<{ privateKey: KeyObject; publicKeyPem: string }> {
    this.loaded ??= this.loadOrCreate();
    return this.loaded;
  }

  private async loadOrCreate(): Promise<{ privateKey: KeyObject; publicKeyPem: string }> {
    const privateKey = await loadOrCreateKey(this.keyFile, 'rsa');
    return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
  }

}

/** What a signature check needs of the request. */
export interface IncomingRequest {
  method: string;
  /** Path and query, as the signer sent them. */
  url: string;
  /** The names the request may have been sent to (the signed `host` is one of them, first the likeliest). */
  hosts: string[];
  header(name: string): string;
  body: string | Buffer;
}

/** Finds the public key of a site's keyId (from its discovery); `fresh` bypasses any cache. */
export type KeyResolver = (identity: string, keyId: string, fresh: boolean) => Promise<string | undefined>;

/** The parameters of a Signature header (`k="v",k="v"`). */
export function parseSignature(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.matchAll(/([A-Za-z]+)="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/**
 * Checks a request's signature. Returns the signer's identity (host[:port] of its keyId), or
 * undefined when the request carries no draft-cavage Signature. BadRequestError when it is signed but the
 * signature, its Date, Digest or Content-Length do not hold, or the key is not the one the
 * signer's discovery publishes.
 */
export async function verifyRequest(req: IncomingRequest, resolve: KeyResolver, now = Date.now()): Promise<string | undefined> {
  const header = req.header('signature');
  // No signature, or an RFC 9421 one (OCM 1.3: Signature-Input), which message-signatures.ts checks.
  if (!header || req.header('signature-input')) return undefined;
  const sig = parseSignature(header);
  if (!sig.keyId || !sig.headers || !sig.signature) throw new BadRequestError('the Signature header lacks keyId, headers or signature');
  const identity = identityOf(sig.keyId);
  const covered = sig.headers.toLowerCase().split(' ').filter(Boolean);
  const missing = REQUIRED.filter((h) => !covered.includes(h));
  if (missing.length) throw new BadRequestError(`the signature does not cover ${missing.join(', ')}`);
  const hash = ALGORITHMS[(sig.algorithm ?? 'rsa-sha256').toLowerCase()];
  if (!hash) throw new BadRequestError(`unsupported signature algorithm ${sig.algorithm}`);

  const date = Date.parse(req.header('date'));
  if (Number.isNaN(date)) throw new BadRequestError('the signed request has no valid Date');
  if (Math.abs(now - date) > DATE_TTL_S * 1000) throw new BadRequestError('the signed request\'s Date is too far from now');
  if (req.header('content-length') !== String(Buffer.byteLength(req.body))) throw new BadRequestError('Content-Length does not match the body');
  const digest = req.header('digest');
  const algo = digest.slice(0, digest.indexOf('='));
  if (!DIGESTS[algo] || digest !== digestOf(req.body, algo)) throw new BadRequestError('the Digest does not match the body');

  const signedText = (host: string) =>
    Buffer.from(
      covered
        .map((h) => {
          if (h === '(request-target)') return `${h}: ${req.method.toLowerCase()} ${req.url}`;
          const v = h === 'host' ? host : req.header(h);
          if (!v) throw new BadRequestError(`the signed header ${h} is missing`);
          return `${h}: ${v}`;
        })
        .join('\n'),
    );
  const texts = [...new Set(req.hosts)].map(signedText);
  const signature = Buffer.from(sig.signature, 'base64');
  const check = async (fresh: boolean) => {
    const pem = await resolve(identity, sig.keyId!, fresh);
    if (!pem) return undefined;
    try {
      return texts.some((text) => verify(hash, text, pem, signature));
    } catch {
      return false;
    }
  };
  // A cached key that fails is looked up again once: the site may have made a new one.
  const ok = (await check(false)) || (await check(true));
  if (ok === undefined) throw new BadRequestError(`${identity} publishes no key ${sig.keyId}`);
  if (!ok) throw new BadRequestError('the request\'s signature is not valid');
  return identity;
}
