// Shares: what others shared with me (accept, decline, open) and what I shared (revoke).
import { json } from '../api.js';
import { h, actions, card, confirmDialog, formatDate } from '../dom.js';
import { receivedShares, sentShares, toMs } from '../model.js';

const STATE_LABEL = { pending: 'Waiting for you', accepted: 'Accepted', rejected: 'Declined', declined: 'Declined', revoked: 'Revoked', unavailable: 'Unavailable' };
const SENT_STATE_LABEL = { ...STATE_LABEL, pending: 'Not accepted yet' };

export function renderShares(main, app) {
  document.title = 'Shares · meshdav';
  const received = h('div', { 'aria-busy': 'true' });
  const sent = h('div', { 'aria-busy': 'true' });
  main.replaceChildren(
    h('div', { class: 'toolbar' }, h('h1', { class: 'page-title' }, 'Shares'),
      h('button', { type: 'button', class: 'btn btn-quiet', onclick: load }, 'Refresh')),
    card('Shared with me', received),
    card('Shared by me', sent),
  );

  const act = actions(app, () => load());

  async function loadReceived() {
    try {
      const all = (await receivedShares()).filter((s) => s.state !== 'revoked');
      received.replaceChildren(all.length
        ? h('ul', { class: 'rows' }, all.map((s) => h('li', { class: 'row', 'data-share': s.name },
            h('div', { class: 'row-main' },
              h('strong', {}, s.name),
              h('span', { class: 'muted' }, `from ${s.ownerName}${s.ownerName !== s.owner ? ` (${s.owner})` : ''} · ${s.role}`)),
            h('span', { class: `badge badge-${s.state}` }, STATE_LABEL[s.state] ?? s.state),
            h('div', { class: 'row-actions' },
              s.state !== 'accepted' && h('button', { type: 'button', class: 'btn btn-small btn-primary', 'aria-label': `Accept ${s.name}`,
                onclick: act(() => json('POST', `/sciencemesh/received-shares/${encodeURIComponent(s.id)}/accept`), `Accepted ${s.name}`) }, 'Accept'),
              s.state === 'pending' && h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Decline ${s.name}`,
                onclick: act(() => json('POST', `/sciencemesh/received-shares/${encodeURIComponent(s.id)}/decline`), `Declined ${s.name}`) }, 'Decline'),
              s.state === 'accepted' && s.mountPoint && h('a', { class: 'btn btn-small btn-primary', 'aria-label': `Open ${s.name}`,
                href: '#/files' + s.mountPoint.split('/').map(encodeURIComponent).join('/') }, 'Open'),
              s.state === 'accepted' && h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Leave ${s.name}`,
                onclick: async () => {
                  if (!(await confirmDialog(`Leave ${s.name}?`, `It disappears from your files; ${s.ownerName} keeps it and you can accept it again later.`, 'Leave'))) return;
                  await act(() => json('POST', `/sciencemesh/received-shares/${encodeURIComponent(s.id)}/decline`), `Left ${s.name}`)();
                } }, 'Leave'),
            ))))
        : h('p', { class: 'empty' }, 'Nothing has been shared with you yet.'));
    } catch (err) {
      app.fail(err);
    } finally {
      received.setAttribute('aria-busy', 'false');
    }
  }

  async function loadSent() {
    try {
      const all = (await sentShares()).filter((s) => s.state !== 'revoked');
      sent.replaceChildren(all.length
        ? h('ul', { class: 'rows' }, all.map((s) => h('li', { class: 'row', 'data-share': s.name || s.path },
            h('div', { class: 'row-main' },
              h('strong', {}, s.path || s.name),
              h('span', { class: 'muted' }, `with ${s.recipientName}${s.recipientName !== s.recipient ? ` (${s.recipient})` : ''} · ${s.role}${s.created ? ' · ' + formatDate(toMs(s.created)) : ''}`)),
            s.state && h('span', { class: `badge badge-${s.state}` }, SENT_STATE_LABEL[s.state] ?? s.state),
            h('div', { class: 'row-actions' },
              h('button', { type: 'button', class: 'btn btn-small btn-danger-quiet', 'aria-label': `Revoke ${s.path || s.name} for ${s.recipient}`,
                onclick: async () => {
                  if (!(await confirmDialog('Revoke share?', `${s.recipientName} will lose access to ${s.path || s.name} at once.`, 'Revoke', true))) return;
                  await act(() => json('DELETE', `/sciencemesh/sent-shares/${encodeURIComponent(s.id)}`), `Revoked ${s.path || s.name}`)();
                } }, 'Revoke')))))
        : h('p', { class: 'empty' }, 'You have not shared anything yet. Use "Share" on a file or folder.'));
    } catch (err) {
      app.fail(err);
    } finally {
      sent.setAttribute('aria-busy', 'false');
    }
  }

  async function load() {
    await Promise.all([loadReceived(), loadSent()]);
  }
  load();
}
