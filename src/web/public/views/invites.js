// Contacts & invites: generate an invite (copy the invite string or link), accept one
// (pasted string or link), the open invites, and the accepted contacts.
import { json } from '../api.js';
import { h, announce, card, copyField, confirmDialog, errorText, formatDate } from '../dom.js';
import { contacts, invites, invite as readInvite, toMs } from '../model.js';

/** Turns what the user pasted (an invite string, or an accept link) into the accept-invite body. */
export function parseInvite(text) {
  const t = text.trim();
  if (/^https?:\/\//i.test(t)) {
    const u = new URL(t);
    const token = u.searchParams.get('token');
    const providerDomain = u.searchParams.get('providerDomain') ?? u.searchParams.get('providerdomain');
    if (token && providerDomain) return { token, providerDomain };
  }
  return { invite_string: t };
}

export async function acceptInvite(body) {
  return json('POST', '/sciencemesh/accept-invite', body);
}

export function renderInvites(main, app) {
  document.title = 'Contacts & invites · meshdav';
  const result = h('div', { class: 'invite-result', 'aria-live': 'polite' });
  const description = h('input', { id: 'invite-description', type: 'text', maxlength: 200, placeholder: 'e.g. For Ana at CERN' });
  const genForm = h('form', { onsubmit: async (e) => {
    e.preventDefault();
    try {
      const inv = readInvite(await json('POST', '/sciencemesh/generate-invite', description.value.trim() ? { description: description.value.trim() } : {}));
      result.replaceChildren(
        copyField('invite-string', 'Invite string', inv.inviteString),
        copyField('invite-link', 'Invite link', inv.link),
        h('p', { class: 'help' }, `Send one of these to the person you want to share with. Valid until ${formatDate(toMs(inv.expiration))}.`),
      );
      announce('Invite generated');
      description.value = '';
      await loadInvites();
    } catch (err) {
      app.fail(err);
    }
  } },
    h('div', { class: 'field' }, h('label', { for: 'invite-description' }, 'Note for yourself (optional)'), description),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Generate invite'),
  );

  const pasted = h('input', { id: 'accept-input', type: 'text', required: true, class: 'mono', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'accept-help' });
  const acceptError = h('p', { class: 'form-error', role: 'alert' });
  const acceptForm = h('form', { onsubmit: async (e) => {
    e.preventDefault();
    acceptError.textContent = '';
    try {
      await acceptInvite(parseInvite(pasted.value));
      pasted.value = '';
      announce('Invite accepted: you are now contacts');
      await loadContacts();
    } catch (err) {
      if (err.status === 401) return app.fail(err);
      acceptError.textContent = err.status === 409 ? 'This invite was already accepted.' : errorText(err);
    }
  } },
    h('div', { class: 'field' }, h('label', { for: 'accept-input' }, 'Invite string or link'), pasted,
      h('p', { id: 'accept-help', class: 'help' }, 'Paste what the other person sent you.')),
    acceptError,
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Accept invite'),
  );

  const inviteList = h('div', { 'aria-busy': 'true' });
  const contactList = h('div', { 'aria-busy': 'true' });
  main.replaceChildren(
    h('h1', { class: 'page-title' }, 'Contacts & invites'),
    h('div', { class: 'grid-2' },
      card('Invite someone', h('p', { class: 'muted' }, 'An invite lets someone on another site become your contact, so you can share with each other.'), genForm, result),
      card('Accept an invite', acceptForm),
    ),
    card('Contacts', contactList),
    card('Open invites', inviteList),
  );

  async function loadInvites() {
    try {
      const all = (await invites()).filter((i) => !i.accepted && (!i.expiration || toMs(i.expiration) > Date.now()));
      inviteList.replaceChildren(all.length
        ? h('ul', { class: 'rows' }, all.map((i) => h('li', { class: 'row' },
            h('div', { class: 'row-main' }, h('span', {}, i.description || 'Invite'), h('span', { class: 'muted mono' }, `${i.token.slice(0, 8)}…`)),
            h('span', { class: 'muted' }, i.expiration ? `expires ${formatDate(toMs(i.expiration))}` : ''),
            i.link && h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
              await navigator.clipboard.writeText(i.link).catch(() => {});
              announce('Invite link copied to the clipboard');
            } }, 'Copy link'))))
        : h('p', { class: 'empty' }, 'No open invites.'));
    } catch (err) {
      app.fail(err);
    } finally {
      inviteList.setAttribute('aria-busy', 'false');
    }
  }

  async function loadContacts() {
    try {
      const all = await contacts('');
      contactList.replaceChildren(all.length
        ? h('ul', { class: 'rows contacts' }, all.map((c) => h('li', { class: 'row' },
            h('div', { class: 'row-main' }, h('strong', {}, c.displayName || c.userId), h('span', { class: 'muted' }, `${c.userId}@${c.idp}`)),
            c.mail && h('span', { class: 'muted' }, c.mail),
            h('button', { type: 'button', class: 'btn btn-small btn-danger-quiet', 'aria-label': `Remove contact ${c.displayName || c.userId}`, onclick: async () => {
              if (!(await confirmDialog('Remove contact?', `${c.displayName || c.userId} (${c.userId}@${c.idp}) will no longer be offered as a recipient.`, 'Remove', true))) return;
              try {
                await json('DELETE', '/sciencemesh/delete-accepted-user', { idp: c.idp, user_id: c.userId });
                announce('Contact removed');
                await loadContacts();
              } catch (err) {
                app.fail(err);
              }
            } }, 'Remove'))))
        : h('p', { class: 'empty' }, 'No contacts yet. Generate an invite or accept one.'));
    } catch (err) {
      app.fail(err);
    } finally {
      contactList.setAttribute('aria-busy', 'false');
    }
  }

  loadContacts();
  loadInvites();
}
