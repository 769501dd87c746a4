"""Webhooks (issue #18, SPEC §8, Standard Webhooks) against a receiver that checks every
signature with the `standardwebhooks` library from npm (tests/interop/webhook_receiver.mjs):

A. POST /v1/webhooks answers 201 with a whsec_ secret (shown once, never stored in clear);
   http:// is refused unless the host is in webhooks.allow_hosts; an https:// URL on
   loopback is accepted but its deliveries are refused by the address guard, which says so.
B. Five credentials issued and one revoked: six deliveries, each verified by the peer
   library, with the SPEC §8 body ({"type","timestamp","data":{"id","issueNumber"}}) and a
   distinct webhook-id.
C. A receiver that answers 500 twice, then 200: delivered on the third attempt, all three
   with one webhook-id. One that never answers: retried after webhooks.timeout, and the
   delivery log says why. One that is down for a minute, then up: delivered after.
D. Rotation: for 24 hours both secrets sign (the peer verifies the next delivery with the old
   secret alone and with the new one alone).
E. The delivery log per endpoint, and a manual replay (same webhook-id again).
F. anchor.final from a real anvil anchor: {"treeSize","txHash"}, once.
G. A deleted endpoint gets nothing more.
H. The deployed shape: an https:// endpoint behind real nginx with TLS from a test CA
   (webhooks.ca_file): delivered and verified; the same server named by an address its
   certificate does not cover is refused (TLS is verified).
"""
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

c = ca.Checks("webhooks")
INTEROP = os.path.join(ca.SRC, "tests", "interop")
ROSTER = os.path.join(ca.SRC, "tests", "data", "participants-166.csv")
TEMPLATES = os.path.join(ca.SRC, "config", "templates")
DOWN_SECONDS = 60


def js(r):
    try:
        return json.loads(r.body)
    except ValueError:
        return {}


class Receiver:
    def __init__(self, work, port=0):
        self.dir = work
        self.out = os.path.join(work, "received.jsonl")
        self.control_path = os.path.join(work, "control.json")
        self.ready = os.path.join(work, "ready")
        if not os.path.exists(self.control_path):
            self.set_control({})
        self.start(port)

    def start(self, port=0):
        if os.path.exists(self.ready):
            os.unlink(self.ready)
        self.proc = subprocess.Popen(
            ["node", os.path.join(INTEROP, "webhook_receiver.mjs"), str(port), self.out,
             self.control_path, self.ready], cwd=INTEROP)
        deadline = time.time() + ca.scaled(15)
        while not os.path.exists(self.ready) and time.time() < deadline:
            time.sleep(0.05)
        self.port = int(open(self.ready).read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def set_control(self, ctl):
        tmp = self.control_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(ctl, f)
        os.replace(tmp, self.control_path)

    def received(self, path=None):
        if not os.path.exists(self.out):
            return []
        with open(self.out) as f:
            recs = [json.loads(x) for x in f if x.strip()]
        return [r for r in recs if path is None or r["path"] == path]


def roster_csv(n, start=0):
    with open(ROSTER, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[start:start + n]
    return ("externalId,name,email,department,course,completedAt\n" + "".join(
        f"{r['externalId']},{r['name']},{r['email']},{r['department']},{r['course']},"
        f"{r['completedAt']}\n" for r in rows)).encode()


def issue(node, n, start=0):
    r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                     headers={"Content-Type": "text/csv"}, body=roster_csv(n, start))
    c.eq(r.status, 200, f"{n} credentials issued")
    return js(r)


def add_hook(node, url, events):
    return node.request("POST", "/v1/webhooks", token=node.tokens["admin"],
                        body={"url": url, "events": events})


def log_of(node, hook_id):
    return js(node.get(f"/v1/webhooks/{hook_id}/deliveries", token=node.tokens["admin"])).get(
        "deliveries", [])


def main():
    work = tempfile.mkdtemp(prefix="ca-webhooks-")
    rcv = Receiver(work)
    anvil = ca.Anvil().start()
    try:
        run(work, rcv, anvil)
    finally:
        rcv.stop()
        anvil.stop()
    c.finish()


def run(work, rcv, anvil):
    front = ca.NginxFront(work)
    front.start(rcv.port)
    try:
        run_with(work, rcv, anvil, front)
    finally:
        front.stop()


def run_with(work, rcv, anvil, front):
    base = f"http://127.0.0.1:{rcv.port}"
    tls_base = f"https://localhost:{front.port}"
    env = {"CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": TEMPLATES,
           "CREDANCHOR_NODE_PUBLIC_URL": "https://credentials.bizm.example",
           "CREDANCHOR_WEBHOOKS_ALLOW_HOSTS": f"127.0.0.1:{rcv.port},localhost:{front.port},"
                                              f"127.0.0.1:{front.port}",
           "CREDANCHOR_WEBHOOKS_CA_FILE": front.ca,
           "CREDANCHOR_WEBHOOKS_TIMEOUT": "2",
           "CREDANCHOR_DELIVERY_RETRY_BASE": "1",
           "CREDANCHOR_ANCHOR_RPC_URL": anvil.url, "CREDANCHOR_ANCHOR_CHAIN_ID": "31337",
           "CREDANCHOR_ANCHOR_CONFIRMATIONS": "1", "CREDANCHOR_ANCHOR_INTERVAL": "0"}
    with ca.Node(roles=["admin", "issuer", "revoker", "auditor"], env=env) as node:
        ca.eth_rpc(anvil.url, "anvil_setBalance", [node.init["anchorAddress"], hex(10**19)])
        node.start()
        admin = node.tokens["admin"]
        # A. Registration and the URL rules.
        r = add_hook(node, f"http://127.0.0.1:{rcv.port + 1}/x", ["credential.issued"])
        c.ok(r.status == 400 and "https" in js(r).get("detail", ""),
             f"A: http:// to a host not allow-listed: 400 ({r.status} {js(r).get('detail')})")
        r = add_hook(node, f"{base}/hook-a", ["credential.nope"])
        c.eq(r.status, 400, "A: an unknown event: 400")
        r = add_hook(node, f"{base}/hook-a", ["credential.issued", "credential.revoked"])
        a = js(r)
        c.ok(r.status == 201 and a.get("secret", "").startswith("whsec_") and a.get("id"),
             f"A: POST /v1/webhooks: 201 with id and whsec_ secret ({r.status})")
        r = node.request("POST", "/v1/webhooks", token=node.tokens["issuer"],
                         body={"url": f"{base}/z", "events": ["credential.issued"]})
        c.eq(r.status, 403, "A: an issuer token may not add webhooks")
        guarded = js(add_hook(node, "https://127.0.0.1:9/hook-g", ["credential.issued"]))
        b = js(add_hook(node, f"{base}/hook-b", ["credential.issued"]))
        h = js(add_hook(node, f"{base}/hook-h", ["credential.issued"]))
        tls = js(add_hook(node, f"{tls_base}/hook-tls", ["credential.revoked"]))
        by_ip = js(add_hook(node, f"https://127.0.0.1:{front.port}/hook-ip",
                            ["credential.revoked"]))
        listed = js(node.get("/v1/webhooks", token=admin)).get("webhooks", [])
        c.ok(len(listed) == 6 and not any("secret" in x for x in listed),
             "A: GET /v1/webhooks lists 6, never a secret")
        rcv.set_control({"paths": {"/hook-a": {"secrets": [a["secret"]]},
                                   "/hook-b": {"secrets": [b["secret"]], "fail_first": 2},
                                   "/hook-h": {"secrets": [h["secret"]], "hang": True},
                                   "/hook-tls": {"secrets": [tls["secret"]]},
                                   "/hook-ip": {"secrets": [by_ip["secret"]]}}})
        # B. Five issued, one revoked.
        issue(node, 5)
        rows = js(node.get("/v1/credentials?limit=10", token=node.tokens["auditor"]))["credentials"]
        r = node.request("POST", f"/v1/credentials/{rows[2]['id']}/revoke",
                         token=node.tokens["revoker"], body={"reason": "test"})
        c.eq(r.status, 200, "B: one revoked")
        got = c.wait_for(lambda: (lambda x: x if len(x) >= 6 else None)(rcv.received("/hook-a")),
                         20, "B: six deliveries to hook-a")
        if got:
            c.ok(all(x["verified"] == [True] for x in got),
                 f"B: standardwebhooks verifies all six ({[x['verified'] for x in got]})")
            bodies = [json.loads(x["body"]) for x in got]
            types = sorted(x["type"] for x in bodies)
            c.eq(types, ["credential.issued"] * 5 + ["credential.revoked"], "B: the event types")
            ok_shape = all(set(x) == {"type", "timestamp", "data"} and
                           re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", x["timestamp"]) and
                           set(x["data"]) == {"id", "issueNumber"} for x in bodies)
            c.ok(ok_shape, "B: each body is {type, timestamp (RFC 3339), data {id, issueNumber}}")
            rev = next(x for x in bodies if x["type"] == "credential.revoked")
            c.eq(rev["data"]["id"], rows[2]["id"], "B: the revocation names the credential")
            c.eq(len({x["id"] for x in got}), 6, "B: six distinct webhook-ids")
            c.ok(all(x["contentType"] == "application/json" for x in got), "B: application/json")
        # H. Through nginx with TLS.
        got = c.wait_for(lambda: rcv.received("/hook-tls") or None, 20,
                         "H: the https:// endpoint behind nginx gets the revocation")
        if got:
            c.ok(got[0]["verified"] == [True] and
                 json.loads(got[0]["body"])["type"] == "credential.revoked",
                 "H: ... verified by standardwebhooks after nginx")
        d = c.wait_for(lambda: (lambda x: x if x and x[-1].get("lastError") else None)(
            log_of(node, by_ip["id"])), 20, "H: the address-named endpoint's attempt is logged")
        if d:
            c.ok(d[-1]["state"] == "queued" and not rcv.received("/hook-ip") and
                 re.search(r"SSL|certificate|subject", d[-1]["lastError"]),
                 f"H: a certificate that does not name 127.0.0.1 is refused "
                 f"({d[-1]['lastError']})")
        node.request("DELETE", f"/v1/webhooks/{by_ip['id']}", token=admin)
        # C. 500 twice then 200; never answers; the guard.
        got = c.wait_for(lambda: (lambda x: x if len([y for y in x if y["status"] == 200]) >= 5
                                  else None)(rcv.received("/hook-b")), 30,
                         "C: hook-b gets all five after two 500s")
        if got:
            failed = [x["id"] for x in got if x["status"] == 500]
            later = {x["id"] for x in got if x["status"] == 200}
            c.ok(len(failed) == 2 and set(failed) <= later and len(later) == 5,
                 f"C: two 500s, then each of those webhook-ids again with 200, five in all "
                 f"({[(x['status'], x['id']) for x in got]})")
        d = c.wait_for(lambda: (lambda x: x if x and x[-1]["attempts"] >= 2 else None)(
            log_of(node, h["id"])), 30, "C: the hanging receiver's delivery is retried")
        if d:
            c.ok(d[-1]["state"] == "queued" and "timed out" in (d[-1].get("lastError") or ""),
                 f"C: never answers: still queued, the log says timed out ({d[-1].get('lastError')})")
        d = c.wait_for(lambda: (lambda x: x if x and x[-1].get("lastError") else None)(
            log_of(node, guarded["id"])), 20, "C: the guarded endpoint's attempt is logged")
        if d:
            c.ok("private or loopback" in d[-1]["lastError"],
                 f"C: the address guard refused loopback ({d[-1]['lastError']})")
        # Stop hanging before the outage (so its retries end).
        r = node.request("DELETE", f"/v1/webhooks/{h['id']}", token=admin)
        c.eq(r.status, 200, "G: DELETE /v1/webhooks/{id}: 200")
        r = node.request("DELETE", f"/v1/webhooks/{guarded['id']}", token=admin)
        # C: down for a minute, then up.
        port = rcv.port
        rcv.stop()
        before = len(rcv.received("/hook-a"))
        issue(node, 1, start=5)
        time.sleep(DOWN_SECONDS)
        c.eq(len(rcv.received("/hook-a")), before, "C: nothing arrives while the receiver is down")
        rcv.start(port)
        got = c.wait_for(lambda: (lambda x: x if len(x) > before else None)(
            rcv.received("/hook-a")), 90, "C: delivered after the receiver is back")
        if got:
            c.ok(got[-1]["verified"] == [True], "C: ... and verified")
        # The receiver has it before the node commits the outcome (due_pool records it after
        # the answer): wait for the log to say so.
        d = ca.wait_for(lambda: (lambda x: x if x and x[0]["state"] == "delivered" else None)(
            log_of(node, a["id"])), 10) or log_of(node, a["id"])
        c.ok(d and d[0]["state"] == "delivered" and d[0]["attempts"] >= 3,
             f"C: the log shows the retries over the outage ({d[0]['attempts'] if d else None})")
        # D. Rotation.
        old = a["secret"]
        r = node.request("POST", f"/v1/webhooks/{a['id']}/rotate", token=admin)
        new = js(r).get("secret", "")
        c.ok(r.status == 200 and new.startswith("whsec_") and new != old and
             js(r).get("previousSecretValidUntil"), "D: rotate: a new secret, the old one's end")
        rcv.set_control({"paths": {"/hook-a": {"secrets": [old, new]},
                                   "/hook-b": {"secrets": [b["secret"]]}}})
        n0 = len(rcv.received("/hook-a"))
        issue(node, 1, start=6)
        got = c.wait_for(lambda: (lambda x: x if len(x) > n0 else None)(rcv.received("/hook-a")),
                         20, "D: a delivery after the rotation")
        if got:
            c.ok(got[-1]["verified"] == [True, True] and len(got[-1]["signature"].split()) == 2,
                 f"D: two signatures; the old secret alone and the new alone both verify "
                 f"({got[-1]['verified']})")
        # E. The log and a replay.
        d = c.wait_for(lambda: (lambda x: x if all(y["state"] == "delivered" for y in x)
                                else None)(log_of(node, a["id"])), 10, "E: all delivered")
        d = d or log_of(node, a["id"])
        c.ok(len(d) == 8 and all(x["state"] == "delivered" for x in d),
             f"E: hook-a's log: 8 deliveries, all delivered ({[x['state'] for x in d]})")
        one = d[-1]
        n0 = len(rcv.received("/hook-a"))
        r = node.request("POST", f"/v1/webhooks/{a['id']}/deliveries/{one['seq']}/replay",
                         token=admin)
        c.eq(r.status, 202, "E: replay: 202")
        got = c.wait_for(lambda: (lambda x: x if len(x) > n0 else None)(rcv.received("/hook-a")),
                         20, "E: the replay arrives")
        if got:
            c.eq(got[-1]["id"], one["webhookId"], "E: with the same webhook-id")
        # F. anchor.final.
        anchor_hook = js(add_hook(node, f"{base}/hook-f", ["anchor.final"]))
        rcv.set_control({"paths": {"/hook-f": {"secrets": [anchor_hook["secret"]]}}})
        r = node.request("POST", "/v1/anchors", token=admin)
        c.eq(r.status, 202, "F: POST /v1/anchors: 202")
        got = c.wait_for(lambda: rcv.received("/hook-f") or None, 60, "F: anchor.final arrives")
        if got:
            body = json.loads(got[0]["body"])
            final = js(node.get("/v1/anchors/latest"))
            c.ok(body["type"] == "anchor.final" and body["data"] == {
                "treeSize": final.get("treeSize"), "txHash": final.get("txHash")} and
                got[0]["verified"] == [True], f"F: {{treeSize, txHash}} of the final anchor ({body})")
            time.sleep(2)
            c.eq(len(rcv.received("/hook-f")), 1, "F: once")
        # G. Deleted: nothing more for hook-h.
        n_h = len(rcv.received("/hook-h"))
        issue(node, 1, start=7)
        time.sleep(3)
        c.eq(len(rcv.received("/hook-h")), n_h, "G: a deleted endpoint gets nothing more")
        blob = ca.mdb_bytes(node.data_dir)
        c.ok(not any(s[6:].encode() in blob for s in (old, new, b["secret"])),
             "A: no secret in clear in the LMDB file")
        c.eq(node.stop(), 0, "serve stops cleanly")


main()
