#!/usr/bin/env python3
"""The console's webhooks page and the dashboard's anchoring-account warnings (issue #17), in
Debian's Chromium (tests/interop/web_admin_webhooks_peer.mjs on console_lib.mjs), the console
behind real nginx with TLS and an https public_url (ca_node.NginxFront, make_test_ca), judged
here with the node's API, the receiver's record and anvil.

One node anchoring on the pinned anvil (started and always stopped here), webhooks allowed to
one loopback receiver (tests/interop/webhook_receiver.mjs: it checks every signature with the
npm `standardwebhooks` library, with the secrets the peer gives it), an admin and an auditor
enrolled with passkeys (the auditor also holds the issuer role: every role but admin):
  1. the empty page in both languages (axe, screenshots);
  2. Add with http://hooks.example.org/x: the node's refusal (https only) on the page;
  3. Add the receiver's URL: the whsec_ secret shown once with "you will not see it again",
     Copy puts exactly it on the clipboard; a reload no longer shows it;
  4. the receiver is given the copied secret; a credential is issued (bearer); the receiver
     verified the delivery's signature with it; the page's deliveries log says delivered,
     HTTP 200, and the endpoint's row too (en and ko);
  5. Rotate (a confirmation saying 24 h): a new secret shown once, the row says until when the
     old one signs; 6. Replay (a confirmation): the receiver gets the same message id again,
     signed so that the old secret and the new one each verify it; the log shows 2 attempts;
  7. Delete (a confirmation): gone from the page and the API;
  8. at 64 endpoints (made by the API) Add shows the node's 409 (Korean page);
  9. the auditor and issuer: no Webhooks in the navigation, the page says the admin role is
     needed;
 10. the dashboard (auditor): anvil_setBalance to ten anchors' worth -> the low-funds warning
     (role=alert) with the address, about ten anchors; anvil stopped -> the unreachable
     warning with the node's reason; both languages;
 11. axe clean on every view, no CSP violation or script error, screenshots kept in
     $CA_BUILD_DIR/web_admin_webhooks_artefacts; the admin's actions are in the audit log.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

c = ca.Checks("web_admin_webhooks")
SRC = os.environ["CA_SOURCE_DIR"]
INTEROP = os.path.join(SRC, "tests", "interop")
PEER = os.path.join(INTEROP, "web_admin_webhooks_peer.mjs")
TEMPLATES = os.path.join(SRC, "config", "templates")
ARTEFACTS = os.environ.get("CA_ARTEFACTS") or os.path.join(
    os.environ.get("CA_BUILD_DIR", tempfile.gettempdir()), "web_admin_webhooks_artefacts")
SHOTS = ("webhooks-empty-en", "webhooks-empty-ko", "webhooks-refused-en", "webhooks-secret-en",
         "webhooks-deliveries-en", "webhooks-deliveries-ko", "webhooks-rotated-en",
         "webhooks-replayed-en", "webhooks-409-ko", "webhooks-auditor-en", "webhooks-auditor-ko",
         "dashboard-low-funds-en", "dashboard-low-funds-ko", "dashboard-unreachable-en",
         "dashboard-unreachable-ko")
CSV = ("externalId,name,email,department,course,completedAt\n"
       "W-1,Webhook Kim,webhook.kim@bizm.example,IT,security-awareness-2026,2026-06-01\n")


def js(r):
    try:
        return json.loads(r.body)
    except ValueError:
        return {}


def spki_of(cert):
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Receiver:
    """webhook_receiver.mjs on a free loopback port; the peer writes its control file."""

    def __init__(self, work):
        self.out = os.path.join(work, "received.jsonl")
        self.control = os.path.join(work, "control.json")
        ready = os.path.join(work, "ready")
        with open(self.control, "w") as f:
            json.dump({}, f)
        self.proc = subprocess.Popen(["node", os.path.join(INTEROP, "webhook_receiver.mjs"), "0",
                                      self.out, self.control, ready], cwd=INTEROP)
        deadline = time.time() + ca.scaled(15)
        while not os.path.exists(ready) and time.time() < deadline:
            time.sleep(0.05)
        self.port = int(open(ready).read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def received(self, path="/hook"):
        if not os.path.exists(self.out):
            return []
        with open(self.out) as f:
            return [r for r in (json.loads(x) for x in f if x.strip()) if r["path"] == path]


def run_peer(work, node, plan, anvil):
    """Runs the peer; stops anvil when it asks (<work>/anvil-stop). {step: observations}."""
    path = os.path.join(work, "plan.json")
    with open(path, "w") as f:
        json.dump(plan, f)
    env = dict(os.environ, CA_PLAN=path, NODE_PATH=os.path.join(INTEROP, "node_modules"))
    out_path = os.path.join(work, "peer.out")
    with open(out_path, "w") as out, open(os.path.join(work, "peer.err"), "w") as err:
        p = subprocess.Popen(["node", PEER], stdout=out, stderr=err, env=env, cwd=INTEROP)
        deadline = time.time() + ca.scaled(300)
        while p.poll() is None and time.time() < deadline:
            if os.path.exists(os.path.join(work, "anvil-stop")) and anvil.proc:
                anvil.stop()
                open(os.path.join(work, "anvil-stopped"), "w").close()
            time.sleep(0.1)
        if p.poll() is None:
            p.kill()
        p.wait()
    got = {}
    with open(out_path) as f:
        for line in f:
            try:
                o = json.loads(line)
            except ValueError:
                continue
            got[o["step"]] = o
    c.eq(p.returncode, 0, f"the browser peer ran: {open(os.path.join(work, 'peer.err')).read()[-2000:]}")
    for name, o in got.items():
        c.ok("error" not in o, f"step {name!r} ran ({o.get('error', '')[:1500]})\n"
             f"node log: {node.log_text()[-1500:] if 'error' in o else ''}")
        print(f"web_admin_webhooks: step {name}: {o.get('ms', 0) / 1000:.1f} s", flush=True)
    with open(os.path.join(ARTEFACTS, "peer.json"), "w") as f:
        json.dump(got, f, indent=1, ensure_ascii=False)
    return got


def invite(node, email, name, roles):
    r = node.request("POST", "/v1/users", body={"email": email, "name": name, "roles": roles},
                     token=node.tokens["admin"])
    c.eq(r.status, 201, f"POST /v1/users: {name} invited ({r.body[:200]!r})")
    return js(r).get("enrollUrl", "")


# ---- the judging -------------------------------------------------------------------------------

def judge_views(got):
    views = {"2 empty": "admin-webhooks", "10 auditor": "admin-webhooks",
             "11 low funds": "admin-dashboard", "12 unreachable": "admin-dashboard"}
    for step, page in views.items():
        for lang in ("en", "ko"):
            v = ((got.get(step) or {}).get("views") or {}).get(lang) or {}
            look = v.get("look", {})
            c.ok(v.get("axe") == [], f"{step} ({lang}): axe finds no violation ({v.get('axe')})")
            c.ok(look.get("page") == page and look.get("lang") == lang and look.get("state") == "ready"
                 and not look.get("error"), f"{step} ({lang}): the view is ready ({look})")
    for step, key in (("3 refused", "axe"), ("4 add", "axe"), ("5 delivered", "axe"),
                      ("5 delivered", "koAxe"), ("6 rotate", "axe"), ("7 replay", "axe"),
                      ("9 limit", "axe")):
        c.ok((got.get(step) or {}).get(key) == [], f"{step}: axe ({key}) clean "
             f"({(got.get(step) or {}).get(key)})")
    for step in ("6 rotate", "7 replay", "8 delete"):
        c.ok(((got.get(step) or {}).get("dialog") or {}).get("axe") == [],
             f"{step}: axe clean with the confirmation open")
    for shot in SHOTS:
        p = os.path.join(ARTEFACTS, f"{shot}.png")
        c.ok(os.path.exists(p) and os.path.getsize(p) > 5000, f"screenshot {p}")
    s = got.get("13 console", {})
    for who in ("admin", "auditor"):
        lines = s.get(who)
        bad = [x for x in lines or [] if "Content Security Policy" in x or "CSP violation" in x or
               "integrity" in x.lower() or "pageerror" in x]
        c.ok(lines is not None and not bad, f"{who}: no CSP, SRI or script error ({bad})")


def judge_add(got, rcv, hook_url):
    e = (got.get("2 empty") or {}).get("look", {})
    c.ok(e.get("noEndpoints") and not e.get("endpoints"), f"1: the empty page says so ({e})")
    r = (got.get("3 refused") or {}).get("look", {})
    c.ok("https://" in r.get("addError", "") and r.get("addError", "").startswith("Not done:"),
         f"2: http:// to a host not allowed: the node's refusal shown ({r.get('addError')})")
    c.eq(r.get("endpoints"), [], "2: nothing added")
    a = got.get("4 add") or {}
    look = a.get("look", {})
    secret = look.get("secret") or ""
    c.ok(secret.startswith("whsec_") and len(secret) > 30, f"3: the secret is shown ({secret[:10]}...)")
    c.eq(a.get("copied"), secret, "3: Copy puts exactly the shown secret on the clipboard")
    c.ok(hook_url in (look.get("secretTitle") or "") and "not see it again" in (look.get("secretText") or ""),
         "3: the secret box names the endpoint and says it is shown once")
    eps = look.get("endpoints") or [{}]
    c.eq((eps[0].get("url"), eps[0].get("events")), (hook_url, ["credential.issued", "credential.revoked"]),
         "3: the endpoint's row: URL and the two events checked by default")
    c.ok("added" in a.get("page", {}).get("notice", ""), f"3: the notice ({a.get('page', {}).get('notice')})")
    c.eq((a.get("afterReload") or {}).get("secret", "x"), None, "3: after a reload the secret is not shown")
    return secret


def judge_delivered(got, rcv, secret):
    recs = rcv.received()
    first = recs[0] if recs else {}
    c.ok(first.get("verified") == [True] and first.get("status") == 200,
         f"4: the receiver verified the first delivery with the copied secret ({first.get('verified')})")
    body = json.loads(first.get("body") or "{}")
    c.eq(body.get("type"), "credential.issued", "4: it is credential.issued")
    s = got.get("5 delivered") or {}
    c.eq(s.get("issued"), 200, "4: the credential was issued")
    d = (s.get("look") or {}).get("deliveries") or [{}]
    c.ok(d[0].get("state") == "delivered" and d[0].get("type") == "credential.issued" and
         "HTTP 200" in d[0]["cells"][5] and d[0]["cells"][3] == "1" and d[0].get("replay"),
         f"4: the deliveries log: credential.issued, 1 attempt, delivered, HTTP 200, Replay offered ({d[0]})")
    ko = (s.get("ko") or {}).get("deliveries") or [{}]
    c.ok(ko[0].get("cells", [""] * 5)[4] == "전달됨", f"4: the Korean state ({ko[0].get('cells')})")
    return first


def judge_rotate_replay(got, rcv, first, secret):
    r = got.get("6 rotate") or {}
    c.ok("24 hours" in (r.get("dialog") or {}).get("text", ""), f"5: the rotate confirmation says 24 h ({r.get('dialog')})")
    new = (r.get("look") or {}).get("secret") or ""
    c.ok(new.startswith("whsec_") and new != secret, "5: a new secret is shown once")
    ep = ((r.get("look") or {}).get("endpoints") or [{}])[0]
    c.ok(ep.get("previousUntil"), f"5: the row says until when the old secret signs ({ep})")
    c.ok("rotated" in (r.get("page") or {}).get("notice", ""), f"5: the notice ({(r.get('page') or {}).get('notice')})")
    recs = rcv.received()
    again = [x for x in recs[1:] if x.get("id") == first.get("id")]
    c.ok(again and again[-1].get("verified") == [True, True],
         f"6: the replay has the same message id and verifies with the old and the new secret "
         f"({[x.get('verified') for x in again]})")
    rp = got.get("7 replay") or {}
    c.ok("Send delivery" in (rp.get("dialog") or {}).get("title", ""), f"6: the replay confirmation ({rp.get('dialog')})")
    d = ((rp.get("look") or {}).get("deliveries") or [{}])[0]
    c.ok(d.get("state") == "delivered" and d.get("cells", ["", "", "", "0"])[3] == "2",
         f"6: the log shows the replay: 2 attempts, delivered ({d})")


def judge_delete_limit(got, node, hook_url):
    d = got.get("8 delete") or {}
    c.ok("cannot be undone" in (d.get("dialog") or {}).get("text", ""), "7: the delete confirmation")
    c.ok((d.get("look") or {}).get("noEndpoints") and not (d.get("look") or {}).get("endpoints"),
         "7: the page has no endpoint left")
    hooks = js(node.get("/v1/webhooks", token=node.tokens["admin"])).get("webhooks")
    c.eq(hooks, [], "7: nor does GET /v1/webhooks (the fillers of 8 deleted too)")
    lim = got.get("9 limit") or {}
    err = (lim.get("look") or {}).get("addError", "")
    c.ok(err.startswith("처리되지 않았습니다") and "64" in err, f"8: the 65th: the node's 409 on the Korean page ({err})")
    c.eq((lim.get("look") or {}).get("endpoints"), 64, "8: 64 endpoints listed")
    r = node.get("/v1/audit?limit=1000", token=node.tokens["admin"])
    mine = [e for e in js(r).get("entries", []) if (e.get("route") or "").startswith("/v1/webhooks")
            and e.get("userName") == "Ada Admin"]
    routes = {(e.get("method"), e.get("route"), e.get("status")) for e in mine}
    for want in (("POST", "/v1/webhooks", 201), ("POST", "/v1/webhooks/{id}/rotate", 200),
                 ("POST", "/v1/webhooks/{id}/deliveries/{seq}/replay", 202),
                 ("DELETE", "/v1/webhooks/{id}", 200), ("POST", "/v1/webhooks", 400),
                 ("POST", "/v1/webhooks", 409)):
        c.ok(want in routes, f"11: audited under the admin: {want} ({sorted(routes)[:8]})")


def judge_auditor(got):
    for lang in ("en", "ko"):
        look = (((got.get("10 auditor") or {}).get("views") or {}).get(lang) or {}).get("look", {})
        c.eq(look.get("needsRole"), "admin", f"9 ({lang}): the page says the admin role is needed")
        c.ok(look.get("nav") and not any(n["page"] == "admin-webhooks" for n in look["nav"]),
             f"9 ({lang}): no Webhooks in the auditor-and-issuer's navigation ({look.get('nav')})")
        c.ok(any(n["page"] == "admin-upload" for n in look.get("nav") or []),
             f"9 ({lang}): ... who does hold the issuer role (Upload is there)")
    admin_nav = ((got.get("4 add") or {}).get("page") or {}).get("nav") or []
    c.ok(any(n["page"] == "admin-webhooks" and n["text"] == "Webhooks" and n["current"] == "page"
             for n in admin_nav), f"9: the admin's navigation has Webhooks, current ({admin_nav})")


def judge_dashboard(got, addr):
    low = got.get("11 low funds") or {}
    en, ko = low.get("en") or {}, low.get("ko") or {}
    w = en.get("warning") or {}
    c.ok(w.get("kind") == "low-funds" and w.get("role") == "alert" and addr in w.get("text", "")
         and "low on funds" in w.get("text", ""), f"10: the low-funds warning ({w})")
    left = (low.get("account") or {}).get("anchorsLeft")
    c.ok(en.get("anchorsLeft") == str(left) and left is not None and 5 <= left <= 20,
         f"10: anchors left shown as the node says, about ten ({en.get('left')}, {left})")
    c.ok(en.get("address") == addr and en.get("balance", "").endswith("ETH"),
         f"10: address and balance in ETH ({en.get('address')}, {en.get('balance')})")
    c.ok("잔액이 부족" in ((ko.get("warning") or {}).get("text") or ""), f"10: the Korean warning ({ko.get('warning')})")
    un = got.get("12 unreachable") or {}
    w = (un.get("en") or {}).get("warning") or {}
    c.ok(w.get("kind") == "unreachable" and w.get("role") == "alert" and "127.0.0.1" in w.get("text", "")
         and "cannot be reached" in w.get("text", ""), f"10: the unreachable warning with the reason ({w})")
    c.eq((un.get("en") or {}).get("reachable"), "false", "10: the card says unreachable")
    c.ok("블록체인에 연결할 수 없습니다" in (((un.get("ko") or {}).get("warning") or {}).get("text") or ""),
         "10: the Korean unreachable warning")


def main():
    os.makedirs(ARTEFACTS, exist_ok=True)
    for f in os.listdir(ARTEFACTS):
        os.unlink(os.path.join(ARTEFACTS, f))
    work = tempfile.mkdtemp(prefix="ca-web-webhooks-")
    rcv = Receiver(work)
    anvil = ca.Anvil().start()
    try:
        with ca.NginxFront(work) as front:
            env = {"CREDANCHOR_NODE_PUBLIC_URL": front.public_url,
                   "CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": TEMPLATES,
                   "CREDANCHOR_CREDENTIALS_ISSUE_PREFIX": "BIZM",
                   "CREDANCHOR_WEBHOOKS_ALLOW_HOSTS": f"127.0.0.1:{rcv.port}",
                   "CREDANCHOR_DELIVERY_RETRY_BASE": "1",
                   "CREDANCHOR_ANCHOR_RPC_URL": anvil.url, "CREDANCHOR_ANCHOR_CHAIN_ID": "31337",
                   "CREDANCHOR_ANCHOR_CONFIRMATIONS": "1", "CREDANCHOR_ANCHOR_INTERVAL": "0",
                   "CREDANCHOR_ANCHOR_ACCOUNT_CHECK_INTERVAL": "1"}
            with ca.Node(roles=("admin", "issuer", "auditor"), env=env) as node:
                addr = node.init["anchorAddress"]
                ca.eth_rpc(anvil.url, "anvil_setBalance", [addr, hex(10 * 10**18)])
                node.start()
                front.start(node.port)
                hook_url = f"http://127.0.0.1:{rcv.port}/hook"
                plan = {"base": front.public_url, "direct": f"http://127.0.0.1:{node.port}",
                        "spki": spki_of(front.cert), "artefacts": ARTEFACTS, "work": work,
                        "adminInvite": invite(node, "ada@bizm.example", "Ada Admin", ["admin"]),
                        "auditorInvite": invite(node, "aud@bizm.example", "Audrey Auditor", ["auditor", "issuer"]),
                        "adminToken": node.tokens["admin"], "issuerToken": node.tokens["issuer"],
                        "auditorToken": node.tokens["auditor"], "hookUrl": hook_url,
                        "receiverControl": rcv.control, "receiverOut": rcv.out,
                        "anvilUrl": anvil.url, "anchorAddress": addr, "csv": CSV}
                got = run_peer(work, node, plan, anvil)
                judge_views(got)
                secret = judge_add(got, rcv, hook_url)
                first = judge_delivered(got, rcv, secret)
                judge_rotate_replay(got, rcv, first, secret)
                judge_delete_limit(got, node, hook_url)
                judge_auditor(got)
                judge_dashboard(got, addr)
                c.ok(not front.error_log().strip() or "emerg" not in front.error_log(),
                     f"nginx ran cleanly ({front.error_log()[-300:]})")
    finally:
        rcv.stop()
        anvil.stop()
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    c.finish()


main()
