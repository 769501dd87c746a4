// Peer for tests/integration/test_web_admin_console.py: the admin console of issue #17
// (web/admin/: the credentials list, one credential, the dashboard, the audit log, people and
// tokens, the account page) in Debian's Chromium, driven by playwright-core (executablePath; no
// browser download), signed in with passkeys made by CDP virtual authenticators. The peer
// observes; the Python test judges.
//
// Input (CA_PLAN, a JSON file):
//   {"base": the node's public URL, "artefacts": dir,
//    "adminInvite", "auditorInvite": enrollment URLs,
//    "target": {"id", "issueNumber"}: the credential the admin revokes,
//    "other": {"id", "issueNumber"}: an active one the auditor opens}
// Output: one JSON line per step, {"step": name, ...observations} or {"step", "error"}.
// A step that throws ends the run (the later steps depend on it).
import {readFileSync} from 'node:fs';
import {chromium} from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const plan = JSON.parse(readFileSync(process.env.CA_PLAN, 'utf8'));
const base = plan.base;
const args = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--metrics-recording-only',
  '--disable-domain-reliability'];
const WAIT = 20000;
const emit = (o) => console.log(JSON.stringify(o));
const REASON = 'Issued to the wrong person (console test)';

async function person(browser) {
  const context = await browser.newContext({locale: 'en-US', viewport: {width: 1280, height: 900},
    acceptDownloads: true});
  const page = await context.newPage();
  const p = {context, page, console: []};
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && p.console.push(m.text()));
  page.on('pageerror', (e) => p.console.push(`pageerror: ${e.message}`));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  p.cdp = await context.newCDPSession(page);
  await p.cdp.send('WebAuthn.enable');
  await p.cdp.send('WebAuthn.addVirtualAuthenticator', {options: {protocol: 'ctap2', transport: 'internal',
    hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true}});
  return p;
}

const ready = (page) => page.waitForSelector('main[data-state="ready"]', {timeout: WAIT});
const settled = (page) => page.waitForSelector('main[data-state="ready"], main[data-state="error"]', {timeout: WAIT});

async function open(page, path) {
  await page.goto(`${base}${path}`, {waitUntil: 'load', timeout: WAIT});
  await settled(page);
}

async function axe(page) {
  const r = await new AxeBuilder({page}).analyze();
  return r.violations.map((x) => ({id: x.id, impact: x.impact, nodes: x.nodes.length, help: x.help,
    targets: x.nodes.slice(0, 3).map((n) => n.target.join(' '))}));
}

async function shot(page, name) {
  await page.screenshot({path: `${plan.artefacts}/${name}`, fullPage: true});
}

// The page's common hooks: which page, its state, the error box, the header.
function look(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const err = q('[data-error]');
    return {
      path: location.pathname, search: location.search, hash: location.hash,
      page: document.body.dataset.page, state: q('main')?.dataset.state ?? null,
      lang: document.documentElement.lang, h1: q('h1')?.textContent ?? '',
      error: err && !err.hidden ? err.textContent : '', notice: q('#notice')?.textContent ?? '',
      nav: [...document.querySelectorAll('#console-nav a')].map((a) => ({page: a.dataset.nav,
        text: a.textContent, current: a.getAttribute('aria-current')})),
      user: q('#nav-user')?.textContent ?? null, userId: q('[data-user-id]')?.dataset.userId ?? null,
      needsRole: q('[data-needs-role]')?.dataset.needsRole ?? null,
    };
  });
}

// Both languages of the current view: axe and a full-page screenshot of each.
async function bothLanguages(page, path, name) {
  const out = {};
  for (const lang of ['en', 'ko']) {
    const sep = path.includes('?') ? '&' : '?';
    const t0 = Date.now();
    await open(page, `${path}${sep}lang=${lang}`);
    const t1 = Date.now();
    out[lang] = {look: await look(page), axe: await axe(page)};
    const t2 = Date.now();
    await shot(page, `${name}-${lang}.png`);
    out[lang].ms = {open: t1 - t0, axe: t2 - t1, shot: Date.now() - t2};
  }
  return out;
}

async function enroll(p, inviteUrl) {
  await p.page.goto(inviteUrl, {waitUntil: 'load', timeout: WAIT});
  await ready(p.page);
  await p.page.click('#enroll-button');
  await p.page.waitForSelector('main[data-state="done"]', {timeout: WAIT});
  await p.page.click('#continue');
  await p.page.waitForURL((u) => !u.pathname.endsWith('/enroll'), {timeout: WAIT});
  await settled(p.page);
  return look(p.page);
}

function listLook(page) {
  return page.evaluate(() => ({
    total: document.querySelector('#total')?.dataset.total ?? null,
    rows: [...document.querySelectorAll('#rows tr[data-id]')].map((r) => ({id: r.dataset.id,
      number: r.dataset.issueNumber, cells: [...r.cells].map((c) => c.textContent.trim()),
      href: r.querySelector('a')?.getAttribute('href')})),
    pageInfo: document.querySelector('#page-info')?.textContent ?? '',
    prevDisabled: document.querySelector('#prev')?.disabled, nextDisabled: document.querySelector('#next')?.disabled,
    csvHref: document.querySelector('#export-csv')?.getAttribute('href'),
    zipHref: document.querySelector('#export-zip')?.getAttribute('href'),
    departments: [...document.querySelectorAll('#f-department option')].map((o) => o.value).filter(Boolean),
  }));
}

function detailLook(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const shown = (s) => !!q(s) && !q(s).hidden && !q(s).closest('[hidden]');
    return {
      number: q('#c-issue-number')?.textContent, name: q('#c-name')?.textContent,
      department: q('#c-department')?.textContent, id: q('#c-id')?.textContent,
      status: q('#c-status')?.dataset.status ?? null, statusText: q('#c-status')?.textContent,
      reason: q('#c-reason')?.textContent, reasonShown: shown('#status-facts'),
      actions: shown('#actions'), revoke: shown('#revoke'), suspend: shown('#suspend'),
      reinstate: shown('#reinstate'), publicPage: q('#public-page')?.getAttribute('href'),
      pdf: q('#certificate')?.getAttribute('href'),
    };
  });
}

// A download the click starts: its name, size, first bytes (hex) and, for text, its lines.
async function download(page, selector) {
  const [d] = await Promise.all([page.waitForEvent('download', {timeout: WAIT}), page.click(selector)]);
  const path = await d.path();
  const bytes = readFileSync(path);
  const text = bytes.toString('utf8');
  return {name: d.suggestedFilename(), size: bytes.length, head: bytes.subarray(0, 4).toString('hex'),
    lines: text.split('\n').filter((l, i, a) => l.length || i < a.length - 1).length,
    header: text.split('\n')[0].replace(/^\uFEFF/, '').trim(), url: d.url()};
}

// A dialog: the reason typed, Confirm clicked.
async function confirmDialog(page, reason) {
  await page.waitForSelector('dialog#dialog[open]', {timeout: WAIT});
  const o = {title: await page.textContent('#dialog-title')};
  if (reason !== undefined) {
    await page.click('#dialog-confirm'); // empty: the browser keeps the dialog open (required)
    o.stayedOpenEmpty = await page.isVisible('dialog#dialog[open]');
    await page.fill('#reason', reason);
  }
  await page.click('#dialog-confirm');
  await page.waitForSelector('dialog#dialog', {state: 'detached', timeout: WAIT});
  return o;
}

// A bearer call from the peer (not the browser): the status.
async function bearer(token, method, path, body) {
  const r = await fetch(`${base}${path}`, {method, headers: {authorization: `Bearer ${token}`,
    'content-type': 'application/json'}, body: body ? JSON.stringify(body) : undefined});
  return r.status;
}

async function run(browser, step) {
  const admin = await person(browser);
  const auditor = await person(browser);
  await step('1 enroll', async () => ({admin: await enroll(admin, plan.adminInvite),
    auditor: await enroll(auditor, plan.auditorInvite)}));

  await step('2 list', async () => {
    const page = admin.page;
    await open(page, '/admin/');
    const o = {look: await look(page), first: await listLook(page)};
    await page.click('#next');
    await ready(page);
    o.second = await listLook(page);
    o.secondHash = (await look(page)).hash;
    await page.click('#prev');
    await ready(page);
    o.back = await listLook(page);
    await page.selectOption('#f-department', 'Legal');
    await page.click('#apply');
    await ready(page);
    o.legal = await listLook(page);
    o.legalHash = (await look(page)).hash;
    await page.reload({waitUntil: 'load'});
    await ready(page);
    o.legalReloaded = await listLook(page);
    o.legalSelect = await page.inputValue('#f-department');
    o.views = await bothLanguages(page, '/admin/', 'credentials');
    return o;
  });

  await step('3 search', async () => {
    const page = admin.page;
    await open(page, '/admin/?lang=en');
    await page.fill('#f-q', plan.target.issueNumber);
    await page.click('#apply');
    await ready(page);
    const o = {found: await listLook(page)};
    o.zip = await download(page, '#export-zip');
    await page.fill('#f-q', 'nobody-has-this-name');
    await page.click('#apply');
    await ready(page);
    o.none = await listLook(page);
    o.noneText = await page.textContent('#rows');
    await page.fill('#f-q', plan.target.issueNumber);
    await page.click('#apply');
    await ready(page);
    await Promise.all([page.waitForURL((u) => u.pathname === '/admin/credential', {timeout: WAIT}),
      page.click(`#rows tr[data-id="${plan.target.id}"] a`)]);
    await ready(page);
    o.detail = {look: await look(page), facts: await detailLook(page)};
    return o;
  });

  await step('4 revoke', async () => {
    const page = admin.page;
    const o = {};
    // An Open Badge credential has no suspension: the node's 409 detail is shown.
    await page.click('#suspend');
    o.suspendDialog = await confirmDialog(page, 'checking suspension');
    await settled(page);
    o.suspend = await look(page);
    // The confirmation dialog (axe with it open); cancelling changes nothing.
    await page.click('#revoke');
    await page.waitForSelector('dialog#dialog[open]', {timeout: WAIT});
    o.axeDialog = await axe(page);
    await shot(page, 'credential-revoke-dialog-en.png');
    await page.click('#dialog-cancel');
    await page.waitForSelector('dialog#dialog', {state: 'detached', timeout: WAIT});
    o.afterCancel = await detailLook(page);
    await page.click('#revoke');
    o.revokeDialog = await confirmDialog(page, REASON);
    await page.waitForSelector('#c-status[data-status="revoked"]', {timeout: WAIT});
    await ready(page);
    o.revoked = {look: await look(page), facts: await detailLook(page)};
    o.back = await page.getAttribute('#back', 'href');
    o.views = await bothLanguages(page, `/admin/credential?id=${encodeURIComponent(plan.target.id)}`, 'credential');
    return o;
  });

  await step('5 dashboard', async () => {
    const page = admin.page;
    const o = {views: await bothLanguages(page, '/admin/dashboard', 'dashboard')};
    await open(page, '/admin/dashboard?lang=en');
    o.look = await look(page);
    o.departments = await page.evaluate(() => [...document.querySelectorAll('#departments tbody tr')].map((r) => ({
      group: r.dataset.group, rate: r.dataset.rate, cells: [...r.cells].map((c) => c.textContent.trim()),
      bar: r.querySelector('.bar-fill')?.style.width ?? null})));
    o.courses = await page.evaluate(() => [...document.querySelectorAll('#courses tbody tr')].map((r) => ({
      group: r.dataset.group, cells: [...r.cells].map((c) => c.textContent.trim())})));
    o.totals = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('.totals dd')].map((d) => [d.id, d.textContent])));
    return o;
  });

  await step('6 export', async () => {
    const page = admin.page;
    await open(page, '/admin/?lang=en');
    return {csv: await download(page, '#export-csv'), href: await page.getAttribute('#export-csv', 'href')};
  });

  await step('7 audit', async () => {
    const page = admin.page;
    const o = {views: await bothLanguages(page, '/admin/audit', 'audit')};
    await open(page, '/admin/audit?lang=en');
    await page.waitForSelector('#audit-intact[data-audit-intact="true"], #audit-intact[data-audit-intact="false"]', {timeout: WAIT});
    o.intact = await page.getAttribute('#audit-intact', 'data-audit-intact');
    o.intactText = await page.textContent('#audit-intact');
    // To the last page, then the entries shown.
    for (let i = 0; i < 20 && !(await page.isDisabled('#audit-next')); i++) {
      await page.click('#audit-next');
      await ready(page);
    }
    o.entries = await page.evaluate(() => [...document.querySelectorAll('#audit-rows tr[data-seq]')].map((r) => ({
      seq: Number(r.dataset.seq), userId: r.dataset.userId, detail: r.dataset.detail,
      cells: [...r.cells].map((c) => c.textContent.trim())})));
    await page.fill('#a-until', '2000-01-01');
    await page.click('#audit-apply');
    await ready(page);
    o.filtered = await page.evaluate(() => document.querySelectorAll('#audit-rows tr[data-seq]').length);
    o.filteredText = await page.textContent('#audit-rows');
    return o;
  });

  await step('8 people', async () => {
    const page = admin.page;
    const o = {views: await bothLanguages(page, '/admin/people', 'people')};
    await open(page, '/admin/people?lang=en');
    const users = () => page.evaluate(() => [...document.querySelectorAll('#users tr[data-user-id]')].map((r) => ({
      id: r.dataset.userId, state: r.dataset.state, email: r.dataset.email, cells: [...r.cells].map((c) => c.textContent.trim())})));
    o.users = await users();
    // Invite a third person: the enrollment link is shown once.
    await page.fill('#invite-name', 'Carol Revoker');
    await page.fill('#invite-email', 'carol@example.com');
    await page.check('#invite-roles input[value="revoker"]');
    await page.uncheck('#invite-roles input[value="auditor"]');
    await page.click('#invite-button');
    await ready(page);
    o.enrollUrl = await page.textContent('[data-enroll-url]');
    o.inviteError = (await look(page)).error;
    o.usersAfterInvite = await users();
    const carol = o.usersAfterInvite.find((u) => u.email === 'carol@example.com');
    // Roles: Carol becomes revoker + auditor.
    await page.click(`#users tr[data-user-id="${carol.id}"] button:has-text("Roles")`);
    await page.waitForSelector('dialog#dialog[open]', {timeout: WAIT});
    await page.check('#dialog input[value="auditor"]');
    await page.click('#dialog-confirm');
    await page.waitForSelector('dialog#dialog', {state: 'detached', timeout: WAIT});
    await page.waitForFunction(() => document.querySelector('#notice').textContent !== '', null, {timeout: WAIT});
    o.rolesNotice = await page.textContent('#notice');
    // Disable (with a reason), then enable.
    await page.click(`#users tr[data-user-id="${carol.id}"] button.danger`);
    o.disableDialog = await confirmDialog(page, 'left the team');
    await page.waitForSelector(`#users tr[data-user-id="${carol.id}"][data-state="disabled"]`, {timeout: WAIT});
    o.disabled = (await users()).find((u) => u.id === carol.id);
    await page.click(`#users tr[data-user-id="${carol.id}"] button:has-text("Enable")`);
    await page.waitForSelector(`#users tr[data-user-id="${carol.id}"]:not([data-state="disabled"])`, {timeout: WAIT});
    o.enabled = (await users()).find((u) => u.id === carol.id);
    // A token: created, shown once, works, revoked here, refused.
    await page.selectOption('#token-role', 'issuer');
    await page.fill('#token-name', 'console test');
    o.expiresDefault = await page.inputValue('#token-expires');
    await page.click('#token-button');
    await ready(page);
    o.token = await page.textContent('[data-new-token]');
    o.tokenId = await page.getAttribute('[data-new-token]', 'data-token-id');
    o.tokenRow = await page.evaluate((id) => [...document.querySelector(`#tokens tr[data-token-id="${id}"]`)?.cells ?? []]
      .map((c) => c.textContent.trim()), o.tokenId);
    const digest = [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('');
    o.appendWithToken = await bearer(o.token, 'POST', '/v1/log/entries', {digests: [digest]});
    await shot(page, 'people-token-en.png');
    await page.click(`#tokens tr[data-token-id="${o.tokenId}"] button`);
    o.revokeTokenDialog = await confirmDialog(page);
    await page.waitForSelector(`#tokens tr[data-token-id="${o.tokenId}"][data-status="revoked"]`, {timeout: WAIT});
    o.tokenNotice = await page.textContent('#notice');
    o.appendAfterRevoke = await bearer(o.token, 'POST', '/v1/log/entries', {digests: [digest.replace(/^./, 'f')]});
    return o;
  });

  await step('9 account', async () => ({views: await bothLanguages(admin.page, '/admin/account', 'account')}));

  await step('10 auditor', async () => {
    const page = auditor.page;
    const detail = `/admin/credential?id=${encodeURIComponent(plan.other.id)}`;
    const o = {views: await bothLanguages(page, detail, 'credential-auditor')};
    await open(page, `${detail}&lang=en`);
    o.look = await look(page);
    o.facts = await detailLook(page);
    o.revokeButtons = await page.locator('#revoke:visible, #suspend:visible, #reinstate:visible').count();
    // A revoke sent through the auditor's session anyway (with its CSRF token and Origin).
    o.directRevoke = await page.evaluate(async (id) => {
      const s = await (await fetch('/v1/auth/session', {credentials: 'same-origin'})).json();
      const r = await fetch(`/v1/credentials/${encodeURIComponent(id)}/revoke`, {method: 'POST',
        credentials: 'same-origin', referrerPolicy: 'strict-origin',
        headers: {'content-type': 'application/json', 'x-csrf-token': s.csrf}, body: JSON.stringify({reason: 'no'})});
      return {status: r.status, body: (await r.text()).slice(0, 300)};
    }, plan.other.id);
    await open(page, '/admin/people?lang=en');
    o.people = await look(page);
    o.peopleAxe = await axe(page);
    await shot(page, 'people-auditor-en.png');
    await open(page, '/admin/?lang=en');
    o.list = await listLook(page);
    return o;
  });

  await step('11 console', async () => ({admin: admin.console, auditor: auditor.console}));
  await admin.context.close();
  await auditor.context.close();
}

const browser = await chromium.launch({executablePath: process.env.CA_CHROMIUM || '/usr/bin/chromium',
  args, timeout: 60000});
try {
  let stopped = false;
  const step = async (name, fn) => {
    if (stopped) {
      emit({step: name, error: 'skipped: an earlier step failed'});
      return;
    }
    const t0 = Date.now();
    try {
      emit({step: name, ms: 0, ...(await fn()), ms: Date.now() - t0});
    } catch (err) {
      stopped = true;
      emit({step: name, error: String(err.stack || err)});
    }
  };
  await run(browser, step);
} finally {
  await browser.close();
}
