// Peer for tests/integration/test_web_admin_console.py: the admin console of issue #17
// (web/admin/: the roster upload, the credentials list, one credential, the dashboard, the
// audit log, people and tokens, the account page) in Debian's Chromium, driven by
// playwright-core (executablePath; no browser download), signed in with passkeys made by CDP
// virtual authenticators. The peer observes; the Python test judges.
//
// Input (CA_PLAN, a JSON file):
//   {"base": the node's public URL, "artefacts": dir, "tmp": a dir for downloads,
//    "adminInvite", "auditorInvite", "issuerInvite": enrollment URLs,
//    "upload": {"bad", "fixed", "big", "png", "noHeader": files to upload, "template": a
//               template name, "targetName", "otherName": two participants of the roster}}
// The roster is issued through the upload page; then "target" (the credential the admin
// revokes) and "other" (an active one the auditor opens) are found by their names.
// Output: one JSON line per step, {"step": name, ...observations} or {"step", "error"}.
// A step that throws ends the run (the later steps depend on it).
import {readFileSync} from 'node:fs';
import * as lib from './console_lib.mjs';

const {WAIT, emit, person, ready, settled, axe, look, enroll} = lib;
const plan = JSON.parse(readFileSync(process.env.CA_PLAN, 'utf8'));
const base = plan.base;
const REASON = 'Issued to the wrong person (console test)';
const open = (page, path) => lib.open(page, base, path);
const shot = (page, name) => lib.shot(page, plan.artefacts, name);
const bothLanguages = (page, path, name) => lib.bothLanguages(page, base, path, plan.artefacts, name);

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

// The sortable Issued header (issue #17): its aria-sort, its arrow and its button's name.
function sortLook(page) {
  return page.evaluate(() => ({
    ariaSort: document.querySelector('#th-issued')?.getAttribute('aria-sort') ?? null,
    sorted: [...document.querySelectorAll('th[aria-sort]')].length,
    mark: document.querySelector('#th-issued .sort-mark')?.textContent.trim() ?? null,
    button: document.querySelector('#th-issued button')?.textContent.trim() ?? null,
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

// A download the click starts: its name, size, first bytes (hex) and, for text, its lines;
// kept at saveTo when given.
async function download(page, selector, saveTo) {
  const [d] = await Promise.all([page.waitForEvent('download', {timeout: 60000}), page.click(selector)]);
  const path = await d.path();
  if (saveTo) {
    await d.saveAs(saveTo);
  }
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

// ---- the roster upload ----------------------------------------------------------------------

function uploadLook(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const shown = (s) => !!q(s) && !q(s).hidden;
    const counts = (ids) => Object.fromEntries(ids.map((id) => [id, q(`#${id}`)?.dataset.count ?? null]));
    const rows = (s) => [...document.querySelectorAll(`${s} tr[data-line]`)].map((r) => ({
      line: Number(r.dataset.line), externalId: r.dataset.externalId, cells: [...r.cells].map((c) => c.textContent.trim())}));
    const card = q('#summary-card');
    return {
      fileInfo: q('#file-info')?.textContent ?? null, fileRows: q('#file-info')?.dataset.rows ?? null,
      checkDisabled: q('#check')?.disabled ?? null,
      templates: [...document.querySelectorAll('#template option')].map((o) => ({value: o.value,
        text: o.textContent, disabled: o.disabled})),
      check: shown('#check-card') ? {...counts(['c-rows', 'c-new', 'c-existing', 'c-enrolled', 'c-failed']),
        errors: rows('#check-error-rows'), next: q('#check-next').textContent, issueShown: shown('#issue')} : null,
      summary: shown('#summary-card') ? {...counts(['s-issued', 's-existing', 's-enrolled', 's-failed']),
        errors: rows('#summary-error-rows'), stopped: card.dataset.stopped, stoppedText: q('#summary-stopped').textContent,
        done: Number(card.dataset.done), total: Number(card.dataset.total),
        listHref: shown('#to-list') ? q('#to-list').getAttribute('href') : null} : null,
    };
  });
}

// A file chosen in the page's file input: what the page made of it.
async function chooseFile(page, path) {
  await page.setInputFiles('#roster', path);
  await page.waitForFunction(() => document.querySelector('#file-info')?.dataset.rows ||
    document.querySelector('[data-error]:not([hidden])'), null, {timeout: WAIT});
  return {look: await look(page), upload: await uploadLook(page)};
}

// Check (the dry run): the check's card or the error.
async function checkFile(page) {
  await page.click('#check');
  await page.waitForFunction(() => !document.querySelector('#check-card').hidden ||
    document.querySelector('[data-error]:not([hidden])'), null, {timeout: 60000});
  return {look: await look(page), upload: await uploadLook(page)};
}

// Issue: every value the progress bar showed, and the summary. With cancel, Cancel is pressed
// once the bar shows (the test holds each request back, so the first is still in flight).
async function issueAll(page, {cancel = false} = {}) {
  await page.evaluate(() => {
    window.progressSeen = [];
    if (!window.progressWatched) {
      window.progressWatched = true;
      const bar = document.querySelector('#issue-progress');
      new MutationObserver(() => window.progressSeen.push({value: bar.value, max: bar.max,
        role: bar.getAttribute('role') || bar.tagName.toLowerCase(), shown: !document.querySelector('#progress-card').hidden,
        text: document.querySelector('#progress-text').textContent}))
        .observe(bar, {attributes: true, attributeFilter: ['value', 'max']});
    }
  });
  const t0 = Date.now();
  await page.click('#issue');
  const o = {};
  if (cancel) {
    await page.waitForSelector('#progress-card:not([hidden])', {timeout: WAIT});
    o.progressAxe = await axe(page);
    await shot(page, 'upload-progress-en.png');
    await page.click('#cancel-issue');
  }
  await page.waitForSelector('#summary-card:not([hidden])', {timeout: 120000});
  o.ms = Date.now() - t0;
  return {...o, look: await look(page), upload: await uploadLook(page),
    progress: await page.evaluate(() => window.progressSeen)};
}

// A credential found through the admin's session by its recipient's name (the node keeps no
// email unless credentials.store_email).
const findByName = (page, name) => page.evaluate(async (n) => {
  const r = await fetch(`/v1/credentials?q=${encodeURIComponent(n)}`, {credentials: 'same-origin'});
  const c = r.ok ? (await r.json()).credentials?.find((x) => x.name === n) : null;
  return c ? {id: c.id, issueNumber: c.issueNumber} : null;
}, name);

// A bearer call from the peer (not the browser): the status.
async function bearer(token, method, path, body) {
  const r = await fetch(`${base}${path}`, {method, headers: {authorization: `Bearer ${token}`,
    'content-type': 'application/json'}, body: body ? JSON.stringify(body) : undefined});
  return r.status;
}

async function run(browser, step) {
  const admin = await person(browser);
  const auditor = await person(browser);
  const issuer = await person(browser);
  await step('1 enroll', async () => ({admin: await enroll(admin, plan.adminInvite),
    auditor: await enroll(auditor, plan.auditorInvite), issuer: await enroll(issuer, plan.issuerInvite)}));

  await step('1b upload', async () => {
    const page = admin.page;
    const up = plan.upload;
    const o = {views: await bothLanguages(page, '/admin/upload', 'upload')};
    // The roster with three bad rows, in Korean: the errors named, nothing issued.
    await open(page, '/admin/upload?lang=ko');
    o.badFile = await chooseFile(page, up.bad);
    o.bad = await checkFile(page);
    o.badAxe = await axe(page);
    await shot(page, 'upload-check-ko.png');
    // One template for every row (?template=): the unknown course names another achievement.
    await page.selectOption('#template', up.template);
    o.badForced = await checkFile(page);
    // The fixed roster, in English: 166 new, issued CHUNK rows at a time.
    await open(page, '/admin/upload?lang=en');
    o.fixedFile = await chooseFile(page, up.fixed);
    o.fixed = await checkFile(page);
    await shot(page, 'upload-check-en.png');
    o.issued = await issueAll(page);
    o.summaryAxe = await axe(page);
    await shot(page, 'upload-summary-en.png');
    // The same file again: all already issued. First Cancel (each request held back 1.5 s),
    // then the whole file.
    await page.click('#again');
    o.againFile = await chooseFile(page, up.fixed);
    o.again = await checkFile(page);
    const batch = (u) => u.pathname === '/v1/credentials/batch';
    await page.route(batch, async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    o.cancelled = await issueAll(page, {cancel: true});
    await page.unroute(batch);
    await page.click('#again');
    await chooseFile(page, up.fixed);
    o.again2 = await checkFile(page);
    o.reissued = await issueAll(page);
    plan.target = await findByName(page, up.targetName);
    plan.other = await findByName(page, up.otherName);
    o.target = plan.target;
    o.other = plan.other;
    if (!plan.target || !plan.other) {
      throw new Error(`the roster's credentials were not found (${JSON.stringify(o.reissued.upload)})`);
    }
    return o;
  });

  await step('1c issuer', async () => {
    const page = issuer.page;
    const o = {home: await look(page)};
    await open(page, '/admin/upload?lang=en');
    o.templates = (await uploadLook(page)).templates;
    o.big = await chooseFile(page, plan.upload.big);
    await shot(page, 'upload-too-big-en.png');
    o.png = await chooseFile(page, plan.upload.png);
    o.pngAxe = await axe(page);
    await shot(page, 'upload-not-text-en.png');
    o.noHeaderFile = await chooseFile(page, plan.upload.noHeader);
    o.noHeader = await checkFile(page);
    await open(page, '/admin/?lang=en'); // the console's home sends an issuer to the upload
    await page.waitForURL((u) => u.pathname === '/admin/upload', {timeout: WAIT});
    await ready(page);
    o.homeAgain = await look(page);
    await open(page, '/admin/dashboard?lang=en');
    o.dashboard = await look(page);
    return o;
  });

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
    // Sorting (issue #17): the Issued header's button turns the filtered list newest first.
    o.sortBefore = await sortLook(page);
    await page.click('#sort-issued');
    await ready(page);
    o.newest = await listLook(page);
    o.newestSort = await sortLook(page);
    o.newestHash = (await look(page)).hash;
    o.newestAxe = await axe(page);
    await page.reload({waitUntil: 'load'});
    await ready(page);
    o.newestReloaded = {list: await listLook(page), sort: await sortLook(page)};
    await page.click('#sort-issued');
    await ready(page);
    o.oldest = await listLook(page);
    o.oldestSort = await sortLook(page);
    o.oldestHash = (await look(page)).hash;
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
    o.pdfHrefKo = await page.getAttribute('#report-pdf', 'href');
    await open(page, '/admin/dashboard?lang=en');
    o.anchor = await page.evaluate(() => {
      const q = (s) => document.querySelector(s);
      return {shown: !q('#anchor-card').hidden, state: q('#anchor-card').dataset.anchorState,
        stateText: q('#h-anchor-state').textContent, logSize: q('#h-log-size').dataset.treeSize,
        logSizeText: q('#h-log-size').textContent, treeSize: q('#h-anchor-size').textContent,
        tx: q('#h-anchor-tx').textContent, warning: q('#anchor-warning').dataset.warning,
        warningShown: !q('#anchor-warning').hidden, warningText: q('#anchor-warning').textContent};
    });
    o.health = await page.evaluate(async () => (await fetch('/v1/health')).json());
    o.pdfHref = await page.getAttribute('#report-pdf', 'href');
    o.pdf = await download(page, '#report-pdf');
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
    return {csv: await download(page, '#export-csv'), href: await page.getAttribute('#export-csv', 'href'),
      xlsx: await download(page, '#export-xlsx', `${plan.tmp}/credentials.xlsx`),
      xlsxHref: await page.getAttribute('#export-xlsx', 'href'),
      zip: await download(page, '#export-zip', `${plan.tmp}/certificates.zip`)};
  });

  await step('7 audit', async () => {
    const page = admin.page;
    const o = {views: await bothLanguages(page, '/admin/audit', 'audit')};
    await open(page, '/admin/audit?lang=en');
    await page.waitForSelector('#audit-intact[data-audit-intact="true"], #audit-intact[data-audit-intact="false"]', {timeout: WAIT});
    o.intact = await page.getAttribute('#audit-intact', 'data-audit-intact');
    o.intactText = await page.textContent('#audit-intact');
    const entries = () => page.evaluate(() => [...document.querySelectorAll('#audit-rows tr[data-seq]')].map((r) => ({
      seq: Number(r.dataset.seq), userId: r.dataset.userId, detail: r.dataset.detail,
      cells: [...r.cells].map((c) => c.textContent.trim())})));
    // The page opens on the newest entries; Previous goes back, Next returns.
    o.entries = await entries();
    o.nextDisabled = await page.isDisabled('#audit-next');
    o.prevDisabled = await page.isDisabled('#audit-prev');
    if (!o.prevDisabled) {
      await page.click('#audit-prev');
      await ready(page);
      o.previous = (await entries()).map((e) => e.seq);
      await page.click('#audit-next');
      await ready(page);
      o.nextAgain = (await entries()).map((e) => e.seq);
    }
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

  await step('11 console', async () => ({admin: admin.console, auditor: auditor.console, issuer: issuer.console}));
  await admin.context.close();
  await auditor.context.close();
  await issuer.context.close();
}

await lib.runSteps(run);
