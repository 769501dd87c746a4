// Peer for tests/integration/test_web_admin_templates.py: the console's template editor
// (/admin/templates, issue #17 "Templates") in Debian's Chromium through console_lib.mjs. The
// peer observes; the Python test judges.
//
// Input (CA_PLAN, a JSON file): {"base", "artefacts", "adminInvite", "issuerInvite",
//   "adminToken", "name": the template to edit, "description", "issuerName": what to type}
// Output: one JSON line per step, {"step", ...observations} or {"step", "error"}.
import {readFileSync} from 'node:fs';
import * as lib from './console_lib.mjs';

const {WAIT, person, look, enroll} = lib;
const plan = JSON.parse(readFileSync(process.env.CA_PLAN, 'utf8'));
const base = plan.base;
const shot = (page, name) => lib.shot(page, plan.artefacts, name);
const bothLanguages = (page, path, name) => lib.bothLanguages(page, base, path, plan.artefacts, name);
// A 4x4 PNG (the upload's preview), made by the test.
const PNG = Buffer.from(plan.pngBase64, 'base64');

function listLook(page) {
  return page.evaluate(() => [...document.querySelectorAll('#templates tr[data-template]')].map((r) => ({
    name: r.dataset.template, cells: [...r.cells].map((c) => c.textContent.trim()),
    version: r.cells[4]?.getAttribute('title') ?? null,
    button: r.querySelector('button[data-open]')?.textContent ?? null})));
}

function formLook(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const shown = (s) => !!q(s) && !q(s).hidden && !q(s).closest('[hidden]');
    return {
      card: shown('#edit-card'), title: q('#edit-title')?.textContent ?? '',
      version: q('#edit-card')?.dataset.version ?? '', name: q('#f-name')?.value ?? '',
      description: q('#f-description')?.value ?? '', issuerName: q('#f-issuer-name')?.value ?? '',
      type: q('#f-type')?.value ?? '', layoutSource: q('#layout-source')?.textContent ?? '',
      save: shown('#save-button'), preview: shown('#preview-button'), readOnlyNote: shown('#readonly-note'),
      disabled: [...document.querySelectorAll('#edit-form input, #edit-form textarea, #edit-form select')]
        .every((f) => f.disabled),
      imagePreview: shown('#image-preview') && (q('#image-preview').src || '').startsWith('data:image/png'),
      previewLink: shown('#preview-link') ? {bytes: Number(q('#preview-link').dataset.bytes),
        href: q('#preview-link').href.slice(0, 5)} : null,
      error: shown('#error') ? q('#error').textContent : '', notice: q('#notice')?.textContent ?? '',
    };
  });
}

async function openEditor(page) {
  await page.click(`button[data-open="${plan.name}"]`);
  await page.waitForSelector('#edit-card:not([hidden])', {timeout: WAIT});
}

async function run(browser, step) {
  const admin = await person(browser);
  const issuer = await person(browser, {locale: 'ko-KR'});
  await step('1 enroll', async () => ({admin: await enroll(admin, plan.adminInvite),
    issuer: await enroll(issuer, plan.issuerInvite)}));

  await step('2 list', async () => {
    const views = await bothLanguages(admin.page, '/admin/templates', 'templates-list');
    return {views, rows: await listLook(admin.page), nav: (await look(admin.page)).nav};
  });

  await step('3 edit and preview', async () => {
    const page = admin.page;
    await lib.open(page, base, '/admin/templates?lang=en');
    await openEditor(page);
    const before = await formLook(page);
    await page.fill('#f-description', plan.description);
    await page.fill('#f-issuer-name', plan.issuerName);
    await page.setInputFiles('#f-image-file', {name: 'badge.png', mimeType: 'image/png', buffer: PNG});
    await page.waitForSelector('#image-preview:not([hidden])', {timeout: WAIT});
    // The border colour through its field: the layout's JSON follows it.
    await page.evaluate(() => {
      const f = document.querySelector('#f-border-color');
      f.value = '#8a0a4a';
      f.dispatchEvent(new Event('change', {bubbles: true}));
    });
    const layoutText = await page.inputValue('#f-layout');
    const answer = page.waitForResponse((r) => r.url().endsWith('/preview.pdf'), {timeout: WAIT});
    await page.click('#preview-button');
    const r = await answer;
    await page.waitForSelector('#preview-link:not([hidden])', {timeout: WAIT});
    const after = await formLook(page);
    // The link's blob, as the person gets it (a download: the link has download=).
    const download = page.waitForEvent('download', {timeout: WAIT});
    await page.click('#preview-link');
    const pdf = readFileSync(await (await download).path());
    const a11y = await lib.axe(page);
    await shot(page, 'templates-edit-en.png');
    return {before, after, layoutHasColour: layoutText.includes('#8a0a4a'),
      preview: {status: r.status(), type: r.headers()['content-type'], head: pdf.subarray(0, 5).toString(),
        bytes: pdf.length, pdfBase64: pdf.toString('base64')}, axe: a11y};
  });

  await step('4 save', async () => {
    const page = admin.page;
    await page.click('#save-button');
    await page.waitForSelector('#dialog[open]', {timeout: WAIT});
    const dialog = await page.evaluate(() => ({title: document.querySelector('#dialog-title').textContent,
      text: document.querySelector('#dialog-text')?.textContent ?? ''}));
    const dialogAxe = await lib.axe(page);
    await shot(page, 'templates-save-dialog-en.png');
    const was = (await formLook(page)).version;
    await page.click('#dialog-confirm');
    await page.waitForFunction((v) => document.querySelector('#edit-card').dataset.version !== v ||
      !document.querySelector('#error').hidden, was, {timeout: WAIT});
    await lib.settled(page);
    const form = await formLook(page);
    await shot(page, 'templates-saved-en.png');
    return {dialog, dialogAxe, form, rows: await listLook(page)};
  });

  await step('5 conflict', async () => {
    const page = admin.page;
    const version = (await formLook(page)).version;
    // Someone else saves first (by token, the API as any script would).
    const path = `${base}/v1/templates/${plan.name}`;
    const g = await (await fetch(path, {headers: {authorization: `Bearer ${plan.adminToken}`}})).json();
    g.template.credentialSubject.achievement.criteria.narrative = 'Changed elsewhere first.';
    const other = await fetch(path, {method: 'PUT', body: JSON.stringify({template: g.template}),
      headers: {authorization: `Bearer ${plan.adminToken}`, 'content-type': 'application/json',
        'if-match': `"${version}"`}});
    await page.fill('#f-description', 'This save comes second and must be refused.');
    await page.click('#save-button');
    await page.waitForSelector('#dialog[open]', {timeout: WAIT});
    await page.click('#dialog-confirm');
    await page.waitForSelector('#error:not([hidden])', {timeout: WAIT});
    const form = await formLook(page);
    await shot(page, 'templates-conflict-en.png');
    return {otherStatus: other.status, form, axe: await lib.axe(page)};
  });

  await step('6 issuer', async () => {
    const page = issuer.page;
    await lib.open(page, base, '/admin/templates?lang=ko');
    const views = {ko: {look: await look(page), axe: await lib.axe(page)}};
    await shot(page, 'templates-issuer-list-ko.png');
    await openEditor(page);
    const form = await formLook(page);
    const a11y = await lib.axe(page);
    await shot(page, 'templates-issuer-view-ko.png');
    return {views, form, axe: a11y, rows: await listLook(page)};
  });

  await step('7 console', async () => ({admin: admin.console, issuer: issuer.console}));
}

await lib.runSteps(run);
