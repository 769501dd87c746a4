"""The role matrix (SPEC §3, issue #12 item 11): POST /v1/log/entries in detail (no token 401,
each wrong role 403, issuer and admin 200, expired and revoked tokens 401 with
WWW-Authenticate: Bearer), then every authenticated route x every caller (admin, issuer,
revoker, auditor, no token, bad token; and issue #16's people: a signed-in session of each role
and a bad session cookie): an admin token or session may use every route, each narrow role
only its own. Public routes need no token; every authenticated write lands in the audit log,
whose chain verifies; no token text ever reaches the server log."""
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402
from softauthn import Session, enroll_person  # noqa: E402
import xlsx_fixture  # noqa: E402

t = ca.Checks("http_auth")

TEMPLATE = os.path.join(ca.SRC, "config", "templates", "security-awareness-2026.json")
ROSTER_XLSX = xlsx_fixture.workbook([["externalId", "email"], ["M-1", "m@bizm.example"]])


def unsigned(subject_id):
    with open(TEMPLATE) as f:
        c = json.load(f)
    c["credentialSubject"]["id"] = subject_id
    return c


def role_matrix(node):
    """Every authenticated route x every caller -> the expected status (the matrix documented
    in docs/openapi.yaml and docs/operations.md). An allowed caller gets the route's own answer
    (for /suspend and /reinstate on an Open Badge 409, SPEC §5; POST /v1/anchors 503 without
    anchor.rpc_url), a caller without the role 403, no token or a bad one 401."""
    admin = node.tokens["admin"]
    callers = {"admin": admin, "issuer": node.tokens["issuer"],
               "revoker": node.tokens["revoker"], "auditor": node.tokens["auditor"],
               "no token": None, "bad token": "ca_0123456789abcdef_" + "B" * 43}
    # Issue #16: a person's session passes the same checks as a token of the same role.
    for role in ("admin", "issuer", "revoker", "auditor"):
        callers[f"{role} session"] = enroll_person(node, node.origin, admin,
                                                   f"{role}@matrix.example", [role])
    callers["bad session"] = Session("credanchor_session=0123456789abcdef.AAAA", "x" * 43,
                                     node.origin, None)
    counter = iter(range(10**6))

    def invited_user():
        r = node.request("POST", "/v1/users", token=admin, body={
            "email": f"u{next(counter)}@matrix.example", "name": "Matrix", "roles": ["auditor"]})
        return json.loads(r.body)["user"]["id"]

    def fresh_token_id():
        r = node.request("POST", "/v1/tokens", token=admin, body={"role": "auditor"})
        return json.loads(r.body)["id"]

    def disabled_user():
        uid = invited_user()
        node.request("POST", f"/v1/users/{uid}/disable", token=admin, body={})
        return uid

    def fresh_hook():
        # On loopback and not allow-listed: the address guard refuses every delivery before a
        # packet leaves (the matrix issues credentials, which these endpoints subscribe to).
        r = node.request("POST", "/v1/webhooks", token=admin, body={
            "url": f"https://localhost:9/{next(counter)}", "events": ["credential.issued"]})
        return json.loads(r.body)["id"]

    def fresh_credential():
        r = node.request("POST", "/v1/credentials", token=node.tokens["issuer"],
                         body={"credential": unsigned(f"did:example:m{next(counter)}")})
        return r.json()

    def enc(ref):
        return urllib.parse.quote(ref, safe="")

    def change(action):
        return lambda tok: node.request(
            "POST", f"/v1/credentials/{enc(fresh_credential()['id'])}/{action}", token=tok)

    by_number = fresh_credential()["issueNumber"]
    routes = [
        ("POST /v1/log/entries", {"admin", "issuer"}, 200,
         lambda tok: node.request("POST", "/v1/log/entries", token=tok,
                                  body={"digests": ca.random_digests(1)})),
        ("POST /v1/credentials", {"admin", "issuer"}, 201,
         lambda tok: node.request("POST", "/v1/credentials", token=tok,
                                  body={"credential": unsigned("did:example:matrix")})),
        ("POST /v1/credentials/batch", {"admin", "issuer"}, 200,
         lambda tok: node.request("POST", "/v1/credentials/batch", token=tok, body=[
             {"externalId": f"M-{next(counter)}", "email": "m@bizm.example",
              "course": "security-awareness-2026", "completedAt": "2026-06-01"}])),
        ("POST /v1/rosters/csv", {"admin", "issuer"}, 200,
         lambda tok: node.request("POST", "/v1/rosters/csv", token=tok, body=ROSTER_XLSX,
                                  headers={"Content-Type": xlsx_fixture.XLSX})),
        ("POST /v1/credentials/{id}/revoke", {"admin", "revoker"}, 200, change("revoke")),
        ("POST /v1/credentials/{id}/suspend", {"admin", "revoker"}, 409, change("suspend")),
        ("POST /v1/credentials/{id}/reinstate", {"admin", "revoker"}, 409, change("reinstate")),
        ("GET /v1/credentials", {"admin", "auditor"}, 200,
         lambda tok: node.get("/v1/credentials", token=tok)),
        ("GET /v1/reports/summary", {"admin", "auditor"}, 200,
         lambda tok: node.get("/v1/reports/summary", token=tok)),
        ("GET /v1/reports/summary.pdf", {"admin", "auditor"}, 200,
         lambda tok: node.get("/v1/reports/summary.pdf?lang=en", token=tok)),
        ("GET /v1/credentials?format=xlsx", {"admin", "auditor"}, 200,
         lambda tok: node.get("/v1/credentials?format=xlsx&department=none", token=tok)),
        ("GET /v1/reports/certificates.zip", {"admin", "auditor"}, 200,
         lambda tok: node.get("/v1/reports/certificates.zip?department=none", token=tok)),
        ("GET /v1/credentials/{issueNumber}", {"admin", "auditor"}, 200,
         lambda tok: node.get(f"/v1/credentials/{by_number}", token=tok)),
        ("GET /v1/credentials/{issueNumber}/certificate.pdf", {"admin", "auditor"}, 200,
         lambda tok: node.get(f"/v1/credentials/{by_number}/certificate.pdf", token=tok)),
        ("GET /v1/credentials/{issueNumber}/badge.png", {"admin", "auditor"}, 200,
         lambda tok: node.get(f"/v1/credentials/{by_number}/badge.png", token=tok)),
        ("GET /v1/credentials/{issueNumber}/badge.svg", {"admin", "auditor"}, 200,
         lambda tok: node.get(f"/v1/credentials/{by_number}/badge.svg", token=tok)),
        ("GET /v1/credentials/{issueNumber}/verification", {"admin", "auditor"}, 200,
         lambda tok: node.get(f"/v1/credentials/{by_number}/verification", token=tok)),
        ("POST /v1/anchors", {"admin"}, 503,
         lambda tok: node.request("POST", "/v1/anchors", token=tok)),
        ("GET /v1/anchors/account", {"admin", "auditor"}, 200,
         lambda tok: node.get("/v1/anchors/account", token=tok)),
        ("GET /v1/users", {"admin"}, 200, lambda tok: node.get("/v1/users", token=tok)),
        ("POST /v1/users", {"admin"}, 201,
         lambda tok: node.request("POST", "/v1/users", token=tok, body={
             "email": f"n{next(counter)}@matrix.example", "name": "New", "roles": ["issuer"]})),
        ("POST /v1/users/{id}/disable", {"admin"}, 200,
         lambda tok: node.request("POST", f"/v1/users/{invited_user()}/disable", token=tok,
                                  body={"reason": "matrix"})),
        ("POST /v1/users/{id}/enable", {"admin"}, 200,
         lambda tok: node.request("POST", f"/v1/users/{disabled_user()}/enable", token=tok,
                                  body={})),
        ("GET /v1/tokens", {"admin"}, 200, lambda tok: node.get("/v1/tokens", token=tok)),
        ("POST /v1/tokens", {"admin"}, 201,
         lambda tok: node.request("POST", "/v1/tokens", token=tok, body={"role": "auditor"})),
        ("POST /v1/tokens/{id}/revoke", {"admin"}, 200,
         lambda tok: node.request("POST", f"/v1/tokens/{fresh_token_id()}/revoke", token=tok)),
        ("GET /v1/templates", {"admin", "issuer"}, 200,
         lambda tok: node.get("/v1/templates", token=tok)),
        # Issue #17 "Templates": the matrix's templates_dir is the repository's, so the writes
        # are ones the node refuses after the role check without writing (412, 400).
        ("GET /v1/templates/{name}", {"admin", "issuer"}, 200,
         lambda tok: node.get("/v1/templates/security-awareness-2026", token=tok)),
        ("PUT /v1/templates/{name}", {"admin"}, 412,
         lambda tok: node.request("PUT", "/v1/templates/security-awareness-2026", token=tok,
                                  headers={"If-Match": '"' + "0" * 64 + '"'},
                                  body={"template": unsigned("did:example:t")})),
        ("POST /v1/templates", {"admin"}, 400,
         lambda tok: node.request("POST", "/v1/templates", token=tok,
                                  body={"name": "Not_A_Name", "template": {}})),
        ("POST /v1/templates/{name}/preview.pdf", {"admin"}, 200,
         lambda tok: node.request("POST", "/v1/templates/security-awareness-2026/preview.pdf",
                                  token=tok, body={})),
        ("GET /v1/audit/verify", {"admin", "auditor"}, 200,
         lambda tok: node.get("/v1/audit/verify", token=tok)),
        ("GET /v1/audit", {"admin", "auditor"}, 200,
         lambda tok: node.get("/v1/audit?limit=1", token=tok)),
        # Issue #18: deliveries and webhooks.
        ("GET /v1/credentials/{id}/deliveries", {"admin", "auditor"}, 200,
         lambda tok: node.get(f"/v1/credentials/{by_number}/deliveries", token=tok)),
        ("POST /v1/credentials/{id}/deliveries/resend", {"admin", "issuer"}, 404,
         lambda tok: node.request("POST", f"/v1/credentials/{by_number}/deliveries/resend",
                                  token=tok)),
        ("GET /v1/webhooks", {"admin"}, 200, lambda tok: node.get("/v1/webhooks", token=tok)),
        ("POST /v1/webhooks", {"admin"}, 201,
         lambda tok: node.request("POST", "/v1/webhooks", token=tok, body={
             "url": "https://localhost:9/m", "events": ["credential.issued"]})),
        ("POST /v1/webhooks/{id}/rotate", {"admin"}, 200,
         lambda tok: node.request("POST", f"/v1/webhooks/{fresh_hook()}/rotate", token=tok)),
        ("GET /v1/webhooks/{id}/deliveries", {"admin"}, 200,
         lambda tok: node.get(f"/v1/webhooks/{fresh_hook()}/deliveries", token=tok)),
        ("POST /v1/webhooks/{id}/deliveries/{seq}/replay", {"admin"}, 404,
         lambda tok: node.request("POST", f"/v1/webhooks/{fresh_hook()}/deliveries/7/replay",
                                  token=tok)),
        ("DELETE /v1/webhooks/{id}", {"admin"}, 200,
         lambda tok: node.request("DELETE", f"/v1/webhooks/{fresh_hook()}", token=tok)),
        ("PUT /v1/users/{id}/roles", {"admin"}, 200,
         lambda tok: node.request("PUT", f"/v1/users/{invited_user()}/roles", token=tok,
                                  body={"roles": ["revoker"]})),
    ]
    for name, allowed, ok_status, call in routes:
        for who, tok in callers.items():
            want = (401 if who in ("no token", "bad token", "bad session") else
                    ok_status if who.split()[0] in allowed else 403)
            r = call(tok)
            t.eq(r.status, want, f"matrix {name} as {who}")
            if want >= 400:
                t.ok(r.is_problem(want), f"matrix {name} as {who}: problem+json")


MATRIX_PORT = ca.free_port()
with ca.Node(roles=["admin", "issuer", "revoker", "auditor"],
             env={"CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": os.path.dirname(TEMPLATE),
                  "CREDANCHOR_NODE_PUBLIC_URL": f"http://localhost:{MATRIX_PORT}"}) as node:
    node.origin = f"http://localhost:{MATRIX_PORT}"
    expired = node.create_token("issuer", "--expires", "1s")
    revoked = node.create_token("issuer")
    revoked_id = revoked[3:19]
    ca.run_cli("token", "revoke", revoked_id, data_dir=node.data_dir, env=node.env)
    created = time.time()
    node.start(port=MATRIX_PORT)
    time.sleep(max(0.0, 2.2 - (time.time() - created)))  # let the 1 s token expire

    d = ca.random_digests(1)

    def post(token=None, headers=None):
        h = {"Content-Type": "application/json"}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        return node.request("POST", "/v1/log/entries", body=json.dumps({"digests": d}),
                            headers=h)

    r = post()
    t.eq(r.status, 401, "no token: 401")
    t.ok(r.is_problem(401), "no token: problem+json")
    t.ok(r.headers.get("www-authenticate", "").startswith("Bearer"),
         "no token: WWW-Authenticate: Bearer")
    t.eq(r.headers.get("cache-control"), "no-store", "401 is no-store")
    for role in ("revoker", "auditor"):
        r = post(node.tokens[role])
        t.eq(r.status, 403, f"role {role}: 403")
        t.ok(r.is_problem(403), f"role {role}: problem+json")
        t.ok("admin or issuer" in r.json().get("detail", ""),
             f"role {role}: the 403 names the roles that may ({r.json().get('detail')!r})")
    for what, tok in [("expired", expired), ("revoked", revoked),
                      ("unknown", "ca_0123456789abcdef_" + "A" * 43),
                      ("garbage", "not-a-token"), ("empty", ""),
                      ("issuer with one char changed",
                       node.tokens["issuer"][:-1] + ("A" if node.tokens["issuer"][-1] != "A"
                                                     else "B"))]:
        r = post(tok)
        t.eq(r.status, 401, f"{what} token: 401")
        t.ok(r.is_problem(401) and r.headers.get("www-authenticate", "").startswith("Bearer"),
             f"{what} token: problem+json with WWW-Authenticate")
    for what, value in [("Basic scheme", "Basic dXNlcjpwYXNz"),
                        ("scheme only", "Bearer"),
                        ("no space", "Bearer" + node.tokens["issuer"]),
                        ("overlong", "Bearer " + "x" * 5000)]:
        r = post(headers={"Authorization": value})
        t.eq(r.status, 401, f"Authorization {what}: 401")
        t.ok(r.is_problem(401), f"Authorization {what}: problem+json")
    r = post(node.tokens["issuer"])
    t.eq(r.status, 200, "issuer: 200")
    t.eq(r.json()["entries"][0]["leafIndex"], 0, "issuer: appended at 0")
    r = post(node.tokens["admin"])
    t.eq(r.status, 200, "admin: 200 (admin may do what any role may)")
    r = post(headers={"Authorization": "bearer  " + node.tokens["issuer"] + " "})
    t.eq(r.status, 200, "scheme is case-insensitive, spaces tolerated")

    # Public routes need no token, and a token does not hurt them.
    for path in ("/v1/health", "/v1/checkpoint", "/v1/log/key", "/v1/log/keys", "/metrics",
                 f"/v1/log/proof?digest={d[0]}", "/v1/log/consistency?from=1&to=1",
                 "/tlog/checkpoint", "/tlog/tile/0/000.p/1", "/tlog/tile/entries/000.p/1"):
        r = node.get(path)
        t.eq(r.status, 200, f"public {path} without a token")
    r = node.get("/v1/health", token=node.tokens["auditor"])
    t.eq(r.status, 200, "public route with a token")

    # Tokens are managed while the node serves: a new token works at once, and a revoked one
    # is refused on the very next request (no restart, no downtime).
    live = node.create_token("issuer")
    r = post(token=live)
    t.eq(r.status, 200, "token created while serving: accepted at once")
    ca.run_cli("token", "revoke", live[3:19], data_dir=node.data_dir, env=node.env)
    r = post(token=live)
    t.eq(r.status, 401, "token revoked while serving: refused on the next request")

    role_matrix(node)

    # Issue #13 item 16: a flood of 403s with one token is not one synced entry each; past
    # the limit it gets 429 with Retry-After, and the repeats end up as one count entry.
    def audit_count():
        p = ca.run_cli("audit", "verify", "--json", data_dir=node.data_dir, env=node.env,
                       check=False)
        return json.loads(p.stdout).get("entries", 0)
    # A token of its own: the role matrix above already spent some of the revoker's denials.
    # Its creation and its first 403 are entries of their own; every repeat after that is not.
    flooder = node.create_token("revoker")
    first = post(flooder).status
    before = audit_count()
    codes = [first] + [post(flooder).status for _ in range(59)]
    t.eq(codes.count(403) + codes.count(429), 60, "flood: only 403s and 429s")
    t.ok(codes[:28] == [403] * 28 and codes[-1] == 429,
         f"flood: 403 up to the limit, then 429 ({codes.count(403)} x 403)")
    r = post(flooder)
    t.ok(r.status == 429 and int(r.headers.get("retry-after", "0")) > 0,
         "flood 429 has Retry-After")
    t.eq(audit_count() - before, 0, "flood: no entry per repeat")
    t.eq(node.stop(), 0, "serve exits 0")
    log = open(node.log_path, errors="replace").read()
    secrets = [tok for tok in list(node.tokens.values()) + [expired, revoked]]
    # The secret is everything after "ca_<16 hex>_" (it may itself contain "_").
    t.ok(not any(s[20:] in log for s in secrets), "no token secret in the server log")

    # The audit chain: token creations/revocation plus 2 forbidden + 3 successful writes
    # before the matrix, and the matrix's writes.
    p = ca.run_cli("audit", "verify", "--json", data_dir=node.data_dir, env=node.env,
                   check=False)
    t.eq(p.returncode, 0, f"audit verify exits 0 ({p.stderr.strip()})")
    try:
        a = json.loads(p.stdout)
        t.ok(a.get("intact") is True, "audit chain intact")
        # 6 token creates + 1 revoke from the CLI, then 2 x 403 and 3 x 200 over HTTP.
        t.ok(a.get("entries", 0) >= 15, f"audit entries ({a.get('entries')}) >= 15")
    except ValueError:
        t.ok(False, f"audit verify --json output: {p.stdout!r}")
    node.stop()
    entries = ca.run_cli("audit", "list", "--json", "--token", flooder.split("_")[1],
                         data_dir=node.data_dir, env=node.env).stdout
    agg = [e for e in json.loads(entries) if "more denied attempts" in (e["detail"] or "")]
    t.ok(len(agg) == 1 and agg[0]["detail"].startswith("60 more"),
         f"flood: one count entry at stop ({[e['detail'] for e in agg]})")

t.finish()
