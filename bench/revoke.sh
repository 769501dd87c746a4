#!/usr/bin/env bash
# Revocations (issue benchmark): target >= 5,000 revocations/s, batched into status list
# versions (one new signed Bitstring Status List version per touched list per round).
# Untimed setup: a fresh data dir and N credentials issued with `credanchor issue --csv --json`
# (their ids kept). Then, timed:
#   (a) `credanchor revoke --file ids --json` on the stopped node, LOCAL_N distinct ids
#       (the CLI publishes them in rounds of 5,000);
#   (b) `credanchor serve` on a free loopback port: wrk -t2 -cCONC -dDURATION POSTs
#       /v1/credentials/{id}/revoke with a revoker token, bench/revoke.lua cycling over the
#       remaining N - LOCAL_N distinct ids; only answers with "changed":true are counted.
# Versions published: (a) distinct (statusList, version) pairs in the CLI's JSON; (b) the growth
# of the log's tree size (each version's digest is one leaf; nothing else appends meanwhile).
# Peer, side by side on the same node and concurrency: raw durable appends,
# POST /v1/log/entries with APPEND_BATCH fresh digests per request (default 1: one durable
# append per request, as one revocation per request; bench/http_appends.sh's way), and the
# ratio revocations/s / appended digests/s. Prints figures, not pass/fail.
#
# usage: bench/revoke.sh [BUILD_DIR]
#   env N=120000 LOCAL_N=20000 CONC=256 DURATION=5s APPEND_BATCH=1 KEEP_WORK=1
#       THREADS_LIST="0 $CONC" (node.threads per HTTP run: 0 = four per core, at least 8; CONC = one
#       worker per client, so every waiting revocation can join one round, as http_appends.sh)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
N=${N:-120000}
LOCAL_N=${LOCAL_N:-20000}
CONC=${CONC:-256}
DURATION=${DURATION:-5s}
APPEND_BATCH=${APPEND_BATCH:-1}
THREADS_LIST=${THREADS_LIST:-0 $CONC}
CONF=$SRC/config/dev.conf
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
for tool in wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (scripts/install-deps)" >&2; exit 2; }
done
[ "$LOCAL_N" -lt "$N" ] || { echo "LOCAL_N must be < N" >&2; exit 2; }
# shellcheck source=bench/lib.bash
. "$SRC/bench/lib.bash"
bench_workdir ca-bench-revoke

export CREDANCHOR_CREDENTIALS_TEMPLATES_DIR=$SRC/config/templates
export CREDANCHOR_ANCHOR_RPC_URL=""
DATA=$W/data
now() { date +%s.%N; }
health_size() { curl -sf "http://127.0.0.1:$CA_PORT/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["treeSize"])'; }

echo "== revocations: N=$N credentials issued first (untimed), then (a) CLI revoke of $LOCAL_N, (b) HTTP revoke with wrk -t2 -c$CONC -d$DURATION"
print_bench_setting "$BIN" "$CONF"

# ---- setup (untimed) ---------------------------------------------------------------------------
"$BIN" init --config "$CONF" --data-dir "$DATA" >/dev/null 2>&1
python3 - "$W/p.csv" "$N" <<'EOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("externalId,name,email,department,course,completedAt\n")
    for i in range(n):
        f.write(f"R-{i:07d},Participant {i},participant{i}@example.org,Department {i % 23},"
                f"security-awareness-2026,2026-03-{1 + i % 28:02d}T10:00:00Z\n")
EOF
echo "setup: issuing $N credentials (vc+jwt EdDSA) ..." >&2
"$BIN" issue --csv "$W/p.csv" --json --config "$CONF" --data-dir "$DATA" >"$W/issued.json" 2>"$W/issue.err" \
  || { echo "issue failed:" >&2; tail -5 "$W/issue.err" >&2; exit 1; }
python3 - "$W/issued.json" "$W" "$LOCAL_N" <<'EOF'
import json, random, sys
r = json.load(open(sys.argv[1]))
ids = [x["id"] for x in r["results"] if x["status"] == "issued"]
random.Random(1).shuffle(ids)       # revocations hit random positions of the list
k = int(sys.argv[3])
open(sys.argv[2] + "/ids-local.txt", "w").write("\n".join(ids[:k]) + "\n")
open(sys.argv[2] + "/ids-http.txt", "w").write("\n".join(ids[k:]) + "\n")
EOF
rm -f "$W/issued.json" "$W/p.csv"

# ---- (a) CLI ----------------------------------------------------------------------------------
t0=$(now)
"$BIN" revoke --file "$W/ids-local.txt" --json --config "$CONF" --data-dir "$DATA" >"$W/revoke.json" 2>"$W/revoke.err" \
  || { echo "revoke failed:" >&2; tail -5 "$W/revoke.err" >&2; exit 1; }
t1=$(now)
# The CLI's fixed cost (open the node, unlock the keys, close): the same command for one id
# already revoked (a no-op round).
t2=$(now)
"$BIN" revoke --json --config "$CONF" --data-dir "$DATA" "$(head -1 "$W/ids-local.txt")" >/dev/null 2>&1
t3=$(now)
read -r CLI_RATE CLI_LINE < <(python3 - "$W/revoke.json" "$t0" "$t1" "$t2" "$t3" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
secs = float(sys.argv[3]) - float(sys.argv[2])
changed = sum(1 for x in r if x.get("changed"))
versions = {(x["statusList"], x["version"]) for x in r if x.get("changed")}
rate = changed / secs
fixed = float(sys.argv[5]) - float(sys.argv[4])
print(f"{rate:.0f} CLI revoke --file (node stopped):  {changed:,} revoked in {secs:.2f} s = {rate:,.0f}/s; "
      f"{len(versions)} list version(s) = {changed / max(len(versions), 1):,.0f} revocations/version "
      f"(wall time includes opening the node and unlocking the keys: {fixed:.2f} s for a no-op run; "
      f"without it {changed / max(secs - fixed, 1e-9):,.0f}/s)")
EOF
)

# ---- (b) HTTP + the appends peer, once per node.threads setting -----------------------------
REVOKER=$("$BIN" token create --role revoker --config "$CONF" --data-dir "$DATA" 2>/dev/null)
ISSUER=$("$BIN" token create --role issuer --config "$CONF" --data-dir "$DATA" 2>/dev/null)
read -ra TLIST <<<"$THREADS_LIST"
# Each node.threads run gets its own share of the ids, so every run revokes fresh ones.
python3 - "$W/ids-http.txt" "$W" "${#TLIST[@]}" <<'EOF'
import sys
ids = [l for l in open(sys.argv[1]).read().split("\n") if l]
k = int(sys.argv[3])
for j in range(k):
    open(f"{sys.argv[2]}/ids-http-{j}.txt", "w").write("\n".join(ids[j::k]) + "\n")
EOF
http_run() { # INDEX THREADS
  local j=$1 threads=$2 pid s0 s1 s2 nonce
  CA_PORT=$(free_port)
  CREDANCHOR_NODE_LISTEN=127.0.0.1:$CA_PORT CREDANCHOR_NODE_THREADS=$threads \
    "$BIN" serve --config "$CONF" --data-dir "$DATA" 2>"$W/serve-$j.log" &
  pid=$!; PIDS+=("$pid")
  wait_http "http://127.0.0.1:$CA_PORT/v1/health"
  if [ "$j" = 0 ]; then
    echo "effective config (credanchor serve's start-up dump; node.threads varies per run):"
    grep -E '^[a-z_]+\.[a-z_]+ = ' "$W/serve-$j.log" | sed 's/^/  /'
  fi
  s0=$(health_size)
  wrk -t2 -c"$CONC" -d"$DURATION" --latency -s "$SRC/bench/revoke.lua" "http://127.0.0.1:$CA_PORT" \
    -- "$W/ids-http-$j.txt" "$REVOKER" 2 >"$W/wrk-revoke-$j.txt"
  s1=$(health_size)
  nonce=$(python3 -c 'import os; print(os.urandom(16).hex())')
  wrk -t2 -c"$CONC" -d"$DURATION" --latency -s "$SRC/bench/appends_one.lua" "http://127.0.0.1:$CA_PORT" \
    -- "$nonce" "$ISSUER" "$APPEND_BATCH" >"$W/wrk-appends-$j.txt"
  s2=$(health_size)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$threads $s0 $s1 $s2" >"$W/sizes-$j.txt"
}
for j in "${!TLIST[@]}"; do http_run "$j" "${TLIST[$j]}"; done

echo "== results"
echo "$CLI_LINE"
HTTP_BEST=0
for j in "${!TLIST[@]}"; do
  read -r threads size0 size1 size2 <"$W/sizes-$j.txt"
  python3 - "$W/wrk-revoke-$j.txt" "$W/wrk-appends-$j.txt" "$size0" "$size1" "$size2" "$CONC" "$APPEND_BATCH" "$threads" "$SRC/bench" <<'EOF'
import re, sys
sys.path.insert(0, sys.argv[9])
from wrk_stats import wrk
t, secs, reqs, bad, lat = wrk(sys.argv[1])
m = re.search(r"LUA changed=(\d+) wrapped=(\d+) responses=(\d+)", t)
changed, wrapped = int(m.group(1)), int(m.group(2))
s0, s1, s2 = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
conc, batch, threads = sys.argv[6], int(sys.argv[7]), sys.argv[8]
versions = s1 - s0
rate = changed / secs
print(f"node.threads={threads}:")
print(f"  HTTP POST /v1/credentials/{{id}}/revoke: {changed:,} revoked in {secs:.2f} s = {rate:,.0f}/s "
      f"({reqs:,} requests, p50 {lat['50%']}, p99 {lat['99%']}, non-2xx {bad}); "
      f"{versions:,} list version(s) = {changed / max(versions, 1):,.1f} revocations/version"
      + ("  [ids ran out: later requests were no-ops; raise N]" if wrapped else ""))
t2, secs2, reqs2, bad2, lat2 = wrk(sys.argv[2])
digests = s2 - s1
arate = digests / secs2
print(f"  peer POST /v1/log/entries ({batch} digest(s)/request): {digests:,} durable appends in {secs2:.2f} s = "
      f"{arate:,.0f} digests/s ({reqs2 / secs2:,.0f} req/s, p50 {lat2['50%']}, p99 {lat2['99%']}, non-2xx {bad2})")
print(f"  ratio HTTP revocations/s / appends/s at -c{conc}: {rate / arate:.2f}")
open(sys.argv[1] + ".rate", "w").write(f"{rate:.0f}\n")
EOF
  r=$(cat "$W/wrk-revoke-$j.txt.rate"); [ "$r" -le "$HTTP_BEST" ] || HTTP_BEST=$r
done
python3 -c "c=$CLI_RATE; h=$HTTP_BEST; f=lambda r: 'met' if r >= 5000 else 'NOT met'; print(f'target: >= 5,000 revocations/s: CLI {c:,.0f}/s -> {f(c)}; HTTP (best node.threads) {h:,.0f}/s -> {f(h)}')"
