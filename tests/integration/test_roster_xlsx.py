"""XLSX rosters over HTTP (issue #17, node/roster_xlsx.c): run by tests/cli/roster_xlsx.sh.

1. POST /v1/rosters/csv turns the 166-row roster written by openpyxl (Korean names, real Excel
   date-times, numbers, an empty column, shared and inline rich-text strings, a second sheet)
   into exactly the CSV it holds, names the sheet in Roster-Sheet, and is audited.
2. Node A issues the roster from its CSV, then the same roster as XLSX (POST
   /v1/credentials/batch with the XLSX media type) issues nothing: 166 existing, the same ids,
   the tree unchanged. Node B issues straight from the XLSX: the same issue numbers for the same
   externalIds, and a Korean row's credential carries the same name and awardedDate as node A's.
3. A workbook with 3 bad rows: the dry run names them by their sheet row (4, 7, 10).
4. Refusals, each problem+json with a one-line message: not a ZIP, a binary (PNG) file, a ZIP
   without workbook, an .xlsx without xl/workbook.xml, a zip bomb (a 1 GB sheet of zeros,
   with its true size in the ZIP and with a lying one), a 50 MB body (413 on the headers),
   an encrypted workbook (OLE/CFB with an EncryptedPackage stream), a wrong Content-Type (415),
   an unknown sheet name, ?sheet= choosing the second sheet.
"""
import csv
import io
import os
import socket
import struct
import sys
import tempfile
import threading
import time
import urllib.parse
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402
import roster_xlsx_files as files  # noqa: E402
import xlsx_fixture  # noqa: E402

XLSX = xlsx_fixture.XLSX
TEMPLATES = os.path.join(ca.SRC, "config", "templates")
ENV = {"CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": TEMPLATES}
t = ca.Checks("roster_xlsx")
WORK = tempfile.mkdtemp(prefix="ca-xlsx-")
ROSTER_XLSX, ROSTER_CSV = files.make_roster_166(WORK)
BAD_XLSX, BAD_ROWS = files.make_bad_3(WORK)
with open(ROSTER_XLSX, "rb") as f:
    ROSTER_BYTES = f.read()


def post(node, path, body, ctype=XLSX, token=None):
    return node.request("POST", path, body=body, headers={"Content-Type": ctype},
                        token=token or node.tokens["issuer"])


def rows_of(text):
    return list(csv.reader(io.StringIO(text)))


def detail(r):
    try:
        return r.json().get("detail", "")
    except ValueError:
        return ""


def refused(node, body, status, message, what, path="/v1/rosters/csv", ctype=XLSX):
    t0 = time.monotonic()
    r = post(node, path, body, ctype)
    took = time.monotonic() - t0
    t.eq(r.status, status, f"{what}: status")
    t.ok(r.is_problem(status), f"{what}: problem+json")
    t.ok(message in detail(r), f"{what}: message {message!r} in {detail(r)!r}")
    t.ok("\n" not in detail(r), f"{what}: one line")
    if not message:
        print(f"{what}: {r.status} {detail(r)}")
    return took


def part_convert(a):
    t0 = time.monotonic()
    r = post(a, "/v1/rosters/csv", ROSTER_BYTES)
    took = time.monotonic() - t0
    if not t.eq(r.status, 200, "convert the 166-row roster"):
        print(r.body[:400])
        return
    t.eq(r.ctype, "text/csv; charset=utf-8", "the CSV's media type")
    text = r.body.decode("utf-8")
    t.eq(rows_of(text), rows_of(ROSTER_CSV), "the XLSX reads as the roster's CSV, row for row")
    t.eq(text, ROSTER_CSV, "byte for byte (RFC 4180, CRLF)")
    t.ok("김민준" in text and ",10001," in text, "Korean names and numbers without .0")
    t.eq(r.headers.get("roster-sheet"), "Roster", "Roster-Sheet names the sheet read")
    print(f"figure: 166-row roster ({len(ROSTER_BYTES)} bytes of XLSX) converted in "
          f"{took * 1000:.0f} ms")
    r = a.request("POST", "/v1/rosters/csv", body=ROSTER_BYTES, token=a.tokens["issuer"],
                  headers={"Content-Type": XLSX, "Accept": "application/json"})
    t.eq(r.ctype, "application/json", "Accept: application/json gets JSON (the console's fetch)")
    t.eq(r.json() if r.status == 200 else None, {"csv": ROSTER_CSV, "sheet": "Roster", "rows": 166},
         "the JSON answer: csv, sheet, rows")
    r = post(a, "/v1/rosters/csv?sheet=notes", ROSTER_BYTES)
    t.eq((r.status, r.body), (200, b"this sheet is not the roster\r\n"), "?sheet= picks Notes")
    with open(BAD_XLSX, "rb") as f:
        r = post(a, "/v1/rosters/csv", f.read())
    t.eq(r.headers.get("roster-sheet"), urllib.parse.quote("명단"),
         "Roster-Sheet is percent-encoded UTF-8")
    refused(a, ROSTER_BYTES, 400, "the workbook has no sheet named “Nope” (its sheets: “Roster”, "
            "“Notes”)", "an unknown sheet", path="/v1/rosters/csv?sheet=Nope")
    r = a.get("/v1/audit?limit=200", token=a.tokens["auditor"])
    t.ok(b'roster read: sheet \\"Roster\\", 166 rows' in r.body,
         "the conversion is audited with its sheet and rows")


def results(rep):
    return [(x.get("externalId"), x.get("issueNumber"), x.get("status")) for x in rep["results"]]


def credential_payload(node, cid):
    r = node.get("/v1/credentials/" + urllib.parse.quote(cid, safe=""))
    body = r.body.decode().strip().strip('"')
    return ca.jwt_parts(body)[1] if body.count(".") == 2 else r.json()


def subject_of(node, cid):
    p = credential_payload(node, cid)
    vc = p.get("vc", p)
    s = vc["credentialSubject"]
    names = [i.get("identityHash") for i in s.get("identifier", []) if i.get("identityType") == "name"]
    return names, s.get("awardedDate") or vc.get("awardedDate")


def part_issue(a, b):
    r = post(a, "/v1/credentials/batch", ROSTER_CSV.encode(), "text/csv")
    if not t.eq(r.status, 200, "node A: the roster's CSV"):
        print(r.body[:400])
        return
    rep_csv = r.json()
    t.eq((rep_csv["issued"], rep_csv["failed"]), (166, 0), "node A: 166 issued from the CSV")
    size = a.get("/v1/checkpoint").body
    r = post(a, "/v1/credentials/batch", ROSTER_BYTES)
    t.eq(r.status, 200, "node A: the same roster as XLSX")
    rep = r.json()
    t.eq((rep["issued"], rep["existing"], rep["failed"]), (0, 166, 0),
         "node A: the XLSX after the CSV issues nothing twice")
    t.eq([x.get("id") for x in rep["results"]], [x.get("id") for x in rep_csv["results"]],
         "node A: the XLSX rows answer the CSV's credentials")
    t.eq(a.get("/v1/checkpoint").body, size, "node A: the log did not grow")
    r = post(b, "/v1/credentials/batch", ROSTER_BYTES)
    t.eq(r.status, 200, "node B: the roster straight from XLSX")
    rep_b = r.json()
    t.eq((rep_b["issued"], rep_b["failed"]), (166, 0), "node B: 166 issued from the XLSX")
    t.eq(results(rep_b), results(rep_csv), "node B's issue numbers are node A's, row for row")
    korean = next(i for i, row in enumerate(files.roster_rows()) if row[1] == "김민준")
    got_a = subject_of(a, rep_csv["results"][korean]["id"])
    got_b = subject_of(b, rep_b["results"][korean]["id"])
    t.eq(got_b, got_a, "a Korean row: the same name and awardedDate from XLSX and CSV")
    t.ok(str(got_a[1]).startswith(files.roster_rows()[korean][7][:10]),
         f"awardedDate is the roster's completion date ({got_a[1]})")
    r = post(b, "/v1/credentials/batch", ROSTER_BYTES)
    t.eq((r.json()["issued"], r.json()["existing"]), (0, 166), "node B: XLSX re-run: 166 existing")


def part_bad_rows(a):
    with open(BAD_XLSX, "rb") as f:
        data = f.read()
    r = post(a, "/v1/credentials/batch?dryRun=true", data)
    if not t.eq(r.status, 200, "dry run of the 3-bad-rows workbook"):
        print(r.body[:400])
        return
    rep = r.json()
    t.eq((rep["new"], rep["failed"]), (7, 3), "7 new, 3 failed")
    bad = {x["row"]: x["externalId"] for x in rep["results"] if x["status"] == "error"}
    t.eq(bad, BAD_ROWS, "the bad rows are named by their sheet rows")


def zip_with_sheet(head, fill, mib, tail=b""):
    """A workbook whose sheet is head, mib MiB of the byte fill, then tail, written in pieces
    (never whole in this process's memory)."""
    p = xlsx_fixture.parts([["externalId"]])
    del p["xl/worksheets/sheet1.xml"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in p.items():
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(head)
            piece = fill * (1 << 20)
            for _ in range(mib):
                f.write(piece)
            f.write(tail)
    return buf.getvalue()


def lie_about_sizes(data, name):
    """Writes 1000 as the uncompressed size of entry name in its local header and in the
    central directory (a bomb that hides its size)."""
    b = bytearray(data)
    enc = name.encode()
    for sig, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = b.find(sig)
        while at >= 0:
            if b[at + name_at:at + name_at + len(enc)] == enc:
                struct.pack_into("<I", b, at + size_at, 1000)
            at = b.find(sig, at + 4)
    return bytes(b)


def body_of_50mb(node):
    """A 50 MB Content-Length: answered 413 from the headers, before the body is read."""
    with socket.create_connection(("127.0.0.1", node.port), timeout=ca.scaled(10)) as s:
        s.sendall((f"POST /v1/rosters/csv HTTP/1.1\r\nHost: localhost\r\n"
                   f"Authorization: Bearer {node.tokens['issuer']}\r\nContent-Type: {XLSX}\r\n"
                   f"Content-Length: {50 * 1000 * 1000}\r\n\r\n").encode() + b"PK\x03\x04" * 1024)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < 200:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode("utf-8", "replace")


def part_concurrency(a, slow):
    """Six slow workbooks at once (each inflates 64 MiB before its 413): at most two are read
    at a time, the others get 503 with Retry-After, and none is lost or crashes the node."""
    answers = []

    def one():
        r = post(a, "/v1/rosters/csv", slow)
        answers.append((r.status, r.headers.get("retry-after"), detail(r)))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    statuses = sorted(s for s, _, _ in answers)
    t.ok(len(answers) == 6 and set(statuses) <= {413, 503} and 503 in statuses and
         statuses.count(413) >= 2, f"six at once: 413s and 503s ({statuses})")
    busy = [x for x in answers if x[0] == 503]
    t.ok(all(ra == "1" and "workbooks are being read" in d for _, ra, d in busy),
         f"503s carry Retry-After and say why ({busy[:1]})")


def part_refusals(a):
    refused(a, os.urandom(4096), 400, "not an XLSX file (it is not a ZIP archive)", "random bytes")
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(2048)
    refused(a, png, 400, "not an XLSX file (it is not a ZIP archive)", "a PNG")
    refused(a, ROSTER_CSV.encode(), 400, "not an XLSX file", "a CSV sent as XLSX")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    refused(a, buf.getvalue(), 400, "not an XLSX file (no [Content_Types].xml)", "a plain ZIP")
    p = xlsx_fixture.parts([["externalId"]])
    del p["xl/workbook.xml"]
    refused(a, xlsx_fixture.zip_parts(p), 400, "not an XLSX file (no xl/workbook.xml)",
            "a package without xl/workbook.xml")
    t0 = time.monotonic()
    bomb = zip_with_sheet(b"", b"\0", 1024)
    print(f"figure: the 1 GB bomb is {len(bomb)} bytes zipped (made in "
          f"{time.monotonic() - t0:.1f} s)")
    took = refused(a, bomb, 413, "the XLSX file's sheet is larger than 64 MiB when unpacked",
                   "a zip bomb (1 GB of zeros)")
    t.ok(took < ca.scaled(5), f"the bomb is refused quickly ({took:.2f} s)")
    hidden = lie_about_sizes(bomb, "xl/worksheets/sheet1.xml")
    t.ok(hidden != bomb, "the bomb's sizes were rewritten")
    took = refused(a, hidden, 400, "", "a zip bomb with lying sizes")
    t.ok(took < ca.scaled(5), f"the lying bomb is refused quickly ({took:.2f} s)")
    spaces = zip_with_sheet(b"<worksheet>", b" ", 65, b"</worksheet>")
    took = refused(a, lie_about_sizes(spaces, "xl/worksheets/sheet1.xml"), 413,
                   "the XLSX file's sheet is larger than 64 MiB when unpacked",
                   "65 MiB of well-formed XML behind a lying size")
    print(f"figure: 64 MiB of a hidden bomb inflated and parsed, refused in {took:.2f} s")
    answer = body_of_50mb(a)
    t.ok(answer.startswith("HTTP/1.1 413"), f"a 50 MB body: 413 ({answer[:40]!r})")
    t.ok("the request body is over 10485760 bytes" in answer, "a 50 MB body: the node's cap named")
    cfb = bytearray(4096)
    cfb[:8] = bytes([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
    name = "EncryptedPackage".encode("utf-16-le")
    cfb[1024:1024 + len(name)] = name
    refused(a, bytes(cfb), 400, "an encrypted/password-protected workbook cannot be read",
            "an encrypted workbook")
    refused(a, bytes(cfb[:8]) + bytes(4088), 400, "Excel 97-2003 .xls file cannot be read",
            "an OLE file without EncryptedPackage")
    refused(a, ROSTER_BYTES, 415, "", "text/csv Content-Type on the XLSX route", ctype="text/csv")
    refused(a, os.urandom(512), 400, "not an XLSX file", "the batch route refuses a non-XLSX too",
            path="/v1/credentials/batch")
    refused(a, ROSTER_BYTES, 400, "sheet: not a valid percent-encoded name", "?sheet=%ZZ",
            path="/v1/rosters/csv?sheet=%ZZ")
    refused(a, ROSTER_BYTES, 400, "sheet: not a valid percent-encoded name", "batch ?sheet=%ZZ",
            path="/v1/credentials/batch?sheet=%ZZ")
    refused(a, ROSTER_BYTES, 400, "sheet: at most 255 bytes", "a 300-byte sheet name",
            path="/v1/rosters/csv?sheet=" + "x" * 300)
    part_concurrency(a, lie_about_sizes(spaces, "xl/worksheets/sheet1.xml"))
    r = a.get("/v1/health")
    t.eq(r.status, 200, "the node is healthy after every refusal")


with ca.Node(roles=["issuer", "auditor"], env=ENV) as a, \
        ca.Node(roles=["issuer", "auditor"], env=ENV) as b:
    a.start()
    b.start()
    part_convert(a)
    part_issue(a, b)
    part_bad_rows(a)
    part_refusals(a)
t.finish()
