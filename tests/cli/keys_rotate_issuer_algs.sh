#!/usr/bin/env bash
# keys rotate --issuer replaces EVERY issuer signing key (Ed25519 and the JOSE keys for ES256K,
# ES256, RS256) in one store transaction: credentials issued after it carry the kids
# "#eddsa-2", "#es256k-2", "#es256-2", "#rs256-2" (JsonWebKey methods; Data Integrity proofs
# name the Ed25519 Multikey "#key-2") and new public keys; the DID document keeps
# every old key, so credentials from before AND after verify (the node's verification route
# and `credanchor verify`). Also: a rotation interrupted after its commit (a file swap
# refused half way) is finished by the next run; stale .next files are discarded; with
# did.issuer_method = key each alg signs as the did:key of its newest key; the per-alg cap.
source "$(dirname "$0")/lib.bash"
D=$WORK/data
port=$(free_port)
# `verify --node` fetches status lists by their URL: public_url must be this node.
URL=http://localhost:$port
export CREDANCHOR_NODE_PUBLIC_URL=$URL CREDANCHOR_NODE_LISTEN=127.0.0.1:$port
export CREDANCHOR_ANCHOR_RPC_URL=
ALGS="EdDSA ES256K ES256 RS256"

"$BIN" init --data-dir "$D" --json > "$WORK/init.json" || fail "init"
DID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["did"])' "$WORK/init.json")
python3 - "$CA_SOURCE_DIR/config/templates/security-awareness-2026.json" "$WORK/u.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["credentialSubject"]["id"] = "did:example:alice"
json.dump(c, open(sys.argv[2], "w"))
PY

# issue_all ROUND: one VC-JWT per alg and one eddsa-jcs-2022 credential, kept as
# $WORK/c<ROUND>-<alg>.json (the --json answer of `issue --credential`).
issue_all() {
  local a
  for a in $ALGS; do
    "$BIN" issue --credential "$WORK/u.json" --alg "$a" --data-dir "$D" --json \
      > "$WORK/c$1-$a.json" 2> "$WORK/issue.err" && ok || fail "round $1: issue $a: $(cat "$WORK/issue.err")"
  done
  "$BIN" issue --credential "$WORK/u.json" --format eddsa-jcs-2022 --data-dir "$D" --json \
    > "$WORK/c$1-DI.json" 2> "$WORK/issue.err" && ok || fail "round $1: issue DI: $(cat "$WORK/issue.err")"
}
resolve_doc() { # OUT
  "$BIN" resolve --json --data-dir "$D" "$DID" > "$1" && ok || fail "resolve $DID"
}

issue_all 1
resolve_doc "$WORK/doc1.json"

# 1. Rotate: every issuer key, one answer naming each new method.
"$BIN" keys rotate --issuer --data-dir "$D" --json > "$WORK/rot1.json" 2> "$WORK/rot.err" \
  && ok || fail "keys rotate --issuer: $(cat "$WORK/rot.err")"
issue_all 2
resolve_doc "$WORK/doc2.json"
python3 - "$WORK" "$DID" "$D" <<'PY' && ok || fail "first rotation: answer, kids, keys, document"
import base64, json, os, stat, sys
w, did, d = sys.argv[1:]
FRAG = {"EdDSA": "key", "ES256K": "es256k", "ES256": "es256", "RS256": "rs256"}
# The JWT kids: JsonWebKey methods for every alg (SPEC §5), "#eddsa-n" for the Ed25519 key.
KID = dict(FRAG, EdDSA="eddsa")
rot = json.load(open(w + "/rot1.json"))
assert rot["rotated"] == "issuer" and rot["resumed"] is False and rot["keys"] == 2, rot
assert rot["verificationMethod"] == did + "#key-2", rot
assert rot["issuerKey"] != rot["previousKey"] and rot["issuerKey"].startswith("z6Mk"), rot
assert rot["archived"].endswith("/keys/archive/issuer-1.key"), rot
assert rot["rotatedMethods"] == [did + "#%s-2" % f for f in FRAG.values()], rot
assert [os.path.basename(f) for f in rot["archivedFiles"]] == [
    "issuer-1.key", "issuer-es256k-1.key", "issuer-es256-1.key", "issuer-rs256-1.key"], rot
assert all(os.path.isfile(f) for f in rot["archivedFiles"]), rot
arch = sorted(os.listdir(os.path.join(d, "keys", "archive")))
assert arch == ["issuer-1.key", "issuer-es256-1.key", "issuer-es256k-1.key",
                "issuer-rs256-1.key"], arch
for f in arch:
    assert stat.S_IMODE(os.stat(os.path.join(d, "keys", "archive", f)).st_mode) == 0o600, f
assert not [f for f in os.listdir(os.path.join(d, "keys")) if f.endswith(".next")]

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def header(rnd, alg):
    return json.loads(b64d(json.load(open("%s/c%d-%s.json" % (w, rnd, alg)))["credential"].split(".")[0]))

def methods(doc):
    return {vm["id"]: vm for vm in doc["verificationMethod"]}

def pub(vm):
    return vm.get("publicKeyMultibase") or json.dumps(vm["publicKeyJwk"], sort_keys=True)

doc1 = json.load(open(w + "/doc1.json"))["didDocument"]
doc2 = json.load(open(w + "/doc2.json"))["didDocument"]
m1, m2 = methods(doc1), methods(doc2)
for alg, frag in KID.items():
    old, new = "%s#%s-1" % (did, frag), "%s#%s-2" % (did, frag)
    h1, h2 = header(1, alg), header(2, alg)
    assert (h1["alg"], h1["kid"]) == (alg, old), (alg, h1)
    assert (h2["alg"], h2["kid"]) == (alg, new), (alg, h2)
    # The old method keeps its key; the new one is another key.
    assert pub(m2[old]) == pub(m1[old]), alg
    assert pub(m2[new]) != pub(m2[old]), alg
    assert new not in m1, alg
    for doc in (doc2,):
        assert old in doc["assertionMethod"] and new in doc["assertionMethod"], alg
        assert old in doc["authentication"] and new in doc["authentication"], alg
# Ed25519 Multikeys first, then each JOSE alg's keys oldest first (the Ed25519 keys again as
# JsonWebKey); the anchor method last.
want = [did + "#" + f for f in ("key-1", "key-2", "eddsa-1", "eddsa-2", "es256k-1", "es256k-2",
                               "es256-1", "es256-2", "rs256-1", "rs256-2")]
assert doc2["assertionMethod"] == want, doc2["assertionMethod"]
assert [vm["id"] for vm in doc2["verificationMethod"] if vm["id"] != did + "#anchor"] == want
# Data Integrity: signed by the new Ed25519 key after the rotation.
for rnd, n in ((1, 1), (2, 2)):
    proof = json.load(open("%s/c%d-DI.json" % (w, rnd)))["credential"]["proof"]
    assert proof["verificationMethod"] == "%s#key-%d" % (did, n), proof
PY

# 2. A rotation interrupted after its commit: the archive name of the old ES256K key is taken
# by another file, so the swap stops after issuer.key (Ed25519 done; the JOSE keys left as
# .next files the store already names). The next run finishes it.
cp "$D/keys/log.key" "$D/keys/archive/issuer-es256k-2.key"
expect_exit 2 "rotation stopped half way" -- "$BIN" keys rotate --issuer --data-dir "$D"
grep -q "issuer-es256k-2.key already exists" "$WORK/stderr" && ok || fail "half-way error: $(cat "$WORK/stderr")"
for f in issuer-es256k issuer-es256 issuer-rs256; do
  [ -e "$D/keys/$f.key.next" ] && ok || fail "$f.key.next missing after the interrupted rotation"
done
[ ! -e "$D/keys/issuer.key.next" ] && [ -e "$D/keys/archive/issuer-2.key" ] && ok \
  || fail "issuer.key was not swapped before the stop"
rm "$D/keys/archive/issuer-es256k-2.key"
"$BIN" keys rotate --issuer --data-dir "$D" --json > "$WORK/rot2.json" 2> "$WORK/rot.err" \
  && ok || fail "resume: $(cat "$WORK/rot.err")"
issue_all 3
resolve_doc "$WORK/doc3.json"
python3 - "$WORK" "$DID" "$D" <<'PY' && ok || fail "resumed rotation"
import json, os, sys
w, did, d = sys.argv[1:]
rot = json.load(open(w + "/rot2.json"))
assert rot["resumed"] is True and rot["keys"] == 3, rot
assert rot["verificationMethod"] == did + "#key-3", rot
assert rot["rotatedMethods"] == [did + "#" + f for f in ("key-3", "es256k-3", "es256-3", "rs256-3")], rot
assert rot["archived"].endswith("/keys/archive/issuer-2.key"), rot
assert [os.path.basename(f) for f in rot["archivedFiles"]] == [
    "issuer-2.key", "issuer-es256k-2.key", "issuer-es256-2.key", "issuer-rs256-2.key"], rot
assert all(os.path.isfile(f) for f in rot["archivedFiles"]), rot
arch = sorted(os.listdir(os.path.join(d, "keys", "archive")))
assert arch == sorted("%s-%d.key" % (s, n) for s in ("issuer", "issuer-es256k", "issuer-es256",
                                                     "issuer-rs256") for n in (1, 2)), arch
assert not [f for f in os.listdir(os.path.join(d, "keys")) if f.endswith(".next")]
doc = json.load(open(w + "/doc3.json"))["didDocument"]
ids = [vm["id"] for vm in doc["verificationMethod"]]
for f in ("key", "eddsa", "es256k", "es256", "rs256"):
    for n in (1, 2, 3):
        assert "%s#%s-%d" % (did, f, n) in ids and "%s#%s-%d" % (did, f, n) in doc["assertionMethod"]
    assert "%s#%s-4" % (did, f) not in ids
import base64
for alg, f in (("EdDSA", "eddsa"), ("ES256K", "es256k"), ("ES256", "es256"), ("RS256", "rs256")):
    jwt = json.load(open("%s/c3-%s.json" % (w, alg)))["credential"]
    h = json.loads(base64.urlsafe_b64decode(jwt.split(".")[0] + "=" * (-len(jwt.split(".")[0]) % 4)))
    assert h["kid"] == "%s#%s-3" % (did, f), h
PY

# 3. Stale .next files (never committed) are discarded: a loadable key of the right kind and
# a file of the wrong kind.
cp "$D/keys/archive/issuer-es256k-1.key" "$D/keys/issuer-es256k.key.next"
cp "$D/keys/archive/issuer-1.key" "$D/keys/issuer-rs256.key.next"
"$BIN" keys rotate --issuer --data-dir "$D" --json > "$WORK/rot3.json" 2> "$WORK/rot.err" \
  && ok || fail "rotation over stale .next files: $(cat "$WORK/rot.err")"
python3 - "$WORK" "$DID" "$D" <<'PY' && ok || fail "stale .next files"
import json, os, sys
w, did, d = sys.argv[1:]
rot = json.load(open(w + "/rot3.json"))
assert rot["resumed"] is False and rot["keys"] == 4, rot
assert rot["rotatedMethods"] == [did + "#" + f for f in ("key-4", "es256k-4", "es256-4", "rs256-4")], rot
assert not [f for f in os.listdir(os.path.join(d, "keys")) if f.endswith(".next")]
PY
expect_exit 0 "audit chain intact" -- "$BIN" audit verify --data-dir "$D"
# The audit entries (the store holds them as JSON text).
python3 -c 'import sys; sys.stdout.write(open(sys.argv[1], "rb").read().decode("latin-1"))' \
  "$D/db/data.mdb" > "$WORK/strings"
grep -qa '"detail":"issuer keys replaced: #key-1 by #key-2, #es256k-1 by #es256k-2, #es256-1 by #es256-2, #rs256-1 by #rs256-2' "$WORK/strings" \
  && ok || fail "audit entry does not name every replaced key"
grep -qa '"detail":"issuer keys: finished the interrupted rotation: #key-2 by #key-3, #es256k-2 by #es256k-3' "$WORK/strings" \
  && ok || fail "audit entry of the finished rotation"

# 4. Serve: every credential of every round verifies, by the node's route and by the CLI.
"$BIN" serve --data-dir "$D" > "$WORK/serve.log" 2>&1 &
spid=$!
cleanup_hooks+=("kill $spid 2>/dev/null; wait $spid 2>/dev/null")
wait_healthy "$URL"
curl -sf "$URL/.well-known/did.json" > "$WORK/did.json" && ok || fail "GET /.well-known/did.json: $(tail -3 "$WORK/serve.log")"
python3 - "$WORK" <<'PY' && ok || fail "the served document lacks keys the round-3 document listed"
import json, sys
w = sys.argv[1]
before = json.load(open(w + "/doc3.json"))["didDocument"]["verificationMethod"]
served = json.load(open(w + "/did.json"))["verificationMethod"]
assert all(vm in served for vm in before), [vm["id"] for vm in before if vm not in served]
assert len(served) == len(before) + 5, [vm["id"] for vm in served]
PY
for rnd in 1 2 3; do
  for a in $ALGS DI; do
    id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/c$rnd-$a.json")
    enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$id")
    curl -sf "$URL/v1/credentials/$enc/verification" > "$WORK/v.json" || { fail "round $rnd $a: verification route"; continue; }
    python3 - "$WORK/v.json" <<'PY' && ok || fail "round $rnd $a: route: $(cat "$WORK/v.json")"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["checks"]["signature"]["result"] == "pass" and v["verified"] is True, v
PY
    python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["credential"]; print(c if isinstance(c, str) else json.dumps(c))' \
      "$WORK/c$rnd-$a.json" > "$WORK/cred"
    "$BIN" verify "$WORK/cred" --node "$URL" --json > "$WORK/vc.json" 2> "$WORK/vc.err" \
      && python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["verified"] is True and v["checks"]["signature"]["result"] == "pass", v' "$WORK/vc.json" \
      && ok || fail "round $rnd $a: credanchor verify: $(cat "$WORK/vc.json" "$WORK/vc.err")"
  done
done
# Negative: an old ES256K credential whose header names the newest key (signature kept)
# fails, so the pass above comes from the old key the document still lists.
python3 - "$WORK/c1-ES256K.json" "$DID" > "$WORK/forged" <<'PY'
import base64, json, sys
jwt = json.load(open(sys.argv[1]))["credential"]
h, p, s = jwt.split(".")
hdr = json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))
hdr["kid"] = sys.argv[2] + "#es256k-4"
h = base64.urlsafe_b64encode(json.dumps(hdr, separators=(",", ":")).encode()).decode().rstrip("=")
print(h + "." + p + "." + s)
PY
"$BIN" verify "$WORK/forged" --node "$URL" --json > "$WORK/vf.json" 2>/dev/null
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["checks"]["signature"]["result"] == "fail", v' "$WORK/vf.json" \
  && ok || fail "an old credential re-labelled with the new kid verified: $(cat "$WORK/vf.json")"
kill -TERM "$spid"
wait "$spid" && ok || fail "serve did not stop cleanly"

# 5. did.issuer_method = key: each alg signs as the did:key of its newest key.
CREDANCHOR_DID_ISSUER_METHOD=key "$BIN" issue --credential "$WORK/u.json" --alg ES256K \
  --data-dir "$D" --json > "$WORK/k-ES256K.json" && ok || fail "issue ES256K as did:key"
CREDANCHOR_DID_ISSUER_METHOD=key "$BIN" issue --credential "$WORK/u.json" --alg ES256 \
  --data-dir "$D" --json > "$WORK/k-ES256.json" && ok || fail "issue ES256 as did:key"
resolve_doc "$WORK/doc4.json"
python3 - "$WORK" "$DID" <<'PY' && ok || fail "did:key issuers are the newest keys"
import base64, json, sys
w, did = sys.argv[1:]
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
def b58(b):
    n, out = int.from_bytes(b, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + out
def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
doc = json.load(open(w + "/doc4.json"))["didDocument"]
vms = {vm["id"]: vm for vm in doc["verificationMethod"]}
for alg, frag, codec in (("ES256K", "es256k", b"\xe7\x01"), ("ES256", "es256", b"\x80\x24")):
    jwk = vms["%s#%s-4" % (did, frag)]["publicKeyJwk"]
    x, y = b64d(jwk["x"]), b64d(jwk["y"])
    want = "did:key:z" + b58(codec + bytes([2 + (y[-1] & 1)]) + x)
    jwt = json.load(open("%s/k-%s.json" % (w, alg)))["credential"]
    hdr, pl = (json.loads(b64d(part)) for part in jwt.split(".")[:2])
    assert hdr["kid"] == want + "#" + want[len("did:key:"):], (alg, hdr["kid"], want)
    assert pl["iss"] == want or pl.get("issuer", {}).get("id") == want, (alg, pl.get("iss"))
PY

# 5b. An interrupted rotation that no `keys rotate` finished: an open without the writer lock
# (resolving the own DID) is refused, since the files still hold keys the store calls old;
# the next writer open (here `issue`) finishes the rotation itself and signs with the new keys.
cp "$D/keys/log.key" "$D/keys/archive/issuer-es256k-4.key"
expect_exit 2 "fifth rotation stopped half way" -- "$BIN" keys rotate --issuer --data-dir "$D"
rm "$D/keys/archive/issuer-es256k-4.key"
"$BIN" resolve --json --data-dir "$D" "$DID" > /dev/null 2> "$WORK/pending.err" \
  && fail "resolve succeeded during an interrupted rotation" \
  || { grep -q "keys rotate --issuer" "$WORK/pending.err" && ok || fail "pending rotation: $(cat "$WORK/pending.err")"; }
"$BIN" issue --credential "$WORK/u.json" --alg ES256K --data-dir "$D" --json \
  > "$WORK/c5-ES256K.json" 2> "$WORK/issue.err" && ok || fail "issue finishing the rotation: $(cat "$WORK/issue.err")"
grep -q "finished an interrupted issuer key rotation" "$WORK/issue.err" && ok || fail "no notice: $(cat "$WORK/issue.err")"
python3 - "$WORK" "$DID" "$D" <<'PY' && ok || fail "the writer open finished the rotation"
import base64, json, os, sys
w, did, d = sys.argv[1:]
jwt = json.load(open(w + "/c5-ES256K.json"))["credential"]
h = jwt.split(".")[0]
assert json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"] == did + "#es256k-5"
assert not [f for f in os.listdir(os.path.join(d, "keys")) if f.endswith(".next")]
assert "issuer-es256k-4.key" in os.listdir(os.path.join(d, "keys", "archive"))
PY
resolve_doc "$WORK/doc4b.json"

# 6. The cap: CA_ISSUER_KEYS_MAX (32) keys per alg; the 33rd is refused, nothing changed.
n=5
while [ "$n" -lt 32 ]; do
  "$BIN" keys rotate --issuer --data-dir "$D" > /dev/null 2> "$WORK/rot.err" || break
  n=$((n + 1))
done
[ "$n" = 32 ] && ok || fail "rotation $((n + 1)) failed: $(cat "$WORK/rot.err")"
expect_exit 2 "the 33rd key is refused" -- "$BIN" keys rotate --issuer --data-dir "$D"
grep -q "already 32 EdDSA issuer keys" "$WORK/stderr" && ok || fail "cap message: $(cat "$WORK/stderr")"
resolve_doc "$WORK/doc5.json"
python3 - "$WORK" "$DID" "$D" <<'PY' && ok || fail "32 keys of each alg listed"
import json, os, sys
w, did, d = sys.argv[1:]
doc = json.load(open(w + "/doc5.json"))["didDocument"]
for f in ("key", "eddsa", "es256k", "es256", "rs256"):
    got = [m for m in doc["assertionMethod"] if m.startswith("%s#%s-" % (did, f))]
    assert got == ["%s#%s-%d" % (did, f, n) for n in range(1, 33)], (f, got[-3:])
assert not [f for f in os.listdir(os.path.join(d, "keys")) if f.endswith(".next")]
PY
expect_exit 0 "check after the rotations" -- "$BIN" check --data-dir "$D"

finish
