#!/usr/bin/env python3
"""What the recipient takes away (issue #15, SPEC §8): the PDF certificate and the baked
badges, on a live node.

- certificate.pdf: pdftotext finds the recipient's (Korean) name, the achievement, the issue
  number and the page URL; pdftoppm renders it and zbarimg decodes its QR code to the page
  URL. The layout comes from credentials.certificates_dir (<achievement>.json, else
  default.json, else the built-in one); a broken layout file gets a 500 problem, and the
  node keeps serving the others.
- badge.png: this test's own PNG chunk reader finds the iTXt chunk "openbadgecredential"
  (before IDAT, uncompressed) holding the credential byte for byte as issued; jose (VC-JWT)
  or the Data Integrity check (eddsa-jcs-2022) verifies what it extracted
  (tests/interop/badge_peer.mjs). An achievement whose image is a data: PNG is baked into
  that picture (its size kept).
- badge.svg: xml.etree finds <openbadges:credential> in the OB 3.0 namespace: verify="<JWS>"
  for a VC-JWT, the JSON in its text for a Data Integrity credential; both verify.
- By id they are public; by issue number they need an auditor token (401 without, no-store
  with); unknown ids get 404 problem+json.
"""
import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

c = ca.Checks("takeaway")
SRC = os.environ["CA_SOURCE_DIR"]
TEMPLATES = os.path.join(SRC, "config", "templates")
TEMPLATE = os.path.join(TEMPLATES, "security-awareness-2026.json")
PEER = os.path.join(SRC, "tests", "interop", "badge_peer.mjs")
OB_NS = "https://purl.imsglobal.org/ob/v3p0"


def enc(ref):
    return urllib.parse.quote(ref, safe="")


def png_chunks(data):
    """(type, payload) of every chunk, checking the signature and each CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    out, i = [], 8
    while i < len(data):
        n, t = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + n]
        crc, = struct.unpack(">I", data[i + 8 + n:i + 12 + n])
        assert zlib.crc32(t + body) & 0xffffffff == crc, f"bad CRC in {t}"
        out.append((t.decode(), body))
        i += 12 + n
    return out


def itxt(body):
    """keyword, compression flag, text of an iTXt chunk (PNG 1.2 §11.3.4.5)."""
    key, rest = body.split(b"\0", 1)
    flag, _method = rest[0], rest[1]
    _lang, rest = rest[2:].split(b"\0", 1)
    _tkey, text = rest.split(b"\0", 1)
    return key.decode(), flag, (zlib.decompress(text) if flag else text).decode()


def tiny_png(w, h, rgb=(200, 30, 30)):
    raw = b"".join(b"\0" + bytes(rgb) * w for _ in range(h))

    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def issue_roster(node):
    csv = ("externalId,name,email,department,course,completedAt\n"
           "E-0001,김민지,minji@example.com,Security,security-awareness-2026,2026-06-15\n")
    r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                     body=csv.encode(), headers={"Content-Type": "text/csv"})
    c.eq(r.status, 200, f"batch issue ({r.body[:200]!r})")
    return r.json()["results"][0]


def issue_one(node, fmt, image=None, n=0):
    cred = json.load(open(TEMPLATE))
    cred["credentialSubject"]["id"] = f"did:example:takeaway-{n}"
    if image:
        cred["credentialSubject"]["achievement"]["image"] = {"id": image, "type": "Image"}
        cred["credentialSubject"]["achievement"]["id"] = "urn:credanchor:achievement:with-image"
    r = node.request("POST", "/v1/credentials", token=node.tokens["issuer"],
                     body={"credential": cred, "format": fmt})
    c.eq(r.status, 201, f"issue {fmt} ({r.body[:200]!r})")
    return r.json()


def check_pdf(node, tmp, row):
    r = node.get(f"/v1/credentials/{enc(row['id'])}/certificate.pdf")
    if not c.ok(r.status == 200 and r.ctype == "application/pdf" and r.body[:5] == b"%PDF-",
                f"certificate.pdf: a PDF ({r.status} {r.ctype})"):
        return
    c.eq(r.headers.get("content-disposition"), f'attachment; filename="{row["issueNumber"]}.pdf"',
         "certificate.pdf: named after the issue number")
    pdf = os.path.join(tmp, "cert.pdf")
    with open(pdf, "wb") as f:
        f.write(r.body)
    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True).stdout
    for what, want in (("recipient", "김민지"), ("achievement", "Security Awareness Training 2026"),
                       ("issue number", row["issueNumber"]), ("page URL", row["page"]),
                       ("completion date", "2026-06-15"),
                       ("the layout of this achievement", "보안 교육 수료증")):
        c.ok(want in text, f"certificate.pdf: pdftotext finds the {what} ({want})")
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", pdf, os.path.join(tmp, "cert")],
                   check=True)
    z = subprocess.run(["zbarimg", "-q", "--raw", os.path.join(tmp, "cert.png")],
                       capture_output=True, text=True)
    c.eq(z.stdout.strip(), row["page"], "certificate.pdf: the QR code decodes to the page URL")
    shutil.copy(pdf, os.path.join(artefacts(), "certificate.pdf"))
    shutil.copy(os.path.join(tmp, "cert.png"), os.path.join(artefacts(), "certificate.png"))


def artefacts():
    d = os.environ.get("CA_ARTEFACTS") or os.path.join(
        os.environ.get("CA_BUILD_DIR", tempfile.gettempdir()), "web_page_artefacts")
    os.makedirs(d, exist_ok=True)
    return d


def baked(node, cid, issued_text):
    """The credential extracted from badge.png and badge.svg, checked against issued_text."""
    out = {}
    r = node.get(f"/v1/credentials/{enc(cid)}/badge.png")
    if c.ok(r.status == 200 and r.ctype == "image/png", f"badge.png ({r.status} {r.ctype})"):
        chunks = png_chunks(r.body)
        names = [t for t, _ in chunks]
        texts = [itxt(b) for t, b in chunks if t == "iTXt"]
        ob = [t for t in texts if t[0] == "openbadgecredential"]
        c.ok(len(ob) == 1 and ob[0][1] == 0 and names.index("iTXt") < names.index("IDAT"),
             f"badge.png: one uncompressed iTXt openbadgecredential before IDAT ({names})")
        if ob:
            c.eq(ob[0][2], issued_text, "badge.png: the chunk holds the credential as issued")
            out["png"] = ob[0][2]
        out["png_ihdr"] = struct.unpack(">II", dict(chunks)["IHDR"][:8])
    r = node.get(f"/v1/credentials/{enc(cid)}/badge.svg")
    if c.ok(r.status == 200 and r.ctype == "image/svg+xml", f"badge.svg ({r.status} {r.ctype})"):
        root = ET.fromstring(r.body)
        el = root.find(f"{{{OB_NS}}}credential")
        if c.ok(el is not None, "badge.svg: an <openbadges:credential> element"):
            got = el.get("verify") if el.get("verify") is not None else (el.text or "")
            c.eq(got, issued_text, "badge.svg: the element holds the credential as issued")
            out["svg"] = got
    return out


def main():
    with tempfile.TemporaryDirectory() as tmp:
        certs = os.path.join(tmp, "certificates")
        os.makedirs(certs)
        templates = os.path.join(tmp, "templates")
        os.makedirs(templates)
        shutil.copy(TEMPLATE, templates)
        private = json.load(open(TEMPLATE))
        private["credentialSubject"]["achievement"]["id"] = "urn:credanchor:achievement:private-course"
        private["credanchor"] = {"showRecipientName": False}
        private["issuer"] = {"name": "Template Issuer", "image": {
            "id": "data:image/png;base64," + base64.b64encode(tiny_png(8, 8)).decode(), "type": "Image"}}
        with open(os.path.join(templates, "private-course.json"), "w") as f:
            json.dump(private, f)
        shutil.copy(os.path.join(SRC, "config", "certificates", "security-awareness-2026.json"), certs)
        port = ca.free_port()
        base = f"http://localhost:{port}"
        env = {"CREDANCHOR_NODE_PUBLIC_URL": base,
               "CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": templates,
               "CREDANCHOR_CREDENTIALS_CERTIFICATES_DIR": certs,
               "CREDANCHOR_CREDENTIALS_ISSUER_NAME": "BIZM Security Academy"}
        with ca.Node(roles=("issuer", "auditor"), env=env) as node:
            node.start(port=port)
            row = issue_roster(node)
            check_pdf(node, tmp, row)
            jcs = issue_one(node, "eddsa-jcs-2022", n=1)
            img = issue_one(node, "vc+jwt", image="data:image/png;base64," +
                            base64.b64encode(tiny_png(64, 48)).decode(), n=2)
            items = []
            for name, cred in (("jwt", row), ("jcs", jcs), ("own image", img)):
                issued = node.get(f"/v1/credentials/{enc(cred['id'])}").body.decode()
                got = baked(node, cred["id"], issued)
                for kind in ("png", "svg"):
                    if kind in got:
                        items.append({"name": f"{name} {kind}", "credential":
                                      json.loads(got[kind]) if got[kind].startswith("{") else got[kind]})
                if name == "own image":
                    c.eq(got.get("png_ihdr"), (64, 48), "badge.png: baked into the achievement's own PNG")
                elif name == "jwt":
                    c.eq(got.get("png_ihdr"), (512, 512), "badge.png: the drawn badge by default")
                    with open(os.path.join(artefacts(), "badge.png"), "wb") as f:
                        f.write(node.get(f"/v1/credentials/{enc(cred['id'])}/badge.png").body)
            path = os.path.join(tmp, "badges.json")
            with open(path, "w") as f:
                json.dump({"base": base, "items": items}, f)
            p = subprocess.run(["node", PEER], capture_output=True, text=True, timeout=ca.scaled(60),
                               env=dict(os.environ, CA_BADGES=path),
                               cwd=os.path.join(SRC, "tests", "interop"))
            c.eq(p.returncode, 0, f"badge peer ran ({p.stderr[-1000:]})")
            results = [json.loads(line) for line in p.stdout.splitlines()]
            c.eq(len(results), 6, "six baked credentials extracted")
            for res in results:
                c.ok(res["ok"], f"{res['name']}: the extracted credential verifies ({res['detail']})")
            template_options(node)
            certificates_zip(node)
            bad_input(node, certs, row)
            lookup(node, row)
    c.finish()


def template_options(node):
    """A template's "credanchor" options are not signed, showRecipientName false keeps the
    roster's name out of the credential (and so off the page and certificate), and a template
    issuer object without an id keeps its name and image under the node's DID."""
    csv = ("externalId,name,email,department,course,completedAt\n"
           "P-0001,Hidden Name,hidden@example.com,Legal,private-course,2026-06-20\n")
    r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                     body=csv.encode(), headers={"Content-Type": "text/csv"})
    if not c.eq(r.status, 200, f"batch with the private template ({r.body[:300]!r})"):
        return
    row = r.json()["results"][0]
    if not c.ok("id" in row, f"the private-template row was issued ({row})"):
        return
    cid = row["id"]
    text = node.get(f"/v1/credentials/{enc(cid)}").body.decode()
    cred = json.loads(ca.b64u_dec(text.split(".")[1]))
    c.ok("credanchor" not in cred and "Hidden Name" not in text and
         "Hidden Name" not in json.dumps(cred),
         "showRecipientName false: no name and no template options in the credential")
    did = node.get("/.well-known/did.json").json()["id"]
    c.ok(cred["issuer"].get("id") == did and cred["issuer"].get("name") == "Template Issuer" and
         cred["issuer"].get("image", {}).get("id", "").startswith("data:image/png"),
         f"the template's issuer name and image under the node's DID ({cred['issuer'].get('id')})")
    pdf = node.get(f"/v1/credentials/{enc(cid)}/certificate.pdf").body
    path = os.path.join(node.tmp, "private.pdf")
    with open(path, "wb") as f:
        f.write(pdf)
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True).stdout
    c.ok("Template Issuer" in text and "Hidden Name" not in text,
         "the certificate names the template's issuer and not the hidden recipient")


def certificates_zip(node):
    """GET /v1/reports/certificates.zip (auditor): every selected credential's PDF, named by
    issue number; the list's filters apply; other roles 403, no token 401."""
    import io
    import zipfile
    r = node.get("/v1/reports/certificates.zip", token=node.tokens["auditor"])
    if not c.ok(r.status == 200 and r.ctype == "application/zip",
                f"certificates.zip: 200 application/zip ({r.status} {r.body[:200]!r})"):
        return
    c.eq(r.headers.get("transfer-encoding"), "chunked",
         "certificates.zip is streamed while rendered (chunked, no Content-Length; issue #17)")
    z = zipfile.ZipFile(io.BytesIO(r.body))
    names = sorted(z.namelist())
    listed = node.get("/v1/credentials?limit=100", token=node.tokens["auditor"]).json()["credentials"]
    c.eq(names, sorted(x["issueNumber"] + ".pdf" for x in listed),
         "certificates.zip: one <issue number>.pdf per credential")
    c.ok(all(z.read(n)[:5] == b"%PDF-" for n in names) and z.testzip() is None,
         "certificates.zip: every entry is a PDF, CRCs good (Python zipfile)")
    r = node.get("/v1/reports/certificates.zip?department=Security", token=node.tokens["auditor"])
    z = zipfile.ZipFile(io.BytesIO(r.body))
    c.eq(len(z.namelist()), 1, "certificates.zip?department=Security: the one roster credential")
    c.eq(node.get("/v1/reports/certificates.zip").status, 401, "certificates.zip: no token, 401")
    c.eq(node.get("/v1/reports/certificates.zip", token=node.tokens["issuer"]).status, 403,
         "certificates.zip: an issuer token, 403")
    r = node.get("/v1/reports/certificates.zip?dept=x", token=node.tokens["auditor"])
    c.ok(r.status == 400 and r.is_problem(400), "certificates.zip: an unknown filter, 400")


def lookup(node, row):
    """POST /v1/credentials/lookup (SPEC §8): the recipient's email (any case, spaces
    around) finds the page; a wrong email and an unknown number get the same 404; a flood 429."""
    def ask(body, raw=None):
        return node.request("POST", "/v1/credentials/lookup", body=raw if raw is not None else body,
                            headers={"Content-Type": "application/json"})
    r = ask({"issueNumber": row["issueNumber"], "email": "  MinJi@Example.com "})
    c.ok(r.status == 200 and r.json() == {"id": row["id"], "page": row["page"]} and
         r.headers.get("cache-control") == "no-store",
         f"lookup: the recipient's email finds the page ({r.status} {r.body[:200]!r})")
    wrong = ask({"issueNumber": row["issueNumber"], "email": "someone@example.com"})
    unknown = ask({"issueNumber": row["issueNumber"][:-4] + "9999", "email": "minji@example.com"})
    c.ok(wrong.status == unknown.status == 404 and wrong.body == unknown.body and wrong.is_problem(404),
         f"lookup: a wrong email and an unknown number get the same 404 ({wrong.body!r} / {unknown.body!r})")
    for what, raw in (("not JSON", "{"), ("missing email", json.dumps({"issueNumber": "X"})),
                      ("an extra member", json.dumps({"issueNumber": "X", "email": "a@b", "x": 1})),
                      ("a 400-byte email", json.dumps({"issueNumber": "X", "email": "a@" + "b" * 400}))):
        r = ask(None, raw)
        c.ok(r.status == 400 and r.is_problem(400), f"lookup: {what}: 400 problem ({r.status})")
    r = node.request("POST", "/v1/credentials/lookup", body="issueNumber=x",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    c.eq(r.status, 415, "lookup: a form body: 415")
    statuses = [ask({"issueNumber": row["issueNumber"], "email": f"guess{i}@example.com"})
                for i in range(40)]
    limited = [r for r in statuses if r.status == 429]
    c.ok(limited and all(r.is_problem(429) and int(r.headers.get("retry-after", "0")) > 0 for r in limited),
         f"lookup: a flood of 40 guesses gets 429 with Retry-After ({len(limited)} of 40)")
    c.eq(node.get("/v1/health").status, 200, "lookup: the node still serves")


def bad_input(node, certs, row):
    for route in ("certificate.pdf", "badge.png", "badge.svg"):
        r = node.get(f"/v1/credentials/{enc('urn:uuid:00000000-0000-7000-8000-000000000000')}/{route}")
        c.ok(r.status == 404 and r.is_problem(404), f"{route}: unknown id, 404 problem+json")
        r = node.get(f"/v1/credentials/{row['issueNumber']}/{route}")
        c.ok(r.status == 401 and r.is_problem(401), f"{route}: by issue number without a token: 401")
        r = node.get(f"/v1/credentials/{row['issueNumber']}/{route}", token=node.tokens["auditor"])
        c.ok(r.status == 200 and r.headers.get("cache-control") == "no-store",
             f"{route}: by issue number for an auditor: 200, no-store ({r.status})")
    # A broken layout: 500 problem for that achievement, the node and the others unharmed.
    with open(os.path.join(certs, "security-awareness-2026.json"), "w") as f:
        f.write('{"size": [842, 595], "blocks": [')
    r = node.get(f"/v1/credentials/{enc(row['id'])}/certificate.pdf")
    c.ok(r.status == 500 and r.is_problem(500), f"a broken layout file: 500 problem ({r.status})")
    c.ok("certificate layout" in node.log_text(), "the broken layout is named in the node's log")
    os.remove(os.path.join(certs, "security-awareness-2026.json"))
    r = node.get(f"/v1/credentials/{enc(row['id'])}/certificate.pdf")
    c.ok(r.status == 200 and r.body[:5] == b"%PDF-", "without the file: the built-in layout")
    c.eq(node.get("/v1/health").status, 200, "the node still serves")


if __name__ == "__main__":
    main()
