/**
 * OCM request signatures as OCM 1.3+ makes them: RFC 9421 HTTP Message Signatures with an
 * RFC 9530 Content-Digest, keys published as a JWK Set at `/.well-known/jwks.json` (IETF OCM draft,
 * Appendix B). signatures.ts has the older draft-cavage form Nextcloud uses; a request carries
 * one or the other (both use the `Signature` header), chosen per peer: RFC 9421 for a site whose
 * discovery lists the `http-sig` capability.
 *
 * Wire form (sent and required):
 *   Date: <RFC 7231 date>                         within DATE_TTL_S of now
 *   Content-Digest: sha-256=:<b64>:               every recognised digest (sha-256, sha-512) matches the body
 *   Content-Length: <body bytes>
 *   Signature-Input: ocm=("@method" "@target-uri" "content-digest" "content-length" "date");
 *                    created=<unix s>;keyid="<host[:port]>#key1";alg="ed25519"
 *   Signature: ocm=:<b64>:
 * Exactly one signature labelled `ocm` is checked (other labels, e.g. a proxy's, are ignored); it
 * must cover at least those five components and carry `created`, neither older than DATE_TTL_S
 * nor more than SKEW_S ahead. The keyid names the signer, `host[:port]#fragment` (a URL is taken
 * too): its key is the JWK with that exact `kid` in the signer's JWK Set. The signer's identity is
 * that host[:port]; the caller checks it is the site the payload speaks for
 * (SignedOrigins.assertFrom), which is the spec's "provider domain of the `sender` field".
 *
 * The signature base and the signing and checking of it are http-message-signatures' (RFC 9421);
 * this file picks the label, checks the OCM profile and the digest, and maps JWKs to algorithms.
 */
import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createSigner, createVerifier, httpbis, type Algorithm } from 'http-message-signatures';
import { parseDictionary, serializeDictionary, type Dictionary, type InnerList, type Item } from 'structured-headers';
import { BadRequestError } from '../errors.js';
import { loadOrCreateKey } from './key-file.js';
import { DATE_TTL_S, type IncomingRequest } from './signatures.js';

export const OCM_LABEL = 'ocm';
/** What an OCM signature must cover. */
export const REQUIRED_COMPONENTS = ['@method', '@target-uri', 'content-digest', 'content-length', 'date'];
/** How far ahead of this node's clock a signature's `created` may be. */
export const SKEW_S = 60;
const DIGESTS: Record<string, string> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

/** The Content-Digest header (RFC 9530) of a body. */
export function contentDigestOf(body: string | Buffer): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
}

/** The signer's identity (host[:port], lower case) named by a keyid: `host[:port]#fragment`, or a URL. */
export function identityOfKeyId(keyid: string): string {
  if (keyid.includes('://')) {
    try {
      return new URL(keyid).host.toLowerCase();
    } catch {
      throw new BadRequestError('the signature\'s keyid is not a valid URL');
    }
  }
  const hash = keyid.lastIndexOf('#');
  const authority = hash > 0 ? keyid.slice(0, hash) : '';
  if (!authority || /[/\s@]/.test(authority) || hash === keyid.length - 1) throw new BadRequestError('the signature\'s keyid is not host#fragment');
  return authority.toLowerCase();
}

/** RFC 9421 algorithms a JWK can verify (asymmetric only: OCM forbids shared-secret signatures). */
export function algorithmsOf(jwk: JsonWebKey): Algorithm[] {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return ['ed25519'];
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return ['ecdsa-p256-sha256'];
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return ['ecdsa-p384-sha384'];
  if (jwk.kty === 'RSA') {
    if (jwk.alg === 'RS256') return ['rsa-v1_5-sha256'];
    if (jwk.alg === 'PS512') return ['rsa-pss-sha512'];
    return ['rsa-pss-sha512', 'rsa-v1_5-sha256'];
  }
  return [];
}

/** This node's RFC 9421 signing key: an Ed25519 pair in `keyFile` (PKCS#8, mode 0600), made on first use. */
export class MessageSigner {
  /** `host[:port]#key1` of this node's public URL. */
  readonly keyId: string;
  private loaded?: Promise<{ privateKey: KeyObject; jwk: JsonWebKey }>;

  constructor(
    private readonly keyFile: string,
    publicUrl: string,
  ) {
    this.keyId = `${new URL(publicUrl).host}#key1`;
  }

  /** The JWK Set served at `/.well-known/jwks.json`. */
  async jwks(): Promise<{ keys: JsonWebKey[] }> {
    return { keys: [(await this.key()).jwk] };
  }

  /** The headers that sign a request with `body` sent to `url`: Date, Content-Digest, Signature-Input and Signature. */
  async headers(method: string, url: string, body: string, now = new Date()): Promise<Record<string, string>> {
    const { privateKey } = await this.key();
    const headers: Record<string, string> = {
      date: now.toUTCString(),
      'content-digest': contentDigestOf(body),
      'content-length': String(Buffer.byteLength(body)),
    };
    const signed = await httpbis.signMessage(
      {
        key: createSigner(privateKey, 'ed25519', this.keyId),
        name: OCM_LABEL,
        params: ['created', 'keyid', 'alg'],
        fields: REQUIRED_COMPONENTS,
        paramValues: { created: now },
      },
      { method, url, headers },
    );
    const out: Record<string, string> = { date: headers.date!, 'content-digest': headers['content-digest']! };
    for (const [name, value] of Object.entries(signed.headers)) {
      const lower = name.toLowerCase();
      if (lower === 'signature' || lower === 'signature-input') out[lower] = Array.isArray(value) ? value.join(', ') : value;
    }
    return out;
  }

  private key(): Promise<{ privateKey: KeyObject; jwk: JsonWebKey }> {
    this.loaded ??= this.loadOrCreate();
    return this.loaded;
  }

  private async loadOrCreate(): Promise<{ privateKey: KeyObject; jwk: JsonWebKey }> {
    const privateKey = await loadOrCreateKey(this.keyFile, 'ed25519');
    const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' });
    return { privateKey, jwk: { ...publicJwk, kid: this.keyId, alg: 'EdDSA', use: 'sig' } };
  }

}

/** Finds the JWK a site publishes under `kid` (from its JWK Set); `fresh` bypasses any cache. */
export type JwkResolver = (identity: string, kid: string, fresh: boolean) => Promise<JsonWebKey | undefined>;

/** What an RFC 9421 check needs beyond the draft-cavage one: the absolute URIs the request may have been sent to. */
export interface SignedMessage extends IncomingRequest {
  /** `scheme://host[:port]/path?query` candidates, the likeliest first. */
  targets: string[];
}

function dictionary(name: string, value: string): Dictionary {
  try {
    return parseDictionary(value);
  } catch {
    throw new BadRequestError(`the ${name} header is not a structured-field dictionary`);
  }
}

/** Members named `label` in a dictionary header's raw text (a parsed dictionary keeps only the last). */
function membersNamed(value: string, label: string): number {
  let count = 0;
  let depth = 0;
  let quoted = false;
  let start = true;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) start = true;
    else if (start && c !== ' ' && c !== '\t') {
      start = false;
      if (value.startsWith(label, i) && /^[=,;]|^$/.test(value.slice(i + label.length, i + label.length + 1))) count++;
    }
  }
  return count;
}

/** Checks Content-Digest against the body: every recognised digest must match, and there must be one. */
function checkContentDigest(header: string, body: string | Buffer): void {
  if (!header) throw new BadRequestError('the signed request has no Content-Digest');
  let recognised = 0;
  for (const [algorithm, member] of dictionary('Content-Digest', header)) {
    const hash = DIGESTS[algorithm];
    if (!hash) continue;
    const value = (member as Item)[0];
    if (!(value instanceof ArrayBuffer)) throw new BadRequestError('the Content-Digest is not a byte sequence');
    if (!createHash(hash).update(body).digest().equals(Buffer.from(value))) throw new BadRequestError('the Content-Digest does not match the body');
    recognised++;
  }
  if (!recognised) throw new BadRequestError('the Content-Digest uses no supported algorithm (sha-256, sha-512)');
}

/**
 * Checks a request's RFC 9421 `ocm` signature. Returns the signer's identity (host[:port] of its
 * keyid), or undefined when the request carries no Signature-Input. BadRequestError when it is
 * signed but the signature, its coverage, `created`, Date, Content-Digest or Content-Length do
 * not hold, or the signer's JWK Set has no key `keyid` that verifies it.
 */
export async function verifyMessageSignature(req: SignedMessage, resolve: JwkResolver, now = Date.now()): Promise<string | undefined> {
  const inputHeader = req.header('signature-input');
  if (!inputHeader) return undefined;
  const sigHeader = req.header('signature');
  if (membersNamed(inputHeader, OCM_LABEL) > 1 || membersNamed(sigHeader, OCM_LABEL) > 1) throw new BadRequestError('the request carries more than one signature labelled ocm');
  const input = dictionary('Signature-Input', inputHeader).get(OCM_LABEL);
  const signature = dictionary('Signature', sigHeader).get(OCM_LABEL);
  if (!input || !signature) throw new BadRequestError('the request carries no signature labelled ocm');
  if (!Array.isArray(input[0])) throw new BadRequestError('the ocm Signature-Input is not a list of components');
  const [components, params] = input as InnerList;
  const covered = components.map(([name, p]) => (typeof name === 'string' && p.size === 0 ? name : `${String(name)};…`));
  const missing = REQUIRED_COMPONENTS.filter((c) => !covered.includes(c));
  if (missing.length) throw new BadRequestError(`the signature does not cover ${missing.join(', ')}`);

  const created = params.get('created');
  if (typeof created !== 'number' || !Number.isInteger(created)) throw new BadRequestError('the signature has no created time');
  const nowS = Math.floor(now / 1000);
  if (created > nowS + SKEW_S) throw new BadRequestError('the signature was created in the future');
  if (nowS - created > DATE_TTL_S) throw new BadRequestError('the signature is too old');
  const expires = params.get('expires');
  if (typeof expires === 'number' && expires < nowS) throw new BadRequestError('the signature has expired');
  const keyid = params.get('keyid');
  if (typeof keyid !== 'string' || !keyid) throw new BadRequestError('the signature has no keyid');
  const identity = identityOfKeyId(keyid);
  const alg = params.get('alg');

  const date = Date.parse(req.header('date'));
  if (Number.isNaN(date)) throw new BadRequestError('the signed request has no valid Date');
  if (Math.abs(now - date) > DATE_TTL_S * 1000) throw new BadRequestError('the signed request\'s Date is too far from now');
  if (req.header('content-length') !== String(Buffer.byteLength(req.body))) throw new BadRequestError('Content-Length does not match the body');
  checkContentDigest(req.header('content-digest'), req.body);

  // Only the ocm member goes to the checker (it would try every label).
  const headers: Record<string, string> = {
    'signature-input': serializeDictionary(new Map([[OCM_LABEL, input]])),
    signature: serializeDictionary(new Map([[OCM_LABEL, signature]])),
  };
  for (const [name] of components) if (typeof name === 'string' && !name.startsWith('@')) headers[name] = req.header(name);
  const check = async (fresh: boolean): Promise<boolean | undefined> => {
    const jwk = await resolve(identity, keyid, fresh);
    if (!jwk) return undefined;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      return false;
    }
    const algs = algorithmsOf(jwk).filter((a) => alg === undefined || a === alg);
    for (const a of algs) {
      for (const url of [...new Set(req.targets)]) {
        try {
          const ok = await httpbis.verifyMessage(
            { keyLookup: async () => ({ id: keyid, algs: [a], verify: createVerifier(key, a) }), tolerance: SKEW_S, maxAge: DATE_TTL_S + SKEW_S },
            { method: req.method, url, headers },
          );
          if (ok) return true;
        } catch {
          // a malformed signature or an unsupported component: not valid
        }
      }
    }
    return false;
  };
  // A cached key set that fails is fetched again once: the site may have made a new key.
  const ok = (await check(false)) || (await check(true));
  if (ok === undefined) throw new BadRequestError(`${identity} publishes no key ${keyid}`);
  if (!ok) throw new BadRequestError('the request\'s signature is not valid');
  return identity;
}
