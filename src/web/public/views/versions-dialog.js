// A file's old versions: download one, or make it the current content again.
import { listVersions, restoreVersion } from '../api.js';
import { h, modal, announce, errorText, formatSize } from '../dom.js';

/** A version's time, to the second (versions made within a minute of each other stay apart). */
const when = (ms) => new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Opens the dialog; resolves true when a version was restored (the caller reloads the folder). */
export function openVersionsDialog(entry) {
  return modal(`Versions of ${entry.name}`, (close) => {
    const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
    listVersions(entry.fileId).then(
      (versions) => {
        body.replaceChildren(versions.length
          ? h('ul', { class: 'rows' }, versions.map((v) => h('li', { class: 'row', 'data-version': v.href.split('/').pop() },
              h('div', { class: 'row-main' }, h('strong', {}, when(v.mtime)), h('span', { class: 'muted' }, formatSize(v.size))),
              h('div', { class: 'row-actions' },
                h('a', { class: 'btn btn-small', href: v.href, download: entry.name, 'aria-label': `Download the version of ${when(v.mtime)} (${formatSize(v.size)})` }, 'Download'),
                h('button', { type: 'button', class: 'btn btn-small btn-primary', 'aria-label': `Restore the version of ${when(v.mtime)} (${formatSize(v.size)})`,
                  onclick: async () => {
                    try {
                      await restoreVersion(v);
                      announce(`Restored the version of ${when(v.mtime)} of ${entry.name}`);
                      close(true);
                    } catch (err) {
                      announce(errorText(err), 'error');
                    }
                  } }, 'Restore')))))
          : h('p', { class: 'empty' }, 'No older versions. Each time the file is replaced, its previous content is kept here.'));
        body.setAttribute('aria-busy', 'false');
      },
      (err) => {
        body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, errorText(err)));
        body.setAttribute('aria-busy', 'false');
      },
    );
    return h('div', {}, body, h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn', autofocus: true, onclick: () => close(false) }, 'Close')));
  }).then(Boolean);
}
