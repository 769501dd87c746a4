// Published vectors for web/verify/ (issue #15), on Node's WebCrypto:
//   - RFC 8785 JCS: the RFC's input/output files (tests/vectors/jcs);
//   - eddsa-jcs-2022: the W3C vc-di-eddsa Recommendation's example (tests/vectors/di-eddsa-jcs-2022):
//     the canonical forms, the hashes, and the signed credential verifying (and a changed one not);
//   - RFC 9162 §2.1.3: every leaf of every tree of 1..70 leaves, paths built from the RFC's
//     recursive PATH definition, and a wrong index, size, path or leaf refused.
// Prints "FAIL ..." per failed check and "N passed, M failed"; exits 1 on failure.
import {readFileSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {bytesToHex, concat, equal, jcs, sha256, utf8} from '../../web/verify/bytes.mjs';
import {checkDataIntegrity, verifyEddsaJcs} from '../../web/verify/credential.mjs';
import {importMethod} from '../../web/verify/keys.mjs';
import {leafHash, rootFromInclusion} from '../../web/verify/merkle.mjs';

const V = join(process.env.CA_SOURCE_DIR, 'tests', 'vectors');
let passed = 0, failed = 0;
const check = (ok, what) => {
  ok ? passed++ : (failed++, console.log(`FAIL web_verify_vectors: ${what}`));
  return ok;
};

for (const f of readdirSync(join(V, 'jcs', 'input'))) {
  const want = readFileSync(join(V, 'jcs', 'output', f), 'utf8');
  const got = jcs(JSON.parse(readFileSync(join(V, 'jcs', 'input', f), 'utf8')));
  check(got === want, `JCS ${f}: got ${got.slice(0, 80)}`);
}

const D = join(V, 'di-eddsa-jcs-2022');
const txt = (f) => readFileSync(join(D, f), 'utf8').trim();
const signed = JSON.parse(txt('signedJCS.json'));
const {proof, ...unsecured} = signed;
const {proofValue, ...config} = proof;
check(jcs(unsecured) === txt('canonDocJCS.txt'), 'eddsa-jcs-2022: canonical document');
check(jcs(config) === txt('proofCanonJCS.txt'), 'eddsa-jcs-2022: canonical proof configuration');
check(bytesToHex(await sha256(utf8(jcs(unsecured)))) === txt('docHashJCS.txt'), 'document hash');
check(bytesToHex(concat(await sha256(utf8(jcs(config))), await sha256(utf8(jcs(unsecured))))) ===
  txt('combinedHashJCS.txt'), 'combined hash');
const {publicKeyMultibase} = JSON.parse(txt('keyPair.json'));
const did = proof.verificationMethod.split('#')[0];
const resolveDid = async () => ({id: did, assertionMethod: [{id: proof.verificationMethod,
  type: 'Multikey', controller: did, publicKeyMultibase}]});
const issuerOf = (d) => (typeof d.issuer === 'string' ? d.issuer : d.issuer.id);
// The example's issuer is an https URL, not the key's DID, so checkDataIntegrity refuses it
// (the page wants the issuer's own key); the cryptosuite itself is verifyEddsaJcs.
check(issuerOf(signed) !== did && (await checkDataIntegrity(signed, resolveDid)).ok === false,
  'a proof by a key that is not the issuer\'s is refused');
const key = await importMethod((await resolveDid()).assertionMethod[0], 'EdDSA');
check(await verifyEddsaJcs(signed, key) === true, 'the W3C example verifies');
const changed = structuredClone(signed);
changed.credentialSubject.alumniOf = 'Forged University';
check(await verifyEddsaJcs(changed, key) === false, 'a changed example does not');

// RFC 9162 §2.1.1 MTH and §2.1.3.1 PATH, straight from their recursive definitions.
const k = (n) => 2 ** Math.floor(Math.log2(n - 1));
const node = (l, r) => sha256(concat(Uint8Array.of(1), l, r));
async function mth(leaves) {
  if (leaves.length === 1) {
    return leaves[0];
  }
  const s = k(leaves.length);
  return node(await mth(leaves.slice(0, s)), await mth(leaves.slice(s)));
}
async function path(m, leaves) {
  if (leaves.length === 1) {
    return [];
  }
  const s = k(leaves.length);
  return m < s ? [...await path(m, leaves.slice(0, s)), await mth(leaves.slice(s))]
    : [...await path(m - s, leaves.slice(s)), await mth(leaves.slice(0, s))];
}
const leaves = [];
for (let i = 0; i < 70; i++) {
  leaves.push(await leafHash(await sha256(utf8(`leaf ${i}`))));
}
let good = 0, refused = 0, cases = 0;
const stranger = await sha256(utf8('a hash that is in no tree here'));
// The tree size is not among the wrong inputs: a path can prove the same root for two sizes,
// which is why verify.mjs requires the proof's size to be the signed checkpoint's.
const never = async (root, ...a) => {
  try {
    return !equal(await rootFromInclusion(...a), root);
  } catch {
    return true;
  }
};
for (let n = 1; n <= 70; n++) {
  const tree = leaves.slice(0, n), root = await mth(tree);
  for (let i = 0; i < n; i++) {
    const p = await path(i, tree);
    cases++;
    if (equal(await rootFromInclusion(i, n, tree[i], p), root)) {
      good++;
    }
    const wrong = [[i, n, leaves[(i + 1) % 70], p], [i, n, tree[i], p.slice(1)],
      [i, n, tree[i], [...p, root]], [i, n, tree[i], p.map((h, x) => (x ? h : stranger))]];
    if (n > 1) {
      wrong.push([(i + 1) % n, n, tree[i], p]);
    }
    let ok = true;
    for (const w of wrong) {
      if (n === 1 && w[3].length === 0 && w[2] === tree[i]) {
        continue; // the one-leaf tree: an empty path is all there is
      }
      ok = ok && await never(root, ...w);
    }
    refused += ok ? 1 : 0;
  }
}
check(good === cases, `RFC 9162 inclusion: ${good} of ${cases} leaves prove their root`);
check(refused === cases, `RFC 9162 inclusion: wrong inputs refused for ${refused} of ${cases} leaves`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed || !passed ? 1 : 0);
