"""Anchoring engine against a real anvil (issue 5, SPEC §2/§3). Starts the pinned anvil on a free
loopback port (chain id 31337; installed with scripts/npm-tools when missing) and always stops
it. Harness-only calls (anvil_setBalance, anvil_reorg, evm_mine, evm_setAutomine) are made from
this test, never by the node.

  1. unfunded anchor address: POST /v1/anchors -> one clear "insufficient funds" line naming
     the address, no transaction; funded from the test -> final;
  2. the transaction on chain: type 2, from = anchor address, to, input = CAv1 || size || root;
     proofs carry the anchor; health's latestAnchor; metrics;
  3. a second anchor carries previous + a consistency proof that verifies; /v1/anchors?after;
  4. restart: records persist; confirmations = 3: confirmed, then final after evm_mine;
  5. reorg (anvil_reorg): the record goes back, the tx is re-broadcast, final again;
  6. stuck transaction (automine off): replaced at the same nonce with >= +12.5% fees;
  7. `credanchor anchor` while serving / while not;
  8. chain-id mismatch: anchor.chain_id = 1 against 31337 -> no transaction, one clear line,
     appends held (SPEC §1: the log cannot be compared with the configured chain).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ca_node import (Anvil, Checks, Node, merkle_root, random_digests, run_cli,  # noqa: E402
                     verify_consistency)
from ca_node import eth_rpc as rpc  # noqa: E402

c = Checks("anchor_anvil")
wait_for = c.wait_for  # a timeout is a failure of c


def latest(node):
    r = node.get("/v1/anchors/latest")
    return r.json() if r.status == 200 else None


def latest_is(node, size, status):
    a = latest(node)
    return a if a and a["treeSize"] == size and a["status"] == status else None


def post_anchor(node):
    return node.request("POST", "/v1/anchors", token=node.tokens["admin"])


def calldata(size, root_hex):
    return "0x43417631" + size.to_bytes(8, "big").hex() + root_hex


def node_env(url, chain_id=31337, confirmations=1, bump_after=180):
    return {"CREDANCHOR_ANCHOR_RPC_URL": url, "CREDANCHOR_ANCHOR_CHAIN_ID": str(chain_id),
            "CREDANCHOR_ANCHOR_CONFIRMATIONS": str(confirmations),
            "CREDANCHOR_ANCHOR_INTERVAL": "0",
            "CREDANCHOR_ANCHOR_BUMP_AFTER": str(bump_after)}


def main_scenario(url):
    with Node(roles=("admin", "issuer"), env=node_env(url)) as n:
        addr = n.init["anchorAddress"]
        n.start()
        # -- 1. unfunded, then funded
        r = post_anchor(n)
        c.ok(r.status == 409 and r.is_problem(), f"POST on an empty log: 409 problem ({r.status})")
        d1 = random_digests(3)
        c.eq(n.append(d1).status, 200, "append 3")
        r = post_anchor(n)
        c.eq(r.status, 202, "POST /v1/anchors: 202")
        a = r.json()
        c.eq(a.get("status"), "pending", "answered record is pending")
        c.eq(sorted(a.keys()), sorted(["chain", "txHash", "blockNumber", "blockHash", "from",
                                       "to", "status", "treeSize", "rootHash", "previous"]),
             "record fields are exactly SPEC §3's")
        c.eq(a.get("from"), addr, "from is the anchor address")
        c.eq(a.get("chain"), "eip155:31337", "chain is CAIP-2")
        wait_for(lambda: "insufficient funds" in n.log_text(), 15, "insufficient funds line")
        line = [x for x in n.log_text().splitlines() if "insufficient funds" in x]
        c.ok(line and addr in line[0] and "needs" in line[0],
             f"insufficient-funds line names the address and the need: {line[:1]}")
        c.eq(len(line), 1, "logged once")
        c.eq(int(rpc(url, "eth_getTransactionCount", [addr, "pending"]), 16), 0,
             "no transaction sent unfunded")
        rpc(url, "anvil_setBalance", [addr, hex(10**19)])
        a1 = wait_for(lambda: latest_is(n, 3, "final"), 20, "first anchor final")
        if not a1:
            print(n.log_text())
            return
        # -- 2. the tx on chain
        tx = rpc(url, "eth_getTransactionByHash", [a1["txHash"]])
        c.eq(tx["type"], "0x2", "type 2 transaction")
        c.eq(tx["from"].lower(), addr, "tx from = anchor address")
        c.eq(tx["to"].lower(), addr, "tx to = own address by default")
        root1 = merkle_root(d1).hex()
        c.eq(a1["rootHash"], root1, "anchored root is the log root")
        c.eq(tx["input"], calldata(3, root1), "calldata = CAv1 || size || root")
        c.eq(int(tx["value"], 16), 0, "value 0")
        rcpt = rpc(url, "eth_getTransactionReceipt", [a1["txHash"]])
        c.eq(int(rcpt["blockNumber"], 16), a1["blockNumber"], "record block number")
        c.eq(rcpt["blockHash"], a1["blockHash"], "record block hash")
        c.eq(a1["previous"], None, "first anchor: previous null")
        print(f"gas used per anchor (3 entries): {int(rcpt['gasUsed'], 16)}", flush=True)
        p = n.get(f"/v1/log/proof?digest={d1[1]}").json()
        c.eq(p["anchor"], a1, "proof carries the anchor")
        c.eq(p["treeSize"], 3, "proof against the anchored size")
        c.eq(n.get("/v1/health").json()["latestAnchor"], a1, "health latestAnchor")
        m = n.get("/metrics").body.decode()
        c.ok('credanchor_anchors{state="final"} 1' in m and
             "credanchor_anchor_last_final_tree_size 3" in m, "metrics")
        r = post_anchor(n)
        c.eq((r.status, r.json()), (200, a1), "POST with the latest anchored: 200 existing")
        # -- 3. second anchor with previous + consistency proof
        d2 = random_digests(4)
        n.append(d2)
        p = n.get(f"/v1/log/proof?digest={d2[0]}").json()
        c.ok(p["anchor"] is None and p["treeSize"] == 7, "unanchored leaf: latest, anchor null")
        p = n.get(f"/v1/log/proof?digest={d1[0]}").json()
        c.eq(p["treeSize"], 3, "an anchored leaf keeps the smallest anchor")
        c.eq(post_anchor(n).status, 202, "second POST 202")
        a2 = wait_for(lambda: latest_is(n, 7, "final"), 20, "second anchor final")
        if not a2:
            return
        pr = a2["previous"]
        c.ok(pr and pr["treeSize"] == 3 and pr["rootHash"] == root1, "previous = first anchor")
        c.ok(verify_consistency(3, 7, bytes.fromhex(root1), bytes.fromhex(a2["rootHash"]),
                                [bytes.fromhex(h) for h in pr["consistencyProof"]]),
             "consistency proof verifies")
        c.eq(a2["rootHash"], merkle_root(d1 + d2).hex(), "second root")
        c.eq(n.get("/v1/anchors").json(), {"anchors": [a1, a2]}, "list ascending")
        c.eq(n.get("/v1/anchors?after=3").json(), {"anchors": [a2]}, "list after=3")
        pt = n.get(f"/v1/log/proof?digest={d1[0]}&treeSize=7").json()
        c.eq(pt["anchor"], a2, "proof with treeSize=7 carries that anchor")
        pt = n.get(f"/v1/log/proof?digest={d1[0]}&treeSize=5").json()
        c.eq(pt["anchor"], None, "proof with an unanchored treeSize: anchor null")
        # -- 7a. the CLI defers to the serving node
        r = run_cli("anchor", data_dir=n.data_dir, env=n.env, check=False)
        c.ok(r.returncode == 2 and "POST /v1/anchors" in r.stderr, "anchor verb while serving")
        # -- 4. restart with confirmations 3
        c.eq(n.stop(), 0, "serve stops cleanly")
        r = run_cli("anchor", "--json", data_dir=n.data_dir, env=n.env, check=False)
        c.ok(r.returncode == 0 and json.loads(r.stdout) == a2,
             f"anchor verb offline, nothing new: the existing record ({r.returncode})")
        n.env["CREDANCHOR_ANCHOR_CONFIRMATIONS"] = "3"
        n.start()
        c.eq(n.get("/v1/anchors").json(), {"anchors": [a1, a2]}, "records persist a restart")
        d3 = random_digests(2)
        n.append(d3)
        c.eq(post_anchor(n).status, 202, "third POST 202")
        a3 = wait_for(lambda: latest_is(n, 9, "confirmed"), 20, "third anchor confirmed")
        time.sleep(1.2)
        c.ok(latest_is(n, 9, "confirmed"), "not final before 3 confirmations")
        # -- 5. reorg: drop the block holding the tx
        if a3:
            rpc(url, "anvil_reorg", [1, []])
            wait_for(lambda: "reorg" in n.log_text(), 15, "reorg noticed")
            a3b = wait_for(lambda: latest_is(n, 9, "confirmed"), 20, "re-confirmed after reorg")
            if a3b:
                c.ok(a3b["blockHash"] != a3["blockHash"], "re-included in another block")
                c.eq(a3b["txHash"], a3["txHash"], "the same raw transaction re-broadcast")
            rpc(url, "evm_mine", [])
            rpc(url, "evm_mine", [])
            a3f = wait_for(lambda: latest_is(n, 9, "final"), 20, "final after mining")
            if a3f:
                rc = rpc(url, "eth_getTransactionReceipt", [a3f["txHash"]])
                c.eq(rc["blockHash"], a3f["blockHash"], "final block is canonical")
        # -- 6. stuck transaction replaced
        n.stop()
        n.env["CREDANCHOR_ANCHOR_BUMP_AFTER"] = "2"
        n.env["CREDANCHOR_ANCHOR_CONFIRMATIONS"] = "1"
        n.start()
        rpc(url, "evm_setAutomine", [False])
        try:
            n.append(random_digests(1))
            c.eq(post_anchor(n).status, 202, "fourth POST 202")
            s1 = wait_for(lambda: latest_is(n, 10, "submitted"), 15, "fourth submitted")
            s2 = wait_for(lambda: (lambda a: a if a and s1 and a["txHash"] != s1["txHash"]
                                   else None)(latest(n)), 15, "replacement")
            if s1 and s2:
                t1 = rpc(url, "eth_getTransactionByHash", [s1["txHash"]])
                t2 = rpc(url, "eth_getTransactionByHash", [s2["txHash"]])
                c.ok(t2 and t2["nonce"] == (t1 or t2)["nonce"], "replacement at the same nonce")
                if t1 and t2:
                    c.ok(int(t2["maxFeePerGas"], 16) * 8 >= int(t1["maxFeePerGas"], 16) * 9 and
                         int(t2["maxPriorityFeePerGas"], 16) * 8 >=
                         int(t1["maxPriorityFeePerGas"], 16) * 9, "fees +12.5% at least")
            rpc(url, "evm_mine", [])
        finally:
            rpc(url, "evm_setAutomine", [True])
        a4 = wait_for(lambda: latest_is(n, 10, "final"), 20, "replaced anchor final")
        if a4 and s2:
            c.eq(a4["txHash"], s2["txHash"], "the replacement is the one mined")
        c.eq(n.stop(), 0, "serve stops cleanly")


def chain_mismatch(url):
    # The endpoint reports another chain: nothing is signed, and (SPEC §1) appends stay held,
    # since the log cannot be compared with its anchors on the configured chain.
    with Node(roles=("admin", "issuer"), env=node_env(url, chain_id=1)) as n:
        addr = n.init["anchorAddress"]
        rpc(url, "anvil_setBalance", [addr, hex(10**19)])
        n.start()
        r = n.append(random_digests(2))
        c.eq(r.status, 503, "append held on a chain-id mismatch (503)")
        c.ok("anchor.chain_id is 1" in r.json().get("detail", ""),
             f"the problem names the mismatch ({r.json().get('detail', '')[:100]!r})")
        wait_for(lambda: "refusing to sign" in n.log_text(), 15, "chain-id refusal line")
        line = [x for x in n.log_text().splitlines()
                if "refusing to sign" in x and "credanchor anchor:" in x]
        c.ok(len(line) == 1 and "31337" in line[0] and "anchor.chain_id is 1" in line[0],
             f"one clear chain-id line from the engine: {line}")
        time.sleep(1)
        c.eq(int(rpc(url, "eth_getTransactionCount", [addr, "pending"]), 16), 0,
             "no transaction sent on a chain-id mismatch")
        c.eq(n.get("/v1/anchors/latest").status, 404, "no anchor record was created")


def disabled():
    with Node(roles=("admin",)) as n:
        n.start()
        r = post_anchor(n)
        c.ok(r.status == 503 and r.is_problem(), "POST with anchoring disabled: 503 problem")
        c.ok(n.get("/v1/anchors/latest").is_problem(404), "no anchor: 404 problem")
        c.eq(n.get("/v1/anchors").json(), {"anchors": []}, "empty list")
        c.eq(n.get("/v1/health").json()["latestAnchor"], None, "health latestAnchor null")


def main():
    t0 = time.time()
    disabled()
    with Anvil() as chain:
        main_scenario(chain.url)
        chain_mismatch(chain.url)
    print(f"took {time.time() - t0:.1f} s", flush=True)
    c.finish()


if __name__ == "__main__":
    main()
