// What the people's sign-in pages (issue #16) and the admin console (issue #17; console.mjs)
// share (node/routes_pages.c serves them): the page's data block (strings, and config: root,
// lang, page, home = the console's "/admin/", account = "/admin/account"), calls to the
// node's API, and the WebAuthn JSON shapes.
//
// WebAuthn options arrive as the JSON of WebAuthn L3 (binary fields base64url without
// padding) and credentials go back in the shape of PublicKeyCredential.toJSON(). The
// conversion is done here by hand: parseCreationOptionsFromJSON() and toJSON() are missing
// from older browsers.
//
// Every call sends credentials 'same-origin' and referrerPolicy 'strict-origin': the pages
// are served with Referrer-Policy: no-referrer, under which a browser sends "Origin: null"
// on a POST, and the node checks Origin on every state-changing /v1/auth request.
// Session-authenticated writes also carry X-CSRF-Token (the csrf of the session's JSON).

const data = JSON.parse(document.getElementById('page-data').textContent);
export const t = data.strings;
export const config = data.config;
export const $ = (id) => document.getElementById(id);
export const fill = (text, vars) => text.replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? '');
export const url = (path) => `${config.root}${path}`;

// ---- base64url ----------------------------------------------------------------------------

export function b64uToBytes(s) {
  const b64 = String(s).replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) {
    out[i] = bin.charCodeAt(i);
  }
  return out.buffer;
}

export function bytesToB64u(buf) {
  const bytes = new Uint8Array(buf);
  let bin = '';
  for (let i = 0; i < bytes.length; i++) {
    bin += String.fromCharCode(bytes[i]);
  }
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// ---- WebAuthn JSON <-> browser objects ----------------------------------------------------

const descriptors = (list) => (list || []).map((c) => ({...c, id: b64uToBytes(c.id)}));

// PublicKeyCredentialCreationOptionsJSON -> PublicKeyCredentialCreationOptions
export function creationOptions(o) {
  return {...o, challenge: b64uToBytes(o.challenge), user: {...o.user, id: b64uToBytes(o.user.id)},
    excludeCredentials: descriptors(o.excludeCredentials)};
}

// PublicKeyCredentialRequestOptionsJSON -> PublicKeyCredentialRequestOptions
export function requestOptions(o) {
  return {...o, challenge: b64uToBytes(o.challenge), allowCredentials: descriptors(o.allowCredentials)};
}

// A registration (navigator.credentials.create) as RegistrationResponseJSON.
export function registrationJSON(cred) {
  const r = cred.response;
  const response = {clientDataJSON: bytesToB64u(r.clientDataJSON),
    attestationObject: bytesToB64u(r.attestationObject)};
  if (typeof r.getTransports === 'function') {
    response.transports = r.getTransports();
  }
  return {id: cred.id, rawId: bytesToB64u(cred.rawId), type: cred.type, response};
}

// An assertion (navigator.credentials.get) as AuthenticationResponseJSON.
export function assertionJSON(cred) {
  const r = cred.response;
  return {id: cred.id, rawId: bytesToB64u(cred.rawId), type: cred.type, response: {
    clientDataJSON: bytesToB64u(r.clientDataJSON), authenticatorData: bytesToB64u(r.authenticatorData),
    signature: bytesToB64u(r.signature), userHandle: r.userHandle ? bytesToB64u(r.userHandle) : null}};
}

export const webauthnAvailable = () =>
  typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;

// ---- the node's API -----------------------------------------------------------------------

// An answer that is not 2xx. status 0: the node could not be reached.
// body: the parsed JSON of the answer, when it was JSON (a batch's partial report).
export class ApiError extends Error {
  constructor(status, detail, body = null) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail || '';
    this.body = body;
  }
}

let csrf = '';
export const setCsrf = (value) => {
  csrf = value || '';
};

// One JSON call; returns the parsed body (null for 204) or throws ApiError. With type (a
// media type such as "text/csv") the body is sent as it is, a string, with that Content-Type.
export async function api(method, path, body, type) {
  const headers = {accept: 'application/json'};
  if (method !== 'GET') {
    headers['content-type'] = type || 'application/json';
    if (csrf) {
      headers['x-csrf-token'] = csrf;
    }
  }
  const payload = method === 'GET' ? undefined : type ? body : JSON.stringify(body ?? {});
  let r;
  try {
    r = await fetch(url(path), {method, headers, body: payload,
      credentials: 'same-origin', cache: 'no-store', referrerPolicy: 'strict-origin', redirect: 'error'});
  } catch {
    throw new ApiError(0, '');
  }
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!r.ok) {
    throw new ApiError(r.status, json?.detail || json?.title || json?.error || '', json);
  }
  return json;
}

// ---- showing state ------------------------------------------------------------------------

const main = () => document.querySelector('main');

// main[data-state] is the tests' hook: "ready", "done" or "error".
export function setState(state) {
  main().dataset.state = state;
}

// Shows msg in the page's error box (role=alert, data-error) or hides it (msg empty).
export function showError(msg, box = $('error')) {
  box.textContent = msg || '';
  box.hidden = !msg;
  if (msg) {
    box.dataset.error = '';
    setState('error');
  } else {
    delete box.dataset.error;
    if (main().dataset.state === 'error') {
      setState('ready');
    }
  }
}

// The message for a failed WebAuthn ceremony or API call. known maps HTTP statuses to string
// keys of t for the caller's own cases.
export function errorText(err, known = {}) {
  if (err instanceof ApiError) {
    if (known[err.status]) {
      return t[known[err.status]];
    }
    if (err.status === 0) {
      return t.network;
    }
    if (err.status === 429) {
      return t.tooMany;
    }
    return fill(t.failed, {detail: err.detail || `HTTP ${err.status}`});
  }
  if (err?.name === 'NotAllowedError' || err?.name === 'AbortError') {
    return t.cancelled;
  }
  if (err?.name === 'InvalidStateError') {
    return t.alreadyRegistered;
  }
  if (err?.name === 'NotSupportedError') {
    return t.unsupported;
  }
  return fill(t.failed, {detail: err?.message || String(err)});
}

// Runs fn with the button disabled and aria-busy on main.
export async function busy(button, fn) {
  button.disabled = true;
  main().setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    main().removeAttribute('aria-busy');
  }
}

export const dateText = (iso) => {
  const d = new Date(iso);
  return !iso || Number.isNaN(d.getTime()) ? '' : d.toLocaleString(config.lang === 'ko' ? 'ko-KR' : 'en-GB',
    {dateStyle: 'medium', timeStyle: 'short'});
};

// Another of these pages, in the language chosen with ?lang= when one was.
export const pageUrl = (path) =>
  url(path) + (new URLSearchParams(location.search).has('lang') ? `?lang=${config.lang}` : '');
export const goTo = (path) => location.assign(pageUrl(path));
