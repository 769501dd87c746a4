// Peer for tests/integration/test_web_admin_webhooks.py: the console's webhooks page and the
// dashboard's anchoring-account warnings (issue #17) in Debian's Chromium (console_lib.mjs),
// behind nginx with TLS (Chromium trusts exactly the test certificate's key). The peer acts
// and observes; the Python test judges.
//
// Input (CA_PLAN, a JSON file): {"base": the https public URL, "direct": the node's own
// http://127.0.0.1 URL (bearer calls), "spki", "artefacts", "work" (handshake dir),
// "adminInvite", "auditorInvite", "adminToken", "issuerToken", "auditorToken", "hookUrl",
// "receiverControl", "receiverOut", "anvilUrl", "anchorAddress", "csv"}.
// The handshake: the peer writes <work>/anvil-stop and waits for <work>/anvil-stopped (the
// Python side owns anvil, so it stops it).
// Output: one JSON line per step, {"step": name, ...observations} or {"step", "error"}.
import {existsSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import * as lib from './console_lib.mjs';

const {WAIT, person, settled, look, enroll} = lib;
const plan = JSON.parse(readFileSync(process.env.CA_PLAN, 'utf8'));
const base = plan.base;
const open = (page, path) => lib.open(page, base, path);
const shot = (page, name) => lib.shot(page, plan.artefacts, name);
const axe = lib.axe;
const bothLanguages = (page, path, name) => lib.bothLanguages(page, base, path, plan.artefacts, name);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(fn, what, ms = WAIT) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) {
      return v;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(200);
  }
}

async function bearer(token, method, path, body, type = 'application/json') {
  const r = await fetch(`${plan.direct}${path}`, {method, body: typeof body === 'string' || !body ? body
    : JSON.stringify(body), headers: {authorization: `Bearer ${token}`, 'content-type': type}});
  return {status: r.status, json: await r.json().catch(() => null)};
}

async function anvil(method, params) {
  const r = await fetch(plan.anvilUrl, {method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({jsonrpc: '2.0', id: 1, method, params})});
  return (await r.json()).result;
}

const received = () => (existsSync(plan.receiverOut) ? readFileSync(plan.receiverOut, 'utf8') : '')
  .split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((x) => x.path === '/hook');
function setSecrets(secrets) { // whole, by rename: the receiver re-reads it per request
  writeFileSync(`${plan.receiverControl}.tmp`, JSON.stringify({paths: {'/hook': {secrets}}}));
  renameSync(`${plan.receiverControl}.tmp`, plan.receiverControl);
}

function pageLook(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const shown = (s) => !!q(s) && !q(s).hidden && !q(s).closest('[hidden]');
    return {
      endpoints: [...document.querySelectorAll('#endpoints tr[data-webhook-id]')].map((r) => ({
        id: r.dataset.webhookId, lastState: r.dataset.lastState, url: r.cells[0].textContent,
        events: [...r.querySelectorAll('li[data-event]')].map((li) => li.dataset.event),
        cells: [...r.cells].map((c) => c.textContent.trim()),
        previousUntil: r.querySelector('[data-previous-until]')?.dataset.previousUntil ?? null})),
      noEndpoints: shown('#no-endpoints'),
      secret: shown('#secret-result') ? q('#new-secret').textContent : null,
      secretTitle: shown('#secret-result') ? q('#secret-title').textContent : null,
      secretText: shown('#secret-result') ? q('#secret-result p').textContent : null,
      addError: shown('#add-error') ? q('#add-error').textContent : '',
      deliveriesOf: shown('#deliveries-card') ? q('#deliveries-card').dataset.webhookId : null,
      deliveries: [...document.querySelectorAll('#deliveries tr[data-seq]')].map((r) => ({seq: r.dataset.seq,
        state: r.dataset.state, type: r.dataset.type, cells: [...r.cells].map((c) => c.textContent.trim()),
        replay: !!r.querySelector('[data-action="replay"]')})),
    };
  });
}

const row = (page, url) => page.locator('#endpoints tr[data-webhook-id]', {hasText: url});

// Confirms the open dialog and waits for the action's outcome: a new notice or an error.
async function confirmDialog(page) {
  await page.waitForSelector('dialog#dialog', {timeout: WAIT});
  const o = {title: await page.textContent('#dialog-title'), text: await page.textContent('#dialog-text'),
    axe: await axe(page)};
  const before = await page.textContent('#notice');
  await page.click('#dialog-confirm');
  await page.waitForSelector('dialog#dialog', {state: 'detached', timeout: WAIT});
  await page.waitForFunction((b) => document.querySelector('#notice').textContent !== b ||
    !document.querySelector('#error').hidden, before, {timeout: WAIT});
  await page.waitForFunction(() => !document.querySelector('main').hasAttribute('aria-busy'), null, {timeout: WAIT});
  await settled(page);
  return o;
}

async function addEndpoint(page, url) {
  await page.fill('#endpoint-url', url);
  await page.click('#add-button');
  await page.waitForFunction(() => !document.querySelector('#add-error').hidden ||
    !document.querySelector('#secret-result').hidden, null, {timeout: WAIT});
  await settled(page);
}

async function deliveriesOf(page, url, want) {
  await row(page, url).locator('[data-action="deliveries"]').click();
  await page.waitForSelector('#deliveries-card:not([hidden])', {timeout: WAIT});
  return until(async () => {
    const l = await pageLook(page);
    if (want(l.deliveries)) {
      return l;
    }
    await page.click('#refresh-deliveries');
    await settled(page);
    return null;
  }, `deliveries of ${url}`);
}

async function account(which) {
  return until(async () => {
    const r = await bearer(plan.auditorToken, 'GET', '/v1/anchors/account');
    return which(r.json) && r.json;
  }, 'the account check', 30000);
}

function dashLook(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const w = q('#account-warning');
    return {warning: w.hidden ? null : {kind: w.dataset.warning, text: w.textContent, role: w.getAttribute('role')},
      address: q('#a-address').textContent, balance: q('#a-balance').textContent, wei: q('#a-balance').dataset.wei,
      left: q('#a-left').textContent, anchorsLeft: q('#a-left').dataset.anchorsLeft,
      reachable: q('#anchor-card').dataset.accountReachable, low: q('#anchor-card').dataset.accountLow};
  });
}

async function webhookSteps(admin, step) {
  const page = admin.page;
  const o = {};
  await step('2 empty', async () => ({views: await bothLanguages(page, '/admin/webhooks', 'webhooks-empty'),
    look: await pageLook(page)}));
  await step('3 refused', async () => {
    await open(page, '/admin/webhooks?lang=en');
    await addEndpoint(page, 'http://hooks.example.org/x'); // not https, host not allowed: refused, nothing sent
    const r = {look: await pageLook(page), axe: await axe(page)};
    await shot(page, 'webhooks-refused-en.png');
    return r;
  });
  await step('4 add', async () => {
    await open(page, '/admin/webhooks?lang=en');
    await addEndpoint(page, plan.hookUrl);
    const r = {look: await pageLook(page), page: await look(page), axe: await axe(page)};
    await page.click('#copy-secret');
    await page.waitForFunction(() => document.querySelector('#secret-copied').textContent, null, {timeout: WAIT});
    r.copied = await page.evaluate(() => navigator.clipboard.readText());
    await shot(page, 'webhooks-secret-en.png');
    o.secret = r.copied;
    setSecrets([o.secret]); // the receiver now checks signatures with the secret copied from the page
    await open(page, '/admin/webhooks?lang=en');
    r.afterReload = await pageLook(page);
    return r;
  });
  await step('5 delivered', async () => {
    const issued = await bearer(plan.issuerToken, 'POST', '/v1/credentials/batch', plan.csv, 'text/csv');
    await until(() => received().length >= 1, 'the receiver to get the delivery');
    await open(page, '/admin/webhooks?lang=en');
    const r = {issued: issued.status, look: await deliveriesOf(page, plan.hookUrl,
      (d) => d.some((x) => x.state === 'delivered'))};
    r.axe = await axe(page);
    await shot(page, 'webhooks-deliveries-en.png');
    await open(page, '/admin/webhooks?lang=ko');
    r.ko = await deliveriesOf(page, plan.hookUrl, (d) => d.length > 0);
    r.koAxe = await axe(page);
    await shot(page, 'webhooks-deliveries-ko.png');
    return r;
  });
  await step('6 rotate', async () => {
    await open(page, '/admin/webhooks?lang=en');
    await row(page, plan.hookUrl).locator('[data-action="rotate"]').click();
    const r = {dialog: await confirmDialog(page)};
    r.look = await pageLook(page);
    r.page = await look(page);
    r.axe = await axe(page);
    await shot(page, 'webhooks-rotated-en.png');
    o.newSecret = r.look.secret;
    setSecrets([o.secret, o.newSecret]); // each tried alone: both must verify for 24 h
    return r;
  });
  await step('7 replay', async () => {
    await open(page, '/admin/webhooks?lang=en');
    const before = received().length;
    await deliveriesOf(page, plan.hookUrl, (d) => d.length > 0);
    await page.locator('#deliveries tr[data-state="delivered"] [data-action="replay"]').first().click();
    const r = {dialog: await confirmDialog(page), page: await look(page)};
    await until(() => received().length > before, 'the replayed delivery at the receiver');
    await open(page, '/admin/webhooks?lang=en');
    r.look = await deliveriesOf(page, plan.hookUrl, (d) => d.some((x) => x.state === 'delivered' &&
      Number(x.cells[3]) >= 2));
    r.axe = await axe(page);
    await shot(page, 'webhooks-replayed-en.png');
    return r;
  });
  await step('8 delete', async () => {
    await open(page, '/admin/webhooks?lang=en');
    await row(page, plan.hookUrl).locator('[data-action="delete"]').click();
    const r = {dialog: await confirmDialog(page)};
    r.look = await pageLook(page);
    r.page = await look(page);
    return r;
  });
  await step('9 limit', async () => {
    const made = [];
    const ms = {t0: Date.now()};
    for (let i = 0; i < 64; i++) {
      const a = await bearer(plan.adminToken, 'POST', '/v1/webhooks',
        {url: `${plan.hookUrl}-filler-${i}`, events: ['credential.suspended']});
      made.push(a.json?.id);
    }
    ms.created = Date.now() - ms.t0;
    await open(page, '/admin/webhooks?lang=ko');
    ms.opened = Date.now() - ms.t0;
    await addEndpoint(page, `${plan.hookUrl}-65th`);
    ms.added = Date.now() - ms.t0;
    // axe on the add form and its 409 only: the 64-row table is the same markup axe passed
    // in the other steps, and takes it half a minute
    const a = await new AxeBuilder({page}).include('#add-card').analyze();
    const r = {look: await pageLook(page), axe: a.violations.map((x) => ({id: x.id, impact: x.impact, help: x.help})),
      statuses: made.length, ms};
    ms.axe = Date.now() - ms.t0;
    r.look.endpoints = r.look.endpoints.length;
    await shot(page, 'webhooks-409-ko.png');
    for (const id of made) {
      await bearer(plan.adminToken, 'DELETE', `/v1/webhooks/${id}`);
    }
    ms.deleted = Date.now() - ms.t0;
    return {...r, splits: ms};
  });
}

async function dashboardSteps(auditor, step) {
  const page = auditor.page;
  await step('11 low funds', async () => {
    const a = await account((x) => x?.reachable);
    const tiny = BigInt(a.gasPerAnchor) * BigInt(a.gasPriceWei) * 10n + 1n;
    await anvil('anvil_setBalance', [plan.anchorAddress, `0x${tiny.toString(16)}`]);
    const low = await account((x) => x?.low);
    const r = {account: low, views: await bothLanguages(page, '/admin/dashboard', 'dashboard-low-funds')};
    r.ko = await dashLook(page);
    await open(page, '/admin/dashboard?lang=en');
    r.en = await dashLook(page);
    return r;
  });
  await step('12 unreachable', async () => {
    writeFileSync(`${plan.work}/anvil-stop`, '');
    await until(() => existsSync(`${plan.work}/anvil-stopped`), 'anvil stopped');
    const un = await account((x) => x && x.checkedAt && !x.reachable);
    const r = {account: un, views: await bothLanguages(page, '/admin/dashboard', 'dashboard-unreachable')};
    r.ko = await dashLook(page);
    await open(page, '/admin/dashboard?lang=en');
    r.en = await dashLook(page);
    return r;
  });
}

async function run(browser, step) {
  const admin = await person(browser);
  const auditor = await person(browser);
  await admin.context.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: new URL(base).origin});
  await step('1 enroll', async () => ({admin: await enroll(admin, plan.adminInvite),
    auditor: await enroll(auditor, plan.auditorInvite)}));
  await webhookSteps(admin, step);
  await step('10 auditor', async () => ({views: await bothLanguages(auditor.page, '/admin/webhooks', 'webhooks-auditor')}));
  await dashboardSteps(auditor, step);
  await step('13 console', async () => ({admin: admin.console, auditor: auditor.console}));
  for (const p of [admin, auditor]) {
    await p.context.close();
  }
}

await lib.runSteps(run, plan.spki ? [`--ignore-certificate-errors-spki-list=${plan.spki}`] : []);
