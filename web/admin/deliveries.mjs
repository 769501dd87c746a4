// The credential page's "Deliveries" card (issue #18; credential.mjs shows it): a timeline of
// what happened to the credential, oldest first (its issue, its last status change, and every
// notification the node queued for its recipient, GET /v1/credentials/{id}/deliveries, with
// each attempt of each), and for an issuer "Resend email" (POST .../deliveries/resend),
// confirmed first. The node answers 409 while an email of the credential is still queued or
// once its address was erased, and 404 when it was never emailed: the card then shows the
// node's words. The address itself is never answered; the card says whether it is still held.
//
// The deliveries need the auditor role: without it the timeline has only what the page knows
// (the issue), and Resend (issuer) is offered for the node to decide. While a delivery is
// queued the timeline is read again every POLL_MS, at most POLL_MAX times after a load.
import {$, ApiError, dateText, errorText, fill, setState, showError, t} from './common.mjs';
import {busy, call, channelText, deliveryState, el, formDialog, hasRole, notice, numberText, statusText}
  from './console.mjs';

const POLL_MS = 2000;
const POLL_MAX = 60;

let ref = '';     // the credential's id
let facts = {};   // {number, issuedAt, status, changedAt, reason}
let pollTimer = 0;
let polls = 0;

const deliveriesPath = (tail = '') => `/v1/credentials/${encodeURIComponent(ref)}/deliveries${tail}`;

// ---- the timeline ---------------------------------------------------------------------------

const when = (iso) => el('time', {attrs: {datetime: iso}, text: dateText(iso)});

// One entry: its time, a title (text or nodes) and what follows it.
function entry(kind, at, title, ...body) {
  const head = el('h3', {}, ...(at ? [when(at)] : []), el('span', {class: 'what'}, ...[title].flat()));
  return el('li', {data: {kind}}, head, ...body);
}

function issuedEntry() {
  return entry('issued', facts.issuedAt, t.timelineIssued);
}

// The last status change (the list's row knows only the last one); null when there was none.
function statusEntry() {
  if (!facts.changedAt) {
    return null;
  }
  const li = entry('status', facts.changedAt, t[`timeline.${facts.status}`] || statusText(facts.status),
    facts.reason ? el('p', {class: 'reason', text: `${t.statusReason}: ${facts.reason}`}) : null);
  li.dataset.status = facts.status;
  return li;
}

function fact(label, value, cls) {
  return el('div', {class: cls}, el('dt', {text: label}), el('dd', {}, value));
}

function addressText(d) {
  if (d.addressHeld) {
    return t.addressHeld;
  }
  return d.erasedAt ? fill(t.addressErased, {at: dateText(d.erasedAt)}) : t.addressNotHeld;
}

function deliveryFacts(d) {
  return el('dl', {class: 'facts'},
    fact(t.attempts, numberText(d.attempts), 'attempts-count'),
    fact(t.queuedAt, when(d.queuedAt)),
    d.sentAt ? fact(t.sentAt, when(d.sentAt)) : null,
    d.nextAttemptAt ? fact(t.nextAttemptAt, when(d.nextAttemptAt)) : null,
    fact(t.address, addressText(d), 'address'),
    d.lastError ? fact(t.lastError, el('span', {class: 'mono', text: d.lastError}), 'facts-wide last-error') : null,
    d.messageId ? fact(t.messageId, el('span', {class: 'mono', text: d.messageId}), 'facts-wide') : null);
}

function attemptRow(a) {
  return el('tr', {data: {outcome: a.outcome, code: String(a.code ?? '')}},
    el('td', {class: 'nowrap'}, when(a.at)),
    el('td', {}, el('span', {class: 'outcome', data: {outcome: a.outcome},
      text: t[`outcome.${a.outcome}`] || a.outcome})),
    el('td', {class: 'num', text: a.code ? String(a.code) : t.none}),
    el('td', {class: 'detail mono', text: a.detail || ''}));
}

function attemptsTable(log) {
  if (!log.length) {
    return el('p', {class: 'hint', text: t.noAttempts});
  }
  return el('div', {class: 'table-wrap'}, el('table', {class: 'attempts'},
    el('caption', {text: t.attemptLog}),
    el('thead', {}, el('tr', {}, ...[t.colTime, t.colOutcome, t.colCode, t.colDetail].map(
      (h) => el('th', {attrs: {scope: 'col'}, text: h})))),
    el('tbody', {}, ...log.map(attemptRow))));
}

function deliveryEntry(d) {
  const title = fill(t.deliveryTitle, {channel: channelText(d.channel), event: t[`event.${d.event}`] || d.event});
  const li = entry('delivery', d.queuedAt, [title, ' ', deliveryState(d.state)],
    deliveryFacts(d), attemptsTable(d.log || []));
  Object.assign(li.dataset, {event: d.event, state: d.state});
  return li;
}

// The entries in time order (the node's times are whole seconds): within one second the issue
// comes before its emails, and the status change before the emails that tell of it.
function renderTimeline(list) {
  const ofIssue = (d) => d.event === 'credential.issued';
  const entries = [issuedEntry(), ...list.filter(ofIssue).map(deliveryEntry), statusEntry(),
    ...list.filter((d) => !ofIssue(d)).map(deliveryEntry)].filter(Boolean);
  const at = (li) => Date.parse(li.querySelector('time')?.getAttribute('datetime') || '') || 0;
  $('timeline').replaceChildren(...entries.map((li, i) => ({li, i}))
    .sort((a, b) => at(a.li) - at(b.li) || a.i - b.i).map((x) => x.li));
}

// ---- Resend email -----------------------------------------------------------------------------

// Why the node would refuse a resend now (a string key), '' when it would not, as far as the
// deliveries say; null when they are not known (no auditor role).
function resendBlock(list) {
  if (!list) {
    return null;
  }
  const mails = list.filter((d) => d.event === 'credential.issued');
  if (!mails.length) {
    return 'resendNoEmail';
  }
  if (mails.some((d) => d.state === 'queued')) {
    return 'resendWhileQueued';
  }
  return mails[0].addressHeld ? '' : 'resendErased'; // the node resends to the first one's address
}

function showResend(list) {
  const block = resendBlock(list);
  $('resend-box').hidden = !hasRole('issuer');
  $('resend').disabled = !!block;
  $('resend').dataset.block = block || '';
  $('resend-block').textContent = block ? t[block] : '';
  $('resend-block').hidden = !block;
}

function resendErrorText(err) {
  if (err instanceof ApiError && err.status === 409) {
    return fill(t.resendRefused, {detail: err.detail});
  }
  if (err instanceof ApiError && err.status === 404) {
    return fill(t.resendNever, {detail: err.detail});
  }
  return errorText(err);
}

async function resend(button) {
  showError('', $('resend-error'));
  notice('');
  const form = await formDialog({title: fill(t.confirmResendTitle, {number: facts.number}),
    text: t.confirmResendText, confirm: t.resendEmail});
  if (!form) {
    return;
  }
  setState('loading');
  try {
    await busy(button, () => call('POST', deliveriesPath('/resend'), {}));
    notice(t.resendQueued);
  } catch (err) {
    showError(resendErrorText(err), $('resend-error'));
  }
  polls = 0;
  await refresh();
  if (document.querySelector('main').dataset.state === 'loading') {
    setState('ready');
  }
}

// ---- loading ----------------------------------------------------------------------------------

// The deliveries (null without the auditor role), the timeline and the Resend button; read
// again later while one is queued.
async function refresh() {
  clearTimeout(pollTimer);
  const list = hasRole('auditor') ? (await call('GET', deliveriesPath())).deliveries || [] : null;
  renderTimeline(list || []);
  showResend(list);
  if (list?.some((d) => d.state === 'queued') && polls < POLL_MAX) {
    polls += 1;
    pollTimer = setTimeout(() => refresh().catch((err) => showError(errorText(err))), POLL_MS);
  }
}

// Shows the card for credential id with what the page knows of it (facts: number, issuedAt,
// status, changedAt, reason). Called again after a status change.
export async function showDeliveries(id, known) {
  if (!hasRole('auditor') && !hasRole('issuer')) {
    return;
  }
  if (!ref) {
    const button = $('resend');
    button.addEventListener('click', () => resend(button).catch((err) => showError(errorText(err))));
  }
  ref = id;
  facts = known;
  polls = 0;
  $('deliveries-unknown').hidden = hasRole('auditor');
  $('deliveries-card').hidden = false;
  await refresh();
}
