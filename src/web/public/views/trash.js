// Deleted files: what the user deleted from their own files, to restore or delete for good.
import { emptyTrash, listTrash, purgeTrash, restoreTrash } from '../api.js';
import { h, actions, card, confirmDialog, formatDate, formatSize } from '../dom.js';

/** How long deleted items stay, as the node is configured. */
function retention(days) {
  if (days === undefined) return null;
  const text = days > 0
    ? `Deleted items go for good ${days === 1 ? 'a day' : `${days} days`} after they were deleted.`
    : 'Deleted items stay until you delete them for good.';
  return h('p', { class: 'muted' }, text);
}

export function renderTrash(main, app) {
  document.title = 'Deleted files · meshdav';
  const list = h('div', { 'aria-busy': 'true' });
  const emptyButton = h('button', { type: 'button', class: 'btn btn-danger-quiet', hidden: true, onclick: empty }, 'Delete all for good');
  main.replaceChildren(
    h('div', { class: 'toolbar' }, h('h1', { class: 'page-title' }, 'Deleted files'),
      h('button', { type: 'button', class: 'btn btn-quiet', onclick: load }, 'Refresh'), emptyButton),
    card('Deleted from your files', retention(app.session?.node?.trashRetentionDays), list),
  );

  const act = actions(app, () => load());

  async function empty() {
    if (!(await confirmDialog('Delete all for good?', 'Everything in Deleted files is removed for good; it cannot be restored.', 'Delete all', true))) return;
    await act(emptyTrash, 'Deleted files emptied')();
  }

  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const items = await listTrash();
      emptyButton.hidden = items.length === 0;
      list.replaceChildren(items.length
        ? h('ul', { class: 'rows' }, items.map((t) => {
            const folder = t.originalLocation.slice(0, t.originalLocation.lastIndexOf('/')) || '/';
            return h('li', { class: 'row', 'data-trash': t.name },
              h('div', { class: 'row-main' },
                h('strong', {}, t.type === 'dir' ? `${t.name}/` : t.name),
                h('span', { class: 'muted' }, `from ${folder} · deleted ${formatDate(t.deletedAt)} · ${formatSize(t.size)}`)),
              h('div', { class: 'row-actions' },
                t.type === 'file' && h('a', { class: 'btn btn-small', href: t.href, download: t.name, 'aria-label': `Download ${t.name}` }, 'Download'),
                h('button', { type: 'button', class: 'btn btn-small btn-primary', 'aria-label': `Restore ${t.name}`,
                  onclick: act(() => restoreTrash(t), `Restored ${t.name} to ${folder}`) }, 'Restore'),
                h('button', { type: 'button', class: 'btn btn-small btn-danger-quiet', 'aria-label': `Delete ${t.name} for good`,
                  onclick: async () => {
                    if (!(await confirmDialog(`Delete ${t.name} for good?`, 'It cannot be restored afterwards.', 'Delete for good', true))) return;
                    await act(() => purgeTrash(t), `Deleted ${t.name} for good`)();
                  } }, 'Delete for good')));
          }))
        : h('p', { class: 'empty' }, 'Nothing deleted. What you delete from your files comes here first, and can be restored.'));
    } catch (err) {
      app.fail(err);
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }

  load();
}
