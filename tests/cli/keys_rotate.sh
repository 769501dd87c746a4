#!/usr/bin/env bash
# keys rotate --log|--issuer (issue 7 "Key management"): the new key signs from then on, and
# what the old keys signed still verifies, because the old public keys stay published
# (GET /v1/log/keys, the DID document). Also: refused beside a serving node, bad flags.
source "$(dirname "$0")/lib.bash"
D=$WORK/data

"$BIN" init --data-dir "$D" --json > /dev/null || fail "init"
K1=$("$BIN" checkpoint --data-dir "$D" --key)

# Before: append, prove digest A, verify with K1.
gen_digests 0 7 > "$WORK/first"
"$BIN" append --data-dir "$D" - < "$WORK/first" > /dev/null && ok || fail "append before"
A=$(sed -n 3p "$WORK/first")
"$BIN" prove --data-dir "$D" "$A" > "$WORK/p1.json" && ok || fail "prove A"
expect_exit 0 "P1 verifies with K1" -- "$BIN" verify-proof --key "$K1" "$WORK/p1.json"
"$BIN" checkpoint --data-dir "$D" > "$WORK/cp1"
N=$(sed -n 2p "$WORK/cp1")
[ "$N" = 7 ] && ok || fail "size before rotation: $N"

# Rotate the log key.
expect_exit 0 "keys rotate --log" -- "$BIN" keys rotate --log --data-dir "$D" --json
K2=$("$BIN" checkpoint --data-dir "$D" --key)
python3 - "$K2" "$K1" "$D" <<'PY' && ok || fail "rotation state"
import os, stat, sys
k2, k1, d = sys.argv[1:]
assert k2 != k1 and k2.split("+")[0] == k1.split("+")[0], (k1, k2)
arch = os.listdir(os.path.join(d, "keys", "archive"))
assert arch == ["log-%s.key" % k1.split("+")[1]], arch
assert stat.S_IMODE(os.stat(os.path.join(d, "keys", "archive", arch[0])).st_mode) == 0o600
assert not [f for f in os.listdir(os.path.join(d, "keys")) if f.endswith(".next")]
PY
# The latest checkpoint (still size N) is signed by K2.
"$BIN" checkpoint --data-dir "$D" > "$WORK/cp2"
[ "$(sed -n 2p "$WORK/cp2")" = "$N" ] && [ "$(sed -n 3p "$WORK/cp2")" = "$(sed -n 3p "$WORK/cp1")" ] \
  && ! cmp -s "$WORK/cp1" "$WORK/cp2" && ok || fail "fresh checkpoint for size N"

# After: append more, prove B: its checkpoint verifies with K2 and not with K1.
gen_digests 100 5 > "$WORK/second"
"$BIN" append --data-dir "$D" - < "$WORK/second" > /dev/null && ok || fail "append after rotation"
B=$(sed -n 2p "$WORK/second")
"$BIN" prove --data-dir "$D" "$B" > "$WORK/p2.json" && ok || fail "prove B"
expect_exit 0 "P2 verifies with K2" -- "$BIN" verify-proof --key "$K2" "$WORK/p2.json"
expect_exit 1 "P2 does not verify with K1" -- "$BIN" verify-proof --key "$K1" "$WORK/p2.json"
expect_exit 0 "P2 verifies with the local (current) key" -- "$BIN" verify-proof --data-dir "$D" "$WORK/p2.json"
# Old checkpoints still verify with the old key.
expect_exit 0 "P1 still verifies with K1" -- "$BIN" verify-proof --key "$K1" "$WORK/p1.json"
expect_exit 1 "P1 does not verify with K2" -- "$BIN" verify-proof --key "$K2" "$WORK/p1.json"
# A proof at a historical size is signed on demand by the current key.
"$BIN" prove --data-dir "$D" --tree-size 5 "$A" > "$WORK/p5.json" && ok || fail "prove at 5"
expect_exit 0 "historical size signed by K2" -- "$BIN" verify-proof --key "$K2" "$WORK/p5.json"
expect_exit 0 "check after rotation" -- "$BIN" check --data-dir "$D"

# Rotate the issuer key.
"$BIN" resolve --json --data-dir "$D" did:web:localhost%3A8080 > "$WORK/doc1.json" || fail "resolve before"
expect_exit 0 "keys rotate --issuer" -- "$BIN" keys rotate --issuer --data-dir "$D" --json
"$BIN" keys rotate --issuer --data-dir "$D" --json > /dev/null 2>&1 && ok || fail "second issuer rotation"
expect_exit 0 "audit chain intact" -- "$BIN" audit verify --data-dir "$D"

# serve briefly: /v1/log/keys, /v1/log/key, /.well-known/did.json.
port=$(free_port)
URL=http://127.0.0.1:$port
CREDANCHOR_NODE_LISTEN=127.0.0.1:$port "$BIN" serve --data-dir "$D" > "$WORK/serve.log" 2>&1 &
spid=$!
cleanup_hooks+=("kill $spid 2>/dev/null; wait $spid 2>/dev/null")
wait_healthy "$URL"
curl -sf "$URL/v1/log/keys" > "$WORK/keys.json" || fail "GET /v1/log/keys: $(tail -3 "$WORK/serve.log")"
curl -sf "$URL/v1/log/key" > "$WORK/key.txt" || fail "GET /v1/log/key"
curl -sf "$URL/.well-known/did.json" > "$WORK/did.json" || fail "GET /.well-known/did.json"
curl -sf "$URL/v1/log/proof?digest=$B" > "$WORK/p3.json" || fail "GET proof B"
expect_exit 0 "served proof verifies with K2" -- "$BIN" verify-proof --key "$K2" "$WORK/p3.json"
python3 - "$WORK" "$K1" "$K2" "$N" <<'PY' && ok || fail "served keys and DID document"
import json, sys
w, k1, k2, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
keys = json.load(open(w + "/keys.json"))
assert keys == {"keys": [{"key": k1, "fromSize": 0, "toSize": n},
                         {"key": k2, "fromSize": n, "toSize": None}]}, keys
assert open(w + "/key.txt").read().strip() == k2
before = json.load(open(w + "/doc1.json"))["didDocument"]
doc = json.load(open(w + "/did.json"))
did = doc["id"]
ids = [did + "#key-%d" % i for i in (1, 2, 3)]
assert [vm["id"] for vm in doc["verificationMethod"] if vm["type"] == "Multikey"] == ids, doc
# The Ed25519 keys first, then the issuer's VC-JWT keys as JsonWebKey: the Ed25519 keys again
# (#eddsa-n, the EdDSA kid: SPEC §5), ES256K, ES256 and RS256, rotated with them
# (tests/cli/keys_rotate_issuer_algs.sh has the details).
jose = [did + "#%s-%d" % (f, n) for f in ("eddsa", "es256k", "es256", "rs256")
        for n in (1, 2, 3)]
assert doc["assertionMethod"] == ids + jose and doc["authentication"] == ids + jose, doc
# Each #eddsa-n is the same key as #key-n (old keys stay resolvable in both forms).
import base64
def b58(s):
    a = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n = 0
    for ch in s:
        n = n * 58 + a.index(ch)
    return n.to_bytes(34, "big")
vm = {m["id"]: m for m in doc["verificationMethod"]}
for i in (1, 2, 3):
    jwk = vm[did + "#eddsa-%d" % i]["publicKeyJwk"]
    raw = b58(vm[did + "#key-%d" % i]["publicKeyMultibase"][1:])
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519", jwk
    assert base64.urlsafe_b64decode(jwk["x"] + "=") == raw[2:], (i, jwk)
# The original key keeps its id #key-1, so what it signed still resolves.
assert before["verificationMethod"][0]["id"] == ids[0]
assert doc["verificationMethod"][0]["publicKeyMultibase"] == before["verificationMethod"][0]["publicKeyMultibase"]
mbs = [vm["publicKeyMultibase"] for vm in doc["verificationMethod"][:3]]
assert len(set(mbs)) == 3 and all(m.startswith("z6Mk") for m in mbs), mbs
PY
# Refused beside the serving node, nothing changed.
expect_exit 2 "keys rotate --log while serving" -- "$BIN" keys rotate --log --data-dir "$D"
grep -q "in use" "$WORK/stderr" && ok || fail "not 'in use': $(cat "$WORK/stderr")"
expect_exit 2 "keys rotate --issuer while serving" -- "$BIN" keys rotate --issuer --data-dir "$D"
[ "$(curl -sf "$URL/v1/log/key")" = "$K2" ] && ok || fail "key changed under the serving node"
kill -TERM "$spid"
wait "$spid" && ok || fail "serve did not stop cleanly"
[ "$("$BIN" checkpoint --data-dir "$D" --key)" = "$K2" ] && ok || fail "K2 after serve"

# An interrupted rotation (a stale .next key file, never committed) is discarded.
cp "$D/keys/archive/issuer-1.key" "$D/keys/log.key.next"
expect_exit 0 "rotation over a stale .next file" -- "$BIN" keys rotate --log --data-dir "$D"
K3=$("$BIN" checkpoint --data-dir "$D" --key)
[ "$K3" != "$K2" ] && [ ! -e "$D/keys/log.key.next" ] && ok || fail "third log key"
"$BIN" append --data-dir "$D" "$(gen_digests 500 1)" > /dev/null && ok || fail "append with K3"
expect_exit 0 "check after two rotations" -- "$BIN" check --data-dir "$D"

# A rotation interrupted after its commit (the archive name of K3's file is taken, so the file
# swap stops): the store names K4 while log.key still holds K3, and the log would refuse
# appends. The next writer open (here `append`) finishes the rotation and appends.
K3ID=$(echo "$K3" | cut -d+ -f2)
cp "$D/keys/log.key" "$D/keys/archive/log-$K3ID.key"
expect_exit 2 "log rotation stopped after its commit" -- "$BIN" keys rotate --log --data-dir "$D"
rm "$D/keys/archive/log-$K3ID.key"
K4=$("$BIN" checkpoint --data-dir "$D" --key)
[ "$K4" != "$K3" ] && [ -e "$D/keys/log.key.next" ] && ok || fail "stopped rotation: K4 committed, .next left"
"$BIN" append --data-dir "$D" "$(gen_digests 501 1)" > /dev/null 2> "$WORK/append.err" \
  && ok || fail "append finishing the log rotation: $(cat "$WORK/append.err")"
grep -q "finished an interrupted log key rotation" "$WORK/append.err" && ok || fail "no notice: $(cat "$WORK/append.err")"
[ ! -e "$D/keys/log.key.next" ] && [ -e "$D/keys/archive/log-$K3ID.key" ] && ok || fail "files not swapped"
"$BIN" checkpoint --data-dir "$D" > "$WORK/cp4"
"$BIN" verify-proof --key "$K4" <("$BIN" prove --data-dir "$D" "$(gen_digests 501 1)") > /dev/null \
  && ok || fail "the new checkpoint is not signed by K4"
expect_exit 0 "check after the finished rotation" -- "$BIN" check --data-dir "$D"

# Bad usage: exit 2, one line.
expect_exit 2 "keys: no subcommand" -- "$BIN" keys --data-dir "$D"
expect_exit 2 "keys rotate: neither flag" -- "$BIN" keys rotate --data-dir "$D"
expect_exit 2 "keys rotate: both flags" -- "$BIN" keys rotate --log --issuer --data-dir "$D"
expect_exit 2 "keys rotate: unknown flag" -- "$BIN" keys rotate --anchor --data-dir "$D"
expect_exit 2 "keys frobnicate" -- "$BIN" keys frobnicate --log --data-dir "$D"
expect_exit 2 "keys rotate: no data dir" -- "$BIN" keys rotate --log --data-dir "$WORK/none"
expect_exit 0 "keys --help" -- "$BIN" keys --help
[ "$("$BIN" checkpoint --data-dir "$D" --key)" = "$K4" ] && ok || fail "bad usage changed the key"

finish
