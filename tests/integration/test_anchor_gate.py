"""SPEC §1's start-up gate against a real anvil: a node refuses to append until its log is
consistent with its newest anchor on chain. Scenario: anchor twice; take a copy of the data dir
between the two anchors (an "older backup"); restore that copy and start it: the chain shows a
transaction the restored store does not know of, so appends are held (503 problem naming the
reason) while reads keep working; the original data dir, consistent with the chain, appends.
Also: with the chain unreachable at start-up, appends are held until it answers."""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ca_node import Anvil, Checks, Node, free_port, random_digests  # noqa: E402
from ca_node import eth_rpc as rpc  # noqa: E402
from ca_node import wait_for as poll  # noqa: E402
from test_anchor_anvil import latest_is, node_env, post_anchor  # noqa: E402

c = Checks("anchor_gate")


def wait_for(fn, timeout, what):
    return poll(fn, timeout, interval=0.2)


def fund(url, addr):
    rpc(url, "anvil_setBalance", [addr, hex(10**20)])


def anchor_to_final(n, size):
    r = post_anchor(n)
    c.ok(r.status in (200, 202), f"POST /v1/anchors ({r.status})")
    c.ok(wait_for(lambda: latest_is(n, size, "final"), 30, f"anchor of {size} final") is not None,
         f"anchor of size {size} final")


def main():
    with Anvil() as chain:
        url = chain.url
        with Node(roles=("admin", "issuer"), env=node_env(url)) as n:
            fund(url, n.init["anchorAddress"])
            n.start()
            c.eq(n.append(random_digests(2)).status, 200, "append on a consistent log")
            anchor_to_final(n, 2)
            c.eq(n.stop(), 0, "serve exits 0")
            backup = n.data_dir + ".backup"
            shutil.copytree(n.data_dir, backup)  # the "older backup": one anchor
            n.start()
            c.eq(n.append(random_digests(3)).status, 200, "append before the second anchor")
            anchor_to_final(n, 5)
            c.eq(n.stop(), 0, "serve exits 0")

            # Restore the older backup: the chain has a second anchor it does not know of.
            shutil.rmtree(n.data_dir)
            shutil.move(backup, n.data_dir)
            n.start()
            r = n.append(random_digests(1))
            c.eq(r.status, 503, "restored older store: appends refused (503)")
            c.ok(r.is_problem(503) and "restored from an older backup" in r.json().get("detail", ""),
                 f"the problem says why ({r.json().get('detail', '')[:120]!r})")
            c.eq(n.get("/v1/health").status, 200, "reads still served")
            c.ok("restored from an older backup" in n.log_text(), "the log line says why")
            c.eq(n.stop(), 0, "serve exits 0")

    # Chain unreachable at start-up: appends held, then released once it answers.
    port2 = free_port()
    with Node(roles=("admin", "issuer"), env=node_env(f"http://127.0.0.1:{port2}")) as m:
        m.start()
        r = m.append(random_digests(1))
        c.eq(r.status, 503, "chain unreachable at start: appends held (503)")
        c.ok("waiting to compare" in r.json().get("detail", ""),
             f"held with the reason ({r.json().get('detail', '')[:100]!r})")
        with Anvil(port=port2):
            ok = wait_for(lambda: m.append(random_digests(1)).status == 200, 20,
                          "appends released once the chain answers")
            c.ok(ok is not None, "appends released once the chain answers")
        m.stop()
    c.finish()


main()
