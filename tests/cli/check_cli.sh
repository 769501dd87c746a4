#!/usr/bin/env bash
# `credanchor check` offline (issue 7): a fresh log, a log after many appends (the root is
# recomputed from every leaf), --json, usage errors, and a leaf corrupted on disk (the
# recomputed root then differs from the signed checkpoint). The on-chain half is
# tests/cli/check_anvil.sh; audit-chain tampering is covered by tests/cli/token_audit.sh.
source "$(dirname "$0")/lib.bash"
D=$WORK/data

"$BIN" init --data-dir "$D" >/dev/null || fail "init"
expect_exit 0 "check: fresh log" -- "$BIN" check --data-dir "$D"
out=$("$BIN" check --data-dir "$D")
grep -q '^ok    checkpoint: size 0,' <<<"$out" && grep -q '^ok    root: ' <<<"$out" &&
  grep -q '^ok    status lists: 0 list version' <<<"$out" &&
  grep -q '^ok    credentials: 0 credential' <<<"$out" && grep -q '^ok    audit: ' <<<"$out" && ok ||
  fail "fresh log lines: $out"

gen_digests 0 5000 > "$WORK/d5000"
"$BIN" append --data-dir "$D" --batch 700 - < "$WORK/d5000" > /dev/null || fail "append 5000"
expect_exit 0 "check: after 5000 appends" -- "$BIN" check --data-dir "$D"
root=$("$BIN" merkle-root "$WORK/d5000")
out=$("$BIN" check --data-dir "$D")
grep -q "^ok    root: recomputed from all 5000 leaves: $root" <<<"$out" && ok || fail "root line: $out"
json=$("$BIN" check --data-dir "$D" --json)
python3 -c "
import json,sys
o=json.loads(sys.argv[1])
assert o['ok'] is True, o
assert [c['name'] for c in o['checks']] == ['checkpoint','root','tiles','anchors','status lists','credentials','contact data','audit','store','keys'], o
assert all(set(c) == {'name','result','detail'} for c in o['checks'])
assert {c['result'] for c in o['checks']} <= {'ok','skip'}
" "$json" && ok || fail "--json shape: $json"

# Usage errors: exit 2 with one line.
expect_exit 2 "check: --confirmations without --rpc" -- "$BIN" check --data-dir "$D" --confirmations 3
expect_exit 2 "check: bad --anchor-address" -- "$BIN" check --data-dir "$D" --rpc http://127.0.0.1:1 --anchor-address 0x12
expect_exit 2 "check: bad --rpc" -- "$BIN" check --data-dir "$D" --rpc ftp://x
expect_exit 2 "check: bad --confirmations" -- "$BIN" check --data-dir "$D" --rpc http://127.0.0.1:1 --confirmations x
expect_exit 2 "check: positional argument" -- "$BIN" check --data-dir "$D" extra
expect_exit 2 "check: missing data dir" -- "$BIN" check --data-dir "$WORK/none"
expect_exit 0 "check --help" -- "$BIN" check --help

grep -q '^ok    tiles: 19 stored 256-leaf tiles match their leaves' <<<"$out" && ok || fail "tiles line: $out"

# A stored tile corrupted on disk: the root still matches (it is not read from tiles), but
# proofs in that block would not verify, and check says which block.
cp -a "$D" "$WORK/tiled"
python3 - "$WORK/tiled/db/data.mdb" "$(sed -n 2561p "$WORK/d5000")" <<'PY' && ok || fail "patch a tile"
import hashlib, sys
path, digest = sys.argv[1], bytes.fromhex(sys.argv[2])   # leaf 2560 = the first of block 10
leaf = hashlib.sha256(b"\x00" + digest).digest()
data = bytearray(open(path, "rb").read())
at = data.find(leaf)
assert at >= 0 and data.find(leaf, at + 1) < 0, "the tile's first leaf hash not found exactly once"
data[at] ^= 0x01
open(path, "r+b").write(data)
PY
expect_exit 1 "check: a corrupted tile fails" -- "$BIN" check --data-dir "$WORK/tiled"
out=$("$BIN" check --data-dir "$WORK/tiled" 2>/dev/null)
grep -q '^fail  tiles: 1 of 19 stored 256-leaf tiles differ from their leaves (first: block 10, leaves 2560..2815)' <<<"$out" &&
  grep -q '^ok    root: ' <<<"$out" && ok || fail "corrupted tile lines: $out"

# A leaf corrupted on disk (LMDB has no checksums): flip the last byte of one digest in the
# leaves table. The stored tree still matches the checkpoint; the recomputation does not.
target=$(sed -n 1234p "$WORK/d5000")
python3 - "$D/db/data.mdb" "$target" <<'PY' && ok || fail "patch the leaf"
import sys
path, digest = sys.argv[1], bytes.fromhex(sys.argv[2])
data = bytearray(open(path, "rb").read())
at = data.find(digest)
assert at >= 0 and data.find(digest, at + 1) < 0, "digest not found exactly once"
data[at + 31] ^= 0xff
open(path, "r+b").write(data)
PY
expect_exit 1 "check: a corrupted leaf fails" -- "$BIN" check --data-dir "$D"
out=$("$BIN" check --data-dir "$D" 2>/dev/null)
grep -q '^fail  root: recomputed root .* of 5000 leaves is not the checkpoint' <<<"$out" && ok ||
  fail "corrupted leaf line: $out"
json=$("$BIN" check --data-dir "$D" --json 2>/dev/null)
[[ "$json" == '{"ok":false,'* ]] && ok || fail "--json ok false: $json"
# Credentials and status lists: every list version and credential is in the log; a stored
# credential altered on disk is found.
C=$WORK/cred
"$BIN" init --data-dir "$C" >/dev/null || fail "init cred"
"$BIN" issue --data-dir "$C" --csv "$CA_SOURCE_DIR/tests/data/participants-166.csv" \
  --template "$CA_SOURCE_DIR/config/templates/security-awareness-2026.json" --json > "$WORK/issued.json" 2>/dev/null ||
  fail "issue 166"
first=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['id'])" "$WORK/issued.json")
"$BIN" revoke --data-dir "$C" "$first" > /dev/null 2>&1 || fail "revoke one"
out=$("$BIN" check --data-dir "$C")
grep -q '^ok    status lists: 2 list version(s) all in the log' <<<"$out" &&
  grep -q '^ok    credentials: 166 credential(s) hash to their digests' <<<"$out" && ok ||
  fail "credential check lines: $out"
python3 - "$C/db/data.mdb" <<'PY' && ok || fail "patch a credential"
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
at = data.find(b"eyJhbGciOiJFZERTQSIs")   # the first stored compact JWS
assert at >= 0
end = data.find(b".", data.find(b".", at) + 1)
data[end - 5] ^= 0x01                       # inside the payload
open(path, "r+b").write(data)
PY
expect_exit 1 "check: an altered credential fails" -- "$BIN" check --data-dir "$C"
out=$("$BIN" check --data-dir "$C" 2>/dev/null)
grep -q "^fail  credentials: .*does not hash to its digest" <<<"$out" && ok || fail "altered line: $out"
# Issue #13 item 11. A legitimately pending anchor (no transaction yet: the RPC endpoint is
# down) is not a failure.
P=$WORK/pending
"$BIN" init --data-dir "$P" >/dev/null || fail "init pending"
head -300 "$WORK/d5000" | "$BIN" append --data-dir "$P" - > /dev/null || fail "append pending"
CREDANCHOR_ANCHOR_RPC_URL=http://127.0.0.1:9 CREDANCHOR_ANCHOR_CHAIN_ID=31337 \
  "$BIN" anchor --data-dir "$P" --timeout 1 > "$WORK/pending.json" 2>/dev/null
grep -q '"status": *"pending"' "$WORK/pending.json" && ok || fail "a pending anchor: $(cat "$WORK/pending.json")"
expect_exit 0 "check: a pending anchor passes" -- "$BIN" check --data-dir "$P"
grep -q '^ok    anchor 300: ' <<<"$("$BIN" check --data-dir "$P")" && ok || fail "pending anchor line"

# LMDB's free-page list root damaged in both meta pages: every read still answers, every
# append fails (a write allocates from the free list); check reads the free list and fails.
M=$WORK/meta
cp -a "$P" "$M"
python3 - "$M/db/data.mdb" <<'PY' && ok || fail "patch the meta pages"
import struct, sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
# LMDB 0.9 layout (lmdb/mdb.c): a 16-byte page header, then MDB_meta: magic, version,
# address, mapsize, mm_dbs[FREE_DBI] (md_pad = page size; md_root at +40), mm_dbs[MAIN_DBI],
# mm_last_pg at +120.
psize = struct.unpack_from("<I", data, 16 + 24)[0]
assert psize in (4096, 8192, 16384, 65536), psize
for page in (0, 1):
    base = page * psize + 16
    assert struct.unpack_from("<I", data, base)[0] == 0xBEEFC0DE
    last = struct.unpack_from("<Q", data, base + 120)[0]
    struct.pack_into("<Q", data, base + 64, last + 1000)   # free list root past the last page
open(path, "r+b").write(data)
PY
sed -n 301,310p "$WORK/d5000" | "$BIN" append --data-dir "$M" - > /dev/null 2>&1 && fail "append on a damaged free list succeeded" || ok
expect_exit 1 "check: a damaged free list fails" -- "$BIN" check --data-dir "$M"
grep -q '^fail  store: the free-page list cannot be read' <<<"$("$BIN" check --data-dir "$M" 2>/dev/null)" && ok ||
  fail "damaged free list line"
finish
