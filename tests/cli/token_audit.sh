#!/usr/bin/env bash
# CLI test: `credanchor token create|list|revoke` and `credanchor audit verify` (SPEC §3, §6).
# Env: CREDANCHOR_BIN (the binary), CA_SOURCE_DIR (repo root; unused here).
set -euo pipefail

BIN=${CREDANCHOR_BIN:?set CREDANCHOR_BIN to the credanchor binary}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
D=$TMP/data
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# run NAME WANT_RC CMD...: runs CMD with stdout/stderr in $TMP/out and $TMP/err and checks its
# exit code. Sets $rc.
run() {
    local name=$1 want=$2
    shift 2
    rc=0
    "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        bad "$name: exit $rc, want $want; stderr: $(head -c 400 "$TMP/err")"
    fi
}
lines() { wc -l <"$1" | tr -d ' '; }
TOKEN_RE='^ca_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$'

run "init" 0 "$BIN" init --data-dir "$D"

# --- token create, one per role: stdout is the token and nothing else ---
declare -A ids
for role in admin issuer revoker auditor; do
    run "create $role" 0 "$BIN" token create --role "$role" --name "test $role" --data-dir "$D"
    if [ "$(lines "$TMP/out")" = 1 ] && grep -Eq "$TOKEN_RE" "$TMP/out"; then ok; else
        bad "create $role: stdout is not exactly one token line: $(cat "$TMP/out")"
    fi
    tok=$(cat "$TMP/out")
    ids[$role]=${tok:3:16}
    if grep -q "${ids[$role]}" "$TMP/err" && ! grep -q "${tok:20}" "$TMP/err"; then ok; else
        bad "create $role: stderr should name the id and never the secret"
    fi
done
run "create with --expires" 0 "$BIN" token create --role issuer --expires 90d --data-dir "$D"
grep -Eq "$TOKEN_RE" "$TMP/out" && ok || bad "create --expires: no token on stdout"
exp_id=$(cut -c4-19 "$TMP/out")
run "create with --expires=SECONDS" 0 "$BIN" token create --role auditor --expires=3600 \
    --data-dir "$D"

# --- bad input: exit 2, one line on stderr, nothing on stdout, nothing created ---
check_usage() {
    local name=$1
    shift
    run "$name" 2 "$@"
    if [ "$(lines "$TMP/err")" = 1 ] && [ ! -s "$TMP/out" ]; then ok; else
        bad "$name: want one stderr line and empty stdout; got: $(cat "$TMP/err" "$TMP/out")"
    fi
}
check_usage "bad role" "$BIN" token create --role root --data-dir "$D"
check_usage "upper-case role" "$BIN" token create --role Admin --data-dir "$D"
check_usage "missing role" "$BIN" token create --data-dir "$D"
for e in 0 -5 5w 1.5h abc "" 99999999999999999999d; do
    check_usage "bad --expires '$e'" "$BIN" token create --role admin --expires "$e" \
        --data-dir "$D"
done
check_usage "no subcommand" "$BIN" token --data-dir "$D"
check_usage "unknown subcommand" "$BIN" token frob --data-dir "$D"
check_usage "unknown option" "$BIN" token list --bogus --data-dir "$D"
check_usage "revoke without id" "$BIN" token revoke --data-dir "$D"
check_usage "revoke unknown id" "$BIN" token revoke 0123456789abcdef --data-dir "$D"
check_usage "revoke malformed id" "$BIN" token revoke nothex --data-dir "$D"
check_usage "audit without subcommand" "$BIN" audit --data-dir "$D"
check_usage "uninitialised data dir" "$BIN" token list --data-dir "$TMP/nowhere"

# --- help lists every subcommand and option ---
run "token --help" 0 "$BIN" token --help
for w in create list revoke --role --expires --name --json --config --data-dir; do
    grep -q -- "$w" "$TMP/out" && ok || bad "token --help does not mention $w"
done
run "audit --help" 0 "$BIN" audit verify --help
for w in verify --json --config --data-dir; do
    grep -q -- "$w" "$TMP/out" && ok || bad "audit --help does not mention $w"
done

# --- list ---
run "list" 0 "$BIN" token list --data-dir "$D"
for role in admin issuer revoker auditor; do
    grep -E "^${ids[$role]} +$role +active " "$TMP/out" >/dev/null && ok ||
        bad "list: no active $role token ${ids[$role]}"
done
grep -q "ca_" "$TMP/out" && bad "list shows token text" || ok
[ "$(grep -c active "$TMP/out")" = 6 ] && ok || bad "list: want 6 active tokens"
run "list --json" 0 "$BIN" token list --json --data-dir "$D"
python3 - "$TMP/out" "${ids[issuer]}" "$exp_id" <<'EOF' && ok || bad "list --json content"
import json, sys
doc = json.load(open(sys.argv[1]))
toks = {t["id"]: t for t in doc["tokens"]}
assert len(toks) == 6, toks
for t in toks.values():
    assert set(t) == {"id", "role", "name", "createdAt", "expiresAt", "revokedAt", "status"}, t
    assert t["status"] == "active" and t["revokedAt"] is None
assert toks[sys.argv[2]]["name"] == "test issuer" and toks[sys.argv[2]]["expiresAt"] is None
assert toks[sys.argv[3]]["expiresAt"].endswith("Z")
EOF

# --- revoke ---
run "revoke" 0 "$BIN" token revoke "${ids[revoker]}" --data-dir "$D"
run "revoke again" 0 "$BIN" token revoke --data-dir "$D" "${ids[revoker]}"
run "list after revoke" 0 "$BIN" token list --data-dir "$D"
grep -E "^${ids[revoker]} +revoker +revoked " "$TMP/out" >/dev/null && ok ||
    bad "list: the revoked token is not shown as revoked"
grep -E "^${ids[admin]} +admin +active " "$TMP/out" >/dev/null && ok ||
    bad "list: revoking one token changed another"
run "list --json after revoke" 0 "$BIN" token list --json --data-dir "$D"
grep -q '"status":"revoked"' "$TMP/out" && ok || bad "list --json: no revoked status"

# --- every token verb works beside the log's writer (a serving node holds writer.lock) ---
if command -v flock >/dev/null; then
    run "list while locked" 0 flock -n "$D/db/writer.lock" "$BIN" token list --data-dir "$D"
    run "audit verify while locked" 0 flock -n "$D/db/writer.lock" \
        "$BIN" audit verify --data-dir "$D"
    run "create while locked" 0 flock -n "$D/db/writer.lock" \
        "$BIN" token create --role admin --data-dir "$D"
    grep -Eq '^ca_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$' "$TMP/out" && ok ||
        bad "create while locked: want a token"
    locked_id=$(cut -d_ -f2 "$TMP/out")
    run "revoke while locked" 0 flock -n "$D/db/writer.lock" \
        "$BIN" token revoke "$locked_id" --data-dir "$D"
fi

# --- audit verify: 7 creates + 3 revokes ---
run "audit verify" 0 "$BIN" audit verify --data-dir "$D"
grep -q "10 entries" "$TMP/out" && ok || bad "audit verify: $(cat "$TMP/out")"
run "audit verify --json" 0 "$BIN" audit verify --json --data-dir "$D"
[ "$(cat "$TMP/out")" = '{"intact":true,"entries":10}' ] && ok ||
    bad "audit verify --json: $(cat "$TMP/out")"
# (Tampering with entries is covered by tests/unit/test_auth.c.)

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
