// /admin/credential?id=<urn:uuid:...> (issue #17): one credential, its status (and the
// reason of its last change), links to its public page and PDF, and for a revoker or an
// admin Revoke / Suspend / Reinstate, each confirmed with a required reason; then its
// deliveries (issue #18, deliveries.mjs): a timeline of its issue, status change and emails,
// and Resend email for an issuer.
//
// The credential as signed is public (GET /v1/credentials/{id}); its id then finds its row in
// GET /v1/credentials?q=<id> (auditor), which has the status, the reason, the department and
// the course. Without the auditor role the page shows what the signed credential says and no
// status.
import {$, ApiError, config, errorText, fill, setState, showError, t, url} from './common.mjs';
import {askReason, busy, call, callText, dateOnly, hasRole, langLinks, notice, pageHref, run,
  startConsole, statusText} from './console.mjs';
import {showDeliveries} from './deliveries.mjs';

const id = new URLSearchParams(location.search).get('id') || '';
const ID_RE = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
let row = null;     // the list's row, when the person may read it
let subject = {};   // credentialSubject of the signed credential
let vc = {};

// A compact VC-JWT's payload or a Data Integrity document, as JSON.
function decode(text) {
  const s = text.trim();
  if (s.startsWith('{')) {
    return JSON.parse(s);
  }
  const b64 = (s.split('.')[1] || '').replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const payload = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  return payload.vc && typeof payload.vc === 'object' ? payload.vc : payload;
}

const str = (v) => (typeof v === 'string' ? v : '');

// The unhashed "name" IdentityObject (bulk issuance) or credentialSubject.name.
function recipientName(s) {
  const ids = Array.isArray(s.identifier) ? s.identifier : [];
  const named = ids.find((i) => i?.identityType === 'name' && i.hashed === false);
  return str(s.name) || str(named?.identityHash);
}

function set(idName, text) {
  $(idName).textContent = text || t.none;
}

function showFacts() {
  const a = subject.achievement || {};
  const number = row?.issueNumber || str(subject.licenseNumber);
  $('title').textContent = number || t.credentialTitle;
  document.title = `${number || t.credentialTitle} · ${t.product}`;
  set('c-issue-number', number);
  set('c-name', row?.name || recipientName(subject));
  set('c-achievement', row?.achievementName || str(a.name) || str(vc.name));
  set('c-type', row?.type || str(a.achievementType));
  set('c-department', row?.department);
  set('c-course', row?.course);
  set('c-completed', dateOnly(row?.completedAt || str(vc.awardedDate)));
  set('c-issued', dateOnly(row?.issuedAt || str(vc.validFrom)));
  set('c-format', row?.format);
  set('c-id', id);
  $('public-page').href = url(`/c/${encodeURIComponent(id.replace(/^urn:uuid:/, ''))}`);
  $('certificate').href = url(`/v1/credentials/${encodeURIComponent(id)}/certificate.pdf`);
  $('facts-card').hidden = false;
}

function showStatus() {
  const card = $('status-card');
  card.hidden = false;
  const s = row?.status || '';
  const badge = $('c-status');
  badge.textContent = s ? statusText(s) : t.none;
  badge.dataset.status = s;
  card.dataset.status = s;
  $('status-unknown').hidden = !!row;
  $('status-facts').hidden = !(row?.statusChangedAt || row?.statusReason);
  set('c-changed', row?.statusChangedAt ? new Date(row.statusChangedAt).toLocaleString(
    config.lang === 'ko' ? 'ko-KR' : 'en-GB', {dateStyle: 'medium', timeStyle: 'short'}) : '');
  set('c-reason', row?.statusReason);
  const may = hasRole('revoker');
  $('actions').hidden = !may || s === 'revoked';
  // Revoked is final; an active credential may be suspended, a suspended one reinstated. With
  // no status known (no auditor role) every action is offered and the node decides.
  $('revoke').hidden = s === 'revoked';
  $('suspend').hidden = s === 'suspended' || s === 'revoked';
  $('reinstate').hidden = s === 'active' || s === 'revoked';
}

// The list's row of this credential: ?q= matches a credential id exactly.
async function loadRow() {
  if (!hasRole('auditor')) {
    row = null;
    return;
  }
  const ans = await call('GET', `/v1/credentials?${new URLSearchParams({q: id, limit: '10'})}`);
  row = (ans.credentials || []).find((c) => c.id === id) || null;
}

async function load() {
  const [text] = await Promise.all([callText(`/v1/credentials/${encodeURIComponent(id)}`), loadRow()]);
  vc = decode(text);
  subject = vc.credentialSubject && typeof vc.credentialSubject === 'object' ? vc.credentialSubject : {};
  showFacts();
  showStatus();
  await showDeliveries(id, {number: row?.issueNumber || str(subject.licenseNumber),
    issuedAt: row?.issuedAt || str(vc.validFrom), status: row?.status, changedAt: row?.statusChangedAt,
    reason: row?.statusReason});
}

const confirmKeys = {
  revoke: ['confirmRevokeTitle', 'confirmRevokeText', 'revokeCredential'],
  suspend: ['confirmSuspendTitle', 'confirmSuspendText', 'suspendCredential'],
  reinstate: ['confirmReinstateTitle', 'confirmReinstateText', 'reinstateCredential'],
};

async function act(action, button) {
  showError('');
  notice('');
  const [title, text, confirm] = confirmKeys[action];
  const number = $('c-issue-number').textContent;
  const reason = await askReason({title: fill(t[title], {number}), text: t[text], confirm: t[confirm],
    danger: action === 'revoke'});
  if (reason === null) {
    return;
  }
  setState('loading');
  const ans = await busy(button, () => call('POST', `/v1/credentials/${encodeURIComponent(id)}/${action}`, {reason}));
  await load();
  if (!row) { // no auditor role: the action's answer is all there is
    $('c-status').textContent = statusText(ans.status);
    $('c-status').dataset.status = ans.status;
    $('status-card').dataset.status = ans.status;
  }
  notice(fill(t.statusNow, {status: statusText(ans.status)}));
  setState('ready');
}

async function main() {
  await startConsole();
  const back = sessionStorage.getItem('credanchor.listHash') || '';
  $('back').href = pageHref(config.home) + back;
  langLinks();
  if (!ID_RE.test(id)) {
    showError(t.noId);
    return;
  }
  for (const b of document.querySelectorAll('#actions button')) {
    b.addEventListener('click', () => act(b.dataset.action, b).catch((err) => {
      // 409: the node says why (an Open Badge has no suspension; already revoked).
      showError(err instanceof ApiError && err.status === 409 ? fill(t.refused, {detail: err.detail})
        : errorText(err));
    }));
  }
  try {
    await load();
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 400)) {
      showError(t.noCredential);
      return;
    }
    throw err;
  }
}

run(main);
