#!/usr/bin/env bash
# PDF certificates and baked badges (issue #15 benchmark): target >= 200 certificates/s on 2
# cores. Untimed setup: a node on config/dev.conf (no chain) with the model case's 166
# credentials issued from a roster with Korean names (bulk, vc+jwt EdDSA). Then, timed, with
# wrk -t2 -c8 -dDURATION on the same host: GET /v1/credentials/{id}/certificate.pdf cycling
# over the 166 ids (each answer rendered afresh: cairo + pango + a QR code), and the same for
# badge.png. Peer, side by side: nginx (2 workers) serving one of those PDFs as a static file,
# i.e. what moving the bytes alone costs. Prints figures, not pass/fail.
#
# usage: bench/certificates.sh [BUILD_DIR]    (default: build; env DURATION=10s N=166)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
DURATION=${DURATION:-10s}
N=${N:-166}
CONF=$SRC/config/dev.conf
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
for tool in wrk nginx python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (scripts/install-deps)" >&2; exit 2; }
done
# shellcheck source=bench/lib.bash
. "$SRC/bench/lib.bash"
bench_workdir ca-bench-certificates

CA_PORT=$(free_port)
export CREDANCHOR_NODE_LISTEN=127.0.0.1:$CA_PORT CREDANCHOR_NODE_PUBLIC_URL=http://localhost:$CA_PORT
export CREDANCHOR_ANCHOR_RPC_URL="" CREDANCHOR_CREDENTIALS_TEMPLATES_DIR=$SRC/config/templates
export CREDANCHOR_CREDENTIALS_CERTIFICATES_DIR=$SRC/config/certificates
DATA=$W/data
"$BIN" init --config "$CONF" --data-dir "$DATA" >/dev/null 2>&1
python3 - "$W/p.csv" "$N" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
family, given = "김이박최정강조윤장임", ["민지", "서준", "하은", "도윤", "지우", "시우", "서연", "예준"]
with open(path, "w") as f:
    f.write("externalId,name,email,department,course,completedAt\n")
    for i in range(n):
        f.write(f"E-{i + 1:04d},{family[i % 10]}{given[i % 8]},e{i + 1}@example.com,"
                f"Dept {i % 7},security-awareness-2026,2026-06-{1 + i % 28:02d}\n")
PY
"$BIN" issue --csv "$W/p.csv" --json --config "$CONF" --data-dir "$DATA" >"$W/issued.json" 2>/dev/null
python3 - "$W" <<'PY'
import json, sys, urllib.parse
w = sys.argv[1]
ids = [r["id"] for r in json.load(open(f"{w}/issued.json"))["results"]]
for what in ("certificate.pdf", "badge.png"):
    with open(f"{w}/{what}.lua", "w") as f:
        f.write("local paths = {\n" + "".join(
            f'"/v1/credentials/{urllib.parse.quote(i, safe="")}/{what}",\n' for i in ids) +
            "}\nlocal n, i = #paths, 0\n"
            "request = function()\n  i = i % n + 1\n  return wrk.format('GET', paths[i])\nend\n")
print(f"{len(ids)} credentials issued", file=sys.stderr)
PY
"$BIN" serve --config "$CONF" --data-dir "$DATA" 2>"$W/serve.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$CA_PORT/v1/health"
FIRST=$(sed -n 's/^"\(.*certificate.pdf\)",$/\1/p;T;q' "$W/certificate.pdf.lua")
curl -sf "http://127.0.0.1:$CA_PORT$FIRST" -o "$W/one.pdf"
start_static_nginx "$W/one.pdf" /one.pdf

echo "== certificates: $N credentials, each PDF rendered per request (cairo + pango + libqrencode)"
print_bench_setting "$BIN" "$CONF"
echo "PDF size: $(stat -c %s "$W/one.pdf") bytes; layout $CREDANCHOR_CREDENTIALS_CERTIFICATES_DIR/security-awareness-2026.json"
wrk -t2 -c8 -d2s -s "$W/certificate.pdf.lua" "http://127.0.0.1:$CA_PORT" >/dev/null
wrk -t2 -c8 -d"$DURATION" --latency -s "$W/certificate.pdf.lua" "http://127.0.0.1:$CA_PORT" >"$W/wrk-pdf.txt"
wrk -t2 -c8 -d"$DURATION" --latency -s "$W/badge.png.lua" "http://127.0.0.1:$CA_PORT" >"$W/wrk-png.txt"
wrk -t2 -c8 -d"$DURATION" --latency "http://127.0.0.1:$NG_PORT/one.pdf" >"$W/wrk-nginx.txt"
printf '%-40s %10s %10s %10s %8s\n' "server" "req/s" "p50 ms" "p99 ms" "non-2xx"
for f in pdf png nginx; do
  read -r rps p50 p99 bad < <(parse_wrk "$W/wrk-$f.txt")
  case $f in
    pdf) name="credanchor certificate.pdf (rendered)" ;;
    png) name="credanchor badge.png (drawn + baked)" ;;
    nginx) name="nginx, one such PDF as a static file" ;;
  esac
  printf '%-40s %10s %10s %10s %8s\n' "$name" "$rps" "$p50" "$p99" "$bad"
done
echo "wrk -t2 -c8 -d$DURATION on the same 2-core host (wrk's threads share the cores); target: certificate.pdf >= 200/s"
# The admin view's bulk download: every certificate of the N credentials in one ZIP.
AUDITOR=$("$BIN" token create --role auditor --config "$CONF" --data-dir "$DATA" 2>/dev/null)
for i in 1 2 3 4 5; do
  curl -sf -o "$W/all.zip" -w '%{time_total}\n' -H "Authorization: Bearer $AUDITOR" \
    "http://127.0.0.1:$CA_PORT/v1/reports/certificates.zip"
done >"$W/zip-times.txt"
python3 - "$W/zip-times.txt" "$W/all.zip" "$N" <<'PY'
import statistics, sys, zipfile
t = sorted(float(x) for x in open(sys.argv[1]))
n = len(zipfile.ZipFile(sys.argv[2]).namelist())
print(f"GET /v1/reports/certificates.zip ({n} PDFs, stored): median {statistics.median(t):.2f} s, "
      f"best {t[0]:.2f} s of 5 (target: {sys.argv[3]} in under 2 s)")
PY
echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2), worker_processes 2, access_log off, keepalive"
