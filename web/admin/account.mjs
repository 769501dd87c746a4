// /admin/account (issue #16; moved there by issue #17): the signed-in person's account: who
// they are and their roles, their passkeys (and adding one), their sessions (and revoking
// one). The console's frame (console.mjs) signs the page in, shows the header with sign-out,
// goes to /admin/signin on any 401 (expired, revoked, signed out elsewhere, user disabled)
// and re-checks the session when its idle expiry has passed. A session opened with a recovery
// code may only add a passkey (mustEnrollPasskey), so then that is all the page shows.
import {$, dateText, errorText, fill, setState, showError, t, webauthnAvailable, creationOptions,
  registrationJSON} from './common.mjs';
import {busy, call, me, notice, refreshSession, showNav, startConsole, toSignin} from './console.mjs';

function showWho() {
  const u = me.user || {};
  const who = $('who');
  who.dataset.userId = u.id || '';
  $('user-name').textContent = u.name || '';
  $('user-email').textContent = u.email || '';
  $('user-roles').textContent = (u.roles || []).map((r) => t[`role.${r}`] || r).join(', ');
  const method = t[`method.${me.session?.method}`] || me.session?.method || '';
  $('session-since').textContent = [dateText(me.session?.createdAt), method && `(${method})`].filter(Boolean).join(' ');
}

function row(kind, id) {
  const li = document.createElement('li');
  li.dataset[kind] = id;
  return li;
}

function span(cls, text) {
  const s = document.createElement('span');
  s.className = cls;
  s.textContent = text;
  return s;
}

async function showPasskeys() {
  const {passkeys = []} = await call('GET', '/v1/auth/passkeys');
  const list = $('passkey-list');
  if (!passkeys.length) {
    list.replaceChildren(span('meta', t.passkeysEmpty));
    return;
  }
  list.replaceChildren(...passkeys.map((p) => {
    const li = row('passkey', p.id);
    const used = p.lastUsedAt ? fill(t.lastUsed, {date: dateText(p.lastUsedAt)}) : t.neverUsed;
    li.append(span('what', p.name || `${p.id.slice(0, 12)}…`),
      span('meta', `${fill(t.created, {date: dateText(p.createdAt)})} · ${used}`));
    return li;
  }));
}

async function revoke(s, button) {
  showError('');
  notice('');
  await busy(button, () => call('DELETE', `/v1/sessions/${encodeURIComponent(s.id)}`));
  if (s.current) {
    toSignin();
    return;
  }
  notice(t.revoked);
  await showSessions();
}

async function showSessions() {
  const {sessions = []} = await call('GET', '/v1/sessions');
  const live = sessions.filter((s) => !s.revokedAt);
  $('session-list').replaceChildren(...live.map((s) => {
    const li = row('session', s.id);
    const method = t[`method.${s.method}`] || s.method || '';
    const text = document.createElement('span');
    text.append(span('what', dateText(s.createdAt)), ' ', span('meta', [method, s.client].filter(Boolean).join(' · ')));
    if (s.current) {
      li.dataset.current = '';
      text.append(' ', span('current', t.thisSession));
    }
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.textContent = t.revoke;
    b.setAttribute('aria-label', fill(t.revokeLabel, {date: dateText(s.createdAt)}));
    b.addEventListener('click', () => revoke(s, b).catch((err) => showError(errorText(err))));
    li.append(text, b);
    return li;
  }));
}

async function addPasskey() {
  showError('');
  notice('');
  const {ceremony, publicKey} = await call('POST', '/v1/auth/passkeys/options', {});
  const cred = await navigator.credentials.create({publicKey: creationOptions(publicKey)});
  const body = {ceremony, credential: registrationJSON(cred)};
  const name = $('passkey-name').value.trim();
  if (name) {
    body.name = name;
  }
  await call('POST', '/v1/auth/passkeys', body);
  $('passkey-name').value = '';
  await render(true);
  notice(t.passkeyAdded);
}

// Shows the account from the session; fresh: asks the node for it again first (after adding
// a passkey, which ends a recovery session's restriction).
async function render(fresh) {
  if (fresh) {
    await refreshSession();
    showNav();
  }
  const must = !!me.mustEnrollPasskey;
  $('must-enroll').hidden = !must;
  $('who').hidden = must;
  $('sessions').hidden = must;
  $('passkey-list').hidden = must;
  $('passkeys').hidden = false;
  showWho();
  if (!must) {
    await Promise.all([showPasskeys(), showSessions()]);
  }
  setState('ready');
}

async function main() {
  $('add-form').addEventListener('submit', (e) => {
    e.preventDefault();
    busy($('add-passkey'), addPasskey).catch((err) => showError(errorText(err)));
  });
  if (!webauthnAvailable()) {
    $('add-passkey').disabled = true;
  }
  try {
    await startConsole();
    await render(false);
  } catch (err) {
    showError(errorText(err));
  }
}

main();
