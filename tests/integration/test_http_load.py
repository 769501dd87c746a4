"""Concurrency and shutdown (issue 3): 16 clients appending at once are all answered, the final
tree size equals the number of distinct digests, and every digest is provable at the index it
was acknowledged with; SIGTERM during an append load exits 0 and loses nothing acknowledged
(every digest acknowledged before the signal is provable after a restart)."""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

t = ca.Checks("http_load")
CLIENTS = 16
BATCHES = 8
BATCH = 40


def prove_all(node, acked, threads=8):
    """Fetches a proof for every acknowledged digest; returns the mismatches."""
    items = list(acked.items())
    bad = []
    lock = threading.Lock()

    def worker(part):
        c = node.conn()
        for d, idx in part:
            try:
                r = node.get(f"/v1/log/proof?digest={d}", conn=c)
                ok = r.status == 200 and r.json()["leafIndex"] == idx
            except OSError as e:
                ok = False
                c.close()
                c = node.conn()
                r = e
            if not ok:
                with lock:
                    bad.append((d, idx, getattr(r, "status", r)))
        c.close()
    ts = [threading.Thread(target=worker, args=(items[i::threads],)) for i in range(threads)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    return bad


# ---- 16 concurrent clients, with digests shared between them (idempotent appends)
with ca.Node(roles=["issuer"], env={"CREDANCHOR_NODE_THREADS": "4"}) as node:
    node.start()
    shared = ca.random_digests(25)
    acked = {}
    errors = []
    lock = threading.Lock()

    def client(n):
        c = node.conn()
        for b in range(BATCHES):
            batch = ca.random_digests(BATCH - 5) + shared[(n + b) % 20:(n + b) % 20 + 5]
            try:
                r = node.append(batch, conn=c)
            except OSError as e:
                with lock:
                    errors.append(f"client {n}: {e}")
                c.close()
                c = node.conn()
                continue
            if r.status != 200:
                with lock:
                    errors.append(f"client {n}: {r.status} {r.body[:100]}")
                continue
            body = r.json()
            with lock:
                for e in body["entries"]:
                    old = acked.setdefault(e["digest"], e["leafIndex"])
                    if old != e["leafIndex"]:
                        errors.append(f"{e['digest']} acknowledged at {old} and "
                                      f"{e['leafIndex']}")
        c.close()

    t0 = time.time()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.time() - t0
    t.eq(errors, [], "every concurrent append answered 200 with stable indexes")
    r = node.get("/v1/health")
    t.eq(r.json()["treeSize"], len(acked), "tree size equals the distinct digests")
    t.eq(sorted(acked.values()), list(range(len(acked))), "indexes are 0..n-1, no gaps")
    t.eq(prove_all(node, acked), [], f"all {len(acked)} digests provable at their index")
    m = node.get("/metrics").body.decode()
    commits = [ln for ln in m.splitlines() if ln.startswith("credanchor_log_commits_total ")]
    print(f"  {CLIENTS} clients x {BATCHES} batches in {elapsed:.2f}s; {commits}")
    t.eq(node.stop(), 0, "serve exits 0")

# ---- SIGTERM during load: nothing acknowledged is lost
with ca.Node(roles=["issuer"], env={"CREDANCHOR_NODE_THREADS": "4"}) as node:
    node.start()
    acked = {}
    lock = threading.Lock()
    stop = threading.Event()
    answered_after = []

    def loader(n):
        c = node.conn(timeout=15)
        while not stop.is_set():
            batch = ca.random_digests(20)
            try:
                r = node.append(batch, conn=c)
            except OSError:
                break  # the server went away: unacknowledged, may or may not be in the log
            if r.status != 200:
                if r.status not in (503,):
                    answered_after.append(r.status)
                break
            with lock:
                for e in r.json()["entries"]:
                    acked[e["digest"]] = e["leafIndex"]
        c.close()

    threads = [threading.Thread(target=loader, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    time.sleep(0.8)
    with lock:
        before = len(acked)
    node.proc.send_signal(signal.SIGTERM)
    try:
        rc = node.proc.wait(timeout=30)
    except Exception:
        rc = None
    stop.set()
    for th in threads:
        th.join()
    t.eq(rc, 0, "serve exits 0 on SIGTERM under load")
    t.ok(before > 0, f"appends were acknowledged before SIGTERM ({before})")
    print(f"  {before} acknowledged when SIGTERM was sent, {len(acked)} in all")
    t.eq(answered_after, [], "no error statuses during shutdown")
    node.proc = None
    node.log.close()
    node.start()
    r = node.get("/v1/health")
    size = r.json()["treeSize"]
    t.ok(size >= len(acked), f"tree size after restart {size} >= acknowledged {len(acked)}")
    t.eq(prove_all(node, acked), [], f"all {len(acked)} acknowledged digests provable after "
                                     "restart")
    t.eq(node.stop(), 0, "second serve exits 0")
    log = open(node.log_path, errors="replace").read()
    t.ok("SIGTERM received" in log and "stopped" in log, "shutdown is logged")

t.finish()
