#!/usr/bin/env python3
"""The credential's public page (issue #15, SPEC §8) in Debian's Chromium
(tests/interop/web_page_peer.mjs, playwright-core with executablePath, @axe-core/playwright).

Run 1, http://localhost:<port> with a real anvil (page.rpc_urls = anvil):
- The page and `credanchor verify --rpc` on the same bytes (good, revoked, expired,
  unanchored, ES256K, eddsa-jcs-2022, a tampered VC-JWT and one signed by another key): the
  same result for every check, and no failed check exactly when verify exits 0.
- `page` is in every issuance answer (single and batch) and opens the page.
- Good (a roster row with a Korean name, EdDSA VC-JWT), ES256K, eddsa-jcs-2022, revoked,
  expired and unanchored credentials: each check's data-result equals the node's own
  verification (the code `credanchor verify` runs) and the verdict follows; the revoked and
  expired ones show the banner.
- Forgeries rewritten in flight (Playwright route): a tampered credential, a status list with a
  flipped bit and the old proof, another leaf's proof, a checkpoint signed by another key,
  and anchor calldata naming another root: each turns the page "invalid" with that step
  failing.
- /verification faked to say "verified" for the revoked credential: the page still says
  revoked, and never asked for it.
- A verify.mjs with one changed line (SRI): the browser refuses to run it; no verdict.
- A JSON-RPC URL the CSP does not allow, typed into the page: the anchor stays pending.
- English and Korean pages, screenshots kept in the test's artefacts dir
  ($CA_ARTEFACTS or build/web_page_artefacts), and axe: no serious or critical violations.
- The in-browser verification takes under 1 s (data-duration-ms), printed.
- Headers: CSP without inline script ('self' + the import map's hash), connect-src = the node
  and page.rpc_urls, frame-ancestors 'none', no-referrer; unknown ids get an HTML 404 for
  browsers and problem+json for API clients; a huge or binary Accept-Language is harmless.
Run 2, behind nginx with TLS at https://localhost:<port> (docs/nginx-reverse-proxy.conf):
  the page checks signature, status and inclusion through nginx (Chromium trusts exactly the
  test certificate's key), with HSTS, and its did:web is the https one.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

c = ca.Checks("web_page")
SRC = os.environ["CA_SOURCE_DIR"]
PEER = os.path.join(SRC, "tests", "interop", "web_page_peer.mjs")
TEMPLATES = os.path.join(SRC, "config", "templates")
TEMPLATE = os.path.join(TEMPLATES, "security-awareness-2026.json")
ISSUER_NAME = "BIZM Security Academy"
ARTEFACTS = os.environ.get("CA_ARTEFACTS") or os.path.join(
    os.environ.get("CA_BUILD_DIR", tempfile.gettempdir()), "web_page_artefacts")
CHECKS = ("signature", "status", "inclusion", "anchor")


def unsigned(n, **extra):
    cred = json.load(open(TEMPLATE))
    cred["credentialSubject"]["id"] = f"did:example:page-{n}"
    cred.update(extra)
    return cred


def enc(ref):
    return urllib.parse.quote(ref, safe="")


def run_peer(tmp, visits, spki=None):
    plan = os.path.join(tmp, f"plan-{len(os.listdir(tmp))}.json")
    with open(plan, "w") as f:
        json.dump({"artefacts": ARTEFACTS, "spki": spki, "visits": visits}, f)
    env = dict(os.environ, CA_PLAN=plan,
               NODE_PATH=os.path.join(SRC, "tests", "interop", "node_modules"))
    p = subprocess.run(["node", PEER], capture_output=True, text=True, env=env,
                       timeout=ca.scaled(600), cwd=os.path.join(SRC, "tests", "interop"))
    out = {}
    for line in p.stdout.splitlines():
        o = json.loads(line)
        out[o["name"]] = o
    c.eq(p.returncode, 0, f"the browser peer ran: {p.stderr[-2000:]}")
    for name, o in out.items():
        c.ok("error" not in o, f"{name}: the visit ran ({o.get('error', '')[:1500]})")
    return out


def issue(node, cred, fmt="vc+jwt", alg="EdDSA", what=""):
    r = node.request("POST", "/v1/credentials", token=node.tokens["issuer"],
                     body={"credential": cred, "format": fmt, "alg": alg})
    if not c.eq(r.status, 201, f"issue {what}: {r.body[:300]!r}"):
        return None
    a = r.json()
    c.ok(a.get("page", "").startswith(node.public_url + "/c/"),
         f"issue {what}: the answer names its page ({a.get('page')})")
    return a


def anchor_all(node):
    size = node.get("/v1/health").json()["treeSize"]
    c.eq(node.request("POST", "/v1/anchors", token=node.tokens["admin"]).status, 202,
         "POST /v1/anchors")

    def final():
        a = node.get("/v1/anchors/latest")
        return a.status == 200 and a.json()["treeSize"] == size and a.json()["status"] == "final"
    return c.wait_for(final, ca.scaled(60), f"the anchor of size {size} is final")


def status_index(node, cid):
    """The credential's statusListIndex, read from the credential as issued."""
    text = node.get(f"/v1/credentials/{enc(cid)}").body.decode().strip()
    cred = json.loads(text) if text.startswith("{") else json.loads(ca.b64u_dec(text.split(".")[1]))
    entry = cred["credentialStatus"]
    return int((entry[0] if isinstance(entry, list) else entry)["statusListIndex"])


def digest_proof_url(node, digest):
    return f"{node.public_url}/v1/log/proof?digest={digest}"


def header_checks(node, page, rpc):
    r = node.request("GET", urllib.parse.urlparse(page).path, headers={"Accept": "text/html"})
    csp = r.headers.get("content-security-policy", "")
    c.eq(r.status, 200, "the page answers 200 to a browser")
    c.ok(r.ctype.startswith("text/html"), f"the page is HTML ({r.ctype})")
    d = dict(x.strip().split(" ", 1) for x in csp.split(";") if " " in x.strip())
    c.ok("'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, f"CSP has no unsafe-*: {csp}")
    c.eq(d.get("default-src"), "'self'", "CSP default-src 'self'")
    c.eq(d.get("frame-ancestors"), "'none'", "CSP frame-ancestors 'none'")
    c.eq(d.get("connect-src"), f"'self' {rpc}", "CSP connect-src is the node and page.rpc_urls")
    c.ok(d.get("script-src", "").startswith("'self' 'sha256-"),
         f"CSP script-src: 'self' and the import map's hash only ({d.get('script-src')})")
    c.eq(r.headers.get("referrer-policy"), "no-referrer", "Referrer-Policy: no-referrer")
    html = r.body.decode()
    c.ok('integrity="sha384-' in html and '"integrity":{' in html,
         "the module script and every imported module carry SRI hashes")
    c.ok("http://" not in html.replace(node.public_url, "").replace(rpc, "") and
         "https://" not in html.replace(node.public_url, ""),
         "the page names no third-party URL")
    # Unknown ids: HTML for a browser, problem+json for an API client.
    bogus = "/c/00000000-0000-7000-8000-000000000000"
    r = node.request("GET", bogus, headers={"Accept": "text/html"})
    c.ok(r.status == 404 and r.ctype.startswith("text/html") and b"<h1>" in r.body,
         f"unknown id, browser: 404 HTML ({r.status} {r.ctype})")
    r = node.request("GET", bogus, headers={"Accept": "application/json"})
    c.ok(r.status == 404 and r.is_problem(404), f"unknown id, API client: 404 problem+json ({r.ctype})")
    r = node.request("GET", "/c/" + "%FF" * 10, headers={"Accept": "text/html"})
    c.eq(r.status, 404, "a binary id is a 404 page")
    # The issue number is not a page address (sequential: enumerable).
    # Huge and binary Accept-Language: still the page, in the default language.
    for what, value in (("8 KB", "ko;q=0." + "1" * 8000), ("binary", "\x01\x7f\xfe"),
                        ("many ranges", ",".join(["xx;q=0.9"] * 700))):
        try:
            r = node.request("GET", urllib.parse.urlparse(page).path,
                             headers={"Accept": "text/html", "Accept-Language": value})
            c.ok(r.status in (200, 431, 400) and (r.status != 200 or b"<html" in r.body),
                 f"Accept-Language {what}: harmless ({r.status})")
        except Exception as e:  # noqa: BLE001 (a cut connection is a failure too)
            c.ok(False, f"Accept-Language {what}: {e}")
    c.eq(node.get("/v1/health").status, 200, "the node still serves")
    r = node.request("GET", urllib.parse.urlparse(page).path + "?lang=ko",
                     headers={"Accept": "text/html"})
    c.ok(r.headers.get("content-language") == "ko" and '<html lang="ko">' in r.body.decode(),
         "?lang=ko gives the Korean page")
    r = node.request("GET", urllib.parse.urlparse(page).path + "?lng=ko",
                     headers={"Accept": "text/html"})
    c.eq(r.status, 400, "an unknown query parameter is refused")
    # Assets: SRI-hash ETags, 304, no path escapes.
    r = node.get("/assets/verify/verify.mjs")
    c.ok(r.status == 200 and r.ctype.startswith("text/javascript") and r.headers.get("etag"),
         f"an asset with its ETag ({r.status} {r.ctype})")
    r2 = node.request("GET", "/assets/verify/verify.mjs",
                      headers={"If-None-Match": r.headers.get("etag", "x")})
    c.eq(r2.status, 304, "If-None-Match: 304")
    for bad in ("/assets/../README.md", "/assets/%2e%2e/x", "/assets/verify/..%2fverify.mjs",
                "/assets/nope.js"):
        c.eq(node.get(bad).status, 404, f"GET {bad}: 404")


def run_local(tmp):
    port = ca.free_port()
    base = f"http://localhost:{port}"
    with ca.Anvil() as anvil:
        env = {"CREDANCHOR_NODE_PUBLIC_URL": base, "CREDANCHOR_ANCHOR_RPC_URL": anvil.url,
               "CREDANCHOR_ANCHOR_CHAIN_ID": "31337", "CREDANCHOR_ANCHOR_CONFIRMATIONS": "1",
               "CREDANCHOR_ANCHOR_INTERVAL": "0", "CREDANCHOR_PAGE_RPC_URLS": anvil.url,
               "CREDANCHOR_CREDENTIALS_ISSUER_NAME": ISSUER_NAME,
               "CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": TEMPLATES}
        with ca.Node(roles=("admin", "issuer", "revoker", "auditor"), env=env) as node:
            ca.eth_rpc(anvil.url, "anvil_setBalance", [node.init["anchorAddress"], hex(10**20)])
            node.start(port=port)
            node.public_url = base
            local_cases(tmp, node, anvil.url)


def local_cases(tmp, node, rpc):
    creds = {}
    csv = ("externalId,name,email,department,course,completedAt\n"
           "E-0001,김민지,minji@example.com,Security,security-awareness-2026,2026-06-15\n")
    r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"], body=csv.encode(),
                     headers={"Content-Type": "text/csv"})
    if c.eq(r.status, 200, f"batch issue: {r.body[:300]!r}"):
        row = r.json()["results"][0]
        c.ok(row.get("page", "").startswith(base_of(node) + "/c/"), f"batch result names its page ({row})")
        creds["good"] = row
    for name, fmt, alg, extra in (("es256k", "vc+jwt", "ES256K", {}),
                                  ("jcs", "eddsa-jcs-2022", "EdDSA", {}),
                                  ("revoked", "vc+jwt", "EdDSA", {}),
                                  ("expired", "vc+jwt", "EdDSA",
                                   {"validFrom": "2025-01-01T00:00:00Z",
                                    "validUntil": "2026-01-01T00:00:00Z"})):
        a = issue(node, unsigned(name, **extra), fmt, alg, name)
        if a:
            creds[name] = a
    if "revoked" in creds:
        r = node.request("POST", f"/v1/credentials/{enc(creds['revoked']['id'])}/revoke",
                         token=node.tokens["revoker"], body={"reason": "web_page"})
        c.eq(r.status, 200, "revoke")
    if not anchor_all(node):
        return
    a = issue(node, unsigned("unanchored"), what="unanchored")
    if a:
        creds["unanchored"] = a
    if len(creds) != 6:
        return
    good = creds["good"]
    header_checks(node, good["page"], rpc)
    # The page's own address opens in a browser.
    visits = [
        {"name": "good en", "url": good["page"], "locale": "en-US", "screenshot": "page-en.png",
         "axe": True, "qrShot": "page-qr.png"},
        {"name": "good ko", "url": good["page"], "locale": "ko-KR", "screenshot": "page-ko.png",
         "axe": True},
        {"name": "revoked", "url": creds["revoked"]["page"], "screenshot": "page-revoked.png",
         "axe": True},
        {"name": "expired", "url": creds["expired"]["page"], "screenshot": "page-expired.png"},
        {"name": "es256k", "url": creds["es256k"]["page"]},
        {"name": "jcs", "url": creds["jcs"]["page"]},
        {"name": "unanchored", "url": creds["unanchored"]["page"]},
        {"name": "revoked, /verification faked", "url": creds["revoked"]["page"],
         "fakeVerification": True},
        {"name": "not found", "url": base_of(node) + "/c/00000000-0000-7000-8000-000000000000",
         "screenshot": "page-not-found.png", "axe": True},
        {"name": "tampered script", "url": good["page"], "tamperScript": True},
        {"name": "rpc outside the CSP", "url": good["page"], "rpc": "http://127.0.0.1:9/"},
        {"name": "lookup", "url": base_of(node) + "/lookup", "axe": True,
         "lookup": {"issueNumber": good["issueNumber"], "email": "minji@example.com", "expectPage": True}},
        {"name": "lookup, wrong email", "url": base_of(node) + "/lookup?lang=ko",
         "screenshot": "lookup-ko.png",
         "lookup": {"issueNumber": good["issueNumber"], "email": "nobody@example.com"}},
    ]
    other = digest_proof_url(node, creds["es256k"]["digest"])
    for target in ("good", "jcs"):
        for forge in ("credential", "status", "proof", "checkpoint", "calldata"):
            visits.append({"name": f"{target}: forged {forge}", "url": creds[target]["page"],
                           "forge": forge, "otherProof": other, "rpcUrl": rpc,
                           "statusIndex": status_index(node, creds[target]["id"])})
    made = made_credentials(node, tmp, creds["good"]["id"])
    for name, jwt in made.items():
        visits.append({"name": name, "url": creds["good"]["page"], "replaceCredential": jwt})
    got = run_peer(tmp, visits)
    judge_local(node, creds, got, rpc)
    judge_against_cli(node, tmp, creds, made, got, rpc)


def made_credentials(node, tmp, good_id):
    """Two VC-JWTs made from the good one: "tampered" (the payload changed, the signature
    kept) and "wrong key" (the same header and payload, signed by a fresh Ed25519 key that
    the issuer's DID document does not list)."""
    jwt = node.get(f"/v1/credentials/{enc(good_id)}").body.decode().strip()
    h, p, _sig = jwt.split(".")
    payload = json.loads(ca.b64u_dec(p))
    payload["credentialSubject"]["achievement"]["name"] = "Tampered Achievement"
    tampered_p = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    key = os.path.join(tmp, "other.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   capture_output=True)
    msg = os.path.join(tmp, "signing-input")
    with open(msg, "w") as f:
        f.write(f"{h}.{p}")
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", msg],
                         check=True, capture_output=True).stdout
    wrong = base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
    return {"tampered": f"{h}.{tampered_p}.{_sig}", "wrong key": f"{h}.{p}.{wrong}"}


def cli_verify(node, tmp, text, rpc):
    """`credanchor verify --json` on the given credential bytes: (exit code, checks)."""
    path = os.path.join(tmp, "presented")
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run([os.environ["CREDANCHOR_BIN"], "verify", "--node", node.public_url,
                        "--rpc", rpc, "--json", path], capture_output=True, text=True,
                       timeout=ca.scaled(60))
    try:
        return p.returncode, json.loads(p.stdout)["checks"]
    except (ValueError, KeyError):
        return p.returncode, {"error": p.stdout[-300:] + p.stderr[-300:]}


def judge_against_cli(node, tmp, creds, made, got, rpc):
    """The page and `credanchor verify` on the same bytes: every check the same, and the
    page's verdict "verified" or "pending" (no check failed) exactly when verify exits 0."""
    cases = {name: node.get(f"/v1/credentials/{enc(creds[name]['id'])}").body.decode()
             for name in ("good", "revoked", "expired", "unanchored", "es256k", "jcs")}
    cases.update(made)
    for name, text in cases.items():
        visit = got.get("good en" if name == "good" else name, {})
        rc, checks = cli_verify(node, tmp, text, rpc)
        for k in CHECKS:
            c.eq(visit.get("checks", {}).get(k, {}).get("result"), checks.get(k, {}).get("result"),
                 f"{name}: {k} as credanchor verify ({checks.get(k, {}).get('detail')})")
        c.eq(visit.get("verdict") in ("verified", "pending"), rc == 0,
             f"{name}: the page's verdict is verified or pending exactly when credanchor "
             f"verify exits 0 ({visit.get('verdict')}, exit {rc})")
    for name, failing in (("tampered", "signature"), ("wrong key", "signature")):
        v = got.get(name, {})
        c.ok(v.get("verdict") == "invalid" and v.get("checks", {}).get(failing, {}).get("result") == "fail",
             f"{name}: the page says invalid, {failing} failing ({v.get('verdict')})")


def base_of(node):
    return node.public_url


def judge_local(node, creds, got, rpc):
    for name in ("good", "es256k", "jcs", "revoked", "expired", "unanchored"):
        visit = got.get("good en" if name == "good" else name)
        if not c.ok(visit is not None and visit.get("verdict"), f"{name}: the page reached a verdict"):
            continue
        mine = node.get(f"/v1/credentials/{enc(creds[name]['id'])}/verification").json()
        for k in CHECKS:
            c.eq(visit["checks"][k]["result"], mine["checks"][k]["result"],
                 f"{name}: {k} as the node's own verification ({visit['checks'][k]['detail']})")
        want = {"revoked": "revoked", "expired": "invalid", "unanchored": "pending"}.get(name, "verified")
        c.eq(visit["verdict"], want, f"{name}: verdict")
        c.eq(visit["consoleErrors"], [], f"{name}: no console errors")
        c.ok(not any("/verification" in u for u in visit["requests"]),
             f"{name}: the page never asked the node's /verification")
    g = got.get("good en", {})
    c.eq(g.get("recipient"), "김민지", "good: the recipient's display name")
    c.ok(g.get("issueNumber", "").startswith("CRED-") or g.get("issueNumber", "").count("-") == 2,
         f"good: the issue number ({g.get('issueNumber')})")
    c.eq(g.get("issuer"), ISSUER_NAME, "good: the issuer's name from its Profile")
    # The figure printed below is the README's benchmark row (target < 1 s, measured on a
    # quiet machine); as a check, where other suites share the cores, only a hang guard.
    c.ok(0 <= g.get("durationMs", -1) < ca.scaled(10) * 1000,
         f"good: the in-browser verification finished ({g.get('durationMs')} ms)")
    print(f"web_page: in-browser verification of a good credential: {g.get('durationMs')} ms "
          f"(Chromium {os.environ.get('CA_CHROMIUM', '/usr/bin/chromium')})")
    li = urllib.parse.urlparse(g.get("linkedin", ""))
    q = urllib.parse.parse_qs(li.query)
    c.ok(li.netloc == "www.linkedin.com" and q.get("startTask") == ["CERTIFICATION_NAME"] and
         q.get("certUrl") == [creds["good"]["page"]] and q.get("certId") == [creds["good"]["issueNumber"]] and
         q.get("organizationName") == [ISSUER_NAME] and q.get("issueYear") == ["2026"] and
         q.get("issueMonth") == ["6"], f"good: the LinkedIn Add-to-profile link ({g.get('linkedin')})")
    dl = g.get("downloads", {})
    own = f"{base_of(node)}/v1/credentials/{enc(creds['good']['id'])}"
    c.eq({k: dl.get(k) for k in ("download-certificate", "download-badge-png", "download-badge-svg",
                                 "download-credential")},
         {"download-certificate": own + "/certificate.pdf", "download-badge-png": own + "/badge.png",
          "download-badge-svg": own + "/badge.svg", "download-credential": own},
         "good: the page links the certificate, the badges and the credential")
    proof = dl.get("download-proof", "")
    r = node.get(urllib.parse.urlparse(proof).path + "?" + urllib.parse.urlparse(proof).query)
    if c.ok(r.status == 200, f"good: the page's proof link answers ({proof})"):
        path = os.path.join(node.tmp, "proof.json")
        with open(path, "wb") as f:
            f.write(r.body)
        p = subprocess.run([os.environ["CREDANCHOR_BIN"], "verify-proof", "--node", base_of(node),
                            "--rpc", rpc, path], capture_output=True, text=True, timeout=ca.scaled(60))
        c.eq(p.returncode, 0, f"good: the downloaded proof passes credanchor verify-proof --rpc offline "
             f"of the page ({p.stdout[-300:]} {p.stderr[-300:]})")
    z = subprocess.run(["zbarimg", "-q", "--raw", os.path.join(ARTEFACTS, "page-qr.png")],
                       capture_output=True, text=True)
    c.eq(z.stdout.strip(), creds["good"]["page"], "good: the page's QR code decodes to its URL")
    k = got.get("good ko", {})
    c.ok(k.get("lang") == "ko" and "검증됨" in k.get("verdictText", ""),
         f"good ko: the Korean page ({k.get('lang')}, {k.get('verdictText')})")
    c.eq(k.get("completedOn"), "2026년 6월 15일", "good ko: the completion date in Korean")
    c.eq(g.get("completedOn"), "15 June 2026", "good en: the completion date in English")
    for name in ("revoked", "expired"):
        c.ok(got.get(name, {}).get("banner"), f"{name}: the banner shows ({got.get(name, {}).get('banner')})")
    c.eq(got.get("good en", {}).get("banner"), "", "good: no banner")
    f = got.get("revoked, /verification faked", {})
    c.eq(f.get("verdict"), "revoked", "/verification faked as verified: the page still says revoked")
    c.ok(not any("/verification" in u for u in f.get("requests", [])),
         "/verification faked: the page never asked it")
    nf = got.get("not found", {})
    c.ok(nf.get("status") == 404 and nf.get("title"), f"not found: a 404 page ({nf.get('status')}, {nf.get('title')})")
    t = got.get("tampered script", {})
    c.ok(t.get("verdict") is None and any("integrity" in e.lower() for e in t.get("consoleErrors", [])),
         f"tampered verify.mjs: SRI blocks it, no verdict ({t.get('verdict')}, {t.get('consoleErrors')})")
    r = got.get("rpc outside the CSP", {})
    c.ok(r.get("verdict") == "pending" and r.get("checks", {}).get("anchor", {}).get("result") == "pending",
         f"an RPC URL outside the CSP: anchor pending ({r.get('verdict')}, {r.get('checks', {}).get('anchor')})")
    lk = got.get("lookup", {})
    c.ok(lk.get("landedOn") == creds["good"]["page"] and lk.get("verdict") == "verified",
         f"lookup form: issue number + email lead to the verified page ({lk.get('landedOn')}, {lk.get('verdict')})")
    c.eq(got.get("lookup, wrong email", {}).get("lookupResult"),
         "이 발급 번호와 이메일 주소에 해당하는 자격증명이 없습니다.",
         "lookup form, wrong email: says so (in Korean)")
    for visit in ("good en", "good ko", "revoked", "not found", "lookup"):
        serious = [v for v in got.get(visit, {}).get("axe") or [] if v["impact"] in ("serious", "critical")]
        c.ok(got.get(visit, {}).get("axe") is not None and not serious,
             f"{visit}: axe finds no serious or critical violation ({serious})")
    for target in ("good", "jcs"):
        for forge, failing in (("credential", "signature"), ("status", "status"), ("proof", "inclusion"),
                               ("checkpoint", "inclusion"), ("calldata", "anchor")):
            v = got.get(f"{target}: forged {forge}", {})
            chk = v.get("checks", {}).get(failing, {})
            c.ok(v.get("verdict") == "invalid" and chk.get("result") == "fail",
                 f"{target}: forged {forge}: invalid, {failing} fails ({v.get('verdict')}, {chk})")
    for shot in ("page-en.png", "page-ko.png", "page-revoked.png", "page-expired.png", "page-not-found.png"):
        p = os.path.join(ARTEFACTS, shot)
        c.ok(os.path.exists(p) and os.path.getsize(p) > 10000, f"screenshot {p}")


def spki_of(cert):
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    import hashlib
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def run_nginx(tmp):
    with ca.NginxFront(tmp) as front:
        host = f"localhost:{front.port}"
        env = {"CREDANCHOR_NODE_PUBLIC_URL": front.public_url,
               "CREDANCHOR_DID_WEB_ALLOW_HOSTS": host, "CREDANCHOR_DID_WEB_CA_FILE": front.ca,
               "CREDANCHOR_CREDENTIALS_ISSUER_NAME": ISSUER_NAME}
        with ca.Node(roles=("issuer",), env=env) as node:
            node.start()
            front.start(node.port)
            node.public_url = front.public_url
            a = issue(node, unsigned("https"), what="behind nginx")
            if not a:
                return
            path = urllib.parse.urlparse(a["page"]).path
            r = front.request("GET", path, headers={"Accept": "text/html"})
            c.ok(r.status == 200 and "max-age" in r.headers.get("strict-transport-security", ""),
                 f"https: the page through nginx with HSTS ({r.status})")
            got = run_peer(tmp, [{"name": "https", "url": a["page"], "screenshot": "page-https.png"}],
                           spki=spki_of(front.cert))
            v = got.get("https", {})
            want = {"signature": "pass", "status": "pass", "inclusion": "pass", "anchor": "pending"}
            c.eq({k: v.get("checks", {}).get(k, {}).get("result") for k in CHECKS}, want,
                 f"https: the page's checks through nginx ({v.get('checks')})")
            c.eq(v.get("verdict"), "pending", "https: verdict pending (no anchoring here)")
            c.ok(any(u.startswith(f"https://{host}/1.0/identifiers/did%3Aweb%3Alocalhost%253A{front.port}")
                     for u in v.get("requests", [])),
                 "https: the page resolved the https did:web through nginx")
            c.eq(v.get("consoleErrors"), [], "https: no console errors")


def main():
    if not shutil.which(os.environ.get("CA_CHROMIUM", "chromium")) and \
            not os.path.exists(os.environ.get("CA_CHROMIUM", "/usr/bin/chromium")):
        c.ok(False, "Debian's chromium is not installed (scripts/install-deps installs it)")
        c.finish()
    subprocess.run([os.path.join(SRC, "tests", "interop", "install-peers")], check=True)
    os.makedirs(ARTEFACTS, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        run_local(tmp)
        run_nginx(tmp)
    c.finish()


if __name__ == "__main__":
    main()
