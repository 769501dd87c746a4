// /admin/audit (issue #17): whether the audit log's hash chain is intact (GET /v1/audit/verify,
// shown in #audit-intact[data-audit-intact]), and its entries (GET /v1/audit), a page of LIMIT
// at a time, oldest first within a page. Unfiltered, the page opens on the newest entries: the
// chain check counts N entries, numbered 1..N, so the last page starts after N - LIMIT, and
// Previous steps back LIMIT at a time. With a from/to day the pages start at the oldest match:
// Next follows the node's cursor ("next", a sequence number), Previous goes back through the
// cursors already seen. Needs the auditor role.
import {$, config, fill, setState, showError, t} from './common.mjs';
import {call, el, hasRole, needsRole, numberText, roleText, run, startConsole} from './console.mjs';

const LIMIT = 50;
let entriesCount = 0; // N of the chain check
let after = 0;        // this page's "after"
let seen = [];        // with a filter: the "after" of each page before this one
let next = null;

const timeText = (iso) => {
  const d = new Date(iso);
  return !iso || Number.isNaN(d.getTime()) ? '' : d.toLocaleString(config.lang === 'ko' ? 'ko-KR' : 'en-GB',
    {dateStyle: 'short', timeStyle: 'medium'});
};

async function verify() {
  const v = await call('GET', '/v1/audit/verify');
  const p = $('audit-intact');
  entriesCount = typeof v.entries === 'number' ? v.entries : 0;
  p.dataset.auditIntact = v.intact ? 'true' : 'false';
  p.textContent = v.intact ? fill(t.auditIntact, {n: numberText(v.entries)})
    : fill(t.auditBroken, {detail: v.detail || ''});
}

function who(e) {
  const person = e.userName || e.userId;
  const actor = person || (e.tokenId === 'cli' ? t.cliActor : fill(t.tokenActor, {id: e.tokenId || ''}));
  return el('td', {}, el('span', {class: 'what', text: actor}),
    e.role ? el('span', {class: 'meta', text: roleText(e.role)}) : null);
}

function entryRow(e) {
  return el('tr', {data: {seq: String(e.seq), userId: e.userId || '', detail: e.detail || ''}},
    el('td', {class: 'num', text: String(e.seq)}),
    el('td', {class: 'nowrap', text: timeText(e.time)}),
    who(e),
    el('td', {}, el('span', {class: 'what', text: e.method || ''}), el('span', {class: 'meta mono route', text: e.route || ''})),
    el('td', {class: 'num', text: e.status ? String(e.status) : ''}),
    el('td', {class: 'detail', text: e.detail || ''}),
    el('td', {class: 'nowrap', text: e.client || ''}));
}

const filtered = () => !!($('a-since').value || $('a-until').value);

// The first page: the newest entries, or the oldest matches of a filter.
function firstPage() {
  seen = [];
  after = filtered() ? 0 : Math.max(0, entriesCount - LIMIT);
}

async function load() {
  showError('');
  const form = $('audit-filters');
  const q = new URLSearchParams({limit: String(LIMIT)});
  for (const k of ['since', 'until']) {
    if (form.elements[k].value) {
      q.set(k, form.elements[k].value);
    }
  }
  if (after) {
    q.set('after', String(after));
  }
  const ans = await call('GET', `/v1/audit?${q}`);
  const entries = ans.entries || [];
  next = ans.next ?? null;
  $('audit-rows').replaceChildren(...(entries.length ? entries.map(entryRow)
    : [el('tr', {}, el('td', {colSpan: 7, class: 'empty', text: t.auditEmpty}))]));
  $('audit-page').textContent = entries.length
    ? fill(t.auditRange, {first: String(entries[0].seq), last: String(entries[entries.length - 1].seq)}) : '';
  $('audit-prev').disabled = filtered() ? !seen.length : after === 0;
  $('audit-next').disabled = !next;
}

function previous() {
  if (filtered()) {
    after = seen.pop() ?? 0;
  } else {
    after = Math.max(0, after - LIMIT);
  }
}

function reload(fn) {
  setState('loading');
  fn();
  run(load);
}

async function main() {
  await startConsole();
  if (!hasRole('auditor')) {
    needsRole('auditor');
    return;
  }
  $('verify-card').hidden = false;
  $('entries-card').hidden = false;
  $('audit-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    reload(firstPage);
  });
  $('audit-clear').addEventListener('click', () => reload(() => {
    $('audit-filters').reset();
    firstPage();
  }));
  $('audit-next').addEventListener('click', () => reload(() => {
    seen.push(after);
    after = next;
  }));
  $('audit-prev').addEventListener('click', () => reload(previous));
  await verify();
  firstPage();
  await load();
}

run(main);
