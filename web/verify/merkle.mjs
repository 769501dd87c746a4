// RFC 9162 §2.1 Merkle tree checks for the in-browser verifier (issue #15, SPEC §1, §3).
// Sizes and indexes are JavaScript numbers (exact below 2^53); no bit operators, which would
// truncate them to 32 bits.
import {concat, equal, hexToBytes, sha256} from './bytes.mjs';

export const leafHash = (digest) => sha256(concat(Uint8Array.of(0), digest));
const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

// RFC 9162 §2.1.3.2: the root that `path` proves for the leaf `leaf` (its leaf hash) at
// `index` in a tree of `size` leaves. Throws when the path has the wrong length.
export async function rootFromInclusion(index, size, leaf, path) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new Error(`leaf index ${index} is not inside a tree of ${size}`);
  }
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) {
      throw new Error('the inclusion path is longer than the tree is deep');
    }
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) {
    throw new Error('the inclusion path is shorter than the tree is deep');
  }
  return r;
}

// Checks a SPEC §3 inclusion proof object for `digest` (bytes) against `root` (bytes, from a
// checked checkpoint). Returns {ok, detail}.
export async function checkInclusion(proof, digest, root) {
  try {
    if (!equal(hexToBytes(proof.digest), digest)) {
      return {ok: false, detail: 'the proof is for another digest'};
    }
    const path = proof.inclusionPath.map(hexToBytes);
    const got = await rootFromInclusion(proof.leafIndex, proof.treeSize, await leafHash(digest), path);
    return equal(got, root)
      ? {ok: true, detail: `leaf ${proof.leafIndex} of ${proof.treeSize} leads to the signed root`}
      : {ok: false, detail: 'the inclusion path does not lead to the signed root'};
  } catch (e) {
    return {ok: false, detail: e.message};
  }
}
