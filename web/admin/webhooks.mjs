// /admin/webhooks (issue #17 for issue #18's webhooks, admin only): the webhook endpoints
// (GET /v1/webhooks) with their events, creation time, last delivery and how many deliveries
// are queued or gave up (read from each endpoint's GET /v1/webhooks/{id}/deliveries, the
// latest 100); adding one (POST /v1/webhooks: the node's refusal shown as it says it, e.g. not
// https, or the 409 at 64 endpoints; the whsec_ secret shown once, in #new-secret, with a Copy
// button); rotating the secret (confirmation; the new one shown once; the old one signs for
// 24 h more); deleting (confirmation); and per endpoint the deliveries log with Replay
// (confirmation). SPEC §8, docs/delivery.md.
import {$, ApiError, dateText, errorText, fill, setState, showError, t} from './common.mjs';
import {busy, call, deliveryState, el, formDialog, hasRole, needsRole, notice, numberText, run,
  startConsole} from './console.mjs';

const EVENTS = ['credential.issued', 'credential.revoked', 'credential.suspended',
  'credential.reinstated', 'anchor.final'];
const path = (id) => `/v1/webhooks/${encodeURIComponent(id)}`;
const eventText = (e) => t[`whEvent.${e}`] || e;
let shown = null; // the endpoint whose deliveries are open

// The node's refusal (400, 404, 409) in its own words; anything else as errorText says.
function refusal(err) {
  return err instanceof ApiError && [400, 404, 409].includes(err.status)
    ? fill(t.refused, {detail: err.detail}) : errorText(err);
}

const failed = (err) => showError(refusal(err));

function button(text, label, onClick, cls = 'secondary', data = {}) {
  const b = el('button', {type: 'button', class: cls, text, data, attrs: {'aria-label': label}});
  b.addEventListener('click', () => onClick(b).catch(failed));
  return b;
}

// ---- the secret, shown once -----------------------------------------------------------------

function showSecret(ep, secret) {
  $('secret-title').textContent = fill(t.newSecretTitle, {url: ep.url});
  $('new-secret').textContent = secret;
  $('new-secret').dataset.webhookId = ep.id;
  $('secret-copied').textContent = '';
  $('secret-result').hidden = false;
}

function hideSecret() {
  $('new-secret').textContent = '';
  $('secret-result').hidden = true;
}

// ---- endpoints ------------------------------------------------------------------------------

// What an endpoint's deliveries say: the newest one's state and time, and the counts.
function summary(deliveries) {
  const last = deliveries[0] || null;
  const count = (s) => deliveries.filter((d) => d.state === s).length;
  return {last, queued: count('queued'), gaveUp: count('gave_up')};
}

function endpointRow(ep, s) {
  const last = s?.last;
  const until = ep.previousSecretValidUntil;
  return el('tr', {data: {webhookId: ep.id, lastState: last?.state || ''}},
    el('th', {attrs: {scope: 'row'}, class: 'mono wrap', text: ep.url}),
    el('td', {}, el('ul', {class: 'plain'}, ...(ep.events || []).map((e) =>
      el('li', {data: {event: e}, text: eventText(e)})))),
    el('td', {class: 'nowrap'}, dateText(ep.createdAt),
      until ? el('p', {class: 'hint', data: {previousUntil: until}, text: fill(t.previousSecretUntil, {until: dateText(until)})}) : null),
    el('td', {}, !s ? t.none : last ? deliveryState(last.state) : t.noDeliveries,
      last ? el('span', {class: 'hint nowrap', text: ` ${dateText(last.deliveredAt || last.queuedAt)}`}) : null),
    el('td', {class: 'num', data: {queued: s?.queued ?? '', gaveUp: s?.gaveUp ?? ''},
      text: s ? fill(t.queuedFailedValue, {queued: numberText(s.queued), failed: numberText(s.gaveUp)}) : t.none}),
    el('td', {class: 'row-actions'},
      button(t.showDeliveries, fill(t.showDeliveriesLabel, {url: ep.url}), (b) => busy(b, () => openDeliveries(ep)),
        'secondary', {action: 'deliveries'}),
      button(t.rotateSecret, fill(t.rotateSecretLabel, {url: ep.url}), (b) => rotate(ep, b), 'secondary',
        {action: 'rotate'}),
      button(t.deleteEndpoint, fill(t.deleteEndpointLabel, {url: ep.url}), (b) => remove(ep, b), 'danger',
        {action: 'delete'})));
}

async function loadEndpoints() {
  const {webhooks = []} = await call('GET', '/v1/webhooks');
  const lists = await Promise.allSettled(webhooks.map((ep) => call('GET', `${path(ep.id)}/deliveries`)));
  $('endpoints').replaceChildren(...webhooks.map((ep, i) => endpointRow(ep,
    lists[i].status === 'fulfilled' ? summary(lists[i].value?.deliveries || []) : null)));
  $('no-endpoints').hidden = webhooks.length > 0;
  $('endpoints-table').hidden = webhooks.length === 0;
  if (shown && !webhooks.some((ep) => ep.id === shown.id)) {
    closeDeliveries();
  }
  return webhooks;
}

async function add(form) {
  showError('');
  showError('', $('add-error'));
  notice('');
  const events = [...form.querySelectorAll('input[name="events"]:checked')].map((i) => i.value);
  const u = form.url.value.trim();
  if (!u || !form.url.checkValidity()) {
    showError(fill(t.refused, {detail: t.endpointUrlHint}), $('add-error'));
    return;
  }
  if (!events.length) {
    showError(t.atLeastOneEvent, $('add-error'));
    return;
  }
  let ep;
  try {
    ep = await call('POST', '/v1/webhooks', {url: u, events});
  } catch (err) {
    showError(refusal(err), $('add-error'));
    return;
  }
  showSecret(ep, ep.secret);
  notice(fill(t.endpointAdded, {url: ep.url}));
  form.url.value = '';
  await loadEndpoints();
}

async function rotate(ep, b) {
  const ok = await formDialog({title: fill(t.confirmRotateTitle, {url: ep.url}), text: t.confirmRotateText,
    confirm: t.rotateSecret});
  if (!ok) {
    return;
  }
  showError('');
  const ans = await busy(b, () => call('POST', `${path(ep.id)}/rotate`, {}));
  showSecret(ans, ans.secret);
  notice(fill(t.secretRotated, {url: ep.url, until: dateText(ans.previousSecretValidUntil)}));
  await loadEndpoints();
}

async function remove(ep, b) {
  const ok = await formDialog({title: fill(t.confirmDeleteEndpointTitle, {url: ep.url}),
    text: t.confirmDeleteEndpointText, confirm: t.deleteEndpoint, danger: true});
  if (!ok) {
    return;
  }
  showError('');
  await busy(b, () => call('DELETE', path(ep.id)));
  if ($('new-secret').dataset.webhookId === ep.id) {
    hideSecret();
  }
  notice(fill(t.endpointDeleted, {url: ep.url}));
  await loadEndpoints();
}

// ---- deliveries -----------------------------------------------------------------------------

// The newest attempt's outcome: "HTTP 200", or the error the node recorded.
function lastResult(d) {
  const a = (d.log || [])[d.log?.length - 1];
  const code = a?.code ? `HTTP ${a.code}` : '';
  const why = d.state === 'delivered' ? '' : (d.lastError || a?.detail || '');
  return [code, why].filter(Boolean).join(' · ') || t.none;
}

function deliveryRow(d) {
  return el('tr', {data: {seq: String(d.seq), state: d.state, type: d.type}},
    el('td', {class: 'num', text: String(d.seq)}),
    el('td', {text: eventText(d.type), attrs: {title: d.type}}),
    el('td', {class: 'nowrap', text: dateText(d.queuedAt)}),
    el('td', {class: 'num', text: numberText(d.attempts)}),
    el('td', {}, deliveryState(d.state)),
    el('td', {class: 'wrap', data: {code: String((d.log || []).at(-1)?.code ?? '')}, text: lastResult(d)}),
    el('td', {class: 'row-actions'}, d.state === 'queued' ? null
      : button(t.replay, fill(t.replayLabel, {seq: d.seq}), (b) => replay(d, b), 'secondary', {action: 'replay'})));
}

async function loadDeliveries() {
  const {deliveries = []} = await call('GET', `${path(shown.id)}/deliveries`);
  $('deliveries').replaceChildren(...deliveries.map(deliveryRow));
  $('no-deliveries').hidden = deliveries.length > 0;
  $('deliveries-table').hidden = deliveries.length === 0;
}

async function openDeliveries(ep) {
  showError('');
  shown = ep;
  const title = fill(t.deliveriesOf, {url: ep.url});
  $('deliveries-title').textContent = title;
  $('deliveries-caption').textContent = title;
  $('deliveries-card').dataset.webhookId = ep.id;
  await loadDeliveries();
  $('deliveries-card').hidden = false;
}

function closeDeliveries() {
  shown = null;
  $('deliveries-card').hidden = true;
  $('deliveries-card').dataset.webhookId = '';
}

async function replay(d, b) {
  const ok = await formDialog({title: fill(t.confirmReplayTitle, {seq: d.seq}), text: t.confirmReplayText,
    confirm: t.replay});
  if (!ok) {
    return;
  }
  showError('');
  await busy(b, () => call('POST', `${path(shown.id)}/deliveries/${encodeURIComponent(d.seq)}/replay`, {}));
  notice(fill(t.replayed, {seq: d.seq}));
  await Promise.all([loadDeliveries(), loadEndpoints()]);
}

// ---- the page -------------------------------------------------------------------------------

async function main() {
  await startConsole();
  if (!hasRole('admin')) {
    needsRole('admin');
    return;
  }
  const form = $('add-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setState('loading');
    busy($('add-button'), () => add(form)).then(() => {
      if (document.querySelector('main').dataset.state === 'loading') {
        setState('ready');
      }
    }).catch(failed);
  });
  $('copy-secret').addEventListener('click', async () => {
    await navigator.clipboard?.writeText($('new-secret').textContent).catch(() => {});
    $('secret-copied').textContent = t.copied;
  });
  $('refresh-deliveries').addEventListener('click', () => {
    const b = $('refresh-deliveries');
    busy(b, () => Promise.all([loadDeliveries(), loadEndpoints()])).catch(failed);
  });
  if (EVENTS.length !== form.querySelectorAll('input[name="events"]').length) {
    throw new Error('webhooks.html lists other events than SPEC §8');
  }
  await loadEndpoints();
  $('endpoints-card').hidden = false;
  $('add-card').hidden = false;
}

run(main);
