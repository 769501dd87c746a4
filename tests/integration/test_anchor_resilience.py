"""Anchoring engine resilience against a real anvil (issue 5 "Integration tests", SPEC §2).

Starts the pinned anvil (installed with scripts/npm-tools when missing) on a free loopback port
with `--state FILE`, and always stops it and every node. Harness-only calls (anvil_setBalance,
evm_setAutomine, evm_mine, anvil_setNextBlockBaseFeePerGas) are made from this test, never by
the node.

  A. chain outage: with an anchor submitted (automine off), anvil is stopped for 30 s and
     restarted with the same --state on the same port; the node is NOT restarted. /v1/health
     stays 200 throughout, POST /v1/anchors still answers, the node logs a few clear lines about
     the unreachable chain (no flood), and both the in-flight anchor and the one requested
     during the outage reach final.
  B. restart mid-anchor: kill -9 the node while its anchor is submitted (automine off),
     restart it, re-enable mining: final, exactly one anchor tx for that size on chain. Then 5
     rounds of kill -9 at random moments of an anchor cycle: every size final, each exactly
     once on chain, no other anchor tx.
  C. stuck under a raised base fee: anvil's next base fee is raised above the tx's
     maxFeePerGas and a block is mined without it; the node replaces it at the same nonce with
     fees above the new base fee (>= +12.5%), the replacement is mined, the original never.
     (test_anchor_anvil.py covers replacement with automine off but at an unchanged base fee.)

Set CA_RESILIENCE_SEED to replay the random kill moments of B.
"""
import collections
import os
import random
import signal
import sys
import tempfile
import shutil
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ca_node import Anvil, Checks, Node, random_digests  # noqa: E402
from ca_node import eth_rpc as rpc  # noqa: E402

OUTAGE_S = float(os.environ.get("CA_RESILIENCE_OUTAGE", "30"))
c = Checks("anchor_resilience")
MAGIC = "0x43417631"
wait_for = c.wait_for  # a timeout is a failure of c


def latest(node):
    try:
        r = node.get("/v1/anchors/latest")
    except OSError:
        return None
    return r.json() if r.status == 200 else None


def latest_is(node, size, status):
    a = latest(node)
    return a if a and a["treeSize"] == size and a["status"] == status else None


def anchor_is(node, size, status):
    """The record of that size has that status, whether or not a newer one exists (the engine
    may start the next anchor in the same pass)."""
    try:
        recs = node.get("/v1/anchors").json()["anchors"]
    except OSError:
        return None
    return next((a for a in recs if a["treeSize"] == size and a["status"] == status), None)


def post_anchor(node):
    return node.request("POST", "/v1/anchors", token=node.tokens["admin"])


def node_env(url, bump_after=180):
    return {"CREDANCHOR_ANCHOR_RPC_URL": url, "CREDANCHOR_ANCHOR_CHAIN_ID": "31337",
            "CREDANCHOR_ANCHOR_CONFIRMATIONS": "1", "CREDANCHOR_ANCHOR_INTERVAL": "0",
            "CREDANCHOR_ANCHOR_BUMP_AFTER": str(bump_after)}


def new_node(url, **kw):
    n = Node(roles=("admin", "issuer"), env=node_env(url, **kw))
    rpc(url, "anvil_setBalance", [n.init["anchorAddress"], hex(10**19)])
    return n


def onchain_anchors(url, addr):
    """Counter tree size -> number of anchor txs (to addr, CAv1 calldata, 44 bytes) on chain."""
    seen = collections.Counter()
    head = int(rpc(url, "eth_blockNumber", []), 16)
    for b in range(head + 1):
        blk = rpc(url, "eth_getBlockByNumber", [hex(b), True])
        for tx in blk["transactions"]:
            inp = tx.get("input", "")
            if (tx.get("to") or "").lower() == addr and inp.startswith(MAGIC) and \
                    len(inp) == 2 + 2 * 44:
                seen[int(inp[10:26], 16)] += 1
    return seen


def anchor_log_lines(node, since=0):
    text = open(node.log_path, "r", errors="replace").read()[since:]
    return [x for x in text.splitlines() if x.startswith("credanchor anchor:")]


# ---- A. chain outage ------------------------------------------------------------------------

def outage(anvil):
    url = anvil.url
    with new_node(url) as n:
        addr = n.init["anchorAddress"]
        n.start()
        n.append(random_digests(2))
        c.eq(post_anchor(n).status, 202, "A: first POST 202")
        c.ok(wait_for(lambda: latest_is(n, 2, "final"), 20, "A: first anchor final"),
             "A: baseline anchor final")
        # An anchor in flight: automine off, so it stays submitted.
        n.append(random_digests(3))
        rpc(url, "evm_setAutomine", [False])
        c.eq(post_anchor(n).status, 202, "A: second POST 202")
        s = wait_for(lambda: latest_is(n, 5, "submitted"), 15, "A: second anchor submitted")
        head_before = int(rpc(url, "eth_blockNumber", []), 16)
        since = os.path.getsize(n.log_path)
        t_down = time.time()
        anvil.stop()
        # While the chain is down: health 200 throughout; POST still answers (the in-flight
        # record, and a new anchor requested for afterwards).
        n.append(random_digests(4))
        t = time.time()
        r = post_anchor(n)
        c.ok(r.status == 202 and r.json().get("treeSize") == 5 and time.time() - t < 5,
             f"A: POST during the outage answers the in-flight record at once ({r.status})")
        bad, worst, polls = 0, 0.0, 0
        while time.time() - t_down < OUTAGE_S:
            t = time.time()
            try:
                st = n.get("/v1/health").status
            except OSError as ex:
                st = str(ex)
            worst = max(worst, time.time() - t)
            polls += 1
            if st != 200:
                bad += 1
            time.sleep(0.5)
        c.ok(bad == 0 and worst < 5,
             f"A: /v1/health 200 throughout the {OUTAGE_S:.0f} s outage ({bad} of {polls} not "
             f"200, slowest {worst:.2f} s)")
        c.ok(n.proc.poll() is None, "A: the node kept serving")
        lines = anchor_log_lines(n, since)
        print(f"A: {len(lines)} anchor log lines over the outage:", *lines[:6], sep="\n  ",
              flush=True)
        c.ok(0 < len(lines) < 50, f"A: a few log lines, not a flood ({len(lines)})")
        c.ok(any(("127.0.0.1:%d" % anvil.port in x or "rpc" in x.lower()) and
                 any(w in x.lower() for w in ("connect", "unreachable", "refused", "down"))
                 for x in lines), "A: a clear line about the unreachable chain endpoint")
        c.eq(latest(n)["status"], "submitted", "A: the record stays submitted while down")
        # Same --state, same port: the chain comes back; the node is not restarted.
        anvil.start()
        c.ok(int(rpc(url, "eth_blockNumber", []), 16) >= head_before,
             "A: anvil restarted from its --state file")
        pool_kept = s and rpc(url, "eth_getTransactionByHash", [s["txHash"]]) is not None
        print(f"A: anvil kept the submitted tx across the restart: {bool(pool_kept)}",
              flush=True)
        f5 = wait_for(lambda: anchor_is(n, 5, "final"), 10, "A: in-flight anchor final",
                      quiet=True)
        if not f5:  # the tx sits in the restored pool: mine it (harness call)
            rpc(url, "evm_mine", [])
            f5 = wait_for(lambda: anchor_is(n, 5, "final"), 15, "A: in-flight anchor final")
        c.ok(f5, "A: the in-flight anchor reaches final after the outage, node not restarted")
        f9 = wait_for(lambda: latest_is(n, 9, "final"), 20, "A: anchor requested while down")
        c.ok(f9, "A: the anchor requested during the outage reaches final")
        after = anchor_log_lines(n, since)
        c.ok(any("final" in x for x in after[len(lines):]), "A: recovery is logged")
        seen = onchain_anchors(url, addr)
        c.eq(dict(seen), {2: 1, 5: 1, 9: 1}, "A: each size anchored exactly once on chain")
        c.eq(n.stop(), 0, "A: serve stops cleanly")


# ---- B. kill -9 mid-anchor ------------------------------------------------------------------

def kill_restart(anvil, rng):
    url = anvil.url
    with new_node(url) as n:
        addr = n.init["anchorAddress"]
        n.start()
        n.append(random_digests(4))
        rpc(url, "evm_setAutomine", [False])
        try:
            c.eq(post_anchor(n).status, 202, "B: POST 202")
            s = wait_for(lambda: latest_is(n, 4, "submitted"), 15, "B: submitted")
            n.kill()  # SIGKILL
            n.start()
            c.ok(latest_is(n, 4, "submitted"), "B: still submitted after kill -9")
        finally:
            rpc(url, "evm_setAutomine", [True])
        rpc(url, "evm_mine", [])
        f = wait_for(lambda: latest_is(n, 4, "final"), 20, "B: final after restart")
        if f and s:
            c.eq(f["txHash"], s["txHash"], "B: the transaction signed before the kill is mined")
        c.eq(onchain_anchors(url, addr).get(4), 1, "B: exactly one anchor tx for size 4")
        # Random moments in the cycle: right after the POST (pending), during signing and
        # broadcast, while submitted or confirmed.
        sizes = [4]
        size = 4
        for rnd in range(5):
            k = rng.randint(1, 3)
            n.append(random_digests(k))
            size += k
            automine = rng.random() < 0.6
            if not automine:
                rpc(url, "evm_setAutomine", [False])
            try:
                delay = rng.uniform(0, 0.08)
                r = post_anchor(n)
                c.eq(r.status, 202, f"B{rnd}: POST 202")
                time.sleep(delay)
                st = (latest(n) or {}).get("status")
                n.kill()
                print(f"B{rnd}: size {size}, automine {automine}, killed {delay * 1000:.0f} ms "
                      f"after POST (last seen {st})", flush=True)
                n.start()
            finally:
                if not automine:
                    rpc(url, "evm_setAutomine", [True])
            if not automine:
                wait_for(lambda: (latest(n) or {}).get("status") != "pending", 10,
                         f"B{rnd}: leaves pending")
                rpc(url, "evm_mine", [])
            c.ok(wait_for(lambda: latest_is(n, size, "final"), 20, f"B{rnd}: final"),
                 f"B{rnd}: size {size} final after kill -9")
            sizes.append(size)
        recs = n.get("/v1/anchors").json()["anchors"]
        c.eq([(a["treeSize"], a["status"]) for a in recs], [(x, "final") for x in sizes],
             "B: one final record per anchored size, in order")
        seen = onchain_anchors(url, addr)
        c.eq(dict(seen), {x: 1 for x in sizes},
             "B: each final size appears exactly once on chain, nothing else")
        c.ok(len({a["txHash"] for a in recs}) == len(recs), "B: distinct tx hashes")
        c.eq(n.stop(), 0, "B: serve stops cleanly")


# ---- C. stuck under a raised base fee --------------------------------------------------------

def raised_base_fee(anvil):
    url = anvil.url
    with new_node(url, bump_after=2) as n:
        addr = n.init["anchorAddress"]
        n.start()
        n.append(random_digests(3))
        rpc(url, "evm_setAutomine", [False])
        try:
            c.eq(post_anchor(n).status, 202, "C: POST 202")
            s1 = wait_for(lambda: latest_is(n, 3, "submitted"), 15, "C: submitted")
            if not s1:
                return
            t1 = rpc(url, "eth_getTransactionByHash", [s1["txHash"]])
            m1 = int(t1["maxFeePerGas"], 16)
            raised = 4 * m1
            rpc(url, "anvil_setNextBlockBaseFeePerGas", [hex(raised)])
            rpc(url, "evm_mine", [])
            blk = rpc(url, "eth_getBlockByNumber", ["latest", False])
            c.ok(int(blk["baseFeePerGas"], 16) == raised and s1["txHash"] not in
                 blk["transactions"], "C: a block at the raised base fee leaves the tx out")
            rpc(url, "anvil_setNextBlockBaseFeePerGas", [hex(raised)])
            s2 = wait_for(lambda: (lambda a: a if a and a["txHash"] != s1["txHash"] else None)(
                latest(n)), 15, "C: replacement")
            if not s2:
                print(n.log_text())
                return
            # The node persists the replacement before it broadcasts it (write-ahead, so a
            # crash between the two re-sends the same bytes): wait for anvil to hold it.
            t2 = wait_for(lambda: rpc(url, "eth_getTransactionByHash", [s2["txHash"]]), 10,
                          "C: replacement broadcast")
            if not t2:
                print(n.log_text())
                return
            c.eq(t2["nonce"], t1["nonce"], "C: replacement at the same nonce")
            c.ok(int(t2["maxFeePerGas"], 16) >= raised, "C: new maxFeePerGas >= raised base fee")
            c.ok(int(t2["maxFeePerGas"], 16) * 8 >= m1 * 9 and
                 int(t2["maxPriorityFeePerGas"], 16) * 8 >= int(t1["maxPriorityFeePerGas"], 16) * 9,
                 "C: fees +12.5% at least")
            rpc(url, "anvil_setNextBlockBaseFeePerGas", [hex(raised)])
            rpc(url, "evm_mine", [])
        finally:
            rpc(url, "evm_setAutomine", [True])
        f = wait_for(lambda: latest_is(n, 3, "final"), 20, "C: final")
        if f:
            c.eq(f["txHash"], s2["txHash"], "C: the replacement is the one mined")
        c.eq(rpc(url, "eth_getTransactionReceipt", [s1["txHash"]]), None,
             "C: the original is never mined")
        c.eq(onchain_anchors(url, addr).get(3), 1, "C: exactly one anchor tx for size 3")
        c.eq(n.stop(), 0, "C: serve stops cleanly")


def main():
    t0 = time.time()
    seed = int(os.environ.get("CA_RESILIENCE_SEED") or random.randrange(1 << 32))
    print(f"seed {seed} (CA_RESILIENCE_SEED)", flush=True)
    tmp = tempfile.mkdtemp(prefix="ca-anvil-state-")
    anvil = Anvil(state=os.path.join(tmp, "state.json")).start()
    try:
        outage(anvil)
        kill_restart(anvil, random.Random(seed))
        raised_base_fee(anvil)
    finally:
        anvil.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"took {time.time() - t0:.1f} s", flush=True)
    c.finish()


signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))  # run the finally blocks on timeout
main()
