// Peer for tests/integration/test_web_admin_auth.py: the people's sign-in pages of issue #16
// (web/admin/) in Debian's Chromium, driven by playwright-core (executablePath; no browser
// download), with CDP virtual authenticators (WebAuthn.addVirtualAuthenticator: CTAP2,
// internal, resident keys, user verification) doing real registration and sign-in
// ceremonies against the node. The peer observes; the Python test judges.
//
// Input (CA_PLAN, a JSON file):
//   {"scenario": "main" | "idle" | "https", "base": the node's public URL, "artefacts": dir,
//    "spki": optional base64 SHA-256 of the TLS server's key (Chromium trusts exactly it),
//    "cli": {"bin", "dataDir", "env"}: `credanchor user ...` run here, beside the serving node,
//    "idleWaitMs": for "idle"}
// Output: one JSON line per step, {"step": name, ...observations} or {"step", "error"}.
// A step that throws ends the scenario (the later steps depend on it).
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {chromium} from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const plan = JSON.parse(readFileSync(process.env.CA_PLAN, 'utf8'));
const base = plan.base;
const args = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--metrics-recording-only',
  '--disable-domain-reliability'];
if (plan.spki) {
  args.push(`--ignore-certificate-errors-spki-list=${plan.spki}`);
}
const WAIT = 20000;
const emit = (o) => console.log(JSON.stringify(o));
const b64u = (b64) => Buffer.from(b64, 'base64').toString('base64url');

// `credanchor user <args>` on the node's data dir: its stdout, trimmed.
function cli(...a) {
  return execFileSync(plan.cli.bin, ['user', ...a, '--data-dir', plan.cli.dataDir],
    {env: {...process.env, ...plan.cli.env}, encoding: 'utf8', timeout: 60000}).trim();
}

// A person: a browser context with one tab, a virtual authenticator in it, and what the
// tab's console and CSP reported.
async function person(browser, {locale = 'en-US', verified = true} = {}) {
  const context = await browser.newContext({locale, viewport: {width: 1100, height: 900}});
  const page = await context.newPage();
  const p = {context, page, console: [], csp: [], requests: []};
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && p.console.push(m.text()));
  page.on('pageerror', (e) => p.console.push(`pageerror: ${e.message}`));
  // Every request with the headers the browser really sent (allHeaders: Origin included).
  page.on('request', (r) => {
    const x = {url: r.url(), method: r.method(), headers: r.headers(), body: r.postData()};
    p.requests.push(x);
    r.allHeaders().then((h) => {
      x.headers = h;
    }).catch(() => {});
  });
  // Every CSP violation the document reports (init scripts are not subject to its CSP).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  p.cdp = await context.newCDPSession(page);
  await p.cdp.send('WebAuthn.enable');
  p.auth = await addAuthenticator(p, verified);
  return p;
}

async function addAuthenticator(p, verified = true) {
  const {authenticatorId} = await p.cdp.send('WebAuthn.addVirtualAuthenticator', {options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: verified, automaticPresenceSimulation: true}});
  return authenticatorId;
}

// The credential ids (base64url) the authenticator holds.
async function credentialsOf(p, id = p.auth) {
  const {credentials} = await p.cdp.send('WebAuthn.getCredentials', {authenticatorId: id});
  return credentials.map((c) => ({id: b64u(c.credentialId), resident: c.isResidentCredential,
    signCount: c.signCount}));
}

const state = (page, s) => page.waitForSelector(`main[data-state="${s}"]`, {timeout: WAIT});
const pathOf = (page) => new URL(page.url()).pathname;

// What the page shows: the test hooks and the visible messages.
async function look(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const shown = (s) => !!q(s) && !q(s).hidden;
    return {
      path: location.pathname, hash: location.hash, page: document.body.dataset.page,
      state: q('main')?.dataset.state ?? null, lang: document.documentElement.lang,
      title: document.title, h1: q('h1')?.textContent ?? '',
      error: q('[data-error]') && !q('[data-error]').hidden ? q('[data-error]').textContent : '',
      codes: [...document.querySelectorAll('[data-recovery-code]')].map((e) => e.dataset.recoveryCode),
      userId: q('[data-user-id]')?.dataset.userId ?? null,
      name: q('#user-name')?.textContent ?? null, email: q('#user-email')?.textContent ?? null,
      roles: q('#user-roles')?.textContent ?? null,
      passkeys: [...document.querySelectorAll('[data-passkey]')].map((e) => e.dataset.passkey),
      sessions: [...document.querySelectorAll('[data-session]')].map((e) => ({id: e.dataset.session,
        current: 'current' in e.dataset})),
      mustEnroll: shown('#must-enroll'), whoShown: shown('#who'), sessionsShown: shown('#sessions'),
      addShown: shown('#add-form') && shown('#passkeys'),
      invitee: q('#invitee-name')?.textContent ?? null,
      needsRole: q('[data-needs-role]')?.dataset.needsRole ?? null,
    };
  });
}

// A fetch from inside the page (same origin, its cookie): the status.
const fetchStatus = (page, path, method = 'GET') => page.evaluate(async ([u, m]) =>
  (await fetch(u, {method: m, credentials: 'same-origin', headers: {'content-type': 'application/json'},
    body: m === 'GET' ? undefined : '{}', referrerPolicy: 'strict-origin'})).status, [path, method]);

async function cookies(p) {
  return (await p.context.cookies()).map((c) => ({name: c.name, secure: c.secure, httpOnly: c.httpOnly,
    sameSite: c.sameSite, path: c.path, domain: c.domain, expires: c.expires}));
}

async function axe(page) {
  const r = await new AxeBuilder({page}).analyze();
  return r.violations.map((x) => ({id: x.id, impact: x.impact, nodes: x.nodes.length, help: x.help}));
}

async function shot(page, name) {
  await page.screenshot({path: `${plan.artefacts}/${name}`, fullPage: true});
}

// Opens the invite URL and creates the first passkey; returns the page's look when done.
async function enroll(p, url, {passkeyName = '', fail} = {}) {
  await p.page.goto(url, {waitUntil: 'load', timeout: WAIT});
  await state(p.page, 'ready');
  const before = await look(p.page);
  if (passkeyName) {
    await p.page.fill('#passkey-name', passkeyName);
  }
  await p.page.click('#enroll-button');
  await p.page.waitForSelector('main[data-state="done"], main[data-state="error"]', {timeout: WAIT});
  const after = await look(p.page);
  if (after.state !== (fail ? 'error' : 'done')) {
    const sent = [...p.requests].reverse().find((x) => x.method === 'POST')?.body;
    throw new Error(`enroll: ${after.state}: ${after.error} (sent ${sent?.slice(0, 400)})`);
  }
  return {before, after};
}

// The account page (/admin/account since issue #17 made /admin/ the console's list).
async function toAccount(p) {
  await p.page.goto(`${base}/admin/account`, {waitUntil: 'load', timeout: WAIT});
  await state(p.page, 'ready');
  return look(p.page);
}

async function signinWithPasskey(p) {
  await p.page.click('#signin-button');
  await p.page.waitForFunction(() => location.pathname !== '/admin/signin' ||
    document.querySelector('main').dataset.state === 'error', null, {timeout: WAIT});
  if (pathOf(p.page) !== '/admin/signin') {
    await state(p.page, 'ready');
  }
  return look(p.page);
}

async function signOut(p) {
  await p.page.click('#signout');
  await p.page.waitForURL((u) => u.pathname === '/admin/signin', {timeout: WAIT});
  await state(p.page, 'ready');
  return look(p.page);
}

// The assertion's credential id of the last POST /v1/auth/signin the page sent.
function lastSigninCredential(p) {
  const r = [...p.requests].reverse().find((x) => x.method === 'POST' && x.url.endsWith('/v1/auth/signin'));
  try {
    return JSON.parse(r.body).credential.id;
  } catch {
    return null;
  }
}

// ---- scenarios ------------------------------------------------------------------------------

async function mainScenario(browser, step) {
  const admin = await person(browser);
  let codes = [];
  let adminId = null;
  let inviteUrl = '';
  await step('1 invite and enroll', async () => {
    const out = cli('invite', '--email', 'admin@example.com', '--role', 'admin', '--name', 'Ada Admin');
    inviteUrl = out.split('\n').pop();
    const {before, after} = await enroll(admin, inviteUrl, {passkeyName: 'laptop'});
    codes = after.codes;
    const o = {inviteOutput: out, before, after, credentials: await credentialsOf(admin),
      axeEnroll: await axe(admin.page)};
    await shot(admin.page, 'enroll-codes-en.png');
    await admin.page.click('#continue');
    await admin.page.waitForURL((u) => u.pathname.startsWith('/admin') && !u.pathname.endsWith('enroll'),
      {timeout: WAIT});
    await state(admin.page, 'ready');
    o.home = await look(admin.page);
    o.account = await toAccount(admin);
    adminId = o.account.userId;
    o.cookies = await cookies(admin);
    o.axeAccount = await axe(admin.page);
    await shot(admin.page, 'account-en.png');
    await admin.page.goto(`${admin.page.url().split('?')[0]}?lang=ko`, {waitUntil: 'load'});
    await state(admin.page, 'ready');
    o.accountKo = await look(admin.page);
    o.axeAccountKo = await axe(admin.page);
    await shot(admin.page, 'account-ko.png');
    o.cliList = cli('list', '--json');
    return o;
  });
  await step('1b the used invite again', async () => {
    const again = await person(browser, {locale: 'ko-KR'});
    await again.page.goto(inviteUrl, {waitUntil: 'load'});
    await state(again.page, 'error');
    const o = {look: await look(again.page), axe: await axe(again.page)};
    await shot(again.page, 'enroll-used-ko.png');
    await again.page.goto(`${base}/admin/enroll`, {waitUntil: 'load'});
    await state(again.page, 'error');
    o.noFragment = await look(again.page);
    o.console = again.console;
    await again.context.close();
    return o;
  });
  await step('2 sign out, sign in', async () => {
    const o = {signedOut: await signOut(admin), cookiesAfterSignout: await cookies(admin)};
    o.sessionAfterSignout = await fetchStatus(admin.page, '/v1/auth/session');
    await admin.page.goto(`${base}/admin/signin?lang=en`, {waitUntil: 'load'});
    await state(admin.page, 'ready');
    o.signinEn = await look(admin.page);
    o.axeSignin = await axe(admin.page);
    await shot(admin.page, 'signin-en.png');
    await admin.page.goto(`${base}/admin/signin?lang=ko`, {waitUntil: 'load'});
    await state(admin.page, 'ready');
    o.signinKo = await look(admin.page);
    o.axeSigninKo = await axe(admin.page);
    await shot(admin.page, 'signin-ko.png');
    await admin.page.goto(`${base}/admin/signin`, {waitUntil: 'load'});
    await state(admin.page, 'ready');
    o.signedIn = await signinWithPasskey(admin);
    o.usedCredential = lastSigninCredential(admin);
    o.credentials = await credentialsOf(admin);
    return o;
  });
  await step('3 a second passkey', async () => {
    // The first authenticator goes; a second, empty one takes its place.
    const first = await credentialsOf(admin);
    await toAccount(admin);
    await admin.cdp.send('WebAuthn.removeVirtualAuthenticator', {authenticatorId: admin.auth});
    admin.auth = await addAuthenticator(admin);
    await admin.page.fill('#passkey-name', 'phone');
    await admin.page.click('#add-passkey');
    await admin.page.waitForFunction(() => document.querySelector('#notice').textContent ||
      document.querySelector('[data-error]:not([hidden])'), null, {timeout: WAIT});
    await state(admin.page, 'ready');
    const o = {first, added: await look(admin.page), second: await credentialsOf(admin)};
    o.optionsBody = await lastRequestHeaders(admin, '/v1/auth/passkeys/options');
    o.signedOut = await signOut(admin);
    o.signedIn = await signinWithPasskey(admin);
    o.usedCredential = lastSigninCredential(admin);
    return o;
  });
  await step('4 a recovery code', async () => {
    const o = {};
    o.signedOut = await signOut(admin);
    await admin.cdp.send('WebAuthn.clearCredentials', {authenticatorId: admin.auth});
    o.cleared = await credentialsOf(admin);
    o.noPasskey = await signinWithPasskey(admin);
    await admin.page.fill('#recover-email', 'admin@example.com');
    await admin.page.fill('#recover-code', codes[0]);
    await admin.page.click('#recover-button');
    await admin.page.waitForURL((u) => u.pathname !== '/admin/signin', {timeout: WAIT});
    await state(admin.page, 'ready');
    o.recovered = await look(admin.page);
    o.passkeysWhileRecovering = await fetchStatus(admin.page, '/v1/auth/passkeys');
    o.sessionsWhileRecovering = await fetchStatus(admin.page, '/v1/sessions');
    o.axeMustEnroll = await axe(admin.page);
    await shot(admin.page, 'account-must-enroll-en.png');
    await admin.page.click('#add-passkey');
    await admin.page.waitForFunction(() => document.querySelector('#notice').textContent ||
      document.querySelector('[data-error]:not([hidden])'), null, {timeout: WAIT});
    await state(admin.page, 'ready');
    o.enrolled = await look(admin.page);
    o.credentials = await credentialsOf(admin);
    o.passkeysAfter = await fetchStatus(admin.page, '/v1/auth/passkeys');
    o.signedOut = await signOut(admin);
    await admin.page.fill('#recover-email', 'admin@example.com');
    await admin.page.fill('#recover-code', codes[0]);
    await admin.page.click('#recover-button');
    await state(admin.page, 'error');
    o.codeAgain = await look(admin.page);
    o.signedIn = await signinWithPasskey(admin);
    return o;
  });
  await step('5 a disabled user', async () => {
    const out = cli('invite', '--email', 'bob@example.com', '--role', 'issuer', '--name', 'Bob Issuer');
    // Bob's authenticator first fails user verification: the page says the step was
    // cancelled; with verification back, the same invite still works.
    const bob = await person(browser, {verified: false});
    const cancelled = await enroll(bob, out.split('\n').pop(), {fail: true});
    await bob.cdp.send('WebAuthn.setUserVerified', {authenticatorId: bob.auth, isUserVerified: true});
    await bob.page.click('#enroll-button');
    await state(bob.page, 'done');
    const o = {cancelled: cancelled.after, enrolled: await look(bob.page)};
    await bob.page.click('#continue');
    await bob.page.waitForURL((u) => !u.pathname.endsWith('enroll'), {timeout: WAIT});
    await state(bob.page, 'ready');
    o.home = await look(bob.page);
    o.account = await toAccount(bob);
    o.disableOutput = cli('disable', o.account.userId, '--reason', 'left the company');
    o.sessionApi = await fetchStatus(bob.page, '/v1/auth/session');
    o.sessionsApi = await fetchStatus(bob.page, '/v1/sessions');
    await bob.page.reload({waitUntil: 'load'});
    await bob.page.waitForURL((u) => u.pathname === '/admin/signin', {timeout: WAIT});
    await state(bob.page, 'ready');
    o.afterReload = await look(bob.page);
    o.signin = await signinWithPasskey(bob);
    o.console = bob.console;
    o.adminStillWorks = await fetchStatus(admin.page, '/v1/auth/session');
    await bob.context.close();
    return o;
  });
  await step('8 console', async () => ({console: admin.console, adminId}));
  await step('codes', async () => ({codes}));
  await admin.context.close();
}

// The CSRF token and Origin the page's last request to path carried.
async function lastRequestHeaders(p, path) {
  const r = [...p.requests].reverse().find((x) => x.url.endsWith(path));
  return r ? {sentCsrf: r.headers['x-csrf-token'] ?? null, origin: r.headers.origin ?? null} : null;
}

async function idleScenario(browser, step) {
  const p = await person(browser);
  await step('6 enroll', async () => {
    const {after} = await enroll(p, cli('invite', '--email', 'idle@example.com', '--role', 'auditor'));
    await p.page.click('#continue');
    await p.page.waitForURL((u) => !u.pathname.endsWith('enroll'), {timeout: WAIT});
    await state(p.page, 'ready');
    return {after, home: await look(p.page), account: await toAccount(p)};
  });
  await step('6 idle', async () => {
    const t0 = Date.now();
    await p.page.waitForTimeout(plan.idleWaitMs);
    await p.page.waitForURL((u) => u.pathname === '/admin/signin', {timeout: WAIT}).catch(() => {});
    return {waitedMs: Date.now() - t0, path: pathOf(p.page),
      session: await fetchStatus(p.page, '/v1/auth/session')};
  });
  await p.context.close();
}

async function httpsScenario(browser, step) {
  const p = await person(browser);
  await step('7 enroll', async () => {
    const url = cli('invite', '--email', 'tls@example.com', '--role', 'admin').split('\n').pop();
    const {after} = await enroll(p, url);
    await p.page.click('#continue');
    await p.page.waitForURL((u) => !u.pathname.endsWith('enroll'), {timeout: WAIT});
    await state(p.page, 'ready');
    return {url, after, home: await look(p.page), account: await toAccount(p), cookies: await cookies(p)};
  });
  await step('7 sign out, sign in', async () => {
    const o = {signedOut: await signOut(p), cookiesAfterSignout: await cookies(p)};
    o.signedIn = await signinWithPasskey(p);
    o.cookies = await cookies(p);
    o.origins = p.requests.filter((r) => r.method === 'POST').map((r) => r.headers.origin ?? null);
    o.console = p.console;
    await shot(p.page, 'console-https.png');
    return o;
  });
  await p.context.close();
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
    try {
      emit({step: name, ...(await fn())});
    } catch (err) {
      stopped = true;
      emit({step: name, error: String(err.stack || err)});
    }
  };
  const scenarios = {main: mainScenario, idle: idleScenario, https: httpsScenario};
  await scenarios[plan.scenario](browser, step);
} finally {
  await browser.close();
}
