// /admin/ (issue #16): the signed-in person's account: who they are and their roles, their
// passkeys (and adding one), their sessions (and revoking one), and signing out. Without a
// session (401) the page goes to /admin/signin. A session opened with a recovery code may
// only add a passkey (mustEnrollPasskey), so then that is all the page shows.
//
// The page asks GET /v1/auth/session again when its idle expiry has passed (so the check
// itself never keeps an idle session alive) and when the tab becomes visible; any 401 from
// the node (expired, revoked, signed out elsewhere, user disabled) goes to the sign-in page.
import {$, api, ApiError, busy, creationOptions, dateText, errorText, fill, goTo,
  registrationJSON, setCsrf, setState, showError, t, webauthnAvailable} from './common.mjs';

let me = null;          // the GET /v1/auth/session answer
let expiryTimer = 0;

function toSignin() {
  clearTimeout(expiryTimer);
  goTo('/admin/signin');
}

// api() that goes to the sign-in page on 401.
async function call(method, path, body) {
  try {
    return await api(method, path, body);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      toSignin();
      return new Promise(() => {}); // the page is going away
    }
    throw err;
  }
}

function notice(text) {
  $('notice').textContent = text || '';
}

function scheduleExpiryCheck(idleExpiresAt) {
  clearTimeout(expiryTimer);
  const at = Date.parse(idleExpiresAt);
  if (Number.isNaN(at)) {
    return;
  }
  const wait = Math.min(Math.max(at - Date.now() + 1000, 1000), 2 ** 31 - 1);
  expiryTimer = setTimeout(() => loadSession().catch((err) => showError(errorText(err))), wait);
}

async function loadSession() {
  me = await call('GET', '/v1/auth/session');
  setCsrf(me.csrf);
  scheduleExpiryCheck(me.session?.idleExpiresAt);
  return me;
}

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
  await render();
  notice(t.passkeyAdded);
}

async function render() {
  await loadSession();
  const must = !!me.mustEnrollPasskey;
  $('signout').hidden = false;
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

async function signOut() {
  showError('');
  try {
    await api('POST', '/v1/auth/signout', {});
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) {
      throw err;
    }
  }
  toSignin();
}

async function main() {
  document.querySelector('main').removeAttribute('aria-busy');
  $('add-form').addEventListener('submit', (e) => {
    e.preventDefault();
    busy($('add-passkey'), addPasskey).catch((err) => showError(errorText(err)));
  });
  $('signout').addEventListener('click', () => busy($('signout'), signOut).catch((err) => showError(errorText(err))));
  if (!webauthnAvailable()) {
    $('add-passkey').disabled = true;
  }
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && me) {
      loadSession().catch((err) => showError(errorText(err)));
    }
  });
  try {
    await render();
  } catch (err) {
    showError(errorText(err));
  }
}

main();
