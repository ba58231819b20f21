// "Where are you from?" (OCM WAYF): an invite link of this node opened by the invited person.
// They name their own site; the browser goes to that site's accept page with the token.
import { h, card } from '../dom.js';

export function renderWayf(main, node, params) {
  document.title = 'Accept an invite · meshdav';
  const token = params.get('token') ?? '';
  const site = h('input', { id: 'wayf-site', type: 'text', list: 'wayf-sites', required: true, autocomplete: 'url', spellcheck: 'false',
    placeholder: 'e.g. cloud.example.org', 'aria-describedby': 'wayf-help' });
  const sites = h('datalist', { id: 'wayf-sites' }, node.providers.map((p) => h('option', { value: p.domain })));
  const error = h('p', { class: 'form-error', role: 'alert' });
  const form = h('form', { onsubmit: (e) => {
    e.preventDefault();
    error.textContent = '';
    const typed = site.value.trim().replace(/\/+$/, '');
    const known = node.providers.find((p) => p.domain === typed || p.url === typed);
    let base;
    try {
      base = known ? known.url : new URL(/^https?:\/\//i.test(typed) ? typed : `https://${typed}`).href.replace(/\/+$/, '');
    } catch {
      error.textContent = 'That does not look like a site address.';
      return;
    }
    if (new URL(base).host === node.providerDomain) {
      error.textContent = 'This invite comes from this site. Enter the address of your own site.';
      return;
    }
    const q = new URLSearchParams({ token, providerDomain: node.providerDomain });
    location.assign(`${base}/accept-invite?${q}`);
  } },
    h('p', {}, 'You were invited to connect with someone at ', h('strong', {}, node.providerDomain),
      '. To accept, continue on the site where you have your account.'),
    h('div', { class: 'field' }, h('label', { for: 'wayf-site' }, 'Your site'), site, sites,
      h('p', { id: 'wayf-help', class: 'help' }, 'The address of your own cloud, for example the one you log in to.')),
    error,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Continue to my site')),
  );
  main.replaceChildren(h('div', { class: 'narrow' }, h('h1', { class: 'page-title' }, 'Accept an invite'), card('Where is your account?', form)));
  site.focus();
}
