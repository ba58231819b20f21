/**
 * Validation of everything OCM peers and local clients send (zod). A failure is a 400 with
 * `validationErrors: [{name, message}]` and nothing changed. Incoming shares are accepted
 * liberally: OCM 1.0 (`name:"webdav"` + `options`), 1.1 `multi`, 1.3+ protocol objects.
 */
import { z } from 'zod';
import { BadRequestError, NotImplementedError, type ValidationIssue } from '../errors.js';
import type { WebdavPermission } from './records.js';

/** Parses `value` with `schema` or throws BadRequestError listing every bad field. */
export function validate<T extends z.ZodType>(schema: T, value: unknown, what = 'request'): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const validationErrors: ValidationIssue[] = r.error.issues.map((i) => ({
    name: i.path.join('.') || '(body)',
    message: i.message,
  }));
  throw new BadRequestError(`invalid ${what}: ${validationErrors.map((v) => `${v.name}: ${v.message}`).join('; ')}`, {
    validationErrors,
  });
}

const str = z.string().trim().min(1, 'required');
const optStr = z.string().optional().nullable();

export const inviteAcceptedSchema = z.object({
  recipientProvider: str,
  token: str,
  userID: str,
  email: z.string().default(''),
  name: z.string().default(''),
});

export const notificationSchema = z.object({
  notificationType: str,
  resourceType: z.string().optional(),
  providerId: z.union([z.string().min(1), z.number()]).transform(String),
  notification: z
    .object({ sharedSecret: z.string().optional(), message: z.string().optional() })
    .passthrough()
    .optional()
    .nullable(),
});

const webdavProtocolObject = z
  .object({
    uri: z.string().optional().nullable(),
    sharedSecret: z.string().optional().nullable(),
    permissions: z.union([z.array(z.string()), z.string()]).optional().nullable(),
    requirements: z.array(z.string()).optional().nullable(),
    accessTypes: z.array(z.string()).optional().nullable(),
  })
  .passthrough();

/** A resource name: it becomes a mount point name at the receiver, so one path segment only. */
export function isResourceName(n: string): boolean {
  return n.length <= 255 && !/[/\\\u0000-\u001f\u007f]/.test(n) && n !== '.' && n !== '..';
}
const resourceName = str.refine(isResourceName, 'must be a single file or folder name of at most 255 characters');

export const incomingShareSchema = z.object({
  shareWith: str,
  name: resourceName,
  description: optStr,
  providerId: z.union([z.string().min(1), z.number()]).transform(String),
  owner: str,
  sender: str,
  ownerDisplayName: optStr,
  senderDisplayName: optStr,
  shareType: z.string().default('user'),
  resourceType: str,
  expiration: z.union([z.number(), z.string()]).optional().nullable(),
  protocol: z
    .object({
      name: str,
      options: z.record(z.string(), z.unknown()).optional().nullable(),
      webdav: webdavProtocolObject.optional().nullable(),
    })
    .passthrough(),
});
export type IncomingShare = z.output<typeof incomingShareSchema>;

/** The WebDAV access an incoming share grants, before its uri is resolved against discovery. */
export interface WebdavAccess {
  /** As sent: absolute URL, relative key, or '' (OCM 1.0). */
  uri: string;
  sharedSecret: string;
  permissions: WebdavPermission[];
  legacy: boolean;
  /** The sender requires the code flow: the secret is exchanged for access tokens, never used as one. */
  mustExchangeToken: boolean;
}

const KNOWN_REQUIREMENTS = new Set<string>(['must-exchange-token']);

/**
 * Extracts the WebDAV access from any accepted protocol shape. BadRequestError (with
 * validationErrors) for a missing secret, bad permissions or a malformed uri;
 * NotImplementedError (501) for protocols or requirements this node cannot honour.
 */
export function webdavAccessOf(share: IncomingShare): WebdavAccess {
  const p = share.protocol;
  const options = (p.options ?? {}) as Record<string, unknown>;
  const legacySecret = typeof options.sharedSecret === 'string' ? options.sharedSecret : undefined;
  const name = p.name.toLowerCase();
  if (name !== 'webdav' && name !== 'multi') throw new NotImplementedError(`protocol "${p.name}" is not supported`);
  const obj = p.webdav ?? undefined;
  if (name === 'multi' && !obj) throw new NotImplementedError('a multi share without a webdav protocol is not supported');
  for (const r of obj?.requirements ?? []) {
    if (!KNOWN_REQUIREMENTS.has(r)) throw new NotImplementedError(`requirement "${r}" is not supported`);
  }
  const secret = obj?.sharedSecret || legacySecret;
  const issues: ValidationIssue[] = [];
  if (!secret) issues.push({ name: 'protocol.webdav.sharedSecret', message: 'required' });
  const permissions = parsePermissions(obj?.permissions ?? options.permissions, issues);
  const uri = (obj?.uri ?? '').trim();
  if (uri !== '' && /^[a-z][a-z0-9+.-]*:/i.test(uri)) {
    let ok = false;
    try {
      const u = new URL(uri);
      ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '' && !/^https?:\/\/+https?:/i.test(uri);
    } catch {
      ok = false;
    }
    if (!ok) issues.push({ name: 'protocol.webdav.uri', message: 'malformed URI' });
  } else if (/[\s\u0000-\u001f]|\.\./.test(uri)) {
    issues.push({ name: 'protocol.webdav.uri', message: 'malformed URI' });
  }
  if (issues.length) throw new BadRequestError('invalid share protocol', { validationErrors: issues });
  const mustExchangeToken = (obj?.requirements ?? []).includes('must-exchange-token');
  return { uri, sharedSecret: secret!, permissions, legacy: !obj || uri === '', mustExchangeToken };
}

/**
 * Permissions as an OCM array (`["read","write"]`); the OCM 1.0 placeholder string
 * (`{http://open-cloud-mesh.org/ns}share-permissions`) or absence means read — the real
 * permissions are then whatever the sender's endpoint enforces.
 */
function parsePermissions(raw: unknown, issues: ValidationIssue[]): WebdavPermission[] {
  if (raw === undefined || raw === null || typeof raw === 'string') return ['read'];
  if (!Array.isArray(raw)) {
    issues.push({ name: 'protocol.webdav.permissions', message: 'must be an array' });
    return [];
  }
  const out = new Set<WebdavPermission>();
  for (const p of raw) {
    if (p === 'read' || p === 'write' || p === 'share') out.add(p);
    else issues.push({ name: 'protocol.webdav.permissions', message: `unknown permission "${String(p)}"` });
  }
  if (out.size === 0 && issues.length === 0) issues.push({ name: 'protocol.webdav.permissions', message: 'empty' });
  return [...out];
}

// ---- Local (GUI/CLI) requests ----

export const generateInviteSchema = z.object({
  description: z.string().max(1000).optional().nullable(),
  recipient: z.string().max(320).optional().nullable(),
});

export const acceptInviteSchema = z.union([
  z.object({ token: str, providerDomain: str }),
  z.object({ invite_string: str }),
  z.object({ inviteString: str }),
]);

export const deleteContactSchema = z.object({ idp: str, user_id: str });

export const createShareSchema = z.object({
  sourcePath: str,
  recipientUsername: str,
  recipientHost: str,
  role: z.enum(['viewer', 'editor']).default('viewer'),
  targetPath: z.string().optional().nullable(),
  description: z.string().max(1000).optional().nullable(),
});
