"""The public GET /v1/credentials/{id}/verification against a stalled JSON-RPC provider (issue
#13 item 2, SPEC §5).

The node's anchor.rpc_url is the fake JSON-RPC server of test_rpc_faults.py (Fake): in mode
"good" it forwards to a real anvil, so two issued credentials get a final anchor; in mode
"slow" it reads each request and never answers (until the mode ends). The test checks:

  1. a verification of a credential with a final anchor passes its anchor check; a second
     verification of it makes no JSON-RPC call at all (the memo of passed final checks,
     anchor_check.h), counted in the fake (eth_chainId and eth_getTransactionByHash, which the
     check makes and the idle engine does not);
  2. with the provider stalled, 12 concurrent public verifications of a second credential
     (under a later anchor, never checked, so not in the memo) run on the offload pool: /v1/health and
     /v1/log/proof keep answering within a second throughout, and each verification answers
     within the check's short budget (node/verify_env.c, 3 s) plus slack, with the anchor
     check not passing and a detail saying the chain could not be checked;
  3. meanwhile the memoised credential still verifies (pass) at once, without the provider.
"""
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ca_node import SRC, Anvil, Checks, Node, eth_rpc, scaled  # noqa: E402
from test_rpc_faults import Fake  # noqa: E402

c = Checks("verification_offload")
BUDGET = 3  # LOCAL_ANCHOR_BUDGET_MS in node/verify_env.c, in seconds
SLACK = scaled(2)
QUICK = scaled(1)
CONCURRENT = 12
TEMPLATE = os.path.join(SRC, "config", "templates", "security-awareness-2026.json")


def issue(n):
    with open(TEMPLATE) as f:
        cred = json.load(f)
    cred["credentialSubject"]["id"] = "did:example:alice"
    r = n.request("POST", "/v1/credentials", body={"credential": cred},
                  token=n.tokens["issuer"])
    return r.json() if r.status == 201 else None


def verification(n, cred_id, timeout=60):
    path = "/v1/credentials/" + urllib.parse.quote(cred_id, safe="") + "/verification"
    t = time.time()
    try:
        conn = n.conn(timeout=timeout)
        try:
            r = n.request("GET", path, conn=conn)
        finally:
            conn.close()
    except OSError as ex:
        return None, str(ex), time.time() - t
    return r, None, time.time() - t


def anchor_check(r):
    try:
        return r.json()["checks"]["anchor"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def check_calls(fake):
    """How many JSON-RPC calls an anchor check makes that the idle engine never does."""
    return sum(1 for m in fake.methods() if m in ("eth_chainId", "eth_getTransactionByHash"))


def quick_get(n, path):
    t = time.time()
    try:
        conn = n.conn(timeout=QUICK)
        try:
            st = n.request("GET", path, conn=conn).status
        finally:
            conn.close()
    except OSError as ex:
        st = str(ex)
    return st, time.time() - t


def wait_final(n, size, timeout):
    deadline = time.time() + scaled(timeout)
    while time.time() < deadline:
        r = n.get("/v1/anchors/latest")
        if r.status == 200 and r.json()["status"] == "final" and r.json()["treeSize"] >= size:
            return r.json()
        time.sleep(0.2)
    return None


def stalled_provider(n, fake, memo_id, fresh, digest):
    fake.mode = "slow"
    outs = []

    def run():
        outs.append(verification(n, fresh["id"]))
    ths = [threading.Thread(target=run, daemon=True) for _ in range(CONCURRENT)]
    for th in ths:
        th.start()
    time.sleep(0.3)
    polls, bad, worst = 0, [], 0.0
    while any(th.is_alive() for th in ths) and polls < 300:
        for path in ("/v1/health", f"/v1/log/proof?digest={digest}"):
            st, el = quick_get(n, path)
            worst = max(worst, el)
            if st != 200 or el >= QUICK:
                bad.append((path.split("?")[0], st, round(el, 2)))
        polls += 1
        time.sleep(0.1)
    c.ok(polls > 0 and not bad and worst < QUICK,
         f"stalled RPC, {CONCURRENT} verifications: health and proofs within {QUICK} s in "
         f"{polls} polls: slowest {worst:.2f} s, misses {bad[:5]}")
    # The memoised credential needs no provider at all.
    r, ex, el = verification(n, memo_id)
    c.ok(r is not None and r.status == 200 and anchor_check(r).get("result") == "pass"
         and el < QUICK,
         f"stalled RPC: the memoised final anchor still passes at once ({ex or r.status}, "
         f"{el:.2f} s, {anchor_check(r) if r else ''})")
    for th in ths:
        th.join(scaled(120))
    c.eq(len(outs), CONCURRENT, "stalled RPC: every verification answered")
    for r, ex, el in outs:
        a = anchor_check(r) if r else {}
        if not c.ok(r is not None and r.status == 200, f"stalled RPC: answer {ex or r.status}"):
            continue
        c.ok(el < BUDGET + SLACK,
             f"stalled RPC: answered after {el:.1f} s (budget {BUDGET} s + {SLACK} s)")
        c.ok(a.get("result") in ("pending", "fail"),
             f"stalled RPC: the anchor check does not pass: {a}")
        c.ok("cannot check" in a.get("detail", "") or "RPC" in a.get("detail", ""),
             f"stalled RPC: the detail says the chain could not be checked: {a}")
        for k in ("signature", "status", "inclusion"):
            c.eq(r.json()["checks"][k]["result"], "pass", f"stalled RPC: {k} still checked")
    fake.mode = "good"


def main():
    with Anvil() as anvil, Fake(anvil.url) as fake:
        env = {"CREDANCHOR_ANCHOR_RPC_URL": fake.url, "CREDANCHOR_ANCHOR_CHAIN_ID": "31337",
               "CREDANCHOR_ANCHOR_INTERVAL": "1", "CREDANCHOR_ANCHOR_CONFIRMATIONS": "1",
               "CREDANCHOR_CREDENTIALS_ISSUE_PREFIX": "VOFF"}
        with Node(roles=("issuer",), env=env) as n:
            eth_rpc(anvil.url, "anvil_setBalance", [n.init["anchorAddress"], hex(10**19)])
            n.start()
            memo = issue(n)
            if not c.ok(memo is not None, "credential issued"):
                c.finish()
            size = n.get("/v1/health").json()["treeSize"]
            if not c.ok(wait_final(n, size, 60) is not None, "its anchor becomes final"):
                print(n.log_text())
                c.finish()

            # 1. The first check reads the chain; the second is answered from the memo.
            before = check_calls(fake)
            r, ex, _ = verification(n, memo["id"])
            c.ok(r is not None and r.status == 200 and anchor_check(r).get("result") == "pass",
                 f"first verification: anchor pass ({ex or anchor_check(r)})")
            first = check_calls(fake) - before
            c.ok(first > 0, f"first verification: the anchor was read on chain ({first} calls)")
            before = check_calls(fake)
            r, ex, _ = verification(n, memo["id"])
            c.ok(r is not None and r.status == 200 and anchor_check(r).get("result") == "pass"
                 and r.json().get("verified") is True,
                 f"second verification: verified, anchor pass ({ex or anchor_check(r)})")
            c.eq(check_calls(fake) - before, 0, "second verification of a final anchor: "
                 "JSON-RPC calls")

            # 2, 3. A stalled provider, for a credential under a later anchor (its proof names
            # the smallest anchor containing it: not the memoised one).
            fresh = issue(n)
            size = n.get("/v1/health").json()["treeSize"]
            if not c.ok(fresh is not None and wait_final(n, size, 60) is not None,
                        "a second credential, anchored final in a later anchor"):
                print(n.log_text())
                c.finish()
            stalled_provider(n, fake, memo["id"], fresh, memo["digest"])
            c.ok(n.proc.poll() is None, "the node is still running")
            c.eq(n.stop(), 0, "serve exits 0 on SIGTERM")
    c.finish()


if __name__ == "__main__":
    main()
