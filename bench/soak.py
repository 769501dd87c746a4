#!/usr/bin/env python3
"""Soak benchmark (issue #13): DURATION seconds (default 600) of mixed load on one node with
config/dev.conf's durability, anchoring to a pinned anvil through a JSON-RPC proxy this script
runs. Halfway through, for a fifth of the run, two attacks at once:
  - slowloris: SLOW_CONNS (1,100) connections from 127.0.0.5 that send their headers one byte
    every few seconds, plus 100 slow POSTs that promise a 1 MB body and trickle it;
  - a stalled RPC provider: the proxy accepts every JSON-RPC call and never answers.
Meanwhile a monitor asks GET /v1/health every 0.25 s on a new connection (from 127.0.0.1) and
the node's RSS is sampled every 2 s.

Before the clock starts the log is given a history: PREFILL (600,000) digests in large
appends. A node's resident memory grows with its log until two caps are reached (the digest
tail's table, and LMDB's reuse list of the pages an index flush dirties, capped by
store.index_flush_pages: 8,192 pages, 32 MiB), which happens near 500,000 indexed digests.
A production node passes that in its first months and then stays there; without the
history a 10-minute run would spend most of itself climbing to the caps, and the figure would
measure the ramp instead of what the target is about: growth that does not stop (a leak).

At the end every acknowledged append and issuance is looked up again (after a restart of the
node): "lost" counts digests acknowledged with 200/201 that the log cannot prove.

Prints figures (requests by kind and status, latencies, health during and outside the attack,
RSS after warm-up, lost) and the targets beside them: health answering throughout (no sample
over 1 s), RSS flat within 20% after warm-up, nothing lost. "Flat" compares per-minute
medians of RssAnon: the first minute after warm-up against the largest later one. A median
ignores the ~32 MiB that scrypt maps for about 0.1 s each time the anchor key file is
decrypted (every anchoring, by design: the key is not kept in memory between uses), which a
2 s sample catches now and then; the largest single sample is printed too.

usage: bench/soak.sh [BUILD_DIR]    env DURATION=600 SLOW_CONNS=1100 PREFILL=600000 KEEP=1
"""
import http.client
import json
import os
import random
import resource
import socket
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
from ca_node import Anvil, Node, eth_rpc, free_port, run_cli  # noqa: E402

DURATION = float(os.environ.get("DURATION", "600"))
SLOW_CONNS = int(os.environ.get("SLOW_CONNS", "1100"))
WARMUP = min(60.0, DURATION / 10)
ATTACK_START, ATTACK_LEN = DURATION / 2, DURATION / 5
SLOW_SRC = "127.0.0.5"
SAMPLE = int(os.environ.get("LOST_SAMPLE", "50000"))
PREFILL = int(os.environ.get("PREFILL", "600000"))

stop = threading.Event()
lock = threading.Lock()
counts = {}      # kind -> {status: n}
latencies = {}   # kind -> [seconds]
acked = []       # digests acknowledged by an append or issuance
issued = []      # credential ids (for revocation and verification)


def record(kind, status, secs):
    with lock:
        counts.setdefault(kind, {}).setdefault(status, 0)
        counts[kind][status] += 1
        latencies.setdefault(kind, []).append(secs)


# ---- the JSON-RPC proxy in front of anvil -----------------------------------------------------

class RpcProxy:
    """Forwards JSON-RPC POSTs to anvil; while stalled it reads the call and never answers
    (the connection is held until the stall ends, then dropped)."""

    def __init__(self, upstream):
        self.upstream, self.stalled, self.calls, self.held = upstream, threading.Event(), 0, 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                proxy.calls += 1
                if proxy.stalled.is_set():
                    proxy.held += 1
                    while proxy.stalled.is_set() and not stop.is_set():
                        time.sleep(0.2)
                    self.close_connection = True
                    return
                host, port = proxy.upstream
                c = http.client.HTTPConnection(host, port, timeout=30)
                try:
                    c.request("POST", "/", body, {"Content-Type": "application/json"})
                    r = c.getresponse()
                    data = r.read()
                finally:
                    c.close()
                self.send_response(r.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


# ---- load -------------------------------------------------------------------------------------

def client(node):
    return http.client.HTTPConnection("127.0.0.1", node.port, timeout=30)


def call(conn_box, node, kind, method, path, body=None, token=None):
    """One request on a kept-alive connection (reopened after errors); returns (status, body)."""
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    if body is not None:
        body = json.dumps(body)
        h["Content-Type"] = "application/json"
    t0 = time.time()
    try:
        if conn_box[0] is None:
            conn_box[0] = client(node)
        conn_box[0].request(method, path, body=body, headers=h)
        r = conn_box[0].getresponse()
        data = r.read()
        status = r.status
        if r.getheader("Connection", "").lower() == "close":
            conn_box[0].close()
            conn_box[0] = None
    except (OSError, http.client.HTTPException) as e:
        status, data = type(e).__name__, b""
        if conn_box[0]:
            conn_box[0].close()
        conn_box[0] = None
        time.sleep(0.05)
    record(kind, status, time.time() - t0)
    return status, data


def appender(node):
    box = [None]
    while not stop.is_set():
        ds = [os.urandom(32).hex() for _ in range(20)]
        st, _ = call(box, node, "append", "POST", "/v1/log/entries", {"digests": ds},
                     node.tokens["issuer"])
        if st == 200:
            with lock:
                acked.extend(ds)


def issuer(node, template):
    box = [None]
    n = 0
    while not stop.is_set():
        n += 1
        cred = json.loads(json.dumps(template))
        cred["credentialSubject"]["id"] = f"did:example:soak-{threading.get_ident()}-{n}"
        st, data = call(box, node, "issue", "POST", "/v1/credentials",
                        {"credential": cred, "format": "vc+jwt", "alg": "EdDSA"},
                        node.tokens["issuer"])
        if st == 201:
            a = json.loads(data)
            with lock:
                acked.append(a["digest"])
                issued.append(a["id"])


def revoker(node):
    box = [None]
    while not stop.is_set():
        time.sleep(0.5)
        with lock:
            cid = random.choice(issued) if issued else None
        if cid:
            path = "/v1/credentials/" + cid.replace(":", "%3A") + "/revoke"
            call(box, node, "revoke", "POST", path, {"reason": "soak"}, node.tokens["revoker"])


def reader(node, did_key):
    box = [None]
    while not stop.is_set():
        with lock:
            d = random.choice(acked) if acked else None
            cid = random.choice(issued) if issued else None
        pick = random.random()
        if pick < 0.5 and d:
            call(box, node, "proof", "GET", "/v1/log/proof?digest=" + d)
        elif pick < 0.6:
            call(box, node, "checkpoint", "GET", "/v1/checkpoint")
        elif pick < 0.7:
            call(box, node, "did:key", "GET", "/1.0/identifiers/" + did_key)
        elif pick < 0.75:
            call(box, node, "did.json", "GET", "/.well-known/did.json")
        elif pick < 0.8:
            call(box, node, "status", "GET", "/v1/status/1")
        elif pick < 0.85:
            call(box, node, "anchors", "GET", "/v1/anchors/latest")
        elif pick < 0.9:
            call(box, node, "metrics", "GET", "/metrics")
        elif cid:
            # Public verification reads the chain: slow on purpose while the RPC stalls.
            call(box, node, "verification", "GET",
                 "/v1/credentials/" + cid.replace(":", "%3A") + "/verification")


def prefill(node, total):
    """Gives the log its history: `total` digests in appends of 10,000 (the API's maximum),
    two clients at a time. They count as acknowledged for the lost check."""
    def worker(n):
        box = [None]
        while n > 0:
            ds = [os.urandom(32).hex() for _ in range(min(n, 10000))]
            st, data = call(box, node, "prefill", "POST", "/v1/log/entries", {"digests": ds},
                            node.tokens["issuer"])
            if st != 200:
                failed.append(f"prefill: an append answered {st}: {data[:200]!r}")
                return
            with lock:
                acked.extend(ds)
            n -= len(ds)
    failed = []
    t0 = time.time()
    ts = [threading.Thread(target=worker, args=(total // 2 + (i < total % 2),)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if failed:
        raise SystemExit(failed[0])
    with lock:
        counts.pop("prefill", None)
        latencies.pop("prefill", None)
    return time.time() - t0


def anchorer(node):
    box = [None]
    while not stop.wait(10):
        call(box, node, "anchor", "POST", "/v1/anchors", token=node.tokens["admin"])


# ---- attacks and monitors ---------------------------------------------------------------------

def slowloris(port, until):
    socks = []
    for i in range(SLOW_CONNS):
        try:
            s = socket.socket()
            s.bind((SLOW_SRC, 0))
            s.settimeout(2)
            s.connect(("127.0.0.1", port))
            if i % 11 == 0:  # a slow POST: a body promised and trickled
                s.sendall(b"POST /v1/log/entries HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{")
            else:
                s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        except OSError:
            break
    opened = len(socks)
    while time.time() < until and not stop.is_set():
        for s in list(socks):
            try:
                s.send(b"a")
            except OSError:
                socks.remove(s)
        time.sleep(3)
    for s in socks:
        s.close()
    return opened, len(socks)


def health_monitor(node, samples):
    while not stop.is_set():
        t0 = time.time()
        ok = False
        try:
            c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
            c.request("GET", "/v1/health")
            ok = c.getresponse().status == 200
            c.close()
        except (OSError, http.client.HTTPException):
            pass
        samples.append((t0 - T0, time.time() - t0, ok))
        time.sleep(0.25)


def rss_monitor(pid, samples):
    while not stop.is_set():
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    # RssAnon is the heap (what a leak grows); RssFile is LMDB's mapped
                    # pages, which grow with the data the run writes.
                    if line.startswith("RssAnon:"):
                        samples.append((time.time() - T0, int(line.split()[1]) / 1024))
        except OSError:
            pass
        time.sleep(2)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))] if v else 0.0


def main():
    global T0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    template = json.load(open(os.path.join(SRC, "config", "templates",
                                           "security-awareness-2026.json")))
    with Anvil() as anvil:
        proxy = RpcProxy(("127.0.0.1", anvil.port))
        env = {"CREDANCHOR_ANCHOR_RPC_URL": proxy.url, "CREDANCHOR_ANCHOR_CHAIN_ID": "31337",
               "CREDANCHOR_ANCHOR_CONFIRMATIONS": "1", "CREDANCHOR_ANCHOR_INTERVAL": "0"}
        with Node(roles=("issuer", "revoker", "auditor", "admin"), env=env) as node:
            eth_rpc(anvil.url, "anvil_setBalance", [node.init["anchorAddress"], hex(10**20)])
            node.start()
            print(f"== soak: {DURATION:.0f} s mixed load; at {ATTACK_START:.0f} s for "
                  f"{ATTACK_LEN:.0f} s: {SLOW_CONNS} slow connections from {SLOW_SRC} and a "
                  f"stalled RPC provider", flush=True)
            print(f"machine: {os.cpu_count()} cores; binary {os.environ.get('CREDANCHOR_BIN')}; "
                  "config/dev.conf durability (fsync on every commit)", flush=True)
            did_key = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
            if PREFILL:
                secs = prefill(node, PREFILL)
                print(f"history: {PREFILL} digests appended in {secs:.0f} s before the clock "
                      "starts", flush=True)
            T0 = time.time()
            health, rss = [], []
            threads = [threading.Thread(target=f, args=a, daemon=True) for f, a in (
                [(appender, (node,))] * 2 + [(issuer, (node, template))] * 2 +
                [(revoker, (node,)), (anchorer, (node,))] + [(reader, (node, did_key))] * 3 +
                [(health_monitor, (node, health)), (rss_monitor, (node.proc.pid, rss))])]
            for t in threads:
                t.start()
            stop.wait(ATTACK_START)
            print(f"t={time.time() - T0:.0f}s: attack starts", flush=True)
            proxy.stalled.set()
            until = T0 + ATTACK_START + ATTACK_LEN
            opened, alive = slowloris(node.port, until)
            proxy.stalled.clear()
            print(f"t={time.time() - T0:.0f}s: attack ends ({opened} slow connections opened, "
                  f"{alive} still open at the end; {proxy.held} RPC calls held)", flush=True)
            stop.wait(max(0.0, DURATION - (time.time() - T0)))
            stop.set()
            for t in threads:
                t.join(timeout=40)
            report(health, rss, opened)
            lost = check_lost(node)
            print(f"lost: {lost} of {min(len(acked), SAMPLE)} acknowledged digests checked "
                  f"({len(acked)} acknowledged; target 0)")
            return 0 if lost == 0 else 1


def report(health, rss, opened):
    print("== requests (kind: count by status; p50 / p99 ms)")
    for kind in sorted(counts):
        lat = latencies[kind]
        st = ", ".join(f"{k}: {v}" for k, v in sorted(counts[kind].items(), key=str))
        print(f"  {kind:13} {st}; {pct(lat, .5) * 1000:.1f} / {pct(lat, .99) * 1000:.1f}")
    total = sum(sum(c.values()) for c in counts.values())
    print(f"  total {total} requests in {DURATION:.0f} s ({total / DURATION:.0f}/s)")
    a0, a1 = ATTACK_START, ATTACK_START + ATTACK_LEN
    for name, sel in (("outside the attack", lambda t: not a0 <= t <= a1),
                      ("during the attack", lambda t: a0 <= t <= a1)):
        h = [x for x in health if sel(x[0])]
        lat = [x[1] for x in h if x[2]]
        fails = sum(1 for x in h if not x[2])
        slow = sum(1 for x in h if x[1] > 1.0)
        print(f"health {name}: {len(h)} samples, {fails} failed, {slow} over 1 s, "
              f"p50 {pct(lat, .5) * 1000:.1f} ms, p99 {pct(lat, .99) * 1000:.1f} ms, "
              f"max {max(lat, default=0) * 1000:.1f} ms")
    minutes = {}
    for t, m in rss:
        if t >= WARMUP:
            minutes.setdefault(int((t - WARMUP) // 60), []).append(m)
    medians = [statistics.median(minutes[k]) for k in sorted(minutes) if len(minutes[k]) >= 10]
    if medians:
        base = medians[0]
        print(f"RssAnon (heap), per-minute medians after {WARMUP:.0f} s warm-up: "
              + " ".join(f"{m:.1f}" for m in medians) + " MiB")
        print(f"RssAnon: first minute {base:.1f} MiB, largest later minute {max(medians):.1f} MiB "
              f"({100 * (max(medians) / base - 1):+.0f}%; target <= +20%), end "
              f"{medians[-1]:.1f} MiB; single samples {min(m for _, m in rss):.0f}..."
              f"{max(m for _, m in rss):.0f} MiB (the top is scrypt decrypting the anchor key)")


def check_lost(node):
    """Restarts the node (SIGTERM: a graceful stop) and asks for a proof of every acknowledged
    digest, four clients at a time."""
    t0 = time.time()
    node.stop()
    print(f"graceful stop took {time.time() - t0:.1f} s")
    node.start()
    lost = [0]
    # Every issued credential's digest, and a random sample of the appended ones (a 10-minute
    # run acknowledges over a million; asking for each took longer than the run itself).
    with lock:
        todo = acked[:] if len(acked) <= SAMPLE else random.sample(acked, SAMPLE)

    def worker(part):
        box = [None]
        for d in part:
            st, _ = call(box, node, "final-proof", "GET", "/v1/log/proof?digest=" + d)
            if st != 200:
                with lock:
                    lost[0] += 1
    parts = [todo[i::4] for i in range(4)]
    ts = [threading.Thread(target=worker, args=(p,)) for p in parts]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    node.stop()
    r = run_cli("check", "--data-dir", node.data_dir, env=node.env, check=False)
    print(f"check after the run: exit {r.returncode}: {r.stdout.strip().splitlines()[-1:]} ")
    return lost[0]


if __name__ == "__main__":
    sys.exit(main())
