// The credential checks the public page runs in the visitor's browser (issue #15, SPEC §8):
// signature, status, inclusion and anchor, each from signed data the browser fetched itself,
// never from the node's /verification answer.
//
// io: {base: the node's public URL, fetchJson(url), resolveDid(did), rpcUrl (the JSON-RPC
// URL the visitor may change; without one the anchor stays pending), confirmations
// (optional; default by chain)}.
// Returns {verdict, checks: {signature, status, inclusion, anchor}, credential, digest, expired} with
// each check {result: 'pass'|'fail'|'pending', detail}; status also has revoked and suspended.
import {anchorAccount, checkAnchor} from './anchor.mjs';
import {bytesToHex} from './bytes.mjs';
import {checkCheckpoint, parseVerifierKey} from './checkpoint.mjs';
import {checkDataIntegrity, checkJwt, credentialDigest, issuerId} from './credential.mjs';
import {checkInclusion} from './merkle.mjs';
import {bitAt, decodeList} from './status_list.mjs';

const result = (ok) => (ok === true ? 'pass' : ok === false ? 'fail' : 'pending');

async function checkStatus(credential, io) {
  const entries = [credential.credentialStatus || []].flat();
  const issuer = issuerId(credential);
  const out = {result: 'pass', detail: 'no status entry', revoked: false, suspended: false};
  const seen = [];
  for (const e of entries) {
    if (e?.type !== 'BitstringStatusListEntry' ||
        !['revocation', 'suspension'].includes(e.statusPurpose)) {
      return {...out, result: 'fail', detail: 'an unknown status entry'};
    }
    let list;
    try {
      list = await io.fetchJson(e.statusListCredential);
    } catch (err) {
      return {...out, result: 'pending', detail: `cannot fetch the status list: ${err.message}`};
    }
    const listIssuer = issuerId(list);
    const sig = await checkDataIntegrity(list, io.resolveDid);
    if (listIssuer !== issuer || !sig.ok) {
      return {...out, result: 'fail', detail: `the status list is not signed by the issuer: ${sig.detail}`};
    }
    if (list.credentialSubject?.statusPurpose !== e.statusPurpose) {
      return {...out, result: 'fail', detail: 'the status list is for another purpose'};
    }
    try {
      const bit = bitAt(await decodeList(list.credentialSubject.encodedList), Number(e.statusListIndex));
      out[e.statusPurpose === 'revocation' ? 'revoked' : 'suspended'] = bit === 1;
    } catch (err) {
      return {...out, result: 'fail', detail: `the status list cannot be read: ${err.message}`};
    }
    seen.push(e.statusPurpose);
  }
  if (out.revoked || out.suspended) {
    return {...out, result: 'fail', detail: out.revoked ? 'revoked by the issuer' : 'suspended by the issuer'};
  }
  return seen.length ? {...out, detail: `not revoked${seen.includes('suspension') ? ' or suspended' : ''} (signed status list)`} : out;
}

async function checkLog(digest, io) {
  let proof, keys;
  try {
    proof = await io.fetchJson(`${io.base}/v1/log/proof?digest=${bytesToHex(digest)}`);
    keys = (await io.fetchJson(`${io.base}/v1/log/keys`)).keys;
  } catch (err) {
    return {result: 'fail', detail: `the log has no proof for this credential: ${err.message}`};
  }
  const size = Number(proof.checkpoint?.split('\n')[1]);
  const entry = keys.find((k) => k.fromSize <= size && (k.toSize === null || size <= k.toSize));
  if (!entry) {
    return {result: 'fail', detail: 'no log key covers the checkpoint'};
  }
  const cp = await checkCheckpoint(proof.checkpoint, await parseVerifierKey(entry.key));
  if (!cp.ok) {
    return {result: 'fail', detail: cp.detail};
  }
  if (cp.size !== proof.treeSize || bytesToHex(cp.root) !== String(proof.rootHash).toLowerCase()) {
    return {result: 'fail', detail: 'the proof is not for the signed checkpoint'};
  }
  const inc = await checkInclusion(proof, digest, cp.root);
  return {result: result(inc.ok), detail: inc.ok ? `${inc.detail}; ${cp.detail}` : inc.detail,
    proof, checkpoint: cp};
}

// validFrom / validUntil against now (VC DM 2.0 §4.8): null, or why the credential is not
// valid now.
function outsideValidity(vc, now = Date.now()) {
  const from = Date.parse(vc?.validFrom ?? ''), until = Date.parse(vc?.validUntil ?? '');
  if (from > now) {
    return `not valid until ${vc.validFrom}`;
  }
  return until < now ? `expired at ${vc.validUntil}` : null;
}

export async function verifyCredential(presented, io) {
  // The signature, each status list and the anchor all ask for the issuer's DID document:
  // fetch it once per verification.
  const documents = new Map(), fetchDocument = io.resolveDid;
  const resolveDid = (did) => {
    if (!documents.has(did)) {
      documents.set(did, fetchDocument(did));
    }
    return documents.get(did);
  };
  io = {...io, resolveDid};
  let sig;
  if (typeof presented === 'string') {
    sig = await checkJwt(presented.trim(), io.resolveDid);
    presented = presented.trim();
  } else {
    sig = await checkDataIntegrity(presented, io.resolveDid);
  }
  // VC DM 2.0 §4.8, as credanchor verify does: a genuine credential outside its validity
  // period fails the signature step, and the verdict says why (expired).
  const expiredAt = sig.ok ? outsideValidity(sig.credential) : null;
  if (expiredAt) {
    sig = {...sig, ok: false, detail: expiredAt};
  }
  const checks = {signature: {result: result(sig.ok), detail: sig.detail}};
  const credential = sig.credential || {};
  checks.status = await checkStatus(credential, io);
  const digest = await credentialDigest(presented);
  const log = await checkLog(digest, io);
  checks.inclusion = {result: log.result, detail: log.detail};
  if (log.result !== 'pass') {
    checks.anchor = {result: 'pending', detail: 'needs a proven inclusion first'};
  } else if (!io.rpcUrl) {
    checks.anchor = {result: 'pending', detail: 'no JSON-RPC URL to read the chain with'};
  } else {
    const issuer = issuerId(credential);
    const account = anchorAccount(await io.resolveDid(issuer));
    checks.anchor = await checkAnchor(log.proof, log.checkpoint, account, io.rpcUrl, io.confirmations);
  }
  // A forged or unprovable credential is invalid whatever its status says; a genuine one is
  // revoked or suspended when its signed status list says so; pending while a check waits.
  const {revoked, suspended} = checks.status;
  const failed = ['signature', 'inclusion', 'anchor'].some((k) => checks[k].result === 'fail') ||
    (checks.status.result === 'fail' && !revoked && !suspended);
  const pending = Object.values(checks).some((c) => c.result === 'pending');
  const verdict = failed ? 'invalid' : revoked ? 'revoked' : suspended ? 'suspended'
    : pending ? 'pending' : 'verified';
  return {verdict, checks, credential, digest: bytesToHex(digest),
    expired: Boolean(expiredAt?.startsWith('expired'))};
}
