#!/usr/bin/env bash
# Benchmark of the auditor reports at scale (issue #13 item 6): N credentials (default
# 1,000,000) bulk-issued by `credanchor issue --csv` on config/dev.conf (the fastest honest
# way: the real issuance path, 10,000 rows per commit, LMDB synced per commit), then against a
# serving node: the first page of GET /v1/credentials (JSON, limit 100), the same with a status
# filter, a page deep in the table through the ?after= cursor, GET /v1/reports/summary, and the
# node's RSS (total and heap) before and after 8 x 15 list requests (the issue's load).
# Targets: first page < 50 ms, summary < 50 ms, RSS flat. There is no sensible peer to run
# beside it (a report over our own LMDB tables has no off-the-shelf equivalent), so it prints
# the targets instead.
# usage: bench/reports.sh [BUILD_DIR]   (N=200000 bench/reports.sh for a shorter run)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
N=${N:-1000000}
CONF=$SRC/config/dev.conf
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
. "$SRC/bench/lib.bash"
bench_workdir ca-bench-reports
export CREDANCHOR_CREDENTIALS_TEMPLATES_DIR=$SRC/config/templates
export CREDANCHOR_ANCHOR_RPC_URL=""
D=$W/data
print_bench_setting "$BIN" "$CONF"

populate_credentials "$N"

port=$(free_port)
CREDANCHOR_NODE_LISTEN=127.0.0.1:$port "$BIN" serve --config "$CONF" --data-dir "$D" \
  2>"$W/serve.log" &
spid=$!
PIDS+=("$spid")
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
AUD=$("$BIN" token create --role auditor --config "$CONF" --data-dir "$D")
base="http://127.0.0.1:$port"
ms() { # PATH -> median and p99 of 50 requests, in ms
  for _ in $(seq 1 50); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $AUD" "$base$1"
  done | sort -n | awk '{v[NR]=$1*1000} END {printf "median %.1f ms, p99 %.1f ms", v[int(NR/2)+1], v[int(NR*0.99)]}'
}
rss() { awk '/^VmRSS:/{r=$2} /^RssAnon:/{a=$2} END {printf "RSS %d MiB (heap %d MiB)", r/1024, a/1024}' "/proc/$spid/status"; }
deep=$(curl -s -H "Authorization: Bearer $AUD" "$base/v1/credentials?limit=$((N / 2 < 10000 ? N / 2 : 10000))" |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["next"])')
echo "before: $(rss)"
echo "first page (limit 100):          $(ms '/v1/credentials?limit=100')"
echo "first page, status=active:       $(ms '/v1/credentials?limit=100&status=active')"
echo "page after a cursor (?after=):   $(ms "/v1/credentials?limit=100&after=$deep")"
echo "summary:                         $(ms '/v1/reports/summary')"
# Newest first (?sort=-issued, issue #17): the same cursor walk down the table.
deep_desc=$(curl -s -H "Authorization: Bearer $AUD" \
  "$base/v1/credentials?sort=-issued&limit=$((N / 2 < 10000 ? N / 2 : 10000))" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["next"])')
echo "first page, sort=-issued:        $(ms '/v1/credentials?limit=100&sort=-issued')"
echo "sort=-issued after a cursor:     $(ms "/v1/credentials?limit=100&sort=-issued&after=$deep_desc")"
# A walk that parses every record and counts (a completion-date filter matching all): the
# least that a sort by name or completion date would cost, which must read every match's
# value before it can give the first row.
echo "every record parsed (completedFrom): $(ms '/v1/credentials?limit=100&completedFrom=2000-01-01')"
# The console's search box (issue #17): a whole issue number, and a part of a name that 1 in
# 1,000 rows has ("ant 12345" is in "Participant 12345".."Participant 123459": ~11 rows at 1M);
# both walk every record to count the total.
num=$(curl -s -H "Authorization: Bearer $AUD" "$base/v1/credentials?limit=1" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["credentials"][0]["issueNumber"])')
echo "search q=<issue number>:         $(ms "/v1/credentials?limit=100&q=$num")"
echo "search q=<part of a name>:       $(ms '/v1/credentials?limit=100&q=ant%2012345')"
for _ in $(seq 1 8); do
  cpids=()
  for _ in $(seq 1 15); do
    curl -s -o /dev/null -H "Authorization: Bearer $AUD" "$base/v1/credentials?limit=100" &
    cpids+=($!)
  done
  wait "${cpids[@]}"
done
echo "after 8 x 15 list requests: $(rss)"
echo "targets: first page < 50 ms, summary < 50 ms, search at 100,000 < 200 ms (issue #17), RSS flat"
