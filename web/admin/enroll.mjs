// /admin/enroll#<invite> (issue #16): the first passkey of an invited person, then their ten
// recovery codes, shown once. The invite secret is read from the URL's fragment (never sent
// to the server in a URL, so it is in no log) and then removed from the address bar and
// the history entry.
import {$, api, ApiError, busy, config, creationOptions, errorText, pageUrl,
  registrationJSON, setState, showError, t, webauthnAvailable} from './common.mjs';

const OPTIONS_MAX_AGE_MS = 240000; // the node's ceremonies last 300 s (timeout)

function fragment() {
  try {
    return decodeURIComponent(location.hash.replace(/^#/, ''));
  } catch {
    return ''; // not percent-encoded properly: no invite
  }
}
const invite = fragment();
history.replaceState(null, '', location.pathname + location.search);

// The language links keep the invite (in the fragment) until it is used.
function langLinks(withInvite) {
  for (const a of document.querySelectorAll('nav.lang a')) {
    a.href = `?lang=${a.hreflang}${withInvite && invite ? `#${encodeURIComponent(invite)}` : ''}`;
  }
}

let options = null; // {ceremony, user, publicKey, at}

async function fetchOptions() {
  const o = await api('POST', '/v1/auth/enroll/options', {invite});
  options = {...o, at: Date.now()};
  $('invitee-name').textContent = o.user?.name || '';
  $('invitee-email').textContent = o.user?.email || '';
  $('invitee').hidden = !(o.user?.name || o.user?.email);
  return options;
}

function showCodes(codes) {
  const list = $('codes');
  list.replaceChildren(...codes.map((code) => {
    const li = document.createElement('li');
    li.dataset.recoveryCode = code;
    const c = document.createElement('code');
    c.textContent = code;
    li.append(c);
    return li;
  }));
  const text = `${t.codesTitle}\n${location.origin}${config.root}/admin/signin\n\n${codes.join('\n')}\n`;
  $('download-codes').href = URL.createObjectURL(new Blob([text], {type: 'text/plain'}));
  $('copy-codes').addEventListener('click', async () => {
    await navigator.clipboard?.writeText(codes.join('\n')).catch(() => {});
    $('copied').textContent = t.copied;
  });
  $('continue').href = pageUrl(config.home);
  $('enroll-step').hidden = true;
  $('codes-step').hidden = false;
  $('codes-title').focus();
}

async function enroll() {
  showError('');
  if (!options || Date.now() - options.at > OPTIONS_MAX_AGE_MS) {
    await fetchOptions();
  }
  const {ceremony, publicKey} = options;
  options = null; // one ceremony per attempt
  const cred = await navigator.credentials.create({publicKey: creationOptions(publicKey)});
  const name = $('passkey-name').value.trim();
  const body = {ceremony, invite, credential: registrationJSON(cred)};
  if (name) {
    body.name = name;
  }
  const done = await api('POST', '/v1/auth/enroll', body);
  langLinks(false);
  showCodes(done.recoveryCodes || []);
  setState('done');
}

async function main() {
  langLinks(true);
  const button = $('enroll-button');
  if (!invite) {
    button.disabled = true;
    showError(t.enrollNoInvite);
    return;
  }
  if (!webauthnAvailable()) {
    button.disabled = true;
    showError(t.unsupported);
    return;
  }
  $('enroll-form').addEventListener('submit', (e) => {
    e.preventDefault();
    busy(button, enroll).catch((err) => {
      const bad = err instanceof ApiError && err.status === 403;
      showError(errorText(err, {403: 'enrollBadInvite'}));
      button.disabled = bad; // a dead invite stays dead
      if (bad) {
        $('enroll-form').hidden = true;
      }
    });
  });
  try {
    await fetchOptions();
    setState('ready');
  } catch (err) {
    showError(errorText(err, {403: 'enrollBadInvite'}));
    if (err instanceof ApiError && err.status === 403) {
      button.disabled = true;
      $('enroll-form').hidden = true;
    }
  }
}

main();
