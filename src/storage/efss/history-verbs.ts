/**
 * Versions and trash verbs of `api/storage/`: ListRevisions, RestoreRevision, ListRecycle,
 * RestoreRecycleItem, PurgeRecycleItem, EmptyRecycle (DownloadRevision streams, in
 * transfer-verbs.ts). The trash is flat: a recycle `key` names one deleted item; `path` is the
 * path relative to it, and `/` or empty means the item itself.
 */
import { BadRequestError, NotFoundError } from '../../errors.js';
import { hasTrash, isVersioned } from '../../fs/guards.js';
import { done, json, need, type StorageCall, type Verb } from './call.js';
import { resolveRef } from './reference.js';
import { recycleItemJson, versionJson } from './resource.js';
import { readBody, recycleSchema, referenceSchema, restoreRevisionSchema } from './wire.js';

function itemOnly(path: string | undefined): void {
  if (path && path !== '/' && path !== '.' && path !== '') {
    throw new BadRequestError('items inside a deleted folder cannot be addressed one by one; restore the folder');
  }
}

export const historyVerbs: Record<string, Verb<StorageCall>> = {
  ListRevisions: {
    method: 'POST',
    handler: async (call) => {
      const ref = await readBody(call.ctx, referenceSchema, call.jsonLimit);
      const path = await resolveRef(call.fs, ref);
      const versions = await need(call.fs, isVersioned, 'versions').listVersions(path);
      json(call.ctx, versions.map(versionJson));
    },
  },

  RestoreRevision: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, restoreRevisionSchema, call.jsonLimit);
      const path = await resolveRef(call.fs, body.ref);
      await need(call.fs, isVersioned, 'versions').restoreVersion(path, body.key);
      done(call.ctx);
    },
  },

  ListRecycle: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, recycleSchema, call.jsonLimit);
      const items = await need(call.fs, hasTrash, 'the trash').listTrash();
      if (!body.key) {
        json(call.ctx, items.map(recycleItemJson));
        return;
      }
      // A path inside a deleted folder lists the folder's own record (the trash is flat).
      const item = items.find((i) => i.key === body.key);
      if (!item) throw new NotFoundError(`no trash item "${body.key}"`);
      json(call.ctx, [recycleItemJson(item)]);
    },
  },

  RestoreRecycleItem: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, recycleSchema, call.jsonLimit);
      if (!body.key) throw new BadRequestError('key is required');
      itemOnly(body.path);
      const trash = need(call.fs, hasTrash, 'the trash');
      const to = body.restore_ref ? await resolveRef(call.fs, body.restore_ref) : undefined;
      if (to === '/') throw new BadRequestError('cannot restore over the home folder');
      await trash.restoreTrash(body.key, to ? { to } : {});
      done(call.ctx);
    },
  },

  PurgeRecycleItem: {
    method: 'POST',
    handler: async (call) => {
      const body = await readBody(call.ctx, recycleSchema, call.jsonLimit);
      if (!body.key) throw new BadRequestError('key is required');
      itemOnly(body.path);
      await need(call.fs, hasTrash, 'the trash').purgeTrash(body.key);
      done(call.ctx);
    },
  },

  EmptyRecycle: {
    method: 'POST',
    handler: async (call) => {
      await need(call.fs, hasTrash, 'the trash').emptyTrash();
      done(call.ctx);
    },
  },
};
