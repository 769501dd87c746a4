// Peer for tests/integration/test_web_admin_delivery.py: the admin console's deliveries (issue
// #18's console part: the list's alert channel, the credential page's timeline and Resend
// email) in Debian's Chromium, driven by playwright-core (executablePath; no browser
// download), signed in with passkeys made by CDP virtual authenticators, as
// web_admin_console_peer.mjs does. The peer observes; the Python test judges.
//
// Input (CA_PLAN, a JSON file):
//   {"base": the node's public URL, "artefacts": dir, "adminInvite", "issuerInvite",
//    "auditorInvite": enrollment URLs, "rows": {"sent", "sent2", "failed", "revoked",
//    "nomail": {"id", "issueNumber"}}, "issuerToken", "auditorToken": bearer tokens,
//    "queued": {"csv": a roster of one, "name": its recipient}}
// The "queued" credential (its recipient deferred with 451 every time) is issued by step
// "4 queue", which runs before "3 resend": the resend must not be refused because another
// credential's email is queued (see the test's docstring).
// Output: one JSON line per step, {"step": name, ...observations} or {"step", "error"}.
// A step that throws ends the run (the later steps depend on it).
import {readFileSync} from 'node:fs';
import * as lib from './console_lib.mjs';

const {WAIT, emit, person, settled, look, enroll} = lib;
const plan = JSON.parse(readFileSync(process.env.CA_PLAN, 'utf8'));
const base = plan.base;
const rows = plan.rows;
const open = (page, path) => lib.open(page, base, path);
const shot = (page, name) => lib.shot(page, plan.artefacts, name);
const axe = lib.axe;
const bothLanguages = (page, path, name) => lib.bothLanguages(page, base, path, plan.artefacts, name);

function listLook(page) {
  return page.evaluate(() => ({
    headers: [...document.querySelectorAll('#credentials-table thead th')].map((th) => th.textContent.trim()),
    rows: [...document.querySelectorAll('#rows tr[data-id]')].map((r) => ({id: r.dataset.id,
      delivery: r.querySelector('td[data-delivery]')?.dataset.delivery ?? null,
      channel: r.querySelector('.channel')?.textContent ?? null,
      badge: r.querySelector('.delivery')?.textContent ?? null,
      cells: [...r.cells].map((c) => c.textContent.trim())})),
  }));
}

// The credential page's Deliveries card: the timeline's entries and the Resend button.
function timelineLook(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const shown = (s) => !!q(s) && !q(s).hidden && !q(s).closest('[hidden]');
    const text = (n) => n?.textContent.trim() ?? null;
    return {
      card: shown('#deliveries-card'), unknown: shown('#deliveries-unknown'),
      entries: [...document.querySelectorAll('#timeline > li')].map((li) => ({
        kind: li.dataset.kind, event: li.dataset.event ?? null, state: li.dataset.state ?? null,
        status: li.dataset.status ?? null, title: text(li.querySelector('h3 .what')),
        at: li.querySelector('h3 time')?.getAttribute('datetime') ?? null, badge: text(li.querySelector('h3 .delivery')),
        reason: text(li.querySelector('.reason')),
        facts: Object.fromEntries([...li.querySelectorAll('dl.facts > div')].map((d) =>
          [text(d.querySelector('dt')), text(d.querySelector('dd'))])),
        attempts: [...li.querySelectorAll('table.attempts tbody tr')].map((r) => ({outcome: r.dataset.outcome,
          code: r.dataset.code, cells: [...r.cells].map((c) => c.textContent.trim())})),
      })),
      resend: shown('#resend-box') ? {disabled: q('#resend').disabled, block: q('#resend').dataset.block,
        blockText: q('#resend-block').textContent} : null,
      resendError: shown('#resend-error') ? q('#resend-error').textContent : '',
    };
  });
}

// A bearer call from the peer (not the browser): the parsed answer.
async function bearer(token, method, path, body, type = 'application/json') {
  const r = await fetch(`${base}${path}`, {method, body, headers: {authorization: `Bearer ${token}`,
    'content-type': type}});
  return {status: r.status, json: await r.json().catch(() => null)};
}

// The queued credential: issued, found by its name, retried at least twice.
async function issueQueued() {
  const q = plan.queued;
  const issued = await bearer(plan.issuerToken, 'POST', '/v1/credentials/batch', q.csv, 'text/csv');
  const found = await bearer(plan.auditorToken, 'GET', `/v1/credentials?q=${encodeURIComponent(q.name)}`);
  const c = found.json?.credentials?.find((x) => x.name === q.name);
  if (!c) {
    throw new Error(`the queued credential was not issued (${issued.status} ${JSON.stringify(issued.json)})`);
  }
  rows.queued = {id: c.id, issueNumber: c.issueNumber};
  const path = `/v1/credentials/${encodeURIComponent(c.id)}/deliveries`;
  for (let i = 0; i < 300; i++) {
    const d = (await bearer(plan.auditorToken, 'GET', path)).json?.deliveries || [];
    if (d[0]?.attempts >= 2) {
      return {issued: issued.status, row: rows.queued, deliveries: d};
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the queued credential was not tried twice in 30 s');
}

const detailPath = (row, lang) => `/admin/credential?id=${encodeURIComponent(row.id)}${lang ? `&lang=${lang}` : ''}`;

// Resend: the dialog confirmed; resolves once the page has the node's answer (a notice or
// the card's error).
async function resendConfirmed(page) {
  await page.click('#resend');
  await page.waitForSelector('dialog#dialog[open]', {timeout: WAIT});
  const title = await page.textContent('#dialog-title');
  await page.click('#dialog-confirm');
  await page.waitForSelector('dialog#dialog', {state: 'detached', timeout: WAIT});
  await page.waitForFunction(() => document.querySelector('#notice').textContent ||
    !document.querySelector('#resend-error').hidden, null, {timeout: WAIT});
  await settled(page);
  return {title, look: await look(page), timeline: await timelineLook(page)};
}

async function run(browser, step) {
  const admin = await person(browser);
  const issuer = await person(browser);
  const auditor = await person(browser);
  await step('1 enroll', async () => ({admin: await enroll(admin, plan.adminInvite),
    issuer: await enroll(issuer, plan.issuerInvite), auditor: await enroll(auditor, plan.auditorInvite)}));

  await step('2 failed', async () => {
    const page = admin.page;
    await open(page, '/admin/?lang=en'); // the list before the resend: the 550 one failed
    const list = {list: await listLook(page), listAxe: await axe(page)};
    await shot(page, 'delivery-list-failed-en.png');
    const o = {...list,views: await bothLanguages(page, detailPath(rows.failed), 'delivery-failed')};
    o.ko = await timelineLook(page);
    await open(page, detailPath(rows.failed, 'en'));
    o.en = await timelineLook(page);
    return o;
  });

  // Issued before the resend, so the resend is asked while another credential's email is
  // queued: only the resent credential's own emails may block it (node/outbox.c resend_txn).
  await step('4 queue', issueQueued);

  await step('3 resend', async () => {
    const page = admin.page;
    const o = {};
    // The confirmation (axe with it open); Cancel sends nothing.
    await page.click('#resend');
    await page.waitForSelector('dialog#dialog[open]', {timeout: WAIT});
    o.dialogAxe = await axe(page);
    o.dialogTitle = await page.textContent('#dialog-title');
    await shot(page, 'delivery-resend-dialog-en.png');
    await page.click('#dialog-cancel');
    await page.waitForSelector('dialog#dialog', {state: 'detached', timeout: WAIT});
    o.afterCancel = await timelineLook(page);
    o.resent = await resendConfirmed(page);
    // The page reads the timeline again while the new email is queued: it turns "sent".
    await page.waitForFunction(() => {
      const m = document.querySelectorAll('#timeline li[data-kind="delivery"][data-event="credential.issued"]');
      return m.length === 2 && m[1].dataset.state === 'sent';
    }, null, {timeout: 30000}).catch(() => {});
    o.after = await timelineLook(page);
    o.look = await look(page);
    o.axe = await axe(page);
    await shot(page, 'delivery-resent-en.png');
    return o;
  });

  await step('5 list', async () => {
    const page = admin.page;
    const o = {views: await bothLanguages(page, '/admin/', 'delivery-list')};
    o.ko = await listLook(page);
    await open(page, '/admin/?lang=en');
    o.en = await listLook(page);
    return o;
  });

  await step('6 queued', async () => {
    const page = admin.page;
    await open(page, detailPath(rows.queued, 'en'));
    const o = {timeline: await timelineLook(page), axe: await axe(page)};
    await shot(page, 'delivery-queued-en.png');
    await open(page, detailPath(rows.nomail, 'en'));
    o.nomail = await timelineLook(page);
    return o;
  });

  await step('7 issuer', async () => {
    const page = issuer.page;
    const o = {views: await bothLanguages(page, detailPath(rows.queued), 'delivery-issuer')};
    await open(page, detailPath(rows.queued, 'en'));
    o.before = await timelineLook(page);
    o.conflict = await resendConfirmed(page);
    o.conflictAxe = await axe(page);
    await shot(page, 'delivery-409-en.png');
    await open(page, detailPath(rows.nomail, 'ko'));
    o.never = await resendConfirmed(page);
    o.neverAxe = await axe(page);
    await shot(page, 'delivery-404-ko.png');
    return o;
  });

  await step('8 auditor', async () => {
    const page = auditor.page;
    const o = {views: await bothLanguages(page, detailPath(rows.revoked), 'delivery-revoked')};
    await open(page, detailPath(rows.revoked, 'en'));
    o.timeline = await timelineLook(page);
    o.directResend = await page.evaluate(async (id) => {
      const s = await (await fetch('/v1/auth/session', {credentials: 'same-origin'})).json();
      const r = await fetch(`/v1/credentials/${encodeURIComponent(id)}/deliveries/resend`, {method: 'POST',
        credentials: 'same-origin', referrerPolicy: 'strict-origin',
        headers: {'content-type': 'application/json', 'x-csrf-token': s.csrf}, body: '{}'});
      return r.status;
    }, rows.revoked.id);
    return o;
  });

  await step('9 console', async () => ({admin: admin.console, issuer: issuer.console, auditor: auditor.console}));
  for (const p of [admin, issuer, auditor]) {
    await p.context.close();
  }
}

await lib.runSteps(run);
