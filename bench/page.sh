#!/usr/bin/env bash
# The credential's public page and its assets (issue #15 benchmark): target >= 0.7x the rate
# at which nginx serves the same bytes. Untimed setup: a node on config/dev.conf (no chain),
# one credential issued, its page's HTML and every asset it loads (the CSS, the page's modules,
# web/verify/ and the vendored @noble libraries) fetched once from the node and written into
# an nginx root under the same paths. Then, timed, side by side on loopback with
# wrk -t2 -c64 -dDURATION: credanchor serve and nginx (2 workers, static files), each cycling
# over the same paths (the page, then each asset in turn). Prints figures, not pass/fail.
#
# usage: bench/page.sh [BUILD_DIR]    (default: build; env DURATION=10s)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
DURATION=${DURATION:-10s}
CONF=$SRC/config/dev.conf
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
for tool in wrk nginx python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (scripts/install-deps)" >&2; exit 2; }
done
# shellcheck source=bench/lib.bash
. "$SRC/bench/lib.bash"
bench_workdir ca-bench-page

CA_PORT=$(free_port)
export CREDANCHOR_NODE_LISTEN=127.0.0.1:$CA_PORT CREDANCHOR_NODE_PUBLIC_URL=http://localhost:$CA_PORT
export CREDANCHOR_ANCHOR_RPC_URL="" CREDANCHOR_CREDENTIALS_TEMPLATES_DIR=$SRC/config/templates
DATA=$W/data
"$BIN" init --config "$CONF" --data-dir "$DATA" >/dev/null 2>&1
printf 'externalId,name,email,department,course,completedAt\nE-1,Kim Minji,minji@example.com,Security,security-awareness-2026,2026-06-15\n' >"$W/p.csv"
PAGE=$("$BIN" issue --csv "$W/p.csv" --json --config "$CONF" --data-dir "$DATA" 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["page"])')
PAGE_PATH=${PAGE#http://localhost:$CA_PORT}
"$BIN" serve --config "$CONF" --data-dir "$DATA" 2>"$W/serve.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$CA_PORT/v1/health"

# The page and every asset its HTML and import map name, saved under the same paths (the
# page as <path>/index.html); a wrk script per server cycling over them.
WWW=$W/nginx/www
mkdir -p "$WWW" "$W/nginx/logs" "$W/nginx/tmp"
python3 - "$CA_PORT" "$PAGE_PATH" "$WWW" "$W" <<'PY'
import json, os, re, sys, urllib.request
port, page, root, w = sys.argv[1:5]
def get(path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Accept": "text/html"})
    return urllib.request.urlopen(req).read()
html = get(page)
text = html.decode()
paths = [page] + re.findall(r'(?:href|src)="(/assets/[^"]+)"', text)
imap = json.loads(re.search(r'<script type="importmap">(.*?)</script>', text).group(1))
paths += [p for p in imap["integrity"] if p not in paths]
total = 0
for p in paths:
    body = html if p == page else get(p)
    dest = os.path.join(root, p.lstrip("/") + ("/index.html" if p == page else ""))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    open(dest, "wb").write(body)
    total += len(body)
for name, first in (("ca", page), ("nginx", page + "/")):
    with open(f"{w}/paths-{name}.lua", "w") as f:
        f.write("local paths = {\n" + "".join(f'"{first if p == page else p}",\n' for p in paths) +
                "}\nlocal n, i = #paths, 0\n"
                "request = function()\n  i = i % n + 1\n  return wrk.format('GET', paths[i])\nend\n")
print(f"{len(paths)} paths, {total} bytes in all (the page: {len(html)} bytes)")
PY
start_nginx_dir "$WWW" "$PAGE_PATH/" "index index.html; default_type application/octet-stream;"

echo "== the public page and its assets: credanchor vs nginx serving the same bytes"
print_bench_setting "$BIN" "$CONF"
wrk -t2 -c64 -d2s -s "$W/paths-ca.lua" "http://127.0.0.1:$CA_PORT" >/dev/null
run_wrk -s "$W/paths-ca.lua" "http://127.0.0.1:$CA_PORT" >"$W/wrk-ca.txt"
run_wrk -s "$W/paths-nginx.lua" "http://127.0.0.1:$NG_PORT" >"$W/wrk-nginx.txt"
read -r ca_rps ca_p50 ca_p99 ca_bad < <(parse_wrk "$W/wrk-ca.txt")
read -r ng_rps ng_p50 ng_p99 ng_bad < <(parse_wrk "$W/wrk-nginx.txt")
mbs() { awk '/^Transfer\/sec/ {print $2}' "$1"; }
echo "wrk -t2 -c64 -d$DURATION on the same host, each cycling over the page and its assets"
printf '%-22s %12s %10s %10s %8s %12s\n' "server" "req/s" "p50 ms" "p99 ms" "non-2xx" "transfer/s"
printf '%-22s %12s %10s %10s %8s %12s\n' "credanchor serve" "$ca_rps" "$ca_p50" "$ca_p99" "$ca_bad" "$(mbs "$W/wrk-ca.txt")"
printf '%-22s %12s %10s %10s %8s %12s\n' "nginx (static files)" "$ng_rps" "$ng_p50" "$ng_p99" "$ng_bad" "$(mbs "$W/wrk-nginx.txt")"
python3 -c "print(f'ratio credanchor/nginx: {$ca_rps/$ng_rps:.2f}x   (target >= 0.7x)')"
echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2), worker_processes 2, access_log off, keepalive"
