/**
 * The OCM code flow's token endpoint, `POST /ocm/token` (discovery: `tokenEndPoint`, capability
 * `exchange-token`): a receiving site exchanges a share's secret for a short-lived bearer token
 * (access-tokens.ts) that opens the share at the share WebDAV endpoint.
 *
 * Request (OCM 1.3+ and reva: form-encoded; OCM 1.2's JSON form is taken too):
 *   grant_type=authorization_code (or ocm_authorization_code / ocm_share), client_id=<receiver
 *   FQDN>, code=<the share's sharedSecret>; signed like every OCM request (signed-origin.ts): the
 *   signer, when there is one, must be `client_id`.
 * Answer: 200 {access_token, token_type: "Bearer", expires_in} with Cache-Control: no-store;
 * 400 {error} with an OAuth error code: invalid_request (a field missing), unsupported_grant_type,
 * invalid_grant (no live share has that secret), unauthorized_client (the share is not for that
 * site).
 */
import type { Context } from 'koa';
import { BadRequestError } from '../errors.js';
import { decodeText, parseJson } from '../http/body.js';
import { normalizeProvider } from './addresses.js';
import type { OcmService } from './service.js';

const GRANTS = new Set(['authorization_code', 'ocm_authorization_code', 'ocm_share']);

/** The token request's string fields, from a form-encoded or JSON body (parseJson); undefined when the body is neither. */
function fieldsOf(ctx: Context, raw: Buffer): Record<string, string> | undefined {
  if (!ctx.is('application/x-www-form-urlencoded') && !ctx.is('json')) return undefined;
  let body: unknown;
  try {
    body = parseJson(ctx, decodeText(raw));
  } catch {
    return undefined;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function oauthError(ctx: Context, error: string, description: string): void {
  ctx.status = 400;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}

/**
 * Answers one token request whose raw body is `raw`; `from(domain)` (signed-origin.ts) refuses a
 * request that may not speak for that site.
 */
export async function tokenRequest(ctx: Context, ocm: OcmService, raw: Buffer, from: (domain: string) => Promise<void>): Promise<void> {
  const fields = fieldsOf(ctx, raw);
  if (!fields) return oauthError(ctx, 'invalid_request', 'the body must be form-encoded (or JSON)');
  const { grant_type: grant, client_id: clientId, code } = fields;
  if (!grant || !clientId || !code) return oauthError(ctx, 'invalid_request', 'grant_type, client_id and code are required');
  if (!GRANTS.has(grant)) return oauthError(ctx, 'unsupported_grant_type', `grant_type ${grant} is not supported`);
  let client: string;
  try {
    client = normalizeProvider(clientId);
  } catch {
    return oauthError(ctx, 'invalid_request', 'client_id is not a site name');
  }
  try {
    await from(client);
  } catch (err) {
    if (err instanceof BadRequestError) return oauthError(ctx, 'invalid_client', err.message);
    throw err;
  }
  const share = await ocm.sent.findBySecret(code);
  if (!share) return oauthError(ctx, 'invalid_grant', 'no live share has that code');
  if (normalizeProvider(share.recipient.provider) !== client) return oauthError(ctx, 'unauthorized_client', 'the share is not for that site');
  const { token, expiresIn } = ocm.accessTokens.issue(share.id);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { access_token: token, token_type: 'Bearer', expires_in: expiresIn };
}
