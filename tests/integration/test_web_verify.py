#!/usr/bin/env python3
"""The page's in-browser checks (web/verify/, issue #15) against a live node, run by
tests/interop/web_verify_peer.mjs on Node's WebCrypto.

- For every format and alg the node issues, the checks reach the same results as the node's
  own verification (`/v1/credentials/{id}/verification`, the code `credanchor verify` runs):
  signature, status and inclusion; the anchor check is not in web/verify yet (pending).
  ES256K has no WebCrypto algorithm: its signature stays "pending" until the vendored
  secp256k1 library arrives, never "pass" by default.
- A revoked credential is "revoked", from the signed status list the checks fetched, whatever
  the node's /verification says (the peer never asks it). The node issues only Open Badges,
  which carry no suspension entry (SPEC §5), so "suspended" has no live case here.
- Forgeries, each by rewriting the node's answers in flight: a changed payload with the old
  signature, a status list with a flipped bit and the old proof, another leaf's proof, a
  checkpoint signed by another key. Each is "invalid", with the right check failing.
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


def unsigned(n):
    cred = json.load(open(TEMPLATE))
    cred["credentialSubject"]["id"] = f"did:example:web-{n}"
    return cred


def enc(ref):
    return urllib.parse.quote(ref, safe="")


def main():
    port = ca.free_port()
    base = f"http://localhost:{port}"
    env = {"CREDANCHOR_NODE_PUBLIC_URL": base}
    with ca.Node(roles=("issuer", "revoker", "auditor"), env=env) as node:
        node.start(port=port)
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
        if len(issued) != 6:
            c.finish()
        other = issued["vc+jwt EdDSA"]
        cases = [{"name": k, "id": v, "other": other if v != other else issued["vc+jwt ES256"],
                  "forge": k in ("vc+jwt EdDSA", "vc+jwt RS256", "eddsa-jcs-2022 EdDSA")}
                 for k, v in issued.items()]
        path = os.path.join(node.tmp, "cases.json")
        with open(path, "w") as f:
            json.dump({"base": base, "cases": cases}, f)
        p = subprocess.run(["node", PEER], capture_output=True, text=True,
                           env=dict(os.environ, CA_CASES=path), timeout=ca.scaled(120))
        if not c.eq(p.returncode, 0, f"the peer ran: {p.stderr[-2000:]}"):
            c.finish()
        got = {}
        for line in p.stdout.splitlines():
            o = json.loads(line)
            got[o["name"]] = o
        for name, cid in issued.items():
            page = got.get(name)
            if not c.ok(page is not None, f"{name}: the checks ran"):
                continue
            node_v = node.get(f"/v1/credentials/{enc(cid)}/verification").json()["checks"]
            for check in ("signature", "status", "inclusion"):
                want = node_v[check]["result"]
                if check == "signature" and name == "vc+jwt ES256K":
                    want = "pending"  # no WebCrypto secp256k1: not checked, never a pass
                c.eq(page["checks"][check]["result"], want,
                     f"{name}: {check} as the node's own verification "
                     f"({page['checks'][check]['detail']})")
            c.eq(page["checks"]["anchor"]["result"], "pending", f"{name}: anchor pending")
            want = "revoked" if name == "revoked" else "pending"
            c.eq(page["verdict"], want, f"{name}: verdict")
        for name in (k for k, v in issued.items() if k in
                     ("vc+jwt EdDSA", "vc+jwt RS256", "eddsa-jcs-2022 EdDSA")):
            changed = "changed document" if name.startswith("eddsa") else "changed payload"
            for forgery, failing in ((changed, "signature"), ("flipped status bit", "status"),
                                     ("another leaf's proof", "inclusion"),
                                     ("checkpoint by another key", "inclusion")):
                v = got.get(f"{name}: {forgery}")
                if not c.ok(v is not None, f"{name}: {forgery}: the checks ran"):
                    continue
                c.eq((v["verdict"], v["checks"][failing]["result"]), ("invalid", "fail"),
                     f"{name}: {forgery}: invalid, {failing} fails "
                     f"({v['checks'][failing]['detail']})")
    c.finish()


if __name__ == "__main__":
    main()
