// The credential's public page (issue #15, SPEC §8): shows the credential and proves it in
// this browser with web/verify/ (signature, status list, log inclusion with the signed
// checkpoint, and the anchor transaction read from a JSON-RPC URL the visitor may change).
// Nothing the node says about the credential's validity is used: the verdict is the
// browser's. Every credential field is written with textContent, never as markup.
// When the checks finish, #verdict carries data-verdict and each li[data-check] its
// data-result (the test hooks of SPEC §8).
import {verifyCredential} from '../verify/verify.mjs';
import {issuerId} from '../verify/credential.mjs';

const {strings: t, config} = JSON.parse(document.getElementById('page-data').textContent);
const $ = (id) => document.getElementById(id);
const fill = (text, vars) => text.replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? '');

async function get(url, accept) {
  const r = await fetch(url, {headers: {accept}, credentials: 'omit', cache: 'no-store',
    referrerPolicy: 'no-referrer'});
  if (!r.ok) {
    throw new Error(`HTTP ${r.status} from ${new URL(url).pathname}`);
  }
  return r;
}

const io = (rpcUrl) => ({
  base: config.base,
  rpcUrl,
  confirmations: config.confirmations,
  fetchJson: async (url) => (await get(url, 'application/json, application/vc')).json(),
  resolveDid: async (did) =>
    (await get(`${config.base}/1.0/identifiers/${encodeURIComponent(did)}`, 'application/did')).json(),
});

// The credential as issued: a compact VC-JWT or a Data Integrity JSON document.
async function fetchCredential() {
  const r = await get(`${config.base}/v1/credentials/${encodeURIComponent(config.id)}`,
    'application/vc+jwt, application/vc');
  const type = r.headers.get('content-type') || '';
  return type.startsWith('application/vc+jwt') ? (await r.text()).trim() : r.json();
}

const text = (v) => (typeof v === 'string' ? v : '');
const dateText = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleDateString(config.lang === 'ko' ? 'ko-KR' : 'en-GB',
    {year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC'});
};

function issuerName(vc) {
  return text(vc?.issuer?.name) || issuerDomain(vc) || issuerId(vc) || '';
}

// did:web:host[%3Aport][:path] -> host (the domain the issuer's key is published on).
function issuerDomain(vc) {
  const id = issuerId(vc) || '';
  return id.startsWith('did:web:') ? decodeURIComponent(id.slice(8).split(':')[0]) : '';
}

// OB 3.0 IdentityObject of type "name" that is not hashed: the display name the issuer's
// template chose to show (bulk issuance adds it when the roster has a name).
function recipientName(subject) {
  const ids = [subject?.identifier || []].flat();
  const named = ids.find((i) => i?.identityType === 'name' && i?.hashed === false);
  return text(named?.identityHash) || text(subject?.name);
}

// An OB 3.0 Image (a URI or {id, caption}); only one the page's CSP allows (its own origin
// or a data: URI) is shown, so a credential cannot make the visitor's browser call elsewhere.
function showImage(el, image, alt) {
  const src = text(image?.id) || text(image);
  if (src.startsWith('data:image/') || src.startsWith(`${config.base}/`)) {
    el.src = src;
    el.alt = text(image?.caption) || alt;
    el.hidden = false;
  }
}

function showCredential(vc) {
  const subject = vc.credentialSubject || {};
  const a = subject.achievement || {};
  $('achievement-name').textContent = text(a.name) || text(vc.name);
  $('achievement-type').textContent = text(a.achievementType);
  $('achievement-description').textContent = text(a.description) || text(vc.description);
  $('criteria').textContent = text(a.criteria?.narrative);
  $('recipient').textContent = recipientName(subject);
  $('recipient-row').hidden = !recipientName(subject);
  $('issuer-name').textContent = issuerName(vc);
  $('issuer-name-top').textContent = issuerName(vc);
  $('issuer-domain').textContent = issuerDomain(vc);
  $('issue-number').textContent = text(subject.licenseNumber);
  $('issued-on').textContent = dateText(vc.validFrom || vc.issuanceDate);
  $('completed-on').textContent = dateText(vc.awardedDate || vc.validFrom);
  if (vc.validUntil) {
    $('expires-row').hidden = false;
    $('expires-on').textContent = dateText(vc.validUntil);
  }
  showImage($('achievement-image'), a.image, text(a.name));
  showImage($('issuer-logo'), vc.issuer?.image, issuerName(vc));
  document.title = `${text(a.name) || t.pageTitle} · ${issuerName(vc)}`;
}

function showChecks(v) {
  for (const [name, c] of Object.entries(v.checks)) {
    const li = document.querySelector(`li[data-check="${name}"]`);
    li.dataset.result = c.result;
    li.querySelector('.result').textContent = t[`result.${c.result}`];
    li.querySelector('.detail').textContent = c.detail || '';
  }
}

function showVerdict(v) {
  const issuer = issuerName(v.credential);
  const verdict = $('verdict');
  const key = v.expired ? 'verdict.expired' : `verdict.${v.verdict}`;
  verdict.textContent = fill(t[key], {issuer, date: dateText(v.credential?.validUntil)});
  const banner = $('banner');
  const loud = v.expired ? 'expired' : ['revoked', 'suspended', 'invalid'].includes(v.verdict) ? v.verdict : '';
  banner.hidden = !loud;
  banner.dataset.kind = loud;
  banner.textContent = loud ? verdict.textContent : '';
  document.querySelector('main').classList.toggle('untrusted', v.verdict === 'invalid' && !v.expired);
  verdict.dataset.verdict = v.verdict; // last: the test hook says the checks are done
}

function showShare(vc, verdict, digest) {
  const url = config.page;
  $('page-url').textContent = url;
  $('page-qr').src = `${new URL(url).pathname}/qr.svg`;
  $('copy-link').addEventListener('click', async () => {
    await navigator.clipboard?.writeText(url).catch(() => {});
    $('copied').textContent = t.copied;
  });
  const a = vc?.credentialSubject?.achievement || {};
  const when = new Date(vc?.awardedDate || vc?.validFrom || Date.now());
  const q = new URLSearchParams({startTask: 'CERTIFICATION_NAME', name: text(a.name) || text(vc?.name)});
  if (config.linkedinOrganizationId) {
    q.set('organizationId', config.linkedinOrganizationId);
  } else {
    q.set('organizationName', issuerName(vc));
  }
  q.set('issueYear', String(when.getUTCFullYear()));
  q.set('issueMonth', String(when.getUTCMonth() + 1));
  if (vc?.validUntil) {
    const until = new Date(vc.validUntil);
    q.set('expirationYear', String(until.getUTCFullYear()));
    q.set('expirationMonth', String(until.getUTCMonth() + 1));
  }
  q.set('certUrl', url);
  q.set('certId', text(vc?.credentialSubject?.licenseNumber));
  $('linkedin').href = `https://www.linkedin.com/profile/add?${q}`;
  // Only a credential that checks out is offered for a profile.
  $('linkedin').hidden = !['verified', 'pending'].includes(verdict);
  const own = `${config.base}/v1/credentials/${encodeURIComponent(config.id)}`;
  $('download-credential').href = own;
  $('download-certificate').href = `${own}/certificate.pdf`;
  $('download-badge-png').href = `${own}/badge.png`;
  $('download-badge-svg').href = `${own}/badge.svg`;
  // The SPEC §3 proof JSON that `credanchor verify-proof` checks offline.
  if (digest) {
    $('download-proof').href = `${config.base}/v1/log/proof?digest=${digest}`;
  }
}

let presented;
let running = null;

async function run(rpcUrl) {
  const started = performance.now();
  delete $('verdict').dataset.verdict;
  $('verdict').textContent = t.checking;
  for (const li of document.querySelectorAll('li[data-check]')) {
    li.dataset.result = 'pending';
  }
  const v = await verifyCredential(presented, io(rpcUrl)).catch((err) => ({
    verdict: 'invalid', credential: {},
    checks: {signature: {result: 'fail', detail: `the checks stopped: ${err.message}`},
      status: {result: 'pending'}, inclusion: {result: 'pending'}, anchor: {result: 'pending'}},
  }));
  if (v.credential) {
    showCredential(v.credential);
  }
  showChecks(v);
  // How long the browser's checks took (the benchmark reads it; issue #15: under 1 s).
  $('verdict').dataset.durationMs = String(Math.round(performance.now() - started));
  showVerdict(v);
  return v;
}

async function main() {
  const rpc = $('rpc-url');
  for (const u of config.rpcUrls) {
    const o = document.createElement('option');
    o.value = u;
    $('rpc-urls').append(o);
  }
  rpc.value = config.rpcUrls[0] || '';
  $('rpc-form').addEventListener('submit', (e) => {
    e.preventDefault();
    running = running.then(() => run(rpc.value.trim()));
  });
  try {
    presented = await fetchCredential();
  } catch (err) {
    presented = '';
    $('achievement-name').textContent = err.message;
  }
  running = run(rpc.value.trim());
  const v = await running;
  showShare(v.credential, v.verdict, v.digest);
}

main();
