#!/usr/bin/env bash
# Durable appends over HTTP (issue 3 benchmark): 16 concurrent clients (wrk -c16) POST batches
# of 1,000 fresh digests to /v1/log/entries for DURATION; each answer comes only after the
# group commit is fsync'd. Digests are unique across wrk threads and requests (thread id,
# request counter, position). Target: >= 100,000 digests/s. For comparison, Tessera publishes
# ~2,900 entries/s on 12 cores with fsync. Prints figures, not pass/fail; runs once with
# node.threads = 0 (four per core, at least 8) and once with 16 workers (one per client, so every
# client's request can wait in the same group commit).
#
# usage: bench/http_appends.sh [BUILD_DIR]      (env DURATION=10s)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
DURATION=${DURATION:-10s}
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
for tool in wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done

CONF=$SRC/config/dev.conf
# shellcheck source=bench/lib.bash
. "$SRC/bench/lib.bash"
bench_workdir ca-bench-appends
export CREDANCHOR_ANCHOR_RPC_URL=""   # no anchoring: appends only

cat > "$W/appends.lua" <<'EOF'
-- Each request: {"digests":[1000 fresh 64-hex digests]}; digest = thread id (8 hex) ||
-- per-thread request counter (16 hex) || position (8 hex) || a run nonce (32 hex).
local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end
function init(args)
  nonce = args[1]
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end
request = function()
  counter = counter + 1
  local parts = {}
  local prefix = string.format("%08x%016x", tid, counter)
  for i = 1, 1000 do
    parts[i] = '"' .. prefix .. string.format("%08x", i) .. nonce .. '"'
  end
  return wrk.format(nil, "/v1/log/entries", nil, '{"digests":[' .. table.concat(parts, ",") .. ']}')
end
EOF

run_one() { # threads
  local threads=$1 data=$W/data-$1 port pid
  "$BIN" init --config "$CONF" --data-dir "$data" >/dev/null
  local token
  token=$("$BIN" token create --role issuer --config "$CONF" --data-dir "$data" 2>/dev/null)
  port=$(free_port)
  CREDANCHOR_NODE_LISTEN=127.0.0.1:$port CREDANCHOR_NODE_THREADS=$threads \
    "$BIN" serve --config "$CONF" --data-dir "$data" 2>"$W/serve-$threads.log" &
  pid=$!
  PIDS+=("$pid")
  wait_http "http://127.0.0.1:$port/v1/health"
  local nonce
  nonce=$(python3 -c 'import os; print(os.urandom(16).hex())')
  wrk -t2 -c16 -d"$DURATION" --latency -s "$W/appends.lua" "http://127.0.0.1:$port" -- "$nonce" "$token" > "$W/wrk-$threads.txt"
  local size commits
  size=$(curl -sf "http://127.0.0.1:$port/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["treeSize"])')
  commits=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^credanchor_log_commits_total /{print $2}')
  kill "$pid"; wait "$pid" || true
  python3 - "$W/wrk-$threads.txt" "$size" "$commits" "$threads" "$DURATION" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
size, commits, threads = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
reqs = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", t).group(1))
secs = float(re.search(r"requests in ([\d.]+)(m?s)", t).group(1))
if re.search(r"requests in [\d.]+ms", t): secs /= 1000
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
lat = {k: re.search(r"^\s*%s\s+(\S+)" % k, t, re.M).group(1) for k in ("50%", "99%")}
print(f"node.threads={threads:>2}: {size / secs:>10,.0f} digests/s durable  ({rps:.0f} req/s of 1000, "
      f"p50 {lat['50%']}, p99 {lat['99%']}, {commits} commits = {size / max(commits, 1):.0f} "
      f"digests/commit, tree size {size}, non-2xx {bad.group(1) if bad else 0})")
EOF
}
echo "== durable appends over HTTP: 16 clients (wrk -t2 -c16 -d$DURATION), batches of 1000 fresh digests"
print_bench_setting "$BIN" "$CONF"
echo "  (per run: CREDANCHOR_NODE_LISTEN on a free port, CREDANCHOR_NODE_THREADS as shown)"
run_one 0
run_one 16
echo "target: >= 100,000 digests/s. Tessera (transparency-dev) publishes ~2,900 entries/s on 12 cores with fsync."
