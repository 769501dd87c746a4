// Peer for tests/integration/test_web_admin_charts.py: the dashboard's charts and date range
// (issue #17; web/admin/dashboard.mjs, dashboard_charts.mjs, Chart.js from web/vendor) in
// Debian's Chromium through playwright-core, signed in as an auditor with a passkey from a CDP
// virtual authenticator (tests/interop/console_lib.mjs). The peer observes; the Python test
// judges against GET /v1/reports/summary.
//
// Input (CA_PLAN, a JSON file): {"base", "artefacts", "auditorInvite", "ranges": [{"from",
// "to"}, ...] (dates to type into the range form, in order), "badRange": {"from", "to"} (from
// after to)}.
// Output: one JSON line per step, {"step": name, ...observations} or {"step", "error"}.
import {readFileSync} from 'node:fs';
import * as lib from './console_lib.mjs';

const {WAIT, emit, person, look, enroll} = lib;
const plan = JSON.parse(readFileSync(process.env.CA_PLAN, 'utf8'));
const base = plan.base;
const open = (page, path) => lib.open(page, base, path);
const shot = (page, name) => lib.shot(page, plan.artefacts, name);

// Both cards: the table's rows (group key and cells) and the chart's canvas: its role, label,
// the number of groups drawn and how many of its pixels are painted (a blank canvas has none).
function dashLook(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const card = (which) => {
      const canvas = q(`#${which}-chart`);
      let painted = 0;
      const colours = new Set();
      if (canvas && canvas.width && canvas.height) {
        const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < px.length; i += 4) {
          if (px[i] > 0) {
            painted++;
            if (colours.size < 64) {
              colours.add(`${px[i - 3]},${px[i - 2]},${px[i - 1]}`);
            }
          }
        }
      }
      return {
        shown: !q(`#${which}-card`).hidden,
        rows: [...document.querySelectorAll(`#${which} tbody tr`)].map((r) => ({group: r.dataset.group ?? null,
          cells: [...r.cells].map((c) => c.textContent.trim())})),
        chart: canvas ? {role: canvas.getAttribute('role'), label: canvas.getAttribute('aria-label'),
          groups: Number(canvas.dataset.groups), width: canvas.width, height: canvas.height, painted,
          colours: colours.size, boxHidden: canvas.parentElement.hidden} : null,
        shownLine: q(`#${which}-shown`).hidden ? '' : q(`#${which}-shown`).textContent,
      };
    };
    const dd = (id) => q(`#${id}`)?.textContent ?? null;
    return {
      range: q('main').dataset.range ?? null, hash: location.hash, busy: q('main').hasAttribute('aria-busy'),
      totalsTitle: dd('totals-title'),
      totals: {issued: dd('t-issued'), active: dd('t-active'), revoked: dd('t-revoked'),
        completed: dd('t-completed'), rate: dd('t-rate')},
      rangeError: q('#range-error').hidden ? '' : q('#range-error').textContent,
      departments: card('departments'), courses: card('courses'),
    };
  });
}

// Types a range into the form and waits for the page to show it (main[data-range] and no
// aria-busy), or, for a refused one, for the form's message.
async function applyRange(page, {from, to}, refused = false) {
  await page.fill('#r-from', from || '');
  await page.fill('#r-to', to || '');
  await page.click('#range-apply');
  if (refused) {
    await page.waitForSelector('#range-error:not([hidden])', {timeout: WAIT});
    return;
  }
  const want = new URLSearchParams();
  if (from) {
    want.set('from', from);
  }
  if (to) {
    want.set('to', to);
  }
  await page.waitForFunction((w) => document.querySelector('main').dataset.range === w &&
    !document.querySelector('main').hasAttribute('aria-busy') &&
    document.querySelector('main').dataset.state === 'ready', want.toString(), {timeout: WAIT});
}

async function run(browser, step) {
  const aud = await person(browser);
  await step('1 enroll', async () => ({auditor: await enroll(aud, plan.auditorInvite)}));
  await step('2 dashboard', async () => {
    const views = {};
    for (const lang of ['en', 'ko']) {
      const t0 = Date.now();
      await open(aud.page, `/admin/dashboard?lang=${lang}`);
      await aud.page.waitForFunction(() => document.querySelector('#departments-chart')?.dataset.groups,
        null, {timeout: WAIT});
      const ms = Date.now() - t0;
      views[lang] = {look: await look(aud.page), dash: await dashLook(aud.page), axe: await lib.axe(aud.page), ms};
      await shot(aud.page, `charts-${lang}.png`);
    }
    return {views};
  });
  await step('3 ranges', async () => {
    await open(aud.page, '/admin/dashboard?lang=en');
    const seen = [];
    for (const r of plan.ranges) {
      await applyRange(aud.page, r);
      seen.push({range: r, dash: await dashLook(aud.page)});
    }
    const axe = await lib.axe(aud.page);
    await shot(aud.page, 'charts-range-en.png');
    await applyRange(aud.page, plan.badRange, true);
    const refused = await dashLook(aud.page);
    await aud.page.goBack({waitUntil: 'load'}); // the address keeps the range: Back shows the one before
    await aud.page.waitForFunction((w) => document.querySelector('main').dataset.range === w &&
      !document.querySelector('main').hasAttribute('aria-busy'),
    new URLSearchParams(Object.entries(plan.ranges.at(-2)).filter(([, v]) => v)).toString(), {timeout: WAIT});
    const back = await dashLook(aud.page);
    await aud.page.click('#range-clear');
    await aud.page.waitForFunction(() => document.querySelector('main').dataset.range === '' &&
      !document.querySelector('main').hasAttribute('aria-busy'), null, {timeout: WAIT});
    const cleared = await dashLook(aud.page);
    // The Korean page with a range from the address, as a shared link opens it.
    await open(aud.page, `/admin/dashboard?lang=ko#${new URLSearchParams(plan.ranges[0])}`);
    await aud.page.waitForFunction(() => document.querySelector('#departments-chart')?.dataset.groups,
      null, {timeout: WAIT});
    const ko = {look: await look(aud.page), dash: await dashLook(aud.page), axe: await lib.axe(aud.page)};
    await shot(aud.page, 'charts-range-ko.png');
    return {seen, axe, refused, back, cleared, ko};
  });
  await step('4 console', async () => ({auditor: aud.console}));
}

await lib.runSteps(run);
emit({step: 'done'});
