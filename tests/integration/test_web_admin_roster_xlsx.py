#!/usr/bin/env python3
"""The roster upload page with Excel workbooks (issue #17; web/admin/upload.mjs over
POST /v1/rosters/csv), in Debian's Chromium (tests/interop/web_admin_roster_xlsx_peer.mjs over
console_lib.mjs), behind real nginx with TLS and an https public_url (ca_node.NginxFront; the
browser trusts exactly the test certificate's key), judged here with the node's API:

- an issuer, enrolled with a passkey, picks a workbook (openpyxl, sheet "명단", 10 rows, 3 bad):
  the page reads it through the node, names the sheet and counts 10 rows; the check shows 7 new
  and 3 failed, the 3 rows by their sheet rows (4, 7, 10) with the node's reasons; Issue gives
  7 issued and 3 failed, and the node lists 7 credentials;
- the same workbook again, in Korean: 7 already issued, 3 failed, nothing new;
- a password-protected workbook: the page shows the node's one-line reason, Check stays off;
- the file picker takes .csv and .xlsx, and the hint says both; axe finds nothing on any of
  these screens; no console error or CSP violation. Screenshots (en and ko) are kept in
  $CA_BUILD_DIR/web_admin_roster_xlsx_artefacts.
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
import roster_xlsx_files as files  # noqa: E402

SRC = ca.SRC
PEER = os.path.join(SRC, "tests", "interop", "web_admin_roster_xlsx_peer.mjs")
ARTEFACTS = os.path.join(os.environ.get("CA_BUILD_DIR", tempfile.gettempdir()),
                         "web_admin_roster_xlsx_artefacts")
c = ca.Checks("web_admin_roster_xlsx")


def run_peer(tmp, node, plan):
    return ca.run_browser_peer(c, PEER, tmp, plan, timeout=120, node=node, artefacts=ARTEFACTS)


def spki_of(cert):
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def no_violations(v, what):
    c.ok(v is not None and not v, f"{what}: axe finds no violation ({v})")


def judge(got, node, bad_rows):
    en = got.get("en: check and issue") or {}
    chk = (en.get("checked") or {})
    c.ok(".xlsx" in chk.get("accept", "") and ".csv" in chk.get("accept", ""),
         f"the picker takes .csv and .xlsx ({chk.get('accept')})")
    c.ok("Excel (.xlsx)" in chk.get("hint", "") and "CSV" in chk.get("hint", ""),
         "the hint names CSV and Excel")
    c.eq((chk.get("fileRows"), chk.get("sheet")), ("10", "명단"), "the workbook read: 10 rows, its sheet")
    c.ok("“명단”" in chk.get("fileInfo", ""), f"the file line names the sheet ({chk.get('fileInfo')})")
    check = chk.get("check") or {}
    c.eq((check.get("rows"), check.get("new"), check.get("failed")), ("10", "7", "3"),
         "the check: 10 rows, 7 new, 3 failed")
    errors = {int(e["line"]): e["externalId"] for e in check.get("errors", [])}
    c.eq(errors, bad_rows, "the check names the bad rows by their sheet rows")
    problems = " | ".join(e["cells"][2] for e in check.get("errors", []))
    for word in ("email", "completedAt", "no-such-course"):
        c.ok(word in problems, f"the node's reasons: {word!r} in {problems!r}")
    summary = (en.get("issued") or {}).get("summary") or {}
    c.eq((summary.get("issued"), summary.get("failed"), summary.get("stopped")), ("7", "3", ""),
         "the summary: 7 issued, 3 failed, not stopped")
    c.eq(sorted(int(e["line"]) for e in summary.get("errors", [])), sorted(bad_rows),
         "the summary's failed rows by sheet row")
    r = node.get("/v1/credentials?limit=100", token=node.tokens["auditor"])
    listed = r.json() if r.status == 200 else {}
    items = listed.get("credentials") or listed.get("items") or listed.get("results") or []
    c.eq(len(items), 7, "the node lists 7 credentials")
    no_violations(en.get("checkAxe"), "en: the check")
    no_violations(en.get("summaryAxe"), "en: the summary")
    ko = got.get("ko: the same workbook again") or {}
    kcheck = (ko.get("checked") or {}).get("check") or {}
    c.eq((kcheck.get("new"), kcheck.get("existing"), kcheck.get("failed")), ("0", "7", "3"),
         "ko: the same workbook again: 0 new, 7 already issued, 3 failed")
    c.ok("시트" in (ko.get("checked") or {}).get("fileInfo", ""), "ko: the file line in Korean")
    no_violations(ko.get("checkAxe"), "ko: the check")
    bad = got.get("en: an encrypted workbook") or {}
    err = (bad.get("look") or {}).get("error", "")
    c.ok(err.startswith("The node could not read this Excel workbook: ") and
         "encrypted/password-protected workbook cannot be read" in err,
         f"an encrypted workbook: the node's reason on the page ({err!r})")
    c.eq(bad.get("checkDisabled"), True, "an encrypted workbook: Check stays off")
    no_violations(bad.get("axe"), "en: the refusal")
    # Chromium logs the refused upload's 400 itself; anything else is a fault.
    logged = [m for m in (got.get("console") or {}).get("console", [None])
              if not str(m).startswith("Failed to load resource: the server responded with a "
                                       "status of 400 (")]
    c.eq(logged, [], "no console error or CSP violation (but the refused upload's 400)")
    for name in ("upload-xlsx-check-en.png", "upload-xlsx-summary-en.png",
                 "upload-xlsx-check-ko.png", "upload-xlsx-refused-en.png"):
        c.ok(os.path.getsize(os.path.join(ARTEFACTS, name)) > 10000, f"screenshot {name}")


def main():
    if not os.path.exists(os.environ.get("CA_CHROMIUM", "/usr/bin/chromium")):
        c.ok(False, "Debian's chromium is not installed (scripts/install-deps installs it)")
        c.finish()
    subprocess.run([os.path.join(SRC, "tests", "interop", "install-peers")], check=True)
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    os.makedirs(ARTEFACTS)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp, ca.NginxFront(tmp) as front, \
            ca.Node(roles=("admin", "auditor"), env={
                "CREDANCHOR_NODE_PUBLIC_URL": front.public_url,
                "CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": os.path.join(SRC, "config", "templates"),
            }) as node:
        node.start()
        front.start(node.port)
        bad_xlsx, bad_rows = files.make_bad_3(tmp)
        encrypted = os.path.join(tmp, "locked.xlsx")
        cfb = bytearray(4096)
        cfb[:8] = bytes([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
        name = "EncryptedPackage".encode("utf-16-le")
        cfb[1024:1024 + len(name)] = name
        with open(encrypted, "wb") as f:
            f.write(cfb)
        r = node.request("POST", "/v1/users", token=node.tokens["admin"], body={
            "email": "isaac@example.com", "name": "이삭 Issuer", "roles": ["issuer"]})
        c.eq(r.status, 201, "the issuer is invited")
        got = run_peer(tmp, node, {"base": front.public_url, "spki": spki_of(front.cert),
                                   "artefacts": ARTEFACTS,
                                   "issuerInvite": r.json().get("enrollUrl", ""),
                                   "badXlsx": bad_xlsx, "encryptedXlsx": encrypted})
        judge(got, node, bad_rows)
    took = time.time() - t0
    print(f"web_admin_roster_xlsx: took {took:.1f} s", flush=True)
    c.ok(took < ca.scaled(90), f"the whole test under 90 s ({took:.1f} s)")
    c.finish()


if __name__ == "__main__":
    main()
