#!/usr/bin/env python3
"""The console's template editor in the browser (issue #17 "Templates"; web/admin/templates.mjs),
in Debian's Chromium (tests/interop/web_admin_templates_peer.mjs over console_lib.mjs), judged
here with the node's files, API and audit log:

  1. An admin and an issuer (no other role) enroll passkeys.
  2. The admin's list: the template with its achievement, type, layout source and version
     (GET /v1/templates'), "Templates" in the navigation; axe in English and Korean.
  3. Edit: the description, the issuer name, an uploaded PNG (its preview shown), the border
     colour (the layout's JSON follows the field); "Preview certificate" gets a PDF from the
     node (pdftotext finds the UNSAVED description and issuer name) linked as a blob URL, and
     nothing is written; axe with the form open.
  4. Save: a confirmation that says it applies to credentials issued from now on (axe with
     it open); after it the files hold the edit (template and layout), the list shows the
     new version, and the audit log names the person with both versions.
  5. Someone else saves first (by token): the browser's next save shows the conflict
     message (412) and the file keeps the other save.
  6. The issuer (Korean): the list and the form read-only, no Save, no Preview.
  7. No CSP violation or script error in any console; screenshots in
     $CA_BUILD_DIR/web_admin_templates_artefacts.
"""
import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

c = ca.Checks("web_admin_templates")
SRC = os.environ["CA_SOURCE_DIR"]
PEER = os.path.join(SRC, "tests", "interop", "web_admin_templates_peer.mjs")
NAME = "security-awareness-2026"
ARTEFACTS = os.environ.get("CA_ARTEFACTS") or os.path.join(
    os.environ.get("CA_BUILD_DIR", tempfile.gettempdir()), "web_admin_templates_artefacts")
DESCRIPTION = "Edited in the browser: passkeys, phishing drills and reporting (2027)."
ISSUER = "Browser Security Office"


def js(r):
    try:
        return json.loads(r.body)
    except ValueError:
        return {}


def tiny_png(w=4, h=4, rgb=(10, 74, 138)):
    raw = b"".join(b"\0" + bytes(rgb) * w for _ in range(h))

    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def run_peer(tmp, node, plan):
    out = ca.run_browser_peer(c, PEER, tmp, plan, timeout=150, node=node, artefacts=ARTEFACTS)
    c.ok(len(out) == 7, f"every step reported ({sorted(out)})")
    return out


def invite(node, email, name, roles):
    r = node.request("POST", "/v1/users", body={"email": email, "name": name, "roles": roles},
                     token=node.tokens["admin"])
    c.eq(r.status, 201, f"POST /v1/users: {name} invited ({r.body[:200]!r})")
    return js(r).get("enrollUrl", "")


def no_violations(v, what):
    c.ok(v is not None and not v, f"{what}: axe finds no violation ({v})")


def pdf_text(b64, name):
    path = os.path.join(ARTEFACTS, name)
    with open(path, "wb") as f:
        f.write(base64.b64decode(b64 or ""))
    return subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True).stdout


def main():
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    os.makedirs(ARTEFACTS)
    tmp = tempfile.mkdtemp(prefix="ca-webtmpl-")
    tdir, cdir = os.path.join(tmp, "templates"), os.path.join(tmp, "certificates")
    shutil.copytree(os.path.join(SRC, "config", "templates"), tdir)
    shutil.copytree(os.path.join(SRC, "config", "certificates"), cdir)
    tfile, cfile = os.path.join(tdir, NAME + ".json"), os.path.join(cdir, NAME + ".json")
    port = ca.free_port()
    base = f"http://localhost:{port}"
    try:
        with ca.Node(roles=["admin", "auditor"], env={
                "CREDANCHOR_NODE_PUBLIC_URL": base, "CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": tdir,
                "CREDANCHOR_CREDENTIALS_CERTIFICATES_DIR": cdir}) as node:
            node.start(port=port)
            v0 = js(node.get(f"/v1/templates/{NAME}", token=node.tokens["admin"]))["version"]
            plan = {"base": base, "artefacts": ARTEFACTS, "name": NAME, "adminToken": node.tokens["admin"],
                    "adminInvite": invite(node, "ana@bizm.example", "Ana Admin", ["admin"]),
                    "issuerInvite": invite(node, "ian@bizm.example", "Ian Issuer", ["issuer"]),
                    "description": DESCRIPTION, "issuerName": ISSUER,
                    "pngBase64": base64.b64encode(tiny_png()).decode()}
            got = run_peer(tmp, node, plan)
            judge(got, node, tfile, cfile, v0)
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


def judge(got, node, tfile, cfile, v0):
    s2 = got.get("2 list", {})
    for lang, view in (s2.get("views") or {}).items():
        no_violations(view.get("axe"), f"2: the list ({lang})")
        look = view.get("look", {})
        c.ok(look.get("lang") == lang and look.get("state") == "ready" and not look.get("error"),
             f"2: the list ({lang}) is ready without an error ({look.get('error')})")
    c.ok(any(n.get("page") == "admin-templates" and n.get("current") == "page" for n in s2.get("nav", [])),
         f"2: Templates in the navigation, current ({s2.get('nav')})")
    row = next((r for r in s2.get("rows", []) if r["name"] == NAME), {})
    c.ok(row.get("version") == v0 and "Security Awareness Training 2026" in row.get("cells", [[]])[1] and
         "Certificate" in row.get("cells", []) and row.get("button") == "수정",
         f"2: the list row (Korean, the last one drawn): achievement, type, version, 수정 ({row})")

    s3 = got.get("3 edit and preview", {})
    b, a = s3.get("before", {}), s3.get("after", {})
    c.eq((b.get("name"), b.get("type")), ("Security Awareness Training 2026", "Certificate"),
         "3: the form shows the template's name and type")
    c.ok(a.get("imagePreview") and s3.get("layoutHasColour"),
         "3: the uploaded PNG is previewed; the layout JSON follows the colour field")
    p = s3.get("preview", {})
    c.ok(p.get("status") == 200 and p.get("type") == "application/pdf" and p.get("head") == "%PDF-" and
         (a.get("previewLink") or {}).get("bytes") == p.get("bytes") and
         (a.get("previewLink") or {}).get("href") == "blob:",
         f"3: Preview: a PDF from the node behind a blob: link ({a.get('previewLink')})")
    text = pdf_text(p.get("pdfBase64"), "preview.pdf")
    c.ok("passkeys, phishing drills" in text and ISSUER in text,
         "3: the preview draws the UNSAVED description and issuer name")
    no_violations(s3.get("axe"), "3: the edit form")

    s4 = got.get("4 save", {})
    d = s4.get("dialog", {})
    c.ok("from now on" in d.get("text", "") and NAME in d.get("title", ""),
         f"4: the confirmation says it applies from now on ({d})")
    no_violations(s4.get("dialogAxe"), "4: the save dialog")
    tmpl, layout = json.load(open(tfile)), json.load(open(cfile))
    ach = tmpl["credentialSubject"]["achievement"]
    c.eq((ach.get("description"), tmpl.get("issuer", {}).get("name")), (DESCRIPTION, ISSUER),
         "4: the template file holds the browser's description and issuer name")
    c.ok((ach.get("image") or {}).get("id", "").startswith("data:image/png;base64,iVBOR"),
         "4: ... and the uploaded image as a data: URI")
    c.eq(layout.get("border", {}).get("color"), "#8a0a4a", "4: the layout file holds the border colour")
    v1 = s4.get("form", {}).get("version")
    c.ok(v1 and v1 != v0 and "saved" in s4.get("form", {}).get("notice", ""),
         f"4: a new version and the saved notice ({s4.get('form', {}).get('notice')})")
    c.ok(any(r["name"] == NAME and r.get("version") == v1 for r in s4.get("rows", [])),
         "4: the list shows the new version")
    ents = js(node.get("/v1/audit?limit=1000", token=node.tokens["auditor"])).get("entries", [])
    saved = [e for e in ents if e.get("route") == "/v1/templates/{name}" and e.get("status") == 200]
    c.ok(saved and saved[0].get("userName") == "Ana Admin" and v0 in saved[0].get("detail", "")
         and v1 in saved[0].get("detail", ""),
         f"4: the audit entry names the person and both versions ({saved[:1]})")

    s5 = got.get("5 conflict", {})
    c.eq(s5.get("otherStatus"), 200, "5: someone else's save by token: 200")
    c.ok("Someone else saved" in s5.get("form", {}).get("error", ""),
         f"5: the browser's save shows the conflict ({s5.get('form', {}).get('error')})")
    crit = json.load(open(tfile))["credentialSubject"]["achievement"]
    c.ok(crit["criteria"]["narrative"] == "Changed elsewhere first." and
         "must be refused" not in crit["description"], "5: the file keeps the other save")
    no_violations(s5.get("axe"), "5: the conflict message")

    s6 = got.get("6 issuer", {})
    for lang, view in (s6.get("views") or {}).items():
        no_violations(view.get("axe"), f"6: the issuer's list ({lang})")
    f = s6.get("form", {})
    c.ok(f.get("card") and not f.get("save") and not f.get("preview") and f.get("readOnlyNote") and
         f.get("disabled"), f"6: the issuer sees the form read-only, no Save, no Preview ({f})")
    c.ok(any(r.get("button") == "보기" for r in s6.get("rows", [])),
         "6: the issuer's Korean list offers View (보기), not Edit")
    no_violations(s6.get("axe"), "6: the read-only form (ko)")

    s7 = got.get("7 console", {})
    for who in ("admin", "issuer"):
        lines = s7.get(who)
        bad = [x for x in lines or [] if "Content Security Policy" in x or "CSP violation" in x or
               "integrity" in x.lower() or "pageerror" in x]
        c.ok(lines is not None and not bad, f"7: {who}: no CSP, SRI or script error ({bad})")
    for shot in ("templates-list-en", "templates-list-ko", "templates-edit-en", "templates-save-dialog-en",
                 "templates-saved-en", "templates-conflict-en", "templates-issuer-list-ko",
                 "templates-issuer-view-ko"):
        p = os.path.join(ARTEFACTS, f"{shot}.png")
        c.ok(os.path.exists(p) and os.path.getsize(p) > 5000, f"screenshot {p}")


main()
c.finish()
