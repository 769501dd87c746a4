// Byte helpers for the in-browser verifier (issue #15). Browser-only APIs (WebCrypto,
// TextEncoder, atob), so the same module runs in the page and in Node's tests.

export const utf8 = (s) => new TextEncoder().encode(s);

export function hexToBytes(hex) {
  if (typeof hex !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(hex)) {
    throw new Error('not hex');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.substr(2 * i, 2), 16);
  }
  return out;
}

export const bytesToHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

// Standard or URL-safe base64, with or without padding. Throws on anything else.
export function base64ToBytes(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) {
    throw new Error('not base64');
  }
  const std = s.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equal(a, b) {
  if (a.length !== b.length) {
    return false;
  }
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    d |= a[i] ^ b[i];
  }
  return d === 0;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

// base58btc (the alphabet of multibase 'z'); leading '1's are leading zero bytes.
export function base58ToBytes(s) {
  let n = 0n;
  for (const c of s) {
    const v = B58.indexOf(c);
    if (v < 0) {
      throw new Error('not base58btc');
    }
    n = n * 58n + BigInt(v);
  }
  const out = [];
  for (; n > 0n; n >>= 8n) {
    out.unshift(Number(n & 0xffn));
  }
  for (const c of s) {
    if (c !== '1') {
      break;
    }
    out.unshift(0);
  }
  return Uint8Array.from(out);
}

// RFC 8785 JSON Canonicalization Scheme: keys sorted by UTF-16 code units (Array.sort's
// default order), numbers and strings as ECMAScript's JSON.stringify writes them (which is
// what RFC 8785 §3.2.2 specifies).
export function jcs(v) {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) {
      throw new Error('JCS: not a finite number');
    }
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) {
    return '[' + v.map(jcs).join(',') + ']';
  }
  return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + jcs(v[k])).join(',') + '}';
}
