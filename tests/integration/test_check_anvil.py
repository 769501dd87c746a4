"""`credanchor check --rpc` against a real anvil (issue 7, SPEC §2/§6). Starts the pinned anvil on
a free loopback port (chain id 31337; installed with scripts/npm-tools when missing) and always
stops it. Harness-only calls (anvil_setBalance, anvil_reorg) are made from this test.

  1. three anchors made through a serving node (POST /v1/anchors, each waited final), each
     carrying previous + a consistency proof;
  2. `check --rpc` beside the serving node, then with the node stopped: exit 0, every final
     anchor checked on chain; --json; a wrong --anchor-address fails;
  3. anvil_reorg deep enough to drop the last anchor's block while the node is stopped: the
     record is still final locally, so `check --rpc` exits 1 naming that anchor (offline
     `check` still passes).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ca_node import Anvil, Checks, Node, random_digests, run_cli  # noqa: E402
from ca_node import eth_rpc as rpc  # noqa: E402

c = Checks("check_anvil")
wait_for = c.wait_for  # a timeout is a failure of c


def latest_is(node, size, status):
    r = node.get("/v1/anchors/latest")
    a = r.json() if r.status == 200 else None
    return a if a and a["treeSize"] == size and a["status"] == status else None


def check(n, *args):
    return run_cli("check", *args, data_dir=n.data_dir, env=n.env, check=False)


def scenario(url):
    env = {"CREDANCHOR_ANCHOR_RPC_URL": url, "CREDANCHOR_ANCHOR_CHAIN_ID": "31337",
           "CREDANCHOR_ANCHOR_CONFIRMATIONS": "1", "CREDANCHOR_ANCHOR_INTERVAL": "0"}
    with Node(roles=("admin", "issuer"), env=env) as n:
        addr = n.init["anchorAddress"]
        rpc(url, "anvil_setBalance", [addr, hex(10**19)])
        n.start()
        # -- 1. three anchors
        anchors = []
        size = 0
        for k in (3, 4, 2):
            c.eq(n.append(random_digests(k)).status, 200, f"append {k}")
            size += k
            r = n.request("POST", "/v1/anchors", token=n.tokens["admin"])
            c.eq(r.status, 202, f"POST /v1/anchors at size {size}")
            a = wait_for(lambda: latest_is(n, size, "final"), 20, f"anchor {size} final")
            if not a:
                print(n.log_text())
                return
            anchors.append(a)
        c.ok(anchors[1]["previous"] and anchors[2]["previous"]["treeSize"] == 7,
             "later anchors carry previous")
        # -- 2. check --rpc: beside the serving node, then stopped
        p = check(n, "--rpc", url)
        c.ok(p.returncode == 0, f"check --rpc beside the serving node: 0 ({p.returncode}: "
             f"{p.stderr.strip()}\n{p.stdout})")
        c.eq(n.stop(), 0, "serve stops cleanly")
        p = check(n, "--rpc", url)
        c.ok(p.returncode == 0, f"check --rpc, node stopped: 0 ({p.returncode}: "
             f"{p.stderr.strip()}\n{p.stdout})")
        for s in (3, 7, 9):
            c.ok(f"ok    anchor {s}: " in p.stdout, f"anchor {s} checked offline")
            c.ok(f"ok    anchor {s} on chain: " in p.stdout, f"anchor {s} checked on chain")
        c.ok("consistent with anchor 3" in p.stdout and "consistent with anchor 7" in p.stdout,
             "consistency proofs checked")
        p = check(n, "--rpc", url, "--json")
        try:
            o = json.loads(p.stdout)
            c.ok(p.returncode == 0 and o["ok"] is True and
                 sum(1 for x in o["checks"] if x["name"].endswith("on chain")
                     and x["result"] == "ok") == 3, "--json: ok, three on-chain checks")
        except (ValueError, KeyError) as e:
            c.ok(False, f"--json output parses: {e}: {p.stdout}")
        p = check(n, "--rpc", url, "--anchor-address", "0x" + "11" * 20)
        c.ok(p.returncode == 1 and "anchor 3 on chain" in p.stderr,
             f"a wrong --anchor-address fails: {p.returncode} {p.stderr.strip()}")
        p = check(n, "--rpc", url, "--confirmations", "1000")
        c.eq(p.returncode, 1, "--confirmations deeper than the chain fails")
        # -- 3. reorg the last anchor's block away while the node is stopped
        last = anchors[-1]
        head = int(rpc(url, "eth_blockNumber", []), 16)
        depth = head - last["blockNumber"] + 1
        rpc(url, "anvil_reorg", [depth, []])
        blk = rpc(url, "eth_getBlockByNumber", [hex(last["blockNumber"]), False])
        c.ok(blk is None or blk["hash"] != last["blockHash"], "the anchor's block is reorged away")
        p = check(n, "--rpc", url)
        print(f"after the reorg: {p.stderr.strip()}", flush=True)
        c.ok(p.returncode == 1, f"check --rpc after the reorg: 1 ({p.returncode})")
        c.ok("anchor 9 on chain" in p.stderr and last["txHash"] in p.stderr,
             f"the failure names the reorged anchor: {p.stderr.strip()}")
        c.ok("fail  anchor 9 on chain: " in p.stdout and "ok    anchor 7 on chain: " in p.stdout
             and "ok    anchor 3 on chain: " in p.stdout, "only the reorged anchor fails")
        c.eq(len(p.stderr.strip().splitlines()), 1, "one stderr line")
        p = check(n)
        c.eq(p.returncode, 0, "offline check still passes")


def main():
    t0 = time.time()
    with Anvil() as chain:
        scenario(chain.url)
    print(f"took {time.time() - t0:.1f} s", flush=True)
    c.finish()


main()
