// What every browser peer of the admin console (web/admin/, issue #17) does the same way:
// Debian's Chromium through playwright-core (executablePath; never a browser download), one
// browser context per person with a CDP virtual authenticator for passkeys, script errors and
// CSP violations collected from the console, axe, screenshots, the enrolment ceremony, and
// the step runner whose JSON lines the Python tests judge. Each peer keeps only what is its
// own: its plan, its steps and the views it reads.
import {chromium} from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

export const WAIT = 20000;
export const emit = (o) => console.log(JSON.stringify(o));

const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--metrics-recording-only',
  '--disable-domain-reliability'];

// CA_CHROMIUM overrides Debian's /usr/bin/chromium; extraArgs adds switches a test needs (the
// tests behind nginx pin their test certificate's key with --ignore-certificate-errors-spki-list).
export function launchBrowser(extraArgs = []) {
  return chromium.launch({executablePath: process.env.CA_CHROMIUM || '/usr/bin/chromium',
    args: [...ARGS, ...extraArgs], timeout: 60000});
}

// A person: their own context (cookies), page and virtual authenticator. p.console collects
// console errors and warnings, uncaught exceptions and CSP violations.
export async function person(browser, {locale = 'en-US', acceptDownloads = true} = {}) {
  const context = await browser.newContext({locale, viewport: {width: 1280, height: 900}, acceptDownloads});
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

// The console's pages mark <main data-state> "ready" once drawn, "error" when they could not be.
export const ready = (page) => page.waitForSelector('main[data-state="ready"]', {timeout: WAIT});
export const settled = (page) =>
  page.waitForSelector('main[data-state="ready"], main[data-state="error"]', {timeout: WAIT});

export async function open(page, base, path) {
  await page.goto(`${base}${path}`, {waitUntil: 'load', timeout: WAIT});
  await settled(page);
}

export async function axe(page) {
  const r = await new AxeBuilder({page}).analyze();
  return r.violations.map((x) => ({id: x.id, impact: x.impact, nodes: x.nodes.length, help: x.help,
    targets: x.nodes.slice(0, 3).map((n) => n.target.join(' '))}));
}

export async function shot(page, dir, name) {
  await page.screenshot({path: `${dir}/${name}`, fullPage: true});
}

// The hooks every console page has: which page, its state, the error box (#error), the
// notice, the header's navigation and person, and the "needs a role" marker.
export function look(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const err = q('#error');
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

// A view in English and Korean: look, axe and a full-page screenshot (<name>-<lang>.png) of each.
export async function bothLanguages(page, base, path, dir, name) {
  const out = {};
  for (const lang of ['en', 'ko']) {
    const sep = path.includes('?') ? '&' : '?';
    const t0 = Date.now();
    await open(page, base, `${path}${sep}lang=${lang}`);
    const t1 = Date.now();
    out[lang] = {look: await look(page), axe: await axe(page)};
    const t2 = Date.now();
    await shot(page, dir, `${name}-${lang}.png`);
    out[lang].ms = {open: t1 - t0, axe: t2 - t1, shot: Date.now() - t2};
  }
  return out;
}

// Enrolment from an invitation link: create the passkey, pass the recovery codes, land signed in.
export async function enroll(p, inviteUrl) {
  await p.page.goto(inviteUrl, {waitUntil: 'load', timeout: WAIT});
  await ready(p.page);
  await p.page.click('#enroll-button');
  await p.page.waitForSelector('main[data-state="done"]', {timeout: WAIT});
  await p.page.click('#continue');
  await p.page.waitForURL((u) => !u.pathname.endsWith('/enroll'), {timeout: WAIT});
  await settled(p.page);
  return look(p.page);
}

// Runs run(browser, step) in one browser, always closed. step(name, fn) prints
// {"step": name, ...fn's result, "ms"}; after a step throws, the rest print "skipped" (they
// depend on it), so the Python test sees which step broke and why.
export async function runSteps(run, extraArgs = []) {
  const browser = await launchBrowser(extraArgs);
  try {
    let stopped = false;
    const step = async (name, fn) => {
      if (stopped) {
        emit({step: name, error: 'skipped: an earlier step failed'});
        return;
      }
      const t0 = Date.now();
      try {
        emit({step: name, ...(await fn()), ms: Date.now() - t0});
      } catch (err) {
        stopped = true;
        emit({step: name, error: String(err.stack || err)});
      }
    };
    await run(browser, step);
  } finally {
    await browser.close();
  }
}
