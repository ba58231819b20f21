// The login form: user name and password → a session (cookie set by the server).
import { json } from '../api.js';
import { h, errorText } from '../dom.js';

export function renderLogin(main, onLogin) {
  const error = h('p', { id: 'login-error', class: 'form-error', role: 'alert' });
  const user = h('input', { id: 'login-user', name: 'username', type: 'text', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Log in');
  const form = h('form', { class: 'card login-card', 'aria-labelledby': 'login-title', onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      onLogin(await json('POST', '/web/api/login', { user: user.value.trim(), password: password.value }));
    } catch (err) {
      error.textContent = err.status === 401 ? 'Wrong user name or password.' : errorText(err);
      password.select();
      password.focus();
    } finally {
      submit.disabled = false;
    }
  } },
    h('h1', { id: 'login-title' }, 'Log in'),
    h('p', { class: 'muted' }, 'Your files, contacts and shares across the ScienceMesh.'),
    h('div', { class: 'field' }, h('label', { for: 'login-user' }, 'User name'), user),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
    error,
    submit,
  );
  main.replaceChildren(h('div', { class: 'login-wrap' }, form));
  user.focus();
}
