// /admin/dashboard (issue #17): completion by department and by course, from the node's report
// counters (GET /v1/reports/summary, auditor): issued, completed of enrolled, the completion
// rate as a plain horizontal bar (a width set through the CSSOM, which the page's CSP allows;
// the number beside it is what a screen reader reads), revoked and suspended; the printable
// summary (GET /v1/reports/summary.pdf in the page's language). Above the tables, a chart per
// card (dashboard_charts.mjs, Chart.js); the date range (from/to, kept in the address's #hash
// like the list's filters) re-queries the summary with ?from=&to= (credentials issued in the
// range, completions dated in it).
//
// "Anchoring and health" (public routes): the log's size (GET /v1/health treeSize) and the
// latest anchor (GET /v1/anchors/latest: its state pending, submitted, confirmed or final, the
// tree size it covers, its transaction). A warning line when there is no anchor yet, when the
// routes fail, or when an anchor has not become final after ANCHOR_SLOW_MS: the public record
// has no time of its own, so the age is counted from when this browser first saw that anchor
// (localStorage), or from its createdAt/updatedAt should the node add them (seconds). The
// anchoring account (GET /v1/anchors/account, auditor): address, balance in ETH, anchors
// left, and a role=alert warning when low on funds or when the chain is unreachable.
import {$, ApiError, config, dateText, fill, t, url} from './common.mjs';
import {call, dateOnly, el, hasRole, needsRole, numberText, percentText, run, startConsole} from './console.mjs';
import {drawChart} from './dashboard_charts.mjs';

const ANCHOR_SLOW_MS = 60 * 60 * 1000;
const SEEN_KEY = 'credanchor.anchorSeen';

function bar(rate) {
  const fill_ = el('span', {class: 'bar-fill'});
  fill_.style.width = `${Math.round(Math.min(Math.max(rate || 0, 0), 1) * 1000) / 10}%`;
  return el('span', {class: 'bar', attrs: {'aria-hidden': 'true'}}, fill_);
}

const completedText = (g) => fill(t.completedOf, {completed: numberText(g.completed), enrolled: numberText(g.enrolled)});

function groupRow(g, key) {
  return el('tr', {data: {group: g[key] ?? '', rate: g.completionRate ?? ''}},
    el('th', {attrs: {scope: 'row'}, text: g[key] || t.none}),
    el('td', {class: 'num', text: numberText(g.issued)}),
    el('td', {class: 'num', text: completedText(g)}),
    el('td', {class: 'bar-col'}, el('span', {class: 'bar-line'}, bar(g.completionRate),
      el('span', {class: 'rate', text: percentText(g.completionRate)}))),
    el('td', {class: 'num', text: numberText(g.revoked)}),
    el('td', {class: 'num', text: numberText(g.suspended)}));
}

function table(idName, groups, key, empty = t.noData) {
  const body = $(idName).tBodies[0];
  body.replaceChildren(...(groups.length ? groups.map((g) => groupRow(g, key))
    : [el('tr', {}, el('td', {colSpan: 6, class: 'empty', text: empty}))]));
}

// ---- the date range (issue #17: "A date range") -----------------------------------------------

const DAY = /^\d{4}-\d{2}-\d{2}$/;

// The range in the address (#from=YYYY-MM-DD&to=YYYY-MM-DD); anything else is ignored.
function rangeOfHash() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ''));
  const day = (k) => (DAY.test(h.get(k) || '') ? h.get(k) : '');
  return {from: day('from'), to: day('to')};
}

function rangeQuery({from, to}) {
  const q = new URLSearchParams();
  if (from) {
    q.set('from', from);
  }
  if (to) {
    q.set('to', to);
  }
  return q.toString();
}

// Shows the range's form; submitting puts the range in the address, which re-queries.
function rangeForm() {
  const form = $('range');
  const range = rangeOfHash();
  $('r-from').value = range.from;
  $('r-to').value = range.to;
  $('range-card').hidden = false;
  const go = (next) => {
    const q = rangeQuery(next);
    if (q === location.hash.replace(/^#/, '')) {
      run(summary);
    } else {
      location.hash = q;
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = {from: $('r-from').value, to: $('r-to').value};
    const bad = next.from && next.to && next.from > next.to;
    $('range-error').hidden = !bad;
    $('range-error').textContent = bad ? t.rangeBad : '';
    if (!bad) {
      go(next);
    }
  });
  $('range-clear').addEventListener('click', () => {
    $('r-from').value = '';
    $('r-to').value = '';
    $('range-error').hidden = true;
    go({from: '', to: ''});
  });
  window.addEventListener('hashchange', () => {
    const r = rangeOfHash();
    $('r-from').value = r.from;
    $('r-to').value = r.to;
    run(summary);
  });
}

// The totals, the two cards' charts and tables, for the range in the address.
async function summary() {
  const range = rangeOfHash();
  const q = rangeQuery(range);
  const main_ = document.querySelector('main');
  main_.dataset.range = q;
  main_.setAttribute('aria-busy', 'true');
  let s;
  try {
    s = await call('GET', `/v1/reports/summary${q ? `?${q}` : ''}`);
  } finally {
    main_.removeAttribute('aria-busy');
  }
  const total = s.totals || {};
  $('totals-title').textContent = q ? fill(t.totalsInRange, {from: range.from ? dateOnly(range.from) : t.rangeOpen,
    to: range.to ? dateOnly(range.to) : t.rangeOpen}) : t.totalsTitle;
  $('t-issued').textContent = numberText(total.issued ?? 0);
  $('t-active').textContent = numberText(total.active ?? 0);
  $('t-revoked').textContent = numberText(total.revoked ?? 0);
  $('t-suspended').textContent = numberText(total.suspended ?? 0);
  $('t-completed').textContent = completedText({completed: total.completed ?? 0, enrolled: total.enrolled ?? 0});
  $('t-rate').textContent = percentText(total.completionRate);
  const empty = q ? t.noDataRange : t.noData;
  table('departments', s.byDepartment || [], 'department', empty);
  table('courses', s.byCourse || [], 'course', empty);
  for (const c of ['totals-card', 'departments-card', 'courses-card']) {
    $(c).hidden = false;
  }
  // Drawn once the cards show: Chart.js sizes the canvas from its box.
  const lang = config.lang === 'ko' ? 'ko' : 'en';
  drawChart('departments-chart', 'departments-shown', t.byDepartmentTitle, s.byDepartment || [], 'department', lang);
  drawChart('courses-chart', 'courses-shown', t.byCourseTitle, s.byCourse || [], 'course', lang);
}

// A public GET: the parsed JSON, or ApiError (status 0: unreachable).
async function publicJson(path) {
  let r;
  try {
    r = await fetch(url(path), {headers: {accept: 'application/json'}, cache: 'no-store',
      credentials: 'same-origin', referrerPolicy: 'strict-origin', redirect: 'error'});
  } catch {
    throw new ApiError(0, '');
  }
  let json = null;
  try {
    json = await r.json();
  } catch {
    json = null;
  }
  if (!r.ok) {
    throw new ApiError(r.status, json?.detail || json?.title || '', json);
  }
  return json;
}

// How long the anchor has been waiting to become final, in ms (0: not known yet).
function anchorAge(a) {
  const stamp = Number(a.updatedAt || a.createdAt || 0);
  if (stamp > 0) {
    return Date.now() - stamp * 1000;
  }
  const key = `${a.chain}|${a.treeSize}|${a.rootHash}|${a.txHash || ''}`;
  let seen = null;
  try {
    seen = JSON.parse(localStorage.getItem(SEEN_KEY) || 'null');
  } catch {
    seen = null;
  }
  if (seen?.key === key && typeof seen.at === 'number') {
    return Date.now() - seen.at;
  }
  try {
    localStorage.setItem(SEEN_KEY, JSON.stringify({key, at: Date.now()}));
  } catch {
    // no storage: no age
  }
  return 0;
}

// What went wrong with a public GET, in a few words.
const why = (err) => (err instanceof ApiError && err.status === 0 ? t.network
  : err instanceof ApiError ? err.detail || `HTTP ${err.status}` : String(err?.message || err));

function warn(kind, text) {
  const w = $('anchor-warning');
  w.dataset.warning = kind;
  w.textContent = text;
  w.hidden = !text;
}

// A balance in wei (a decimal string) as ETH, to the millionth (BigInt: wei overflow Number).
function ethText(wei) {
  const micro = Number(BigInt(wei) / 10n ** 12n);
  return fill(t.accountBalanceEth, {n: (micro / 1e6).toLocaleString(config.lang === 'ko' ? 'ko-KR' : 'en-GB',
    {maximumFractionDigits: 6})});
}

function accountWarn(kind, text) {
  const w = $('account-warning');
  w.dataset.warning = kind;
  w.textContent = text;
  w.hidden = !text;
}

// The anchoring account (GET /v1/anchors/account, auditor; issue #17): its address, balance
// and the anchors it pays for as the node last checked them, a warning (role=alert) when it
// is low on funds or the chain cannot be reached (with the node's reason).
async function anchorAccount() {
  let a;
  try {
    a = await call('GET', '/v1/anchors/account');
  } catch (err) {
    accountWarn('account-failed', fill(t.accountFailed, {detail: why(err)}));
    return;
  }
  const card = $('anchor-card');
  $('account-off').hidden = a.configured !== false;
  $('account-facts').hidden = a.configured === false;
  card.dataset.accountReachable = a.configured === false ? '' : String(!!a.reachable);
  card.dataset.accountLow = a.configured === false ? '' : String(!!a.low);
  if (a.configured === false) {
    accountWarn('', '');
    return;
  }
  $('a-address').textContent = a.address;
  $('a-balance').textContent = typeof a.balanceWei === 'string' ? ethText(a.balanceWei) : t.none;
  $('a-balance').dataset.wei = a.balanceWei || '';
  $('a-left').textContent = typeof a.anchorsLeft === 'number'
    ? fill(t.accountAnchorsLeftValue, {n: numberText(a.anchorsLeft)}) : t.none;
  $('a-left').dataset.anchorsLeft = typeof a.anchorsLeft === 'number' ? String(a.anchorsLeft) : '';
  $('a-checked').textContent = a.checkedAt ? dateText(a.checkedAt) : t.accountNotChecked;
  if (a.checkedAt && !a.reachable) {
    accountWarn('unreachable', fill(t.accountUnreachable, {detail: a.error || t.network}));
  } else if (a.low) {
    accountWarn('low-funds', fill(t.accountLow, {n: numberText(a.anchorsLeft), threshold: numberText(a.threshold),
      address: a.address}));
  } else {
    accountWarn('', '');
  }
}

async function anchoring() {
  const card = $('anchor-card');
  card.hidden = false;
  const account = anchorAccount();
  const [health, latest] = await Promise.allSettled([publicJson('/v1/health'), publicJson('/v1/anchors/latest')]);
  const size = health.status === 'fulfilled' ? health.value?.treeSize : null;
  $('h-log-size').textContent = typeof size === 'number' ? numberText(size) : t.none;
  $('h-log-size').dataset.treeSize = typeof size === 'number' ? String(size) : '';
  const state = $('h-anchor-state');
  const a = latest.status === 'fulfilled' ? latest.value : null;
  const status = a?.status || 'none';
  card.dataset.anchorState = status;
  state.dataset.state = status;
  state.textContent = a ? t[`anchorStatus.${status}`] || status : t.anchorNone;
  $('h-anchor-size').textContent = typeof a?.treeSize === 'number' ? numberText(a.treeSize) : t.none;
  $('h-anchor-chain').textContent = a ? [a.chain, typeof a.blockNumber === 'number'
    ? fill(t.anchorBlock, {n: numberText(a.blockNumber)}) : ''].filter(Boolean).join(' · ') : t.none;
  $('h-anchor-tx').textContent = a?.txHash || t.none;
  const behind = typeof size === 'number' && typeof a?.treeSize === 'number' ? size - a.treeSize : 0;
  $('anchor-behind').hidden = behind <= 0;
  $('anchor-behind').textContent = behind > 0 ? fill(t.anchorBehind, {n: numberText(behind)}) : '';
  if (health.status === 'rejected') {
    warn('health-failed', fill(t.healthFailed, {detail: why(health.reason)}));
  } else if (latest.status === 'rejected' && latest.reason instanceof ApiError && latest.reason.status === 404) {
    warn('no-anchor', t.anchorNoneYet);
  } else if (latest.status === 'rejected') {
    warn('anchor-failed', fill(t.anchorFailed, {detail: why(latest.reason)}));
  } else if (status !== 'final') {
    const age = anchorAge(a);
    const slow = age > ANCHOR_SLOW_MS;
    warn(slow ? 'not-final' : '', slow
      ? fill(t.anchorNotFinal, {state: state.textContent, minutes: numberText(Math.floor(age / 60000))}) : '');
  } else {
    warn('', '');
  }
  await account;
}

async function main() {
  await startConsole();
  if (!hasRole('auditor')) {
    needsRole('auditor');
    return;
  }
  $('report-pdf').href = url(`/v1/reports/summary.pdf?lang=${config.lang === 'ko' ? 'ko' : 'en'}`);
  const anchored = anchoring();
  rangeForm();
  await summary();
  await anchored;
}

run(main);
