#!/usr/bin/env bash
# kill -9 at random moments during issuance and revocation (issues #6, #7): a serving node
# takes concurrent single issuances, bulk batches, revocations and suspensions; it is killed
# with SIGKILL mid-load, restarted, and killed again, for CA_CRASH_ROUNDS rounds. Then every
# acknowledged credential must still exist with its acknowledged digest and leaf (inclusion
# passes), every acknowledged revocation must be in the served status list (verification says
# revoked), and `credanchor check` must be clean (each record and list version in the log).
source "$(dirname "$0")/lib.bash"
D=$WORK/data
ROUNDS=${CA_CRASH_ROUNDS:-8}
# With suspension on, an Open Badge still gets no suspension entry (SPEC §5): every /suspend
# of the load answers 409 (skipped like a repeat revocation), so no "S" line is acknowledged.
export CREDANCHOR_CREDENTIALS_SUSPENSION=true
export CREDANCHOR_CREDENTIALS_ISSUE_PREFIX=CRASH
export CREDANCHOR_CREDENTIALS_TEMPLATES_DIR=$CA_SOURCE_DIR/config/templates
"$BIN" init --data-dir "$D" >/dev/null || fail "init"
ISSUER=$("$BIN" token create --role issuer --data-dir "$D")
REVOKER=$("$BIN" token create --role revoker --data-dir "$D")
AUDITOR=$("$BIN" token create --role auditor --data-dir "$D")
: > "$WORK/acked"

start_node() {
  port=$(free_port)
  # One public URL across restarts (the issuer DID and the status list URLs name it); the
  # node resolves both from local state whatever port it listens on.
  CREDANCHOR_NODE_LISTEN=127.0.0.1:$port CREDANCHOR_NODE_PUBLIC_URL=http://crash.credanchor.test \
    "$BIN" serve --data-dir "$D" >> "$WORK/serve.log" 2>&1 &
  spid=$!
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && return 0; sleep 0.05; done
  fail "serve did not start: $(tail -3 "$WORK/serve.log")"
  return 1
}

# The load: 3 single issuers, 1 bulk issuer, 2 revokers/suspenders. Every acknowledgement is
# written (and flushed) to ACKED as one line once the answer arrived: "I id digest leaf",
# "R id" (revoked), "S id" (suspended).
cat > "$WORK/load.py" <<'PY'
import json, random, sys, threading, urllib.parse, urllib.request, uuid
port, acked_path, issuer, revoker, template = sys.argv[1:6]
base = f"http://127.0.0.1:{port}"
tmpl = json.load(open(template))
lock = threading.Lock()
acked = open(acked_path, "a")
issued = []
stop = threading.Event()

def ack(line):
    with lock:
        acked.write(line + "\n")
        acked.flush()

def post(path, body, token, ctype="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = urllib.request.Request(base + path, data=data, method="POST",
                               headers={"Content-Type": ctype, "Authorization": "Bearer " + token})
    with urllib.request.urlopen(r, timeout=10) as f:
        return f.status, json.loads(f.read())

def single():
    while not stop.is_set():
        cred = json.loads(json.dumps(tmpl))
        cred["credentialSubject"]["id"] = "did:example:" + uuid.uuid4().hex
        try:
            s, b = post("/v1/credentials", {"credential": cred, "format": random.choice(["vc+jwt", "eddsa-jcs-2022"])}, issuer)
        except Exception:
            return
        if s == 201:
            ack(f"I {b['id']} {b['digest']} {b['leafIndex']}")
            with lock:
                issued.append(b["id"])

def bulk():
    n = 0
    while not stop.is_set():
        rows = ["externalId,name,email,course,completedAt"]
        for _ in range(50):
            n += 1
            rows.append(f"B{uuid.uuid4().hex[:12]},Crash Person {n},p{n}@crash.example,security-awareness-2026,2026-06-01")
        try:
            s, b = post("/v1/credentials/batch", "\r\n".join(rows).encode(), issuer, "text/csv")
        except Exception:
            return
        if s == 200:
            for r in b["results"]:
                if r["status"] == "issued":
                    ack(f"I {r['id']} {r['digest']} {r['leafIndex']}")
                    with lock:
                        issued.append(r["id"])

def changer(kind):
    while not stop.is_set():
        with lock:
            target = random.choice(issued) if issued else None
        if not target:
            # Nothing issued yet: wait, but notice a killed node (no request would fail).
            try:
                urllib.request.urlopen(base + "/v1/health", timeout=5).read()
            except Exception:
                return
            stop.wait(0.02)
            continue
        try:
            s, b = post(f"/v1/credentials/{urllib.parse.quote(target, safe='')}/{kind}", {"reason": "crash test"}, revoker)
        except urllib.error.HTTPError as e:
            if e.code == 409:   # already revoked (final): fine
                continue
            return
        except Exception:
            return
        if s == 200 and b["changed"]:
            ack(("R " if kind == "revoke" else "S ") + target)

threads = [threading.Thread(target=single) for _ in range(3)] + [threading.Thread(target=bulk)] + \
          [threading.Thread(target=changer, args=(k,)) for k in ("revoke", "suspend")]
for t in threads: t.start()
for t in threads: t.join()
PY

killed=0
for round in $(seq 1 "$ROUNDS"); do
  start_node || break
  python3 "$WORK/load.py" "$port" "$WORK/acked" "$ISSUER" "$REVOKER" \
    "$CA_SOURCE_DIR/config/templates/security-awareness-2026.json" 2>/dev/null &
  lpid=$!
  # The kill lands at a random moment once this round's load is flowing: wait (up to 30 s)
  # for its first acknowledgement, so a slow or busy machine still kills mid-load rather
  # than before python has sent anything (CI once saw 0 issuances in 8 rounds).
  before=$(wc -l < "$WORK/acked")
  for _ in $(seq 1 300); do
    [ "$(wc -l < "$WORK/acked")" -gt "$before" ] && break
    sleep 0.1
  done
  sleep "$((RANDOM % 2)).$(printf "%03d" $((RANDOM % 1000)))"
  kill -9 "$spid" 2>/dev/null && killed=$((killed + 1))
  wait "$spid" 2>/dev/null
  wait "$lpid" 2>/dev/null
done
issued=$(grep -c '^I ' "$WORK/acked" || true)
changes=$(grep -c '^[RS] ' "$WORK/acked" || true)
echo "rounds: $ROUNDS, killed: $killed, acknowledged issuances: $issued, status changes: $changes" >&2
[ "$killed" = "$ROUNDS" ] && ok || fail "only $killed of $ROUNDS rounds ended in kill -9"
[ "$issued" -gt 50 ] && ok || fail "too little load: $issued issuances"

# After the crashes: every acknowledgement holds (checked over HTTP, as a verifier would).
start_node || { finish; exit 1; }
python3 - "$port" "$WORK/acked" "$AUDITOR" <<'PY' && ok || fail "an acknowledged credential or status change was lost"
import json, sys, urllib.parse, urllib.request
port, acked_path, auditor = sys.argv[1:4]
base = f"http://127.0.0.1:{port}"
issued, revoked, suspended = {}, set(), set()
for line in open(acked_path):
    p = line.split()
    if len(p) == 4 and p[0] == "I":
        issued[p[1]] = (p[2], int(p[3]))
    elif len(p) == 2 and p[0] == "R":
        revoked.add(p[1])
    elif len(p) == 2 and p[0] == "S":
        suspended.add(p[1])
bad = 0
# Every acknowledged digest is in the log at its acknowledged leaf; every changed credential
# and a sample of the rest are verified in full (signature, inclusion, status).
import random
random.seed(7)
full = revoked | suspended | set(random.sample(sorted(issued), min(300, len(issued))))
for cid, (digest, leaf) in issued.items():
    with urllib.request.urlopen(f"{base}/v1/log/proof?digest={digest}") as f:
        proof = json.loads(f.read())
    if proof["leafIndex"] != leaf:
        bad += 1
        print("moved:", cid, leaf, proof["leafIndex"], file=sys.stderr)
    if cid not in full:
        continue
    with urllib.request.urlopen(f"{base}/v1/credentials/{urllib.parse.quote(cid, safe='')}/verification") as f:
        v = json.loads(f.read())
    ok = v["digest"] == digest and v["checks"]["signature"]["result"] == "pass" \
        and v["checks"]["inclusion"]["result"] == "pass"
    st = v["checks"]["status"]
    if (cid in revoked and not st["revoked"]) or (cid in suspended and not st["suspended"]):
        ok = False
    if not ok:
        bad += 1
        print("lost or wrong:", cid, v, file=sys.stderr)
print(f"{len(issued)} acknowledged credentials, {len(revoked)} revocations, {len(suspended)} suspensions checked", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
kill -TERM "$spid"; wait "$spid" 2>/dev/null
expect_exit 0 "check after the crashes" -- "$BIN" check --data-dir "$D"
finish
