// Small DOM helpers: element builder, status announcements, dialogs, formatting.

/** h('button', { class: 'x', onclick }, 'Text', child…) → element. `null`/`false` children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let statusTimer;
/** Announces a message in the polite live region (errors: kind 'error'). */
export function announce(message, kind = 'info') {
  const region = document.getElementById('status');
  region.className = `status status-${kind}`;
  region.textContent = message;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => {
    region.textContent = '';
    region.className = 'status';
  }, kind === 'error' ? 10000 : 5000);
}

/**
 * A view's actions: `act(fn, message)` is a click handler that runs `fn`, reloads the view with
 * `reload`, then announces `message`; a failure goes to `app.fail`.
 */
export function actions(app, reload) {
  return (fn, message) => async () => {
    try {
      await fn();
      await reload();
      announce(message);
    } catch (err) {
      app.fail(err);
    }
  };
}

export function errorText(err) {
  if (err?.status === 401) return 'Your session has ended. Please log in again.';
  return err?.message || String(err);
}

/**
 * Opens a modal <dialog> built by `build(close)` and resolves with what `close(value)` is
 * given (undefined on Escape). Focus returns to the element that had it.
 */
export function modal(title, build) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId });
    const close = (value) => {
      dlg.close();
      dlg.remove();
      opener?.focus?.();
      resolve(value);
    };
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(undefined);
    });
    dlg.append(h('h2', { id: titleId, class: 'dialog-title' }, title), build(close));
    document.body.append(dlg);
    dlg.showModal();
    dlg.querySelector('[autofocus]')?.focus();
  });
}

/** A yes/no question; resolves true when confirmed. */
export function confirmDialog(title, text, confirmLabel = 'Confirm', danger = false) {
  return modal(title, (close) =>
    h('div', {},
      h('p', {}, text),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
        h('button', { type: 'button', class: danger ? 'btn btn-danger' : 'btn btn-primary', autofocus: true, onclick: () => close(true) }, confirmLabel),
      ),
    ),
  ).then(Boolean);
}

/** Asks for one line of text; resolves with it (trimmed) or undefined. */
export function promptDialog(title, label, value = '', submitLabel = 'Save') {
  return modal(title, (close) => {
    const input = h('input', { id: 'prompt-input', type: 'text', value, required: true, autofocus: true, autocomplete: 'off' });
    const form = h('form', { onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) close(input.value.trim()); } },
      h('label', { for: 'prompt-input' }, label),
      input,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(undefined) }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel),
      ),
    );
    queueMicrotask(() => { input.focus(); input.select(); });
    return form;
  });
}

/** A read-only value with a copy button (invite strings and links). */
export function copyField(id, label, value) {
  const input = h('input', { id, type: 'text', readonly: true, value, class: 'mono' });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      input.select();
      document.execCommand('copy');
    }
    announce(`${label} copied to the clipboard`);
  };
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('div', { class: 'copy-row' }, input, h('button', { type: 'button', class: 'btn', onclick: copy, 'aria-label': `Copy ${label.toLowerCase()}` }, 'Copy')),
  );
}

export function formatSize(n) {
  if (!Number.isFinite(n) || n <= 0) return n === 0 ? '0 B' : '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  const i = Math.min(units.length - 1, Math.floor(Math.log(n) / Math.log(1024)));
  return `${(n / 1024 ** i).toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function formatDate(ms) {
  if (!ms) return '';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A labelled section card. */
export function card(title, ...children) {
  const id = `h-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}
