#!/usr/bin/env python3
"""The admin console's deliveries in the browser (issue #18's console part; issue #17's
console): the list's alert channel (web/admin/credentials.mjs) and the credential page's
timeline and Resend email (web/admin/deliveries.mjs), in Debian's Chromium
(tests/interop/web_admin_delivery_peer.mjs: playwright-core, CDP virtual authenticators,
@axe-core/playwright), judged here with the node's API and the SMTP server's record.

One node on http://localhost:<port> emailing through SmtpPeer (tests/integration/smtp_fixture.py:
a real STARTTLS server on aiosmtpd), four credentials issued from the roster by the API, and
one more without an address:
  sent, sent2  delivered (250)
  failed       its recipient refused with 550 (rcpt_rules): failed after one attempt
  revoked      delivered, then revoked: the revocation emailed too
  nomail       issued by POST /v1/credentials with no recipient email: never emailed
Then the 550 rule is dropped (the failed delivery is never retried by itself) and:
  1. An admin, an issuer and an auditor (no other role) enroll passkeys.
  2. The list, before the resend: the 550 one's row says "failed" (axe). The failed
     credential's page: a Deliveries timeline with the issue, then the email:
     failed, 1 attempt, the 550 in its attempt log and as the last error, the address held.
  3. Resend email (admin): a confirmation dialog (axe with it open); Cancel sends nothing;
     Confirm says the email is queued, the timeline shows a second email that turns "sent"
     while the page reads it again, and the SMTP server has a new message to that recipient.
  4. (the peer, by bearer token, BEFORE step 3) "queued": one more credential, whose recipient
     the server answers 451 every time: still queued, retried. So the resend of step 3 is
     asked while another credential's email is queued, which it must not count (this test
     found the resend's scan running on into other credentials' keys and answering 409
     "still queued"; fixed in 8e23700: node/outbox.c resend_txn looks at its own keys only).
  5. The list has an "Alert channel" (채널) column: "Email" and a badge of the latest
     delivery's state, sent / queued as GET /v1/credentials says (the resent one now
     "sent"), "—" without one.
  6. The queued credential: its 451 retries in the log; Resend is disabled and says why.
     The credential without an address: Resend disabled ("never emailed").
  7. As the issuer (no auditor role, so the page cannot know the state): no timeline of
     emails, a hint saying so; Resend on the queued one shows the node's 409 detail, on the
     one without an address the 404 detail (Korean page).
  8. As the auditor: the revoked credential's timeline has the issue, its email, the
     revocation with its reason, and the revocation's email, in that order; no Resend; a
     resend through the auditor's session anyway is 403.
  9. axe finds no violation on the list and the credential page in English and Korean (and
     with the dialog open, and with the 409/404 shown); no CSP violation or script error in any
     console; screenshots in $CA_BUILD_DIR/web_admin_delivery_artefacts.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402
from smtp_fixture import SmtpPeer  # noqa: E402

c = ca.Checks("web_admin_delivery")
SRC = os.environ["CA_SOURCE_DIR"]
PEER = os.path.join(SRC, "tests", "interop", "web_admin_delivery_peer.mjs")
ROSTER = os.path.join(SRC, "tests", "data", "participants-166.csv")
TEMPLATES = os.path.join(SRC, "config", "templates")
ARTEFACTS = os.environ.get("CA_ARTEFACTS") or os.path.join(
    os.environ.get("CA_BUILD_DIR", tempfile.gettempdir()), "web_admin_delivery_artefacts")
ROLES = ("sent", "sent2", "revoked", "failed", "queued")  # queued: issued by the peer
REASON = "Issued to the wrong person (delivery test)"
SHOTS = ("delivery-list-en", "delivery-list-ko", "delivery-failed-en", "delivery-failed-ko",
         "delivery-resend-dialog-en", "delivery-list-failed-en", "delivery-resent-en", "delivery-queued-en", "delivery-issuer-en",
         "delivery-issuer-ko", "delivery-409-en", "delivery-404-ko", "delivery-revoked-en",
         "delivery-revoked-ko")


def enc(ref):
    return urllib.parse.quote(ref, safe="")


def js(r):
    try:
        return json.loads(r.body)
    except ValueError:
        return {}


# ---- the node and its credentials ------------------------------------------------------------------

def roster(n):
    with open(ROSTER, encoding="utf-8") as f:
        lines = f.read().splitlines()
    return lines[0], [dict(zip(lines[0].split(","), line.split(","))) | {"line": line}
                      for line in lines[1:n + 1]]


def node_env(smtp, base):
    return {"CREDANCHOR_NODE_PUBLIC_URL": base, "CREDANCHOR_CREDENTIALS_ISSUE_PREFIX": "BIZM",
            "CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": TEMPLATES,
            "CREDANCHOR_MAIL_SMTP_URL": smtp.url, "CREDANCHOR_MAIL_FROM": "Training <training@bizm.example>",
            "CREDANCHOR_MAIL_CA_FILE": smtp.ca, "CREDANCHOR_DELIVERY_RETRY_BASE": "1"}


def rows_by_name(node):
    r = node.get("/v1/credentials?limit=100", token=node.tokens["auditor"])
    return {x["name"]: x for x in js(r).get("credentials", [])}


def deliveries(node, ref):
    return js(node.get(f"/v1/credentials/{enc(ref)}/deliveries", token=node.tokens["auditor"])).get(
        "deliveries") or []


def issue(node, people):
    """The roster's rows by the batch route, one credential without an address by POST
    /v1/credentials; {role: {"id", "issueNumber"}}."""
    head = "externalId,name,email,department,course,completedAt"
    r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                     headers={"Content-Type": "text/csv"},
                     body=("\n".join([head] + [p["line"] for p in people.values()]) + "\n").encode())
    c.eq(r.status, 200, f"issued {len(people)} credentials by the batch route ({r.body[:200]!r})")
    with open(os.path.join(TEMPLATES, "security-awareness-2026.json")) as f:
        cred = json.load(f)
    cred["credentialSubject"]["id"] = "did:example:nomail"
    r = node.request("POST", "/v1/credentials", token=node.tokens["issuer"], body={
        "credential": cred, "recipient": {"name": "Nomail Kim", "department": "IT",
                                          "course": "security-awareness-2026"}})
    c.eq(r.status, 201, f"one credential without an email address ({r.body[:200]!r})")
    named = rows_by_name(node)
    out = {role: named.get(p["name"], {}) for role, p in people.items()}
    out["nomail"] = named.get("Nomail Kim", {})
    return {role: {"id": x.get("id", ""), "issueNumber": x.get("issueNumber", "")} for role, x in out.items()}


def state_of(node, ref):
    d = deliveries(node, ref)
    return d[-1]["state"] if d else None


def settle(node, smtp, rows):
    """Waits for the deliveries' first outcomes; revokes one; drops the 550 rule."""
    c.wait_for(lambda: all(state_of(node, rows[r]["id"]) == "sent" for r in ("sent", "sent2", "revoked"))
               or None, 30, "three emails sent")
    c.wait_for(lambda: state_of(node, rows["failed"]["id"]) == "failed" or None, 30, "the 550 one failed")
    r = node.request("POST", f"/v1/credentials/{enc(rows['revoked']['id'])}/revoke", token=node.tokens["admin"],
                     body={"reason": REASON})
    c.eq(r.status, 200, "revoked one")
    c.wait_for(lambda: (lambda d: len(d) == 2 and d[1]["state"] == "sent")(deliveries(node, rows["revoked"]["id"]))
               or None, 30, "the revocation emailed")


# ---- the browser -----------------------------------------------------------------------------------

def run_peer(tmp, node, plan):
    return ca.run_browser_peer(c, PEER, tmp, plan, timeout=300, node=node, artefacts=ARTEFACTS)


def invite(node, email, name, roles):
    r = node.request("POST", "/v1/users", body={"email": email, "name": name, "roles": roles},
                     token=node.tokens["admin"])
    c.eq(r.status, 201, f"POST /v1/users: {name} invited ({r.body[:200]!r})")
    return js(r).get("enrollUrl", "")


# ---- the judging -------------------------------------------------------------------------------------

def no_violations(v, what):
    c.ok(v is not None and not v, f"{what}: axe finds no violation ({v})")


def judge_views(got):
    for step in ("2 failed", "5 list", "7 issuer", "8 auditor"):
        for lang, view in ((got.get(step) or {}).get("views") or {}).items():
            look = view.get("look", {})
            no_violations(view.get("axe"), f"{step} ({look.get('page')}, {lang})")
            c.ok(look.get("lang") == lang and look.get("state") == "ready" and not look.get("error"),
                 f"{step} ({lang}): the view is ready without an error ({look})")
    for shot in SHOTS:
        p = os.path.join(ARTEFACTS, f"{shot}.png")
        c.ok(os.path.exists(p) and os.path.getsize(p) > 5000, f"screenshot {p}")
    s8 = got.get("9 console", {})
    for who in ("admin", "issuer", "auditor"):
        lines = s8.get(who)
        bad = [x for x in lines or [] if "Content Security Policy" in x or "CSP violation" in x or
               "integrity" in x.lower() or "pageerror" in x]
        c.ok(lines is not None and not bad, f"8: {who}: no CSP, SRI or script error in the console ({bad})")


def judge_list(got, node, rows):
    s2 = got.get("5 list", {})
    en, ko = s2.get("en", {}), s2.get("ko", {})
    c.ok("Alert channel" in en.get("headers", []) and "채널" in ko.get("headers", []),
         f"2: the Alert channel / 채널 column ({en.get('headers')}, {ko.get('headers')})")
    c.eq((en.get("headers") or [None])[-1], "Status", "2: Status stays the last column")
    shown = {r["id"]: r for r in en.get("rows", [])}
    api = {x["id"]: x.get("delivery") for x in
           js(node.get("/v1/credentials?limit=100", token=node.tokens["auditor"])).get("credentials", [])}
    want = {"sent": "sent", "sent2": "sent", "revoked": "sent", "failed": "sent", "queued": "queued"}
    for role, state in want.items():
        r = shown.get(rows[role]["id"], {})
        c.eq((r.get("delivery"), r.get("channel"), r.get("badge")), (state, "Email", state),
             f"2: the {role} row: Email, {state}")
        c.eq((api.get(rows[role]["id"]) or {}).get("state"), state, f"2: ... as GET /v1/credentials says")
    nm = shown.get(rows["nomail"]["id"], {})
    c.ok(nm.get("delivery") is None and "—" in (nm.get("cells") or []),
         f"2: the credential without an email: — ({nm.get('cells')})")
    kor = {r["id"]: r for r in ko.get("rows", [])}
    c.eq([(kor.get(rows[x]["id"]) or {}).get("badge") for x in ("sent", "queued")],
         ["발송됨", "대기 중"], "2: the Korean badges")
    c.eq((kor.get(rows["sent"]["id"]) or {}).get("channel"), "이메일", "2: the Korean channel")


def judge_failed(got, rows):
    s3 = got.get("2 failed", {})
    before = {r["id"]: r for r in s3.get("list", {}).get("rows", [])}
    for role, state in (("failed", "failed"), ("sent", "sent"), ("nomail", None)):
        r = before.get(rows[role]["id"], {})
        c.eq((r.get("delivery"), r.get("badge")), (state, state), f"2: before the resend, the {role} row: {state}")
    no_violations(s3.get("listAxe"), "2: the list with a failed email")
    tl = s3.get("en", {})
    kinds = [(e["kind"], e.get("event"), e.get("state")) for e in tl.get("entries", [])]
    c.eq(kinds, [("issued", None, None), ("delivery", "credential.issued", "failed")],
         "3: the failed one's timeline: issued, then its email, failed")
    mail = (tl.get("entries") or [{}, {}])[-1]
    c.eq((mail.get("badge"), mail.get("title", "").startswith("Email: notice of issue")), ("failed", True),
         f"3: the email's title and badge ({mail.get('title')})")
    f = mail.get("facts", {})
    c.ok(f.get("Attempts") == "1" and "550" in (f.get("Last error") or "") and
         f.get("Recipient's address") == "held (sealed)" and f.get("Queued"),
         f"3: 1 attempt, the 550 as the last error, the address held ({f})")
    att = mail.get("attempts", [])
    c.ok(len(att) == 1 and att[0]["outcome"] == "failed" and att[0]["code"] == "550" and
         att[0]["cells"][2] == "550" and att[0]["cells"][1] == "failed",
         f"3: the attempt log: one attempt, failed, 550 ({att})")
    c.eq(tl.get("resend"), {"disabled": False, "block": "", "blockText": ""}, "3: Resend is offered")
    ko = s3.get("ko", {})
    c.ok([e.get("badge") for e in ko.get("entries", [])][-1:] == ["실패"] and
         any(a["cells"][1] == "실패" for e in ko.get("entries", []) for a in e.get("attempts", [])),
         f"3: the Korean timeline ({[e.get('title') for e in ko.get('entries', [])]})")


def judge_resend(got, node, smtp, rows, failed_email):
    s4 = got.get("3 resend", {})
    no_violations(s4.get("dialogAxe"), "4: the resend dialog open")
    c.ok(rows["failed"]["issueNumber"] in (s4.get("dialogTitle") or ""),
         f"4: the dialog names the credential ({s4.get('dialogTitle')})")
    c.eq(len(s4.get("afterCancel", {}).get("entries", [])), 2, "4: Cancel: nothing new in the timeline")
    resent = s4.get("resent", {})
    c.ok("queued to be sent again" in resent.get("look", {}).get("notice", "") and not resent.get("timeline", {}).get("resendError"),
         f"4: Confirm: the notice says it is queued ({resent.get('look')})")
    after = s4.get("after", {})
    mails = [e for e in after.get("entries", []) if e.get("event") == "credential.issued"]
    c.eq([m.get("state") for m in mails], ["failed", "sent"],
         "4: the timeline shows a second email, sent (the page read it again)")
    c.ok(len(mails) == 2 and mails[1]["attempts"] and mails[1]["attempts"][-1]["outcome"] == "sent" and
         mails[1]["attempts"][-1]["code"] == "250" and mails[1]["facts"].get("Sent"),
         f"4: ... its attempt: sent, 250 ({mails[1:] and mails[1].get('attempts')})")
    no_violations(s4.get("axe"), "4: the page after the resend")
    got_mail = c.wait_for(lambda: [m for m in smtp.messages() if failed_email in m.rcpt_tos] or None, 20,
                          "4: the resent message at the SMTP server")
    c.eq(len(got_mail or []), 1, "4: exactly one message to the once refused recipient")
    if got_mail:
        body = got_mail[0].email().get_body(("plain",))
        c.ok(body is not None and rows["failed"]["issueNumber"] in body.get_content(),
             "4: it is the credential's email")
    d = deliveries(node, rows["failed"]["id"])
    c.eq([x["state"] for x in d], ["failed", "sent"], "4: GET .../deliveries agrees")
    r = node.get("/v1/audit?limit=1000", token=node.tokens["admin"])
    audited = [e for e in js(r).get("entries", []) if (e.get("route") or "").endswith("/deliveries/resend")
               and e.get("status") == 202]
    c.ok(audited and audited[-1].get("userName") == "Ada Admin",
         f"4: the resend is audited under the admin ({audited[-1:]})")


def judge_queued(got):
    s5 = got.get("6 queued", {})
    tl = s5.get("timeline", {})
    mail = (tl.get("entries") or [{}])[-1]
    codes = [a["code"] for a in mail.get("attempts", [])]
    c.ok(mail.get("state") == "queued" and len(codes) >= 2 and set(codes) == {"451"} and
         all(a["outcome"] == "retry" for a in mail.get("attempts", [])) and mail.get("facts", {}).get("Next attempt"),
         f"5: the queued one: its 451 retries and the next attempt ({mail.get('facts')}, {codes})")
    c.eq((tl.get("resend") or {}).get("disabled"), True, "5: Resend is disabled while queued")
    c.ok("still queued" in (tl.get("resend") or {}).get("blockText", ""),
         f"5: ... and says why ({tl.get('resend')})")
    no_violations(s5.get("axe"), "5: the queued one's page")
    nm = s5.get("nomail", {})
    c.eq([e["kind"] for e in nm.get("entries", [])], ["issued"], "5: without an email: only the issue")
    c.ok((nm.get("resend") or {}).get("disabled") and "never emailed" in nm["resend"].get("blockText", ""),
         f"5: ... Resend disabled, never emailed ({nm.get('resend')})")


def judge_issuer(got, smtp_before, smtp, queued_email):
    s6 = got.get("7 issuer", {})
    b = s6.get("before", {})
    c.ok(b.get("card") and b.get("unknown") and [e["kind"] for e in b.get("entries", [])] == ["issued"],
         f"6: the issuer sees the card, no emails, a hint ({b})")
    c.eq((b.get("resend") or {}).get("disabled"), False, "6: Resend offered to the issuer")
    con = s6.get("conflict", {})
    err = con.get("timeline", {}).get("resendError", "")
    c.ok(err.startswith("Not resent. The node says:") and "still queued" in err,
         f"6: Resend of the queued one: the node's 409 shown ({err})")
    c.eq(con.get("look", {}).get("state"), "error", "6: ... as an error")
    no_violations(s6.get("conflictAxe"), "6: the page with the 409")
    nev = s6.get("never", {})
    err = nev.get("timeline", {}).get("resendError", "")
    c.ok(err.startswith("다시 보내지 않았습니다") and "never emailed" in err,
         f"6: Resend of the one without an email: the node's 404 shown, in Korean ({err})")
    no_violations(s6.get("neverAxe"), "6: the page with the 404")
    time.sleep(0.5)
    c.eq(len([m for m in smtp.messages() if queued_email in m.rcpt_tos]), 0,
         "6: nothing was sent to the 451 recipient")
    c.eq(len(smtp.messages()), smtp_before + 1, "6: the refused resends sent nothing")


def judge_auditor(got, rows):
    s7 = got.get("8 auditor", {})
    tl = s7.get("timeline", {})
    es = tl.get("entries", [])
    c.eq([(e["kind"], e.get("event") or e.get("status")) for e in es],
         [("issued", None), ("delivery", "credential.issued"), ("status", "revoked"),
          ("delivery", "credential.revoked")],
         "7: the revoked one's timeline: issued, its email, revoked, the revocation's email")
    st = next((e for e in es if e["kind"] == "status"), {})
    c.ok(st.get("title") == "Revoked" and REASON in (st.get("reason") or ""),
         f"7: the revocation and its reason ({st})")
    c.ok(all(e.get("state") == "sent" for e in es if e["kind"] == "delivery"), "7: both emails sent")
    ats = [e.get("at") for e in es]
    c.ok(all(ats) and ats == sorted(ats), f"7: in time order ({ats})")
    c.ok(tl.get("card") and not tl.get("unknown") and tl.get("resend") is None,
         f"7: the auditor sees the timeline and no Resend ({tl.get('resend')})")
    c.eq(s7.get("directResend"), 403, "7: a resend through the auditor's session: 403")


def main():
    if not shutil.which(os.environ.get("CA_CHROMIUM", "chromium")) and \
            not os.path.exists(os.environ.get("CA_CHROMIUM", "/usr/bin/chromium")):
        c.ok(False, "Debian's chromium is not installed (scripts/install-deps installs it)")
        c.finish()
    subprocess.run([os.path.join(SRC, "tests", "interop", "install-peers")], check=True)
    os.makedirs(ARTEFACTS, exist_ok=True)
    port = ca.free_port()
    base = f"http://localhost:{port}"
    head, people = roster(len(ROLES))
    people = dict(zip(ROLES, people))
    queued = people.pop("queued")
    failed_email, queued_email = people["failed"]["email"], queued["email"]
    queued_rule = {"match": re.escape(queued_email), "code": 451}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp, \
            SmtpPeer(tmp, control={"rcpt_rules": [{"match": re.escape(failed_email), "code": 550},
                                                  queued_rule]}) as smtp, \
            ca.Node(roles=("admin", "issuer", "auditor"), env=node_env(smtp, base)) as node:
        node.start(port=port)
        rows = issue(node, people)
        settle(node, smtp, rows)
        smtp.set_control({"rcpt_rules": [queued_rule]})  # a failed email is not retried by itself
        smtp_before = len(smtp.messages())
        out = ca.run_cli("user", "invite", "--email", "admin@example.com", "--role", "admin",
                         "--name", "Ada Admin", data_dir=node.data_dir, env=node.env).stdout.strip()
        got = run_peer(tmp, node, {"base": base, "artefacts": ARTEFACTS, "rows": rows,
                                   "issuerToken": node.tokens["issuer"], "auditorToken": node.tokens["auditor"],
                                   "queued": {"csv": f"{head}\n{queued['line']}\n", "name": queued["name"]},
                                   "adminInvite": out.splitlines()[-1],
                                   "issuerInvite": invite(node, "isaac@example.com", "Isaac Issuer", ["issuer"]),
                                   "auditorInvite": invite(node, "audrey@example.com", "Audrey Auditor",
                                                           ["auditor"])})
        rows["queued"] = (got.get("4 queue") or {}).get("row") or {"id": "", "issueNumber": ""}
        c.eq((got.get("4 queue") or {}).get("issued"), 200, "4: the queued one issued")
        judge_list(got, node, rows)
        judge_failed(got, rows)
        judge_resend(got, node, smtp, rows, failed_email)
        judge_queued(got)
        judge_issuer(got, smtp_before, smtp, queued_email)
        judge_auditor(got, rows)
        judge_views(got)
    print(f"web_admin_delivery: took {time.time() - t0:.1f} s", flush=True)
    c.finish()


if __name__ == "__main__":
    main()
