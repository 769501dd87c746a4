#!/usr/bin/env node
// did:key interop peer: compares credanchor's key material with two npm resolvers.
//
//   node did_key_peer.mjs MULTIKEY_JSONL JWK_JSONL
//
// Each input line is one credanchor resolution (bench_did_key --resolve --derive, as Multikey
// and as JsonWebKey): {"did":..., "didDocument":...}. For every DID this checks, per peer that
// supports the key type:
//
//   key-did-resolver (ceramic): Ed25519 publicKeyBase58 and its derived X25519 keyAgreement key
//     (publicKeyBase58 and id fragment); secp256k1 publicKeyBase58; P-256/P-384 publicKeyJwk x/y.
//   @digitalbazaar/did-method-key with ed25519-multikey, ecdsa-multikey and
//     x25519-key-agreement-key-2020: publicKeyMultibase of the resolved document (Ed25519,
//     P-256, P-384, X25519 via fromKeyPair), the Ed25519 -> X25519 conversion, and the JWK x/y
//     of ecdsa-multikey's toJwk.
//   @noble/curves (installed with key-did-resolver): secp256k1 decompression against our JWK x/y,
//     since neither resolver exposes x/y for secp256k1.
//
// Prints one "FAIL ..." line per mismatch and ends with "N passed, M failed"; exits 1 on any
// failure or when a resolution could not be compared at all.
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nm = (p) => pathToFileURL(path.join(here, 'node_modules', p)).href;

const {getResolver} = await import(nm('key-did-resolver/dist/index.js'));
const didKey = await import(nm('@digitalbazaar/did-method-key/lib/index.js'));
const Ed25519Multikey = await import(nm('@digitalbazaar/ed25519-multikey/lib/index.js'));
const EcdsaMultikey = await import(nm('@digitalbazaar/ecdsa-multikey/lib/index.js'));
const {X25519KeyAgreementKey2020} =
  await import(nm('@digitalbazaar/x25519-key-agreement-key-2020/lib/index.js'));
const {secp256k1} = await import(nm('@noble/curves/secp256k1.js'));
const {base58btc} = await import(nm('multiformats/dist/src/bases/base58.js'));

const [multikeyFile, jwkFile] = process.argv.slice(2);
if(!multikeyFile || !jwkFile) {
  console.error('usage: node did_key_peer.mjs MULTIKEY_JSONL JWK_JSONL');
  process.exit(2);
}
const readJsonl = (f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean)
  .map((l) => JSON.parse(l));
const mk = readJsonl(multikeyFile);
const jw = readJsonl(jwkFile);
if(mk.length !== jw.length || mk.length === 0) {
  console.error(`did_key_peer: ${mk.length} Multikey vs ${jw.length} JWK lines`);
  process.exit(2);
}

let passed = 0;
let failed = 0;
const counts = {};
function check(did, what, got, want) {
  if(got === want) {
    passed++;
    counts[what] = (counts[what] || 0) + 1;
  } else {
    failed++;
    console.log(`FAIL ${did} ${what}: peer ${got} credanchor ${want}`);
  }
}

const hex = (u8) => Buffer.from(u8).toString('hex');
const b64uToHex = (s, size) => {
  // key-did-resolver encodes coordinates with numberToVarBytesBE (no leading zeros): pad.
  const h = Buffer.from(s, 'base64url').toString('hex');
  return h.padStart(2 * size, '0');
};
// multibase 'z' value -> [codec header bytes (2), key bytes] as hex
const mbKeyHex = (mb) => hex(base58btc.decode(mb).slice(2));

const kdr = getResolver().key;
const dbDriver = didKey.driver();
dbDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});
dbDriver.use({multibaseMultikeyHeader: 'zDna', fromMultibase: EcdsaMultikey.from});
dbDriver.use({multibaseMultikeyHeader: 'z82L', fromMultibase: EcdsaMultikey.from});

for(let i = 0; i < mk.length; i++) {
  const {did} = mk[i];
  const docM = mk[i].didDocument;
  const docJ = jw[i].didDocument;
  if(!docM || !docJ || jw[i].did !== did) {
    failed++;
    console.log(`FAIL ${did}: credanchor did not resolve it (${mk[i].detail || jw[i].detail})`);
    continue;
  }
  const mb = did.slice('did:key:'.length);
  const keyHex = mbKeyHex(docM.verificationMethod[0].publicKeyMultibase);
  const jwk = docJ.verificationMethod[0].publicKeyJwk;
  const prefix = mb.slice(0, 4);
  try {
    if(prefix === 'z6Mk') {
      const kaMb = docM.verificationMethod[1].publicKeyMultibase;
      const kaHex = mbKeyHex(kaMb);
      check(did, 'jwk.x=key', b64uToHex(jwk.x, 32), keyHex);
      // key-did-resolver
      const r = await kdr(did, {id: mb, did}, null, {});
      const d = r.didDocument;
      check(did, 'kdr.ed25519', hex(base58btc.baseDecode(d.verificationMethod[0].publicKeyBase58)), keyHex);
      check(did, 'kdr.x25519', hex(base58btc.baseDecode(d.keyAgreement[0].publicKeyBase58)), kaHex);
      check(did, 'kdr.x25519.id', d.keyAgreement[0].id, `${did}#${kaMb}`);
      // digitalbazaar
      const db = await dbDriver.get({did});
      check(did, 'db.ed25519', db.verificationMethod[0].publicKeyMultibase, mb);
      check(did, 'db.x25519',
        X25519KeyAgreementKey2020.convertFromEdPublicKey({publicKeyMultibase: mb}), kaMb);
    } else if(prefix === 'z6LS') {
      check(did, 'jwk.x=key', b64uToHex(jwk.x, 32), keyHex);
      const kak = await X25519KeyAgreementKey2020.from({publicKeyMultibase: mb});
      const {didDocument} = await dbDriver.fromKeyPair({keyAgreementKeyPair: kak});
      check(did, 'db.x25519.did', didDocument.id, did);
      check(did, 'db.x25519', didDocument.keyAgreement[0].publicKeyMultibase, mb);
      // key-did-resolver has no X25519 driver: it must refuse rather than misresolve.
      const r = await kdr(did, {id: mb, did}, null, {});
      check(did, 'kdr.x25519.refused', r.didDocument, null);
    } else if(prefix === 'zQ3s') {
      const r = await kdr(did, {id: mb, did}, null, {});
      check(did, 'kdr.secp256k1',
        hex(base58btc.baseDecode(r.didDocument.verificationMethod[0].publicKeyBase58)), keyHex);
      const full = secp256k1.ProjectivePoint.fromHex(keyHex).toRawBytes(false);
      check(did, 'noble.secp256k1.x', hex(full.slice(1, 33)), b64uToHex(jwk.x, 32));
      check(did, 'noble.secp256k1.y', hex(full.slice(33)), b64uToHex(jwk.y, 32));
    } else if(prefix === 'zDna' || prefix === 'z82L') {
      const size = prefix === 'zDna' ? 32 : 48;
      const r = await kdr(did, {id: mb, did}, null, {});
      const kj = r.didDocument.verificationMethod[0].publicKeyJwk;
      check(did, 'kdr.ec.crv', kj.crv, jwk.crv);
      check(did, 'kdr.ec.x', b64uToHex(kj.x, size), b64uToHex(jwk.x, size));
      check(did, 'kdr.ec.y', b64uToHex(kj.y, size), b64uToHex(jwk.y, size));
      const db = await dbDriver.get({did});
      check(did, 'db.ec', db.verificationMethod[0].publicKeyMultibase, mb);
      const kp = await EcdsaMultikey.from({
        type: 'Multikey', controller: did, id: `${did}#${mb}`, publicKeyMultibase: mb
      });
      const dj = await EcdsaMultikey.toJwk({keyPair: kp});
      check(did, 'db.ec.crv', dj.crv, jwk.crv);
      check(did, 'db.ec.x', dj.x, jwk.x);
      check(did, 'db.ec.y', dj.y, jwk.y);
    } else {
      failed++;
      console.log(`FAIL ${did}: no peer for prefix ${prefix}`);
    }
  } catch(e) {
    failed++;
    console.log(`FAIL ${did}: peer error ${e && e.message}`);
  }
}

console.log('checks: ' + Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' '));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
