"""A reorg after an anchor became final (issue #12 item 4, SPEC §2) against a real anvil.

SPEC §2: "A `final` record stays watched until its block is at or below the chain's
`finalized` block ... a reorg that drops it then is handled the same way (back to `submitted`,
broadcast again, `final` again later), and health and metrics say so meanwhile. ... One
checkpoint is never anchored as `final` twice." The node reaches anvil through the counting
proxy of test_rpc_faults.py (mode "good"), so the test can also count its RPC calls.
Harness-only calls (anvil_setBalance, anvil_reorg, anvil_mine, evm_mine) go straight to anvil.

  1. confirmations = 3: an anchor becomes final; anvil_reorg(3) replaces the block holding its
     transaction and the two after it. The record leaves `final` (health's latestAnchor and
     the metrics say so), its transaction is broadcast again and it becomes final again in a
     new block; /v1/log/proof and /v1/anchors name the new block; the checkpoint is listed
     once; `check --rpc` passes.
  2. two final anchors dropped by one reorg: both come back, in nonce order, each listed once.
  3. anvil's "finalized" block is head - 64: after 70 more blocks every record is settled
     ("no longer watched", credanchor_anchor_final_watched 0) and an idle node makes no RPC
     calls at all, where a watched one asks every pass.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ca_node import Anvil, Checks, Node, random_digests, run_cli  # noqa: E402
from ca_node import eth_rpc as rpc  # noqa: E402
from ca_node import wait_for as poll  # noqa: E402
from test_anchor_anvil import latest, latest_is, node_env, post_anchor  # noqa: E402
from test_rpc_faults import Fake  # noqa: E402

c = Checks("anchor_reorg_final")
CONFIRMATIONS = 3
wait_for = c.wait_for  # a timeout is a failure of c


def metric(node, name):
    for line in node.get("/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def needs_block(n, url):
    """A submitted record (its transaction may wait in the pool) or a confirmed one short of
    its confirmations: mine only then, so a slow node (valgrind) is not buried under blocks
    it has not looked at yet (64 would finalize its anchors before the reorg)."""
    head = int(rpc(url, "eth_blockNumber", []), 16)
    return any(a["status"] == "submitted" or (a["status"] == "confirmed" and
                                              head - a["blockNumber"] + 1 < CONFIRMATIONS)
               for a in n.get("/v1/anchors").json()["anchors"])


def mine_until(n, url, fn, timeout, what):
    """Polls fn(), mining a block when a record needs one for its confirmations."""
    def once():
        v = fn()
        if not v and needs_block(n, url):
            rpc(url, "evm_mine", [])
        return v
    return poll(once, timeout, c, what, interval=0.3)


def anchor_final(n, url, size):
    c.eq(post_anchor(n).status, 202, f"POST /v1/anchors for size {size}")
    return mine_until(n, url, lambda: latest_is(n, size, "final"), 30, f"anchor {size} final")


def sizes_listed(n):
    return [a["treeSize"] for a in n.get("/v1/anchors").json()["anchors"]]


def calls_in(fake, seconds):
    before = len(fake.methods())
    time.sleep(seconds)
    return fake.methods()[before:]


def scenario(url, fake):
    env = node_env(fake.url, confirmations=CONFIRMATIONS)
    with Node(roles=("admin", "issuer"), env=env) as n:
        rpc(url, "anvil_setBalance", [n.init["anchorAddress"], hex(10**19)])
        n.start()
        d1 = random_digests(3)
        c.eq(n.append(d1).status, 200, "append 3")
        a1 = anchor_final(n, url, 3)
        if not a1:
            print(n.log_text())
            return
        c.eq(metric(n, "credanchor_anchor_final_watched"), 1.0, "1: the final anchor is watched")

        # -- 1. reorg of depth 3 right after finality
        # Depth 3 when the test mined no block past the third confirmation; on a loaded
        # machine it may have mined one more before the node noticed: reorg from the
        # anchor's block either way.
        depth = int(rpc(url, "eth_blockNumber", []), 16) - a1["blockNumber"] + 1
        c.ok(depth >= 3, f"1: final after 3 confirmations (reorg depth {depth})")
        rpc(url, "anvil_reorg", [depth, []])
        blk = rpc(url, "eth_getBlockByNumber", [hex(a1["blockNumber"]), False])
        c.ok(blk is None or blk["hash"] != a1["blockHash"], "1: the anchor's block is gone")
        back = wait_for(lambda: (lambda a: a if a and a["status"] != "final" else None)(
            latest(n)), 15, "1: the record leaves final")
        c.ok(back is not None, f"1: the record left final ({back and back['status']})")
        h = n.get("/v1/health").json()["latestAnchor"]
        c.ok(h and h["treeSize"] == 3 and h["status"] != "final",
             f"1: health says so ({h and h['status']})")
        c.eq(metric(n, 'credanchor_anchors{state="final"}'), 0.0, "1: metrics: no final anchor")
        c.eq(metric(n, "credanchor_anchor_final_reorgs_total"), 1.0, "1: metrics: one reorg")
        c.ok("reorg after finality" in n.log_text(), "1: a log line says so")
        p = n.get(f"/v1/log/proof?digest={d1[0]}").json()
        c.ok(p["anchor"] is None or p["anchor"]["status"] != "final",
             "1: meanwhile the proof does not show a final anchor")
        a1b = mine_until(n, url, lambda: latest_is(n, 3, "final"), 30, "1: final again")
        if not a1b:
            print(n.log_text())
            return
        c.ok(a1b["blockHash"] != a1["blockHash"], "1: final again in a new block")
        c.eq(a1b["txHash"], a1["txHash"], "1: the same signed transaction, broadcast again")
        rc = rpc(url, "eth_getTransactionReceipt", [a1b["txHash"]])
        c.ok(rc and rc["blockHash"] == a1b["blockHash"] and
             int(rc["blockNumber"], 16) == a1b["blockNumber"], "1: the record names the "
             "block that holds the transaction now")
        p = n.get(f"/v1/log/proof?digest={d1[1]}").json()
        c.eq(p["anchor"], a1b, "1: the proof names the new block")
        c.eq(n.get("/v1/anchors").json(), {"anchors": [a1b]}, "1: /v1/anchors lists it once")
        pc = run_cli("check", "--rpc", url, data_dir=n.data_dir, env=n.env, check=False)
        c.ok(pc.returncode == 0, f"1: check --rpc passes ({pc.returncode}: "
                                 f"{pc.stderr.strip()[:200]})")

        # -- 2. one reorg drops two final anchors
        c.eq(n.append(random_digests(2)).status, 200, "2: append 2")
        a2 = anchor_final(n, url, 5)
        if not a2:
            return
        head = int(rpc(url, "eth_blockNumber", []), 16)
        c.eq(metric(n, "credanchor_anchor_final_watched"), 2.0, "2: both final anchors watched")
        rpc(url, "anvil_reorg", [head - a1b["blockNumber"] + 1, []])
        wait_for(lambda: metric(n, "credanchor_anchor_final_reorgs_total") == 3.0, 15,
                 "2: both reorgs noticed")
        both = mine_until(n, url, lambda: all(
            a["status"] == "final" for a in n.get("/v1/anchors").json()["anchors"]), 40,
            "2: both final again")
        got = n.get("/v1/anchors").json()["anchors"]
        c.eq([a["treeSize"] for a in got], [3, 5], "2: each checkpoint listed once")
        if both:
            c.ok(got[0]["blockHash"] != a1b["blockHash"] and got[1]["blockHash"] !=
                 a2["blockHash"], "2: both in new blocks")
            c.ok(got[0]["blockNumber"] <= got[1]["blockNumber"], "2: in nonce order")
            for a in got:
                rc = rpc(url, "eth_getTransactionReceipt", [a["txHash"]])
                c.ok(rc and rc["blockHash"] == a["blockHash"],
                     f"2: anchor {a['treeSize']} names its canonical block")
        pc = run_cli("check", "--rpc", url, data_dir=n.data_dir, env=n.env, check=False)
        c.ok(pc.returncode == 0, f"2: check --rpc passes ({pc.returncode}: "
                                 f"{pc.stderr.strip()[:200]})")

        # -- 3. settled once finalized: no more RPC calls for them
        watched = calls_in(fake, 3)
        c.ok(len(watched) > 0, f"3: watched anchors are checked ({len(watched)} calls in 3 s)")
        fin = rpc(url, "eth_getBlockByNumber", ["finalized", False])
        print(f"anvil: head {int(rpc(url, 'eth_blockNumber', []), 16)}, finalized "
              f"{int(fin['number'], 16)}", flush=True)
        rpc(url, "anvil_mine", [hex(70)])
        wait_for(lambda: metric(n, "credanchor_anchor_final_watched") == 0.0, 15,
                 "3: every record settled")
        c.ok("no longer watched" in n.log_text(), "3: a log line says a record is settled")
        idle = calls_in(fake, 3)
        c.eq(idle, [], "3: settled anchors cost no RPC calls")
        print(f"RPC calls in 3 s: {len(watched)} while watched, {len(idle)} once settled",
              flush=True)
        c.eq(sizes_listed(n), [3, 5], "3: still listed once each")
        c.eq(n.stop(), 0, "serve stops cleanly")


def main():
    with Anvil() as chain, Fake(chain.url) as fake:
        scenario(chain.url, fake)
    c.finish()


if __name__ == "__main__":
    main()
