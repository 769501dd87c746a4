#!/usr/bin/env bash
# Recipients' email (issue #18 benchmark): target >= 2,000 emails per minute to a local SMTP
# server, with issuance throughput unchanged within 10% while deliveries run. The SMTP server
# is tests/integration/smtp_peer.py (Debian's python3-aiosmtpd under /usr/bin/python3,
# STARTTLS required, a "localhost" certificate from a throwaway CA, every message fsynced to
# messages.jsonl before its 250, no delay rules), on a free loopback port.
#  1. Emails/min through the node: a node on config/dev.conf with mail.* pointed at the peer
#     (mail.ca_file = the throwaway CA) issues N credentials in one POST /v1/credentials/batch
#     (one distinct address @bench.example each); timed from the request until the peer has
#     recorded the N-th message (its received_at), for mail.connections 4 (the default) and 8.
#  2. Peer, side by side: the same N messages (the raw bytes and envelopes the node sent, read
#     back from messages.jsonl) sent to a fresh peer by Python's smtplib over 4 persistent
#     STARTTLS connections (4 processes, one connection each), timed the same way.
#  3. Issuance: credentials/s through POST /v1/credentials/batch in ISSUE_BATCHES requests of
#     ISSUE_ROWS rows (one keep-alive client, sequential), on a node without mail and on one
#     with mail, each right after a LARGE-row batch (untimed), so that with mail the workers
#     are busy sending LARGE messages during the timed requests. Two more lines: mail off while
#     smtplib sends the node's messages to a peer (what the SMTP traffic alone costs on this
#     machine), and mail on with the server answering DATA after PACED_MS (4 connections then
#     deliver ~2,000/min, the target rate). REPS interleaved runs each, medians printed.
# The email runs are interleaved too (MAIL_REPS times: each CONNS value, then smtplib). Every
# run prints the share of the CPUs that processes outside the benchmark took meanwhile.
# Prints figures, not pass/fail.
#
# usage: bench/delivery.sh [BUILD_DIR]
#   env N=2000 CONNS="4 8" MAIL_REPS=2 LARGE=2000 ISSUE_BATCHES=20 ISSUE_ROWS=100 REPS=5
#       PACED_MS=120 (0: no paced line) SMTP_NICE=19 SKIP_PEER=1 SKIP_ISSUE=1 KEEP_WORK=1
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
N=${N:-2000}
CONNS=${CONNS:-4 8}
LARGE=${LARGE:-2000}
ISSUE_BATCHES=${ISSUE_BATCHES:-20}
ISSUE_ROWS=${ISSUE_ROWS:-100}
REPS=${REPS:-5}
MAIL_REPS=${MAIL_REPS:-2}
PACED_MS=${PACED_MS:-120}
# The SMTP server stands in for a mail server on another machine: at nice 19 its CPU (about
# 1.5 ms per message in Python, more than the node's) yields to the node's, as it would not
# compete at all there. SMTP_NICE=0 shows the same-machine figures.
SMTP_NICE=${SMTP_NICE:-19}
CONF=$SRC/config/dev.conf
COURSE=security-awareness-2026
SMTP_PY=/usr/bin/python3
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
for tool in python3 curl openssl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
"$SMTP_PY" -c 'import aiosmtpd' 2>/dev/null ||
  { echo "$SMTP_PY lacks aiosmtpd (apt-get install python3-aiosmtpd: scripts/install-deps)" >&2; exit 2; }
# shellcheck source=bench/lib.bash
. "$SRC/bench/lib.bash"
bench_workdir ca-bench-delivery

export CREDANCHOR_CREDENTIALS_TEMPLATES_DIR=$SRC/config/templates
export CREDANCHOR_ANCHOR_RPC_URL=""
MAIL_FROM="credanchor bench <noreply@bench.example>"

# The throwaway CA and the peer's "localhost" certificate (as tests/integration/ca_node.py's
# make_test_ca does it).
mkdir -p "$W/ca"
(
  cd "$W/ca"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=credanchor bench CA" -keyout ca.key -out ca.pem \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout server.key -out server.csr
  printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem
) >/dev/null 2>&1
CA_PEM=$W/ca/ca.pem

# An SMTP peer in $W/NAME: sets SMTP_PORT, SMTP_PID and SMTP_OUT (its messages.jsonl).
start_smtp() { # NAME [CONTROL_JSON]
  local d=$W/$1
  mkdir -p "$d"
  echo "${2:-{\}}" >"$d/control.json"
  nice -n "$SMTP_NICE" "$SMTP_PY" "$SRC/tests/integration/smtp_peer.py" --host 127.0.0.1 --port 0 \
    --cert "$W/ca/server.pem" --key "$W/ca/server.key" --out "$d/messages.jsonl" \
    --control "$d/control.json" --ready-file "$d/ready" 2>"$d/smtp_peer.log" &
  SMTP_PID=$!; PIDS+=("$SMTP_PID")
  SMTP_OUT=$d/messages.jsonl
  for _ in $(seq 1 200); do [ -f "$d/ready" ] && break; sleep 0.05; done
  [ -f "$d/ready" ] || { echo "smtp_peer did not start:" >&2; cat "$d/smtp_peer.log" >&2; exit 2; }
  SMTP_PORT=$(cat "$d/ready")
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# A fresh node in $W/NAME serving on a free port; with SMTP_PORT set, mail goes there with
# CONNECTIONS workers. Sets CA_PORT, CA_PID, TOKEN.
start_node() { # NAME SMTP_PORT|"" CONNECTIONS
  local data=$W/$1
  "$BIN" init --config "$CONF" --data-dir "$data" >/dev/null 2>&1
  TOKEN=$("$BIN" token create --role issuer --config "$CONF" --data-dir "$data" 2>/dev/null)
  CA_PORT=$(free_port)
  local mail=()
  [ -z "$2" ] || mail=(CREDANCHOR_MAIL_SMTP_URL="smtp://localhost:$2" CREDANCHOR_MAIL_FROM="$MAIL_FROM"
                       CREDANCHOR_MAIL_CA_FILE="$CA_PEM" CREDANCHOR_MAIL_CONNECTIONS="$3")
  env "${mail[@]}" CREDANCHOR_NODE_LISTEN="127.0.0.1:$CA_PORT" \
    CREDANCHOR_NODE_PUBLIC_URL="http://localhost:$CA_PORT" \
    "$BIN" serve --config "$CONF" --data-dir "$data" 2>"$W/$1.log" &
  CA_PID=$!; PIDS+=("$CA_PID")
  wait_http "http://127.0.0.1:$CA_PORT/v1/health"
}

# The driver: rosters, batches over one keep-alive connection, the peer's received_at times,
# the smtplib client, and how much of the machine's CPU other processes took meanwhile.
cat >"$W/drv.py" <<'PY'
import base64, datetime, http.client, json, multiprocessing, os, smtplib, ssl, sys, time

sys.path.insert(0, os.environ["CA_BENCH_DIR"])
from batch_driver import Others, post, roster  # noqa: E402

def records(path):
    try:
        with open(path, "rb") as f:
            return [json.loads(l) for l in f.read().split(b"\n")[:-1] if l]
    except FileNotFoundError:
        return []

def at(rec):  # the peer's received_at (ms, UTC) as epoch seconds
    return datetime.datetime.fromisoformat(rec["received_at"].replace("Z", "+00:00")).timestamp()

def wait_n(path, n, timeout):
    """Epoch time of the n-th message the peer recorded."""
    deadline, off, count = time.time() + timeout, 0, 0
    while True:
        try:
            with open(path, "rb") as f:
                f.seek(off)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        end = chunk.rfind(b"\n") + 1
        lines = [l for l in chunk[:end].split(b"\n") if l]
        if count + len(lines) >= n:
            return at(json.loads(lines[n - count - 1]))
        count += len(lines)
        off += end
        if time.time() > deadline:
            sys.exit(f"only {count} of {n} messages recorded within {timeout} s")
        time.sleep(0.2)

def send_slice(port, cafile, msgs):
    s = smtplib.SMTP("localhost", port, timeout=60)
    s.starttls(context=ssl.create_default_context(cafile=cafile))
    s.ehlo()
    for m in msgs:
        s.sendmail(m["mail_from"], m["rcpt_tos"], base64.b64decode(m["data_b64"]))
    s.quit()

def smtplib_start(port, cafile, msgs, k):
    ps = [multiprocessing.Process(target=send_slice, args=(port, cafile, msgs[i::k]))
          for i in range(k)]
    for p in ps:
        p.start()
    return ps

def smtplib_join(ps):
    for p in ps:
        p.join()
    if any(p.exitcode for p in ps):
        sys.exit("smtplib: a sender failed")

def cmd_mail(port, token, n, out, tag, course, pids):
    """One N-row batch; prints: secs (request to the N-th message), secs after the 200, secs of
    the request, others' CPU %."""
    body = roster(tag, n, course)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    o = Others(pids)
    t0 = time.time()
    post(conn, token, body)
    t1 = time.time()
    tn = wait_n(out, n, 600)
    print(f"{tn - t0:.3f} {tn - t1:.3f} {t1 - t0:.3f} {o.share():.0f}")

def cmd_peer(port, cafile, src, out, k, pids):
    """src's messages again, through smtplib over k STARTTLS connections (k processes, one
    persistent connection each); prints: secs (start to the last message), others' CPU %."""
    msgs = records(src)
    o = Others(pids)
    t0 = time.time()
    smtplib_join(smtplib_start(port, cafile, msgs, k))
    tn = wait_n(out, len(msgs), 60)
    print(f"{tn - t0:.3f} {o.share():.0f}")

def cmd_issue(port, token, large, batches, rows, tag, course, out, pids, traffic):
    """A LARGE-row batch (untimed), then BATCHES x ROWS timed. traffic (PORT:CAFILE:SRC):
    smtplib starts sending SRC's messages to that server as the timed part starts. Prints:
    secs, issued, messages the peer recorded within the timed part, others' CPU %."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    post(conn, token, roster(tag + "L", large, course))
    bodies = [roster(f"{tag}B{j}", rows, course) for j in range(batches)]
    ps = []
    if traffic:
        tport, cafile, src = traffic.split(":", 2)
        ps = smtplib_start(int(tport), cafile, records(src), 4)
    o = Others(pids)
    t0 = time.time()
    issued = sum(post(conn, token, b) for b in bodies)
    t1 = time.time()
    share = o.share()
    during = "-"
    if out:
        time.sleep(0.5)
        during = sum(1 for r in records(out) if t0 <= at(r) <= t1)
    for p in ps:
        p.terminate()
    print(f"{t1 - t0:.4f} {issued} {during} {share:.0f}")

def cmd_check(src):
    """The node's messages: count, distinct recipients, over TLS, mean size."""
    recs = records(src)
    size = sum(len(base64.b64decode(r["data_b64"])) for r in recs) / max(1, len(recs))
    print(f"{len(recs)} {len({r['rcpt_tos'][0] for r in recs})} "
          f"{sum(1 for r in recs if r['tls'])} {size:.0f}")

if __name__ == "__main__":
    c, a = sys.argv[1], sys.argv[2:]
    pids = lambda s: s.split(",") if s else []
    if c == "mail":
        cmd_mail(int(a[0]), a[1], int(a[2]), a[3], a[4], a[5], pids(a[6]))
    elif c == "peer":
        cmd_peer(int(a[0]), a[1], a[2], a[3], int(a[4]), pids(a[5]))
    elif c == "issue":
        cmd_issue(int(a[0]), a[1], int(a[2]), int(a[3]), int(a[4]), a[5], a[6], a[7],
                  pids(a[8]), a[9])
    elif c == "check":
        cmd_check(a[0])
PY
drv() { CA_BENCH_DIR="$SRC/bench" python3 "$W/drv.py" "$@"; }

echo "== email delivery: N=$N credentials issued in one POST /v1/credentials/batch, each emailed over SMTP+STARTTLS"
print_bench_setting "$BIN" "$CONF"
echo "  + per node: node.listen/public_url on a free loopback port; with mail: mail.smtp_url"
echo "    smtp://localhost:PORT, mail.from \"$MAIL_FROM\", mail.ca_file a throwaway CA, mail.connections as listed"
echo "SMTP server: tests/integration/smtp_peer.py, aiosmtpd $("$SMTP_PY" -c 'import aiosmtpd; print(aiosmtpd.__version__)') on Python $("$SMTP_PY" -c 'import sys; print(sys.version.split()[0])') (one thread, nice $SMTP_NICE), STARTTLS required, each message fsynced before its 250, no delay rules; a fresh one per run"
echo "timed from the batch request to the N-th message the server recorded; 'others' = the share of both CPUs that processes outside this benchmark used meanwhile"

# Runs, interleaved so that both sides see the same machine: per rep, the node with each
# CONNS value, and smtplib with the first node run's messages.
: >"$W/mail-runs"
SRC_MSGS=
for rep in $(seq 1 "$MAIL_REPS"); do
  for k in $CONNS; do
    start_smtp "smtp-node$k-$rep"
    start_node "node-mail$k-$rep" "$SMTP_PORT" "$k"
    read -r secs after issue_s other < <(drv mail "$CA_PORT" "$TOKEN" "$N" "$SMTP_OUT" "m$k$rep" "$COURSE" "$CA_PID,$SMTP_PID")
    read -r got rcpts tls size < <(drv check "$SMTP_OUT")
    if [ "$got" != "$N" ] || [ "$rcpts" != "$N" ] || [ "$tls" != "$N" ]; then
      echo "node run ($k connections): $got messages, $rcpts recipients, $tls over TLS" >&2; exit 1
    fi
    echo "node$k $secs" >>"$W/mail-runs"
    printf '  run %d: %-40s %8.2f s %8s emails/min  (the batch %.2f s, then %.2f s to the last 250; others %s%%)\n' \
      "$rep" "credanchor outbox, mail.connections $k" "$secs" "$(python3 -c "print(f'{$N * 60 / $secs:,.0f}')")" "$issue_s" "$after" "$other"
    [ -n "$SRC_MSGS" ] || { SRC_MSGS=$SMTP_OUT; MSG_SIZE=$size; }
    stop_pid "$CA_PID"; stop_pid "$SMTP_PID"
  done
  if [ -z "${SKIP_PEER:-}" ]; then
    start_smtp "smtp-peer-$rep"
    read -r secs other < <(drv peer "$SMTP_PORT" "$CA_PEM" "$SRC_MSGS" "$SMTP_OUT" 4 "$SMTP_PID")
    echo "peer $secs" >>"$W/mail-runs"
    printf '  run %d: %-40s %8.2f s %8s emails/min  (the same %d messages, byte for byte; others %s%%)\n' \
      "$rep" "Python smtplib, 4 connections" "$secs" "$(python3 -c "print(f'{$N * 60 / $secs:,.0f}')")" "$N" "$other"
    stop_pid "$SMTP_PID"
  fi
done
echo "  (messages: $MSG_SIZE bytes on average, one recipient each, all $N distinct and over TLS)"
python3 - "$W/mail-runs" "$N" "$CONNS" "$(python3 -c 'import sys; print(sys.version.split()[0])')" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, s = line.split()
    runs[k].append(float(s))
n = int(sys.argv[2])
rate = {k: statistics.median(n * 60 / s for s in v) for k, v in runs.items()}
m = lambda v: f"median of {len(v)}" if len(v) > 1 else "1 run"
for k in sys.argv[3].split():
    print(f"{'credanchor outbox, mail.connections ' + k:<58} {rate['node' + k]:>9,.0f} emails/min  ({m(runs['node' + k])})")
    if k == sys.argv[3].split()[0] and "peer" in rate:
        print(f"{'peer: Python ' + sys.argv[4] + ' smtplib, 4 STARTTLS connections':<58} "
              f"{rate['peer']:>9,.0f} emails/min  ({m(runs['peer'])}; 4 processes, one "
              f"persistent connection each)")
        print(f"ratio credanchor/smtplib at 4 connections: {rate['node' + k] / rate['peer']:.2f}x")
r = rate.get("node4")
if r is not None:
    print(f"target: >= 2,000 emails/min (mail.connections 4, the default): {r:,.0f}/min -> "
          + ("met" if r >= 2000 else "NOT met"))
PY

if [ -z "${SKIP_ISSUE:-}" ]; then
  echo "== issuance while deliveries run: $ISSUE_BATCHES x POST /v1/credentials/batch of $ISSUE_ROWS rows (one keep-alive client), timed, right after an untimed $LARGE-row batch; $REPS runs of each, interleaved"
  : >"$W/issue-off"; : >"$W/issue-traffic"; : >"$W/issue-on"; : >"$W/issue-paced"
  for r in $(seq 1 "$REPS"); do
    start_node "issue-off$r" "" 4
    drv issue "$CA_PORT" "$TOKEN" "$LARGE" "$ISSUE_BATCHES" "$ISSUE_ROWS" "off$r" "$COURSE" "" "$CA_PID" "" >>"$W/issue-off"
    stop_pid "$CA_PID"
    if [ -z "${SKIP_PEER:-}" ]; then
      start_smtp "smtp-traffic$r"
      start_node "issue-traffic$r" "" 4
      drv issue "$CA_PORT" "$TOKEN" "$LARGE" "$ISSUE_BATCHES" "$ISSUE_ROWS" "tr$r" "$COURSE" "$SMTP_OUT" \
        "$CA_PID,$SMTP_PID" "$SMTP_PORT:$CA_PEM:$SRC_MSGS" >>"$W/issue-traffic"
      stop_pid "$CA_PID"; stop_pid "$SMTP_PID"
    fi
    start_smtp "smtp-issue$r"
    start_node "issue-on$r" "$SMTP_PORT" 4
    drv issue "$CA_PORT" "$TOKEN" "$LARGE" "$ISSUE_BATCHES" "$ISSUE_ROWS" "on$r" "$COURSE" "$SMTP_OUT" \
      "$CA_PID,$SMTP_PID" "" >>"$W/issue-on"
    stop_pid "$CA_PID"; stop_pid "$SMTP_PID"
    if [ "$PACED_MS" != 0 ]; then
      start_smtp "smtp-paced$r" "{\"delay_ms\": $PACED_MS}"
      start_node "issue-paced$r" "$SMTP_PORT" 4
      drv issue "$CA_PORT" "$TOKEN" "$LARGE" "$ISSUE_BATCHES" "$ISSUE_ROWS" "pa$r" "$COURSE" "$SMTP_OUT" \
        "$CA_PID,$SMTP_PID" "" >>"$W/issue-paced"
      stop_pid "$CA_PID"; stop_pid "$SMTP_PID"
    fi
  done
  python3 - "$W" "$ISSUE_BATCHES" "$ISSUE_ROWS" "$LARGE" "$PACED_MS" <<'PY'
import os, statistics, sys
w, want, large = sys.argv[1], int(sys.argv[2]) * int(sys.argv[3]), int(sys.argv[4])
def load(name):
    p = f"{w}/issue-{name}"
    rs = [l.split() for l in open(p)] if os.path.getsize(p) else []
    assert all(int(x[1]) == want for x in rs), rs
    return [(want / float(x[0]), x[2], x[3]) for x in rs]
off, traffic, on, paced = load("off"), load("traffic"), load("on"), load("paced")
med = lambda rs: statistics.median(r[0] for r in rs)
runs = lambda rs: ", ".join(f"{r[0]:,.0f}" for r in rs)
others = lambda rs: "/".join(r[2] for r in rs)
print(f"{'mail not configured':<58} {med(off):>9,.0f} cred/s  (runs: {runs(off)}; others {others(off)}%)")
if traffic:
    print(f"{'mail not configured, smtplib sending to a peer meanwhile':<58} {med(traffic):>9,.0f} cred/s  "
          f"(runs: {runs(traffic)}; messages sent during the timed part: {', '.join(r[1] for r in traffic)}; others {others(traffic)}%)")
print(f"{'mail configured, 4 senders busy with the ' + str(large) + ' queued':<58} {med(on):>9,.0f} cred/s  "
      f"(runs: {runs(on)}; messages sent during the timed part: {', '.join(r[1] for r in on)}; others {others(on)}%)")
print(f"ratio with/without deliveries: {med(on) / med(off):.2f}   (target: >= 0.90, unchanged within 10%)"
      + (f"; the same SMTP traffic from smtplib instead: {med(traffic) / med(off):.2f}" if traffic else ""))
if paced:
    ms = int(sys.argv[5])
    print(f"{'mail configured, server answers DATA after ' + str(ms) + ' ms':<58} {med(paced):>9,.0f} cred/s  "
          f"(runs: {runs(paced)}; messages sent during the timed part: {', '.join(r[1] for r in paced)}; others {others(paced)}%)")
    print(f"ratio with deliveries paced at ~{4 * 60000 // ms:,}/min (4 connections x one message per {ms} ms): "
          f"{med(paced) / med(off):.2f}")
PY
fi
