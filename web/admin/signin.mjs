// /admin/signin (issue #16): "Sign in with a passkey" (a discoverable credential: the node
// asks for no email and lists no credentials), or an email and a recovery code, which signs
// in only far enough to add a new passkey. A passkey leads to the console's home (/admin/), a
// recovery code to the account page, where the new passkey is added.
import {$, api, ApiError, assertionJSON, busy, config, errorText, goTo, requestOptions, setState,
  showError, t, webauthnAvailable} from './common.mjs';

async function signinWithPasskey() {
  showError('');
  const {ceremony, publicKey} = await api('POST', '/v1/auth/signin/options', {});
  const cred = await navigator.credentials.get({publicKey: requestOptions(publicKey)});
  await api('POST', '/v1/auth/signin', {ceremony, credential: assertionJSON(cred)});
  setState('done');
  goTo(config.home);
}

async function recover(form) {
  showError('');
  await api('POST', '/v1/auth/recover', {email: form.email.value.trim(), code: form.code.value.trim()});
  setState('done');
  goTo(config.account);
}

async function main() {
  const button = $('signin-button');
  if (!webauthnAvailable()) {
    button.disabled = true;
    showError(t.unsupported);
  }
  button.addEventListener('click', () => {
    busy(button, signinWithPasskey).catch((err) => showError(errorText(err, {401: 'signinFailed', 403: 'signinFailed'})));
  });
  const form = $('recover-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy($('recover-button'), () => recover(form)).catch((err) => {
      showError(errorText(err, {401: 'recoverFailed', 403: 'recoverFailed'}));
      form.code.value = '';
    });
  });
  // Already signed in (another tab, the back button): straight to the console (a recovery
  // session to its account page).
  try {
    const me = await api('GET', '/v1/auth/session');
    goTo(me?.mustEnrollPasskey ? config.account : config.home);
    return;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) {
      showError(errorText(err));
      return;
    }
  }
  if (webauthnAvailable()) {
    setState('ready');
  }
}

main();
