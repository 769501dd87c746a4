#!/usr/bin/env node
// Credential interop peer for tests/cli/interop_credentials.sh: issues credentials on two running
// credanchor nodes and checks them with npm libraries (exact versions in package.json).
//
// Environment: CA_A_URL / CA_A_PUBLIC / CA_A_ISSUER / CA_A_REVOKER: node A, a did:web issuer with
// credentials.suspension = true; CA_B_*: node B, a did:key issuer (did.issuer_method = key),
// suspension off. CA_TEMPLATE: the unsigned OB 3.0 credential to issue; PER_ALG: credentials per
// algorithm. *_URL is the loopback address to talk to; *_PUBLIC the node's public_url (its
// credentials and status-list URLs use it; requests go to *_URL with the same path).
//
// Checks:
//   jose (A): EdDSA, ES256K, ES256 and RS256 VC-JWTs verify (jwtVerify) with the key of
//     /.well-known/did.json whose id is the header kid (a JsonWebKey: its publicKeyJwk via
//     importJWK, for every alg); payload claims (iss, jti, nbf, sub, exp, no vc);
//     digest = SHA-256 of the compact JWS; a tampered payload or signature is refused.
//   canonicalize (A): for eddsa-jcs-2022 credentials, also ones carrying awkward numbers and
//     strings, SHA-256(canonicalize(credential)) equals the node's digest; the proof itself
//     verifies per eddsa-jcs-2022 (canonicalize + node:crypto Ed25519).
//   @digitalbazaar/vc-bitstring-status-list (A): decodeList of /v1/status lists; length >=
//     131072; getStatus is true exactly at revoked credentials' indexes, false at the others
//     and at a random sample; the list credential verifies. Every credential of A carries one
//     credentialStatus object (OB 3.0 B.1.2, SPEC §5) although A has suspension on, and
//     /suspend and /reinstate on it answer 409.
//   did-jwt verifyJWT + key-did-resolver (B): EdDSA and ES256K JWTs of the did:key issuer (and
//     ES256, P-256); a tampered JWT is refused; /suspend without a suspension entry answers 409.
// Prints "FAIL ..." per failed check, "NOTE ..." for observations, and ends with
// "N passed, M failed"; exits 1 on any failure.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nm = (p) => pathToFileURL(path.join(here, 'node_modules', p)).href;
const jose = await import(nm('jose/dist/node/esm/index.js'));
const {default: canonicalize} = await import(nm('canonicalize/lib/canonicalize.js'));
const bsl = await import(nm('@digitalbazaar/vc-bitstring-status-list/lib/index.js'));
const didJwt = await import(nm('did-jwt/lib/index.module.js'));
const {Resolver} = await import(nm('did-resolver/lib/resolver.module.js'));
const {getResolver} = await import(nm('key-did-resolver/dist/index.js'));

const env = (k) => {
  const v = process.env[k];
  if(!v) {
    console.error(`credentials_peer: ${k} is not set`);
    process.exit(2);
  }
  return v;
};
const A = {url: env('CA_A_URL'), pub: env('CA_A_PUBLIC'), issuer: env('CA_A_ISSUER'),
  revoker: env('CA_A_REVOKER')};
const B = {url: env('CA_B_URL'), pub: env('CA_B_PUBLIC'), issuer: env('CA_B_ISSUER'),
  revoker: env('CA_B_REVOKER')};
const template = JSON.parse(fs.readFileSync(env('CA_TEMPLATE'), 'utf8'));
const PER_ALG = Number(process.env.PER_ALG || 5);

let passed = 0;
let failed = 0;
// Anything thrown outside a check still ends with a tally.
for(const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (e) => {
    failed++;
    console.log(`FAIL peer crashed: ${e?.stack || e}`);
    console.log(`${passed} passed, ${failed} failed`);
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
const eq = (got, want, what) =>
  check(got === want, `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
async function mustThrow(fn, what) {
  try {
    await fn();
    check(false, `${what}: accepted`);
  } catch(e) {
    check(true, what);
    return e;
  }
}

// ---- helpers ------------------------------------------------------------------------------
const sha256hex = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
const b64u = (buf) => Buffer.from(buf).toString('base64url');
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58decode(s) {
  let n = 0n;
  for(const c of s) {
    const d = B58.indexOf(c);
    if(d < 0) {
      throw new Error(`bad base58 character ${c}`);
    }
    n = n * 58n + BigInt(d);
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
function multikeyToJwk(mb) {
  if(mb[0] !== 'z') {
    throw new Error('publicKeyMultibase is not base58btc');
  }
  const raw = base58decode(mb.slice(1));
  if(raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) {
    throw new Error('not an Ed25519 multikey');
  }
  return {kty: 'OKP', crv: 'Ed25519', x: b64u(raw.slice(2))};
}
// Requests go to the loopback URL; public URLs (the node's own) are mapped onto it.
const local = (node, u) => u.startsWith(node.pub) ? node.url + u.slice(node.pub.length) : null;
async function http(node, method, p, {token, body} = {}) {
  const headers = {};
  if(token) {
    headers.authorization = `Bearer ${token}`;
  }
  if(body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const r = await fetch(node.url + p, {method, headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20000)});
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch{}
  return {status: r.status, text, json, ctype: r.headers.get('content-type')};
}
let subjectN = 0;
async function issue(node, {format = 'vc+jwt', alg = 'EdDSA', mutate} = {}) {
  const cred = structuredClone(template);
  cred.credentialSubject.id = `did:example:learner-${++subjectN}`;
  if(mutate) {
    mutate(cred);
  }
  const r = await http(node, 'POST', '/v1/credentials',
    {token: node.issuer, body: {credential: cred, format, alg}});
  if(!check(r.status === 201 && r.json, `issue ${format} ${alg}: HTTP ${r.status} ${r.text}`)) {
    return null;
  }
  return {...r.json, sent: cred};
}
const jwtPayload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));
// Tampered copies of a compact JWS: one payload member changed (same signature), one signature
// bit flipped.
function tampered(jwt) {
  const [h, p, s] = jwt.split('.');
  const pl = JSON.parse(Buffer.from(p, 'base64url'));
  pl.name = `${pl.name} (forged)`;
  const sig = Buffer.from(s, 'base64url');
  sig[sig.length >> 1] ^= 0x01;
  return {payload: `${h}.${b64u(JSON.stringify(pl))}.${s}`, signature: `${h}.${p}.${b64u(sig)}`};
}

// ---- node A: did:web issuer, jose ---------------------------------------------------------
const didDocR = await http(A, 'GET', '/.well-known/did.json');
const didDoc = didDocR.json;
if(!check(didDocR.status === 200 && didDoc && Array.isArray(didDoc.verificationMethod),
  `GET /.well-known/did.json: HTTP ${didDocR.status}`)) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}
const didA = didDoc.id;
async function keyForKid(kid, alg) {
  const vm = didDoc.verificationMethod.find((m) => m.id === kid);
  if(!vm) {
    throw new Error(`no verificationMethod ${kid}`);
  }
  if(!(didDoc.assertionMethod || []).includes(kid)) {
    throw new Error(`${kid} is not an assertionMethod`);
  }
  // SPEC §5, OB 3.0 §8.2.3/§8.5: the kid names a JsonWebKey; nothing converts a Multikey here.
  if(vm.type !== 'JsonWebKey' || !vm.publicKeyJwk) {
    throw new Error(`${kid} is a ${vm.type}, not a JsonWebKey with publicKeyJwk`);
  }
  return jose.importJWK(vm.publicKeyJwk, alg);
}

const ALGS = ['EdDSA', 'ES256K', 'ES256', 'RS256'];
const issuedA = [];  // every credential issued on A: {id, statusEntries}
for(const alg of ALGS) {
  let nOk = 0;
  for(let i = 0; i < PER_ALG; i++) {
    // Vary the optional claims: i = 1 without credentialSubject.id (no sub), i = 2 with
    // validUntil (exp).
    const r = await issue(A, {alg, mutate: (c) => {
      if(i === 1) {
        delete c.credentialSubject.id;
        c.credentialSubject.identifier = [{type: 'IdentityObject', identityType: 'emailAddress',
          hashed: false, identityHash: `learner${i}@example.org`}];
      }
      if(i === 2) {
        c.validUntil = '2036-01-01T00:00:00Z';
      }
    }});
    if(!r) {
      continue;
    }
    const jwt = r.credential;
    if(!check(typeof jwt === 'string' && jwt.split('.').length === 3,
      `${alg}: credential is not a compact JWS`)) {
      continue;
    }
    eq(r.digest, sha256hex(jwt), `${alg} #${i}: digest = SHA-256(compact JWS)`);
    const hdr = jose.decodeProtectedHeader(jwt);
    eq(hdr.alg, alg, `${alg} #${i}: header alg`);
    eq(hdr.typ, 'JWT', `${alg} #${i}: header typ`);
    let res;
    try {
      const key = await keyForKid(hdr.kid, alg);
      res = await jose.jwtVerify(jwt, key, {algorithms: [alg], issuer: didA, clockTolerance: 60});
      check(true, `${alg}: jose.jwtVerify`);
      nOk++;
    } catch(e) {
      check(false, `${alg} #${i}: jose.jwtVerify (kid ${hdr.kid}): ${e.code || ''} ${e.message}`);
      continue;
    }
    const p = res.payload;
    eq(p.iss, didA, `${alg} #${i}: iss`);
    eq(p.jti, r.id, `${alg} #${i}: jti`);
    eq(p.id, r.id, `${alg} #${i}: id`);
    check(typeof p.nbf === 'number' && Math.abs(p.nbf - Date.parse(p.validFrom) / 1000) < 1,
      `${alg} #${i}: nbf ${p.nbf} matches validFrom ${p.validFrom}`);
    eq(p.sub, r.sent.credentialSubject.id, `${alg} #${i}: sub`);
    eq(p.exp, r.sent.validUntil ? Date.parse(r.sent.validUntil) / 1000 : undefined,
      `${alg} #${i}: exp`);
    eq(p.vc, undefined, `${alg} #${i}: no vc claim`);
    eq(JSON.stringify(p.type), JSON.stringify(['VerifiableCredential', 'OpenBadgeCredential']),
      `${alg} #${i}: type`);
    const key = await keyForKid(hdr.kid, alg);
    const t = tampered(jwt);
    await mustThrow(() => jose.compactVerify(t.payload, key), `${alg}: jose refuses a changed payload`);
    await mustThrow(() => jose.compactVerify(t.signature, key),
      `${alg}: jose refuses a changed signature`);
    issuedA.push({id: r.id, format: 'jwt', alg, status: [p.credentialStatus].flat(),
      statusIsObject: isObject(p.credentialStatus)});
  }
  console.error(`== jose ${alg}: ${nOk}/${PER_ALG} verified`);
}

// ---- node A: eddsa-jcs-2022 and canonicalize ----------------------------------------------
async function verifyJcsProof(cred) {
  const {proof, ...unsecured} = cred;
  const {proofValue, ...proofConfig} = proof;
  if(proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-jcs-2022') {
    throw new Error(`proof ${proof.type}/${proof.cryptosuite}`);
  }
  const vmId = proof.verificationMethod;
  const vm = didDoc.verificationMethod.find((m) => m.id === vmId);
  if(!vm) {
    throw new Error(`no verificationMethod ${vmId}`);
  }
  const hash = Buffer.concat([
    crypto.createHash('sha256').update(canonicalize(proofConfig)).digest(),
    crypto.createHash('sha256').update(canonicalize(unsecured)).digest()]);
  const pub = crypto.createPublicKey({key: multikeyToJwk(vm.publicKeyMultibase), format: 'jwk'});
  if(proofValue[0] !== 'z') {
    throw new Error('proofValue not base58btc');
  }
  return crypto.verify(null, hash, pub, base58decode(proofValue.slice(1)));
}
const awkward = [
  null,
  (c) => {
    c.extra = {n: 1e21, f: 0.1, neg: -0, u: '\u00e9\ud83d\ude00', big: 9007199254740992};
  },
  // RFC 8785 §3.2.2.3 / appendix numbers and §3.2.3 sort-order keys.
  (c) => {
    c.extra = {numbers: [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001,
      -1e-7, 1e-6, 5e-324, 1.7976931348623157e308],
    '\u20ac': 'Euro', '\r': 'CR', '\ufb33': 'Hebrew', '1': 'One', '\ud83d\ude00': 'emoji',
    '\u0080': 'ctl', '\u00f6': 'o-uml', a: 'a'};
  },
  (c) => {
    c.extra = {s: 'quote " backslash \\ slash / ctl \u0001\u001f del \u007f \u2028 \u2029',
      tab: '\t\n\b\f', nested: [[[]], {}, [{z: 1, y: [true, false, null]}]],
      long: 'x'.repeat(3000)};
    c.name = 'Sécurité — 安全 🔐';
  },
  (c) => {
    c.extra = {ints: [0, -1, 1, 2 ** 31, -(2 ** 53) + 1, 2 ** 53 - 1, 1e16, 123e-2]};
  },
];
let jcsOk = 0;
for(let i = 0; i < Math.max(PER_ALG, awkward.length); i++) {
  const r = await issue(A, {format: 'eddsa-jcs-2022', mutate: awkward[i % awkward.length]});
  if(!r) {
    continue;
  }
  const c = r.credential;
  if(!check(c && typeof c === 'object' && c.proof, `jcs #${i}: credential is not an object with proof`)) {
    continue;
  }
  const jcs = canonicalize(c);
  if(eq(r.digest, sha256hex(jcs), `jcs #${i}: digest = SHA-256(canonicalize(credential))`)) {
    jcsOk++;
  } else {
    console.log(`NOTE jcs #${i}: canonicalize gives ${jcs.slice(0, 600)}`);
  }
  // The sent extra members come back unchanged (as JSON values).
  if(r.sent.extra) {
    eq(canonicalize(c.extra), canonicalize(r.sent.extra), `jcs #${i}: extra members kept`);
  }
  try {
    check(await verifyJcsProof(c), `jcs #${i}: eddsa-jcs-2022 proof verifies (canonicalize + Ed25519)`);
  } catch(e) {
    check(false, `jcs #${i}: eddsa-jcs-2022 proof: ${e.message}`);
  }
  issuedA.push({id: r.id, format: 'jcs', status: [c.credentialStatus].flat(),
    statusIsObject: isObject(c.credentialStatus)});
}
console.error(`== canonicalize: ${jcsOk} eddsa-jcs-2022 digests agree`);
// Number literals as written on the wire (JS would normalise them before sending): each goes
// into one credential; RFC 8785 reads every number as an IEEE 754 double and writes it in the
// ECMAScript form, so the digest must equal SHA-256(canonicalize(JSON.parse(answer))) and the
// value must be the double of the literal. A literal that is not a finite double (1e400) may be
// refused; 9007199254740993 is not a double (I-JSON) and may be refused or rounded. Integers of
// 2^63 or more are refused with 400 by design (the node's JSON reader holds 64-bit integers;
// I-JSON, RFC 7493 §2.2, advises sending such numbers as strings): nothing is signed or logged.
// Refusing any other valid number is a failure.
const literals = ['4.50', '1.0', '-0.0', '-0', '1E30', '1e+21', '0.000001', '1e-7', '100e-2',
  '2e-3', '333333333.33333329', '9223372036854775807', '9223372036854775808',
  '123456789012345680000', '18446744073709551616', '9007199254740993', '1e400'];
const mayRefuse = new Set(['9007199254740993', '1e400', '9223372036854775807',
  '9223372036854775808', '123456789012345680000', '18446744073709551616']);
for(const lit of literals) {
  const cred = structuredClone(template);
  cred.credentialSubject.id = `did:example:learner-${++subjectN}`;
  cred.extra = {lit: 'LIT'};
  const body = JSON.stringify({credential: cred, format: 'eddsa-jcs-2022', alg: 'EdDSA'})
    .replace('"LIT"', lit);
  const r = await fetch(`${A.url}/v1/credentials`, {method: 'POST', body,
    headers: {authorization: `Bearer ${A.issuer}`, 'content-type': 'application/json'}});
  const text = await r.text();
  if(r.status === 201) {
    const j = JSON.parse(text);
    const wrote = /"lit":([^,}]*)/.exec(text)?.[1];
    const what = `jcs number literal ${lit} (node wrote ${wrote})`;
    if(!check(j.credential && typeof j.credential === 'object',
      `${what}: 201 but "credential" is ${JSON.stringify(j.credential)} (${text.slice(0, 200)})`)) {
      const v = await http(A, 'GET', `/v1/credentials/${encodeURIComponent(j.id)}/verification`);
      console.log(`NOTE its /verification: HTTP ${v.status} ${v.text.slice(0, 400)}`);
      continue;
    }
    eq(j.digest, sha256hex(canonicalize(j.credential)), `${what}: digest = SHA-256(canonicalize)`);
    check(Object.is(j.credential.extra.lit, Number(lit)) ||
      (Object.is(Number(lit), -0) && j.credential.extra.lit === 0),
    `${what}: value ${j.credential.extra.lit} = ${Number(lit)}`);
    if(lit === '9007199254740993' || !Number.isFinite(Number(lit))) {
      console.log(`NOTE node accepts ${lit} and writes ${wrote}`);
    }
    issuedA.push({id: j.id, format: 'jcs', status: [j.credential.credentialStatus].flat(),
      statusIsObject: isObject(j.credential.credentialStatus)});
  } else if(mayRefuse.has(lit)) {
    check(r.status === 400, `jcs number literal ${lit} refused with 400 (got ${r.status})`);
    console.log(`NOTE node refuses ${lit}: HTTP ${r.status} ${text.slice(0, 160)}`);
  } else {
    check(false, `jcs number literal ${lit} refused: HTTP ${r.status} ${text.slice(0, 200)}`);
  }
}

// ---- node A: status lists -----------------------------------------------------------------
for(const c of issuedA) {
  c.rev = c.status.find((s) => s.statusPurpose === 'revocation');
}
// SPEC §5 / OB 3.0 B.1.2: an OpenBadgeCredential carries exactly one credentialStatus object,
// so even on node A (credentials.suspension = true) it never gets the suspension entry.
check(issuedA.length > 0 && issuedA.every((c) => c.rev && c.statusIsObject && c.status.length === 1),
  'A: every credential has exactly one credentialStatus object, its revocation entry');
for(const c of issuedA) {
  for(const s of c.status) {
    if(!(s.type === 'BitstringStatusListEntry' && /^(0|[1-9][0-9]*)$/.test(s.statusListIndex) &&
         s.statusListCredential.startsWith(`${A.pub}/v1/status/`) &&
         s.id === `${s.statusListCredential}#${s.statusListIndex}`)) {
      check(false, `A: odd status entry ${JSON.stringify(s)}`);
    }
  }
}
const usedKeys = new Set(issuedA.flatMap((c) => c.status.map(
  (s) => `${s.statusListCredential}#${s.statusListIndex}`)));
eq(usedKeys.size, issuedA.length, 'A: status slots are all distinct');

const listCache = new Map();
async function fetchList(node, url, purpose) {
  const p = local(node, url);
  if(!check(p, `status list URL ${url} is not under ${node.pub}`)) {
    return null;
  }
  const r = await fetch(p, {signal: AbortSignal.timeout(20000)});
  const text = await r.text();
  if(!check(r.status === 200, `GET ${url}: HTTP ${r.status} ${text}`)) {
    return null;
  }
  const vc = JSON.parse(text);
  const cs = vc.credentialSubject || {};
  check((vc.type || []).includes('BitstringStatusListCredential') &&
    cs.type === 'BitstringStatusList' && cs.statusPurpose === purpose &&
    typeof cs.encodedList === 'string', `${url}: a BitstringStatusListCredential for ${purpose}`);
  const list = await bsl.decodeList({encodedList: cs.encodedList});
  check(list.length >= 131072, `${url}: decodeList length ${list.length} >= 131072`);
  if(vc.proof && vc.proof.cryptosuite === 'eddsa-jcs-2022') {
    try {
      check(await verifyJcsProof(vc), `${url}: list credential's eddsa-jcs-2022 proof verifies`);
    } catch(e) {
      check(false, `${url}: list credential's proof: ${e.message}`);
    }
  }
  listCache.set(url, vc);
  return list;
}
// checkLists: the bit of every issued credential's entry of that purpose equals want(c), and a
// random sample of other slots is clear.
async function checkLists(purpose, want, label) {
  const key = 'rev';
  const byUrl = new Map();
  for(const c of issuedA) {
    const s = c[key];
    if(s) {
      byUrl.set(s.statusListCredential, [...(byUrl.get(s.statusListCredential) || []), c]);
    }
  }
  let bad = 0;
  let n = 0;
  for(const [url, creds] of byUrl) {
    const list = await fetchList(A, url, purpose);
    if(!list) {
      continue;
    }
    const used = new Set(creds.map((c) => Number(c[key].statusListIndex)));
    for(const c of creds) {
      n++;
      const got = list.getStatus(Number(c[key].statusListIndex));
      if(got !== want(c)) {
        bad++;
        console.log(`FAIL ${label}: ${purpose} bit ${c[key].statusListIndex} of ${c.id} is ${got}`);
      }
    }
    for(let i = 0; i < 300; i++) {
      const idx = crypto.randomInt(list.length);
      if(!used.has(idx)) {
        n++;
        if(list.getStatus(idx)) {
          bad++;
          console.log(`FAIL ${label}: unused ${purpose} bit ${idx} of ${url} is set`);
        }
      }
    }
  }
  passed += n - bad;
  failed += bad;
  console.error(`== status ${label} (${purpose}): ${n - bad}/${n} bits as expected`);
}
async function setStatus(c, action, want = 200) {
  const r = await http(A, 'POST', `/v1/credentials/${encodeURIComponent(c.id)}/${action}`,
    {token: A.revoker, body: {reason: `interop ${action}`}});
  return eq(r.status, want, `${action} ${c.id}: HTTP status (${r.text.slice(0, 200)})`);
}

await checkLists('revocation', () => false, 'fresh');
// Revoke every third credential; /suspend and /reinstate on an Open Badge answer 409 (no
// suspension entry, SPEC §5) and change no bit.
const revoked = new Set(issuedA.filter((_, i) => i % 3 === 0).map((c) => c.id));
const refused = new Set(issuedA.filter((c, i) => i % 4 === 1 && !revoked.has(c.id)).map((c) => c.id));
for(const c of issuedA) {
  if(revoked.has(c.id)) {
    await setStatus(c, 'revoke');
  }
  if(refused.has(c.id)) {
    await setStatus(c, 'suspend', 409);
    await setStatus(c, 'reinstate', 409);
  }
}
await checkLists('revocation', (c) => revoked.has(c.id), 'after revoke (suspend refused)');
// A revoked credential's public verification reports it revoked.
{
  const c = issuedA.find((x) => revoked.has(x.id));
  const r = await http(A, 'GET', `/v1/credentials/${encodeURIComponent(c.id)}/verification`);
  check(r.status === 200 && r.json?.checks?.status?.revoked === true,
    `verification of revoked ${c.id}: ${r.status} ${r.text.slice(0, 300)}`);
}

// ---- node B: did:key issuer, did-jwt verifyJWT + key-did-resolver -------------------------
const resolver = new Resolver(getResolver());
const PREFIX = {EdDSA: 'did:key:z6Mk', ES256K: 'did:key:zQ3s', ES256: 'did:key:zDna'};
for(const alg of ['EdDSA', 'ES256K', 'ES256']) {
  let nOk = 0;
  for(let i = 0; i < PER_ALG; i++) {
    const r = await issue(B, {alg, mutate: (c) => {
      if(i === 1) {
        delete c.credentialSubject.id;
        c.credentialSubject.identifier = [{type: 'IdentityObject', identityType: 'emailAddress',
          hashed: false, identityHash: `learner${i}@example.org`}];
      }
      if(i === 2) {
        c.validUntil = '2036-01-01T00:00:00Z';
      }
    }});
    if(!r) {
      continue;
    }
    const jwt = r.credential;
    const p = jwtPayload(jwt);
    const hdr = jose.decodeProtectedHeader(jwt);
    check(typeof p.iss === 'string' && p.iss.startsWith(PREFIX[alg]),
      `did:key ${alg}: iss ${p.iss} starts with ${PREFIX[alg]}`);
    const issuerId = typeof p.issuer === 'string' ? p.issuer : p.issuer?.id;
    eq(issuerId, p.iss, `did:key ${alg}: credential issuer = iss`);
    try {
      const v = await didJwt.verifyJWT(jwt, {resolver, proofPurpose: 'assertionMethod'});
      check(v.verified === true, `did:key ${alg}: verifyJWT verified`);
      eq(v.issuer, p.iss, `did:key ${alg}: verifyJWT issuer`);
      eq(v.signer?.id, hdr.kid, `did:key ${alg}: verifyJWT signer = header kid`);
      nOk++;
    } catch(e) {
      check(false, `did:key ${alg} #${i}: verifyJWT: ${e.message}`);
    }
    const t = tampered(jwt);
    await mustThrow(() => didJwt.verifyJWT(t.payload, {resolver}),
      `did:key ${alg}: verifyJWT refuses a changed payload`);
    await mustThrow(() => didJwt.verifyJWT(t.signature, {resolver}),
      `did:key ${alg}: verifyJWT refuses a changed signature`);
    if(i === 0 && alg === 'EdDSA') {
      // Node B has no suspension list: /suspend answers 409.
      const s = await http(B, 'POST', `/v1/credentials/${encodeURIComponent(r.id)}/suspend`,
        {token: B.revoker});
      eq(s.status, 409, 'did:key node (suspension off): /suspend answers 409');
      const rv = await http(B, 'POST', `/v1/credentials/${encodeURIComponent(r.id)}/revoke`,
        {token: B.revoker});
      eq(rv.status, 200, 'did:key node: /revoke answers 200');
    }
  }
  console.error(`== did-jwt verifyJWT ${alg} (did:key): ${nOk}/${PER_ALG} verified`);
}
// RS256 has no did:key form: report what the node does.
{
  const cred = structuredClone(template);
  const r = await http(B, 'POST', '/v1/credentials',
    {token: B.issuer, body: {credential: cred, format: 'vc+jwt', alg: 'RS256'}});
  if(r.status === 201) {
    const p = jwtPayload(r.json.credential);
    console.log(`NOTE did:key node, RS256: 201, iss ${p.iss}, kid ${jose.decodeProtectedHeader(r.json.credential).kid}`);
  } else {
    console.log(`NOTE did:key node, RS256: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
