// Signature checks of a credential and of a status list, in the browser (issue #15):
// a VC-JWT (SPEC §5: compact JWS, the payload is the credential) or an eddsa-jcs-2022 Data
// Integrity document (W3C vc-di-eddsa §3.3), each against its issuer's DID document.
// resolveDid(did) -> DID document is the caller's: the page asks its own origin.
import {base58ToBytes, base64ToBytes, concat, jcs, sha256, utf8} from './bytes.mjs';
import {assertionMethod, importMethod, secp256k1Jwk, webcryptoParams} from './keys.mjs';
import {secp256k1} from '../vendor/noble-curves-1.9.7/esm/secp256k1.js';

// A VC's issuer id: `issuer` is a URL or an object with an id (VC DM 2.0 §4.7).
export const issuerId = (vc) => (typeof vc?.issuer === 'string' ? vc.issuer : vc?.issuer?.id);

const decodeJson = (b64) => JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(base64ToBytes(b64)));

// Returns {ok: true|false|null (could not check), detail, credential}.
export async function checkJwt(jwt, resolveDid) {
  const parts = typeof jwt === 'string' ? jwt.split('.') : [];
  if (parts.length !== 3) {
    return {ok: false, detail: 'not a compact JWS'};
  }
  let header, payload;
  try {
    header = decodeJson(parts[0]);
    payload = decodeJson(parts[1]);
  } catch {
    return {ok: false, detail: 'the JWS header or payload is not base64url JSON'};
  }
  const kid = header.kid || '';
  const did = kid.split('#')[0];
  const issuer = issuerId(payload);
  if (!did || (did !== payload.iss && did !== issuer)) {
    return {ok: false, detail: `the key ${kid} is not the issuer's`, credential: payload};
  }
  let key, ok;
  try {
    const vm = assertionMethod(await resolveDid(did), kid);
    if (!vm) {
      return {ok: false, detail: `${kid} is not an assertion method of ${did}`, credential: payload};
    }
    const input = utf8(parts[0] + '.' + parts[1]), sig = base64ToBytes(parts[2]);
    if (header.alg === 'ES256K') {
      // No WebCrypto curve: the vendored @noble/curves (RFC 8812 §3.2: ECDSA over SHA-256,
      // r || s). High-S signatures are valid JOSE, so lowS is not required.
      ok = sig.length === 64 &&
        secp256k1.verify(sig, await sha256(input), secp256k1Jwk(vm), {lowS: false});
    } else {
      key = await importMethod(vm, header.alg);
      ok = await crypto.subtle.verify(webcryptoParams(header.alg), key, sig, input);
    }
  } catch (e) {
    return {ok: false, detail: e.message, credential: payload};
  }
  return {ok, detail: ok ? `${header.alg} signature by ${kid}` : `the ${header.alg} signature does not verify`,
    credential: payload};
}

export async function checkDataIntegrity(doc, resolveDid) {
  const {proof, ...unsecured} = doc || {};
  if (!proof || proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-jcs-2022' ||
      proof.proofPurpose !== 'assertionMethod' || typeof proof.proofValue !== 'string' ||
      !proof.proofValue.startsWith('z')) {
    return {ok: false, detail: 'not an eddsa-jcs-2022 assertion proof', credential: doc};
  }
  const vmId = proof.verificationMethod || '';
  const did = vmId.split('#')[0];
  const issuer = issuerId(doc);
  if (did !== issuer) {
    return {ok: false, detail: `the key ${vmId} is not the issuer's`, credential: doc};
  }
  let key;
  try {
    const vm = assertionMethod(await resolveDid(did), vmId);
    if (!vm) {
      return {ok: false, detail: `${vmId} is not an assertion method of ${did}`, credential: doc};
    }
    key = await importMethod(vm, 'EdDSA');
  } catch (e) {
    return {ok: false, detail: e.message, credential: doc};
  }
  const ok = await verifyEddsaJcs(doc, key);
  return {ok, detail: ok ? `eddsa-jcs-2022 proof by ${vmId}` : 'the eddsa-jcs-2022 proof does not verify',
    credential: doc};
}

// The eddsa-jcs-2022 cryptosuite (W3C vc-di-eddsa §3.3.4): Ed25519 over
// SHA-256(JCS(proof configuration)) || SHA-256(JCS(document without proof)).
export async function verifyEddsaJcs(doc, key) {
  const {proof, ...unsecured} = doc;
  const {proofValue, ...config} = proof;
  const data = concat(await sha256(utf8(jcs(config))), await sha256(utf8(jcs(unsecured))));
  try {
    return await crypto.subtle.verify({name: 'Ed25519'}, key, base58ToBytes(proofValue.slice(1)), data);
  } catch {
    return false;
  }
}

// The log digest of the presented credential (SPEC §1): SHA-256 of the compact JWS, or of the
// JCS form of the whole signed document.
export const credentialDigest = (presented) =>
  sha256(utf8(typeof presented === 'string' ? presented : jcs(presented)));
