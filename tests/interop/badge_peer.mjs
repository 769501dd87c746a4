// Peer for tests/integration/test_takeaway.py: verifies credentials extracted from baked
// badges by the test's own PNG/SVG readers (independent of the node's C code).
//   VC-JWT: jose.jwtVerify with the issuer's publicKeyJwk from its DID document (fetched from
//           the node's resolution route), as production_peer.mjs does.
//   eddsa-jcs-2022: the page's Data Integrity check (web/verify/credential.mjs on WebCrypto).
// Input (CA_BADGES, JSON): {"base", "items": [{"name", "credential"}]} (a JWT string or a
// JSON object). Output: one JSON line per item {"name","ok","detail"}.
import {readFileSync} from 'node:fs';
import * as jose from 'jose';
import {checkDataIntegrity} from '../../web/verify/credential.mjs';

const {base, items} = JSON.parse(readFileSync(process.env.CA_BADGES, 'utf8'));
const resolveDid = async (did) => (await fetch(`${base}/1.0/identifiers/${encodeURIComponent(did)}`,
  {headers: {accept: 'application/did'}})).json();

for (const it of items) {
  let ok = false, detail = '';
  try {
    if (typeof it.credential === 'string') {
      const {kid, alg} = jose.decodeProtectedHeader(it.credential);
      const doc = await resolveDid(kid.split('#')[0]);
      const vm = doc.verificationMethod.find((m) => m.id === kid);
      const key = await jose.importJWK(vm.publicKeyJwk, alg);
      const {payload} = await jose.jwtVerify(it.credential, key, {algorithms: [alg]});
      ok = payload.id !== undefined;
      detail = `jose ${alg}: ${payload.id}`;
    } else {
      const r = await checkDataIntegrity(it.credential, resolveDid);
      ok = r.ok === true;
      detail = r.detail;
    }
  } catch (err) {
    detail = String(err.message || err);
  }
  console.log(JSON.stringify({name: it.name, ok, detail}));
}
