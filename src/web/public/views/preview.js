// Shows a file in a dialog: text as text (never as HTML), images as images, anything else
// as a download link. The content is fetched with the session, like any other DAV read.
import * as api from '../api.js';
import { h, modal, formatSize } from '../dom.js';

const TEXT_LIMIT = 1024 * 1024;

function isText(entry) {
  return /^text\/|json|xml|javascript|yaml|csv|markdown/.test(entry.mime) || /\.(txt|md|csv|json|log|ya?ml|xml|ini|conf|py|js|ts|sh)$/i.test(entry.name);
}

export async function openPreview(entry, app) {
  const body = h('div', { class: 'preview', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  let objectUrl;
  const done = modal(entry.name, (close) =>
    h('div', {},
      h('p', { class: 'muted' }, `${formatSize(entry.size)}${entry.mime ? ' · ' + entry.mime : ''}`),
      body,
      h('div', { class: 'dialog-actions' },
        h('a', { class: 'btn', href: api.davUrl(entry.path), download: entry.name }, 'Download'),
        h('button', { type: 'button', class: 'btn btn-primary', autofocus: true, onclick: () => close() }, 'Close'),
      ),
    ),
  );
  try {
    if (isText(entry) && entry.size <= TEXT_LIMIT) {
      const res = await fetch(api.davUrl(entry.path), { credentials: 'same-origin', headers: { 'X-Requested-With': 'meshdav-web' } });
      if (!res.ok) throw Object.assign(new Error(`could not read the file (${res.status})`), { status: res.status });
      body.replaceChildren(h('pre', { class: 'preview-text', tabindex: '0', 'aria-label': `Content of ${entry.name}` }, await res.text()));
    } else if (/^image\//.test(entry.mime) && entry.size <= 20 * TEXT_LIMIT) {
      const res = await fetch(api.davUrl(entry.path), { credentials: 'same-origin', headers: { 'X-Requested-With': 'meshdav-web' } });
      if (!res.ok) throw Object.assign(new Error(`could not read the file (${res.status})`), { status: res.status });
      objectUrl = URL.createObjectURL(await res.blob());
      body.replaceChildren(h('img', { src: objectUrl, alt: entry.name, class: 'preview-image' }));
    } else {
      body.replaceChildren(h('p', {}, 'No preview for this kind of file. Download it to open it.'));
    }
  } catch (err) {
    body.replaceChildren(h('p', { class: 'form-error' }, err.message));
    app.fail(err);
  } finally {
    body.setAttribute('aria-busy', 'false');
  }
  await done;
  if (objectUrl) URL.revokeObjectURL(objectUrl);
}
