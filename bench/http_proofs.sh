#!/usr/bin/env bash
# Inclusion proofs over HTTP at 1,000,000 leaves (issue 3 benchmark), side by side with nginx
# serving a static JSON file of the same size as a proof answer, both on loopback.
#   wrk -t2 -c64 -d10s --latency; credanchor cycles over 10,000 different digests' proof URLs.
# Targets: >= 0.7x nginx's rate, >= 50,000 proofs/s, p99 <= 5 ms. Prints figures, not
# pass/fail. Every process it starts is stopped on exit.
#
# usage: bench/http_proofs.sh [BUILD_DIR]     (default: build; env DURATION=10s, LEAVES=1000000,
#        KEEP_DATA=DIR reuses/keeps the filled data dir between runs)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
DURATION=${DURATION:-10s}
LEAVES=${LEAVES:-1000000}
URLS=10000
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
for tool in wrk nginx python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done

source "$SRC/bench/lib.bash"
bench_workdir ca-bench-proofs

# ---- the data dir: LEAVES digests, SHA-256("bench-<i>"), appended through the CLI
DATA=${KEEP_DATA:-$W/data}
python3 - "$LEAVES" "$URLS" "$W" <<'EOF'
import hashlib, random, sys
n, urls, w = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(f"{w}/digests", "w") as f:
    f.write("".join(hashlib.sha256(b"bench-%d" % i).hexdigest() + "\n" for i in range(n)))
rnd = random.Random(1)
sel = [hashlib.sha256(b"bench-%d" % rnd.randrange(n)).hexdigest() for _ in range(urls)]
with open(f"{w}/proofs.lua", "w") as f:
    f.write("local paths = {\n")
    f.write("".join(f'"/v1/log/proof?digest={d}",\n' for d in sel))
    f.write("}\nlocal n, i = #paths, 0\n"
            "function setup(thread) thread:set('start', thread.id) end\n"
            "request = function()\n  i = i % n + 1\n  return wrk.format('GET', paths[i])\nend\n")

EOF
FIRST=$(head -1 "$W/digests")
if [ ! -d "$DATA/db" ]; then
  echo "filling $DATA with $LEAVES digests ..." >&2
  "$BIN" init --config "$SRC/config/dev.conf" --data-dir "$DATA" >/dev/null
  t0=$(date +%s.%N)
  "$BIN" append --config "$SRC/config/dev.conf" --data-dir "$DATA" - < "$W/digests" >/dev/null
  t1=$(date +%s.%N)
  echo "filled in $(python3 -c "print(f'{$t1-$t0:.1f}')") s" >&2
fi
rm -f "$W/digests"

# ---- credanchor serve on dev.conf (no chain), on a free loopback port
CA_PORT=$(free_port)
export CREDANCHOR_NODE_LISTEN=127.0.0.1:$CA_PORT CREDANCHOR_NODE_DATA_DIR=$DATA
export CREDANCHOR_ANCHOR_RPC_URL=""
"$BIN" serve --config "$SRC/config/dev.conf" --data-dir "$DATA" 2>"$W/serve.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$CA_PORT/v1/health"
curl -sf "http://127.0.0.1:$CA_PORT/v1/log/proof?digest=$FIRST" > "$W/proof.json"
SIZE=$(stat -c %s "$W/proof.json")

# ---- nginx: a static file of the same size
start_static_nginx "$W/proof.json" /proof.json

compare_with_nginx "inclusion proofs over HTTP: $LEAVES leaves, $URLS distinct digests, $SIZE-byte answers" \
  "$W/proofs.lua" /proof.json "targets: >= 0.7x, >= 50000 proofs/s, p99 <= 5 ms"
echo "credanchor config (config/dev.conf + env overrides):"
sed -n '/^node\./p;/^store\./p;/^anchor\.rpc_url/p' "$W/serve.log" | sed 's/^/  /'
echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2), worker_processes 2, access_log off, keepalive"
echo "request log lines written: $(grep -c '^{"time"' "$W/serve.log" || true)"
