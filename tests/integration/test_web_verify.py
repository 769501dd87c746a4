#!/usr/bin/env python3
"""The page's in-browser checks (web/verify/, issue #15) against a live node, run by
tests/interop/web_verify_peer.mjs on Node's WebCrypto.

- For every format and alg the node issues, anchored on a real anvil, the checks reach the
  same results as the node's own verification (`/v1/credentials/{id}/verification`, the code
  `credanchor verify` runs): signature, status, inclusion and anchor. A credential issued
  after the last anchor is "pending" (anchor pending) for both.
  ES256K, which WebCrypto lacks, goes through the vendored @noble/curves (web/vendor/).
- A revoked credential is "revoked", from the signed status list the checks fetched, whatever
  the node's /verification says (the peer never asks it). The node issues only Open Badges,
  which carry no suspension entry (SPEC §5), so "suspended" has no live case here.
- Forgeries, each by rewriting the node's answers in flight: a changed payload with the old
  signature, a status list with a flipped bit and the old proof, another leaf's proof, a
  checkpoint signed by another key, an anchor transaction whose calldata names another root,
  and a look-alike transaction signed by another key that claims the issuer's sender. Each is "invalid", with the right check failing.
"""
import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

c = ca.Checks("web_verify")
SRC = os.environ["CA_SOURCE_DIR"]
PEER = os.path.join(SRC, "tests", "interop", "web_verify_peer.mjs")
TEMPLATE = os.path.join(SRC, "config", "templates", "security-awareness-2026.json")
FORGED = ("vc+jwt EdDSA", "vc+jwt ES256K", "vc+jwt RS256", "eddsa-jcs-2022 EdDSA")


def unsigned(n):
    cred = json.load(open(TEMPLATE))
    cred["credentialSubject"]["id"] = f"did:example:web-{n}"
    return cred


def enc(ref):
    return urllib.parse.quote(ref, safe="")


def anchor_all(node):
    """Anchors the log as it is now and waits until every anchor record is final."""
    size = node.get("/v1/health").json()["treeSize"]
    r = node.request("POST", "/v1/anchors", token=node.tokens["admin"])
    c.eq(r.status, 202, "POST /v1/anchors")

    def final():
        a = node.get("/v1/anchors/latest")
        return a.status == 200 and a.json()["treeSize"] == size and a.json()["status"] == "final"
    return c.wait_for(final, ca.scaled(60), f"the anchor of size {size} is final")


def main():
    port = ca.free_port()
    base = f"http://localhost:{port}"
    with ca.Anvil() as anvil:
        env = {"CREDANCHOR_NODE_PUBLIC_URL": base, "CREDANCHOR_ANCHOR_RPC_URL": anvil.url,
               "CREDANCHOR_ANCHOR_CHAIN_ID": "31337", "CREDANCHOR_ANCHOR_CONFIRMATIONS": "1",
               "CREDANCHOR_ANCHOR_INTERVAL": "0"}
        with ca.Node(roles=("admin", "issuer", "revoker", "auditor"), env=env) as node:
            ca.eth_rpc(anvil.url, "anvil_setBalance", [node.init["anchorAddress"], hex(10**20)])
            node.start(port=port)
            run(node, base, anvil.url)
    c.finish()


def run(node, base, rpc):
    issued = {}
    for i, (fmt, alg) in enumerate([("vc+jwt", "EdDSA"), ("vc+jwt", "ES256"),
                                    ("vc+jwt", "RS256"), ("vc+jwt", "ES256K"),
                                    ("eddsa-jcs-2022", "EdDSA")]):
        r = node.request("POST", "/v1/credentials", token=node.tokens["issuer"],
                         body={"credential": unsigned(i), "format": fmt, "alg": alg})
        if c.eq(r.status, 201, f"issue {fmt} {alg}"):
            issued[f"{fmt} {alg}"] = r.json()["id"]
    r = node.request("POST", "/v1/credentials", token=node.tokens["issuer"],
                     body={"credential": unsigned(10)})
    if c.eq(r.status, 201, "issue the one to revoke"):
        issued["revoked"] = r.json()["id"]
        r = node.request("POST", f"/v1/credentials/{enc(issued['revoked'])}/revoke",
                         token=node.tokens["revoker"], body={"reason": "web_verify"})
        c.eq(r.status, 200, "revoke it")
    if not anchor_all(node):
        return
    r = node.request("POST", "/v1/credentials", token=node.tokens["issuer"],
                     body={"credential": unsigned(11)})
    if c.eq(r.status, 201, "issue one after the last anchor"):
        issued["unanchored"] = r.json()["id"]
    if len(issued) != 7:
        return
    other = issued["vc+jwt EdDSA"]
    cases = [{"name": k, "id": v, "other": other if v != other else issued["vc+jwt ES256"],
              "forge": k in FORGED}
             for k, v in issued.items()]
    path = os.path.join(node.tmp, "cases.json")
    with open(path, "w") as f:
        json.dump({"base": base, "rpc": rpc, "cases": cases}, f)
    p = subprocess.run(["node", PEER], capture_output=True, text=True,
                       env=dict(os.environ, CA_CASES=path), timeout=ca.scaled(120))
    if not c.eq(p.returncode, 0, f"the peer ran: {p.stderr[-2000:]}"):
        return
    got = {}
    for line in p.stdout.splitlines():
        o = json.loads(line)
        got[o["name"]] = o
    for name, cid in issued.items():
        page = got.get(name)
        if not c.ok(page is not None, f"{name}: the checks ran"):
            continue
        node_v = node.get(f"/v1/credentials/{enc(cid)}/verification").json()["checks"]
        for check in ("signature", "status", "inclusion", "anchor"):
            want = node_v[check]["result"]
            c.eq(page["checks"][check]["result"], want,
                 f"{name}: {check} as the node's own verification "
                 f"({page['checks'][check]['detail']})")
        want = {"revoked": "revoked", "unanchored": "pending"}.get(name, "verified")
        c.eq(page["verdict"], want, f"{name}: verdict")
    for name in (k for k in issued if k in FORGED):
        changed = "changed document" if name.startswith("eddsa") else "changed payload"
        # (forgery, the check that must fail, words its detail must hold)
        for forgery, failing, why in (
                (changed, "signature", "does not verify"),
                ("flipped status bit", "status", "not signed by the issuer"),
                ("another leaf's proof", "inclusion", "another digest"),
                ("checkpoint by another key", "inclusion", "no valid signature"),
                ("calldata with another root", "anchor", "another tree size or root"),
                ("transaction by another key", "anchor", "recovers to")):
            v = got.get(f"{name}: {forgery}")
            if not c.ok(v is not None, f"{name}: {forgery}: the checks ran"):
                continue
            detail = v["checks"][failing]["detail"]
            c.eq((v["verdict"], v["checks"][failing]["result"], why in detail),
                 ("invalid", "fail", True), f"{name}: {forgery}: invalid, {failing} fails "
                 f"saying \"{why}\" ({detail})")


if __name__ == "__main__":
    main()
