// Entry point: finds out who is logged in, then shows the view the URL names.
// Views: #/files/<path>, #/invites, #/shares, #/trash; the page /accept-invite?token=…&providerDomain=….
import { json, setSession } from './api.js';
import { announce, errorText } from './dom.js';
import { renderLogin } from './views/login.js';
import { renderFiles } from './views/files.js';
import { renderInvites } from './views/invites.js';
import { renderShares } from './views/shares.js';
import { renderTrash } from './views/trash.js';
import { renderAccept } from './views/accept.js';
import { renderWayf } from './views/wayf.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const account = document.getElementById('account');
let session = null;
let node = null;
let firstRender = true;

const app = {
  get session() {
    return session;
  },
  navigate(hash) {
    if (location.pathname !== '/') location.assign('/' + hash);
    else if (location.hash === hash) route();
    else location.hash = hash;
  },
  /** Views call this with any error; a 401 means the session ended. */
  fail(err) {
    if (err?.status === 401) {
      useSession(null);
      announce('Your session has ended. Please log in again.', 'error');
      route();
      return;
    }
    announce(errorText(err), 'error');
  },
};

function useSession(s) {
  session = s;
  setSession(s);
  nav.hidden = account.hidden = !s;
  document.getElementById('account-name').textContent = s ? `${s.user.displayName} · ${s.node.providerDomain}` : '';
}

function route() {
  document.body.dataset.view = '';
  const params = new URLSearchParams(location.search);
  if (location.pathname === '/accept-invite' && node && params.get('providerDomain') === node.providerDomain) {
    // Our own invite link, opened by the invited person: send them to their own site.
    document.body.dataset.view = 'wayf';
    renderWayf(main, node, params);
    return finish();
  }
  if (!session) {
    document.title = 'Log in · meshdav';
    renderLogin(main, (s) => {
      useSession(s);
      announce(`Logged in as ${s.user.displayName}`);
      route();
    });
    return finish();
  }
  let view;
  if (location.pathname === '/accept-invite') {
    view = 'accept';
    renderAccept(main, app, params);
  } else {
    const [, name = 'files', ...rest] = (location.hash || '#/files').slice(1).split('/');
    view = name;
    if (name === 'invites') renderInvites(main, app);
    else if (name === 'shares') renderShares(main, app);
    else if (name === 'trash') renderTrash(main, app);
    else {
      view = 'files';
      renderFiles(main, app, '/' + rest.map(decodeURIComponent).filter(Boolean).join('/'));
    }
  }
  document.body.dataset.view = view;
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  finish();
}

function finish() {
  if (!firstRender) main.focus({ preventScroll: false });
  firstRender = false;
}

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await json('POST', '/web/api/logout');
  } catch (err) {
    if (err.status !== 401) return app.fail(err);
  }
  useSession(null);
  announce('Logged out');
  if (location.pathname !== '/') history.replaceState(null, '', '/');
  route();
});

window.addEventListener('hashchange', route);

node = await json('GET', '/web/api/node').catch(() => null);
try {
  useSession(await json('GET', '/web/api/session'));
} catch (err) {
  useSession(null);
  if (err.status !== 401) announce(errorText(err), 'error');
}
route();
