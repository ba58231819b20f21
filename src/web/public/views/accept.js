// The invite-accept page (the OCM inviteAcceptDialog): /accept-invite?token=…&providerDomain=….
// Nothing is accepted until the user confirms with the button.
import { h, announce, card, errorText } from '../dom.js';
import { acceptInvite } from './invites.js';

export function renderAccept(main, app, params) {
  document.title = 'Accept an invite · meshdav';
  const token = h('input', { id: 'accept-token', type: 'text', required: true, class: 'mono', value: params.get('token') ?? '', autocomplete: 'off', spellcheck: 'false' });
  const provider = h('input', { id: 'accept-provider', type: 'text', required: true, value: params.get('providerDomain') ?? '', autocomplete: 'off', spellcheck: 'false' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Accept invite');
  const from = provider.value ? h('p', {}, 'You were invited by someone at ', h('strong', {}, provider.value),
    '. Accepting makes you contacts, so you can share files with each other.') : h('p', {}, 'Enter the invite you received.');
  const form = h('form', { onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      await acceptInvite({ token: token.value.trim(), providerDomain: provider.value.trim() });
      announce('Invite accepted: you are now contacts');
      main.replaceChildren(card('Invite accepted',
        h('p', {}, `You and your contact at ${provider.value.trim()} can now share with each other.`),
        h('a', { class: 'btn btn-primary', href: '/#/invites' }, 'See your contacts')));
      history.replaceState(null, '', '/accept-invite');
    } catch (err) {
      if (err.status === 401) return app.fail(err);
      error.textContent = err.status === 409 ? 'This invite was already accepted.' : errorText(err);
    } finally {
      submit.disabled = false;
    }
  } },
    from,
    h('div', { class: 'field' }, h('label', { for: 'accept-provider' }, 'Inviting site'), provider),
    h('div', { class: 'field' }, h('label', { for: 'accept-token' }, 'Invite token'), token),
    error,
    h('div', { class: 'form-actions' }, h('a', { class: 'btn', href: '/#/files' }, 'Not now'), submit),
  );
  main.replaceChildren(h('div', { class: 'narrow' }, h('h1', { class: 'page-title' }, 'Accept an invite'), card('Invitation', form)));
  submit.focus();
}
