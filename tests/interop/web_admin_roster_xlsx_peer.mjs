// Peer for tests/integration/test_web_admin_roster_xlsx.py: the roster upload page
// (web/admin/upload.mjs, issue #17) with Excel workbooks, in Debian's Chromium
// (console_lib.mjs). An issuer enrols with a passkey, uploads a workbook with 3 bad rows, sees
// the preview with those rows' errors, issues, sees the summary; uploads it again in Korean;
// and uploads a password-protected workbook, which the page refuses with the node's reason.
// The peer acts and observes; the Python test judges.
//
// Input (CA_PLAN, a JSON file): {"base" (nginx's https public URL), "spki" (the test
// certificate's key, which Chromium is told to trust), "artefacts", "issuerInvite", "badXlsx",
// "encryptedXlsx"}. Output: one JSON line per step, {"step": name, ...observations} or
// {"step", "error"}.
import {readFileSync} from 'node:fs';
import * as lib from './console_lib.mjs';

const {WAIT, person, look, enroll, axe, runSteps} = lib;
const plan = JSON.parse(readFileSync(process.env.CA_PLAN, 'utf8'));
const open = (page, path) => lib.open(page, plan.base, path);
const shot = (page, name) => lib.shot(page, plan.artefacts, name);

// What the upload page shows: the file line, the check's counts and error rows, the summary.
function uploadLook(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const shown = (s) => !!q(s) && !q(s).hidden;
    const count = (id) => (q(`#${id}`)?.dataset.count ?? null);
    const rows = (s) => [...document.querySelectorAll(`${s} tr`)].map((r) => ({line: r.dataset.line,
      externalId: r.dataset.externalId, cells: [...r.cells].map((c) => c.textContent)}));
    return {
      accept: q('#roster').accept, hint: q('#roster-hint').textContent,
      fileInfo: q('#file-info').textContent, fileRows: q('#file-info').dataset.rows,
      sheet: q('#file-info').dataset.sheet,
      check: shown('#check-card') ? {rows: count('c-rows'), new: count('c-new'),
        existing: count('c-existing'), failed: count('c-failed'), errors: rows('#check-error-rows'),
        next: q('#check-next').textContent} : null,
      summary: shown('#summary-card') ? {issued: count('s-issued'), existing: count('s-existing'),
        failed: count('s-failed'), errors: rows('#summary-error-rows'),
        stopped: q('#summary-card').dataset.stopped} : null,
    };
  });
}

// Chooses the file and waits until the page has read it (rows counted) or refused it.
async function choose(page, file) {
  await page.setInputFiles('#roster', file);
  await page.waitForFunction(() => document.querySelector('#file-info').dataset.rows ||
    !document.querySelector('#error').hidden, null, {timeout: WAIT});
}

async function checkAndIssue(page, lang, issue) {
  await open(page, `/admin/upload?lang=${lang}`);
  await choose(page, plan.badXlsx);
  await page.click('#check');
  await page.waitForSelector('#check-card:not([hidden])', {timeout: WAIT});
  const checked = await uploadLook(page);
  const checkAxe = await axe(page);
  await shot(page, `upload-xlsx-check-${lang}.png`);
  if (!issue) {
    return {checked, checkAxe};
  }
  await page.click('#issue');
  await page.waitForSelector('#summary-card:not([hidden])', {timeout: WAIT});
  const issued = await uploadLook(page);
  const summaryAxe = await axe(page);
  await shot(page, `upload-xlsx-summary-${lang}.png`);
  return {checked, checkAxe, issued, summaryAxe, look: await look(page)};
}

await runSteps(async (browser, step) => {
  const en = await person(browser, {locale: 'en-US'});
  await step('enrol', async () => ({look: await enroll(en, plan.issuerInvite)}));
  await step('en: check and issue', () => checkAndIssue(en.page, 'en', true));
  await step('ko: the same workbook again', () => checkAndIssue(en.page, 'ko', false));
  await step('en: an encrypted workbook', async () => {
    await open(en.page, '/admin/upload?lang=en');
    await choose(en.page, plan.encryptedXlsx);
    const seen = await look(en.page);
    const a = await axe(en.page);
    await shot(en.page, 'upload-xlsx-refused-en.png');
    return {look: seen, axe: a, upload: await uploadLook(en.page), checkDisabled:
      await en.page.evaluate(() => document.querySelector('#check').disabled)};
  });
  await step('console', async () => ({console: en.console}));
}, plan.spki ? [`--ignore-certificate-errors-spki-list=${plan.spki}`] : []);
