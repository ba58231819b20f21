// The share dialog: recipient chosen with autocomplete over accepted contacts (an ARIA
// combobox: arrows move, Enter picks, Escape closes the list), role viewer or editor.
import { json } from '../api.js';
import { h, modal, announce, errorText } from '../dom.js';
import { contacts } from '../model.js';

export function openShareDialog(entry, app) {
  return modal(`Share ${entry.name}`, (close) => {
    let picked = null;
    let options = [];
    let active = -1;
    let seq = 0;
    let timer;
    const listbox = h('ul', { id: 'recipient-list', role: 'listbox', class: 'combo-list', 'aria-label': 'Matching contacts', hidden: true });
    const input = h('input', {
      id: 'recipient', type: 'text', role: 'combobox', autocomplete: 'off', autofocus: true, required: true,
      'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': 'recipient-list', 'aria-describedby': 'recipient-help',
      placeholder: 'Start typing a name',
    });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Share');

    const show = (items) => {
      options = items;
      active = items.length ? 0 : -1;
      listbox.replaceChildren(...(items.length
        ? items.map((c, i) => h('li', { id: `recipient-opt-${i}`, role: 'option', class: 'combo-option', 'aria-selected': String(i === active),
            onmousedown: (e) => { e.preventDefault(); pick(c); } },
            h('span', { class: 'combo-name' }, c.displayName || c.userId), h('span', { class: 'combo-addr' }, `${c.userId}@${c.idp}`)))
        : [h('li', { class: 'combo-empty', role: 'presentation' }, 'No matching contact. Invite them first.')]));
      listbox.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      if (active >= 0) input.setAttribute('aria-activedescendant', `recipient-opt-${active}`);
      else input.removeAttribute('aria-activedescendant');
    };
    const hide = () => {
      listbox.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
    };
    const highlight = (i) => {
      active = (i + options.length) % options.length;
      listbox.querySelectorAll('[role=option]').forEach((li, j) => li.setAttribute('aria-selected', String(j === active)));
      input.setAttribute('aria-activedescendant', `recipient-opt-${active}`);
      listbox.children[active]?.scrollIntoView({ block: 'nearest' });
    };
    const pick = (c) => {
      clearTimeout(timer);
      seq++; // answers to searches still under way no longer matter
      picked = c;
      input.value = `${c.displayName || c.userId} (${c.userId}@${c.idp})`;
      hide();
    };
    const search = async () => {
      const mine = ++seq;
      try {
        const found = await contacts(input.value.trim());
        if (mine === seq && !picked && document.activeElement === input) show(found.slice(0, 20));
      } catch (err) {
        if (mine === seq) app.fail(err);
      }
    };
    input.addEventListener('input', () => {
      picked = null; // the text changed: the earlier choice no longer stands
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener('focus', () => { if (!picked) search(); });
    input.addEventListener('blur', () => setTimeout(hide, 100));
    input.addEventListener('keydown', (e) => {
      const open = !listbox.hidden && options.length;
      if (e.key === 'ArrowDown') { e.preventDefault(); if (open) highlight(active + 1); else search(); }
      else if (e.key === 'ArrowUp' && open) { e.preventDefault(); highlight(active - 1); }
      else if (e.key === 'Enter' && open && active >= 0) { e.preventDefault(); pick(options[active]); }
      else if (e.key === 'Escape' && !listbox.hidden) { e.preventDefault(); e.stopPropagation(); hide(); }
    });

    const roleField = h('fieldset', { class: 'field roles' }, h('legend', {}, 'Role'),
      h('label', { class: 'radio' }, h('input', { type: 'radio', name: 'role', value: 'viewer', checked: true }),
        h('span', {}, h('strong', {}, 'Viewer'), h('span', { class: 'muted' }, ' — can open and download'))),
      h('label', { class: 'radio' }, h('input', { type: 'radio', name: 'role', value: 'editor' }),
        h('span', {}, h('strong', {}, 'Editor'), h('span', { class: 'muted' }, ' — can also change, add and delete'))),
    );

    const form = h('form', { class: 'share-form', onsubmit: async (e) => {
      e.preventDefault();
      error.textContent = '';
      if (!picked) {
        error.textContent = 'Pick a recipient from your contacts.';
        input.focus();
        return;
      }
      submit.disabled = true;
      try {
        await json('POST', '/sciencemesh/create-share', {
          sourcePath: entry.path,
          recipientUsername: picked.userId,
          recipientHost: picked.idp,
          role: form.elements.role.value,
        });
        announce(`Shared ${entry.name} with ${picked.displayName || picked.userId}`);
        close(true);
      } catch (err) {
        if (err.status === 401) { close(false); app.fail(err); return; }
        error.textContent = errorText(err);
      } finally {
        submit.disabled = false;
      }
    } },
      h('p', { class: 'muted' }, `Shares ${entry.type === 'dir' ? 'the folder' : 'the file'} ${entry.path} with a contact on another site.`),
      h('div', { class: 'field combo' },
        h('label', { for: 'recipient' }, 'Recipient'),
        input,
        h('p', { id: 'recipient-help', class: 'help' }, 'Your accepted contacts. Use the arrow keys to choose.'),
        listbox),
      roleField,
      error,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
        submit),
    );
    return form;
  });
}
