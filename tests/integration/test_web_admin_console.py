#!/usr/bin/env python3
"""The admin console in the browser (issue #17): web/admin/ (the roster upload, the credentials
list at /admin/, one credential, the dashboard, the audit log, people and tokens, the account
page) in Debian's Chromium (tests/interop/web_admin_console_peer.mjs: playwright-core with
executablePath, CDP virtual authenticators, @axe-core/playwright), judged here with the node's
API (urllib only), openpyxl and zipfile.

One node on http://localhost:<port> with admin and issuer tokens:
  0. The console's pages answer HTML with the admin CSP (no unsafe-*, connect-src 'self',
     form-action 'none', frame-ancestors 'none'), no-store and nosniff; only ?lang= (and ?id=
     on /admin/credential) is accepted; /admin 308s to /admin/; the account page is at
     /admin/account.
  1. An admin invited with `credanchor user invite`, an auditor and an issuer (no other role)
     invited with POST /v1/users enroll passkeys in the browser; enrolling leads the admin and
     the auditor to the console's home, the list, and the issuer to /admin/upload (its
     navigation: Upload and My account; the list's address sends it there again, the dashboard
     says it needs the auditor role).
  U. The roster upload (/admin/upload), as the admin: a copy of the 166-row roster
     (tests/data/participants-166.csv) with a bad email, an unknown course and a bad date,
     checked in Korean: the three rows named by their line in the file, externalId and the
     node's message; 163 new, nothing issued. With one template for every row (?template=),
     the unknown course is a row naming another achievement than the template. The real roster: 166 new, then Issue: the progress bar goes 0, 25, ...,
     166 of 166, the summary says 166 issued and links to the list. The same file again: 166
     already issued; Issue with Cancel (the requests held back) stops after the first chunk,
     and the whole file then issues 0, 166 already issued. As the issuer: a file of 11 MiB is
     refused on the page (10 MiB at most), a PNG is "not a CSV text file", and a CSV without
     the header the node needs shows the node's 400 detail.
  2. The list says 166, pages of 50 (Next, Previous), a department filter kept in the URL's
     fragment across a reload.
  3. Searching one issue number finds exactly that row; the certificates ZIP of that search
     downloads (one PDF) and is audited; the row opens the credential's page.
  4. On it, Suspend (an Open Badge has no suspension) shows the node's 409 detail; Cancel
     changes nothing; Revoke with a reason (required) shows "revoked" and the reason, and the
     node agrees: GET /v1/credentials/{id}/verification fails its status check as revoked,
     and the list filtered status=revoked holds exactly it, with the reason.
  5. The dashboard shows every department's completion rate (a bar each) and the revoked one;
     its "Anchoring and health" card has the log's size (as GET /v1/health) and, with no chain
     here, says there is no anchor yet; "Download report (PDF)" is summary.pdf in the page's
     language and downloads a PDF.
  6. Export CSV (the button) downloads the UTF-8 BOM and 167 lines; Export XLSX a workbook
     whose sheet "Credentials" has 167 rows (openpyxl); the certificates ZIP of the whole list
     166 PDFs (zipfile); the audit log then has "export: credentials.csv" under the admin's
     user id and name.
  7. The audit page says the chain is intact (data-audit-intact="true", as GET
     /v1/audit/verify), opens on the newest entries (the last is the N the chain check counted;
     Previous goes back, Next returns), lists the export and the revocation under the admin,
     and its date filter works.
  8. People: an invitation shows its enrollment URL once; roles changed, disabled with a
     reason, enabled again; a token created there (90d by default) is shown once, works as a
     bearer token on POST /v1/log/entries, is revoked there and is then refused.
  9. As the auditor, the credential's page shows no Revoke/Suspend/Reinstate, a revoke POSTed
     through the session anyway is 403 (and the credential stays active), and People says it
     needs the admin role.
  10. axe finds no violation at all on any view, in English and Korean; no CSP violation or
      script error in any console; screenshots of every view in both languages in
      $CA_BUILD_DIR/web_admin_console_artefacts (upload-*.png: the upload's steps).
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

c = ca.Checks("web_admin_console")
SRC = os.environ["CA_SOURCE_DIR"]
PEER = os.path.join(SRC, "tests", "interop", "web_admin_console_peer.mjs")
ROSTER = os.path.join(SRC, "tests", "data", "participants-166.csv")
ARTEFACTS = os.environ.get("CA_ARTEFACTS") or os.path.join(
    os.environ.get("CA_BUILD_DIR", tempfile.gettempdir()), "web_admin_console_artefacts")
CONSOLE = ("/admin/", "/admin/credential", "/admin/upload", "/admin/dashboard", "/admin/audit",
           "/admin/people", "/admin/account")
VIEWS = ("upload", "credentials", "credential", "dashboard", "audit", "people", "account",
         "credential-auditor")
TEMPLATE = "security-awareness-2026"
# The bad copy of the roster: (line in the file, the column spoiled, its new value).
BAD = ((11, 2, "not-an-email"), (51, 4, "no-such-course"), (121, 5, "2026-13-45"))
BAD_WORD = {2: "email", 4: "course", 5: "completedAt"}
REASON = "Issued to the wrong person (console test)"


def enc(ref):
    return urllib.parse.quote(ref, safe="")


def run_peer(tmp, node, plan):
    return ca.run_browser_peer(c, PEER, tmp, plan, timeout=400, node=node)


# ---- 0. the pages' headers ----------------------------------------------------------------------

def header_checks(node):
    r = node.get("/admin?lang=ko")
    c.ok(r.status == 308 and r.headers.get("location") == "/admin/?lang=ko",
         f"GET /admin: 308 to the console's home ({r.status} {r.headers.get('location')})")
    for path in CONSOLE:
        q = "?id=urn%3Auuid%3A00000000-0000-0000-0000-000000000000" if path == "/admin/credential" else ""
        r = node.request("GET", path + q, headers={"Accept": "text/html"})
        c.ok(r.status == 200 and r.ctype.startswith("text/html"), f"GET {path}: HTML ({r.status} {r.ctype})")
        csp = r.headers.get("content-security-policy", "")
        d = dict(x.strip().split(" ", 1) for x in csp.split(";") if " " in x.strip())
        c.ok(csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp,
             f"GET {path}: a CSP without unsafe-* ({csp})")
        c.eq((d.get("connect-src"), d.get("form-action"), d.get("frame-ancestors"), d.get("style-src")),
             ("'self'", "'none'", "'none'", "'self'"), f"GET {path}: the admin CSP")
        c.eq(r.headers.get("cache-control"), "no-store", f"GET {path}: Cache-Control")
        c.eq(r.headers.get("x-content-type-options"), "nosniff", f"GET {path}: nosniff")
        html = r.body.decode()
        c.ok(not re.search(r"<script(?![^>]*\b(type=\"(importmap|application/json|module)\"))", html),
             f"GET {path}: no classic inline script")
        c.ok(not re.search(r"<[^>]+\s(on[a-z]+|style)\s*=", html), f"GET {path}: no inline handler or style")
        c.ok("urn:uuid:00000000" not in html, f"GET {path}: the HTML does not echo the query")
        c.eq(node.get(path + "?secret=x").status, 400, f"GET {path}?secret=x: 400")
        r = node.request("GET", path + q, headers={"Accept-Language": "ko-KR,ko;q=0.9"})
        c.ok(r.headers.get("content-language") == "ko" and '<html lang="ko">' in r.body.decode(),
             f"GET {path} with Accept-Language ko: Korean")
    c.eq(node.get("/admin/credential?id=x&lang=en").status, 200, "GET /admin/credential?id=&lang=: 200")


def strings_checks():
    """Every string a console template ({{t:key}}) or module (t.key) names is in
    web/admin/strings.json, in English and in Korean alike."""
    d = os.path.join(SRC, "web", "admin")
    with open(os.path.join(d, "strings.json")) as f:
        s = json.load(f)
    c.eq(sorted(s["ko"]), sorted(s["en"]), "strings.json: the same keys in ko and en")
    named = set()
    for name in os.listdir(d):
        with open(os.path.join(d, name)) as f:
            text = f.read()
        if name.endswith(".html"):
            named |= set(re.findall(r"\{\{t:([^}]+)\}\}", text))
        elif name.endswith(".mjs"):
            named |= set(re.findall(r"\bt\.([A-Za-z]+)\b", text))
    missing = sorted(k for k in named if k not in s["en"] or k not in s["ko"])
    c.ok(len(named) > 150 and not missing, f"strings.json has every string the pages name ({missing})")
    empty = sorted(k for lang in ("en", "ko") for k, v in s[lang].items() if not v.strip())
    c.ok(not empty, f"strings.json: no empty string ({empty})")


# ---- the judging -----------------------------------------------------------------------------------

def no_violations(v, what):
    c.ok(v is not None and not v, f"{what}: axe finds no violation ({v})")


def judge_views(got):
    for step in ("1b upload", "2 list", "4 revoke", "5 dashboard", "7 audit", "8 people", "9 account",
                 "10 auditor"):
        for lang, view in ((got.get(step) or {}).get("views") or {}).items():
            look = view.get("look", {})
            no_violations(view.get("axe"), f"{step} ({look.get('page')}, {lang})")
            c.eq(look.get("lang"), lang, f"{step}: the {lang} page")
            c.ok(look.get("state") == "ready" and not look.get("error"),
                 f"{step} ({lang}): the view is ready without an error ({look.get('state')}, {look.get('error')})")
    for v in VIEWS:
        for lang in ("en", "ko"):
            p = os.path.join(ARTEFACTS, f"{v}-{lang}.png")
            c.ok(os.path.exists(p) and os.path.getsize(p) > 5000, f"screenshot {p}")
    ko = ((got.get("2 list") or {}).get("views") or {}).get("ko", {}).get("look", {})
    c.ok([n.get("text") for n in ko.get("nav", [])] == ["자격 증명", "업로드", "대시보드", "감사 로그", "웹훅",
                                                        "사용자", "템플릿", "내 계정"],
         f"the Korean navigation ({ko.get('nav')})")
    for shot in ("upload-check-ko", "upload-check-en", "upload-summary-en", "upload-progress-en",
                 "upload-too-big-en", "upload-not-text-en"):
        p = os.path.join(ARTEFACTS, f"{shot}.png")
        c.ok(os.path.exists(p) and os.path.getsize(p) > 5000, f"screenshot {p}")


def judge_list(got, admin_name):
    s1 = got.get("1 enroll", {})
    a, au = s1.get("admin", {}), s1.get("auditor", {})
    c.ok(a.get("page") == "admin-credentials" and a.get("path") == "/admin/",
         f"1: after enrolling, the console's home ({a.get('path')}, {a.get('page')})")
    c.eq(a.get("user"), admin_name, "1: the header names the admin")
    c.eq([n["page"] for n in a.get("nav", [])], ["admin-credentials", "admin-upload", "admin-dashboard",
                                                 "admin-audit", "admin-webhooks", "admin-people", "admin-templates",
                                                 "admin-account"],
         "1: the admin's navigation")
    c.eq([n["current"] for n in a.get("nav", [])][0], "page", "1: the list is the current page")
    c.eq([n["page"] for n in au.get("nav", [])], ["admin-credentials", "admin-dashboard", "admin-audit",
                                                  "admin-account"],
         "1: the auditor's navigation has no Upload and no People")
    i = s1.get("issuer", {})
    c.ok(i.get("page") == "admin-upload" and i.get("path") == "/admin/upload",
         f"1: an issuer without the auditor role lands on the upload ({i.get('path')}, {i.get('page')})")
    c.eq([n["page"] for n in i.get("nav", [])], ["admin-upload", "admin-templates", "admin-account"],
         "1: the issuer's navigation: Upload, Templates (read-only) and My account")
    s2 = got.get("2 list", {})
    first, second, back = s2.get("first", {}), s2.get("second", {}), s2.get("back", {})
    c.eq(first.get("total"), "166", "2: the list's total")
    c.eq(len(first.get("rows", [])), 50, "2: a page of 50 rows")
    c.ok(first.get("prevDisabled") and not first.get("nextDisabled"), "2: on page 1 only Next")
    c.eq(len(second.get("rows", [])), 50, "2: Next: 50 more rows")
    c.ok(not set(r["id"] for r in first.get("rows", [])) & set(r["id"] for r in second.get("rows", [])),
         "2: page 2 holds other rows")
    c.ok("offset=50" in s2.get("secondHash", ""), f"2: the page is in the fragment ({s2.get('secondHash')})")
    c.eq([r["id"] for r in back.get("rows", [])], [r["id"] for r in first.get("rows", [])], "2: Previous: page 1 again")
    c.ok(first.get("rows") and re.fullmatch(r"BIZM-202606-\d{4}", first["rows"][0]["cells"][0]) and
         first["rows"][0]["cells"][3] and first["rows"][0]["cells"][-1] == "active",
         f"2: a row: number, recipient, ..., status ({(first.get('rows') or [{}])[0].get('cells')})")
    c.ok("Legal" in first.get("departments", []), f"2: the department filter lists Legal ({first.get('departments')})")
    legal = s2.get("legal", {})
    c.ok(legal.get("total") not in (None, "166") and all(r["cells"][3] == "Legal" for r in legal.get("rows", [])),
         f"2: department Legal: {legal.get('total')} rows, all Legal")
    c.ok("department=Legal" in s2.get("legalHash", ""), "2: the filter is in the fragment")
    c.eq((s2.get("legalReloaded", {}).get("total"), s2.get("legalSelect")), (legal.get("total"), "Legal"),
         "2: a reload keeps the filter")
    c.ok("department=Legal" in (legal.get("csvHref") or "") and "format=csv" in (legal.get("csvHref") or ""),
         f"2: Export CSV carries the filters ({legal.get('csvHref')})")
    judge_sort(s2, legal)
    return legal.get("total")


def judge_sort(s2, legal):
    """The Issued header sorts (issue #17, WAI-ARIA sortable table): newest first on a click,
    aria-sort says so, the address keeps it with the filter, a reload keeps it, back again."""
    ids = lambda v: [r["id"] for r in (v or {}).get("rows", [])]  # noqa: E731
    before, newest, sort = s2.get("sortBefore", {}), s2.get("newest", {}), s2.get("newestSort", {})
    c.eq((before.get("ariaSort"), before.get("sorted"), before.get("button")),
         ("ascending", 1, "Issued ▲"), "2: the Issued header is sorted ascending, a button")
    c.ok(ids(legal) and len(ids(legal)) == int(legal.get("total") or 0) and
         ids(newest) == ids(legal)[::-1],
         f"2: Issued clicked: the Legal rows newest first ({len(ids(newest))} of {legal.get('total')})")
    c.eq((sort.get("ariaSort"), sort.get("mark")), ("descending", "▼"), "2: aria-sort=descending")
    h = s2.get("newestHash", "")
    c.ok("sort=-issued" in h and "department=Legal" in h and "offset" not in h,
         f"2: the address keeps the sort with the filter, from page 1 ({h})")
    c.ok("sort=-issued" in (newest.get("csvHref") or ""), "2: Export CSV in the list's order")
    no_violations(s2.get("newestAxe"), "2 list, sorted newest first")
    rl = s2.get("newestReloaded", {})
    c.eq((ids(rl.get("list")), (rl.get("sort") or {}).get("ariaSort")), (ids(newest), "descending"),
         "2: a reload keeps the order")
    c.ok(ids(s2.get("oldest")) == ids(legal) and
         (s2.get("oldestSort") or {}).get("ariaSort") == "ascending" and
         "sort" not in s2.get("oldestHash", "x"),
         f"2: a second click: oldest first again ({s2.get('oldestHash')})")


def counts(section, *keys):
    return tuple((section or {}).get(k) for k in keys)


def judge_upload(got, bad_ids):
    s = got.get("1b upload", {})
    bf = s.get("badFile", {}).get("upload", {})
    c.eq(bf.get("fileRows"), "166", f"U: the page reads 166 rows from the file ({bf.get('fileInfo')})")
    c.ok(TEMPLATE in [t["value"] for t in bf.get("templates", [])],
         f"U: the template picker lists {TEMPLATE} (GET /v1/templates) ({bf.get('templates')})")
    c.eq((bf.get("templates") or [{}])[0].get("value"), "", "U: by default each row's course column")
    bad = s.get("bad", {})
    chk = bad.get("upload", {}).get("check") or {}
    c.eq(bad.get("look", {}).get("lang"), "ko", "U: the bad roster is checked on the Korean page")
    c.eq(counts(chk, "c-rows", "c-new", "c-existing", "c-enrolled", "c-failed"), ("166", "163", "0", "0", "3"),
         "U: the check: 166 rows, 163 new, 3 with errors")
    errs = chk.get("errors", [])
    c.eq([(e["line"], e["externalId"]) for e in errs], [(line, bad_ids[line]) for line, _, _ in BAD],
         f"U: the three bad rows named by their line in the file and externalId ({errs})")
    for e, (line, col, value) in zip(errs, BAD):
        c.ok(BAD_WORD[col] in e["cells"][2] and value in e["cells"][2],
             f"U: line {line}: the node's message names {BAD_WORD[col]} and {value!r} ({e['cells'][2]})")
    c.ok(chk.get("issueShown") and "163" in (chk.get("next") or ""),
         f"U: Issue is offered for the good rows ({chk.get('next')})")
    no_violations(s.get("badAxe"), "U: the check with errors (ko)")
    forced = s.get("badForced", {}).get("upload", {}).get("check") or {}
    c.eq(counts(forced, "c-new", "c-failed"), ("163", "3"), "U: one template for every row (?template=)")
    c.ok(any(e["line"] == 51 and "names another achievement than the template" in e["cells"][2]
             for e in forced.get("errors", [])),
         f"U: ... line 51's course now names another achievement than the template ({forced.get('errors')})")

    fixed = s.get("fixed", {}).get("upload", {}).get("check") or {}
    c.eq(counts(fixed, "c-rows", "c-new", "c-existing", "c-failed"), ("166", "166", "0", "0"),
         "U: the fixed roster: 166 new")
    iss = s.get("issued", {})
    summ = iss.get("upload", {}).get("summary") or {}
    c.eq(counts(summ, "s-issued", "s-existing", "s-enrolled", "s-failed"), ("166", "0", "0", "0"),
         "U: Issue: the summary says 166 issued")
    c.eq((summ.get("done"), summ.get("total"), summ.get("stopped")), (166, 166, ""), "U: ... all 166 rows sent")
    prog = iss.get("progress") or []
    c.eq([p["value"] for p in prog], [0, 25, 50, 75, 100, 125, 150, 166],
         f"U: the progress bar went up 25 rows at a time ({[p['value'] for p in prog]})")
    c.ok(prog and all(p["max"] == 166 and p["role"] == "progress" for p in prog) and
         all(p["shown"] for p in prog[:-1]), f"U: ... a <progress> of 166, shown while issuing ({prog[:2]})")
    c.ok(prog and prog[-1]["text"] == "166 of 166 rows sent", f"U: ... and says so ({prog[-1:]})")
    c.eq(summ.get("listHref"), "/admin/?lang=en", "U: the summary links to the list")
    c.ok("166" in (iss.get("look", {}).get("notice") or ""), f"U: the notice ({iss.get('look', {}).get('notice')})")
    no_violations(s.get("summaryAxe"), "U: the summary")
    print(f"web_admin_console: 166 rows issued through the page in {iss.get('ms', 0) / 1000:.1f} s", flush=True)

    again = s.get("again", {}).get("upload", {}).get("check") or {}
    c.eq(counts(again, "c-new", "c-existing", "c-failed"), ("0", "166", "0"), "U: the same file again: 166 already issued")
    cancelled = s.get("cancelled", {})
    cs = cancelled.get("upload", {}).get("summary") or {}
    c.ok(cs.get("stopped") == "cancelled" and 0 < (cs.get("done") or 0) < 166 and cs.get("done") % 25 == 0,
         f"U: Cancel stops after the request in flight ({cs.get('stopped')}, {cs.get('done')} of {cs.get('total')})")
    c.eq(counts(cs, "s-issued", "s-existing"), ("0", str(cs.get("done"))), "U: ... those rows already issued")
    c.ok("upload the same file again" in (cs.get("stoppedText") or ""), f"U: ... and says how to finish ({cs.get('stoppedText')})")
    no_violations(cancelled.get("progressAxe"), "U: the page while issuing")
    re2 = s.get("reissued", {}).get("upload", {}).get("summary") or {}
    c.eq(counts(re2, "s-issued", "s-existing", "s-failed"), ("0", "166", "0"),
         "U: Issue again: 0 issued, 166 already issued")


def judge_issuer(got):
    s = got.get("1c issuer", {})
    c.ok(TEMPLATE in [t["value"] for t in s.get("templates", [])], "U: the issuer's template picker")
    big = s.get("big", {})
    c.ok("10 MiB" in (big.get("look", {}).get("error") or "") and "11 MiB" in big["look"]["error"],
         f"U: an 11 MiB file is refused on the page ({big.get('look', {}).get('error')})")
    c.ok(big.get("upload", {}).get("checkDisabled") and not big.get("upload", {}).get("fileRows"),
         "U: ... and cannot be checked")
    png = s.get("png", {})
    c.ok("not a CSV text file" in (png.get("look", {}).get("error") or ""),
         f"U: a PNG is refused as not text ({png.get('look', {}).get('error')})")
    c.ok(png.get("upload", {}).get("checkDisabled"), "U: ... and cannot be checked")
    no_violations(s.get("pngAxe"), "U: the page with the error")
    nh = s.get("noHeader", {}).get("look", {})
    c.ok((nh.get("error") or "").startswith("The node refused the file: ") and "externalId" in nh["error"],
         f"U: a CSV without the header the node needs: the node's 400 detail ({nh.get('error')})")
    c.eq((s.get("homeAgain", {}).get("page"), s.get("homeAgain", {}).get("path")), ("admin-upload", "/admin/upload"),
         "1: the console's home sends the issuer to the upload")
    c.eq(s.get("dashboard", {}).get("needsRole"), "auditor", "1: the dashboard tells the issuer it needs the auditor role")


def judge_search_and_revoke(got, node, target, admin_token):
    s3 = got.get("3 search", {})
    found = s3.get("found", {})
    c.eq(found.get("total"), "1", "3: searching one issue number: total 1")
    c.eq([r["number"] for r in found.get("rows", [])], [target["issueNumber"]], "3: exactly that row")
    z = s3.get("zip", {})
    c.ok(z.get("head") == "504b0304" and z.get("size", 0) > 1000,
         f"3: the certificates ZIP of the search downloads ({z.get('name')}, {z.get('size')} bytes)")
    c.ok(f"q={target['issueNumber']}" in (z.get("url") or ""), f"3: the ZIP link carries the search ({z.get('url')})")
    c.eq(s3.get("none", {}).get("total"), "0", "3: a search matching nothing: total 0")
    c.ok("No credentials match" in (s3.get("noneText") or ""), "3: ... and says so")
    d = s3.get("detail", {})
    c.eq(d.get("look", {}).get("page"), "admin-credential", "3: the row opens the credential's page")
    f = d.get("facts", {})
    c.eq((f.get("number"), f.get("id"), f.get("status")), (target["issueNumber"], target["id"], "active"),
         "3: the credential's page: number, id, active")
    c.ok(f.get("actions") and f.get("revoke") and f.get("suspend") and not f.get("reinstate"),
         f"3: an admin gets Revoke and Suspend ({f})")
    c.eq(f.get("publicPage"), "/c/" + target["id"].removeprefix("urn:uuid:"), "3: the public page link")
    c.eq(f.get("pdf"), f"/v1/credentials/{enc(target['id'])}/certificate.pdf", "3: the PDF link")
    c.eq(node.get(f.get("pdf") or "/").ctype, "application/pdf", "3: the PDF link answers a PDF")
    c.eq(node.get(f.get("publicPage") or "/").status, 200, "3: the public page link answers")

    s4 = got.get("4 revoke", {})
    sus = s4.get("suspend", {})
    c.ok(sus.get("state") == "error" and "no suspension status entry" in (sus.get("error") or ""),
         f"4: Suspend on an Open Badge: the node's 409 detail is shown ({sus.get('error')})")
    c.ok(s4.get("suspendDialog", {}).get("stayedOpenEmpty"), "4: the dialog needs a reason")
    no_violations(s4.get("axeDialog"), "4: the revoke dialog")
    c.eq(s4.get("afterCancel", {}).get("status"), "active", "4: Cancel changes nothing")
    rv = s4.get("revoked", {})
    c.ok(target["issueNumber"] in (s4.get("revokeDialog", {}).get("title") or ""),
         f"4: the dialog names the credential ({s4.get('revokeDialog')})")
    c.eq(rv.get("facts", {}).get("status"), "revoked", "4: after Revoke the page says revoked")
    c.eq(rv.get("facts", {}).get("statusText"), "revoked", "4: ... in words")
    c.eq(rv.get("facts", {}).get("reason"), REASON, "4: ... with the reason")
    c.ok(not rv.get("facts", {}).get("actions"), "4: a revoked credential offers no action")
    c.ok("revoked" in (rv.get("look", {}).get("notice") or ""), f"4: the notice ({rv.get('look', {}).get('notice')})")
    c.ok((s4.get("back") or "").startswith("/admin/?lang=en#") and "q=" in s4.get("back", ""),
         f"4: the way back keeps the search ({s4.get('back')})")
    r = node.get(f"/v1/credentials/{enc(target['id'])}/verification")
    st = r.json().get("checks", {}).get("status", {}) if r.status == 200 else {}
    c.ok(st.get("revoked") is True and st.get("result") == "fail",
         f"4: GET .../verification: the status check fails as revoked ({st})")
    r = node.get("/v1/credentials?status=revoked", token=admin_token)
    rows = r.json().get("credentials", []) if r.status == 200 else []
    c.eq([(x["id"], x.get("statusReason")) for x in rows], [(target["id"], REASON)],
         "4: the list filtered status=revoked: exactly it, with the reason")


def judge_dashboard(got, target_department):
    s5 = got.get("5 dashboard", {})
    a = s5.get("anchor", {})
    size = (s5.get("health") or {}).get("treeSize")
    c.ok(a.get("shown") and a.get("logSize") == str(size) and isinstance(size, int) and size >= 166,
         f"5: the anchoring card shows the log's size as GET /v1/health ({a.get('logSize')}, {size})")
    c.eq((a.get("state"), a.get("warning"), a.get("warningShown")), ("none", "no-anchor", True),
         "5: no chain here: the card says there is no anchor yet")
    c.ok("No anchor yet" in (a.get("warningText") or ""), f"5: ... in words ({a.get('warningText')})")
    c.eq((s5.get("pdfHref"), s5.get("pdfHrefKo")), ("/v1/reports/summary.pdf?lang=en", "/v1/reports/summary.pdf?lang=ko"),
         "5: Download report (PDF) in the page's language")
    pdf = s5.get("pdf", {})
    c.ok(pdf.get("head") == "25504446" and pdf.get("size", 0) > 1000,
         f"5: ... downloads a PDF ({pdf.get('name')}, {pdf.get('size')} bytes)")
    deps = s5.get("departments", [])
    c.ok(len(deps) >= 5, f"5: a row per department ({[d.get('group') for d in deps]})")
    c.ok(all(d.get("rate") and d.get("bar") and d["cells"][3].endswith("%") for d in deps),
         f"5: every department has a rate, a bar and a percentage ({deps[:2]})")
    dep = next((d for d in deps if d.get("group") == target_department), {})
    c.eq((dep.get("cells") or [None] * 5)[4], "1", f"5: {target_department}: one revoked")
    c.eq(s5.get("totals", {}).get("t-issued"), "166", "5: 166 issued in all")
    c.eq(s5.get("totals", {}).get("t-revoked"), "1", "5: one revoked in all")
    c.ok(s5.get("courses") and s5["courses"][0]["group"] == "security-awareness-2026",
         f"5: completion by course ({s5.get('courses')})")


def judge_export_and_audit(got, node, admin_token, admin_id, admin_name, target, tmp):
    s6 = got.get("6 export", {})
    csv = s6.get("csv", {})
    c.ok((csv.get("head") or "").startswith("efbbbf"), f"6: the CSV starts with the UTF-8 BOM ({csv.get('head')})")
    c.eq(csv.get("lines"), 167, "6: the CSV has a header and 166 rows")
    c.ok((csv.get("name") or "").endswith(".csv"), f"6: a .csv file ({csv.get('name')})")
    c.ok("format=xlsx" in (s6.get("xlsxHref") or ""), f"6: the XLSX link ({s6.get('xlsxHref')})")
    xlsx = os.path.join(tmp, "credentials.xlsx")
    try:
        import openpyxl
        wb = openpyxl.load_workbook(xlsx, read_only=True)
        rows = [r for r in wb["Credentials"].iter_rows(values_only=True) if any(v not in (None, "") for v in r)]
        c.eq(len(rows), 167, f"6: Export XLSX: sheet Credentials has a header and 166 rows ({wb.sheetnames})")
    except Exception as e:  # noqa: BLE001 - any failure to read it is the finding
        c.ok(False, f"6: Export XLSX: openpyxl reads the workbook ({type(e).__name__}: {e})")
    try:
        with zipfile.ZipFile(os.path.join(tmp, "certificates.zip")) as z:
            pdfs = [n for n in z.namelist() if n.endswith(".pdf")]
            heads = {z.read(n)[:5] for n in pdfs}
        c.ok(len(pdfs) == 166 and heads == {b"%PDF-"},
             f"6: the certificates ZIP of the whole list holds 166 PDFs ({len(pdfs)}, {heads})")
    except (OSError, zipfile.BadZipFile) as e:
        c.ok(False, f"6: the certificates ZIP opens ({e})")
    r = node.get("/v1/audit?limit=1000", token=admin_token)
    entries = r.json().get("entries", []) if r.status == 200 else []
    exp = [e for e in entries if e.get("detail") == "export: credentials.csv"]
    c.ok(exp and exp[-1].get("userId") == admin_id and exp[-1].get("userName") == admin_name,
         f"6: the audit log has the export under the admin ({exp[-1:] if exp else entries[-3:]})")
    z = [e for e in entries if (e.get("detail") or "").startswith("export: certificates.zip, 1 ")]
    c.ok(z and z[-1].get("userId") == admin_id, f"3: the ZIP export is audited under the admin ({z[-1:]})")
    rv = [e for e in entries if e.get("route", "").endswith("/revoke") and e.get("status") == 200 and
          target["id"] in (e.get("detail") or "")]
    c.ok(rv and rv[-1].get("userId") == admin_id, f"4: the revocation is audited under the admin ({rv[-1:]})")

    s7 = got.get("7 audit", {})
    c.eq(s7.get("intact"), "true", "7: the audit page says the chain is intact")
    v = node.get("/v1/audit/verify", token=admin_token).json()
    c.ok(v.get("intact") is True, f"7: ... as GET /v1/audit/verify ({v})")
    m = re.search(r"\d+", s7.get("intactText") or "")
    then = int(m.group()) if m else -1
    shown = s7.get("entries", [])
    ex = [e for e in shown if e.get("detail") == "export: credentials.csv"]
    c.ok(ex and ex[-1].get("userId") == admin_id and admin_name in ex[-1]["cells"][2],
         f"7: the page lists the export under the admin ({ex[-1:] if ex else shown[-3:]})")
    c.ok(shown and max(e["seq"] for e in shown) == then and s7.get("nextDisabled"),
         f"7: the page opens on the newest entry, the {then} the chain check counted "
         f"({[e['seq'] for e in shown][-3:]}; {s7.get('intactText')})")
    c.eq(len(shown), min(50, then), "7: ... a page of 50")
    if then > 50:
        prev, again = s7.get("previous") or [], s7.get("nextAgain") or []
        c.ok(prev and max(prev) == min(e["seq"] for e in shown) - 1,
             f"7: Previous shows the 50 before ({prev[:1]}..{prev[-1:]})")
        c.eq(again, [e["seq"] for e in shown], "7: Next returns to the newest")
    else:
        c.ok(s7.get("prevDisabled"), "7: one page: no Previous")
    c.eq(s7.get("filtered"), 0, "7: until 2000-01-01: no entries")
    return entries


def judge_people(got, node, base, admin_token):
    s8 = got.get("8 people", {})
    emails = sorted(u["email"] for u in s8.get("users", []))
    c.eq(emails, ["admin@example.com", "audrey@example.com", "isaac@example.com"],
         "8: people: the admin, the auditor and the issuer")
    c.ok(all(u["state"] == "active" for u in s8.get("users", [])), "8: both active")
    c.ok(re.fullmatch(re.escape(base) + r"/admin/enroll#[A-Za-z0-9_-]{16,}", s8.get("enrollUrl") or ""),
         f"8: the invitation's enrollment URL is shown ({s8.get('enrollUrl')}, {s8.get('inviteError')})")
    c.ok("Carol Revoker" in (s8.get("rolesNotice") or ""), f"8: roles saved ({s8.get('rolesNotice')})")
    c.ok(s8.get("disabled", {}).get("state") == "disabled" and "left the team" in " ".join(s8["disabled"]["cells"]),
         f"8: disabled with the reason ({s8.get('disabled')})")
    c.ok(s8.get("enabled", {}).get("state") in ("invited", "active"), f"8: enabled again ({s8.get('enabled')})")
    r = node.get("/v1/users", token=admin_token)
    carol = next((u for u in r.json().get("users", []) if u["email"] == "carol@example.com"), {})
    c.eq(sorted(carol.get("roles", [])), ["auditor", "revoker"], "8: the node has Carol's new roles")
    c.eq(s8.get("expiresDefault"), "90d", "8: a token expires after 90d unless said")
    c.ok(re.fullmatch(r"\S{20,}", s8.get("token") or ""), "8: the new token is shown")
    c.ok(s8.get("tokenRow") and s8["tokenRow"][1] == "console test" and s8["tokenRow"][5] == "active",
         f"8: the token's row ({s8.get('tokenRow')})")
    c.ok(s8.get("appendWithToken") in (200, 201), f"8: the token works on POST /v1/log/entries ({s8.get('appendWithToken')})")
    c.eq(s8.get("appendAfterRevoke"), 401, "8: revoked on the page, the token is refused")
    r = node.get("/v1/tokens", token=admin_token)
    tok = next((t for t in r.json().get("tokens", []) if t["id"] == s8.get("tokenId")), {})
    c.ok(tok.get("status") == "revoked" and tok.get("role") == "issuer" and tok.get("expiresAt"),
         f"8: GET /v1/tokens: issuer, with an expiry, revoked ({tok})")


def judge_auditor(got, node, other, admin_token):
    s10 = got.get("10 auditor", {})
    f = s10.get("facts", {})
    c.eq((f.get("number"), f.get("status")), (other["issueNumber"], "active"), "9: the auditor sees the credential")
    c.ok(not f.get("actions") and s10.get("revokeButtons") == 0, f"9: ... without Revoke/Suspend/Reinstate ({f})")
    c.eq(s10.get("directRevoke", {}).get("status"), 403,
         f"9: a revoke through the auditor's session: 403 ({s10.get('directRevoke')})")
    r = node.get(f"/v1/credentials?q={other['issueNumber']}", token=admin_token)
    c.eq([x["status"] for x in r.json().get("credentials", [])], ["active"], "9: the credential is still active")
    c.eq(s10.get("people", {}).get("needsRole"), "admin", "9: People says it needs the admin role")
    no_violations(s10.get("peopleAxe"), "9: People as the auditor")
    c.eq(s10.get("list", {}).get("total"), "166", "9: the auditor sees the list")
    s11 = got.get("11 console", {})
    for who in ("admin", "auditor", "issuer"):
        lines = s11.get(who)
        bad = [x for x in lines or [] if "Content Security Policy" in x or "CSP violation" in x or
               "integrity" in x.lower() or "pageerror" in x]
        c.ok(lines is not None and not bad, f"10: {who}: no CSP, SRI or script error in the console ({bad})")


def upload_files(tmp):
    """The files the upload page is given: the roster with the BAD rows, 11 MiB of CSV, a PNG,
    a CSV without the columns the node needs. Returns the paths and the bad rows' externalIds."""
    with open(ROSTER, "rb") as f:
        lines = f.read().decode().split("\r\n")
    bad_ids = {}
    for line, col, value in BAD:
        fields = lines[line - 1].split(",")
        bad_ids[line] = fields[0]
        fields[col] = value
        lines[line - 1] = ",".join(fields)
    paths = {"bad": os.path.join(tmp, "participants-166-bad.csv"), "fixed": ROSTER,
             "big": os.path.join(tmp, "participants-big.csv"), "png": os.path.join(tmp, "roster.png"),
             "noHeader": os.path.join(tmp, "no-header.csv")}
    with open(paths["bad"], "wb") as f:
        f.write("\r\n".join(lines).encode())
    with open(paths["big"], "wb") as f:
        row = lines[1].encode() + b"\r\n"
        f.write(lines[0].encode() + b"\r\n" + row * ((11 << 20) // len(row) + 1))
    raw = b"\x00" + b"\xff\x00\x00" * 8  # one row of 8 red pixels

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(paths["png"], "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 1, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    with open(paths["noHeader"], "w") as f:
        f.write("name,mail\nAda,ada@example.com\n")
    return paths, bad_ids


def main():
    if not shutil.which(os.environ.get("CA_CHROMIUM", "chromium")) and \
            not os.path.exists(os.environ.get("CA_CHROMIUM", "/usr/bin/chromium")):
        c.ok(False, "Debian's chromium is not installed (scripts/install-deps installs it)")
        c.finish()
    subprocess.run([os.path.join(SRC, "tests", "interop", "install-peers")], check=True)
    os.makedirs(ARTEFACTS, exist_ok=True)
    port = ca.free_port()
    base = f"http://localhost:{port}"
    env = {"CREDANCHOR_NODE_PUBLIC_URL": base, "CREDANCHOR_CREDENTIALS_ISSUE_PREFIX": "BIZM",
           "CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": os.path.join(SRC, "config", "templates")}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp, ca.Node(roles=("admin", "issuer"), env=env) as node:
        node.start(port=port)
        header_checks(node)
        strings_checks()
        admin_token = node.tokens["admin"]
        files, bad_ids = upload_files(tmp)
        with open(ROSTER) as f:
            roster = [line.split(",") for line in f.read().splitlines()]
        out = ca.run_cli("user", "invite", "--email", "admin@example.com", "--role", "admin",
                         "--name", "Ada Admin", data_dir=node.data_dir, env=node.env).stdout.strip()
        admin_invite = out.splitlines()[-1]
        r = node.request("POST", "/v1/users", body={"email": "audrey@example.com", "name": "Audrey Auditor",
                                                    "roles": ["auditor"]}, token=admin_token)
        c.eq(r.status, 201, f"POST /v1/users: the auditor invited ({r.body[:200]!r})")
        auditor_invite = r.json().get("enrollUrl", "") if r.status == 201 else ""
        r = node.request("POST", "/v1/users", body={"email": "isaac@example.com", "name": "Isaac Issuer",
                                                    "roles": ["issuer"]}, token=admin_token)
        c.eq(r.status, 201, f"POST /v1/users: the issuer invited ({r.body[:200]!r})")
        issuer_invite = r.json().get("enrollUrl", "") if r.status == 201 else ""
        got = run_peer(tmp, node, {"base": base, "artefacts": ARTEFACTS, "tmp": tmp, "adminInvite": admin_invite,
                                   "auditorInvite": auditor_invite, "issuerInvite": issuer_invite,
                                   "upload": dict(files, template=TEMPLATE, targetName=roster[42][1],
                                                  otherName=roster[8][1])})
        up = got.get("1b upload", {})
        target = up.get("target") or {"id": "", "issueNumber": ""}
        other = up.get("other") or {"id": "", "issueNumber": ""}
        r = node.get(f"/v1/credentials?q={target['id']}", token=admin_token)
        target_department = ((r.json().get("credentials") or [{}])[0] if r.status == 200 else {}).get("department")
        users = node.get("/v1/users", token=admin_token).json().get("users", [])
        admin_id = next((u["id"] for u in users if u["email"] == "admin@example.com"), None)
        judge_list(got, "Ada Admin")
        judge_upload(got, bad_ids)
        judge_issuer(got)
        judge_search_and_revoke(got, node, target, admin_token)
        judge_dashboard(got, target_department)
        judge_export_and_audit(got, node, admin_token, admin_id, "Ada Admin", target, tmp)
        judge_people(got, node, base, admin_token)
        judge_auditor(got, node, other, admin_token)
        judge_views(got)
    print(f"web_admin_console: took {time.time() - t0:.1f} s", flush=True)
    c.finish()


if __name__ == "__main__":
    main()
