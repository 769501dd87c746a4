#!/usr/bin/env python3
"""People's sign-in over HTTP (issue #16), server side, with a software authenticator
(tests/integration/softauthn.py) in place of a browser:

- invite (admin token) -> enrollment options -> enroll: 201, ten recovery codes, a session
  cookie (credanchor_session on http://localhost; HttpOnly, SameSite=Strict, no Secure);
- passkey sign-in; the same assertion replayed: 401; a wrong origin, RP ID or challenge, a
  forged signature, a counter that goes backwards, a malformed attestationObject: refused,
  each with its reason in the audit log and the same 401 (sign-in) or a 400 (enrollment);
- sessions on role routes: an admin session may GET /v1/users; a write without X-CSRF-Token
  or from another Origin is 403; with both it works; an issuer session gets 403 on an admin
  route; a bearer token keeps working without Origin or CSRF;
- recovery code: signs in once with mustEnrollPasskey, role routes refuse that session until
  a passkey is added; the same code again is refused;
- disable: the person's open session dies at once; sign-in is refused;
- the audit log names the person (userId, userName, sessionId, client), exports included, and
  stays verifiable;
- no plaintext email in the data dir;
- node.trusted_proxies: the client is X-Forwarded-For's address (from the right) only when
  the peer is a trusted proxy.
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402
from softauthn import Authenticator, b64u, unb64u  # noqa: E402

c = ca.Checks("auth_api")
port = ca.free_port()
ORIGIN = f"http://localhost:{port}"
O = {"Origin": ORIGIN}


def js(r):
    try:
        return json.loads(r.body)
    except ValueError:
        return {}


def cookie_of(r):
    return (r.headers.get("set-cookie") or "").split(";")[0]


with ca.Node(roles=["admin"], env={"CREDANCHOR_NODE_PUBLIC_URL": ORIGIN}) as node:
    node.start(port=port)
    admin = node.tokens["admin"]

    def invite(email, roles):
        r = node.request("POST", "/v1/users", token=admin,
                         body={"email": email, "name": email.split("@")[0], "roles": roles})
        c.eq(r.status, 201, f"invite {email}")
        return js(r)["enrollUrl"].split("#", 1)[1], js(r)["user"]["id"]

    def enroll(secret, auth, **kw):
        o = js(node.request("POST", "/v1/auth/enroll/options", body={"invite": secret},
                            headers=O))
        cred = auth.create(o, **kw)
        return node.request("POST", "/v1/auth/enroll", headers=O, body={
            "ceremony": o["ceremony"], "invite": secret, "credential": cred})

    def signin(auth, **kw):
        o = js(node.request("POST", "/v1/auth/signin/options", body={}, headers=O))
        a = auth.get(o, **kw)
        return node.request("POST", "/v1/auth/signin", headers=O,
                            body={"ceremony": o["ceremony"], "credential": a}), o, a

    # Enrollment, with refusals first (the invite stays usable after each).
    secret, ann_id = invite("Ann.Admin@Example.com", ["admin"])
    ann = Authenticator(ORIGIN)
    r = node.request("POST", "/v1/auth/enroll/options", body={"invite": secret})
    c.eq(r.status, 403, "enroll options without Origin: 403")
    for what, kw in (("wrong origin", {"origin": "https://evil.example"}),
                     ("wrong RP ID", {"rp_id": "evil.example"}),
                     ("wrong challenge", {"challenge": b64u(b"x" * 32)}),
                     ("no user verification", {"flags": 0x41})):
        r = enroll(secret, ann, **kw)
        c.eq(r.status, 400, f"enroll with a {what}: 400 ({js(r).get('detail')})")
    o = js(node.request("POST", "/v1/auth/enroll/options", body={"invite": secret}, headers=O))
    cred = ann.create(o)
    cred["response"]["attestationObject"] = b64u(b"\xa3\x63fmt\x64none\xff")
    r = node.request("POST", "/v1/auth/enroll", headers=O,
                     body={"ceremony": o["ceremony"], "invite": secret, "credential": cred})
    c.eq(r.status, 400, f"malformed CBOR attestation: 400 ({js(r).get('detail')})")
    ann = Authenticator(ORIGIN)
    r = enroll(secret, ann)
    c.eq(r.status, 201, "enroll: 201")
    c.eq(len(js(r).get("recoveryCodes", [])), 10, "ten recovery codes")
    codes = js(r)["recoveryCodes"]
    sc = r.headers.get("set-cookie", "")
    c.ok(sc.startswith("credanchor_session=") and "HttpOnly" in sc and
         "SameSite=Strict" in sc and "Secure" not in sc, f"dev cookie: {sc[:40]}…")
    r = node.request("POST", "/v1/auth/enroll/options", body={"invite": secret}, headers=O)
    c.eq(r.status, 403, "the invite is single use")

    # Passkey sign-in and its refusals.
    r, o, a = signin(ann)
    c.eq(r.status, 200, "sign-in with the passkey")
    ck, csrf = cookie_of(r), js(r).get("csrf")
    c.eq(r.headers.get("cache-control"), "no-store", "the sign-in answer (cookie, CSRF) is no-store")
    r2 = node.request("POST", "/v1/auth/signin", headers=O,
                      body={"ceremony": o["ceremony"], "credential": a})
    c.eq(r2.status, 401, "a replayed assertion: 401")
    for what, kw in (("wrong origin", {"origin": "https://evil.example"}),
                     ("wrong RP ID", {"rp_id": "evil.example"}),
                     ("wrong challenge", {"challenge": b64u(b"y" * 32)}),
                     ("forged signature", {"forge": True}),
                     ("counter going backwards", {"counter": 1})):
        r, _, _ = signin(ann, **kw)
        c.eq(r.status, 401, f"sign-in with a {what}: 401")

    # Sessions on role routes.
    S = {"Cookie": ck}
    c.eq(node.get("/v1/users", headers=S).status, 200, "admin session: GET /v1/users")
    body = {"email": "ivan@example.com", "name": "Ivan", "roles": ["issuer"]}
    c.eq(node.request("POST", "/v1/users", body=body, headers=S).status, 403,
         "a session write without Origin or CSRF: 403")
    c.eq(node.request("POST", "/v1/users", body=body, headers={**S, **O}).status, 403,
         "a session write without X-CSRF-Token: 403")
    c.eq(node.request("POST", "/v1/users", body=body,
                      headers={**S, "X-CSRF-Token": csrf,
                               "Origin": "https://evil.example"}).status, 403,
         "a session write from another origin: 403")
    r = node.request("POST", "/v1/users", body=body, headers={**S, **O, "X-CSRF-Token": csrf})
    c.eq(r.status, 201, "a session write with Origin and CSRF: 201")
    ivan_secret = js(r)["enrollUrl"].split("#", 1)[1]
    ivan = Authenticator(ORIGIN, alg=-8)
    r = enroll(ivan_secret, ivan)
    c.eq(r.status, 201, "an EdDSA passkey enrolls")
    iv = {"Cookie": cookie_of(r)}
    c.eq(node.get("/v1/users", headers=iv).status, 403, "an issuer session on an admin route")
    c.eq(node.get("/v1/credentials", headers=iv).status, 403,
         "an issuer session on an auditor route")

    # A recovery code.
    r = node.request("POST", "/v1/auth/recover", headers=O,
                     body={"email": "ann.admin@example.com", "code": codes[0]})
    c.eq(r.status, 200, "a recovery code signs in")
    c.eq(js(r).get("mustEnrollPasskey"), True, "... and requires a new passkey")
    rc = {"Cookie": cookie_of(r)}
    rcsrf = js(r)["csrf"]
    c.eq(node.get("/v1/users", headers=rc).status, 403, "role routes refused until then")
    c.eq(node.get("/v1/auth/passkeys", headers=rc).status, 403, "... and the passkey list")
    c.eq(node.get("/v1/sessions", headers=rc).status, 403, "... and the session list")
    c.eq(node.get("/v1/auth/session", headers=rc).status, 200, "... but not the session")
    r = node.request("POST", "/v1/auth/recover", headers=O,
                     body={"email": "ann.admin@example.com", "code": codes[0]})
    c.eq(r.status, 401, "the same code again: 401")
    o = js(node.request("POST", "/v1/auth/passkeys/options", body={},
                        headers={**rc, **O, "X-CSRF-Token": rcsrf}))
    ann2 = Authenticator(ORIGIN)
    r = node.request("POST", "/v1/auth/passkeys", headers={**rc, **O, "X-CSRF-Token": rcsrf},
                     body={"ceremony": o["ceremony"], "credential": ann2.create(o),
                           "name": "new laptop"})
    c.eq(r.status, 201, "a new passkey after recovery")
    c.eq(node.get("/v1/users", headers=rc).status, 200, "... then role routes work")
    c.eq(len(js(node.get("/v1/auth/passkeys", headers=rc)).get("passkeys", [])), 2,
         "two passkeys listed")
    # Exports are audited under the person's name (issue #16 "Audit"), as writes are.
    r = node.get("/v1/credentials?format=csv", headers=rc)
    c.ok(r.status == 200 and r.body.startswith(b"issueNumber,"), "an admin session exports CSV")
    r = node.get("/v1/reports/certificates.zip", headers=rc)
    c.eq(r.status, 200, "... and the certificates ZIP")

    # Disable: the open session dies at once, sign-in is refused; never the last admin.
    r = node.request("POST", f"/v1/users/{ann_id}/disable", token=admin, body={})
    c.eq(r.status, 409, "the last active admin cannot be disabled")
    ivan_id = js(node.get("/v1/auth/session", headers=iv))["user"]["id"]
    c.eq(node.get("/v1/auth/session", headers=iv).status, 200, "Ivan's session is alive")
    r = node.request("POST", f"/v1/users/{ivan_id}/disable", token=admin, body={})
    c.eq(r.status, 200, "disable by an admin token")
    c.eq(js(r).get("user", {}).get("state"), "disabled", "... state disabled")
    c.eq(node.get("/v1/auth/session", headers=iv).status, 401, "the session died at once")
    r, _, _ = signin(ivan)
    c.eq(r.status, 401, "a disabled person cannot sign in")

    # The audit log names the person; no plaintext email at rest.
    p = ca.run_cli("audit", "list", "--json", data_dir=node.data_dir, env=node.env)
    try:
        doc = json.loads(p.stdout)
        ents = doc.get("entries", []) if isinstance(doc, dict) else doc
    except ValueError:
        ents = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    person = [e for e in ents if e.get("userId") == ann_id]
    c.ok(any("signed in with a passkey" in (e.get("detail") or "") and e.get("sessionId")
             and e.get("client") for e in person), "sign-in audited with session and client")
    c.ok(any("counter" in (e.get("detail") or "") for e in person),
         "the backwards counter is audited with its reason")
    c.ok(any("recovery code" in (e.get("detail") or "") for e in person),
         "recovery-code use audited")
    c.ok(any(e.get("status") == 403 and "Origin" in (e.get("detail") or "")
             and e.get("sessionId") for e in person),
         "a session write without Origin is audited under the person and session")
    for what in ("export: credentials.csv", "export: certificates.zip, 0 certificates"):
        c.ok(any(e.get("detail") == what and e.get("method") == "GET" and e.get("sessionId")
                 for e in person), f"audited with the person and session: {what}")
    v = ca.run_cli("audit", "verify", data_dir=node.data_dir, env=node.env, check=False)
    c.eq(v.returncode, 0, "audit chain verifies")
    node.stop()
    leaked = [f for f in glob.glob(os.path.join(node.data_dir, "**"), recursive=True)
              if os.path.isfile(f) and b"ann.admin@example.com" in open(f, "rb").read().lower()]
    c.eq(leaked, [], "no plaintext email in the data dir")


def audit_clients(node):
    """detail -> client of the audit entries of POST /v1/users."""
    p = ca.run_cli("audit", "list", "--json", data_dir=node.data_dir, env=node.env)
    doc = json.loads(p.stdout)
    ents = doc.get("entries", []) if isinstance(doc, dict) else doc
    return [e.get("client") for e in ents if e.get("route") == "/v1/users"]


# Behind a reverse proxy the client is the address the proxy saw (node.trusted_proxies), read
# from the right of X-Forwarded-For; from anyone else the header is ignored (a forgery).
for trusted, cases in (
        ("127.0.0.1", [("203.0.113.9", "203.0.113.9"),
                       ("198.51.100.7, 203.0.113.9", "203.0.113.9"),
                       ("203.0.113.5, 127.0.0.1", "203.0.113.5"),
                       ("2001:db8::7", "2001:db8::7"),
                       ("not-an-address", "127.0.0.1")]),
        ("", [("203.0.113.9", "127.0.0.1")])):
    env = {"CREDANCHOR_NODE_PUBLIC_URL": ORIGIN, "CREDANCHOR_NODE_TRUSTED_PROXIES": trusted}
    with ca.Node(roles=["admin"], env=env) as node:
        node.start()
        for i, (xff, _) in enumerate(cases):
            r = node.request("POST", "/v1/users", token=node.tokens["admin"],
                             headers={"X-Forwarded-For": xff},
                             body={"email": f"p{i}@example.com", "name": f"P{i}",
                                   "roles": ["auditor"]})
            c.eq(r.status, 201, f"invite with X-Forwarded-For {xff!r}")
        node.stop()
        got = audit_clients(node)
        for (xff, want), client in zip(cases, got):
            c.eq(client, want, f"trusted_proxies={trusted!r}, X-Forwarded-For {xff!r}: "
                 f"the audit names {want}")

with ca.Node() as node:
    p = ca.run_cli("check", data_dir=node.data_dir, check=False,
                   env={**node.env, "CREDANCHOR_NODE_TRUSTED_PROXIES": "127.0.0.1, localhost"})
    c.ok(p.returncode == 2 and "node.trusted_proxies" in p.stderr,
         f"a host name in node.trusted_proxies is refused ({p.stderr.strip()})")

c.finish()
