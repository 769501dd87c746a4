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

W=$(mktemp -d /tmp/ca-bench-proofs-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {
  for _ in $(seq 1 200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "no answer from $1" >&2; exit 2
}

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

# ---- nginx: a static file of the same size, its own prefix, not daemonised
NG_PORT=$(free_port)
mkdir -p "$W/nginx/www" "$W/nginx/logs" "$W/nginx/tmp"
cp "$W/proof.json" "$W/nginx/www/proof.json"
# Run as root, nginx's workers run as nobody: let them read the static file (the data dir
# inside $W stays 0700).
chmod 0755 "$W" "$W/nginx" "$W/nginx/www"
chmod 0644 "$W/nginx/www/proof.json"
cat > "$W/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $W/nginx/nginx.pid;
error_log $W/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $W/nginx/tmp/body;
  proxy_temp_path $W/nginx/tmp/proxy;
  fastcgi_temp_path $W/nginx/tmp/fastcgi;
  uwsgi_temp_path $W/nginx/tmp/uwsgi;
  scgi_temp_path $W/nginx/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NG_PORT;
    location / { root $W/nginx/www; default_type application/json; }
  }
}
EOF
nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" 2>>"$W/nginx/logs/error.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$NG_PORT/proof.json"

run_wrk() { wrk -t2 -c64 -d"$DURATION" --latency "$@"; }
parse() { # file -> "rps p50 p99" (latencies in ms)
  python3 - "$1" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % label, t, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
print(f"{rps:.0f} {ms('50%'):.3f} {ms('99%'):.3f} {non2xx.group(1) if non2xx else 0}")
EOF
}
echo "warming up ..." >&2
wrk -t2 -c64 -d2s -s "$W/proofs.lua" "http://127.0.0.1:$CA_PORT" >/dev/null
run_wrk -s "$W/proofs.lua" "http://127.0.0.1:$CA_PORT" > "$W/wrk-ca.txt"
run_wrk "http://127.0.0.1:$NG_PORT/proof.json" > "$W/wrk-nginx.txt"
read -r CA_RPS CA_P50 CA_P99 CA_BAD < <(parse "$W/wrk-ca.txt")
read -r NG_RPS NG_P50 NG_P99 NG_BAD < <(parse "$W/wrk-nginx.txt")

echo "== inclusion proofs over HTTP: $LEAVES leaves, $URLS distinct digests, $SIZE-byte answers"
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); wrk -t2 -c64 -d$DURATION on the same host"
printf '%-22s %12s %10s %10s %8s\n' "server" "req/s" "p50 ms" "p99 ms" "non-2xx"
printf '%-22s %12s %10s %10s %8s\n' "credanchor serve" "$CA_RPS" "$CA_P50" "$CA_P99" "$CA_BAD"
printf '%-22s %12s %10s %10s %8s\n' "nginx (static file)" "$NG_RPS" "$NG_P50" "$NG_P99" "$NG_BAD"
python3 -c "print(f'ratio credanchor/nginx: {$CA_RPS/$NG_RPS:.2f}x   (targets: >= 0.7x, >= 50000 proofs/s, p99 <= 5 ms)')"
echo "credanchor config (config/dev.conf + env overrides):"
sed -n '/^node\./p;/^store\./p;/^anchor\.rpc_url/p' "$W/serve.log" | sed 's/^/  /'
echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2), worker_processes 2, access_log off, keepalive"
echo "request log lines written: $(grep -c '^{"time"' "$W/serve.log" || true)"
