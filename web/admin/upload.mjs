// /admin/upload (issue #17): a roster issued from the browser, for issuers and admins. The
// roster is a CSV with a header row (externalId, name, email, department, course, completedAt,
// as tests/data/participants-166.csv), in steps:
//   1. the file, read here: at most MAX_BYTES (node.max_body) and UTF-8 text without NUL
//      bytes, or the page says why before anything is sent; an Excel workbook (.xlsx) goes to
//      POST /v1/rosters/csv instead, which answers the CSV its first visible sheet holds (or
//      the node's one-line reason it cannot be read), and that CSV takes the steps below as a
//      CSV file does, its rows numbered by their sheet rows; and the template: each row's
//      course column names its own (the default), or one template for every row (?template=,
//      from GET /v1/templates);
//   2. Check: POST /v1/credentials/batch?dryRun=true, which writes nothing: how many rows are
//      new, already issued, enrolled without a completion date, and the rows with errors
//      (their line in the file, externalId and the node's message);
//   3. Issue: the rows again, CHUNK data rows per request, one request after the other, with a
//      progress bar and a Cancel that stops after the request in flight;
//   4. the summary: issued, already issued, failed (with the rows), and the way to the list.
// The node issues a row once (per achievement and externalId): sending the same file again
// issues nothing twice, so a cancelled or failed upload is finished by uploading it again.
//
// Each request is a CSV of its own, the header and its rows, so the node numbers its rows from
// the chunk's line 2; the page maps them back to the file's lines. The file is split into rows
// the way the node's reader does it (credential/csv.c): a quote opening a field hides line
// ends until it closes, blank lines are skipped.
import {$, ApiError, config, errorText, fill, setState, showError, t} from './common.mjs';
import {busy, call, el, hasRole, needsRole, notice, numberText, pageHref, run, startConsole}
  from './console.mjs';

const MAX_BYTES = 10 * 1024 * 1024; // node.max_body: 10 MiB
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const CHUNK = 25;                   // data rows per issuing request
const CHECK_CHUNK = 5000;           // data rows per dry run (the node takes up to 10000)

let roster = null;   // {name, size, sheet (null for a CSV), header: {text, line}, rows: [{text, line}]}
let checked = null;  // {template}: the dry run of the current file and template went through
let issuing = false;
let cancelling = false;

// A message of the page's own (shown as it is, not as "something went wrong").
class Refusal extends Error {}

// ---- reading the file ---------------------------------------------------------------------------

const lineEnds = (s) => (s.match(/\n/g) || []).length;

// The CSV's records as the node's reader sees them: each {text (without its line end), line
// (1-based, where it starts)}. A quote still open at the end of the text covers only its own
// line, as on the node.
export function records(text) {
  const out = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const start = i;
    const startLine = line;
    let inQuote = false;
    let fieldStart = true;
    let quoteAt = -1;
    let quoteLine = 0;
    let end = -1;
    for (; i < n; i++) {
      const c = text[i];
      if (inQuote) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            i++;
          } else {
            inQuote = false;
          }
        } else if (c === '\n') {
          line++;
        }
        continue;
      }
      if (c === '\n') {
        end = i;
        break;
      }
      if (c === '"' && fieldStart) {
        inQuote = true;
        quoteAt = i;
        quoteLine = line;
      }
      fieldStart = c === ',';
    }
    if (inQuote) { // never closed: the record ends at the first line end after the quote
      end = text.indexOf('\n', quoteAt);
      line = quoteLine;
    }
    const body = text.slice(start, end < 0 ? n : end).replace(/\r$/, '');
    if (body !== '') {
      out.push({text: body, line: startLine});
    }
    if (end < 0) {
      break;
    }
    line++;
    i = end + 1;
  }
  return out;
}

function sizeText(bytes) {
  const locale = config.lang === 'ko' ? 'ko-KR' : 'en-GB';
  const num = (x) => x.toLocaleString(locale, {maximumFractionDigits: 1});
  if (bytes >= 1024 * 1024) {
    return `${num(bytes / (1024 * 1024))} MiB`;
  }
  return bytes >= 1024 ? `${num(bytes / 1024)} KiB` : `${num(bytes)} B`;
}

// A ZIP (.xlsx) or an OLE file (an encrypted workbook, an old .xls) is for the node to read or
// refuse with its reason.
function isWorkbook(name, bytes) {
  const starts = (...b) => b.every((x, i) => bytes[i] === x);
  return starts(0x50, 0x4b, 0x03, 0x04) || starts(0xd0, 0xcf, 0x11, 0xe0) || /\.xls[xmb]?$/i.test(name);
}

// The workbook's sheet as CSV text (node/roster_xlsx.c), and the sheet's name.
async function workbookText(bytes) {
  try {
    const r = await call('POST', '/v1/rosters/csv', bytes, XLSX_TYPE);
    return {text: r.csv, sheet: r.sheet};
  } catch (err) {
    if (err instanceof ApiError && [400, 413, 415].includes(err.status)) {
      throw new Refusal(fill(t.workbookRefused, {detail: err.detail || `HTTP ${err.status}`}));
    }
    throw err;
  }
}

// The node writes sheet row r at CSV line r plus the line breaks inside the cells above it
// (blank lines for empty rows): take those breaks off, so a row's line is its sheet row.
function toSheetRows(recs) {
  let breaks = 0;
  for (const r of recs) {
    r.line -= breaks;
    breaks += lineEnds(r.text);
  }
  return recs;
}

async function readRoster(file) {
  if (file.size > MAX_BYTES) {
    throw new Refusal(fill(t.fileTooBig, {size: sizeText(file.size), max: sizeText(MAX_BYTES)}));
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text;
  let sheet = null;
  if (isWorkbook(file.name, bytes)) {
    ({text, sheet} = await workbookText(bytes));
  } else {
    if (bytes.includes(0)) {
      throw new Refusal(t.fileNotText);
    }
    try {
      text = new TextDecoder('utf-8', {fatal: true}).decode(bytes); // drops a BOM
    } catch {
      throw new Refusal(t.fileNotText);
    }
  }
  const recs = sheet === null ? records(text) : toSheetRows(records(text));
  if (!recs.length) {
    throw new Refusal(t.fileEmpty);
  }
  const [header, ...rows] = recs;
  if (!rows.length) {
    throw new Refusal(t.fileNoRows);
  }
  return {name: file.name, size: file.size, sheet, header, rows};
}

// ---- talking to the node ------------------------------------------------------------------------

function batchPath(template, dryRun) {
  const q = new URLSearchParams();
  if (template) {
    q.set('template', template);
  }
  if (dryRun) {
    q.set('dryRun', 'true');
  }
  const s = q.toString();
  return `/v1/credentials/batch${s ? `?${s}` : ''}`;
}

// Rows as a CSV of their own (the header, then the rows) and the map from a row's line in it
// to its line in the file.
function chunkOf(rows) {
  const lines = new Map();
  let at = lineEnds(roster.header.text) + 2;
  for (const r of rows) {
    lines.set(at, r.line);
    at += lineEnds(r.text) + 1;
  }
  return {body: `${[roster.header.text, ...rows.map((r) => r.text)].join('\n')}\n`, lines};
}

function fileLine(lines, row) {
  if (lines.has(row)) {
    return lines.get(row);
  }
  let best = null;
  for (const [at, line] of lines) { // a line inside a row: the row's
    if (at <= row && (best === null || at > best[0])) {
      best = [at, line];
    }
  }
  return best ? best[1] + (row - best[0]) : row;
}

// Adds a report's counts and results (with the file's lines) to sum.
function add(sum, report, lines) {
  for (const k of Object.keys(sum.counts)) {
    sum.counts[k] += Number(report?.[k]) || 0;
  }
  for (const r of report?.results || []) {
    sum.results.push({...r, line: fileLine(lines, Number(r.row))});
  }
}

// An answer of the node's about the file: its own words for what it refused.
function uploadError(err) {
  if (err instanceof ApiError && [400, 404, 413, 415].includes(err.status)) {
    return fill(t.nodeRefused, {detail: err.detail || `HTTP ${err.status}`});
  }
  if (err instanceof ApiError && err.status === 403) {
    return t.needsIssuer;
  }
  return err instanceof Refusal ? err.message : errorText(err);
}

// ---- the steps ----------------------------------------------------------------------------------

function hide(...ids) {
  for (const id of ids) {
    $(id).hidden = true;
  }
}

function count(id, n) {
  $(id).textContent = numberText(n);
  $(id).dataset.count = String(n);
}

function errorRows(body, results) {
  const bad = results.filter((r) => r.status === 'error');
  body.replaceChildren(...bad.map((r) => el('tr', {data: {line: String(r.line), externalId: r.externalId || ''}},
    el('td', {class: 'num', text: numberText(r.line)}),
    el('td', {class: 'mono', text: r.externalId || t.none}),
    el('td', {class: 'detail', text: r.error || ''}))));
  return bad.length;
}

function fileChanged() {
  checked = null;
  roster = null;
  showError('');
  notice('');
  hide('check-card', 'progress-card', 'summary-card');
  $('check').disabled = true;
  const info = $('file-info');
  info.textContent = '';
  info.dataset.rows = '';
  info.dataset.sheet = '';
  const file = $('roster').files[0];
  if (!file) {
    return;
  }
  setState('loading');
  readRoster(file).then((r) => {
    roster = r;
    info.textContent = fill(r.sheet === null ? t.fileInfo : t.fileInfoSheet,
      {name: r.name, size: sizeText(r.size), rows: numberText(r.rows.length), sheet: r.sheet});
    info.dataset.rows = String(r.rows.length);
    info.dataset.sheet = r.sheet ?? '';
    $('check').disabled = false;
    setState('ready');
  }).catch((err) => showError(uploadError(err)));
}

function templateChanged() {
  checked = null;
  hide('check-card', 'summary-card');
  notice('');
}

async function check() {
  showError('');
  notice('');
  hide('check-card', 'progress-card', 'summary-card');
  if (!roster) {
    return;
  }
  const template = $('template').value;
  const sum = {counts: {new: 0, existing: 0, enrolled: 0, failed: 0}, results: []};
  setState('loading');
  $('upload-fields').disabled = true; // the file and the template stay as checked
  try {
    for (let i = 0; i < roster.rows.length; i += CHECK_CHUNK) {
      const {body, lines} = chunkOf(roster.rows.slice(i, i + CHECK_CHUNK));
      add(sum, await call('POST', batchPath(template, true), body, 'text/csv'), lines);
    }
  } finally {
    $('upload-fields').disabled = false;
  }
  checked = {template};
  const c = sum.counts;
  count('c-rows', roster.rows.length);
  count('c-new', c.new);
  count('c-existing', c.existing);
  count('c-enrolled', c.enrolled);
  count('c-failed', c.failed);
  const bad = errorRows($('check-error-rows'), sum.results);
  $('check-errors').hidden = !bad;
  const good = roster.rows.length - c.failed;
  $('check-next').textContent = !good ? t.checkNothing
    : c.failed ? fill(t.checkSkipErrors, {n: numberText(c.failed), good: numberText(good)})
      : !c.new ? t.checkAllExisting : fill(t.checkReady, {n: numberText(c.new)});
  $('issue').hidden = !good;
  const card = $('check-card');
  card.dataset.failed = String(c.failed);
  card.hidden = false;
  setState('ready');
}

function progress(done, total) {
  const bar = $('issue-progress');
  bar.max = total;
  bar.value = done;
  $('progress-text').textContent = fill(t.progressText, {done: numberText(done), total: numberText(total)});
}

async function issue() {
  if (!roster || !checked) {
    return;
  }
  const {template} = checked;
  const total = roster.rows.length;
  const sum = {counts: {issued: 0, existing: 0, enrolled: 0, failed: 0}, results: []};
  let done = 0;
  let error = '';
  issuing = true;
  cancelling = false;
  showError('');
  notice('');
  $('upload-fields').disabled = true;
  hide('check-card', 'summary-card');
  $('cancel-issue').disabled = false;
  $('progress-card').hidden = false;
  progress(0, total);
  setState('issuing');
  try {
    for (let i = 0; i < total && !cancelling; i += CHUNK) {
      const rows = roster.rows.slice(i, i + CHUNK);
      const {body, lines} = chunkOf(rows);
      try {
        add(sum, await call('POST', batchPath(template, false), body, 'text/csv'), lines);
        done += rows.length;
      } catch (err) {
        if (err instanceof ApiError && Array.isArray(err.body?.results)) { // some rows went in
          add(sum, err.body, lines);
          done += err.body.results.length;
        }
        error = uploadError(err);
        break;
      }
      progress(done, total);
    }
  } finally {
    issuing = false;
    $('upload-fields').disabled = false;
    $('progress-card').hidden = true;
  }
  summary(sum, done, total, error);
}

function summary(sum, done, total, error) {
  const c = sum.counts;
  count('s-issued', c.issued);
  count('s-existing', c.existing);
  count('s-enrolled', c.enrolled);
  count('s-failed', c.failed);
  const bad = errorRows($('summary-error-rows'), sum.results);
  $('summary-errors').hidden = !bad;
  const stopped = $('summary-stopped');
  const card = $('summary-card');
  card.dataset.done = String(done);
  card.dataset.total = String(total);
  card.dataset.stopped = done < total ? (error ? 'error' : 'cancelled') : '';
  stopped.hidden = done >= total;
  stopped.textContent = done < total ? fill(error ? t.stoppedByError : t.stoppedByCancel,
    {done: numberText(done), total: numberText(total)}) : '';
  const list = $('to-list');
  list.hidden = !hasRole('auditor');
  list.href = pageHref(config.home);
  card.hidden = false;
  if (error) {
    showError(error);
  } else {
    setState('ready');
    notice(fill(t.issuedNotice, {n: numberText(c.issued)}));
  }
}

function again() {
  const input = $('roster');
  input.value = '';
  fileChanged();
  input.focus();
}

async function loadTemplates() {
  const select = $('template');
  let list = [];
  try {
    list = (await call('GET', '/v1/templates')).templates || [];
  } catch (err) { // the page still works by the course column; the node's check will say more
    const why = err instanceof ApiError && err.status !== 0 ? err.detail || `HTTP ${err.status}` : errorText(err);
    $('templates-error').textContent = fill(t.templatesFailed, {detail: why});
    $('templates-error').hidden = false;
    return;
  }
  select.append(...list.map((x) => el('option', {value: x.name, disabled: !!x.error,
    text: x.error ? fill(t.templateBroken, {name: x.name}) : x.achievementName && x.achievementName !== x.name
      ? `${x.achievementName} (${x.name})` : x.name})));
  select.dataset.count = String(list.filter((x) => !x.error).length);
}

async function main() {
  await startConsole();
  if (!hasRole('issuer')) {
    needsRole('issuer', 'file-card');
    return;
  }
  $('file-card').hidden = false;
  $('roster').addEventListener('change', fileChanged);
  $('template').addEventListener('change', templateChanged);
  $('upload-form').addEventListener('submit', (e) => {
    e.preventDefault();
    busy($('check'), check).catch((err) => showError(uploadError(err)));
  });
  $('issue').addEventListener('click', () => issue().catch((err) => showError(uploadError(err))));
  $('cancel-issue').addEventListener('click', () => {
    cancelling = true;
    $('cancel-issue').disabled = true;
    $('progress-text').textContent = t.stopping;
  });
  $('again').addEventListener('click', again);
  window.addEventListener('beforeunload', (e) => {
    if (issuing) {
      e.preventDefault();
    }
  });
  await loadTemplates();
}

run(main);
