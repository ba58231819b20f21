/**
 * The tree and metadata verbs of `api/storage/` (efss-api.md): CreateHome, CreateDir, Delete,
 * Move, GetMD, ListFolder, InitiateUpload, InitiateDownload, GetPathByID, GetQuota,
 * CreateReference, Set/UnsetArbitraryMetadata. Each validates its body first (400, nothing
 * changed) and lets the Fs's typed errors through (404, 409, 412, 507 …).
 */
import { statfs } from 'node:fs/promises';
import { BadRequestError, InsufficientStorageError } from '../../errors.js';
import { hasMetadata, hasQuota } from '../../fs/guards.js';
import { transfer } from '../../fs/fallbacks.js';
import type { Entry } from '../../fs/types.js';
import { isListed } from '../../fs/hidden.js';
import { done, ensureParents, json, need, requestSignal, type StorageCall, type Verb } from './call.js';
import { efssPath, homePath, pathOfId, resolveRef, revaPath } from './reference.js';
import { resourceJson } from './resource.js';
import {
  createReferenceSchema,
  getMdSchema,
  initiateUploadSchema,
  moveSchema,
  readBody,
  referenceSchema,
  refOnlySchema,
  resourceIdSchema,
  setMetadataSchema,
  unsetMetadataSchema,
} from './wire.js';

/** Metadata key under which CreateReference keeps the target URL. */
export const REFERENCE_KEY = 'meshdav.reference';

async function metadataFor(call: StorageCall, path: string, keys: string[] | null | undefined): Promise<Record<string, string> | undefined> {
  if (!hasMetadata(call.fs)) return undefined;
  return call.fs.getMetadata(path, keys === undefined ? null : keys);
}

async function readRef(call: StorageCall): Promise<string> {
  const ref = await readBody(call.ctx, referenceSchema, call.jsonLimit);
  return resolveRef(call.fs, ref);
}

function refuseRoot(path: string, what: string): void {
  if (path === '/') throw new BadRequestError(`cannot ${what} the home folder itself`);
}

export const storageVerbs: Record<string, Verb<StorageCall>> = {
  CreateHome: {
    method: 'POST',
    // The namespace is created when it is first resolved; this only confirms it is there.
    handler: async ({ ctx, fs }) => {
      await fs.stat('/');
      done(ctx);
    },
  },

  CreateDir: {
    method: 'POST',
    handler: async (call) => {
      const path = await readRef(call);
      refuseRoot(path, 'create');
      await call.fs.mkdir(path);
      done(call.ctx, 201);
    },
  },

  Delete: {
    method: 'POST',
    handler: async (call) => {
      const path = await readRef(call);
      refuseRoot(path, 'delete');
      await call.fs.remove(path);
      done(call.ctx);
    },
  },

  Move: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, moveSchema, call.jsonLimit);
      const from = await resolveRef(call.fs, body.old_ref);
      const to = await resolveRef(call.fs, body.new_ref);
      refuseRoot(from, 'move');
      refuseRoot(to, 'replace');
      if (to === from || to.startsWith(from + '/')) throw new BadRequestError('cannot move a folder into itself');
      // Native move (ids kept) where the Fs has one, else the generic copy + remove.
      await transfer(call.fs, from, call.fs, to, { mode: 'move', overwrite: false, signal: requestSignal(call.ctx) });
      done(call.ctx);
    },
  },

  GetMD: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, getMdSchema, call.jsonLimit);
      const path = await resolveRef(call.fs, body.ref);
      const entry = await call.fs.stat(path);
      json(call.ctx, resourceJson(entry, call.owner, await metadataFor(call, path, body.md_keys)));
    },
  },

  ListFolder: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, getMdSchema, call.jsonLimit);
      const path = await resolveRef(call.fs, body.ref);
      const entries: Entry[] = (await call.fs.list(path)).filter(isListed);
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // stable order for clients and fixtures
      // Arbitrary metadata is looked up per entry only when keys are asked for by name.
      const keys = body.md_keys && body.md_keys.length > 0 ? body.md_keys : undefined;
      const out = [];
      for (const e of entries) {
        out.push(resourceJson(e, call.owner, keys ? await metadataFor(call, e.path, keys) : undefined));
      }
      json(call.ctx, out);
    },
  },

  InitiateUpload: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, initiateUploadSchema, call.jsonLimit);
      const path = await resolveRef(call.fs, body.ref);
      refuseRoot(path, 'upload to');
      if (body.upload_length !== undefined && body.upload_length < 0) throw new BadRequestError('uploadLength must not be negative');
      if (body.upload_length && hasQuota(call.fs)) {
        const q = await call.fs.quota();
        if (q.available !== null && body.upload_length > q.available) {
          throw new InsufficientStorageError(`upload of ${body.upload_length} bytes exceeds the ${q.available} bytes left`);
        }
      }
      json(call.ctx, { simple: efssPath(path) });
    },
  },

  InitiateDownload: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, refOnlySchema.or(referenceSchema.transform((ref) => ({ ref }))), call.jsonLimit);
      const path = await resolveRef(call.fs, body.ref);
      const entry = await call.fs.stat(path);
      if (entry.type === 'dir') throw new BadRequestError('a folder cannot be downloaded');
      json(call.ctx, { simple: efssPath(path) });
    },
  },

  GetPathByID: {
    method: 'POST',
    handler: async (call) => {
      const id = await readBody(call.ctx, resourceIdSchema, call.jsonLimit);
      const path = await pathOfId(call.fs, id);
      await call.fs.stat(path); // 404 when the id's path is gone
      call.ctx.type = 'text/plain; charset=utf-8';
      call.ctx.body = revaPath(path);
    },
  },

  GetQuota: {
    method: 'POST',
    handler: async (call) => {
      const q = hasQuota(call.fs) ? await call.fs.quota() : { used: 0, available: null, total: null };
      let total = q.total;
      if (total === null) {
        // Unlimited: report what the disk under dataDir can still take.
        const s = await statfs(call.services.config.dataDir);
        total = q.used + Number(s.bavail) * Number(s.bsize);
      }
      json(call.ctx, { totalBytes: Math.trunc(total), usedBytes: Math.trunc(q.used) });
    },
  },

  CreateReference: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, createReferenceSchema, call.jsonLimit);
      const path = homePath(body.path);
      refuseRoot(path, 'replace');
      let target: URL;
      try {
        target = new URL(body.url);
      } catch {
        throw new BadRequestError('url is not a valid URL');
      }
      const md = need(call.fs, hasMetadata, 'references');
      await ensureParents(call.fs, path);
      await call.fs.mkdir(path);
      await md.setMetadata(path, { [REFERENCE_KEY]: target.href });
      done(call.ctx);
    },
  },

  SetArbitraryMetadata: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, setMetadataSchema, call.jsonLimit);
      const path = await resolveRef(call.fs, body.ref);
      const md = need(call.fs, hasMetadata, 'arbitrary metadata');
      await md.setMetadata(path, body.md.metadata ?? {});
      done(call.ctx);
    },
  },

  UnsetArbitraryMetadata: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, unsetMetadataSchema, call.jsonLimit);
      const path = await resolveRef(call.fs, body.ref);
      const md = need(call.fs, hasMetadata, 'arbitrary metadata');
      await md.unsetMetadata(path, body.keys);
      done(call.ctx);
    },
  },
};
