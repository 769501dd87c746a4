// /admin/ (issue #17): the console's home, every issued credential. A search box (a whole
// issue number, a whole email or part of a name) and filters (status, department, course,
// issue and completion dates) go to GET /v1/credentials, a page of LIMIT rows at a time (the
// node counts the total); the filters and the page live in the URL's fragment, so a reload,
// the back button and a bookmark keep them, and nothing of them reaches a server log. The
// CSV and XLSX exports and the certificates ZIP are links to the node's (audited) downloads
// with the same filters. Each row shows its alert channel and the state of its latest email
// (issue #18). The Issued column's header sorts oldest first (the node's default) or newest
// first (#sort=-issued, a reverse walk on the node), paging from the start on each change.
// Needs the auditor role (or admin); an issuer without it goes to the
// roster upload instead.
import {$, config, fill, setState, showError, t, url} from './common.mjs';
import {call, channelText, dateOnly, deliveryState, el, hasRole, homeFor, langLinks, needsRole, numberText, pageHref,
  run, startConsole, statusText} from './console.mjs';

const LIMIT = 50;
const ZIP_MAX = 2000; // the node's limit on one certificates.zip
const FILTERS = ['q', 'status', 'department', 'course', 'from', 'to', 'completedFrom', 'completedTo'];

function fromHash() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ''));
  const filters = {};
  for (const k of FILTERS) {
    const v = (h.get(k) || '').trim();
    if (v) {
      filters[k] = v;
    }
  }
  const offset = Math.max(0, Number.parseInt(h.get('offset') || '0', 10) || 0);
  const sort = h.get('sort') === '-issued' ? '-issued' : ''; // '' = issued, oldest first
  return {filters, offset, sort};
}

// Shows the state (filters, sort, page) in the address: a new history entry, then load()
// runs from the hashchange (directly when the address does not change).
function go(filters, offset, sort = fromHash().sort) {
  const h = new URLSearchParams(filters);
  if (sort) {
    h.set('sort', sort);
  }
  if (offset) {
    h.set('offset', String(offset));
  }
  const next = h.toString();
  setState('loading'); // the tests' hook: "ready" again once the rows are in
  if (next === location.hash.replace(/^#/, '')) {
    run(load);
  } else {
    location.hash = next;
  }
}

function formFilters() {
  const form = $('filters');
  const filters = {};
  for (const k of FILTERS) {
    const v = form.elements[k].value.trim();
    if (v) {
      filters[k] = v;
    }
  }
  return filters;
}

function fillForm(filters) {
  const form = $('filters');
  for (const k of FILTERS) {
    const input = form.elements[k];
    const v = filters[k] || '';
    if (input.tagName === 'SELECT' && v && ![...input.options].some((o) => o.value === v)) {
      input.append(el('option', {value: v, text: v})); // a value the summary did not list
    }
    input.value = v;
  }
}

function options(select, values) {
  const keep = select.value;
  const all = values.filter(Boolean);
  if (keep && !all.includes(keep)) {
    all.push(keep); // the address's filter, put in by fillForm while the summary was on its way
  }
  select.replaceChildren(el('option', {value: '', text: t.any}), ...all.map((v) => el('option', {value: v, text: v})));
  select.value = keep;
}

// The departments and courses to filter by, from the report counters.
async function loadChoices(answer) {
  const s = await (answer || call('GET', '/v1/reports/summary'));
  options($('f-department'), (s.byDepartment || []).map((d) => d.department));
  options($('f-course'), (s.byCourse || []).map((c) => c.course));
}

function cell(text, cls) {
  return el('td', {text: text || '', class: cls});
}

// The alert channel and the state of the credential's latest notification (— when none).
function deliveryCell(d) {
  return d ? el('td', {class: 'nowrap', data: {delivery: d.state}},
    el('span', {class: 'channel', text: channelText(d.channel)}), ' ', deliveryState(d.state)) : cell(t.none);
}

function row(c) {
  return el('tr', {data: {id: c.id, issueNumber: c.issueNumber || ''}},
    el('th', {attrs: {scope: 'row'}}, el('a', {href: pageHref('/admin/credential', {id: c.id}),
      text: c.issueNumber || c.id})),
    cell(c.name),
    el('td', {}, el('span', {class: 'what', text: c.achievementName || c.achievementId || ''}),
      c.type ? el('span', {class: 'meta', text: c.type}) : null),
    cell(c.department), cell(c.course),
    cell(dateOnly(c.completedAt), 'nowrap'), cell(dateOnly(c.issuedAt), 'nowrap'), deliveryCell(c.delivery),
    el('td', {}, el('span', {class: 'status', data: {status: c.status}, text: statusText(c.status)})));
}

// The Issued header as the sortable-table pattern has it: aria-sort on the th, an arrow
// (hidden from screen readers, which hear aria-sort) in its button.
function showSort(sort) {
  $('th-issued').setAttribute('aria-sort', sort ? 'descending' : 'ascending');
  $('th-issued').querySelector('.sort-mark').textContent = sort ? ' ▼' : ' ▲';
}

function render(ans, filters, offset, sort) {
  const list = ans.credentials || [];
  const total = ans.total ?? list.length;
  $('total').textContent = fill(t.totalCount, {n: numberText(total)});
  $('total').dataset.total = String(total);
  $('rows').replaceChildren(...(list.length ? list.map(row)
    : [el('tr', {}, el('td', {colSpan: 9, class: 'empty', text: t.noMatches}))]));
  $('page-info').textContent = list.length
    ? fill(t.pageRange, {from: numberText(offset + 1), to: numberText(offset + list.length), total: numberText(total)}) : '';
  $('prev').disabled = offset === 0;
  $('next').disabled = offset + list.length >= total;
  const q = new URLSearchParams(filters);
  if (sort) {
    q.set('sort', sort); // the exports in the list's order
  }
  const csv = new URLSearchParams(q);
  csv.set('format', 'csv');
  csv.set('bom', 'true');
  $('export-csv').href = url(`/v1/credentials?${csv}`);
  const xlsx = new URLSearchParams(q);
  xlsx.set('format', 'xlsx');
  $('export-xlsx').href = url(`/v1/credentials?${xlsx}`);
  const zip = $('export-zip');
  const tooMany = total > ZIP_MAX;
  zip.href = url(`/v1/reports/certificates.zip${q.toString() ? `?${q}` : ''}`);
  zip.hidden = tooMany || total === 0;
  $('zip-too-many').hidden = !tooMany;
  $('zip-too-many').textContent = tooMany ? fill(t.zipTooMany, {max: numberText(ZIP_MAX)}) : '';
}

// The list request for the address's filters, order and page.
function listPath() {
  const {filters, offset, sort} = fromHash();
  const q = new URLSearchParams(filters);
  q.set('limit', String(LIMIT));
  if (sort) {
    q.set('sort', sort);
  }
  if (offset) {
    q.set('offset', String(offset));
  }
  return `/v1/credentials?${q}`;
}

// Shows the page the address asks for; answer: that page's request already under way (the
// first load), else it is asked now.
async function load(answer) {
  showError('');
  const {filters, offset, sort} = fromHash();
  fillForm(filters);
  showSort(sort);
  langLinks();
  sessionStorage.setItem('credanchor.listHash', location.hash); // the detail page's way back
  document.querySelector('main').setAttribute('aria-busy', 'true');
  try {
    render(await (answer || call('GET', listPath())), filters, offset, sort);
  } finally {
    document.querySelector('main').removeAttribute('aria-busy');
  }
}

// Set in this tab once a session showed whether its person may read the list: "1" or "0".
const READER_HINT = 'credanchor.listReader';

async function main() {
  // When this tab's person could read the list before (a reload, a way back from a
  // credential), the first page and the filters' choices are asked at once with the session,
  // not after it (bench/console_list.sh: one round trip and the session's handling less
  // before the rows); their answers are read only once the session allows it. A 401 goes to
  // sign-in (call) as the session's own would. Without the hint nothing is asked early, so a
  // person without the auditor role never makes a refused request.
  const early = (path) => {
    if (sessionStorage.getItem(READER_HINT) !== '1') {
      return null;
    }
    const p = call('GET', path);
    p.catch(() => {}); // read (and judged) below, or never when the page goes elsewhere
    return p;
  };
  const firstPage = early(listPath());
  const summary = early('/v1/reports/summary');
  await startConsole();
  sessionStorage.setItem(READER_HINT, hasRole('auditor') ? '1' : '0');
  if (homeFor() !== config.home) { // an issuer who cannot read the list: the roster upload
    location.replace(pageHref(homeFor()));
    return new Promise(() => {});
  }
  if (!hasRole('auditor')) {
    needsRole('auditor', 'filters-card', 'list-card');
    return;
  }
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    go(formFilters(), 0);
  });
  $('clear').addEventListener('click', () => {
    $('filters').reset();
    go({}, 0, '');
  });
  $('sort-issued').addEventListener('click', () => {
    const {filters, sort} = fromHash();
    go(filters, 0, sort ? '' : '-issued'); // a new order starts at its first page
  });
  $('prev').addEventListener('click', () => {
    const {filters, offset} = fromHash();
    go(filters, Math.max(0, offset - LIMIT));
  });
  $('next').addEventListener('click', () => {
    const {filters, offset} = fromHash();
    go(filters, offset + LIMIT);
  });
  window.addEventListener('hashchange', () => run(load));
  // The rows and the filters' choices at once: the first page does not wait for the summary.
  await Promise.all([load(firstPage), loadChoices(summary)]);
}

run(main);
