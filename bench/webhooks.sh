#!/usr/bin/env bash
# Webhooks (issue #18 benchmark): target 1,000 webhook deliveries per second to a local
# receiver, with issuance throughput unchanged within 10% while deliveries run. The receiver is
# bench/webhook_sink.mjs (Node's http server, answers 200, counts, keeps arrival times in
# memory, checks every SAMPLE-th signature with npm's standardwebhooks), on a free loopback
# port, at nice RECV_NICE as a stand-in for a receiver on another machine.
#  1. Deliveries/s through the node: a node on config/dev.conf with endpoints subscribed to
#     credential.issued (webhooks.allow_hosts = the receiver's 127.0.0.1:PORT, http://) issues N
#     credentials in POST /v1/credentials/batch requests of BATCH rows; timed from the end of
#     issuance (the senders pace themselves while issuance runs: node/due_pool.h yield_gap_ms)
#     to the receiver's last delivery, and end to end (from the first request). Runs per
#     RUNS entry ENDPOINTS:CONNECTIONS:PER_ENDPOINT: 1 endpoint with the defaults (8, 4),
#     2 endpoints (2N deliveries), 1 endpoint with 16/16.
#  2. Peer, side by side: the same number of POSTs of the same size and headers
#     (content-type, webhook-id, webhook-timestamp, webhook-signature signed beforehand by
#     standardwebhooks' own sign(), user-agent) to a fresh receiver from wrk with a Lua script
#     over 8 keep-alive connections; and from Node's node:http with a new connection per request,
#     4 in flight (what the node does: one curl handle per delivery, at most per_endpoint in
#     flight). Timed from the receiver's first to its N-th arrival. (Node's fetch was tried: at
#     ~0.65 ms of CPU per request it, not the receiver, is the limit, ~1,650/s on this machine.)
#  3. Issuance: credentials/s through POST /v1/credentials/batch in ISSUE_BATCHES requests of
#     ISSUE_ROWS rows (one keep-alive client, sequential), right after an untimed LARGE-row
#     batch, on a node without endpoints and on one with an endpoint (so its LARGE deliveries
#     are queued and the senders busy when the timed part starts). REPS interleaved runs each,
#     medians printed, with the deliveries that arrived during the timed part.
# The delivery runs are interleaved too (DELIVERY_REPS times: each RUNS entry, then the peers).
# Every run prints the share of the CPUs that processes outside the benchmark took meanwhile.
# Prints figures, not pass/fail.
#
# usage: bench/webhooks.sh [BUILD_DIR]
#   env N=5000 BATCH=500 RUNS="1:8:4 2:8:4 1:16:16" DELIVERY_REPS=2 LARGE=5000 ISSUE_BATCHES=20
#       ISSUE_ROWS=100 REPS=5 SAMPLE=100 RECV_NICE=19 SKIP_PEER=1 SKIP_ISSUE=1 KEEP_WORK=1
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
N=${N:-5000}
BATCH=${BATCH:-500}
RUNS=${RUNS:-1:8:4 2:8:4 1:16:16}
DELIVERY_REPS=${DELIVERY_REPS:-2}
LARGE=${LARGE:-5000}
ISSUE_BATCHES=${ISSUE_BATCHES:-20}
ISSUE_ROWS=${ISSUE_ROWS:-100}
REPS=${REPS:-5}
SAMPLE=${SAMPLE:-100}
# The receiver stands in for an LMS or HR system on another machine: at nice 19 its CPU (Node's
# HTTP parsing, a new TCP connection per delivery) yields to the node's, as it would not compete
# at all there. RECV_NICE=0 shows the same-machine figures.
RECV_NICE=${RECV_NICE:-19}
CONF=$SRC/config/dev.conf
COURSE=security-awareness-2026
SINK=$SRC/bench/webhook_sink.mjs
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
for tool in python3 curl node; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
[ -d "$SRC/tests/interop/node_modules/standardwebhooks" ] ||
  { echo "tests/interop/node_modules lacks standardwebhooks (npm ci in tests/interop)" >&2; exit 2; }
# shellcheck source=bench/lib.bash
. "$SRC/bench/lib.bash"
bench_workdir ca-bench-webhooks

export CREDANCHOR_CREDENTIALS_TEMPLATES_DIR=$SRC/config/templates
export CREDANCHOR_ANCHOR_RPC_URL=""

# A receiver in $W/NAME expecting EXPECT requests: sets RECV_PORT, RECV_PID, RECV_SUM (its
# summary file) and RECV_SECRETS (the {path: secret} file it verifies samples with).
start_recv() { # NAME EXPECT
  local d=$W/$1
  mkdir -p "$d"
  echo '{}' >"$d/secrets.json"
  nice -n "$RECV_NICE" node "$SINK" 0 "$d/ready" "$d/summary.json" "$2" "$d/secrets.json" "$SAMPLE" \
    2>"$d/sink.log" &
  RECV_PID=$!; PIDS+=("$RECV_PID")
  RECV_SUM=$d/summary.json
  RECV_SECRETS=$d/secrets.json
  for _ in $(seq 1 200); do [ -f "$d/ready" ] && break; sleep 0.05; done
  [ -f "$d/ready" ] || { echo "webhook_sink did not start:" >&2; cat "$d/sink.log" >&2; exit 2; }
  RECV_PORT=$(cat "$d/ready")
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# A fresh node in $W/NAME serving on a free port; with RECV_PORT set, the receiver's host:port
# is allow-listed and webhooks use CONNECTIONS workers, PER_ENDPOINT per endpoint. Sets
# CA_PORT, CA_PID, TOKEN (issuer), ADMIN.
start_node() { # NAME RECV_PORT|"" CONNECTIONS PER_ENDPOINT
  local data=$W/$1
  "$BIN" init --config "$CONF" --data-dir "$data" >/dev/null 2>&1
  TOKEN=$("$BIN" token create --role issuer --config "$CONF" --data-dir "$data" 2>/dev/null)
  ADMIN=$("$BIN" token create --role admin --config "$CONF" --data-dir "$data" 2>/dev/null)
  CA_PORT=$(free_port)
  local hooks=()
  [ -z "$2" ] || hooks=(CREDANCHOR_WEBHOOKS_ALLOW_HOSTS="127.0.0.1:$2"
                        CREDANCHOR_WEBHOOKS_CONNECTIONS="$3" CREDANCHOR_WEBHOOKS_PER_ENDPOINT="$4")
  env "${hooks[@]}" CREDANCHOR_NODE_LISTEN="127.0.0.1:$CA_PORT" \
    CREDANCHOR_NODE_PUBLIC_URL="http://localhost:$CA_PORT" \
    "$BIN" serve --config "$CONF" --data-dir "$data" 2>"$W/$1.log" &
  CA_PID=$!; PIDS+=("$CA_PID")
  wait_http "http://127.0.0.1:$CA_PORT/v1/health"
}

# Adds K endpoints /hook-1 .. /hook-K on the receiver for credential.issued, and writes their
# secrets where the receiver reads them.
add_endpoints() { # K
  python3 - "$CA_PORT" "$ADMIN" "$RECV_PORT" "$1" "$RECV_SECRETS" <<'PY'
import http.client, json, sys
port, admin, rport, k, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
secrets = {}
for i in range(1, k + 1):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    c.request("POST", "/v1/webhooks", body=json.dumps(
        {"url": f"http://127.0.0.1:{rport}/hook-{i}", "events": ["credential.issued"]}),
        headers={"Authorization": "Bearer " + admin, "Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    if r.status != 201:
        sys.exit(f"POST /v1/webhooks: HTTP {r.status}: {body[:300]!r}")
    secrets[f"/hook-{i}"] = json.loads(body)["secret"]
open(out + ".tmp", "w").write(json.dumps(secrets))
import os; os.rename(out + ".tmp", out)
PY
}

# The driver: rosters, batches over one keep-alive connection, the receiver's summary, and how
# much of the machine's CPU other processes took meanwhile.
cat >"$W/drv.py" <<'PY'
import http.client, json, os, sys, time

sys.path.insert(0, os.environ["CA_BENCH_DIR"])
from batch_driver import Others, post, roster  # noqa: E402

def wait_summary(path, timeout):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            sys.exit(f"the receiver did not get all deliveries within {timeout} s")
        time.sleep(0.05)
    return json.load(open(path))

def cmd_deliver(port, token, n, batch, summary, expect, tag, course, pids):
    """N credentials in BATCH-row requests; the receiver expects EXPECT deliveries. Prints:
    secs end to end (first request to the last delivery), secs after issuance, secs of
    issuance, deliveries that arrived during issuance, others' CPU %."""
    bodies = [roster(f"{tag}-{j}", min(batch, n - j * batch), course)
              for j in range((n + batch - 1) // batch)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    o = Others(pids)
    t0 = time.time()
    issued = sum(post(conn, token, b) for b in bodies)
    t1 = time.time()
    if issued != n:
        sys.exit(f"issued {issued} of {n}")
    s = wait_summary(summary, 600)
    share = o.share()
    tn = s["nth"] / 1000
    during = sum(1 for t in s["times"] if t / 1000 <= t1)
    print(f"{tn - t0:.3f} {tn - t1:.3f} {t1 - t0:.3f} {during} {share:.0f}")

def cmd_check(summary, expect):
    """The receiver's view: count, distinct webhook-ids, samples verified/failed, mean body."""
    s = json.load(open(summary))
    if s["count"] != expect or s["distinct"] != expect or s["failed"] or not s["verified"]:
        sys.exit(f"receiver: {s['count']} requests, {s['distinct']} distinct ids, "
                 f"{s['verified']} samples verified, {s['failed']} failed {s['failures']}")
    print(f"{s['count']} {s['distinct']} {s['verified']} {len(s['sample']['body'].encode())}")

def cmd_issue(port, token, large, batches, rows, tag, course, pids):
    """A LARGE-row batch (untimed), then BATCHES x ROWS timed. Prints: secs, issued, t0, t1,
    others' CPU %."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    post(conn, token, roster(tag + "L", large, course))
    bodies = [roster(f"{tag}B{j}", rows, course) for j in range(batches)]
    o = Others(pids)
    t0 = time.time()
    issued = sum(post(conn, token, b) for b in bodies)
    t1 = time.time()
    print(f"{t1 - t0:.4f} {issued} {t0:.4f} {t1:.4f} {o.share():.0f}")

def cmd_peer(summary, pids):
    """Waits for the receiver's summary while a peer sends; prints secs from its first to its
    N-th arrival, others' CPU %."""
    o = Others(pids)
    s = wait_summary(summary, 300)
    print(f"{(s['nth'] - s['times'][0]) / 1000:.3f} {o.share():.0f}")

def cmd_window(summary, t0, t1):
    """Deliveries the receiver got within [t0, t1], and in all."""
    s = json.load(open(summary))
    print(sum(1 for t in s["times"] if t0 <= t / 1000 <= t1), s["count"])

if __name__ == "__main__":
    c, a = sys.argv[1], sys.argv[2:]
    pids = lambda s: s.split(",") if s else []
    if c == "deliver":
        cmd_deliver(int(a[0]), a[1], int(a[2]), int(a[3]), a[4], int(a[5]), a[6], a[7], pids(a[8]))
    elif c == "check":
        cmd_check(a[0], int(a[1]))
    elif c == "issue":
        cmd_issue(int(a[0]), a[1], int(a[2]), int(a[3]), int(a[4]), a[5], a[6], pids(a[7]))
    elif c == "peer":
        cmd_peer(a[0], pids(a[1]))
    elif c == "window":
        cmd_window(a[0], float(a[1]), float(a[2]))
PY
drv() { CA_BENCH_DIR="$SRC/bench" python3 "$W/drv.py" "$@"; }

# The peers' requests: N POSTs shaped like the node's sample delivery (same body length, same
# headers), each signed with a fresh secret by standardwebhooks' own Webhook.sign, written as
# "id TAB timestamp TAB signature TAB body" lines (N + 64: wrk's connections have a few more in
# flight when it stops); the secret goes where the receiver reads it. Then the senders: wrk
# (keep-alive, LUA below) or node:http with a new connection per request and K in flight (what
# the node does: one curl handle per delivery), reading those lines; signing is not timed.
cat >"$W/peer.mjs" <<'JS'
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
const [mode, src, sampleFile, linesFile, n, a, b] = process.argv.slice(2);
const N = Number(n);
if (mode === "prep") {
  const secretsFile = a;
  const require = createRequire(src + "/tests/interop/package.json");
  const { Webhook } = require("standardwebhooks");
  const secret = "whsec_" + crypto.randomBytes(32).toString("base64");
  const wh = new Webhook(secret);
  const sample = JSON.parse(fs.readFileSync(sampleFile, "utf8")).sample;
  const tmpl = JSON.parse(sample.body);
  const idLen = sample.headers["webhook-id"].length;
  const lines = [];
  for (let i = 0; i < N + 64; i++) {
    // The sample's body with the credential id's last 12 hex digits and the issue number's
    // serial replaced by i (same length).
    const d = structuredClone(tmpl);
    if (d.data && typeof d.data.id === "string")
      d.data.id = d.data.id.slice(0, -12) + i.toString(16).padStart(12, "0");
    if (d.data && typeof d.data.issueNumber === "string")
      d.data.issueNumber = d.data.issueNumber.replace(/\d+$/, (x) => String(i % 10 ** x.length).padStart(x.length, "0"));
    const body = JSON.stringify(d);
    const id = "msg_" + i.toString(16).padStart(Math.max(1, idLen - 4), "0");
    const now = new Date();
    lines.push([id, Math.floor(now.getTime() / 1000), wh.sign(id, now, body), body].join("\t"));
  }
  fs.writeFileSync(linesFile, lines.join("\n") + "\n");
  fs.writeFileSync(secretsFile + ".tmp", JSON.stringify({ "/hook-1": secret }));
  fs.renameSync(secretsFile + ".tmp", secretsFile);
} else { // close: node:http, no keep-alive, K in flight
  const url = `http://127.0.0.1:${a}/hook-1`, K = Number(b);
  const reqs = fs.readFileSync(linesFile, "utf8").split("\n").slice(0, N).map((l) => l.split("\t"));
  const agent = new http.Agent({ keepAlive: false, maxSockets: K });
  const post = ([id, ts, sig, body]) => new Promise((resolve, reject) => {
    const q = http.request(url, { method: "POST", agent, headers: {
      "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts,
      "webhook-signature": sig, "user-agent": "credanchor-webhooks",
      "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error("HTTP " + res.statusCode))));
    });
    q.on("error", reject);
    q.end(body);
  });
  let next = 0;
  const loop = async () => { while (next < N) await post(reqs[next++]); };
  await Promise.all(Array.from({ length: K }, loop));
}
JS
# wrk: thread T of NT sends lines T, T+NT, ... and stops after COUNT answers.
cat >"$W/peer.lua" <<'LUA'
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local reqs, k, got, count = {}, 0, 0, 0
function init(args)
  local file, nt = args[1], tonumber(args[2])
  count = tonumber(args[3])
  local i = 0
  for line in io.lines(file) do
    if i % nt == tid then
      local id, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", "/hook-1", {
        ["Content-Type"] = "application/json", ["webhook-id"] = id, ["webhook-timestamp"] = ts,
        ["webhook-signature"] = sig, ["User-Agent"] = "credanchor-webhooks"}, body)
    end
    i = i + 1
  end
end
function request()
  k = k + 1
  return reqs[math.min(k, #reqs)]
end
function response(status, headers, body)
  got = got + 1
  if got >= count then wrk.thread:stop() end
end
LUA

echo "== webhook delivery: N=$N credentials issued in POST /v1/credentials/batch requests of $BATCH rows, each delivered to every endpoint subscribed to credential.issued"
print_bench_setting "$BIN" "$CONF"
echo "  + per node: node.listen/public_url on a free loopback port; with endpoints: webhooks.allow_hosts"
echo "    127.0.0.1:PORT (the receiver, http://), webhooks.connections / per_endpoint as listed"
echo "receiver: bench/webhook_sink.mjs on Node $(node --version) (one thread, nice $RECV_NICE: a stand-in for a receiver on another machine), answers 200 at once, arrival times in memory, every ${SAMPLE}th signature checked with standardwebhooks $(node -p "require('$SRC/tests/interop/node_modules/standardwebhooks/package.json').version"); a fresh one per run"
echo "'after issuance': from the last batch's answer to the receiver's last arrival (the senders pace themselves while issuance runs); 'end to end': from the first request; 'others' = the share of both CPUs that processes outside this benchmark used meanwhile"

: >"$W/hook-runs"
SAMPLE_SUM=
for rep in $(seq 1 "$DELIVERY_REPS"); do
  for run in $RUNS; do
    IFS=: read -r k conns per <<<"$run"
    expect=$((N * k))
    start_recv "recv-$k-$conns-$per-$rep" "$expect"
    start_node "node-$k-$conns-$per-$rep" "$RECV_PORT" "$conns" "$per"
    add_endpoints "$k"
    read -r e2e after issue_s during other < <(drv deliver "$CA_PORT" "$TOKEN" "$N" "$BATCH" "$RECV_SUM" "$expect" "w$k$conns$rep" "$COURSE" "$CA_PID,$RECV_PID")
    read -r got distinct verified size < <(drv check "$RECV_SUM" "$expect")
    echo "node-$run $after $e2e $((expect - during))" >>"$W/hook-runs"
    label="credanchor, $k endpoint$([ "$k" = 1 ] || echo s), connections $conns, per_endpoint $per"
    printf '  run %d: %-52s %8s deliveries/s after issuance (%d in %.2f s), %6s/s end to end (%d in %.2f s: issuance %.2f s, %d delivered meanwhile); others %s%%\n' \
      "$rep" "$label" "$(python3 -c "print(f'{($expect - $during) / $after:,.0f}')")" "$((expect - during))" "$after" \
      "$(python3 -c "print(f'{$expect / $e2e:,.0f}')")" "$expect" "$e2e" "$issue_s" "$during" "$other"
    [ -n "$SAMPLE_SUM" ] || { cp "$RECV_SUM" "$W/sample.json"; SAMPLE_SUM=$W/sample.json; BODY_SIZE=$size; SAMPLED=$verified; }
    stop_pid "$CA_PID"; stop_pid "$RECV_PID"
  done
  if [ -z "${SKIP_PEER:-}" ]; then
    for peer in wrk:8 close:4; do
      IFS=: read -r mode conc <<<"$peer"
      start_recv "recv-peer-$mode-$rep" "$N"
      node "$W/peer.mjs" prep "$SRC" "$SAMPLE_SUM" "$W/peer-lines" "$N" "$RECV_SECRETS"
      if [ "$mode" = wrk ]; then
        command -v wrk >/dev/null || continue
        wrk -t2 -c"$conc" -d120s -s "$W/peer.lua" "http://127.0.0.1:$RECV_PORT" -- "$W/peer-lines" 2 $((N / 2)) >"$W/wrk-$rep.txt" &
        PEER_PID=$!; PIDS+=("$PEER_PID")
        label="peer: wrk $( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}'), $conc keep-alive connections (2 threads)"
      else
        node "$W/peer.mjs" close "$SRC" "$SAMPLE_SUM" "$W/peer-lines" "$N" "$RECV_PORT" "$conc" &
        PEER_PID=$!; PIDS+=("$PEER_PID")
        label="peer: node:http, a new connection per request, $conc in flight"
      fi
      read -r secs other < <(drv peer "$RECV_SUM" "$PEER_PID,$RECV_PID")
      wait "$PEER_PID"
      read -r got distinct verified size < <(drv check "$RECV_SUM" "$N")
      echo "peer-$mode $secs $secs $N" >>"$W/hook-runs"
      echo "$label" >"$W/label-peer-$mode"
      printf '  run %d: %-52s %8s requests/s (%d in %.2f s, first to last arrival; %d-byte bodies, %d samples verified; others %s%%)\n' \
        "$rep" "$label" "$(python3 -c "print(f'{$N / $secs:,.0f}')")" "$N" "$secs" "$size" "$verified" "$other"
      stop_pid "$RECV_PID"
    done
  fi
done
echo "  (deliveries: $BODY_SIZE-byte bodies, every one a distinct webhook-id; $SAMPLED of them in the first run verified by the receiver with standardwebhooks, none failed)"
python3 - "$W" "$RUNS" <<'PY'
import collections, os, statistics, sys
w = sys.argv[1]
runs = collections.defaultdict(list)
for line in open(f"{w}/hook-runs"):
    k, after, e2e, n = line.split()
    runs[k].append(int(n) / float(after))
med = lambda k: statistics.median(runs[k])
m = lambda v: f"median of {len(v)}" if len(v) > 1 else "1 run"
label = lambda mode: open(f"{w}/label-peer-{mode}").read().strip()
first = sys.argv[2].split()[0]
for run in sys.argv[2].split():
    k, c, p = run.split(":")
    key = "node-" + run
    print(f"{f'credanchor, {k} endpoint' + ('s' if k != '1' else '') + f', connections {c}, per_endpoint {p}':<64} "
          f"{med(key):>8,.0f} deliveries/s  ({m(runs[key])}, after issuance)")
    if run == first:
        for mode in ("wrk", "close"):
            if "peer-" + mode in runs:
                print(f"{label(mode):<64} {med('peer-' + mode):>8,.0f} requests/s    ({m(runs['peer-' + mode])})")
        ratios = [f"/{mode}: {med(key) / med('peer-' + mode):.2f}x" for mode in ("wrk", "close")
                  if "peer-" + mode in runs]
        if ratios:
            print(f"ratio credanchor ({first}) " + "; ".join(ratios))
key = "node-" + sys.argv[2].split()[0]
r = med(key)
print(f"target: >= 1,000 deliveries/s ({sys.argv[2].split()[0]}): {r:,.0f}/s -> " + ("met" if r >= 1000 else "NOT met"))
PY

if [ -z "${SKIP_ISSUE:-}" ]; then
  echo "== issuance while deliveries run: $ISSUE_BATCHES x POST /v1/credentials/batch of $ISSUE_ROWS rows (one keep-alive client), timed, right after an untimed $LARGE-row batch; $REPS runs of each, interleaved"
  : >"$W/issue-off"; : >"$W/issue-on"
  for r in $(seq 1 "$REPS"); do
    start_node "issue-off$r" "" 8 4
    drv issue "$CA_PORT" "$TOKEN" "$LARGE" "$ISSUE_BATCHES" "$ISSUE_ROWS" "off$r" "$COURSE" "$CA_PID" >>"$W/issue-off"
    stop_pid "$CA_PID"
    start_recv "recv-issue$r" 1000000000
    start_node "issue-on$r" "$RECV_PORT" 8 4
    add_endpoints 1
    read -r secs issued t0 t1 other < <(drv issue "$CA_PORT" "$TOKEN" "$LARGE" "$ISSUE_BATCHES" "$ISSUE_ROWS" "on$r" "$COURSE" "$CA_PID,$RECV_PID")
    sleep 0.3
    stop_pid "$RECV_PID"
    read -r during total < <(drv window "$RECV_SUM" "$t0" "$t1")
    echo "$secs $issued $during $other $total" >>"$W/issue-on"
    stop_pid "$CA_PID"
  done
  python3 - "$W" "$ISSUE_BATCHES" "$ISSUE_ROWS" "$LARGE" <<'PY'
import statistics, sys
w, want, large = sys.argv[1], int(sys.argv[2]) * int(sys.argv[3]), int(sys.argv[4])
def load(name):
    rs = [l.split() for l in open(f"{w}/issue-{name}")]
    assert all(int(x[1]) == want for x in rs), rs
    return rs
off, on = load("off"), load("on")
rate = lambda rs: [want / float(x[0]) for x in rs]
med = lambda rs: statistics.median(rate(rs))
runs = lambda rs: ", ".join(f"{v:,.0f}" for v in rate(rs))
print(f"{'no webhook endpoint':<58} {med(off):>9,.0f} cred/s  (runs: {runs(off)}; others {'/'.join(x[-1] for x in off)}%)")
print(f"{'1 endpoint, senders busy with the ' + str(large) + ' queued':<58} {med(on):>9,.0f} cred/s  "
      f"(runs: {runs(on)}; deliveries during the timed part: {', '.join(x[2] for x in on)}, "
      f"received 0.3 s after it: {', '.join(x[4] for x in on)}; others {'/'.join(x[3] for x in on)}%)")
print(f"ratio with/without deliveries: {med(on) / med(off):.2f}   (target: >= 0.90, unchanged within 10%)")
PY
fi
