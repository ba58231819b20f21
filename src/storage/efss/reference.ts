/**
 * From revad's references to paths inside the user's Fs, and back.
 *
 * reva mounts the user's storage at `/home`, so `/home/docs/a` is `/docs/a` in the home and
 * `/home` is its root; paths without the prefix (`/docs/a`, `docs/a`) are accepted too. A
 * reference with a path uses the path (a CS3 relative path `./x` is taken relative to its
 * resource id); one with only `resource_id.opaque_id` is resolved through the Fs's file ids, or,
 * for the PHP app's legacy `fileid-<path>` ids, through the path inside. Everything passes
 * `normalizePath` (no `..`, NUL, backslashes, control characters) plus a check that no segment
 * percent-decodes to `..` or to something holding `/`, `\` or NUL: BadRequestError otherwise.
 */
import { BadRequestError, NotFoundError } from '../../errors.js';
import type { Fs } from '../../fs/types.js';
import { hasFileIds } from '../../fs/guards.js';
import { joinPath, normalizePath } from '../../fs/path.js';
import type { ReferenceWire, ResourceIdWire } from './wire.js';

export const REVA_PREFIX = '/home';
const LEGACY_ID = 'fileid-';

/** A reva path (`/home/x`, `/x`, `x`) as a normalised path inside the home. */
export function homePath(revaPath: string): string {
  rejectEncodedTricks(revaPath);
  const p = normalizePath(revaPath);
  if (p === REVA_PREFIX) return '/';
  if (p.startsWith(REVA_PREFIX + '/')) return p.slice(REVA_PREFIX.length);
  return p;
}

/** The path reva sees for a path inside the home: `/` → `/home`, `/a` → `/home/a`. */
export function revaPath(path: string): string {
  return path === '/' ? REVA_PREFIX : REVA_PREFIX + path;
}

/** The `simple` upload/download id: the path without `/home/`, e.g. `docs/a.txt`. */
export function efssPath(path: string): string {
  return path.replace(/^\/+/, '');
}

function rejectEncodedTricks(input: string): void {
  if (!input.includes('%')) return;
  for (const seg of input.split('/')) {
    if (!seg.includes('%')) continue;
    let d: string;
    try {
      d = decodeURIComponent(seg);
    } catch {
      continue; // a literal % in a name
    }
    if (d === '..' || d === '.' || /[/\\\u0000]/.test(d)) {
      throw new BadRequestError('path contains an encoded "..", slash, backslash or NUL');
    }
  }
}

/** Resolves a resource id to a path in `fs`; NotFoundError when nothing has that id. */
export async function pathOfId(fs: Fs, id: ResourceIdWire): Promise<string> {
  const opaque = id.opaque_id;
  if (!opaque) throw new BadRequestError('resource_id.opaque_id is required');
  if (opaque.startsWith(LEGACY_ID)) return homePath(opaque.slice(LEGACY_ID.length) || '/');
  if (!hasFileIds(fs)) throw new NotFoundError('this storage cannot resolve file ids');
  return fs.pathById(opaque);
}

/** Resolves a CS3 reference to a normalised path inside the user's Fs. */
export async function resolveRef(fs: Fs, ref: ReferenceWire): Promise<string> {
  const path = ref.path;
  const id = ref.resource_id;
  if (path !== undefined && path !== '') {
    const relative = path === '.' || path.startsWith('./');
    if (relative && id?.opaque_id) {
      const base = await pathOfId(fs, id);
      rejectEncodedTricks(path);
      return joinPath(base, path);
    }
    return homePath(path);
  }
  if (id?.opaque_id) return pathOfId(fs, id);
  throw new BadRequestError('the reference has neither a path nor a resource_id.opaque_id');
}
