#!/usr/bin/env bash
# Bulk issuance (issue benchmark): N participants of course security-awareness-2026, all
# completed, become signed Open Badges 3.0 credentials (sign + status list slot + durable log
# append, one commit per --chunk rows) with `credanchor issue --csv` on a stopped node, in a
# fresh data dir. Target: >= 10,000 credentials/s with Ed25519 VC-JWT. Peer, run side by side:
# `openssl speed -seconds 3 ed25519` sign/s on one core (the signing ceiling; the issue quotes
# ~38,000/s), and ecdsap256 for the ES256 line. Extra lines: eddsa-jcs-2022 and ES256 VC-JWT
# (N_EXTRA rows), and the HTTP route POST /v1/credentials/batch with CHUNK-row CSV bodies
# (HTTP_N rows, one client, sequential) against `credanchor serve` on a free loopback port.
# Prints figures, not pass/fail.
#
# usage: bench/issue_bulk.sh [BUILD_DIR]
#   env N=100000 N_EXTRA=20000 HTTP_N=$N CHUNK=10000 (HTTP rows per request)
#       CLI_CHUNK= (rows per commit for `issue --chunk`; empty: the CLI default, 1000)
#       SKIP_EXTRA=1 SKIP_HTTP=1 KEEP_WORK=1
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
N=${N:-100000}
N_EXTRA=${N_EXTRA:-20000}
HTTP_N=${HTTP_N:-$N}
CHUNK=${CHUNK:-10000}
CLI_CHUNK=${CLI_CHUNK:-}
CONF=$SRC/config/dev.conf
COURSE=security-awareness-2026
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
for tool in python3 curl openssl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
# shellcheck source=bench/lib.bash
. "$SRC/bench/lib.bash"
bench_workdir ca-bench-issue

# Every run: dev.conf, templates by absolute path (the CLI and serve resolve relative paths
# from the working directory), no anchoring (no chain in a benchmark).
export CREDANCHOR_CREDENTIALS_TEMPLATES_DIR=$SRC/config/templates
export CREDANCHOR_ANCHOR_RPC_URL=""

# participants.csv with ROWS rows, external ids prefixed by TAG (distinct per run).
make_csv() { # FILE ROWS TAG
  python3 - "$1" "$2" "$3" "$COURSE" <<'EOF'
import sys
path, n, tag, course = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(path, "w") as f:
    f.write("externalId,name,email,department,course,completedAt\n")
    for i in range(n):
        f.write(f"{tag}-{i:07d},Participant {i},participant{i}.{tag}@example.org,"
                f"Department {i % 23},{course},2026-03-{1 + i % 28:02d}T{9 + i % 8:02d}:15:00Z\n")
EOF
}

now() { date +%s.%N; }

ossl_sign() { # ALG -> sign/s (openssl speed -seconds 3, one process = one core)
  openssl speed -seconds 3 "$1" 2>/dev/null | awk '/ sign\/s /{h=1; next} h && NF {v=$(NF-1)} END {print v}'
}

# One CLI run in a fresh data dir: prints "rows secs issued".
cli_run() { # NAME ROWS FORMAT ALG
  local name=$1 rows=$2 fmt=$3 alg=$4 data=$W/data-$1 csv=$W/$1.csv
  make_csv "$csv" "$rows" "$name"
  "$BIN" init --config "$CONF" --data-dir "$data" >/dev/null 2>&1
  local chunk_args=()
  [ -z "$CLI_CHUNK" ] || chunk_args=(--chunk "$CLI_CHUNK")
  local t0 t1
  t0=$(now)
  "$BIN" issue --csv "$csv" --format "$fmt" --alg "$alg" "${chunk_args[@]}" \
    --config "$CONF" --data-dir "$data" >"$W/$name.out" 2>"$W/$name.err" || {
    echo "credanchor issue failed ($name):" >&2; tail -5 "$W/$name.err" >&2; exit 1; }
  t1=$(now)
  local issued
  issued=$(sed -n 's/.*issue: \([0-9]*\) issued.*/\1/p' "$W/$name.err" | tail -1)
  [ "$issued" = "$rows" ] || { echo "$name: issued '$issued' of $rows" >&2; tail -3 "$W/$name.err" >&2; exit 1; }
  echo "$rows $(python3 -c "print($t1 - $t0)") $issued"
  rm -rf "$data" "$csv"
}

line() { # LABEL ROWS SECS PEER_LABEL PEER
  python3 - "$@" <<'EOF'
import sys
label, rows, secs, plabel, peer = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
rate = rows / secs
print(f"{label:<34} {rows:>8,} rows {secs:>8.2f} s {rate:>10,.0f} cred/s   "
      f"{plabel} {peer:>9,.0f}/s   ratio {rate / peer:.3f}")
EOF
}

echo "== bulk issuance: credanchor issue --csv on a stopped node (fresh data dir each run)"
print_bench_setting "$BIN" "$CONF"
echo "  rows per commit (issue --chunk): ${CLI_CHUNK:-1000 (default)}; course $COURSE, completedAt set on every row"
echo "effective config (credanchor serve's start-up dump of the same settings):"
"$BIN" init --config "$CONF" --data-dir "$W/cfgprobe" >/dev/null 2>&1
CFG_PORT=$(free_port)
CREDANCHOR_NODE_LISTEN=127.0.0.1:$CFG_PORT "$BIN" serve --config "$CONF" --data-dir "$W/cfgprobe" 2>"$W/cfgprobe.log" &
CFG_PID=$!; PIDS+=("$CFG_PID")
wait_http "http://127.0.0.1:$CFG_PORT/v1/health"
kill "$CFG_PID"; wait "$CFG_PID" 2>/dev/null || true
grep -E '^[a-z_]+\.[a-z_]+ = ' "$W/cfgprobe.log" | grep -v '^node\.listen' | sed 's/^/  /'
rm -rf "$W/cfgprobe"

echo "== peer: openssl $(openssl version | awk '{print $2}') speed -seconds 3 (one core)"
ED=$(ossl_sign ed25519)
echo "  ed25519 sign/s: $ED"
P256=""
if [ -z "${SKIP_EXTRA:-}" ]; then P256=$(ossl_sign ecdsap256); echo "  ecdsap256 sign/s: $P256"; fi

echo "== runs"
cli_run jwt-ed25519 "$N" vc+jwt EdDSA > "$W/res"; read -r rows secs _ < "$W/res"
R_MAIN=$(python3 -c "print($rows / $secs)")
line "CLI vc+jwt EdDSA" "$rows" "$secs" "openssl ed25519 sign" "$ED"
if [ -z "${SKIP_EXTRA:-}" ]; then
  cli_run jcs-eddsa "$N_EXTRA" eddsa-jcs-2022 EdDSA > "$W/res"; read -r rows secs _ < "$W/res"
  line "CLI eddsa-jcs-2022" "$rows" "$secs" "openssl ed25519 sign" "$ED"
  cli_run jwt-es256 "$N_EXTRA" vc+jwt ES256 > "$W/res"; read -r rows secs _ < "$W/res"
  line "CLI vc+jwt ES256" "$rows" "$secs" "openssl p256 sign   " "$P256"
fi

if [ -z "${SKIP_HTTP:-}" ]; then
  data=$W/data-http
  "$BIN" init --config "$CONF" --data-dir "$data" >/dev/null 2>&1
  token=$("$BIN" token create --role issuer --config "$CONF" --data-dir "$data" 2>/dev/null)
  CA_PORT=$(free_port)
  CREDANCHOR_NODE_LISTEN=127.0.0.1:$CA_PORT \
    "$BIN" serve --config "$CONF" --data-dir "$data" 2>"$W/serve.log" &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$CA_PORT/v1/health"
  make_csv "$W/http.csv" "$HTTP_N" http
  mkdir -p "$W/chunks"
  # Split into CHUNK-row bodies, each with the header row.
  python3 - "$W/http.csv" "$W/chunks" "$CHUNK" <<'EOF'
import sys
src, out, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(src).read().splitlines(True)
head, rows = lines[0], lines[1:]
for j, i in enumerate(range(0, len(rows), k)):
    open(f"{out}/{j:05d}.csv", "w").write(head + "".join(rows[i:i + k]))
EOF
  t0=$(now)
  for f in "$W"/chunks/*.csv; do
    code=$(curl -s -o "$W/batch.json" -w '%{http_code}' -X POST \
      -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' \
      --data-binary @"$f" "http://127.0.0.1:$CA_PORT/v1/credentials/batch")
    [ "$code" = 200 ] || { echo "batch $f: HTTP $code" >&2; head -c 400 "$W/batch.json" >&2; exit 1; }
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["failed"]==0 else 1)' "$W/batch.json" \
      || { echo "batch $f: rows failed" >&2; exit 1; }
  done
  t1=$(now)
  size=$(curl -sf "http://127.0.0.1:$CA_PORT/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["treeSize"])')
  echo "  (HTTP: node.listen 127.0.0.1:$CA_PORT, node.threads 0, one client, $CHUNK-row text/csv bodies; tree size after: $size)"
  line "HTTP POST /v1/credentials/batch" "$HTTP_N" "$(python3 -c "print($t1 - $t0)")" "openssl ed25519 sign" "$ED"
fi
python3 -c "r=$R_MAIN; print(f'target: >= 10,000 credentials/s with Ed25519 VC-JWT (CLI): {r:,.0f}/s -> ' + ('met' if r >= 10000 else 'NOT met'))"
