// Peer for tests/integration/test_web_verify.py: runs the page's in-browser checks
// (web/verify/verify.mjs, unmodified, on Node's WebCrypto) against a live node, as a visitor's
// browser would: it fetches the credential by id, the issuer's DID document, the status
// lists, the inclusion proof and the log keys itself. Then it replays forgeries by rewriting
// the node's answers in flight, as an attacker between the visitor and the node would:
//   - a credential with a changed payload and the old signature;
//   - a status list with the credential's bit flipped and the old signature;
//   - the proof of another credential's leaf;
//   - a checkpoint re-signed by another Ed25519 key under the log's name;
//   - an anchor transaction whose calldata names another root (the JSON-RPC answer rewritten);
//   - a look-alike anchor transaction signed by another key that claims the issuer's sender.
// Input (CA_CASES, a JSON file): {"base": public URL, "rpc": JSON-RPC URL, "cases":
// [{"name","id","other","forge"}]} where other is another credential's id (for the
// wrong-proof case) and forge asks for the forgeries.
// Output: one JSON line per run: {"name","verdict","checks"}.
import {readFileSync} from 'node:fs';
import {verifyCredential} from '../../web/verify/verify.mjs';

const {base, rpc, cases} = JSON.parse(readFileSync(process.env.CA_CASES, 'utf8'));

async function get(url, accept) {
  const r = await fetch(url, {headers: accept ? {accept} : {}, signal: AbortSignal.timeout(20000)});
  if (!r.ok) {
    throw new Error(`GET ${url}: HTTP ${r.status}`);
  }
  return r;
}
const io = (rewrite = {}) => ({
  base,
  rpcUrl: rpc,
  fetchJson: async (url) => (rewrite.json ? rewrite.json(url, await (await get(url)).json())
    : (await get(url)).json()),
  resolveDid: async (did) => (await get(`${base}/1.0/identifiers/${encodeURIComponent(did)}`,
    'application/did')).json(),
});

async function presented(id) {
  const r = await get(`${base}/v1/credentials/${encodeURIComponent(id)}`);
  return r.headers.get('content-type') === 'application/vc' ? r.json() : r.text();
}

function report(name, v) {
  console.log(JSON.stringify({name, verdict: v.verdict, checks: v.checks}));
}

const b64u = (b) => Buffer.from(b).toString('base64url');

for (const c of cases) {
  const cred = await presented(c.id);
  report(c.name, await verifyCredential(cred, io()));
  if (!c.forge) {
    continue;
  }
  // 1. The payload changed, the signature kept.
  if (typeof cred === 'string') {
    const [h, p, s] = cred.split('.');
    const pl = JSON.parse(Buffer.from(p, 'base64url'));
    pl.credentialSubject.achievement = {...pl.credentialSubject.achievement, name: 'Forged'};
    report(`${c.name}: changed payload`, await verifyCredential(`${h}.${b64u(JSON.stringify(pl))}.${s}`, io()));
  } else {
    const forged = structuredClone(cred);
    forged.name = 'Forged';
    report(`${c.name}: changed document`, await verifyCredential(forged, io()));
  }
  // 2. The status list with the credential's bit flipped, its proof kept.
  const entry = [(typeof cred === 'string'
    ? JSON.parse(Buffer.from(cred.split('.')[1], 'base64url')) : cred).credentialStatus].flat()[0];
  const zlib = await import('node:zlib');
  report(`${c.name}: flipped status bit`, await verifyCredential(cred, io({json: (url, body) => {
    if (url !== entry.statusListCredential) {
      return body;
    }
    const bits = zlib.gunzipSync(Buffer.from(body.credentialSubject.encodedList.slice(1), 'base64url'));
    const i = Number(entry.statusListIndex);
    bits[Math.floor(i / 8)] ^= 0x80 >> (i % 8);
    body.credentialSubject.encodedList = 'u' + b64u(zlib.gzipSync(bits));
    return body;
  }})));
  // 3. Another credential's proof.
  const other = await presented(c.other);
  const {credentialDigest} = await import('../../web/verify/credential.mjs');
  const otherHex = Buffer.from(await credentialDigest(other)).toString('hex');
  report(`${c.name}: another leaf's proof`, await verifyCredential(cred, io({json: async (url, body) =>
    (url.includes('/v1/log/proof?') ? (await get(`${base}/v1/log/proof?digest=${otherHex}`)).json() : body)})));
  // 4. The checkpoint re-signed by another key under the same name.
  const crypto = await import('node:crypto');
  const {privateKey} = crypto.generateKeyPairSync('ed25519');
  report(`${c.name}: checkpoint by another key`, await verifyCredential(cred, io({json: (url, body) => {
    if (!url.includes('/v1/log/proof?')) {
      return body;
    }
    // Same name and key id as the log's own line, so only the signature can give it away.
    const at = body.checkpoint.indexOf('\n\n');
    const text = body.checkpoint.slice(0, at + 1);
    const [, name, b64] = body.checkpoint.slice(at + 2).split('\n')[0].split(' ');
    const keyId = Buffer.from(b64, 'base64').subarray(0, 4);
    const sig = crypto.sign(null, Buffer.from(text), privateKey);
    body.checkpoint = `${text}\n\u2014 ${name} ${Buffer.concat([keyId, sig]).toString('base64')}\n`;
    return body;
  }})));
  // 5. The chain's answer for the anchor transaction with another root in its calldata.
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url, init) => {
    const r = await realFetch(url, init);
    if (url !== rpc || !String(init?.body).includes('eth_getTransactionByHash')) {
      return r;
    }
    const body = await r.json();
    if (body.result?.input) {
      const last = body.result.input.slice(-2);
      body.result.input = body.result.input.slice(0, -2) + (last === '00' ? '01' : '00');
    }
    return new Response(JSON.stringify(body), {status: r.status, headers: r.headers});
  };
  try {
    report(`${c.name}: calldata with another root`, await verifyCredential(cred, io()));
  } finally {
    globalThis.fetch = realFetch;
  }
  // 6. A look-alike transaction: the same fields, signed by another key, claiming the issuer's
  // account as its sender; the record and the chain's answer both name its hash.
  const {secp256k1} = await import('../../web/vendor/noble-curves-1.9.7/esm/secp256k1.js');
  const {keccak_256: keccak} = await import('../../web/vendor/noble-hashes-1.8.0/esm/sha3.js');
  const {rlp, txFields} = await import('../../web/verify/anchor.mjs');
  let fake = null;
  globalThis.fetch = async (url, init) => {
    const r = await realFetch(url, init);
    const text = String(init?.body ?? '');
    if (url.includes('/v1/log/proof?')) {
      const body = await r.json();
      if (body.anchor && fake) {
        body.anchor.txHash = fake.hash;
      }
      return new Response(JSON.stringify(body), {status: r.status, headers: r.headers});
    }
    if (url !== rpc || !text.includes('eth_getTransactionByHash')) {
      return r;
    }
    return new Response(JSON.stringify({jsonrpc: '2.0', id: 1, result: fake.tx}), {status: 200});
  };
  try {
    const proof = await (await realFetch(`${base}/v1/log/proof?digest=${
      Buffer.from(await credentialDigest(cred)).toString('hex')}`)).json();
    const real = (await (await realFetch(rpc, {method: 'POST', headers: {'content-type': 'application/json'},
      body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'eth_getTransactionByHash',
        params: [proof.anchor.txHash]})})).json()).result;
    const q = (n) => {
      const x = n.toString(16);
      return n === 0n ? new Uint8Array() : Buffer.from(x.length % 2 ? '0' + x : x, 'hex');
    };
    const fields = txFields(real);
    const sig = secp256k1.sign(keccak(Buffer.concat([Buffer.of(2), rlp(fields)])), secp256k1.utils.randomPrivateKey());
    const signed = Buffer.concat([Buffer.of(2), rlp([...fields, q(BigInt(sig.recovery)), q(sig.r), q(sig.s)])]);
    const hex = (n) => '0x' + n.toString(16);
    fake = {hash: '0x' + Buffer.from(keccak(signed)).toString('hex'),
      tx: {...real, hash: undefined, r: hex(sig.r), s: hex(sig.s), yParity: hex(sig.recovery), v: hex(sig.recovery)}};
    fake.tx.hash = fake.hash;
    report(`${c.name}: transaction by another key`, await verifyCredential(cred, io()));
  } finally {
    globalThis.fetch = realFetch;
  }
}
