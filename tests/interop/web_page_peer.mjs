// Peer for tests/integration/test_web_page.py: the credential's public page (issue #15, SPEC
// §8) in Debian's Chromium, driven by playwright-core (executablePath; no browser download),
// started here and always closed.
//
// Input (CA_PLAN, a JSON file):
//   {"artefacts": dir for screenshots, "spki": optional base64 SHA-256 of the TLS server's
//    public key (Chromium then trusts exactly that key: the nginx front's test certificate),
//    "visits": [{"name", "url", "locale", "screenshot", "axe", "forge", "fakeVerification",
//                "otherProof", "tamperScript", "rpc"}]}
// where forge names one in-flight rewrite of the node's (or the chain's) answers:
//   "credential"  the credential's payload changed, its signature kept
//   "status"      the status list's bit for this credential flipped, its proof kept
//   "proof"       the inclusion proof of another credential (otherProof: its proof URL)
//   "checkpoint"  the checkpoint re-signed by another Ed25519 key under the log's name
//   "calldata"    the anchor transaction's calldata naming another root
// fakeVerification answers every /verification request with "verified" (the page must not
// ask; the test checks it never did), tamperScript changes one byte of verify.mjs (SRI must
// stop it), rpc types a JSON-RPC URL into the page's field and checks again, and
// replaceCredential serves the given compact JWT as the credential.
// Output: one JSON line per visit: {"name","status","verdict","checks","durationMs","banner",
// "title","lang","requests","consoleErrors","axe","linkedin","headers"}.
import {generateKeyPairSync, sign} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {gunzipSync, gzipSync} from 'node:zlib';
import {chromium} from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const plan = JSON.parse(readFileSync(process.env.CA_PLAN, 'utf8'));
const b64u = (b) => Buffer.from(b).toString('base64url');

const args = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--metrics-recording-only',
  '--disable-domain-reliability'];
if (plan.spki) {
  args.push(`--ignore-certificate-errors-spki-list=${plan.spki}`);
}
const browser = await chromium.launch({executablePath: process.env.CA_CHROMIUM || '/usr/bin/chromium',
  args, timeout: 60000});

// The in-flight rewrites, each given the original response's JSON (or text).
const forgeries = {
  credential: {match: (u) => /\/v1\/credentials\/[^/?]+$/.test(u.pathname), rewrite: (text, type) => {
    if (type.startsWith('application/vc+jwt')) {
      const [h, p, s] = text.trim().split('.');
      const pl = JSON.parse(Buffer.from(p, 'base64url'));
      pl.credentialSubject.achievement.name = 'Forged Achievement';
      return `${h}.${b64u(JSON.stringify(pl))}.${s}`;
    }
    const doc = JSON.parse(text);
    doc.credentialSubject.achievement.name = 'Forged Achievement';
    return JSON.stringify(doc);
  }},
  status: {match: (u) => u.pathname.includes('/v1/status/'), rewrite: (text, type, visit) => {
    const list = JSON.parse(text);
    const bits = gunzipSync(Buffer.from(list.credentialSubject.encodedList.slice(1), 'base64url'));
    const i = visit.statusIndex;
    bits[Math.floor(i / 8)] ^= 0x80 >> (i % 8);
    list.credentialSubject.encodedList = 'u' + b64u(gzipSync(bits));
    return JSON.stringify(list);
  }},
  checkpoint: {match: (u) => u.pathname.endsWith('/v1/log/proof'), rewrite: (text) => {
    const body = JSON.parse(text);
    const {privateKey} = generateKeyPairSync('ed25519');
    const at = body.checkpoint.indexOf('\n\n');
    const note = body.checkpoint.slice(0, at + 1);
    const [, name, sig] = body.checkpoint.slice(at + 2).split('\n')[0].split(' ');
    const keyId = Buffer.from(sig, 'base64').subarray(0, 4);
    const forged = sign(null, Buffer.from(note), privateKey);
    body.checkpoint = `${note}\n\u2014 ${name} ${Buffer.concat([keyId, forged]).toString('base64')}\n`;
    return JSON.stringify(body);
  }},
};

async function visitOnce(v) {
  const context = await browser.newContext({locale: v.locale || 'en-US', viewport: {width: 1100, height: 900}});
  const page = await context.newPage();
  const requests = [], consoleErrors = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  const f = v.forge && forgeries[v.forge];
  if (f) {
    await page.route((u) => f.match(u), async (route) => {
      const r = await route.fetch();
      const type = r.headers()['content-type'] || '';
      await route.fulfill({response: r, body: f.rewrite(await r.text(), type, v)});
    });
  }
  if (v.replaceCredential) {
    // The credential the page fetches, replaced by bytes the test made (and also gave to
    // `credanchor verify`).
    await page.route((u) => /\/v1\/credentials\/[^/?]+$/.test(u.pathname), (route) => route.fulfill({
      status: 200, contentType: 'application/vc+jwt', body: v.replaceCredential}));
  }
  if (v.forge === 'proof') {
    await page.route((u) => u.pathname.endsWith('/v1/log/proof'), async (route) => {
      const r = await route.fetch({url: v.otherProof});
      await route.fulfill({response: r});
    });
  }
  if (v.forge === 'calldata') {
    await page.route((u) => u.href.startsWith(v.rpcUrl), async (route) => {
      const req = route.request();
      const r = await route.fetch();
      const body = await r.json();
      if (String(req.postData()).includes('eth_getTransactionByHash') && body.result?.input) {
        const last = body.result.input.slice(-2);
        body.result.input = body.result.input.slice(0, -2) + (last === '00' ? '01' : '00');
      }
      await route.fulfill({response: r, body: JSON.stringify(body)});
    });
  }
  if (v.fakeVerification) {
    await page.route((u) => u.pathname.endsWith('/verification'), (route) => route.fulfill({
      status: 200, contentType: 'application/json', body: JSON.stringify({verified: true,
        checks: Object.fromEntries(['signature', 'status', 'inclusion', 'anchor'].map((k) =>
          [k, {result: 'pass', detail: 'faked'}]))})}));
  }
  if (v.tamperScript) {
    await page.route((u) => u.pathname.endsWith('/assets/verify/verify.mjs'), async (route) => {
      const r = await route.fetch();
      const text = (await r.text()).replace("verdict = failed ? 'invalid'", "verdict = failed ? 'verified'");
      await route.fulfill({response: r, body: text});
    });
  }
  const resp = await page.goto(v.url, {waitUntil: 'load', timeout: 30000});
  const out = {name: v.name, status: resp.status(), headers: resp.headers()};
  if (v.lookup) {
    // The lookup form: type, submit, and follow to the credential's page.
    await page.fill('#issue-number', v.lookup.issueNumber);
    await page.fill('#email', v.lookup.email);
    await page.click('#lookup-form button[type=submit]');
    if (v.lookup.expectPage) {
      await page.waitForURL((u) => u.pathname.includes('/c/'), {timeout: 15000}).catch(() => {});
    } else {
      await page.waitForFunction(() => document.querySelector('#lookup-result').textContent, null,
        {timeout: 15000}).catch(() => {});
      out.lookupResult = await page.$eval('#lookup-result', (e) => e.textContent);
      if (v.screenshot) {
        await page.screenshot({path: `${plan.artefacts}/${v.screenshot}`, fullPage: true});
      }
      await context.close();
      return out;
    }
    out.landedOn = page.url();
  }
  const wait = v.tamperScript ? 4000 : 30000;
  if (v.rpc !== undefined) {
    await page.waitForSelector('#verdict[data-verdict]', {timeout: wait}).catch(() => {});
    await page.fill('#rpc-url', v.rpc);
    await page.click('#rpc-form button[type=submit]');
    await page.waitForFunction(() => !document.querySelector('#verdict').dataset.verdict, null,
      {timeout: 5000}).catch(() => {});
  }
  out.verdict = await page.waitForSelector('#verdict[data-verdict]', {timeout: wait})
    .then(() => page.$eval('#verdict', (e) => e.dataset.verdict)).catch(() => null);
  Object.assign(out, await page.evaluate(() => ({
    checks: Object.fromEntries([...document.querySelectorAll('li[data-check]')].map((li) =>
      [li.dataset.check, {result: li.dataset.result, detail: li.querySelector('.detail')?.textContent}])),
    durationMs: Number(document.querySelector('#verdict')?.dataset.durationMs ?? -1),
    banner: document.querySelector('#banner')?.hidden === false ? document.querySelector('#banner').textContent : '',
    verdictText: document.querySelector('#verdict')?.textContent ?? '',
    title: document.title,
    lang: document.documentElement.lang,
    heading: document.querySelector('h1')?.textContent ?? '',
    recipient: document.querySelector('#recipient')?.textContent ?? '',
    issueNumber: document.querySelector('#issue-number')?.textContent ?? '',
    issuer: document.querySelector('#issuer-name')?.textContent ?? '',
    completedOn: document.querySelector('#completed-on')?.textContent ?? '',
    linkedin: document.querySelector('#linkedin')?.href ?? '',
    downloads: Object.fromEntries([...document.querySelectorAll('.downloads a')].map((a) => [a.id, a.href])),
  })));
  out.requests = requests;
  out.consoleErrors = consoleErrors;
  if (v.screenshot) {
    await page.screenshot({path: `${plan.artefacts}/${v.screenshot}`, fullPage: true});
  }
  if (v.qrShot) {
    // The share section's QR code as the browser drew it, for zbarimg.
    await page.locator('#page-qr').screenshot({path: `${plan.artefacts}/${v.qrShot}`, scale: 'css'});
  }
  if (v.axe) {
    const r = await new AxeBuilder({page}).analyze();
    out.axe = r.violations.map((x) => ({id: x.id, impact: x.impact, nodes: x.nodes.length,
      help: x.help}));
  }
  await context.close();
  return out;
}

try {
  for (const v of plan.visits) {
    let out;
    try {
      out = await visitOnce(v);
    } catch (err) {
      out = {name: v.name, error: String(err.stack || err)};
    }
    console.log(JSON.stringify(out));
  }
} finally {
  await browser.close();
}
