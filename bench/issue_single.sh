#!/usr/bin/env bash
# Single issuance over HTTP: POST /v1/credentials (one Ed25519 VC-JWT per request: sign, issue
# number, status slot, record and log leaf in one synced commit, its audit entry included),
# wrk -t1 -c1 (one client: the latency of a durable issuance) and -t2 -cCONC, DURATION each.
# Peer, side by side on the same node and concurrency: POST /v1/log/entries with one fresh
# digest per request (bench/appends_one.lua), the bare durable append an issuance is built
# on; the ratio issuances/s / appends/s says what the credential work costs on top.
# Prints figures, not pass/fail.
#
# usage: bench/issue_single.sh [BUILD_DIR]      env CONC=16 DURATION=5s KEEP_WORK=1
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
CONC=${CONC:-16}
DURATION=${DURATION:-5s}
CONF=$SRC/config/dev.conf
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
for tool in wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (scripts/install-deps)" >&2; exit 2; }
done
# shellcheck source=bench/lib.bash
. "$SRC/bench/lib.bash"
bench_workdir ca-bench-issue-single
export CREDANCHOR_ANCHOR_RPC_URL=""
DATA=$W/data

echo "== single issuance over HTTP: wrk -t1 -c1 and -t2 -c$CONC, $DURATION each, beside 1-digest appends"
print_bench_setting "$BIN" "$CONF"

"$BIN" init --config "$CONF" --data-dir "$DATA" >/dev/null 2>&1
ISSUER=$("$BIN" token create --role issuer --config "$CONF" --data-dir "$DATA" 2>/dev/null)
python3 - "$SRC/config/templates/security-awareness-2026.json" "$W/body.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["credentialSubject"]["id"] = "did:example:bench"
json.dump({"credential": c, "format": "vc+jwt", "alg": "EdDSA"}, open(sys.argv[2], "w"))
PY
CA_PORT=$(free_port)
CREDANCHOR_NODE_LISTEN=127.0.0.1:$CA_PORT "$BIN" serve --config "$CONF" --data-dir "$DATA" \
  2>"$W/serve.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$CA_PORT/v1/health"
echo "effective config (credanchor serve's start-up dump):"
grep -E '^[a-z_]+\.[a-z_]+ = ' "$W/serve.log" | sed 's/^/  /'

URL=http://127.0.0.1:$CA_PORT
for c in 1 "$CONC"; do
  t=$(( c < 2 ? 1 : 2 ))
  wrk -t"$t" -c"$c" -d"$DURATION" --latency -s "$SRC/bench/issue_one.lua" "$URL/v1/credentials" \
    -- "$W/body.json" "$ISSUER" >"$W/wrk-issue-$c.txt"
  nonce=$(python3 -c 'import os; print(os.urandom(16).hex())')
  wrk -t"$t" -c"$c" -d"$DURATION" --latency -s "$SRC/bench/appends_one.lua" "$URL" \
    -- "$nonce" "$ISSUER" 1 >"$W/wrk-append-$c.txt"
done

echo "== results"
for c in 1 "$CONC"; do
  python3 - "$W/wrk-issue-$c.txt" "$W/wrk-append-$c.txt" "$c" "$SRC/bench" <<'PY'
import sys
sys.path.insert(0, sys.argv[4])
from wrk_stats import wrk
_, secs, reqs, ibad, il = wrk(sys.argv[1])
i = reqs / secs
_, secs, reqs, abad, al = wrk(sys.argv[2])
a = reqs / secs
print(f"-c{sys.argv[3]}: POST /v1/credentials {i:,.0f} issuances/s (p50 {il['50%']}, p99 {il['99%']}, "
      f"non-2xx {ibad}); peer POST /v1/log/entries 1 digest {a:,.0f}/s (p50 {al['50%']}, "
      f"p99 {al['99%']}, non-2xx {abad}); ratio {i / a:.2f}")
PY
done
