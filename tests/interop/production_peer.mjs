#!/usr/bin/env node
// Production-shape peer for tests/integration/test_production_shape.py: talks to a credanchor
// node only through its nginx TLS front (docs/nginx-reverse-proxy.conf), as an outside
// verifier would, with unmodified npm libraries (exact versions in package.json). The test CA
// reaches Node's TLS through NODE_EXTRA_CA_CERTS; nothing here turns certificate checks off.
//
// Environment: CA_PUBLIC: the node's public_url (https://localhost:<port>[/path]); CA_DID: the
// did:web it must have; CA_ISSUER / CA_REVOKER: tokens; CA_TEMPLATE: the unsigned OB 3.0
// credential to issue.
//
// Checks:
//   @digitalbazaar/did-io + @digitalbazaar/did-method-web: the issuer DID resolves over https
//     (document id = CA_DID); every VC-JWT kid dereferences to a JsonWebKey with publicKeyJwk
//     that did-io approves for assertionMethod (SPEC §5, OB 3.0 §8.2.3/§8.5).
//   jose: VC-JWTs of every alg (EdDSA, ES256K, ES256, RS256) verify with that publicKeyJwk;
//     iss = CA_DID; a tampered payload is refused.
//   eddsa-jcs-2022: the proof's verificationMethod (a Multikey resolved through did-io) verifies
//     the proof (canonicalize + node:crypto Ed25519, as credentials_peer.mjs does).
//   status list: the statusListCredential URL in each credential is fetched as is (under
//     CA_PUBLIC, through nginx), decodes (@digitalbazaar/vc-bitstring-status-list), its proof
//     verifies, and a revocation sets exactly the credential's bit.
//   /v1/credentials/{id}/verification through nginx: verified, signature pass.
//   /v1/credentials/{id} through nginx (SPEC §8): the bytes as issued, with their media type,
//     and they verify again (jose, or the eddsa-jcs-2022 check) as downloaded.
// Prints "FAIL ..." per failed check and ends with "N passed, M failed"; exits 1 on failure.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nm = (p) => pathToFileURL(path.join(here, 'node_modules', p)).href;
const jose = await import(nm('jose/dist/node/esm/index.js'));
const {default: canonicalize} = await import(nm('canonicalize/lib/canonicalize.js'));
const bsl = await import(nm('@digitalbazaar/vc-bitstring-status-list/lib/index.js'));
const didIo = await import(nm('@digitalbazaar/did-io/lib/index.js'));
const {DidWebDriver} = await import(nm('@digitalbazaar/did-method-web/lib/index.js'));

const env = (k) => {
  const v = process.env[k];
  if(!v) {
    console.error(`production_peer: ${k} is not set`);
    process.exit(2);
  }
  return v;
};
const PUB = env('CA_PUBLIC');
const DID = env('CA_DID');
const ISSUER = env('CA_ISSUER');
const REVOKER = env('CA_REVOKER');
const template = JSON.parse(fs.readFileSync(env('CA_TEMPLATE'), 'utf8'));

let passed = 0;
let failed = 0;
for(const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (e) => {
    console.log(`FAIL peer crashed: ${e?.stack || e}`);
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  });
}
function check(cond, what) {
  if(cond) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${what}`);
  }
  return cond;
}
const sha256hex = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

async function http(method, url, {token, body} = {}) {
  const headers = {};
  if(token) {
    headers.authorization = `Bearer ${token}`;
  }
  if(body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const r = await fetch(url, {method, headers, redirect: 'manual',
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20000)});
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch{}
  return {status: r.status, text, json, type: r.headers.get('content-type') || ''};
}

// did-io with the did:web driver, as a verifier configures it.
const resolver = new didIo.CachedResolver();
resolver.use(new DidWebDriver());
const doc = await resolver.get({did: DID});
if(!check(doc?.id === DID, `did-io resolves ${DID}: got id ${doc?.id}`)) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58decode(s) {
  let n = 0n;
  for(const c of s) {
    n = n * 58n + BigInt(B58.indexOf(c));
  }
  const bytes = [];
  while(n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  for(const c of s) {
    if(c !== '1') {
      break;
    }
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}
// eddsa-jcs-2022 (W3C vc-di-eddsa §3.3): SHA-256(JCS(proof config)) || SHA-256(JCS(document)),
// Ed25519 over that, with the Multikey did-io dereferences for proof.verificationMethod.
async function verifyJcsProof(cred, what) {
  const {proof, ...unsecured} = cred;
  const {proofValue, ...proofConfig} = proof;
  const vm = await resolver.get({url: proof.verificationMethod});
  check(didIo.approvesMethodFor({doc, methodId: proof.verificationMethod,
    purpose: 'assertionMethod'}), `${what}: ${proof.verificationMethod} is an assertionMethod`);
  if(!check(vm?.type === 'Multikey' && vm.publicKeyMultibase?.startsWith('z6Mk'),
    `${what}: proof method is an Ed25519 Multikey (${JSON.stringify(vm)})`)) {
    return;
  }
  const raw = base58decode(vm.publicKeyMultibase.slice(1)).slice(2);
  const pub = crypto.createPublicKey({key: {kty: 'OKP', crv: 'Ed25519',
    x: Buffer.from(raw).toString('base64url')}, format: 'jwk'});
  const hash = Buffer.concat([
    crypto.createHash('sha256').update(canonicalize(proofConfig)).digest(),
    crypto.createHash('sha256').update(canonicalize(unsecured)).digest()]);
  check(proof.cryptosuite === 'eddsa-jcs-2022' &&
    crypto.verify(null, hash, pub, base58decode(proofValue.slice(1))),
  `${what}: eddsa-jcs-2022 proof verifies`);
}

let n = 0;
async function issue(format, alg) {
  const cred = structuredClone(template);
  cred.credentialSubject.id = `did:example:learner-${++n}`;
  const r = await http('POST', `${PUB}/v1/credentials`,
    {token: ISSUER, body: {credential: cred, format, alg}});
  return check(r.status === 201 && r.json, `issue ${format} ${alg} through nginx: HTTP ${r.status}` +
    ` ${r.text.slice(0, 300)}`) ? r.json : null;
}

const issued = [];
for(const alg of ['EdDSA', 'ES256K', 'ES256', 'RS256']) {
  const r = await issue('vc+jwt', alg);
  if(!r) {
    continue;
  }
  const jwt = r.credential;
  check(r.digest === sha256hex(jwt), `${alg}: digest = SHA-256(compact JWS)`);
  const {kid} = jose.decodeProtectedHeader(jwt);
  let vm = null;
  try {
    vm = await resolver.get({url: kid});
  } catch(e) {
    check(false, `${alg}: did-io dereferences kid ${kid}: ${e.message}`);
    continue;
  }
  check(didIo.approvesMethodFor({doc, methodId: kid, purpose: 'assertionMethod'}),
    `${alg}: kid ${kid} is an assertionMethod`);
  if(!check(vm?.type === 'JsonWebKey' && vm.publicKeyJwk,
    `${alg}: kid ${kid} is a JsonWebKey with publicKeyJwk (${JSON.stringify(vm)})`)) {
    continue;
  }
  const key = await jose.importJWK(vm.publicKeyJwk, alg);
  try {
    const {payload} = await jose.jwtVerify(jwt, key, {algorithms: [alg], issuer: DID,
      clockTolerance: 60});
    check(payload.jti === r.id, `${alg}: jose.jwtVerify, jti`);
    issued.push({id: r.id, status: payload.credentialStatus});
  } catch(e) {
    check(false, `${alg}: jose.jwtVerify: ${e.code || ''} ${e.message}`);
  }
  // What a recipient or verifier downloads later by the id (SPEC §8), through nginx, verified
  // on its own with the key the DID document gives.
  const g = await http('GET', `${PUB}/v1/credentials/${encodeURIComponent(r.id)}`);
  check(g.status === 200 && g.type === 'application/vc+jwt' && g.text === jwt,
    `${alg}: GET /v1/credentials/{id} through nginx is the issued JWT: HTTP ${g.status} ${g.type}`);
  try {
    await jose.jwtVerify(g.text, key, {algorithms: [alg], issuer: DID, clockTolerance: 60});
    check(true, `${alg}: the downloaded credential verifies with jose`);
  } catch(e) {
    check(false, `${alg}: the downloaded credential: jose.jwtVerify: ${e.message}`);
  }
  const [h, p, s] = jwt.split('.');
  const pl = JSON.parse(Buffer.from(p, 'base64url'));
  pl.name = `${pl.name} (forged)`;
  const forged = `${h}.${Buffer.from(JSON.stringify(pl)).toString('base64url')}.${s}`;
  try {
    await jose.jwtVerify(forged, key);
    check(false, `${alg}: jose accepted a changed payload`);
  } catch{
    check(true, `${alg}: jose refuses a changed payload`);
  }
}
{
  const r = await issue('eddsa-jcs-2022', 'EdDSA');
  if(r) {
    check(r.digest === sha256hex(canonicalize(r.credential)),
      'eddsa-jcs-2022: digest = SHA-256(JCS)');
    await verifyJcsProof(r.credential, 'eddsa-jcs-2022');
    const g = await http('GET', `${PUB}/v1/credentials/${encodeURIComponent(r.id)}`);
    if(check(g.status === 200 && g.type === 'application/vc' && g.json,
      `eddsa-jcs-2022: GET /v1/credentials/{id} through nginx: HTTP ${g.status} ${g.type}`)) {
      await verifyJcsProof(g.json, 'eddsa-jcs-2022: the downloaded credential');
    }
    issued.push({id: r.id, status: r.credential.credentialStatus});
  }
}

// Status lists, fetched at the URL each credential names.
async function listBit(entry, what) {
  const url = entry.statusListCredential;
  if(!check(url.startsWith(`${PUB}/v1/status/`), `${what}: ${url} is under ${PUB}`)) {
    return null;
  }
  const r = await http('GET', url);
  if(!check(r.status === 200 && r.json, `${what}: GET ${url}: HTTP ${r.status}`)) {
    return null;
  }
  const vc = r.json;
  check((vc.type || []).includes('BitstringStatusListCredential') &&
    (vc.issuer === DID || vc.issuer?.id === DID),
  `${what}: a status list credential issued by ${DID}`);
  if(vc.proof) {
    await verifyJcsProof(vc, `${what}: status list`);
  }
  const list = await bsl.decodeList({encodedList: vc.credentialSubject.encodedList});
  return list.getStatus(Number(entry.statusListIndex));
}
for(const c of issued) {
  check(await listBit(c.status, c.id) === false, `${c.id}: not revoked at first`);
  const v = await http('GET', `${PUB}/v1/credentials/${encodeURIComponent(c.id)}/verification`);
  check(v.status === 200 && v.json?.verified === true &&
    v.json.checks?.signature?.result === 'pass',
  `${c.id}: /verification through nginx: ${v.status} ${v.text.slice(0, 300)}`);
}
if(issued.length) {
  const c = issued[0];
  const r = await http('POST', `${PUB}/v1/credentials/${encodeURIComponent(c.id)}/revoke`,
    {token: REVOKER, body: {reason: 'production shape'}});
  check(r.status === 200, `revoke through nginx: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  check(await listBit(c.status, c.id) === true, `${c.id}: revoked bit set`);
  for(const o of issued.slice(1)) {
    if(o.status.statusListCredential === c.status.statusListCredential) {
      check(await listBit(o.status, o.id) === false, `${o.id}: still not revoked`);
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
