// Browser side of bench/console_list.sh (issue #17: "the first page in under 200 ms on this
// machine"): Debian's Chromium through playwright-core (tests/interop/console_lib.mjs), signed
// in as an auditor with a passkey from a CDP virtual authenticator, times the console's first
// page of the issuance list from navigation start to the rows drawn.
//
// "Drawn" is measured inside the page: an init script's MutationObserver notes
// performance.now() (ms since the navigation started) the first time main[data-state=ready]
// holds the expected rows (#rows tr[data-id]); no polling from outside adds to it.
// cold: a new browser context for each run (empty HTTP cache, new connection; the session
//       cookie carried over), so every module and stylesheet is fetched;
// warm: the same tab navigated again (cache and connection kept).
//
// Input (CA_PLAN, a JSON file): {"base", "invite" (enrollment URL), "runs", "rows" (rows on
// the first page), "views": [{"name", "path", "rows"?}], "snapshot": {"base", "path"} (optional: the
// nginx copy, timed the same way), "snapshotTo": a file to save the rendered list in}.
// Output: JSON lines {"view", "mode", "ms": [..], "requests"} and {"step", ...}.
import {readFileSync, writeFileSync} from 'node:fs';
import * as lib from '../tests/interop/console_lib.mjs';

const plan = JSON.parse(readFileSync(process.env.CA_PLAN, 'utf8'));
const {emit, person, enroll, WAIT} = lib;

function marker(want) {
  return `(() => {
    const want = ${Number(want)};
    const check = () => {
      const main = document.querySelector('main');
      if (window.__rowsAt === undefined && main && main.dataset.state === 'ready' &&
          document.querySelectorAll('#rows tr[data-id]').length >= want) {
        window.__rowsAt = performance.now();
        obs.disconnect();
      }
    };
    const obs = new MutationObserver(check);
    obs.observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-state']});
  })();`;
}

async function timed(page, url, want) {
  let requests = 0;
  const count = () => requests++;
  page.on('request', count);
  await page.goto(url, {waitUntil: 'commit', timeout: WAIT});
  await page.waitForFunction(() => window.__rowsAt !== undefined, null, {timeout: WAIT, polling: 50});
  const ms = await page.evaluate(() => window.__rowsAt);
  const shown = await page.evaluate(() => document.querySelectorAll('#rows tr[data-id]').length);
  // Where the time went: each request's start and end (ms from navigation start).
  const timeline = await page.evaluate(() => [
    ...performance.getEntriesByType('navigation').map((e) => ['document', 0, e.responseEnd, e.domContentLoadedEventEnd]),
    ...performance.getEntriesByType('resource').map((e) => [new URL(e.name).pathname + new URL(e.name).search,
      Math.round(e.startTime), Math.round(e.responseEnd)])]);
  page.off('request', count);
  if (shown < want) {
    throw new Error(`${url}: ${shown} rows, wanted ${want}`);
  }
  return {ms, requests, timeline};
}

async function series(browser, state, view, base, mode) {
  const out = {view: view.name, mode, ms: [], requests: []};
  const url = `${base}${view.path}`;
  const fresh = async () => {
    const context = await browser.newContext({storageState: state, viewport: {width: 1280, height: 900}});
    await context.addInitScript(marker(view.rows ?? plan.rows));
    return context;
  };
  let context = await fresh();
  let page = await context.newPage();
  const want = view.rows ?? plan.rows;
  await timed(page, url, want); // the first load of a series is not counted (JIT, sockets)
  for (let i = 0; i < plan.runs; i++) {
    if (mode === 'cold') {
      await context.close();
      context = await fresh();
      page = await context.newPage();
    } else {
      // Away and back: a new document each time (a #hash-only change would not navigate).
      await page.goto('about:blank');
    }
    const r = await timed(page, url, want);
    out.ms.push(Math.round(r.ms * 10) / 10);
    out.requests.push(r.requests);
    out.timeline = r.timeline;
  }
  await context.close();
  emit(out);
}

async function run(browser, step) {
  const aud = await person(browser);
  await step('enroll', async () => ({auditor: await enroll(aud, plan.invite)}));
  const state = await aud.context.storageState();
  await step('snapshot', async () => {
    // The rendered first page as a static file for the nginx peer: scripts removed (the floor
    // is drawing that HTML and its stylesheets, with nothing to run).
    await lib.open(aud.page, plan.base, plan.views[0].path);
    await aud.page.waitForSelector('#rows tr[data-id]', {timeout: WAIT});
    const html = await aud.page.evaluate(() => {
      const doc = document.documentElement.cloneNode(true);
      doc.querySelectorAll('script, link[rel=modulepreload]').forEach((s) => s.remove());
      return `<!doctype html>\n${doc.outerHTML}`;
    });
    writeFileSync(plan.snapshotTo, html);
    const css = await aud.page.evaluate(() => [...document.querySelectorAll('link[rel=stylesheet]')]
      .map((l) => new URL(l.href).pathname));
    return {bytes: html.length, css};
  });
  for (const view of plan.views) {
    for (const mode of ['cold', 'warm']) {
      await step(`${view.name} ${mode}`, async () => {
        await series(browser, state, view, plan.base, mode);
        return {};
      });
    }
  }
  if (plan.snapshot) {
    for (const mode of ['cold', 'warm']) {
      await step(`snapshot ${mode}`, async () => {
        await series(browser, {cookies: [], origins: []}, {name: 'nginx snapshot', path: plan.snapshot.path},
          plan.snapshot.base, mode);
        return {};
      });
    }
  }
  await step('console', async () => ({auditor: aud.console}));
}

await lib.runSteps(run);
