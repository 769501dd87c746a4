"""The anchor account's funds and the chain's reachability (issue #17), against the pinned anvil
on loopback (started and always stopped here). anvil_setBalance is the harness's call, never the
node's. The node checks every anchor.account_check_interval = 1 s here (default 60).

  1. funded (10 ETH): GET /v1/anchors/account (auditor) says reachable, not low, the address,
     chain id, balance, the fee the engine would offer, gas per anchor = the documented default
     (22,610) before any anchor, anchorsLeft = balance // (gas x price); roles: issuer 403,
     no token 401; metrics gauges;
  2. after one final anchor: gasPerAnchor = that anchor's receipt gasUsed;
  3. anvil_setBalance to ten anchors' worth: low within the check period, anchorsLeft ~ 10 and
     exactly balance // (gas x price); one "low funds" warning, not one per check;
  4. anvil stopped: reachable false with the reason (host:port only), one warning; the last known
     balance kept; anvil back (same state): reachable again, one info line;
  5. funded again: not low, "funds restored";
  6. anchoring not configured: {"configured":false}.
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ca_node import Anvil, Checks, Node, random_digests  # noqa: E402
from ca_node import eth_rpc as rpc  # noqa: E402

c = Checks("anchor_funds")
wait_for = c.wait_for
ETH = 10**18
FIELDS = {"configured", "address", "chainId", "reachable", "checkedAt", "balanceWei",
          "gasPriceWei", "gasPerAnchor", "anchorsLeft", "low", "threshold", "error"}


def account(node, token="auditor"):
    r = node.get("/v1/anchors/account", token=node.tokens.get(token))
    return r.json() if r.status == 200 else None


def lines(node, what):
    return [x for x in node.log_text().splitlines() if what in x]


def node_env(url):
    return {"CREDANCHOR_ANCHOR_RPC_URL": url,
            "CREDANCHOR_ANCHOR_CHAIN_ID": "31337", "CREDANCHOR_ANCHOR_CONFIRMATIONS": "1",
            "CREDANCHOR_ANCHOR_INTERVAL": "0", "CREDANCHOR_ANCHOR_ACCOUNT_CHECK_INTERVAL": "1",
            "CREDANCHOR_ANCHOR_LOW_FUNDS_ANCHORS": "100"}


def funded_and_roles(n, addr):
    a = wait_for(lambda: (x := account(n)) and x["reachable"] and x, 20, "first check reachable")
    if not a:
        return None
    c.eq(set(a), FIELDS, "the route's fields")
    c.eq(a["address"], addr, "address is the anchor address")
    c.eq(a["chainId"], 31337, "chainId")
    c.eq(a["balanceWei"], str(10 * ETH), "balanceWei is the decimal balance")
    c.eq(a["gasPerAnchor"], 22610, "gas per anchor before any anchor: the documented default")
    price = int(a["gasPriceWei"])
    c.ok(0 < price <= 500 * 10**9, f"gasPriceWei within anchor.max_fee_gwei ({price})")
    c.eq(a["anchorsLeft"], 10 * ETH // (22610 * price), "anchorsLeft = balance // (gas x price)")
    c.eq((a["low"], a["threshold"], a["error"]), (False, 100, None), "not low, threshold, no error")
    c.ok(a["checkedAt"].endswith("Z") and a["checkedAt"][:4] >= "2026", "checkedAt RFC 3339")
    c.eq(n.get("/v1/anchors/account", token=n.tokens["issuer"]).status, 403, "issuer: 403")
    c.eq(n.get("/v1/anchors/account").status, 401, "no token: 401")
    c.eq(n.get("/v1/anchors/account", token=n.tokens["admin"]).status, 200, "admin: 200")
    m = n.get("/metrics").body.decode()
    c.ok("credanchor_anchor_chain_reachable 1" in m and
         f"credanchor_anchor_account_balance_wei {10 * ETH}" in m and
         "credanchor_anchor_account_low 0" in m, "metrics: reachable, balance, not low")
    return a


def after_anchor(n, url):
    c.eq(n.append(random_digests(2)).status, 200, "append 2")
    c.eq(n.request("POST", "/v1/anchors", token=n.tokens["admin"]).status, 202, "anchor now")
    fin = wait_for(lambda: (r := n.get("/v1/anchors/latest")).status == 200 and
                   r.json()["status"] == "final" and r.json(), 30, "anchor final")
    if not fin:
        return
    used = int(rpc(url, "eth_getTransactionReceipt", [fin["txHash"]])["gasUsed"], 16)
    a = wait_for(lambda: (x := account(n)) and x["gasPerAnchor"] == used and x, 10,
                 f"gasPerAnchor = the receipt's gasUsed {used}")
    c.ok(a and 21000 < used <= 23000, f"gasPerAnchor from the receipt ({used})")


def low_funds(n, url, addr):
    a = account(n)
    price = int(a["gasPriceWei"])
    tiny = 10 * a["gasPerAnchor"] * price + 1
    rpc(url, "anvil_setBalance", [addr, hex(tiny)])
    a = wait_for(lambda: (x := account(n)) and x["low"] and x, 10, "low after anvil_setBalance")
    if not a:
        return
    c.eq(a["balanceWei"], str(tiny), "balanceWei after anvil_setBalance")
    c.eq(a["anchorsLeft"], tiny // (a["gasPerAnchor"] * int(a["gasPriceWei"])),
         "anchorsLeft = balance // (gas x price)")
    c.ok(5 <= a["anchorsLeft"] <= 20, f"about ten anchors left ({a['anchorsLeft']})")
    time.sleep(3)  # three more checks: still one line
    low = lines(n, "low funds")
    c.eq(len(low), 1, "one low-funds warning over several checks")
    c.ok(low and "warning:" in low[0] and addr in low[0] and "anchor.low_funds_anchors" in low[0],
         f"the warning names the address and the key: {low[:1]}")
    c.ok("credanchor_anchor_account_low 1" in n.get("/metrics").body.decode(), "metrics: low 1")


def unreachable_and_back(n, anvil, url, addr):
    balance = account(n)["balanceWei"]
    anvil.stop()
    a = wait_for(lambda: (x := account(n)) and not x["reachable"] and x, 20, "unreachable")
    if a:
        c.ok(a["error"] and "127.0.0.1" in a["error"], f"the reason names the host: {a['error']}")
        c.eq(a["balanceWei"], balance, "the last known balance is kept")
    time.sleep(2.5)
    un = lines(n, "the chain is unreachable")
    c.eq(len(un), 1, "one unreachable warning over several checks")
    c.ok("credanchor_anchor_chain_reachable 0" in n.get("/metrics").body.decode(),
         "metrics: reachable 0")
    anvil.start()
    wait_for(lambda: (x := account(n)) and x["reachable"], 20, "reachable again")
    wait_for(lambda: lines(n, "reachable again"), 5, "a 'reachable again' line")
    rpc(url, "anvil_setBalance", [addr, hex(10 * ETH)])
    wait_for(lambda: (x := account(n)) and x["reachable"] and not x["low"], 10, "not low again")
    wait_for(lambda: lines(n, "funds restored"), 5, "a 'funds restored' line")


def main():
    work = tempfile.mkdtemp(prefix="ca-funds-")
    state = os.path.join(work, "anvil.json")
    try:
        scenario(state)
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    c.finish()


def scenario(state):
    with Anvil(state=state) as anvil:
        url = anvil.url
        with Node(roles=("admin", "issuer", "auditor"), env=node_env(url)) as n:
            addr = n.init["anchorAddress"]
            rpc(url, "anvil_setBalance", [addr, hex(10 * ETH)])
            n.start()
            if funded_and_roles(n, addr):
                after_anchor(n, url)
                low_funds(n, url, addr)
                unreachable_and_back(n, anvil, url, addr)
            if c.failed:
                print(n.log_text()[-3000:])
    with Node(roles=("auditor",)) as n:
        n.start()
        c.eq(account(n), {"configured": False}, "anchoring off: {\"configured\":false}")


main()
