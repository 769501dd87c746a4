#!/usr/bin/env bash
# Benchmark of the admin console's first page at scale (issue #17: "Issuance list ... It stays
# fast at 100,000 credentials: the first page in under 200 ms on this machine"): N credentials
# (default 100,000) bulk-issued by `credanchor issue --csv` on config/dev.conf (as
# bench/reports.sh: the real issuance path, 10,000 rows per commit, LMDB synced per commit),
# a serving node, an auditor invited by the CLI who enrolls a passkey in Debian's Chromium
# (CDP virtual authenticator; bench/console_list_peer.mjs), then RUNS (20) loads of /admin/ per
# view, cold (new browser context: empty cache) and warm (same tab), each timed in the page
# from navigation start to main[data-state=ready] with its 50 rows drawn:
#   list       the first page (the console's page size, 50 rows)
#   search     a part of a name that 1 row in ~1,000 has (walks every record for the total)
#   filter     department + status (the list has no sort: it is in issue order, the cursor's)
# Beside it, the peers:
#   API        GET /v1/credentials for the same pages by curl (the server's share)
#   nginx      the same rendered page saved as static HTML (scripts removed) with its
#              stylesheets, served by nginx to the same browser: the floor for a browser to
#              show that much.
# usage: bench/console_list.sh [BUILD_DIR]   (N=20000 RUNS=5 for a short run)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
N=${N:-100000}
RUNS=${RUNS:-20}
CONF=$SRC/config/dev.conf
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
[ -x "${CA_CHROMIUM:-/usr/bin/chromium}" ] || { echo "Debian's chromium is needed (scripts/install-deps)" >&2; exit 2; }
"$SRC/tests/interop/install-peers"
. "$SRC/bench/lib.bash"
bench_workdir ca-bench-console
port=$(free_port)
export CREDANCHOR_CREDENTIALS_TEMPLATES_DIR=$SRC/config/templates
export CREDANCHOR_ANCHOR_RPC_URL=""
# A passkey's relying party is a host name: localhost (WebAuthn takes no IP address).
export CREDANCHOR_NODE_PUBLIC_URL=http://localhost:$port
D=$W/data
print_bench_setting "$BIN" "$CONF"

populate_credentials "$N"
AUD=$("$BIN" token create --role auditor --config "$CONF" --data-dir "$D")

CREDANCHOR_NODE_LISTEN=127.0.0.1:$port "$BIN" serve --config "$CONF" --data-dir "$D" \
  2>"$W/serve.log" &
PIDS+=($!)
base="http://127.0.0.1:$port"
wait_http "$base/v1/health"
invite=$("$BIN" user invite --email bench-auditor@example.org --role auditor --name "Bench Auditor" \
  --config "$CONF" --data-dir "$D" | tail -1)

# The nginx peer: a directory (the snapshot is written into it by the browser peer once the
# list is drawn) with the stylesheets at the node's own paths.
www=$W/nginx/www
mkdir -p "$www/admin"
for css in page/credential.css admin/admin.css; do
  mkdir -p "$www/assets/$(dirname "$css")"
  curl -sf -o "$www/assets/$css" "$base/assets/$css"
done
start_nginx_dir "$www" /assets/admin/admin.css \
  "index index.html; etag on; types { text/html html; text/css css; }"

# "ant 1234" is in "Participant 1234" and "Participant 12340".."12349" (and 123400.. at 1M):
# 11 rows at 100,000 -- fewer than a page, so the search view waits for all it has (counted).
SEARCH="ant 1234"
qs=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote_plus(sys.argv[1]))" "$SEARCH")
cat > "$W/plan.json" <<JSON
{"base": "http://localhost:$port", "invite": "$invite", "runs": $RUNS, "rows": 50,
 "views": [{"name": "list", "path": "/admin/"},
           {"name": "search", "path": "/admin/#q=$qs", "rows": $(python3 -c "import sys; print(min(50, sum(1 for i in range(int(sys.argv[1])) if sys.argv[2] in f'Participant {i}')))" "$N" "$SEARCH")},
           {"name": "filter", "path": "/admin/#status=active&department=Department+7"}],
 "snapshot": {"base": "http://localhost:$NG_PORT", "path": "/admin/"},
 "snapshotTo": "$www/admin/index.html"}
JSON
echo "browser: $(${CA_CHROMIUM:-/usr/bin/chromium} --version 2>/dev/null | head -1), runs per series: $RUNS (+1 not counted)"
(cd "$SRC/tests/interop" && CA_PLAN=$W/plan.json node "$SRC/bench/console_list_peer.mjs") > "$W/peer.jsonl" || { cat "$W/peer.jsonl" >&2; exit 1; }

api() { # PATH -> RUNS curl times of the API request, in ms, one a line
  curl -s -o /dev/null -H "Authorization: Bearer $AUD" "$base$1"
  for _ in $(seq 1 "$RUNS"); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $AUD" "$base$1"
  done | awk '{printf "%.2f\n", $1 * 1000}'
}
q=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))" "$SEARCH")
api "/v1/credentials?limit=50" > "$W/api-list.txt"
api "/v1/credentials?status=active&department=Department%207&limit=50" > "$W/api-filter.txt"
api "/v1/credentials?q=$q&limit=50" > "$W/api-search.txt"
api "/v1/reports/summary" > "$W/api-summary.txt"
api "/v1/auth/session" > "$W/api-session.txt" || true

python3 - "$W" "$N" <<'PY'
import json, os, statistics, sys
w, n = sys.argv[1], int(sys.argv[2])
def stats(v):
    v = sorted(v)
    p95 = v[min(len(v) - 1, max(0, round(0.95 * len(v)) - 1))]
    return f"{statistics.median(v):8.1f} {p95:8.1f}"
rows, errors = {}, []
for line in open(os.path.join(w, "peer.jsonl")):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if "view" in o:
        rows[(o["view"], o["mode"])] = o
    elif "error" in o:
        errors.append(f"{o['step']}: {o['error'][:400]}")
    elif o.get("step") == "console" and o.get("auditor"):
        errors.append(f"console: {o['auditor'][:5]}")
print(f"== the console's first page at {n:,} credentials (ms; median, p95)")
print(f"{'what':44} {'median':>8} {'p95':>8}  requests")
for (view, mode), o in rows.items():
    req = statistics.median(o["requests"]) if o["requests"] else 0
    label = f"browser {view} ({mode})" if view != "nginx snapshot" else f"nginx static snapshot ({mode})"
    print(f"{label:44} {stats(o['ms'])}  {req:.0f}")
for name, what in (("list", "GET /v1/credentials?limit=50"), ("filter", "... &status=active&department=..."),
                   ("search", "... &q=ant 1234"), ("summary", "GET /v1/reports/summary"),
                   ("session", "GET /v1/auth/session (token: 401)")):
    p = os.path.join(w, f"api-{name}.txt")
    v = [float(x) for x in open(p).read().split()] if os.path.exists(p) else []
    if v:
        print(f"{'API ' + what + ' (curl)':44} {stats(v)}")
print("target: the first page drawn in under 200 ms (issue #17)")
for e in errors:
    print("ERROR", e)
sys.exit(1 if errors or not rows else 0)
PY
