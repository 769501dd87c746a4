#!/usr/bin/env bash
# backup and restore (issue 7, SPEC §1 §6): a backup of a fresh log; the restore drill (a hot
# backup while `serve` takes appends, restored into a new data dir: check passes, the roots are
# the manifest's and a digest acknowledged before the backup proves on both nodes); tampered
# backups (exit 1); a non-empty data dir without --force (exit 2); an older backup restored over
# a grown log refuses appends (SPEC §1); usage errors; --help.
source "$(dirname "$0")/lib.bash"
export CREDANCHOR_ANCHOR_RPC_URL= CREDANCHOR_NODE_PUBLIC_URL=http://localhost:8080 \
  CREDANCHOR_NODE_RATE_LIMIT_PER_IP=0
D=$WORK/data
"$BIN" init --data-dir "$D" >/dev/null
vkey=$("$BIN" checkpoint --data-dir "$D" --key)

# Prints the manifest field given as a Python expression over m.
mf() { python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print($2)" "$1/manifest.json"; }
cp_root() { "$BIN" checkpoint --data-dir "$1" | sed -n 3p | base64 -d | xxd -p -c 64; }

# ---- --help and usage ----
"$BIN" backup --help > "$WORK/help" && grep -q "passphrase" "$WORK/help" && grep -q "NEVER" "$WORK/help" \
  && ok || fail "backup --help does not say the passphrase is not backed up"
"$BIN" restore --help > "$WORK/help" && grep -q -- "--force" "$WORK/help" && grep -q "refuses appends" "$WORK/help" \
  && ok || fail "restore --help"
expect_exit 2 "backup without DIR" -- "$BIN" backup --data-dir "$D"
expect_exit 2 "restore without DIR" -- "$BIN" restore --data-dir "$WORK/r0"
expect_exit 2 "restore of a missing DIR" -- "$BIN" restore --data-dir "$WORK/r0" "$WORK/missing"
expect_exit 2 "backup of a data dir never initialised" -- "$BIN" backup --data-dir "$WORK/nodata" "$WORK/bx"
[ ! -e "$WORK/bx" ] && ok || fail "a failed backup left $WORK/bx behind"

# ---- a fresh log ----
"$BIN" backup --data-dir "$D" --json "$WORK/b0" > "$WORK/b0.json" 2>"$WORK/err" && ok || fail "backup of a fresh log: $(cat "$WORK/err")"
python3 - "$WORK/b0" "$WORK/b0.json" <<'PY' && ok || fail "fresh backup: manifest or files wrong"
import hashlib, json, os, stat, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert json.load(open(sys.argv[2])) == m, "--json output is not the manifest"
assert m["format"] == 1 and m["treeSize"] == 0, m
assert m["rootHash"] == hashlib.sha256(b"").hexdigest(), m["rootHash"]
assert m["signedMax"] == {"treeSize": 0, "rootHash": m["rootHash"]}, m["signedMax"]
assert m["latestAnchor"] is None and m["createdAt"].endswith("Z")
assert sorted(m["keyFiles"]) == ["anchor.key", "issuer-es256.key", "issuer-es256k.key", "issuer-rs256.key", "issuer.key", "log.key"], m["keyFiles"]
for name, h in m["keyFiles"].items():
    p = os.path.join(d, "keys", name)
    assert hashlib.sha256(open(p, "rb").read()).hexdigest() == h, name
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, name
assert hashlib.sha256(open(os.path.join(d, "db", "data.mdb"), "rb").read()).hexdigest() == m["db"]["sha256"]
assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
files = [os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs]
assert not any("passphrase" in f for f in files), files
assert sorted(os.path.relpath(f, d) for f in files) == ["db/data.mdb", "keys/anchor.key", "keys/issuer-es256.key", "keys/issuer-es256k.key", "keys/issuer-rs256.key", "keys/issuer.key", "keys/log.key", "manifest.json"], files
PY
expect_exit 2 "backup into a non-empty dir" -- "$BIN" backup --data-dir "$D" "$WORK/b0"
# Missing parent folders are created, each 0700 (issue 12 item 10).
"$BIN" backup --data-dir "$D" "$WORK/nest/a/b/c" >/dev/null 2>"$WORK/err" && [ -f "$WORK/nest/a/b/c/manifest.json" ] \
  && ok || fail "backup into missing parents: $(cat "$WORK/err")"
for p in nest nest/a nest/a/b nest/a/b/c; do
  [ "$(stat -c %a "$WORK/$p" 2>/dev/null)" = 700 ] && ok || fail "backup parent $p: mode $(stat -c %a "$WORK/$p" 2>&1), want 700"
done

# ---- the restore drill: a hot backup under append load ----
token=$("$BIN" token create --role issuer --data-dir "$D" 2>/dev/null)
port=$(free_port)
URL=http://127.0.0.1:$port
CREDANCHOR_NODE_LISTEN=127.0.0.1:$port "$BIN" serve --data-dir "$D" > "$WORK/serve.log" 2>&1 &
spid=$!
cleanup_hooks+=("kill $spid 2>/dev/null; wait $spid 2>/dev/null")
wait_healthy "$URL"
post() { # DIGEST... -> HTTP status
  local body
  body=$(printf '"%s",' "$@")
  curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"digests\":[${body%,}]}" "$URL/v1/log/entries"
}
gen_digests 0 20000 > "$WORK/all"
first=$(head -1 "$WORK/all")
[ "$(post "$first")" = 200 ] && ok || fail "the first append was not acknowledged: $(tail -3 "$WORK/serve.log")"
( i=1
  while [ ! -e "$WORK/stop" ] && [ "$i" -lt 19000 ]; do
    post $(sed -n "$((i + 1)),$((i + 25))p" "$WORK/all") > /dev/null
    i=$((i + 25))
  done ) &
lpid=$!
cleanup_hooks+=("touch $WORK/stop; wait $lpid 2>/dev/null")
sleep 1
before=$("$BIN" checkpoint --data-dir "$D" | sed -n 2p)
"$BIN" backup --data-dir "$D" "$WORK/b1" > /dev/null 2>"$WORK/err" && ok || fail "hot backup under load: $(cat "$WORK/err")"
sleep 1
touch "$WORK/stop"
wait "$lpid"
N=$(mf "$WORK/b1" 'm["treeSize"]')
live=$("$BIN" checkpoint --data-dir "$D" | sed -n 2p)
[ "$N" -ge "$before" ] && [ "$N" -ge 2 ] && [ "$live" -gt "$N" ] && ok \
  || fail "backup not taken mid-load: size before $before, backup $N, after $live"
"$BIN" prove --data-dir "$D" "$first" > "$WORK/p_orig.json" \
  && "$BIN" verify-proof --key "$vkey" "$WORK/p_orig.json" > /dev/null && ok || fail "proof on the original node"
expect_exit 2 "restore --force while the node serves" -- "$BIN" restore --data-dir "$D" --force "$WORK/b1"
grep -q "in use" "$WORK/stderr" && ! ls -d "$D"/db.before-restore-* >/dev/null 2>&1 && ok || fail "restore beside a serving node: $(cat "$WORK/stderr")"
kill -TERM "$spid"
wait "$spid" && ok || fail "serve did not stop cleanly"

R=$WORK/restored
mkdir -m 700 "$R" && cp -p "$D/passphrase" "$R/passphrase"
"$BIN" restore --data-dir "$R" "$WORK/b1" > /dev/null 2>"$WORK/err" && [ ! -s "$WORK/err" ] && ok \
  || fail "restore into a new data dir: $(cat "$WORK/err")"
"$BIN" check --data-dir "$R" > "$WORK/check.out" 2>&1 && ok || fail "check on the restored node: $(cat "$WORK/check.out")"
[ "$(cp_root "$R")" = "$(mf "$WORK/b1" 'm["rootHash"]')" ] && [ "$("$BIN" checkpoint --data-dir "$R" | sed -n 2p)" = "$N" ] \
  && ok || fail "the restored checkpoint is not the manifest's"
"$BIN" prove --data-dir "$R" "$first" > "$WORK/p_rest.json" \
  && "$BIN" verify-proof --key "$vkey" "$WORK/p_rest.json" > /dev/null && ok || fail "proof on the restored node"
# Identical roots and proofs at the backup's size on both nodes.
"$BIN" prove --data-dir "$D" --tree-size "$N" "$first" > "$WORK/pN_orig.json" \
  && "$BIN" prove --data-dir "$R" --tree-size "$N" "$first" > "$WORK/pN_rest.json" \
  && python3 - "$WORK/pN_orig.json" "$WORK/pN_rest.json" "$(mf "$WORK/b1" 'm["rootHash"]')" <<'PY' && ok || fail "proofs at the backup size differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
keep = lambda p: {k: p.get(k) for k in ("treeSize", "rootHash", "leafIndex", "inclusionPath", "checkpoint")}
assert keep(a) == keep(b), (keep(a), keep(b))
assert a["rootHash"] == sys.argv[3], (a["rootHash"], sys.argv[3])
PY
"$BIN" verify-proof --key "$vkey" "$WORK/pN_rest.json" > /dev/null && ok || fail "proof at the backup size does not verify"
"$BIN" append --data-dir "$R" "$(sed -n 19999p "$WORK/all")" > /dev/null && ok || fail "the restored node refuses appends"

# ---- tampered backups: exit 1, one clear line, nothing installed ----
tamper() { # NAME FIX-CMD EXPECTED-WORD
  rm -rf "$WORK/bt" "$WORK/rt"
  cp -a "$WORK/b1" "$WORK/bt"
  eval "$2"
  expect_exit 1 "restore of a backup with a tampered $1" -- "$BIN" restore --data-dir "$WORK/rt" "$WORK/bt"
  grep -q "$3" "$WORK/stderr" && ok || fail "tampered $1: unclear message: $(cat "$WORK/stderr")"
  [ ! -e "$WORK/rt/db" ] && ok || fail "tampered $1: something was installed"
}
tamper "manifest" "python3 -c \"import json,sys; p=sys.argv[1]; m=json.load(open(p)); m['treeSize']+=1; json.dump(m,open(p,'w'))\" $WORK/bt/manifest.json" "manifest"
tamper "key file" "printf x >> $WORK/bt/keys/log.key" "keys/log.key"
tamper "db" "printf x >> $WORK/bt/db/data.mdb" "db/data.mdb"

# ---- a non-empty data dir ----
expect_exit 2 "restore into a data dir that holds a node, without --force" -- "$BIN" restore --data-dir "$D" "$WORK/b1"
grep -q -- "--force" "$WORK/stderr" && ok || fail "the refusal does not mention --force"

# ---- SPEC §1: an older backup over a log that has grown since: appends refused ----
"$BIN" restore --data-dir "$D" --force "$WORK/b1" > "$WORK/out" 2>"$WORK/err" && ok || fail "restore --force: $(cat "$WORK/err")"
grep -q "warning.*checkpoint" "$WORK/err" && ok || fail "no warning that appends are refused: $(cat "$WORK/err")"
ls -d "$D"/db.before-restore-* > /dev/null 2>&1 && ok || fail "the replaced db was not moved aside"
expect_exit 2 "append after restoring an older backup" -- "$BIN" append --data-dir "$D" "$(sed -n 19999p "$WORK/all")"
grep -q "checkpoint" "$WORK/stderr" && ok || fail "the refusal does not mention the checkpoint: $(cat "$WORK/stderr")"

# ---- forks: a backup of a log that diverged from the one it replaces is refused appends;
# a newer backup of the same log restored over an older store is not ----
newdir() { mkdir -m 700 "$1" && cp -p "$D/passphrase" "$1/passphrase"; }
newdir "$WORK/r2" && newdir "$WORK/r3"
"$BIN" restore --data-dir "$WORK/r2" "$WORK/b1" > /dev/null && "$BIN" restore --data-dir "$WORK/r3" "$WORK/b1" > /dev/null \
  && "$BIN" append --data-dir "$WORK/r2" $(sed -n 19995,19997p "$WORK/all") > /dev/null \
  && "$BIN" backup --data-dir "$WORK/r2" "$WORK/b2" > /dev/null && ok || fail "setting up the fork"
# $R holds b1 + digest 19999: b2 (b1 + 19995..19997) disagrees with it at size N+1.
"$BIN" restore --data-dir "$R" --force "$WORK/b2" > /dev/null 2>"$WORK/err" && grep -q "warning.*differs" "$WORK/err" \
  && ok || fail "restore of a diverged backup: no warning: $(cat "$WORK/err")"
expect_exit 2 "append after restoring a diverged backup" -- "$BIN" append --data-dir "$R" "$(sed -n 19990p "$WORK/all")"
"$BIN" restore --data-dir "$WORK/r3" --force --json "$WORK/b2" > "$WORK/out" 2>"$WORK/err" && [ ! -s "$WORK/err" ] \
  && python3 -c "import json,sys; o=json.load(open(sys.argv[1])); assert o['appendsRefused'] is None and not o['signedMaxCarried'] and len(o['movedAside'])==2, o" "$WORK/out" \
  && "$BIN" append --data-dir "$WORK/r3" "$(sed -n 19990p "$WORK/all")" > /dev/null \
  && ok || fail "a newer backup of the same log over an older store: $(cat "$WORK/err" "$WORK/out")"
finish
