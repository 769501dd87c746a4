// Verification methods from a DID document, as WebCrypto keys, for the in-browser verifier
// (issue #15). Only methods the document lists under assertionMethod count (SPEC §5).
import {base58ToBytes, base64ToBytes, concat} from './bytes.mjs';

const WEBCRYPTO = {
  EdDSA: {name: 'Ed25519'},
  ES256: {name: 'ECDSA', namedCurve: 'P-256'},
  RS256: {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'},
};

export function assertionMethod(didDoc, id) {
  const listed = (didDoc.assertionMethod || []).some((m) => m === id || m?.id === id);
  if (!listed) {
    return null;
  }
  return (didDoc.assertionMethod || []).find((m) => m?.id === id) ||
    (didDoc.verificationMethod || []).find((m) => m?.id === id) || null;
}

// The WebCrypto verify key of a method for a JOSE alg, or throws with the reason.
export async function importMethod(vm, alg) {
  const params = WEBCRYPTO[alg];
  if (!params) {
    throw new Error(`${alg} is not a WebCrypto algorithm`);
  }
  if (vm.type === 'JsonWebKey' && vm.publicKeyJwk) {
    const {d, ...pub} = vm.publicKeyJwk; // never import a private member
    if (d !== undefined) {
      throw new Error('the DID document publishes a private key');
    }
    return crypto.subtle.importKey('jwk', pub, params, false, ['verify']);
  }
  if (vm.type === 'Multikey' && alg === 'EdDSA' && /^z6Mk/.test(vm.publicKeyMultibase || '')) {
    const raw = base58ToBytes(vm.publicKeyMultibase.slice(1));
    if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) {
      throw new Error('not an Ed25519 Multikey');
    }
    return crypto.subtle.importKey('raw', raw.slice(2), params, false, ['verify']);
  }
  throw new Error(`${vm.id} is not a key for ${alg}`);
}

export const webcryptoParams = (alg) =>
  alg === 'ES256' ? {name: 'ECDSA', hash: 'SHA-256'} : WEBCRYPTO[alg];

// The uncompressed secp256k1 point (0x04 || x || y) of a JsonWebKey method, for ES256K.
export function secp256k1Jwk(vm) {
  const k = vm.type === 'JsonWebKey' ? vm.publicKeyJwk || {} : {};
  if (k.kty !== 'EC' || k.crv !== 'secp256k1' || k.d !== undefined) {
    throw new Error(`${vm.id} is not a secp256k1 public key`);
  }
  const x = base64ToBytes(k.x), y = base64ToBytes(k.y);
  if (x.length !== 32 || y.length !== 32) {
    throw new Error(`${vm.id}: the key's coordinates are not 32 bytes`);
  }
  return concat(Uint8Array.of(4), x, y);
}
