// C2SP tlog-checkpoint signed notes and verifier keys (SPEC §1), checked with WebCrypto
// Ed25519, for the in-browser verifier (issue #15).
import {base64ToBytes, concat, equal, sha256, utf8} from './bytes.mjs';

// C2SP signed-note verifier key: <name>+<hex key id>+<base64(0x01 || 32-byte Ed25519 key)>.
export async function parseVerifierKey(text) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text.trim());
  if (!m) {
    throw new Error('not a signed-note verifier key');
  }
  const raw = base64ToBytes(m[3]);
  if (raw.length !== 33 || raw[0] !== 1) {
    throw new Error('not an Ed25519 verifier key');
  }
  // Key id: SHA-256(name || 0x0A || 0x01 || key)[:4] (C2SP signed-note).
  const id = (await sha256(concat(utf8(m[1]), Uint8Array.of(0x0a), raw))).slice(0, 4);
  if (!equal(id, Uint8Array.from(m[2].match(/../g), (h) => parseInt(h, 16)))) {
    throw new Error('the verifier key id does not match its key');
  }
  return {name: m[1], id, key: raw.slice(1)};
}

// Splits and checks a checkpoint note against one verifier key. Returns
// {ok, detail, origin, size, root}; ok only when a signature line by that key verifies over
// exactly the note's text (the blank line and signatures excluded).
export async function checkCheckpoint(note, vkey) {
  const sep = note.indexOf('\n\n');
  if (sep < 0 || !note.endsWith('\n')) {
    return {ok: false, detail: 'not a signed note'};
  }
  const body = note.slice(0, sep + 1);
  const lines = body.split('\n');
  if (lines.length !== 4 || !/^[1-9][0-9]*$|^0$/.test(lines[1])) {
    return {ok: false, detail: 'not a checkpoint (origin, size, root)'};
  }
  let root;
  try {
    root = base64ToBytes(lines[2]);
  } catch {
    return {ok: false, detail: 'the checkpoint root is not base64'};
  }
  const out = {origin: lines[0], size: Number(lines[1]), root};
  if (root.length !== 32) {
    return {...out, ok: false, detail: 'the checkpoint root is not 32 bytes'};
  }
  if (out.origin !== vkey.name) { // SPEC §1: the key name is the origin
    return {...out, ok: false, detail: `the checkpoint is for ${out.origin}, not ${vkey.name}`};
  }
  const pub = await crypto.subtle.importKey('raw', vkey.key, {name: 'Ed25519'}, false, ['verify']);
  for (const line of note.slice(sep + 2).split('\n').filter(Boolean)) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m || m[1] !== vkey.name) {
      continue;
    }
    const sig = base64ToBytes(m[2]);
    if (sig.length === 68 && equal(sig.slice(0, 4), vkey.id) &&
        await crypto.subtle.verify({name: 'Ed25519'}, pub, sig.slice(4), utf8(body))) {
      return {...out, ok: true, detail: `signed by the log key ${vkey.name}`};
    }
  }
  return {...out, ok: false, detail: `no valid signature by the log key ${vkey.name}`};
}
