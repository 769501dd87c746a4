#!/usr/bin/env python3
"""The admin console's own API (issue #17), server side:

- POST /v1/tokens (admin): 201 with the token once (never again in GET /v1/tokens), the
  default expiry 90 days, a name; the token works at once; POST /v1/tokens/{id}/revoke
  stops it on the next request; bad role, name, expiry and id are clear 400/404s; both
  writes are in the audit log naming the admin, and no token secret is in the log or the
  server's output;
- GET /v1/audit/verify: intact with the entry count (a broken chain is
  tests/unit/test_auth.c's; the route answers it {"intact":false,"entries":null,"detail"});
- GET /v1/credentials?format=xlsx: the workbook (openpyxl reads it), a formula-like name as a
  text cell, dates as dates, a Summary sheet; audited; no file left behind;
- POST /v1/credentials/batch?dryRun=true: per-row errors (bad email, unknown course, bad
  date) by line, nothing issued; after issuing, the same roster is all "existing";
- GET /v1/reports/summary.pdf?lang=en|ko: a printable PDF (pdftotext reads the title, totals,
  departments and the audit chain's state), audited;
- GET /v1/credentials?q=: a whole issue number (any case), part of a name, no match, an
  over-long q; combined with a filter; total counts the matches;
- GET /v1/credentials?sort=-issued (a reverse cursor walk): the same rows as issue order,
  reversed; paging by `after` (the body's next, the Link header) covers every row once in
  both orders, with the counters' total and with a search's counted total; offset; a filter;
  the CSV and XLSX exports in that order; a bad sort is a 400 naming issued and -issued.
"""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

c = ca.Checks("admin_api")
ROSTER = os.path.join(ca.SRC, "tests", "data", "participants-166.csv")
ARTEFACTS = os.path.join(os.environ.get("CA_BUILD_DIR", "/tmp"), "admin_api_artefacts")
os.makedirs(ARTEFACTS, exist_ok=True)


def js(r):
    try:
        return json.loads(r.body)
    except ValueError:
        return {}


def ids(listing):
    return [x["id"] for x in listing.get("credentials", [])]


def walk_pages(node, token, query, limit):
    """Every page of /v1/credentials?query by the `after` cursor; also the Link headers."""
    got, links, after = [], [], None
    for _ in range(1000):
        q = f"{query}&limit={limit}" + (f"&after={after}" if after else "")
        r = node.get(f"/v1/credentials?{q}", token=token)
        page = js(r)
        got += ids(page)
        links.append(r.headers.get("link", ""))
        after = page.get("next")
        if not after:
            break
    return got, links


def csv_ids(body):
    import csv
    import io
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return [x[9] for x in lines[1:]]


def sort_checks(node, auditor, rows, part, dept):
    asc = [x["id"] for x in rows]
    r = js(node.get("/v1/credentials?limit=1000&sort=-issued", token=auditor))
    desc = ids(r)
    c.ok(r.get("total") == 166 and desc == asc[::-1],
         f"sort=-issued: the same 166 rows, reversed ({r.get('total')}, {len(desc)})")
    c.eq(ids(js(node.get("/v1/credentials?limit=1000&sort=issued", token=auditor))), asc,
         "sort=issued is the default order")
    c.ok([x["issuedAt"] for x in r["credentials"]] ==
         sorted((x["issuedAt"] for x in r["credentials"]), reverse=True),
         "... issuedAt never rises down the newest-first list")
    for order, want in (("issued", asc), ("-issued", asc[::-1])):
        got, links = walk_pages(node, auditor, f"sort={order}", 7)
        c.ok(got == want and len(set(got)) == 166,
             f"sort={order}: paging by after, 7 a page, gives every row once in order "
             f"({len(got)} rows, {len(set(got))} distinct)")
        c.ok(all(f"sort={order}" in x for x in links[:-1]) and links[-1] == "",
             f"sort={order}: each Link rel=next keeps the sort ({links[0][:90]})")
    c.eq(ids(js(node.get("/v1/credentials?sort=-issued&offset=5&limit=3", token=auditor))),
         asc[::-1][5:8], "sort=-issued with offset=5: rows 6-8 newest first")
    in_dept = [x["id"] for x in rows if x["department"] == dept]
    r = js(node.get(f"/v1/credentials?department={dept}&sort=-issued&limit=1000",
                    token=auditor))
    c.ok(ids(r) == in_dept[::-1] and r.get("total") == len(in_dept),
         f"department={dept} with sort=-issued: its {len(in_dept)} rows reversed")
    named = [x["id"] for x in rows if part.lower() in x["name"].lower()]
    got, _ = walk_pages(node, auditor, f"q={part}&sort=-issued", 2)
    c.ok(got == named[::-1],
         f"q={part} (a counted total) with sort=-issued, 2 a page: {len(got)} of {len(named)}")
    if named[1:]:
        r = js(node.get(f"/v1/credentials?q={part}&sort=-issued&limit=1&after={named[-1]}",
                        token=auditor))
        c.ok(ids(r) == [named[-2]] and r.get("total") == len(named),
             "... after the newest match comes the one before it; total counts them all")
    r = node.get("/v1/credentials?format=csv&sort=-issued", token=auditor)
    c.ok(r.status == 200 and csv_ids(r.body) == asc[::-1],
         f"the CSV export with sort=-issued streams newest first ({r.status})")
    r = node.get(f"/v1/credentials?format=csv&sort=-issued&after={asc[100]}", token=auditor)
    c.eq(csv_ids(r.body), asc[:100][::-1], "... and after= in it means older than")
    import io
    import openpyxl
    r = node.get("/v1/credentials?format=xlsx&sort=-issued", token=auditor)
    sheet = list(openpyxl.load_workbook(io.BytesIO(r.body))["Credentials"].iter_rows(
        values_only=True))
    c.eq([x[9] for x in sheet[1:]], asc[::-1], "the XLSX export with sort=-issued: newest first")
    for bad in ("name", "", "ISSUED", "-", "issued,-issued", "x" * 40):
        r = node.get(f"/v1/credentials?sort={bad}", token=auditor)
        d = js(r).get("detail", "")
        c.ok(r.status == 400 and r.is_problem(400) and "issued" in d and "-issued" in d,
             f"sort={bad[:12]!r}: 400 naming issued and -issued ({d})")


with ca.Node(roles=["admin", "issuer", "auditor"],
             env={"CREDANCHOR_CREDENTIALS_TEMPLATES_DIR":
                  os.path.join(ca.SRC, "config", "templates")}) as node:
    node.start()
    admin, auditor = node.tokens["admin"], node.tokens["auditor"]

    # Tokens over HTTP.
    r = node.request("POST", "/v1/tokens", token=admin, body={"role": "issuer", "name": "LMS"})
    c.eq(r.status, 201, "POST /v1/tokens: 201")
    t = js(r)
    c.ok(t.get("token", "").startswith(f"ca_{t.get('id')}_"), "the token is shown, with its id")
    c.eq(r.headers.get("cache-control"), "no-store", "the answer with the token is no-store")
    exp = datetime.datetime.fromisoformat(t["expiresAt"].replace("Z", "+00:00"))
    made = datetime.datetime.fromisoformat(t["createdAt"].replace("Z", "+00:00"))
    c.eq((exp - made).days, 90, "the default expiry is 90 days")
    c.eq((t.get("role"), t.get("name"), t.get("status")), ("issuer", "LMS", "active"),
         "role, name and status")
    r = node.append(ca.random_digests(1), token=t["token"])
    c.eq(r.status, 200, "the new token appends at once")
    listed = js(node.get("/v1/tokens", token=admin)).get("tokens", [])
    c.ok(any(x["id"] == t["id"] for x in listed) and all("token" not in x for x in listed),
         "GET /v1/tokens lists it, never a secret")
    r = node.request("POST", "/v1/tokens", token=admin,
                     body={"role": "auditor", "expires": "12h"})
    c.eq(r.status, 201, "a 12 h auditor token")
    r = node.request("POST", f"/v1/tokens/{t['id']}/revoke", token=admin)
    c.ok(r.status == 200 and js(r)["token"]["status"] == "revoked", "revoke: 200, revoked")
    c.eq(node.append(ca.random_digests(1), token=t["token"]).status, 401,
         "the revoked token is refused on the next request")
    for what, body, want in (("an unknown role", {"role": "root"}, 400),
                             ("no role", {"name": "x"}, 400),
                             ("a name that is not a string", {"role": "issuer", "name": 5}, 400),
                             ("a 200-byte name", {"role": "issuer", "name": "n" * 200}, 400),
                             ("an expiry that is not a duration",
                              {"role": "issuer", "expires": "soon"}, 400),
                             ("an expiry past ten years", {"role": "issuer", "expires": "4000d"},
                              400)):
        r = node.request("POST", "/v1/tokens", token=admin, body=body)
        c.ok(r.status == want and r.is_problem(want), f"{what}: {want} ({js(r).get('detail')})")
    r = node.request("POST", "/v1/tokens/0123456789abcdef/revoke", token=admin)
    c.ok(r.status == 404 and r.is_problem(404), "revoking an unknown token: 404")
    r = node.request("POST", "/v1/tokens/..%2F/revoke", token=admin)
    c.eq(r.status, 404, "revoking a malformed id: 404")

    # The achievement templates (the upload's course picker).
    r = node.get("/v1/templates", token=node.tokens["issuer"])
    t0 = js(r).get("templates", [{}])[0]
    c.ok(r.status == 200 and t0.get("name") == "security-awareness-2026" and
         t0.get("achievementId", "").startswith("urn:credanchor:achievement:"),
         f"GET /v1/templates: the course names and achievements ({t0})")
    c.eq(node.get("/v1/templates", token=auditor).status, 403, "GET /v1/templates as an auditor")

    # The audit chain's check.
    r = node.get("/v1/audit/verify", token=auditor)
    v = js(r)
    c.ok(r.status == 200 and v.get("intact") is True and v.get("entries", 0) >= 5,
         f"GET /v1/audit/verify: intact ({v})")
    ents = js(node.get("/v1/audit?limit=1000", token=auditor)).get("entries", [])
    made = [e for e in ents if (e.get("detail") or "").startswith(f"created token {t['id']}")]
    c.ok(len(made) == 1 and made[0].get("status") == 201 and made[0].get("role") == "admin",
         "the creation is audited with the admin token")
    c.ok(any(e.get("detail") == f"revoked token {t['id']}" for e in ents),
         "the revocation is audited")

    # The roster's dry run (the console's upload preview): 3 bad rows named, nothing issued;
    # after the fix the real run issues 166; the same roster again is all "existing".
    roster = open(ROSTER, "rb").read().decode()
    lines = roster.splitlines()
    bad = list(lines)
    bad[5] = bad[5].replace("@", " at ")                       # an email that is not one
    bad[9] = ",".join(bad[9].split(",")[:4] + ["no-such-course"] + bad[9].split(",")[5:])
    bad[12] = ",".join(bad[12].split(",")[:5] + ["not-a-date"])
    dry = node.request("POST", "/v1/credentials/batch?dryRun=true", token=node.tokens["issuer"],
                       headers={"Content-Type": "text/csv"}, body="\n".join(bad).encode())
    d = js(dry)
    c.ok(dry.status == 200 and d.get("dryRun") is True and d.get("failed") == 3 and
         d.get("new") == 163, f"dry run: 3 bad rows, 163 new ({ {k: d.get(k) for k in ('new', 'existing', 'failed')} })")
    errs = sorted(x["row"] for x in d.get("results", []) if x["status"] == "error")
    c.eq(errs, [6, 10, 13], "... the bad rows by line number, each with its reason")
    c.eq(js(node.get("/v1/credentials?limit=1", token=auditor)).get("total"), 0,
         "a dry run issues nothing")
    r = node.request("POST", "/v1/credentials/batch?dryRun=maybe", token=node.tokens["issuer"],
                     headers={"Content-Type": "text/csv"}, body=roster.encode())
    c.eq(r.status, 400, "dryRun=maybe: 400")

    # Search.
    r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                     headers={"Content-Type": "text/csv"}, body=open(ROSTER, "rb").read())
    c.eq(r.status, 200, "the 166-row roster is issued")
    d = js(node.request("POST", "/v1/credentials/batch?dryRun=true", token=node.tokens["issuer"],
                        headers={"Content-Type": "text/csv"}, body=roster.encode()))
    c.ok(d.get("existing") == 166 and d.get("new") == 0,
         "the same roster's dry run afterwards: 166 existing, 0 new")
    rows = js(node.get("/v1/credentials?limit=1000", token=auditor)).get("credentials", [])
    c.eq(len(rows), 166, "166 listed")
    one = rows[37]
    r = js(node.get(f"/v1/credentials?q={one['issueNumber'].lower()}", token=auditor))
    c.ok(r.get("total") == 1 and r["credentials"][0]["id"] == one["id"],
         f"q = the issue number in lower case finds it ({r.get('total')})")
    part = one["name"].split()[0][1:4].upper()
    want = sum(1 for x in rows if part.lower() in x["name"].lower())
    r = js(node.get(f"/v1/credentials?q={part}", token=auditor))
    c.ok(r.get("total") == want and want >= 1,
         f"q = part of a name ({part!r}) in another case: {r.get('total')} of {want}")
    dept = one["department"]
    want = sum(1 for x in rows if part.lower() in x["name"].lower() and x["department"] == dept)
    r = js(node.get(f"/v1/credentials?q={part}&department={dept}", token=auditor))
    c.eq(r.get("total"), want, "q with a department filter")
    r = js(node.get(f"/v1/credentials?q={one['id']}", token=auditor))
    c.ok(r.get("total") == 1 and r["credentials"][0]["id"] == one["id"],
         "q = the credential id finds it (the console's detail page)")
    r = js(node.get("/v1/credentials?q=nobody-at-all", token=auditor))
    c.eq(r.get("total"), 0, "no match: total 0")
    r = node.get("/v1/credentials?q=" + "x" * 200, token=auditor)
    c.ok(r.status == 400 and r.is_problem(400), "an over-long q: 400")

    # Sorting (issue #17): newest first is the same walk down the table.
    sort_checks(node, auditor, rows, part, dept)

    # Exports (issue #17): XLSX through libxlsxwriter, read back with openpyxl; a name that
    # looks like a formula stays text in the XLSX and is neutralised in the CSV.
    evil = "=HYPERLINK(\"http://evil.example\",\"x\")"
    roster = ("externalId,name,email,department,course,completedAt\n"
              f"X-1,\"{evil.replace(chr(34), chr(34) * 2)}\",x1@example.com,Sales,"
              "security-awareness-2026,2026-06-03\n")
    r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                     headers={"Content-Type": "text/csv"}, body=roster.encode())
    c.eq(r.status, 200, "a row whose name is a formula is issued")
    r = node.get("/v1/credentials?format=xlsx", token=auditor)
    c.ok(r.status == 200 and r.ctype.startswith("application/vnd.openxmlformats"),
         f"format=xlsx: 200 ({r.status} {r.ctype})")
    c.ok(".xlsx" in r.headers.get("content-disposition", ""), "... as an .xlsx attachment")
    import io
    import openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(r.body))
    ws = wb["Credentials"]
    rows = list(ws.iter_rows(values_only=True))
    c.eq(len(rows), 168, "the Credentials sheet: a header and 167 rows")
    c.eq(rows[0][:3], ("issueNumber", "name", "type"), "its header is the CSV's")
    cell = next(x for x in ws.iter_rows(min_row=2) if x[1].value == evil)[1]
    c.eq(cell.data_type, "s", "the formula-like name is a text cell, not a formula")
    c.ok(isinstance(rows[1][4], datetime.datetime), f"issueDate is an Excel date ({rows[1][4]!r})")
    summary = [r for r in wb["Summary"].iter_rows(values_only=True)]
    c.ok(summary[0][:2] == ("total", "issued") and summary[1][1] == 167,
         f"the Summary sheet's total ({summary[:2]})")
    r = node.get("/v1/credentials?format=csv&bom=true", token=auditor)
    line = next(x for x in r.body.decode("utf-8-sig").splitlines() if "HYPERLINK" in x)
    c.ok("\"'=HYPERLINK" in line, f"the CSV neutralises it ({line[:60]})")
    r = node.get("/v1/credentials?format=xlsx&status=bogus", token=auditor)
    c.ok(r.status == 400 and r.is_problem(400), "format=xlsx with a bad filter: 400")
    r = node.get("/v1/credentials?format=pdf", token=auditor)
    c.ok(r.status == 400 and "xlsx" in js(r).get("detail", ""), "an unknown format: 400 naming xlsx")
    # The summary as a printable PDF, read back with pdftotext (poppler-utils).
    import subprocess
    for lang, title in (("en", "Credential completion report"), ("ko", "자격증명 이수 보고서")):
        r = node.get(f"/v1/reports/summary.pdf?lang={lang}", token=auditor)
        c.ok(r.status == 200 and r.ctype == "application/pdf" and r.body[:5] == b"%PDF-",
             f"summary.pdf?lang={lang}: a PDF ({r.status} {r.ctype})")
        pdf_path = os.path.join(node.tmp, f"summary-{lang}.pdf")
        with open(pdf_path, "wb") as f:
            f.write(r.body)
        txt = subprocess.run(["pdftotext", "-layout", pdf_path, "-"], capture_output=True,
                             text=True).stdout
        c.ok(title in txt and "167" in txt and dept in txt,
             f"summary.pdf ({lang}): the title, the total 167 and the departments ({txt[:160]!r})")
        if lang == "en":
            c.ok("hash chain intact" in txt, "summary.pdf: the audit chain's state")
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", pdf_path,
                            os.path.join(ARTEFACTS, "summary-en")], check=False)
    r = node.get("/v1/reports/summary.pdf?lang=fr", token=auditor)
    c.ok(r.status == 400 and r.is_problem(400), "summary.pdf?lang=fr: 400")
    c.eq(node.get("/v1/reports/summary.pdf", token=node.tokens["issuer"]).status, 403,
         "summary.pdf with an issuer token: 403")
    ents = js(node.get("/v1/audit?limit=1000", token=auditor)).get("entries", [])
    c.ok(any(e.get("detail") == "export: summary.pdf" for e in ents), "the PDF export is audited")
    c.ok(any(e.get("detail") == "export: credentials.xlsx" and e.get("method") == "GET"
             for e in ents), "the XLSX export is audited")
    c.eq([f for f in os.listdir(node.data_dir) if f.startswith("export-")], [],
         "no export file is left in the data dir")

    node.stop()
    log = open(node.log_path, errors="replace").read()
    c.ok(t["token"][20:] not in log, "no token secret in the server's output")

c.finish()
