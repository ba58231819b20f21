/**
 * OCM addresses (`user@provider`) and provider domains (`host[:port]`), and the trust list.
 *
 * Addresses are split on the LAST `@` (user ids may contain `@`); a scheme and trailing slashes
 * are stripped from the provider part; oCIS/OpenCloud-style `id@host@host` collapses to `id@host`.
 * Provider domains compare as lower-cased `host[:port]`; configuration may name them as a bare
 * domain or as a base URL (`https://cloud.example.org/`).
 */
import { BadRequestError } from '../errors.js';

export interface OcmAddress {
  user: string;
  /** Provider domain, `host[:port]`, lower case. */
  provider: string;
}

/**
 * Normalises a provider given as `host`, `host:port` or a URL to `host[:port]` (lower case,
 * default ports dropped). Throws BadRequestError for anything that is not a plausible host.
 */
export function normalizeProvider(input: string): string {
  const raw = String(input ?? '').trim();
  if (raw === '') throw new BadRequestError('provider domain is empty');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new BadRequestError(`invalid provider domain "${raw}"`);
  }
  if (url.username || url.password || url.hostname === '') throw new BadRequestError(`invalid provider domain "${raw}"`);
  if (url.pathname.replace(/\/+$/, '') !== '' || url.search || url.hash) {
    // A base URL with a path ("https://host/nextcloud") still names the provider by its host.
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new BadRequestError(`invalid provider domain "${raw}"`);
  }
  return url.host.toLowerCase();
}

/** The base URL a provider entry names, when it carries a scheme (`http://h:1/x/` → `http://h:1/x`). */
export function providerBaseUrl(entry: string): string | undefined {
  const raw = entry.trim();
  if (!/^https?:\/\//i.test(raw)) return undefined;
  return raw.replace(/\/+$/, '');
}

/**
 * Parses an OCM address. Accepts `user@host`, `user@https://host/`, `user@host@host` (collapsed)
 * and `user@other@host` (user id `user@other`). Throws BadRequestError with the reason.
 */
export function parseOcmAddress(input: unknown): OcmAddress {
  if (typeof input !== 'string') throw new BadRequestError('OCM address must be a string');
  const text = input.trim();
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) throw new BadRequestError(`"${text}" is not an OCM address (user@provider)`);
  let user = text.slice(0, at);
  const provider = normalizeProvider(text.slice(at + 1));
  // Collapse id@host@host and id@https://host@host.
  const inner = user.lastIndexOf('@');
  if (inner > 0) {
    try {
      if (normalizeProvider(user.slice(inner + 1)) === provider) user = user.slice(0, inner);
    } catch {
      // The part after the inner @ is not a host: it belongs to the user id.
    }
  }
  if (user === '' || /\s/.test(user)) {
    throw new BadRequestError(`"${text}" is not an OCM address (user@provider)`);
  }
  return { user, provider };
}

export function formatOcmAddress(a: OcmAddress): string {
  return `${a.user}@${a.provider}`;
}

/** The set of trusted providers, read from configuration on every call (so it can be replaced at run time). */
export class ProviderTrust {
  constructor(private readonly entries: () => readonly string[]) {}

  /** Normalised domains of every configured entry that parses. */
  domains(): string[] {
    const out: string[] = [];
    for (const e of this.entries()) {
      try {
        out.push(normalizeProvider(e));
      } catch {
        // Invalid entries are rejected at start-up by the config check; skip defensively.
      }
    }
    return out;
  }

  isTrusted(provider: string): boolean {
    let domain: string;
    try {
      domain = normalizeProvider(provider);
    } catch {
      return false;
    }
    return this.domains().includes(domain);
  }

  /**
   * Base URLs to try for a provider, best first: the configured base URL if the entry has one,
   * else https and then http on the same host[:port].
   */
  baseUrls(provider: string): string[] {
    const domain = normalizeProvider(provider);
    for (const e of this.entries()) {
      const base = providerBaseUrl(e);
      if (base) {
        try {
          if (normalizeProvider(base) === domain) return [base];
        } catch {
          continue;
        }
      }
    }
    return [`https://${domain}`, `http://${domain}`];
  }
}
