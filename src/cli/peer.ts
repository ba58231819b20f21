/**
 * `meshdav peer check SITE [--json]`: what this node sees of another OCM site before (or after)
 * federating with it — its discovery, the OCM features it lists, the keys it signs with, and so
 * how this node will talk to it. It runs from the node's configuration (its timeouts, its trust
 * list, which the site need not be on yet), contacts only SITE, and needs no running node.
 * Problems found (a key set that cannot be read, a required code flow without a token
 * endpoint…) are listed and make the exit code 1; a site that cannot be reached exits 3.
 */
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { BadGatewayError, GatewayTimeoutError } from '../errors.js';
import { ProviderTrust, normalizeProvider } from '../ocm/addresses.js';
import { DiscoveryClient, type RemoteDiscovery } from '../ocm/discovery.js';
import { JwksClient } from '../ocm/jwks.js';
import { RemoteClient } from '../ocm/remote.js';
import { addCommonOptions, configFrom, type CommonOptions } from './options.js';
import { CliError, EXIT } from './errors.js';

export interface PeerReport {
  site: string;
  trusted: boolean;
  discovery: { origin: string; endPoint: string; webdavRoot: string; apiVersion?: string; provider?: string };
  capabilities: string[];
  criteria: string[];
  signatures: {
    /** draft-cavage key published in discovery (Nextcloud 31+). */
    cavageKeyId?: string;
    /** RFC 9421 (OCM 1.3 `http-sig`): the kids of its JWK Set, when it lists the capability. */
    jwks?: string[];
  };
  tokenEndPoint?: string;
  /** How this node talks to the site. */
  behaviour: { signsWith: 'rfc9421' | 'draft-cavage'; refusesUnsignedInItsName: boolean; sharesRequireTokenExchange: boolean };
  problems: string[];
}

export function registerPeer(program: Command): void {
  const peer = program.command('peer').description('look at another OCM site the way this node sees it');
  addCommonOptions(
    peer
      .command('check')
      .description('discover SITE and report what it supports, how it signs, and how this node will talk to it')
      .argument('<site>', 'the site: host[:port], or its base URL (https://cloud.example.org)')
      .option('--json', 'print the report as JSON'),
  ).action(async (site: string, opts: CommonOptions & { json?: boolean }) => {
    const report = await checkPeer(configFrom(opts), site);
    process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
    if (report.problems.length) process.exitCode = EXIT.FAILURE;
  });
}

export async function checkPeer(config: Config, site: string): Promise<PeerReport> {
  let domain: string;
  try {
    domain = normalizeProvider(site);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.USAGE);
  }
  const configured = new ProviderTrust(() => config.trustedProviders);
  // The site is looked at whether or not it is trusted yet (its own entry first: a base URL given).
  const trust = new ProviderTrust(() => [site, ...config.trustedProviders]);
  const remote = new RemoteClient(config.remote);
  try {
    let disco: RemoteDiscovery;
    try {
      disco = await new DiscoveryClient(remote, trust).discover(domain);
    } catch (err) {
      if (err instanceof BadGatewayError || err instanceof GatewayTimeoutError) throw new CliError(`${domain}: ${err.message}`, EXIT.UNREACHABLE);
      throw err;
    }
    const problems: string[] = [];
    let jwks: string[] | undefined;
    if (disco.httpSig) {
      try {
        jwks = await new JwksClient(remote).kids(disco.origin);
        if (!jwks.length) problems.push(`it lists http-sig but ${disco.origin}/.well-known/jwks.json has no key: its RFC 9421 requests cannot be verified`);
      } catch (err) {
        problems.push(`it lists http-sig but its JWK Set cannot be read (${(err as Error).message})`);
      }
    }
    if (disco.criteria.includes('must-exchange-token') && !disco.capabilities.includes('exchange-token')) {
      problems.push('it requires the code flow (must-exchange-token) but does not list exchange-token');
    }
    if (disco.capabilities.includes('exchange-token') && !disco.tokenEndPoint) problems.push('it lists exchange-token but names no tokenEndPoint');
    const trusted = configured.isTrusted(domain);
    return {
      site: domain,
      trusted,
      discovery: { origin: disco.origin, endPoint: disco.endPoint, webdavRoot: disco.webdavRoot, apiVersion: disco.apiVersion, provider: disco.provider },
      capabilities: disco.capabilities,
      criteria: disco.criteria,
      signatures: { ...(disco.publicKey ? { cavageKeyId: disco.publicKey.keyId } : {}), ...(jwks ? { jwks } : {}) },
      ...(disco.tokenEndPoint ? { tokenEndPoint: disco.tokenEndPoint } : {}),
      behaviour: {
        signsWith: disco.httpSig ? 'rfc9421' : 'draft-cavage',
        refusesUnsignedInItsName: Boolean(disco.publicKey) || disco.httpSig,
        sharesRequireTokenExchange: disco.criteria.includes('must-exchange-token'),
      },
      problems,
    };
  } finally {
    await remote.close();
  }
}

function formatReport(r: PeerReport): string {
  const lines = [
    `site          ${r.site} (${r.discovery.provider ?? 'unnamed'}, OCM ${r.discovery.apiVersion ?? 'version not given'})`,
    `trusted here  ${r.trusted ? 'yes' : 'no (add it to trustedProviders to federate with it)'}`,
    `OCM API       ${r.discovery.endPoint}`,
    `WebDAV root   ${r.discovery.webdavRoot}`,
    `capabilities  ${r.capabilities.join(', ') || 'none listed'}`,
    `criteria      ${r.criteria.join(', ') || 'none'}`,
    `signs         ${[r.signatures.cavageKeyId ? `draft-cavage (key ${r.signatures.cavageKeyId})` : '', r.signatures.jwks ? `RFC 9421 (keys ${r.signatures.jwks.join(', ') || 'none'})` : ''].filter(Boolean).join('; ') || 'nothing (it publishes no key)'}`,
    `code flow     ${r.tokenEndPoint ?? 'no token endpoint'}`,
    `this node     signs its requests to it with ${r.behaviour.signsWith}; ${r.behaviour.refusesUnsignedInItsName ? 'refuses' : 'takes'} unsigned requests in its name; ` +
      `${r.behaviour.sharesRequireTokenExchange ? 'marks its shares to it must-exchange-token' : 'sends its shares with their secret'}`,
  ];
  if (r.problems.length) lines.push('problems', ...r.problems.map((p) => `  - ${p}`));
  else lines.push('problems      none');
  return lines.join('\n') + '\n';
}
