#!/usr/bin/env python3
"""Achievement templates edited over HTTP (issue #17 "Templates"; node/routes_templates.c):

- GET /v1/templates lists each template with its version (the file's SHA-256, or with a layout
  of its own the SHA-256 of "<template sha>:<layout sha>"), achievement and layout source;
  GET /v1/templates/{name} gives the same version as ETag, the template and the layout;
- PUT needs If-Match (428 without, 412 for another version); every bad input (the OB 3.0
  rules of the edited members, the issuer profile, the layout's members and {fields}, a
  changed achievement id, an over-large image or body) is a 400 with a clear detail or a 413,
  and the file is then byte for byte unchanged;
- roles: an issuer reads but cannot PUT, POST or preview (403), an auditor cannot read;
- a good PUT writes both files, keeps the old bytes under .history/<name>/<time>-<sha>.json,
  answers the new version, and is one audit entry naming both versions (never image bytes);
- "applies to new credentials only": a credential issued before the edit still verifies and
  still says the old name, and its certificate is still drawn in the old design (the layout
  in effect at its validFrom, from .history); one issued after says the new name and the
  issuer profile's name under the node's own did:web, and its PDF shows the new design;
- POST makes a new template (201; 409 for an existing name or achievement id; 400 for a bad
  name); preview.pdf draws an unsaved layout and writes nothing;
- two admins saving from the same version at once: one 200, one 412.
"""
import base64
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import zlib
import struct

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

c = ca.Checks("templates_edit")
NAME = "security-awareness-2026"
ARTEFACTS = os.path.join(os.environ.get("CA_BUILD_DIR", "/tmp"), "templates_edit_artefacts")
os.makedirs(ARTEFACTS, exist_ok=True)


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


def data_uri(mime, data):
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def pdf_text(data, name):
    path = os.path.join(ARTEFACTS, name)
    with open(path, "wb") as f:
        f.write(data)
    return subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True).stdout


tmp = tempfile.mkdtemp(prefix="ca-tmpl-")
TDIR, CDIR = os.path.join(tmp, "templates"), os.path.join(tmp, "certificates")
shutil.copytree(os.path.join(ca.SRC, "config", "templates"), TDIR)
shutil.copytree(os.path.join(ca.SRC, "config", "certificates"), CDIR)
TFILE, CFILE = os.path.join(TDIR, NAME + ".json"), os.path.join(CDIR, NAME + ".json")


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def issue(node, ext, who):
    csv = ("externalId,name,email,department,course,completedAt\n"
           f"{ext},{who},{ext.lower()}@example.com,Security,{NAME},2026-11-20\n")
    r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                     body=csv.encode(), headers={"Content-Type": "text/csv"})
    row = js(r).get("results", [{}])[0]
    c.ok(r.status == 200 and row.get("status") == "issued", f"issue {ext} ({r.body[:160]!r})")
    return row


def signed_credential(node, cid):
    r = node.get(f"/v1/credentials/{urllib.parse.quote(cid, safe='')}")
    body = r.body.decode()
    if body.startswith("{"):
        return json.loads(body)
    payload = body.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


try:
    with ca.Node(roles=["admin", "issuer", "auditor"],
                 env={"CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": TDIR,
                      "CREDANCHOR_CREDENTIALS_CERTIFICATES_DIR": CDIR,
                      "CREDANCHOR_CREDENTIALS_ISSUER_NAME": "Node Default Issuer"}) as node:
        node.start()
        admin, issuer, auditor = (node.tokens[r] for r in ("admin", "issuer", "auditor"))
        path = f"/v1/templates/{NAME}"

        # ---- reading -----------------------------------------------------------------------
        r = node.get("/v1/templates", token=issuer)
        rows = {t["name"]: t for t in js(r).get("templates", [])}
        row = rows.get(NAME, {})
        tsha = hashlib.sha256(file_bytes(TFILE)).hexdigest()
        lsha = hashlib.sha256(file_bytes(CFILE)).hexdigest()
        v0 = hashlib.sha256(f"{tsha}:{lsha}".encode()).hexdigest()
        c.eq(r.status, 200, "GET /v1/templates (issuer): 200")
        c.eq(row.get("version"), v0, "the list's version: SHA-256 of the template and layout hashes")
        c.eq((row.get("achievementName"), row.get("achievementType"), row.get("certificateSource"),
              row.get("issuerName")),
             ("Security Awareness Training 2026", "Certificate", "own", "Node Default Issuer"),
             "the list: achievement, type, layout source, issuer name")
        r = node.get(path, token=issuer)
        g = js(r)
        c.eq(r.status, 200, "GET /v1/templates/{name} (issuer): 200")
        c.eq(r.headers.get("etag"), f'"{v0}"', "ETag is the quoted version")
        c.eq((g.get("version"), g.get("templateSha256"), g.get("certificateSha256"),
              g.get("certificateSource")), (v0, tsha, lsha, "own"),
             "version, both files' hashes, layout source")
        c.eq(g.get("template"), json.load(open(TFILE)), "the template as the file holds it")
        c.eq(g.get("certificate"), json.load(open(CFILE)), "the layout that applies")
        c.eq(node.get(path, token=auditor).status, 403, "an auditor cannot read templates: 403")
        for bad in ("nope", "..%2Fetc", ".hidden", "x.mail"):
            c.eq(node.get(f"/v1/templates/{bad}", token=issuer).status, 404, f"GET {bad}: 404")

        before = issue(node, "E-OLD", "Kim Before")

        # ---- refusals, each leaving the files as they were ----------------------------------
        t_bytes, c_bytes = file_bytes(TFILE), file_bytes(CFILE)
        tmpl, layout = g["template"], g["certificate"]

        def put(body, match=v0, token=admin, raw=None):
            h = {"If-Match": f'"{match}"'} if match else {}
            if raw is not None:
                h["Content-Type"] = "application/json"
                return node.request("PUT", path, body=raw, headers=h, token=token)
            return node.request("PUT", path, body=body, headers=h, token=token)

        def unchanged(what):
            c.ok(file_bytes(TFILE) == t_bytes and file_bytes(CFILE) == c_bytes,
                 f"{what}: both files unchanged")

        r = put({"template": tmpl}, match=None)
        c.ok(r.status == 428 and r.is_problem(428), f"PUT without If-Match: 428 ({js(r).get('detail')})")
        r = put({"template": tmpl}, match="0" * 64)
        c.ok(r.status == 412 and r.headers.get("etag") == f'"{v0}"',
             "PUT with another version: 412 with the current ETag")
        unchanged("428 and 412")

        def edited(fn, base=None):
            t = json.loads(json.dumps(base or tmpl))
            fn(t)
            return t

        ach = lambda t: t["credentialSubject"]["achievement"]  # noqa: E731
        png = tiny_png()
        cases = [
            ("an empty name", edited(lambda t: ach(t).update(name="  ")), None, "name"),
            ("no description", edited(lambda t: ach(t).pop("description")), None, "description"),
            ("criteria without narrative", edited(lambda t: ach(t).update(criteria={})), None,
             "narrative"),
            ("an achievementType off the OB 3.0 list", edited(lambda t: ach(t).update(
                achievementType="Gizmo")), None, "achievementType"),
            ("an http image", edited(lambda t: ach(t).update(image={
                "id": "http://example.org/a.png", "type": "Image"})), None, "https"),
            ("a GIF data URI", edited(lambda t: ach(t).update(image={
                "id": data_uri("image/gif", b"GIF89a...."), "type": "Image"})), None, "data:"),
            ("PNG-typed bytes that are no PNG", edited(lambda t: ach(t).update(image={
                "id": data_uri("image/png", b"<svg/>"), "type": "Image"})), None, "png"),
            ("broken base64", edited(lambda t: ach(t).update(image={
                "id": "data:image/png;base64,@@@@", "type": "Image"})), None, "base64"),
            ("an image over 128 KiB", edited(lambda t: ach(t).update(image={
                "id": data_uri("image/png", png + b"\0" * 120000), "type": "Image"})), None,
             "KiB"),
            ("an Image without type", edited(lambda t: ach(t).update(image={
                "id": "https://example.org/a.png"})), None, "Image"),
            ("an issuer id", edited(lambda t: t.update(issuer={"id": "did:web:evil.example",
                                                               "name": "Evil"})), None, "did:web"),
            ("an http issuer url", edited(lambda t: t.update(issuer={"name": "X",
                                                                     "url": "http://x.example"})),
             None, "issuer.url"),
            ("a changed achievement id", edited(lambda t: ach(t).update(
                id="urn:credanchor:achievement:other")), None, "cannot change"),
            ("a credentialStatus in the template", edited(lambda t: t.update(
                credentialStatus={"type": "x"})), None, "credentialStatus"),
            ("a misspelt layout member", tmpl, dict(layout, colour="#000000"), "colour"),
            ("a layout colour that is no #rrggbb", tmpl,
             dict(layout, border={"color": "blue", "width": 5, "inset": 20}), "border.color"),
            ("a layout {field} the renderer lacks", tmpl,
             dict(layout, blocks=[{"text": "{recipientName}", "x": 1, "y": 1}]), "recipientName"),
            ("a 10-point page", tmpl, dict(layout, size=[10, 10]), "size"),
        ]
        for what, t, lay, word in cases:
            body = {"template": t}
            if lay is not None:
                body["certificate"] = lay
            r = put(body)
            d = js(r).get("detail", "")
            c.ok(r.status == 400 and r.is_problem(400) and word in d, f"{what}: 400 ({d})")
        unchanged("every 400")
        r = put(None, raw=b'{"template": ')
        c.eq(r.status, 400, "a body that is not JSON: 400")
        r = put({"template": tmpl, "extra": 1})
        c.ok(r.status == 400 and "extra" in js(r).get("detail", ""), "an unknown body member: 400")
        # Content-Length over 2 MiB (under node.max_body's 10 MiB): 413 on the headers alone,
        # before a body byte is read (the node closes the connection after it).
        conn = node.conn()
        conn.putrequest("PUT", path)
        for k, v in (("Authorization", "Bearer " + admin), ("Content-Type", "application/json"),
                     ("If-Match", f'"{v0}"'), ("Content-Length", str((2 << 20) + 1))):
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        detail = json.loads(resp.read() or b"{}").get("detail", "")
        conn.close()
        c.ok(resp.status == 413 and "2097152" in detail,
             f"a Content-Length over 2 MiB: 413 before the body ({detail})")
        r = put({"template": tmpl, "pad": "x" * ((2 << 20) - 1000)})
        c.ok(r.status == 400 and "pad" in js(r).get("detail", ""),
             "a body just under 2 MiB is read (and refused for its member: 400)")
        # The same without Content-Length (chunked): 413 at its end.
        conn = node.conn()
        conn.putrequest("PUT", path)
        for k, v in (("Authorization", "Bearer " + admin), ("Content-Type", "application/json"),
                     ("If-Match", f'"{v0}"'), ("Transfer-Encoding", "chunked")):
            conn.putheader(k, v)
        conn.endheaders()
        piece = b"x" * 65536
        for _ in range(40):
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        resp.read()
        conn.close()
        c.eq(resp.status, 413, "a chunked body over 2 MiB: 413")
        unchanged("bad JSON, unknown member, 413")

        # ---- roles -------------------------------------------------------------------------
        c.eq(put({"template": tmpl}, token=issuer).status, 403, "an issuer cannot PUT: 403")
        c.eq(node.request("POST", "/v1/templates", token=issuer,
                          body={"name": "x", "template": tmpl}).status, 403,
             "an issuer cannot POST: 403")
        c.eq(node.request("POST", path + "/preview.pdf", token=issuer, body={}).status, 403,
             "an issuer cannot preview: 403")
        unchanged("403s")

        # ---- preview of an unsaved design ----------------------------------------------------
        lay2 = json.loads(json.dumps(layout))
        lay2["blocks"][1]["text"] = "PREVIEW ONLY DESIGN"
        r = node.request("POST", path + "/preview.pdf", token=admin, body={"certificate": lay2})
        c.ok(r.status == 200 and r.ctype == "application/pdf" and r.body[:5] == b"%PDF-",
             f"preview.pdf: a PDF ({r.status} {r.ctype})")
        text = pdf_text(r.body, "preview.pdf")
        c.ok("PREVIEW ONLY DESIGN" in text and "Hong Gildong" in text,
             "preview: the unsaved design's text and the sample recipient")
        r = node.request("POST", path + "/preview.pdf", token=admin,
                         body={"certificate": dict(lay2, size=[1, 1])})
        c.eq(r.status, 400, "preview of a broken layout: 400")
        unchanged("preview")

        # ---- a good edit ---------------------------------------------------------------------
        new_t = edited(lambda t: (ach(t).update(
            name="Security Awareness Training 2027",
            description="Completed the 2027 course: passkeys, phishing drills and reporting.",
            image={"id": data_uri("image/png", png), "type": "Image", "caption": "badge"}),
            t.update(issuer={"name": "BIZM Security Office", "url": "https://bizm.example/security",
                             "image": {"id": data_uri("image/png", png), "type": "Image"}})))
        lay3 = json.loads(json.dumps(layout))
        lay3["blocks"][1]["text"] = "NEW DESIGN 2027 CERTIFICATE"
        lay3["border"]["color"] = "#8a0a4a"
        r = put({"template": new_t, "certificate": lay3})
        g1 = js(r)
        c.eq(r.status, 200, f"a good PUT: 200 ({g1.get('detail')})")
        v1 = g1.get("version", "")
        tsha1 = hashlib.sha256(file_bytes(TFILE)).hexdigest()
        lsha1 = hashlib.sha256(file_bytes(CFILE)).hexdigest()
        c.eq(v1, hashlib.sha256(f"{tsha1}:{lsha1}".encode()).hexdigest(),
             "the answer's version is the new files'")
        c.eq(r.headers.get("etag"), f'"{v1}"', "and its ETag")
        c.eq(json.load(open(TFILE)), new_t, "the template file holds the edit")
        c.eq(json.load(open(CFILE)), lay3, "the layout file holds the edit")
        hist_t = os.path.join(TDIR, ".history", NAME)
        hist_c = os.path.join(CDIR, ".history", NAME)
        ht = os.listdir(hist_t) if os.path.isdir(hist_t) else []
        hc = os.listdir(hist_c) if os.path.isdir(hist_c) else []
        c.ok(len(ht) == 1 and ht[0].endswith(f"-{tsha}.json") and
             file_bytes(os.path.join(hist_t, ht[0])) == t_bytes,
             f"the old template is kept in .history ({ht})")
        c.ok(len(hc) == 1 and hc[0].endswith(f"-{lsha}.json") and
             file_bytes(os.path.join(hist_c, hc[0])) == c_bytes,
             f"the old layout is kept in .history ({hc})")
        c.ok(not [f for f in os.listdir(TDIR) if f.endswith(".tmp") or f.startswith(".check")],
             "no temp file is left behind")
        c.eq(put({"template": tmpl}).status, 412, "a save from the old version now: 412")
        rows = {t["name"]: t for t in js(node.get("/v1/templates", token=issuer))["templates"]}
        c.eq((rows[NAME]["version"], rows[NAME]["achievementName"], rows[NAME]["issuerName"]),
             (v1, "Security Awareness Training 2027", "BIZM Security Office"),
             "the list shows the new version, name and issuer")

        ents = js(node.get("/v1/audit?limit=1000", token=auditor)).get("entries", [])
        mine = [e for e in ents if e.get("route") == "/v1/templates/{name}" and e.get("status") == 200]
        d = mine[-1].get("detail", "") if mine else ""
        c.ok(len(mine) == 1 and v0 in d and v1 in d and NAME in d and "admin" in
             (mine[-1].get("role") or ""), f"one audit entry with both versions ({d[:120]})")
        c.ok(not any("iVBOR" in (e.get("detail") or "") or "data:image/png;base64,"
                     in (e.get("detail") or "") for e in ents), "no image bytes in the audit log")
        c.ok(any(e.get("route") == "/v1/templates/{name}" and e.get("status") == 412
                 for e in ents), "the refused saves are audited too (412)")

        # ---- new credentials only ------------------------------------------------------------
        after = issue(node, "E-NEW", "Lee After")
        old_c, new_c = signed_credential(node, before["id"]), signed_credential(node, after["id"])
        c.eq(ach(old_c)["name"], "Security Awareness Training 2026",
             "the credential issued before the edit keeps the old name")
        c.eq(ach(new_c)["name"], "Security Awareness Training 2027",
             "the credential issued after says the new name")
        c.eq((new_c["issuer"].get("id"), new_c["issuer"].get("name"), new_c["issuer"].get("url")),
             (node.init["did"], "BIZM Security Office", "https://bizm.example/security"),
             "its issuer: the node's did:web with the template's profile")
        c.eq(old_c["issuer"].get("name"), "Node Default Issuer",
             "the earlier one keeps the node's issuer name")
        for row, what in ((before, "before"), (after, "after")):
            v = js(node.get(f"/v1/credentials/{urllib.parse.quote(row['id'], safe='')}/verification"))
            c.ok(v.get("verified") is True, f"the credential issued {what} the edit verifies "
                 f"({json.dumps(v.get('checks'))[:200]})")
        text = pdf_text(node.get(f"/v1/credentials/{urllib.parse.quote(after['id'], safe='')}"
                                 "/certificate.pdf").body, "after.pdf")
        c.ok("NEW DESIGN 2027 CERTIFICATE" in text and "Training 2027" in text and
             "BIZM Security Office" in text, "the new credential's PDF: the new design and text")
        text = pdf_text(node.get(f"/v1/credentials/{urllib.parse.quote(before['id'], safe='')}"
                                 "/certificate.pdf").body, "before.pdf")
        c.ok("Training 2026" in text and "Training 2027" not in text,
             "the earlier credential's PDF still names the old achievement")
        c.ok("SECURITY TRAINING CERTIFICATE" in text and "NEW DESIGN 2027" not in text,
             "... and is drawn in the design of its issuance (the layout kept in .history)")

        # ---- two saves at once ---------------------------------------------------------------
        results = []

        def save(desc):
            t = edited(lambda x: ach(x).update(description=desc), new_t)
            results.append(put({"template": t}, match=v1).status)
        threads = [threading.Thread(target=save, args=(f"Concurrent edit {i}.",)) for i in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        c.eq(sorted(results), [200, 412], "two saves from one version: one 200, one 412")

        # ---- a new template ------------------------------------------------------------------
        fresh = edited(lambda t: (ach(t).update(id="urn:credanchor:achievement:phishing-101",
                                                name="Phishing 101"), t.pop("issuer", None)),
                       tmpl)
        r = node.request("POST", "/v1/templates", token=admin,
                         body={"name": "phishing-101", "template": fresh})
        g2 = js(r)
        c.ok(r.status == 201 and g2.get("certificateSource") == "built-in" and
             g2.get("version") == hashlib.sha256(file_bytes(os.path.join(TDIR, "phishing-101.json"))).hexdigest(),
             f"POST /v1/templates: 201, the built-in layout, version = the file's SHA-256 ({r.status})")
        r = node.request("POST", "/v1/templates", token=admin,
                         body={"name": "phishing-101", "template": fresh})
        c.eq(r.status, 409, "the same name again: 409")
        r = node.request("POST", "/v1/templates", token=admin,
                         body={"name": "phishing-copy", "template": fresh})
        c.ok(r.status == 409 and "phishing-101" in js(r).get("detail", ""),
             "another name with the same achievement id: 409 naming the template")
        for bad in ("Bad_Name", "", "a" * 65, "../x"):
            r = node.request("POST", "/v1/templates", token=admin, body={"name": bad, "template": fresh})
            c.eq(r.status, 400, f"name {bad[:10]!r}: 400")
        c.ok(not os.path.exists(os.path.join(TDIR, "phishing-copy.json")), "nothing was written for the refusals")
        csv = ("externalId,name,email,department,course,completedAt\n"
               "P-1,Park,p1@example.com,Ops,phishing-101,2026-12-01\n")
        r = node.request("POST", "/v1/credentials/batch", token=issuer, body=csv.encode(),
                         headers={"Content-Type": "text/csv"})
        c.ok(r.status == 200 and js(r)["results"][0].get("status") == "issued",
             "the new template issues at once")
        print("artefacts:", ARTEFACTS)

    # ---- behind nginx with TLS and a path (production's shape) ----------------------------
    # The ETag and If-Match pass through the proxy unchanged (a proxy that weakened the ETag,
    # as nginx's gzip does for bodies it compresses, would make every save a 412), a
    # 1.5 MiB body is within nginx's and the route's caps, and the page loads under the path.
    with ca.NginxFront(tmp, base_path="/credanchor") as front:
        with ca.Node(roles=["admin"], env={"CREDANCHOR_NODE_PUBLIC_URL": front.public_url,
                                            "CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": TDIR,
                                            "CREDANCHOR_CREDENTIALS_CERTIFICATES_DIR": CDIR}) as node:
            node.start()
            front.start(node.port)
            admin = node.tokens["admin"]
            r = front.request("GET", f"/v1/templates/{NAME}", token=admin,
                              headers={"Accept-Encoding": "gzip"})
            g = json.loads(zlib.decompress(r.body, 47) if r.headers.get("content-encoding") == "gzip"
                           else r.body)
            c.eq(r.headers.get("etag"), f'"{g.get("version")}"',
                 "nginx: the ETag arrives strong and equal to the version")
            t = g["template"]
            t["credentialSubject"]["achievement"]["description"] = "Saved through nginx over TLS."
            body = json.dumps({"template": t, "certificate": g["certificate"]}) + " " * (1500 << 10)
            r = front.request("PUT", f"/v1/templates/{NAME}", token=admin, body=body,
                              headers={"If-Match": r.headers.get("etag", ""),
                                       "Content-Type": "application/json"})
            c.eq(r.status, 200, f"nginx: a 1.5 MiB PUT with the ETag as If-Match: 200 ({r.body[:160]!r})")
            r = front.request("PUT", f"/v1/templates/{NAME}", token=admin, body=json.dumps({"template": t}),
                              headers={"If-Match": f'"{g.get("version")}"',
                                       "Content-Type": "application/json"})
            c.eq(r.status, 412, "nginx: the old version again: 412")
            r = front.request("POST", f"/v1/templates/{NAME}/preview.pdf", token=admin, body="{}",
                              headers={"Content-Type": "application/json"})
            c.ok(r.status == 200 and r.body[:5] == b"%PDF-", f"nginx: preview.pdf ({r.status})")
            r = front.request("GET", "/admin/templates?lang=ko", headers={"Accept": "text/html"})
            c.ok(r.status == 200 and b'data-page="admin-templates"' in r.body and
                 b"/credanchor/assets/admin/templates.mjs" in r.body and
                 "script-src 'self'" in r.headers.get("content-security-policy", ""),
                 f"nginx: /admin/templates under the path with the strict CSP ({r.status})")
finally:
    if not os.environ.get("KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)
c.finish()
