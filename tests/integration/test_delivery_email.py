"""Recipients' email through the outbox (issue #18, SPEC §8 mail.*), against a real SMTP
server started here (Debian's python3-aiosmtpd, STARTTLS required, a certificate from a test
CA; tests/integration/smtp_peer.py):

A. 166 credentials issued from the roster: each recipient gets exactly one message, multipart
   text + HTML, with their page link, the issue number and the signature block; the list and
   the deliveries route show "sent"; no plaintext email is ever in the LMDB file.
B. The node is killed (SIGKILL) mid-send and restarted: every credential is delivered, each
   Message-ID exactly once (SPEC §8 allows the one message whose 250 raced the kill to come
   again, with the same Message-ID: at most mail.connections such repeats).
C. The server answers 421 (greeting), 451 (twice) and 550 on purpose: the 421 and 451 are
   retried and delivered, the 550 is "failed" and never retried; a resend of a failed one is
   a new message.
D. A revocation emails the recipient too.
E. The server's certificate comes from a CA the node does not trust: nothing is sent, the
   delivery says why, and so does the node's log.
F. delivery.retention_days = 0: the sealed address is erased once delivered; a resend then
   answers 409.
G. An achievement's own wording (<templates_dir>/<course>.mail.json): its subject, paragraph
   and signature are used; a template naming an unknown field keeps the message queued with
   the file named as the reason, and once fixed the message goes out.
H. SMTP AUTH (mail.username, the password from a 0600 file) and mail.attach_pdf: a wrong
   password keeps the message queued with "AUTH refused"; the right one delivers it, as the
   authenticated user, with the certificate PDF attached (pdftotext reads its issue number).
"""
import subprocess
import json
import shutil
import csv
import io
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402
from smtp_fixture import SmtpPeer  # noqa: E402

c = ca.Checks("delivery_email")
ROSTER = os.path.join(ca.SRC, "tests", "data", "participants-166.csv")
TEMPLATES = os.path.join(ca.SRC, "config", "templates")
PUBLIC = "https://credentials.bizm.example"
FROM = "BizMarket 교육팀 <training@bizm.example>"


def js(r):
    import json
    try:
        return json.loads(r.body)
    except ValueError:
        return {}


def roster_rows():
    with open(ROSTER, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def smtp_env(smtp, ca_file=None):
    return {"CREDANCHOR_MAIL_SMTP_URL": smtp.url, "CREDANCHOR_MAIL_FROM": FROM,
            "CREDANCHOR_MAIL_CA_FILE": ca_file or smtp.ca}


def node_env(smtp, ca_file=None, templates_dir=TEMPLATES, **extra):
    env = {"CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": templates_dir,
           "CREDANCHOR_NODE_PUBLIC_URL": PUBLIC,
           "CREDANCHOR_CREDENTIALS_ISSUER_NAME": "BizMarket",
           "CREDANCHOR_CREDENTIALS_ISSUE_PREFIX": "BIZM",
           "CREDANCHOR_DELIVERY_RETRY_BASE": "1"}
    if smtp:
        env.update(smtp_env(smtp, ca_file))
    env.update({"CREDANCHOR_" + k.upper(): v for k, v in extra.items()})
    return env


def issue_csv(node, text):
    return node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                        headers={"Content-Type": "text/csv"}, body=text.encode())


def all_rows(node):
    return js(node.get("/v1/credentials?limit=1000", token=node.tokens["auditor"])).get(
        "credentials", [])


def deliveries(node, ref):
    return js(node.get(f"/v1/credentials/{ref}/deliveries", token=node.tokens["auditor"]))


def parts(msg):
    """(text, html) of a parsed message."""
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    return (text.get_content() if text else ""), (html.get_content() if html else "")


def no_plaintext(node, emails, what):
    blob = ca.mdb_bytes(node.data_dir).lower()
    leaked = [e for e in emails if e.lower().encode() in blob]
    c.ok(not leaked, f"{what}: no plaintext email in the LMDB file ({len(leaked)} found)")


def check_messages(msgs, rows, roster):
    by_number = {r["issueNumber"]: r for r in rows}
    name_email = {r["name"]: r["email"] for r in roster}
    bad = []
    for m in msgs:
        e = m.email()
        text, html = parts(e)
        num = re.search(r"BIZM-\d{6}-\d{4}", text)
        row = by_number.get(num.group(0)) if num else None
        if not row:
            bad.append(("no issue number", m.message_id))
            continue
        want_to = name_email.get(row["name"])
        if m.rcpt_tos != [want_to] or want_to not in str(e["To"]):
            bad.append(("recipient", row["issueNumber"], m.rcpt_tos))
        link = PUBLIC + "/c/" + row["id"].removeprefix("urn:uuid:")
        if not link.startswith(PUBLIC) or link not in text or link.replace("&", "&amp;") not in html:
            bad.append(("link", row["issueNumber"], link))
        if "\n-- \n" not in text.replace("\r\n", "\n") or "BizMarket" not in text.split("\n-- \n")[-1]:
            bad.append(("signature block", row["issueNumber"]))
        if not m.tls:
            bad.append(("not over TLS", row["issueNumber"]))
    return bad


def scenario_166_with_kill(work):
    roster = roster_rows()
    emails = [r["email"] for r in roster]
    with SmtpPeer(work) as smtp, ca.Node(roles=["issuer", "auditor", "revoker"],
                                         env=node_env(smtp)) as node:
        smtp.set_control({"delay_ms": 60})
        node.start()
        r = issue_csv(node, open(ROSTER, encoding="utf-8").read())
        c.eq(r.status, 200, "A: the 166-row roster is issued")
        no_plaintext(node, emails, "A: right after issuing (queued)")
        # B: kill the node once some messages are in, before all are.
        got = c.wait_for(lambda: len(smtp.messages()) >= 30 or None, 60, "A: 30 messages in")
        before = len(smtp.messages())
        node.kill()
        c.ok(got and before < 166, f"B: killed with {before} of 166 delivered")
        smtp.set_control({})
        node.start()
        c.wait_for(lambda: len({m.message_id for m in smtp.messages()}) >= 166 or None, 90,
                   "B: 166 distinct messages after the restart")
        time.sleep(1.5)  # anything doubled would arrive now
        msgs = smtp.messages()
        ids = [m.message_id for m in msgs]
        c.eq(len(set(ids)), 166, "B: 166 distinct Message-IDs")
        repeats = len(ids) - len(set(ids))
        c.ok(repeats <= 4, f"B: at most mail.connections (4) repeats of a message whose 250 "
                           f"raced the kill, each with its Message-ID ({repeats})")
        rows = all_rows(node)
        c.eq(len(rows), 166, "A: 166 credentials listed")
        first = {}
        for m in msgs:
            first.setdefault(m.message_id, m)
        bad = check_messages(list(first.values()), rows, roster)
        c.ok(not bad, f"A: every message has its recipient, page link, TLS and signature block "
                      f"({bad[:3]})")
        numbers = set()
        for m in first.values():
            n = re.search(r"BIZM-\d{6}-\d{4}", parts(m.email())[0])
            numbers.add(n.group(0) if n else None)
        c.eq(len(numbers), 166, "B: each credential's message arrived (166 issue numbers)")
        e = first[ids[0]].email()
        c.ok(e.get_content_type() == "multipart/alternative" or
             e.get_content_type() == "multipart/mixed", f"A: multipart ({e.get_content_type()})")
        c.ok("BizMarket" in str(e["From"]) and "training@bizm.example" in str(e["From"]),
             f"A: From is mail.from ({e['From']})")
        c.wait_for(lambda: all((x.get("delivery") or {}).get("state") == "sent"
                               for x in all_rows(node)) or None, 20,
                   "A: the list shows every delivery sent")
        rows = all_rows(node)
        c.eq({(x.get("delivery") or {}).get("channel") for x in rows}, {"email"},
             "A: the list's alert channel is email")
        r = node.get("/v1/credentials?format=csv", token=node.tokens["auditor"])
        exp = list(csv.reader(io.StringIO(r.body.decode("utf-8-sig"))))
        c.ok(exp[0][-2:] == ["alertChannel", "deliveryState"] and len(exp) == 167 and
             all(x[-2:] == ["email", "sent"] for x in exp[1:]),
             "A: the CSV export's last two columns: email, sent (166 rows)")
        d = deliveries(node, rows[5]["issueNumber"])
        dl = d.get("deliveries", [])
        c.ok(len(dl) == 1 and dl[0]["state"] == "sent" and dl[0]["event"] == "credential.issued"
             and dl[0]["attempts"] >= 1 and dl[0]["sentAt"] and dl[0]["addressHeld"] is True,
             f"A: /deliveries: one issued email, sent, address still held ({dl})")
        c.ok(not [e for e in emails if e in str(d)], "A: /deliveries never answers the address")
        no_plaintext(node, emails, "A: after sending")
        backup = os.path.join(work, "backup")
        ca.run_cli("backup", backup, data_dir=node.data_dir, env=node.env)
        blob = b"".join(open(os.path.join(root, n), "rb").read()
                        for root, _, names in os.walk(backup) for n in names).lower()
        c.ok(os.path.exists(os.path.join(backup, "keys", "data.key")) and
             not [e for e in emails if e.lower().encode() in blob],
             "A: a backup holds the addresses sealed (no plaintext email; data.key with it)")

        # D: a revocation emails the recipient.
        target = rows[7]
        r = node.request("POST", f"/v1/credentials/{target['id']}/revoke",
                         token=node.tokens["revoker"], body={"reason": "issued in error"})
        c.eq(r.status, 200, "D: revoke 200")
        got = c.wait_for(lambda: [m for m in smtp.messages()
                                  if m.email()["X-Credanchor-Event"] == "credential.revoked"]
                         or None, 20, "D: the revocation email")
        if got:
            t = parts(got[0].email())[0]
            c.ok(target["issueNumber"] in t and "issued in error" in t,
                 "D: it names the credential and the reason")
        c.eq(node.stop(), 0, "A: serve stops cleanly")
        out = ca.run_cli("check", data_dir=node.data_dir, env=node.env).stdout
        c.ok("contact data: 167 delivery record(s) hold a sealed recipient address; 0 email(s) "
             "queued" in out, "A: check counts what is still held (166 issued + 1 revoked email)")


def scenario_faults(work):
    roster = roster_rows()[:6]
    text = "externalId,name,email,department,course,completedAt\n" + "".join(
        f"{r['externalId']},{r['name']},{r['email']},{r['department']},{r['course']},"
        f"{r['completedAt']}\n" for r in roster)
    tmp451, perm550 = roster[1]["email"], roster[2]["email"]
    control = {"greeting": {"code": 421, "times": 1},
               "rcpt_rules": [{"match": re.escape(tmp451), "code": 451, "times": 2},
                              {"match": re.escape(perm550), "code": 550}]}
    with SmtpPeer(work, control=control) as smtp, ca.Node(roles=["issuer", "auditor"],
                                                          env=node_env(smtp)) as node:
        node.start()
        c.eq(issue_csv(node, text).status, 200, "C: 6 credentials issued")
        c.wait_for(lambda: len(smtp.messages()) >= 5 or None, 60,
                   "C: 5 of 6 delivered through a 421 greeting and two 451s")
        rows = {r["name"]: r for r in all_rows(node)}
        n451 = rows[roster[1]["name"]]["issueNumber"]
        n550 = rows[roster[2]["name"]]["issueNumber"]
        d = c.wait_for(lambda: (lambda x: x if x and x[0]["state"] == "failed" else None)(
            deliveries(node, n550).get("deliveries")), 20, "C: the 550 is failed")
        if d:
            log = d[0]["log"]
            c.ok([x["code"] for x in log if x["code"] == 550] == [550] and
                 log[-1]["outcome"] == "failed" and "550" in (d[0].get("lastError") or ""),
                 f"C: 550: failed at its first 550 (never tried again), the reason kept ({d[0]})")
        d = deliveries(node, n451).get("deliveries", [{}])
        log = d[0].get("log", [])
        c.ok(d[0].get("state") == "sent" and [x["code"] for x in log if x["code"] == 451] ==
             [451, 451] and log[-1]["outcome"] == "sent" and
             all(x["outcome"] == "retry" for x in log[:-1]),
             f"C: 451 twice: retried, then sent ({log})")
        c.ok(any(x["code"] == 421 and x["outcome"] == "retry" for r in all_rows(node)
                 for x in deliveries(node, r["issueNumber"])["deliveries"][0]["log"]),
             "C: the 421 greeting was retried")
        time.sleep(2.5)
        c.eq(len([m for m in smtp.messages() if perm550 in m.rcpt_tos]), 0,
             "C: the 550 address is never retried")
        c.eq(len(smtp.messages()), 5, "C: 5 messages, one each")
        smtp.set_control({})
        r = node.request("POST", f"/v1/credentials/{n550}/deliveries/resend",
                         token=node.tokens["issuer"])
        c.eq(r.status, 202, "C: resend of the failed one: 202")
        c.wait_for(lambda: [m for m in smtp.messages() if perm550 in m.rcpt_tos] or None, 20,
                   "C: the resend arrives")
        c.eq(len(deliveries(node, n550).get("deliveries", [])), 2,
             "C: the resend is a second delivery")
        r = node.request("POST", f"/v1/credentials/{n451}/deliveries/resend",
                         token=node.tokens["auditor"])
        c.eq(r.status, 403, "C: resend needs the issuer role")
        c.eq(node.stop(), 0, "C: serve stops cleanly")


def scenario_untrusted(work):
    os.makedirs(os.path.join(work, "other"))
    other_ca = ca.make_test_ca(os.path.join(work, "other"), "some other CA")[0]
    with SmtpPeer(work) as smtp, ca.Node(roles=["issuer", "auditor"],
                                         env=node_env(smtp, ca_file=other_ca)) as node:
        node.start()
        r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                         headers={"Content-Type": "text/csv"},
                         body=("externalId,name,email,department,course,completedAt\n"
                               "E-1,Ada Park,ada.park@bizm.example,IT,security-awareness-2026,"
                               "2026-06-01\n").encode())
        c.eq(r.status, 200, "E: issued")
        num = all_rows(node)[0]["issueNumber"]
        d = c.wait_for(lambda: (lambda x: x if x and x[0].get("lastError") else None)(
            deliveries(node, num).get("deliveries")), 20, "E: the first attempt is recorded")
        if d:
            c.ok(d[0]["state"] == "queued" and "not trusted" in d[0]["lastError"],
                 f"E: still queued, and it says why ({d[0].get('lastError')})")
        c.ok("not trusted" in node.log_text(), "E: the node's log says why too")
        c.eq(len(smtp.messages()), 0, "E: nothing was sent")
        c.eq(node.stop(), 0, "E: serve stops cleanly")


def scenario_retention(work):
    with SmtpPeer(work) as smtp, ca.Node(roles=["issuer", "auditor"],
                                         env=node_env(smtp, delivery_retention_days="0")) as node:
        node.start()
        r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                         headers={"Content-Type": "text/csv"},
                         body=("externalId,name,email,department,course,completedAt\n"
                               "E-2,Min Lee,min.lee@bizm.example,HR,security-awareness-2026,"
                               "2026-06-02\n").encode())
        c.eq(r.status, 200, "F: issued")
        c.wait_for(lambda: smtp.messages() or None, 20, "F: delivered")
        num = all_rows(node)[0]["issueNumber"]
        d = c.wait_for(lambda: (lambda x: x if x and x[0]["state"] == "sent" else None)(
            deliveries(node, num).get("deliveries")), 10, "F: sent")
        if d:
            c.ok(d[0]["addressHeld"] is False and d[0].get("erasedAt"),
                 f"F: retention 0: the address is erased at once ({d[0]})")
        r = node.request("POST", f"/v1/credentials/{num}/deliveries/resend",
                         token=node.tokens["issuer"])
        c.ok(r.status == 409 and "erased" in js(r).get("detail", ""),
             f"F: resend after erasure: 409, says erased ({r.status})")
        no_plaintext(node, ["min.lee@bizm.example"], "F")
        out = ca.run_cli("check", data_dir=node.data_dir, env=node.env).stdout
        c.ok("contact data: 0 delivery record(s) hold" in out,
             "F: check: no address held after the window")
        c.eq(node.stop(), 0, "F: serve stops cleanly")


def scenario_template(work):
    templates = os.path.join(work, "templates")
    shutil.copytree(TEMPLATES, templates)
    custom = os.path.join(templates, "security-awareness-2026.mail.json")

    def write(obj):
        with open(custom + ".tmp", "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False)
        os.replace(custom + ".tmp", custom)

    write({"ko": {"subject": "{name}님, {achievement} 수료를 축하합니다",
                  "message": "보안 교육을 마치셨습니다.\n문의: 교육팀 <내선 1234>"},
           "en": {"message": "Well done, {name}."},
           "signature": "BizMarket 교육팀\ntraining@bizm.example"})
    env = node_env(None, templates_dir=templates)
    with SmtpPeer(work) as smtp, ca.Node(roles=["issuer", "auditor"],
                                         env=dict(env, **smtp_env(smtp))) as node:
        node.start()
        row = "E-3,Yuna Cho,yuna.cho@bizm.example,IT,security-awareness-2026,2026-06-03\n"
        r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                         headers={"Content-Type": "text/csv"},
                         body=("externalId,name,email,department,course,completedAt\n" +
                               row).encode())
        c.eq(r.status, 200, "G: issued")
        got = c.wait_for(lambda: smtp.messages() or None, 20, "G: delivered")
        if got:
            e = got[0].email()
            text, html = parts(e)
            c.eq(str(e["Subject"]), "Yuna Cho님, Security Awareness Training 2026 수료를 "
                 "축하합니다", "G: the achievement's subject, its fields filled in")
            c.ok("보안 교육을 마치셨습니다." in text and "Well done, Yuna Cho." in text and
                 "교육팀 &lt;내선 1234&gt;" in html,
                 "G: the paragraph in both languages, escaped in HTML")
            c.ok(text.replace("\r\n", "\n").rstrip().endswith(
                "-- \nBizMarket 교육팀\ntraining@bizm.example"), "G: the achievement's signature")
        write({"en": {"message": "Because {reason}"}})
        row = "E-4,Jae Kim,jae.kim@bizm.example,IT,security-awareness-2026,2026-06-03\n"
        node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                     headers={"Content-Type": "text/csv"},
                     body=("externalId,name,email,department,course,completedAt\n" +
                           row).encode())
        num = next(x["issueNumber"] for x in all_rows(node) if x["name"] == "Jae Kim")
        d = c.wait_for(lambda: (lambda x: x if x and x[0].get("lastError") else None)(
            deliveries(node, num).get("deliveries")), 20, "G: the broken template is reported")
        if d:
            c.ok(d[0]["state"] == "queued" and "security-awareness-2026.mail.json" in
                 d[0]["lastError"], f"G: still queued, the file named ({d[0]['lastError']})")
        write({"en": {"message": "Fixed, {name}."}})
        got = c.wait_for(lambda: [m for m in smtp.messages() if "jae.kim@bizm.example" in
                                  m.rcpt_tos] or None, 30, "G: sent once the template is fixed")
        if got:
            c.ok("Fixed, Jae Kim." in parts(got[0].email())[0], "G: with the fixed wording")
        c.eq(node.stop(), 0, "G: serve stops cleanly")


def scenario_auth_pdf(work):
    pw = os.path.join(work, "smtp-password")
    with open(pw, "w") as f:
        f.write("wrong-password\n")
    os.chmod(pw, 0o600)
    with SmtpPeer(work, control={"auth": {"user": "credanchor", "password": "s3cret"}}) as smtp, \
            ca.Node(roles=["issuer", "auditor"],
                    env=node_env(smtp, mail_username="credanchor", mail_password_file=pw,
                                 mail_attach_pdf="true")) as node:
        node.start()
        row = "E-5,Bo Ram,bo.ram@bizm.example,IT,security-awareness-2026,2026-06-04\n"
        r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                         headers={"Content-Type": "text/csv"},
                         body=("externalId,name,email,department,course,completedAt\n" +
                               row).encode())
        c.eq(r.status, 200, "H: issued")
        num = all_rows(node)[0]["issueNumber"]
        d = c.wait_for(lambda: (lambda x: x if x and x[0].get("lastError") else None)(
            deliveries(node, num).get("deliveries")), 20, "H: the refused AUTH is recorded")
        if d:
            c.ok(d[0]["state"] == "queued" and "AUTH refused" in d[0]["lastError"],
                 f"H: wrong password: still queued, says AUTH refused ({d[0]['lastError']})")
        c.eq(len(smtp.messages()), 0, "H: nothing accepted without AUTH")
        c.eq(node.stop(), 0, "H: serve stops")
        with open(pw, "w") as f:
            f.write("s3cret\n")
        node.start()
        got = c.wait_for(lambda: smtp.messages() or None, 30, "H: delivered with AUTH")
        if got:
            m = got[0]
            c.eq(m.auth_user, "credanchor", "H: as the authenticated user")
            e = m.email()
            pdfs = [p for p in e.iter_attachments() if p.get_content_type() == "application/pdf"]
            c.ok(len(pdfs) == 1 and pdfs[0].get_filename() == f"{num}.pdf",
                 f"H: the certificate PDF attached as {num}.pdf")
            if pdfs:
                path = os.path.join(work, "attached.pdf")
                with open(path, "wb") as f:
                    f.write(pdfs[0].get_content())
                text = subprocess.run(["pdftotext", path, "-"], capture_output=True,
                                      text=True).stdout
                c.ok(num in text, "H: pdftotext reads the issue number in the attachment")
        c.eq(node.stop(), 0, "H: serve stops cleanly")


work = tempfile.mkdtemp(prefix="ca-mail-")
for name, fn in (("a", scenario_166_with_kill), ("c", scenario_faults),
                 ("e", scenario_untrusted), ("f", scenario_retention),
                 ("g", scenario_template), ("h", scenario_auth_pdf)):
    d = os.path.join(work, name)
    os.makedirs(d)
    fn(d)
c.finish()
