// Talks to this node's own APIs with the browser session: JSON calls to /web/api and
// /sciencemesh, and WebDAV calls to the user's home. Every request carries the session's
// CSRF token and marks itself as coming from the UI (so a 401 never opens a browser dialog).

let csrfToken = '';
let davBase = '';

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Remembers who is logged in; called after login and on start-up. */
export function setSession(session) {
  csrfToken = session ? session.csrfToken : '';
  davBase = session ? `/remote.php/dav/files/${encodeURIComponent(session.user.name)}` : '';
}

function headers(extra = {}) {
  const h = { 'X-Requested-With': 'meshdav-web', ...extra };
  if (csrfToken) h['X-CSRF-Token'] = csrfToken;
  return h;
}

async function failure(res) {
  let message = `${res.status} ${res.statusText}`;
  let code;
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    message = body.message || body.error || message;
    code = body.code;
  } catch {
    const m = /<s:message>([^<]*)<\/s:message>/.exec(text);
    if (m) message = m[1];
  }
  return new ApiError(res.status, message, code);
}

/** JSON request; resolves to the parsed body (or null for an empty one), rejects with ApiError. */
export async function json(method, url, body) {
  const init = { method, headers: headers(), credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// ---- WebDAV -------------------------------------------------------------------------------

/** URL of a home path (`/Docs/a b.txt`), each segment encoded. */
export function davUrl(path) {
  const segs = path.split('/').filter(Boolean).map(encodeURIComponent);
  return `${davBase}/${segs.join('/')}`;
}

const NS = { d: 'DAV:', oc: 'http://owncloud.org/ns', nc: 'http://nextcloud.org/ns', m: 'http://meshdav.org/ns' };
const PROPFIND_BODY = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="${NS.oc}" xmlns:nc="${NS.nc}" xmlns:m="${NS.m}"><d:prop>
<d:resourcetype/><d:getcontentlength/><d:getlastmodified/><d:getetag/><d:getcontenttype/>
<oc:fileid/><oc:permissions/><oc:size/><oc:owner-id/><oc:owner-display-name/><nc:mount-type/>
<m:remote-provider/><m:remote-state/><m:remote-share-id/><d:quota-used-bytes/><d:quota-available-bytes/>
</d:prop></d:propfind>`;

function numberOrUndefined(text) {
  return text === undefined || text === '' || Number.isNaN(Number(text)) ? undefined : Number(text);
}

function prop(propEl, ns, name) {
  const el = propEl.getElementsByTagNameNS(NS[ns], name)[0];
  return el ? el.textContent : undefined;
}

/**
 * PROPFIND Depth 1 of `url` with `body`: each `<d:response>` as `{ href, prop }`, the href as a
 * path and `prop` the element of its 200 propstat (undefined when it has none).
 */
async function propfind(url, body) {
  const res = await fetch(url, {
    method: 'PROPFIND',
    headers: headers({ Depth: '1', 'Content-Type': 'application/xml; charset=utf-8' }),
    body,
    credentials: 'same-origin',
  });
  if (res.status !== 207) throw await failure(res);
  const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
  return [...doc.getElementsByTagNameNS(NS.d, 'response')].map((r) => {
    const href = new URL(r.getElementsByTagNameNS(NS.d, 'href')[0]?.textContent ?? '', location.origin).pathname;
    const ok = [...r.getElementsByTagNameNS(NS.d, 'propstat')].find((ps) => / 200 /.test(ps.getElementsByTagNameNS(NS.d, 'status')[0]?.textContent ?? ''));
    return { href, prop: ok?.getElementsByTagNameNS(NS.d, 'prop')[0] };
  });
}

/** Lists a folder: resolves to `{ self, children }` entries with path, name, type, size, … */
export async function list(path) {
  const entries = [];
  for (const { href: hrefPath, prop: found } of await propfind(davUrl(path) + '/', PROPFIND_BODY)) {
    if (!found) continue;
    const rel = decodeURIComponent(hrefPath.slice(davBase.length).replace(/\/$/, '')) || '/';
    const isDir = found.getElementsByTagNameNS(NS.d, 'collection').length > 0;
    const perms = prop(found, 'oc', 'permissions') ?? '';
    entries.push({
      path: rel,
      name: rel === '/' ? '' : rel.split('/').pop(),
      type: isDir ? 'dir' : 'file',
      size: Number(prop(found, 'oc', 'size') ?? prop(found, 'd', 'getcontentlength') ?? 0),
      mtime: Date.parse(prop(found, 'd', 'getlastmodified') ?? '') || 0,
      mime: prop(found, 'd', 'getcontenttype') ?? '',
      permissions: perms,
      canCreate: perms === '' || /[CK]/.test(perms),
      canRename: perms === '' || perms.includes('N'),
      canDelete: perms === '' || perms.includes('D'),
      canShare: perms === '' || perms.includes('R'),
      fileId: prop(found, 'oc', 'fileid'),
      ownerId: prop(found, 'oc', 'owner-id'),
      ownerName: prop(found, 'oc', 'owner-display-name'),
      mountType: prop(found, 'nc', 'mount-type'),
      remoteProvider: prop(found, 'm', 'remote-provider'),
      remoteState: prop(found, 'm', 'remote-state'),
      // Folders: bytes used, and bytes left (negative: no quota).
      quotaUsed: numberOrUndefined(prop(found, 'd', 'quota-used-bytes')),
      quotaAvailable: numberOrUndefined(prop(found, 'd', 'quota-available-bytes')),
    });
  }
  const norm = '/' + path.split('/').filter(Boolean).join('/');
  return { self: entries.find((e) => e.path === norm), children: entries.filter((e) => e.path !== norm) };
}

async function dav(method, path, extra = {}) {
  const res = await fetch(davUrl(path), { method, headers: headers(extra), credentials: 'same-origin' });
  if (!res.ok) throw await failure(res);
  return res;
}

export const mkdir = (path) => dav('MKCOL', path);
export const remove = (path) => dav('DELETE', path);
export const move = (from, to) =>
  dav('MOVE', from, { Destination: new URL(davUrl(to), location.origin).href, Overwrite: 'F' });

/**
 * Uploads one File with PUT through XHR so the upload progress can be shown.
 * `onProgress(sent, total)`; resolves when stored, rejects with ApiError (412 when `overwrite`
 * is false and something exists there); `signal` aborts.
 */
export function upload(path, file, { onProgress, signal, overwrite = true } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', davUrl(path));
    for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    if (!overwrite) xhr.setRequestHeader('If-None-Match', '*');
    if (file.lastModified) xhr.setRequestHeader('X-OC-Mtime', String(Math.floor(file.lastModified / 1000)));
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(new ApiError(xhr.status, `upload failed: ${xhr.status} ${xhr.statusText}`));
    };
    xhr.onerror = () => reject(new ApiError(0, 'upload failed: network error'));
    xhr.onabort = () => reject(new ApiError(0, 'upload cancelled'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}

// ---- Deleted files (the trash bin, Nextcloud's DAV API) -------------------------------------

const TRASH_PROPS = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:nc="${NS.nc}" xmlns:oc="${NS.oc}"><d:prop>
<d:resourcetype/><d:getcontentlength/><oc:size/>
<nc:trashbin-filename/><nc:trashbin-original-location/><nc:trashbin-deletion-time/>
</d:prop></d:propfind>`;

const trashRoot = () => davBase.replace('/dav/files/', '/dav/trashbin/');

/** The deleted items, newest first: `{ href, name, originalLocation, deletedAt, size, type }`. */
export async function listTrash() {
  const items = [];
  for (const { href, prop: p } of await propfind(`${trashRoot()}/trash/`, TRASH_PROPS)) {
    const name = p && prop(p, 'nc', 'trashbin-filename');
    if (!p || name === undefined) continue; // the trash collection itself
    items.push({
      href,
      name,
      originalLocation: '/' + (prop(p, 'nc', 'trashbin-original-location') ?? name),
      deletedAt: Number(prop(p, 'nc', 'trashbin-deletion-time') ?? 0) * 1000,
      size: Number(prop(p, 'oc', 'size') ?? prop(p, 'd', 'getcontentlength') ?? 0),
      type: p.getElementsByTagNameNS(NS.d, 'collection').length ? 'dir' : 'file',
    });
  }
  return items.sort((x, y) => y.deletedAt - x.deletedAt);
}

async function request(method, url, extra = {}) {
  const res = await fetch(url, { method, headers: headers(extra), credentials: 'same-origin' });
  if (!res.ok) throw await failure(res);
}

/** Restores a deleted item where it was (beside anything that took its name since, as "name (restored)"). */
export const restoreTrash = (item) =>
  request('MOVE', item.href, { Destination: new URL(`${trashRoot()}/restore/${item.href.replace(/\/$/, '').split('/').pop()}`, location.origin).href });
export const purgeTrash = (item) => request('DELETE', item.href);
export const emptyTrash = () => request('DELETE', `${trashRoot()}/trash/`);

// ---- Old versions of a file (Nextcloud's DAV API) ------------------------------------------

const versionsRoot = () => davBase.replace('/dav/files/', '/dav/versions/');

/** A file's old versions, newest first: `{ href, size, mtime }` (href downloads it). */
export async function listVersions(fileId) {
  const body = `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getcontentlength/><d:getlastmodified/></d:prop></d:propfind>`;
  return (await propfind(`${versionsRoot()}/versions/${encodeURIComponent(fileId)}`, body))
    .filter(({ href, prop: p }) => p && !href.endsWith('/')) // not the list itself
    .map(({ href, prop: p }) => ({ href, size: Number(prop(p, 'd', 'getcontentlength')) || 0, mtime: Date.parse(prop(p, 'd', 'getlastmodified') ?? '') || 0 }))
    .sort((a, b) => b.mtime - a.mtime);
}

/** Makes a version the file's content (the current content is kept as a version). */
export const restoreVersion = (version) => request('MOVE', version.href, { Destination: new URL(`${versionsRoot()}/restore/target`, location.origin).href });
