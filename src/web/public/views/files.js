// Files: browse the home (mounted shares under the shares folder are marked as remote with
// owner and provider), upload by picker or drag and drop with progress, download, preview,
// new folder, rename, delete and share.
import * as api from '../api.js';
import { h, announce, confirmDialog, promptDialog, formatSize, formatDate } from '../dom.js';
import { receivedShares } from '../model.js';
import { openShareDialog } from './share-dialog.js';
import { openVersionsDialog } from './versions-dialog.js';
import { openPreview } from './preview.js';
import { dropEntries, pickedFiles, walkDrop } from '../dropped.js';

const join = (dir, name) => (dir === '/' ? '' : dir) + '/' + name;
const parent = (path) => path.slice(0, path.lastIndexOf('/')) || '/';
const hashFor = (path) => '#/files' + path.split('/').map(encodeURIComponent).join('/');

export async function renderFiles(main, app, path) {
  const sharesFolder = app.session.node.sharesFolder;
  const list = h('div', { class: 'file-list', 'aria-busy': 'true' });
  const uploads = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
  const picker = h('input', { type: 'file', multiple: true, id: 'upload-input', class: 'visually-hidden', tabindex: '-1', 'aria-label': 'Files to upload',
    onchange: () => { uploadAll(pickedFiles(picker.files)); picker.value = ''; } });
  const folderPicker = h('input', { type: 'file', webkitdirectory: true, id: 'upload-folder-input', class: 'visually-hidden', tabindex: '-1',
    'aria-label': 'Folder to upload', onchange: () => { uploadAll(pickedFiles(folderPicker.files)); folderPicker.value = ''; } });
  const writeButtons = [
    h('button', { type: 'button', class: 'btn', onclick: newFolder }, 'New folder'),
    h('button', { type: 'button', class: 'btn', onclick: () => folderPicker.click() }, 'Upload folder'),
    h('button', { type: 'button', class: 'btn btn-primary', onclick: () => picker.click() }, 'Upload'),
  ];
  const hint = h('p', { class: 'hint muted' }, 'Drop files here to upload them to this folder.');
  /** At the home root: how much of the user's space is used (their quota, when they have one). */
  const usage = h('p', { class: 'usage muted', id: 'storage-usage', hidden: true });
  const actions = h('div', { class: 'toolbar-actions' },
    writeButtons,
    h('button', { type: 'button', class: 'btn btn-quiet', onclick: load, 'aria-label': 'Refresh the list' }, 'Refresh'),
    picker,
    folderPicker,
  );
  const zone = h('section', { class: 'card dropzone', 'aria-labelledby': 'files-title' },
    h('div', { class: 'toolbar' }, h('h1', { id: 'files-title' }, 'Files'), actions),
    breadcrumb(path),
    hint,
    uploads,
    list,
    usage,
  );
  main.replaceChildren(zone);
  document.title = `${path === '/' ? 'Files' : path.split('/').pop()} · meshdav`;

  let depth = 0;
  let canCreate = true;
  /** Names in this folder as last listed: uploads over them ask first. */
  let existing = new Set();
  zone.addEventListener('dragenter', (e) => { if (hasFiles(e) && canCreate) { depth++; zone.classList.add('dragging'); } });
  zone.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; zone.classList.remove('dragging'); } });
  zone.addEventListener('dragover', (e) => { if (hasFiles(e) && canCreate) e.preventDefault(); });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove('dragging');
    if (canCreate) walkDrop(dropEntries(e.dataTransfer)).then(uploadAll, (err) => app.fail(err));
  });

  await load();

  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const inShares = path === '/' || path === sharesFolder || path.startsWith(sharesFolder + '/');
      const [{ self, children }, mounts] = await Promise.all([api.list(path), inShares ? mountsByPath() : new Map()]);
      if (self?.type === 'file') {
        // A file's address (e.g. a received file share): show its folder and open the file.
        location.replace(hashFor(parent(path)));
        openPreview(self, app);
        return;
      }
      canCreate = self ? self.canCreate : true;
      existing = new Set(children.map((c) => c.name));
      for (const b of writeButtons) b.hidden = !canCreate;
      hint.textContent = canCreate ? 'Drop files here to upload them to this folder.' : 'This folder is read-only for you.';
      children.sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'dir' ? -1 : 1));
      list.replaceChildren(children.length ? table(children, mounts) : h('p', { class: 'empty' }, 'This folder is empty.'));
      showUsage(path === '/' ? self : undefined);
    } catch (err) {
      list.replaceChildren(h('p', { class: 'empty' }, err.status === 404 ? 'This folder does not exist.' : 'Could not load this folder.'));
      app.fail(err);
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }

  function showUsage(root) {
    usage.hidden = !root || root.quotaUsed === undefined;
    if (usage.hidden) return;
    const free = root.quotaAvailable;
    usage.textContent = free !== undefined && free >= 0
      ? `${formatSize(root.quotaUsed)} of ${formatSize(root.quotaUsed + free)} used (${formatSize(free)} free)`
      : `${formatSize(root.quotaUsed)} used`;
  }

  async function mountsByPath() {
    try {
      const shares = await receivedShares();
      return new Map(shares.filter((s) => s.mountPoint).map((s) => [s.mountPoint.replace(/\/$/, ''), s]));
    } catch {
      return new Map();
    }
  }

  /** Remote origin of an entry: from its DAV properties, else from the received share mounted above it. */
  function remoteOf(entry, mounts) {
    if (!(entry.path === sharesFolder || entry.path.startsWith(sharesFolder + '/'))) return undefined;
    const mountPath = entry.path.split('/').slice(0, 3).join('/');
    const share = mounts.get(mountPath);
    const owner = (entry.ownerId && entry.ownerId.includes('@') ? entry.ownerId : '') || share?.owner || '';
    if (!owner && !entry.remoteProvider && entry.mountType !== 'shared' && !share) return undefined;
    return {
      owner,
      ownerName: share?.ownerName || entry.ownerName || owner,
      provider: entry.remoteProvider || share?.provider || owner.split('@').pop(),
      unavailable: entry.remoteState === 'unavailable',
    };
  }

  function table(entries, mounts) {
    return h('table', { class: 'files' },
      h('caption', { class: 'visually-hidden' }, `Contents of ${path}`),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', class: 'col-size' }, 'Size'),
        h('th', { scope: 'col', class: 'col-date' }, 'Modified'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, entries.map((e) => row(e, remoteOf(e, mounts)))),
    );
  }

  function row(entry, remote) {
    const isDir = entry.type === 'dir';
    const name = isDir
      ? h('a', { href: hashFor(entry.path), class: 'entry-name' }, icon('dir', remote), entry.name)
      : h('button', { type: 'button', class: 'link entry-name', onclick: () => openPreview(entry, app) }, icon('file', remote), entry.name);
    const badge = remote && h('span', { class: `badge badge-remote${remote.unavailable ? ' badge-warn' : ''}`,
      title: `Shared by ${remote.owner} from ${remote.provider}` },
      remote.unavailable ? 'Unavailable · ' : 'Remote · ', `${remote.ownerName || remote.owner} @ ${remote.provider}`);
    // A mount point itself is left by declining the share (Shares view), never renamed or deleted.
    const isMountPoint = Boolean(remote) && parent(entry.path) === sharesFolder;
    const buttons = [
      !isDir && h('a', { class: 'btn btn-small', href: api.davUrl(entry.path), download: entry.name, 'aria-label': `Download ${entry.name}` }, 'Download'),
      !remote && entry.canShare && h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Share ${entry.name}`,
        onclick: () => openShareDialog(entry, app) }, 'Share'),
      !remote && !isDir && entry.fileId && h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Versions of ${entry.name}`,
        onclick: async () => { if (await openVersionsDialog(entry)) await load(); } }, 'Versions'),
      entry.canRename && !isMountPoint && h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Rename ${entry.name}`, onclick: () => rename(entry) }, 'Rename'),
      entry.canDelete && !isMountPoint && h('button', { type: 'button', class: 'btn btn-small btn-danger-quiet', 'aria-label': `Delete ${entry.name}`, onclick: () => del(entry) }, 'Delete'),
    ];
    return h('tr', { 'data-name': entry.name, class: remote ? 'is-remote' : '' },
      h('td', { class: 'col-name' }, name, badge),
      h('td', { class: 'col-size' }, isDir ? '' : formatSize(entry.size)),
      h('td', { class: 'col-date' }, formatDate(entry.mtime)),
      h('td', { class: 'col-actions' }, h('div', { class: 'row-actions' }, buttons)),
    );
  }

  async function newFolder() {
    const name = await promptDialog('New folder', 'Folder name', '', 'Create');
    if (!name) return;
    if (name.includes('/')) return announce('A name cannot contain "/".', 'error');
    try {
      await api.mkdir(join(path, name));
      await load();
      announce(`Folder ${name} created`);
    } catch (err) {
      app.fail(err);
    }
  }

  async function rename(entry) {
    const name = await promptDialog(`Rename ${entry.name}`, 'New name', entry.name, 'Rename');
    if (!name || name === entry.name) return;
    if (name.includes('/')) return announce('A name cannot contain "/".', 'error');
    try {
      await api.move(entry.path, join(parent(entry.path), name));
      await load();
      announce(`Renamed ${entry.name} to ${name}`);
    } catch (err) {
      app.fail(err);
    }
  }

  async function del(entry) {
    const ok = await confirmDialog(`Delete ${entry.name}?`,
      entry.remoteProvider
        ? `${entry.type === 'dir' ? 'The folder and everything in it' : 'The file'} will be deleted at ${entry.remoteProvider}, the site that shares it.`
        : `${entry.type === 'dir' ? 'The folder and everything in it go' : 'The file goes'} to Deleted files, where you can restore it.`, 'Delete', true);
    if (!ok) return;
    try {
      await api.remove(entry.path);
      await load();
      announce(`Deleted ${entry.name}`);
    } catch (err) {
      app.fail(err);
    }
  }

  /** Creates `folders` (paths below this folder, parents first), then uploads `items` ({file, rel}). */
  async function uploadAll({ items, folders }) {
    if (!items.length && !folders.length) return;
    for (const rel of [...folders].sort((x, y) => x.split('/').length - y.split('/').length)) {
      try {
        await api.mkdir(join(path, rel));
      } catch (err) {
        if (err.status !== 405 && err.status !== 409) return app.fail(err);
      }
    }
    let done = 0;
    const queue = [...items];
    const uploadOne = async ({ file, rel }) => {
      const bar = h('progress', { max: 100, value: 0, 'aria-label': `Uploading ${file.name}` });
      const pct = h('span', { class: 'upload-pct' }, '0%');
      const ctl = new AbortController();
      const item = h('li', { class: 'upload' }, h('span', { class: 'upload-name' }, rel), bar, pct,
        h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'aria-label': `Cancel upload of ${file.name}`, onclick: () => ctl.abort() }, 'Cancel'));
      uploads.append(item);
      const onProgress = (sent, total) => {
        const p = total ? Math.round((sent / total) * 100) : 0;
        bar.value = p;
        pct.textContent = `${p}%`;
      };
      const target = join(path, rel);
      const askReplace = () => confirmDialog(`Replace ${rel}?`, 'A file with this name is already here. Uploading replaces it.', 'Replace');
      try {
        let replace = existing.has(rel) && (await askReplace());
        if (existing.has(rel) && !replace) {
          item.remove();
          return;
        }
        try {
          await api.upload(target, file, { signal: ctl.signal, onProgress, overwrite: replace });
        } catch (err) {
          // Someone else created it meanwhile (or it sits in a subfolder we did not list).
          if (err.status !== 412) throw err;
          replace = await askReplace();
          if (!replace) {
            item.remove();
            return;
          }
          await api.upload(target, file, { signal: ctl.signal, onProgress });
        }
        done++;
        item.remove();
      } catch (err) {
        item.remove();
        app.fail(err);
      }
    };
    // At most four uploads at a time; the rest wait their turn.
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await uploadOne(next);
    };
    await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
    await load();
    if (done) announce(`Uploaded ${done} file${done === 1 ? '' : 's'}`);
    else if (folders.length && !items.length) announce(`Created ${folders.length} folder${folders.length === 1 ? '' : 's'}`);
  }
}

function hasFiles(e) {
  return [...(e.dataTransfer?.types ?? [])].includes('Files');
}

function breadcrumb(path) {
  const parts = path.split('/').filter(Boolean);
  const items = [h('li', {}, parts.length ? h('a', { href: '#/files' }, 'Home') : h('span', { 'aria-current': 'page' }, 'Home'))];
  parts.forEach((p, i) => {
    const to = '/' + parts.slice(0, i + 1).join('/');
    items.push(h('li', {}, i === parts.length - 1 ? h('span', { 'aria-current': 'page' }, p) : h('a', { href: hashFor(to) }, p)));
  });
  return h('nav', { class: 'breadcrumb', 'aria-label': 'Folder path' }, h('ol', {}, items));
}

function icon(kind, remote) {
  const d = kind === 'dir'
    ? 'M3 6.5A1.5 1.5 0 0 1 4.5 5h4l2 2h9A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z'
    : 'M6 3h8l4 4v13a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1zM14 3v4h4';
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', `icon icon-${kind}${remote ? ' icon-remote' : ''}`);
  const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  p.setAttribute('d', d);
  svg.append(p);
  return svg;
}
