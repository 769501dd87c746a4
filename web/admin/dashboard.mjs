// /admin/dashboard (issue #17): completion by department and by course, from the node's report
// counters (GET /v1/reports/summary, auditor): issued, completed of enrolled, the completion
// rate as a plain horizontal bar (a width set through the CSSOM, which the page's CSP allows;
// the number beside it is what a screen reader reads), revoked and suspended.
import {$, fill, t} from './common.mjs';
import {call, el, hasRole, needsRole, numberText, percentText, run, startConsole} from './console.mjs';

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

function table(idName, groups, key) {
  const body = $(idName).tBodies[0];
  body.replaceChildren(...(groups.length ? groups.map((g) => groupRow(g, key))
    : [el('tr', {}, el('td', {colSpan: 6, class: 'empty', text: t.noData}))]));
}

async function main() {
  await startConsole();
  if (!hasRole('auditor')) {
    needsRole('auditor');
    return;
  }
  const s = await call('GET', '/v1/reports/summary');
  const total = s.totals || {};
  $('t-issued').textContent = numberText(total.issued ?? 0);
  $('t-active').textContent = numberText(total.active ?? 0);
  $('t-revoked').textContent = numberText(total.revoked ?? 0);
  $('t-suspended').textContent = numberText(total.suspended ?? 0);
  $('t-completed').textContent = completedText({completed: total.completed ?? 0, enrolled: total.enrolled ?? 0});
  $('t-rate').textContent = percentText(total.completionRate);
  table('departments', s.byDepartment || [], 'department');
  table('courses', s.byCourse || [], 'course');
  for (const c of ['totals-card', 'departments-card', 'courses-card']) {
    $(c).hidden = false;
  }
}

run(main);
