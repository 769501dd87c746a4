// /admin/people (issue #17, admin only): the people who may sign in (GET /v1/users) with their
// state, roles and last sign-in; inviting one (POST /v1/users: the enrollment link is shown
// once, here); disabling (with a reason), enabling and changing roles. The machine tokens
// (GET /v1/tokens): creating one (role, name, expiry, 90 days unless said; the token is shown
// once, in #new-token[data-new-token]) and revoking one.
import {$, ApiError, dateText, errorText, fill, setState, showError, t} from './common.mjs';
import {askReason, busy, call, el, formDialog, hasRole, me, needsRole, notice, roleText, run,
  startConsole} from './console.mjs';

const ROLES = ['admin', 'issuer', 'revoker', 'auditor'];

// An action's failure: a 409 (the last admin, an email already invited) says why.
function failed(err) {
  showError(err instanceof ApiError && (err.status === 409 || err.status === 400)
    ? fill(t.refused, {detail: err.detail}) : errorText(err));
}

function button(text, label, onClick, cls = 'secondary') {
  const b = el('button', {type: 'button', class: cls, text, attrs: {'aria-label': label}});
  b.addEventListener('click', () => onClick(b).catch(failed));
  return b;
}

// ---- people ---------------------------------------------------------------------------------

function rolesFields(current) {
  return [el('fieldset', {class: 'roles'}, el('legend', {text: t.roles}),
    ...ROLES.map((r) => el('label', {}, el('input', {type: 'checkbox', name: 'roles', value: r,
      checked: current.includes(r)}), ` ${roleText(r)}`)))];
}

const checkedRoles = (form) => [...form.querySelectorAll('input[name="roles"]:checked')].map((i) => i.value);

async function editRoles(u, b) {
  const form = await formDialog({title: fill(t.rolesTitle, {name: u.name}), confirm: t.saveRoles,
    fields: rolesFields(u.roles || []), check: (f) => (checkedRoles(f).length ? '' : t.atLeastOneRole)});
  if (!form) {
    return;
  }
  showError('');
  await busy(b, () => call('PUT', `/v1/users/${encodeURIComponent(u.id)}/roles`, {roles: checkedRoles(form)}));
  notice(fill(t.rolesSaved, {name: u.name}));
  await loadUsers();
}

async function disable(u, b) {
  const reason = await askReason({title: fill(t.confirmDisableTitle, {name: u.name}), text: t.confirmDisableText,
    confirm: t.disableUser, danger: true});
  if (reason === null) {
    return;
  }
  showError('');
  await busy(b, () => call('POST', `/v1/users/${encodeURIComponent(u.id)}/disable`, {reason}));
  notice(fill(t.userDisabled, {name: u.name}));
  await loadUsers();
}

async function enable(u, b) {
  showError('');
  await busy(b, () => call('POST', `/v1/users/${encodeURIComponent(u.id)}/enable`, {}));
  notice(fill(t.userEnabled, {name: u.name}));
  await loadUsers();
}

function userRow(u) {
  const self = u.id === me.user?.id;
  const actions = el('td', {class: 'row-actions'},
    button(t.editRoles, fill(t.rolesLabel, {name: u.name}), (b) => editRoles(u, b)),
    u.state === 'disabled'
      ? button(t.enableUser, fill(t.enableLabel, {name: u.name}), (b) => enable(u, b))
      : self ? null : button(t.disableUser, fill(t.disableLabel, {name: u.name}), (b) => disable(u, b), 'danger'));
  return el('tr', {data: {userId: u.id, state: u.state, email: u.email}},
    el('th', {attrs: {scope: 'row'}}, el('span', {class: 'what', text: u.name}),
      self ? el('span', {class: 'meta', text: t.you}) : null),
    el('td', {text: u.email}),
    el('td', {}, el('span', {class: 'state', data: {state: u.state}, text: t[`state.${u.state}`] || u.state}),
      u.state === 'disabled' && u.disabledReason ? el('span', {class: 'meta', text: u.disabledReason}) : null),
    el('td', {text: (u.roles || []).map(roleText).join(', ')}),
    el('td', {class: 'nowrap', text: u.lastSignInAt ? dateText(u.lastSignInAt) : t.never}),
    actions);
}

async function loadUsers() {
  const {users = []} = await call('GET', '/v1/users');
  $('users').replaceChildren(...users.map(userRow));
}

async function invite(form) {
  showError('');
  notice('');
  const roles = checkedRoles(form);
  if (!roles.length) {
    showError(t.atLeastOneRole);
    return;
  }
  const ans = await call('POST', '/v1/users', {name: form.name.value.trim(), email: form.email.value.trim(), roles});
  $('invite-done').textContent = fill(t.inviteDone, {email: ans.user?.email || '', date: dateText(ans.expiresAt)});
  $('enroll-url').textContent = ans.enrollUrl;
  $('enroll-copied').textContent = '';
  $('invite-result').hidden = false;
  form.reset();
  await loadUsers();
}

// ---- tokens ---------------------------------------------------------------------------------

async function revokeToken(tok, b) {
  const form = await formDialog({title: fill(t.confirmRevokeTokenTitle, {id: tok.id}), text: t.confirmRevokeTokenText,
    confirm: t.revokeToken, danger: true});
  if (!form) {
    return;
  }
  showError('');
  await busy(b, () => call('POST', `/v1/tokens/${encodeURIComponent(tok.id)}/revoke`, {}));
  notice(fill(t.tokenRevoked, {id: tok.id}));
  await loadTokens();
}

function tokenRow(tok) {
  return el('tr', {data: {tokenId: tok.id, status: tok.status}},
    el('th', {attrs: {scope: 'row'}, class: 'mono', text: tok.id}),
    el('td', {text: tok.name || t.none}),
    el('td', {text: roleText(tok.role)}),
    el('td', {class: 'nowrap', text: dateText(tok.createdAt)}),
    el('td', {class: 'nowrap', text: tok.expiresAt ? dateText(tok.expiresAt) : t.never}),
    el('td', {}, el('span', {class: 'state', data: {state: tok.status}, text: t[`tokenStatus.${tok.status}`] || tok.status})),
    el('td', {class: 'row-actions'}, tok.status === 'active'
      ? button(t.revokeToken, fill(t.revokeTokenLabel, {id: tok.id}), (b) => revokeToken(tok, b), 'danger') : null));
}

async function loadTokens() {
  const {tokens = []} = await call('GET', '/v1/tokens');
  $('tokens').replaceChildren(...tokens.map(tokenRow));
}

async function createToken(form) {
  showError('');
  notice('');
  const body = {role: form.role.value, expires: form.expires.value.trim() || '90d'};
  if (form.name.value.trim()) {
    body.name = form.name.value.trim();
  }
  const ans = await call('POST', '/v1/tokens', body);
  $('new-token').textContent = ans.token;
  $('new-token').dataset.tokenId = ans.id;
  $('token-copied').textContent = '';
  $('token-result').hidden = false;
  form.name.value = '';
  await loadTokens();
}

function copyButton(buttonId, sourceId, statusId) {
  $(buttonId).addEventListener('click', async () => {
    await navigator.clipboard?.writeText($(sourceId).textContent).catch(() => {});
    $(statusId).textContent = t.copied;
  });
}

function submitting(formId, buttonId, fn) {
  const form = $(formId);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setState('loading');
    busy($(buttonId), () => fn(form)).then(() => {
      if (document.querySelector('main').dataset.state === 'loading') {
        setState('ready');
      }
    }).catch(failed);
  });
}

async function main() {
  await startConsole();
  if (!hasRole('admin')) {
    needsRole('admin');
    return;
  }
  submitting('invite-form', 'invite-button', invite);
  submitting('token-form', 'token-button', createToken);
  copyButton('copy-enroll', 'enroll-url', 'enroll-copied');
  copyButton('copy-token', 'new-token', 'token-copied');
  await Promise.all([loadUsers(), loadTokens()]);
  for (const c of ['users-card', 'invite-card', 'tokens-card']) {
    $(c).hidden = false;
  }
}

run(main);
