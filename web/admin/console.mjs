// The admin console's shared frame (issue #17; node/routes_pages.c serves its pages): the
// signed-in person's session, the navigation in the page's header, the language links, a
// confirmation dialog, and small DOM helpers. Each view module calls startConsole() first.
//
// Everything that comes from the node goes into the page with textContent (el() below never
// parses markup), so a name or a reason cannot inject anything.
//
// Without a session (401 from any call) the page goes to /admin/signin; a session opened with
// a recovery code goes to the account page, the only place it may add a passkey. The session
// is asked for again when its idle expiry has passed (so the check itself never keeps an idle
// session alive) and when the tab becomes visible.
import {$, api, ApiError, config, errorText, fill, goTo, setCsrf, setState, showError, t, url}
  from './common.mjs';

export let me = null; // the GET /v1/auth/session answer
let expiryTimer = 0;

export const roles = () => me?.user?.roles || [];
// An admin may do everything (the node's role matrix).
export const hasRole = (role) => roles().includes('admin') || roles().includes(role);

export function toSignin() {
  clearTimeout(expiryTimer);
  goTo('/admin/signin');
}

// api() that goes to the sign-in page on 401.
export async function call(method, path, body, type) {
  try {
    return await api(method, path, body, type);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      toSignin();
      return new Promise(() => {}); // the page is going away
    }
    throw err;
  }
}

// A GET answered with text rather than JSON (a credential as signed): the text or ApiError.
export async function callText(path) {
  let r;
  try {
    r = await fetch(url(path), {credentials: 'same-origin', cache: 'no-store', redirect: 'error',
      referrerPolicy: 'strict-origin'});
  } catch {
    throw new ApiError(0, '');
  }
  const text = await r.text();
  if (r.status === 401) {
    toSignin();
    return new Promise(() => {});
  }
  if (!r.ok) {
    let detail = '';
    try {
      detail = JSON.parse(text).detail || '';
    } catch {
      detail = '';
    }
    throw new ApiError(r.status, detail);
  }
  return text;
}

function scheduleExpiryCheck(idleExpiresAt) {
  clearTimeout(expiryTimer);
  const at = Date.parse(idleExpiresAt);
  if (Number.isNaN(at)) {
    return;
  }
  const wait = Math.min(Math.max(at - Date.now() + 1000, 1000), 2 ** 31 - 1);
  expiryTimer = setTimeout(() => refreshSession().catch((err) => showError(errorText(err))), wait);
}

export async function refreshSession() {
  me = await call('GET', '/v1/auth/session');
  setCsrf(me.csrf);
  scheduleExpiryCheck(me.session?.idleExpiresAt);
  return me;
}

// ---- DOM ------------------------------------------------------------------------------------

// el('td', {class: 'x', text: 'y', data: {status: 'active'}, attrs: {scope: 'row'}}, ...children):
// an element built without markup. Children are nodes or strings (text).
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) {
      continue;
    }
    if (k === 'text') {
      e.textContent = v;
    } else if (k === 'class') {
      e.className = v;
    } else if (k === 'data') {
      Object.assign(e.dataset, v);
    } else if (k === 'attrs') {
      for (const [a, x] of Object.entries(v)) {
        if (x !== undefined && x !== null && x !== false) {
          e.setAttribute(a, x === true ? '' : String(x));
        }
      }
    } else if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) {
        e.addEventListener(ev, fn);
      }
    } else {
      e[k] = v;
    }
  }
  e.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return e;
}

const locale = () => (config.lang === 'ko' ? 'ko-KR' : 'en-GB');

// A day as the node's date filters read it (UTC, as the credential's public page shows it).
export const dateOnly = (iso) => {
  const d = new Date(iso);
  return !iso || Number.isNaN(d.getTime()) ? ''
    : d.toLocaleDateString(locale(), {dateStyle: 'medium', timeZone: 'UTC'});
};

export const numberText = (n) => (typeof n === 'number' ? n.toLocaleString(locale()) : '');

export const percentText = (rate) => (typeof rate === 'number'
  ? rate.toLocaleString(locale(), {style: 'percent', maximumFractionDigits: 1}) : t.none);

export const roleText = (r) => t[`role.${r}`] || r;
export const statusText = (s) => t[`status.${s}`] || s || '';
// A notification's channel ("email") and delivery state (queued, sent, failed, gave_up).
export const channelText = (c) => t[`channel.${c}`] || c || '';
export const deliveryText = (s) => t[`delivery.${s}`] || s || '';

// A badge of a delivery's state (data-delivery for the styles and the tests).
export const deliveryState = (state) => el('span', {class: 'delivery', data: {delivery: state},
  text: deliveryText(state)});

// A console page's URL with query parameters, keeping ?lang= when the page was opened with it.
export function pageHref(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') {
      q.set(k, v);
    }
  }
  if (new URLSearchParams(location.search).has('lang')) {
    q.set('lang', config.lang);
  }
  const s = q.toString();
  return url(path) + (s ? `?${s}` : '');
}

// The language links keep the rest of the address (?id=, the list's #filters).
export function langLinks() {
  for (const a of document.querySelectorAll('nav.lang a')) {
    const u = new URL(location.href);
    u.searchParams.set('lang', a.hreflang);
    a.href = u.pathname + u.search + u.hash;
  }
}

// The notice line (role=status) under the page's title.
export function notice(text) {
  $('notice').textContent = text || '';
}

// A card saying the page needs a role the person does not have; hides the given sections.
export function needsRole(role, ...hide) {
  for (const id of hide) {
    $(id).hidden = true;
  }
  const card = el('section', {class: 'card', data: {needsRole: role}, attrs: {'aria-labelledby': 'needs-role-title'}},
    el('h2', {id: 'needs-role-title', text: t.needsRoleTitle}),
    el('p', {text: fill(t.needsRole, {role: roleText(role)})}));
  document.querySelector('main').append(card);
}

// ---- the header -------------------------------------------------------------------------------

export const UPLOAD_PATH = '/admin/upload';

// The views, each shown in the navigation to the people whose roles allow it (an admin sees
// them all).
const views = [
  {page: 'admin-credentials', path: () => config.home, label: 'navCredentials', role: 'auditor'},
  {page: 'admin-upload', path: () => UPLOAD_PATH, label: 'navUpload', role: 'issuer'},
  {page: 'admin-dashboard', path: () => '/admin/dashboard', label: 'navDashboard', role: 'auditor'},
  {page: 'admin-audit', path: () => '/admin/audit', label: 'navAudit', role: 'auditor'},
  {page: 'admin-webhooks', path: () => '/admin/webhooks', label: 'navWebhooks', role: 'admin'},
  {page: 'admin-people', path: () => '/admin/people', label: 'navPeople', role: 'admin'},
  {page: 'admin-templates', path: () => '/admin/templates', label: 'navTemplates', role: 'issuer'},
  {page: 'admin-account', path: () => config.account, label: 'navAccount'},
];

// Where a person's console starts: the list for an auditor (or admin), the roster upload for
// an issuer who cannot read the list; the list (which says what it needs) for anyone else.
export const homeFor = () => (!hasRole('auditor') && hasRole('issuer') ? UPLOAD_PATH : config.home);

// The header's navigation and the person's name (again after the session changed).
export function showNav() {
  const nav = $('console-nav');
  const here = config.page === 'admin-credential' ? 'admin-credentials' : config.page;
  const items = me.mustEnrollPasskey ? [] : views.filter((v) => !v.role || hasRole(v.role));
  nav.replaceChildren(el('ul', {}, ...items.map((v) => el('li', {},
    el('a', {href: pageHref(v.path()), text: t[v.label], data: {nav: v.page},
      attrs: {'aria-current': v.page === here ? (v.page === config.page ? 'page' : 'true') : null}})))));
  nav.hidden = !items.length;
  const who = $('nav-user');
  who.textContent = me.user?.name || me.user?.email || '';
  who.dataset.userId = me.user?.id || '';
  $('who-line').hidden = false;
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

// Signs the page in: the session (or away to sign-in), the header; returns the session.
export async function startConsole() {
  document.querySelector('main').removeAttribute('aria-busy');
  langLinks();
  window.addEventListener('hashchange', langLinks);
  const out = $('signout');
  out.addEventListener('click', () => busy(out, signOut).catch((err) => showError(errorText(err))));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && me) {
      refreshSession().catch((err) => showError(errorText(err)));
    }
  });
  await refreshSession();
  if (me.mustEnrollPasskey && config.page !== 'admin-account') {
    goTo(config.account);
    return new Promise(() => {});
  }
  showNav();
  return me;
}

// Runs fn with the button disabled and aria-busy on main (common.mjs busy, re-exported so a
// view needs one import).
export async function busy(button, fn) {
  const main = document.querySelector('main');
  button.disabled = true;
  main.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    main.removeAttribute('aria-busy');
  }
}

// Runs a view's loader: an error goes to the page's error box; the page is "ready" after.
export async function run(fn) {
  try {
    await fn();
    if (document.querySelector('main').dataset.state !== 'error') {
      setState('ready');
    }
  } catch (err) {
    showError(errorText(err));
  }
}

// ---- the confirmation dialog ------------------------------------------------------------------

// A modal dialog with a title, a text, the given form fields and Confirm / Cancel. Resolves to
// the dialog's form when confirmed (after the browser's own validation of required fields),
// or null when cancelled. check(form) may return a message that keeps the dialog open.
export function formDialog({title, text, fields = [], confirm, danger = false, check}) {
  return new Promise((resolve) => {
    const error = el('p', {id: 'dialog-error', class: 'warning', attrs: {role: 'alert'}});
    const ok = el('button', {type: 'submit', id: 'dialog-confirm', class: danger ? 'danger' : '', text: confirm});
    const cancel = el('button', {type: 'button', id: 'dialog-cancel', class: 'secondary', text: t.cancel});
    const form = el('form', {class: 'stack'}, ...fields,
      el('p', {class: 'actions'}, ok, cancel), error);
    const d = el('dialog', {id: 'dialog', class: 'dialog', attrs: {'aria-labelledby': 'dialog-title',
      'aria-describedby': text ? 'dialog-text' : null}},
    el('h2', {id: 'dialog-title', text: title}), text ? el('p', {id: 'dialog-text', text}) : null, form);
    let answer = null;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const why = check?.(form);
      if (why) {
        error.textContent = why;
        return;
      }
      answer = form;
      d.close();
    });
    cancel.addEventListener('click', () => d.close());
    d.addEventListener('close', () => {
      d.remove();
      resolve(answer);
    });
    document.body.append(d);
    d.showModal();
  });
}

// The fields of a required reason (a textarea #reason).
export function reasonField(label = t.reason, hint = t.reasonHint) {
  return [el('label', {htmlFor: 'reason', text: label}),
    el('textarea', {id: 'reason', name: 'reason', rows: 3, maxLength: 256, required: true,
      attrs: {'aria-describedby': 'reason-hint'}}),
    el('p', {class: 'hint', id: 'reason-hint', text: hint})];
}

// A dialog asking for a required reason: resolves to the trimmed reason, or null.
export async function askReason({title, text, confirm, danger}) {
  const form = await formDialog({title, text, confirm, danger, fields: reasonField(),
    check: (f) => (f.reason.value.trim() ? '' : t.reasonRequired)});
  return form ? form.reason.value.trim() : null;
}
