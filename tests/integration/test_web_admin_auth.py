#!/usr/bin/env python3
"""People's sign-in in the browser (issue #16): web/admin/ in Debian's Chromium
(tests/interop/web_admin_auth_peer.mjs: playwright-core with executablePath, CDP virtual
authenticators doing real WebAuthn ceremonies, @axe-core/playwright), and the session's
CSRF and Origin rules from Python (urllib only).

Run 1, http://localhost:<port> (the development cookie):
  1. `credanchor user invite --email admin@example.com --role admin` prints one URL
     (<public_url>/admin/enroll#<secret>); the page enrolls a passkey, removes the fragment
     from the address bar, shows ten distinct recovery codes once, and continues to the
     console's home (/admin/, issue #17); the account page (/admin/account) then shows the
     user (id, name, email, roles), one passkey and this session. The cookie is
     credanchor_session: HttpOnly, SameSite=Strict, not Secure. The used invite, opened again,
     and an enroll URL without a fragment both say so on the page (data-error).
  2. Sign out (the session answers 401 after), sign in with the passkey (discoverable: the
     assertion names the enrolled credential): the console's home again.
  3. A second passkey from a second authenticator (the first removed): the options exclude
     the first, the page lists two, and signing in uses the new one.
  4. The authenticator's credentials cleared: passkey sign-in fails on the page; email + a
     recovery code signs in to the account page's "add a passkey" only (other routes 403);
     adding one opens the account; the same code a second time is refused.
  5. A second user whose first ceremony fails user verification (the page says it was
     cancelled; a retry works), then `credanchor user disable <id>`: at once the open
     session's API calls are 401, the page goes to sign-in, and the passkey sign-in is refused;
     the admin's session is unaffected.
  8. The pages' CSP (no inline script, connect-src 'self', frame-ancestors 'none'), no-store,
     nosniff; no CSP violation in any console; axe finds no serious or critical violation on
     enroll, sign-in and account pages (English and Korean); screenshots in
     $CA_BUILD_DIR/web_admin_auth_artefacts.
  API: with the cookie of a recovery-code session, POST /v1/auth/signout without
  X-CSRF-Token is 403, with a foreign Origin 403, without Origin 403; the session survives
  them; the right request is 204 and the session then 401. An unauthenticated POST under
  /v1/auth/ with a foreign Origin is 403.
Run 2 (case 6), auth.idle_timeout = 10s in the node's config file: after 12 s idle the account
  page goes to sign-in by itself, and the session is 401. (10 s, not less: on a loaded 2-core
  machine the steps from enrolment to the account page once took over 3 s, which ended the
  session before the idle wait began.)
Run 3 (case 7), behind nginx with TLS at https://localhost:<port> (RP ID localhost): enroll,
  sign out, sign in; the cookie is __Host-credanchor with Secure, HttpOnly, SameSite=Strict,
  Path=/ and no Domain, and every POST the pages sent carried the page's Origin.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

c = ca.Checks("web_admin_auth")
SRC = os.environ["CA_SOURCE_DIR"]
PEER = os.path.join(SRC, "tests", "interop", "web_admin_auth_peer.mjs")
ARTEFACTS = os.environ.get("CA_ARTEFACTS") or os.path.join(
    os.environ.get("CA_BUILD_DIR", tempfile.gettempdir()), "web_admin_auth_artefacts")
CODE_RE = re.compile(r"^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$")
PAGES = ("/admin/signin", "/admin/enroll")


def run_peer(tmp, scenario, node, base, spki=None, **extra):
    plan = os.path.join(tmp, f"plan-{scenario}.json")
    with open(plan, "w") as f:
        json.dump({"scenario": scenario, "base": base, "artefacts": ARTEFACTS, "spki": spki,
                   "cli": {"bin": ca.BIN, "dataDir": node.data_dir, "env": node.env}, **extra}, f)
    env = dict(os.environ, CA_PLAN=plan,
               NODE_PATH=os.path.join(SRC, "tests", "interop", "node_modules"))
    p = subprocess.run(["node", PEER], capture_output=True, text=True, env=env,
                       timeout=ca.scaled(400), cwd=os.path.join(SRC, "tests", "interop"))
    out = {}
    for line in p.stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        out[o["step"]] = o
    c.eq(p.returncode, 0, f"{scenario}: the browser peer ran: {p.stderr[-2000:]}")
    for name, o in out.items():
        c.ok("error" not in o, f"{scenario}: step {name!r} ran ({o.get('error', '')[:1500]})\n"
             f"node log: {node.log_text()[-1500:] if 'error' in o else ''}")
    return out


def no_serious(violations, what):
    serious = [v for v in violations or [] if v["impact"] in ("serious", "critical")]
    c.ok(violations is not None and not serious,
         f"{what}: axe finds no serious or critical violation ({serious})")


def cookie(cookies, name):
    return next((k for k in cookies or [] if k["name"] == name), None)


def account_path(node):
    """The account page is "/admin/account" (issue #17 moved it from "/admin/", now the
    console's home); "/admin" answers 308 to "/admin/", keeping ?lang=."""
    r = node.get("/admin?lang=en")
    c.ok(r.status == 308 and r.headers.get("location") == "/admin/?lang=en",
         f"GET /admin: 308 to /admin/?lang=en ({r.status} {r.headers.get('location')})")
    r = node.get("/admin?lang=%22%3E%3Cscript%3E")
    c.ok(r.status == 308 and r.headers.get("location") in ("/admin/?lang=en", "/admin/?lang=ko"),
         f"GET /admin?lang=<junk>: a known language in Location ({r.headers.get('location')})")
    return "/admin/account"


# ---- headers (case 8) -------------------------------------------------------------------------

def header_checks(node):
    for path in PAGES + ("/admin/", account_path(node)):
        r = node.request("GET", path, headers={"Accept": "text/html"})
        c.ok(r.status == 200 and r.ctype.startswith("text/html"), f"GET {path}: HTML ({r.status} {r.ctype})")
        csp = r.headers.get("content-security-policy", "")
        d = dict(x.strip().split(" ", 1) for x in csp.split(";") if " " in x.strip())
        c.ok(csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp,
             f"GET {path}: a CSP without unsafe-* ({csp})")
        c.eq(d.get("default-src"), "'self'", f"GET {path}: CSP default-src")
        c.ok(d.get("script-src", "").startswith("'self' 'sha256-") and
             len(d.get("script-src", "").split()) == 2,
             f"GET {path}: CSP script-src 'self' and the import map's hash ({d.get('script-src')})")
        c.eq(d.get("connect-src"), "'self'", f"GET {path}: CSP connect-src")
        c.eq(d.get("frame-ancestors"), "'none'", f"GET {path}: CSP frame-ancestors")
        c.eq(r.headers.get("cache-control"), "no-store", f"GET {path}: Cache-Control")
        c.eq(r.headers.get("x-content-type-options"), "nosniff", f"GET {path}: nosniff")
        html = r.body.decode()
        c.ok("<script>" not in html and not re.search(r"<script(?![^>]*\b(type=\"(importmap|"
                                                     r"application/json|module)\"))", html),
             f"GET {path}: no classic inline script")
        c.ok(not re.search(r"<[^>]+\son[a-z]+\s*=", html), f"GET {path}: no inline event handler")
        r = node.request("GET", path, headers={"Accept": "text/html", "Accept-Language": "ko-KR,ko;q=0.9"})
        c.ok(r.headers.get("content-language") == "ko" and '<html lang="ko">' in r.body.decode(),
             f"GET {path} with Accept-Language ko: the Korean page")
        r = node.request("GET", path + "?lang=ko", headers={"Accept-Language": "en"})
        c.eq(r.headers.get("content-language"), "ko", f"GET {path}?lang=ko: Korean")
        c.eq(node.get(path + "?secret=x").status, 400, f"GET {path}?secret=x: 400")


# ---- the session's CSRF and Origin rules (API) -----------------------------------------------

def post(node, path, body=None, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return node.request("POST", path, body=json.dumps(body if body is not None else {}), headers=h)


def set_cookie_of(r):
    """The name=value of the response's Set-Cookie, and the header itself."""
    h = r.headers.get("set-cookie", "")
    return h.split(";", 1)[0], h


def api_checks(node, base, codes):
    foreign = "http://evil.example"
    r = post(node, "/v1/auth/recover", {"email": "admin@example.com", "code": codes[2]},
             {"Origin": foreign})
    c.eq(r.status, 403, f"POST /v1/auth/recover with a foreign Origin: 403 ({r.body[:200]!r})")
    r = post(node, "/v1/auth/signin/options", {}, {"Origin": foreign})
    c.eq(r.status, 403, "POST /v1/auth/signin/options with a foreign Origin: 403")
    r = post(node, "/v1/auth/recover", {"email": "admin@example.com", "code": codes[1]}, {"Origin": base})
    if not c.eq(r.status, 200, f"POST /v1/auth/recover with a fresh code: {r.body[:300]!r}"):
        return
    a = r.json()
    jar, raw = set_cookie_of(r)
    csrf = a.get("csrf", "")
    c.ok(jar.startswith("credanchor_session=") and "HttpOnly" in raw and
         re.search(r"SameSite=Strict", raw, re.I) and "Secure" not in raw,
         f"recover: the development cookie ({raw})")
    c.eq(a.get("mustEnrollPasskey"), True, "recover: mustEnrollPasskey")
    with_cookie = {"Cookie": jar}
    r = post(node, "/v1/auth/signout", {}, {**with_cookie, "Origin": base})
    c.eq(r.status, 403, f"POST /v1/auth/signout with the cookie, no X-CSRF-Token: 403 ({r.body[:200]!r})")
    r = post(node, "/v1/auth/signout", {}, {**with_cookie, "Origin": foreign, "X-CSRF-Token": csrf})
    c.eq(r.status, 403, f"POST /v1/auth/signout with a foreign Origin: 403 ({r.body[:200]!r})")
    r = post(node, "/v1/auth/signout", {}, {**with_cookie, "X-CSRF-Token": csrf})
    c.eq(r.status, 403, f"POST /v1/auth/signout without Origin: 403 ({r.body[:200]!r})")
    r = post(node, "/v1/auth/signout", {}, {**with_cookie, "Origin": base, "X-CSRF-Token": csrf + "x"})
    c.eq(r.status, 403, "POST /v1/auth/signout with a wrong X-CSRF-Token: 403")
    r = node.request("GET", "/v1/auth/session", headers=with_cookie)
    c.eq(r.status, 200, "the session survived the refused sign-outs")
    r = node.request("GET", "/v1/sessions", headers=with_cookie)
    c.eq(r.status, 403, "a recovery-code session may not list sessions before adding a passkey")
    r = post(node, "/v1/auth/signout", {}, {**with_cookie, "Origin": base, "X-CSRF-Token": csrf})
    c.eq(r.status, 204, f"POST /v1/auth/signout with Origin and X-CSRF-Token: 204 ({r.body[:200]!r})")
    c.ok("Max-Age=0" in r.headers.get("set-cookie", ""), f"sign-out clears the cookie "
         f"({r.headers.get('set-cookie')})")
    r = node.request("GET", "/v1/auth/session", headers=with_cookie)
    c.eq(r.status, 401, "after sign-out the cookie is dead")


# ---- run 1: cases 1-5 and 8 ------------------------------------------------------------------

def judge_main(got, base):
    """Judges the main scenario's steps in order, up to the first that did not run (the
    peer stops there, and that failure is already counted); returns the recovery codes."""
    codes = []
    s1 = got.get("1 invite and enroll", {})
    if not s1 or "error" in s1:
        return codes
    out = s1.get("inviteOutput", "")
    c.ok(len(out.splitlines()) == 1 and re.fullmatch(re.escape(base) + r"/admin/enroll#[A-Za-z0-9_-]{16,}", out),
         f"1: `user invite` prints one enrollment URL ({out!r})")
    before, after = s1.get("before", {}), s1.get("after", {})
    c.eq(before.get("page"), "admin-enroll", "1: the enroll page")
    c.eq(before.get("hash"), "", "1: the invite secret is removed from the address bar")
    c.eq(before.get("invitee"), "Ada Admin", "1: the enroll page names the invitee")
    codes = after.get("codes", [])
    c.ok(len(codes) == 10 and len(set(codes)) == 10 and all(CODE_RE.match(x) for x in codes),
         f"1: ten distinct recovery codes shown ({codes})")
    c.eq(after.get("state"), "done", "1: the enroll page is done")
    creds = s1.get("credentials", [])
    c.ok(len(creds) == 1 and creds[0]["resident"], f"1: one resident credential made ({creds})")
    home = s1.get("home", {})
    c.ok(home.get("path") == "/admin/" and home.get("page") == "admin-credentials",
         f"1: enrolled, the console's home next ({home.get('path')}, {home.get('page')})")
    acc = s1.get("account", {})
    c.eq(acc.get("page"), "admin-account", "1: the account page")
    c.ok(acc.get("userId"), f"1: the account page names the user ({acc.get('userId')})")
    c.eq((acc.get("name"), acc.get("email")), ("Ada Admin", "admin@example.com"), "1: name and email")
    c.ok("administrator" in (acc.get("roles") or ""), f"1: the admin role ({acc.get('roles')})")
    c.eq(acc.get("passkeys"), [x["id"] for x in creds], "1: my passkeys: the enrolled credential")
    c.ok(len(acc.get("sessions", [])) == 1 and acc["sessions"][0]["current"],
         f"1: my sessions: this one ({acc.get('sessions')})")
    k = cookie(s1.get("cookies"), "credanchor_session")
    c.ok(k and k["httpOnly"] and not k["secure"] and k["sameSite"] == "Strict" and k["path"] == "/",
         f"1: on http://localhost the cookie is credanchor_session, HttpOnly, SameSite=Strict, not "
         f"Secure ({s1.get('cookies')})")
    c.ok(cookie(s1.get("cookies"), "__Host-credanchor") is None, "1: no __Host- cookie on http")
    ko = s1.get("accountKo", {})
    c.ok(ko.get("lang") == "ko" and "관리자" in (ko.get("roles") or ""), f"1: the Korean account page ({ko.get('roles')})")
    try:
        users = json.loads(s1.get("cliList", "null"))
        users = users.get("users", users) if isinstance(users, dict) else users
        me = next(u for u in users if u.get("id") == acc.get("userId"))
        c.eq(me.get("state"), "active", "1: `user list --json`: the user is active")
    except (ValueError, StopIteration, TypeError, AttributeError) as e:
        c.ok(False, f"1: `user list --json` lists the user ({e}: {s1.get('cliList', '')[:300]})")

    b = got.get("1b the used invite again", {})
    if not b or "error" in b:
        return codes
    c.ok(b.get("look", {}).get("error") and "이미 사용" in b["look"]["error"],
         f"1: the used invite: the page says so, in Korean ({b.get('look', {}).get('error')})")
    c.ok(b.get("noFragment", {}).get("error"), f"1: an enroll URL without its secret says so "
         f"({b.get('noFragment', {}).get('error')})")

    s2 = got.get("2 sign out, sign in", {})
    if not s2 or "error" in s2:
        return codes
    c.eq(s2.get("signedOut", {}).get("page"), "admin-signin", "2: sign-out leads to the sign-in page")
    c.eq(s2.get("sessionAfterSignout"), 401, "2: after sign-out GET /v1/auth/session is 401")
    c.ok(cookie(s2.get("cookiesAfterSignout"), "credanchor_session") is None,
         f"2: the cookie is gone ({s2.get('cookiesAfterSignout')})")
    c.ok(s2.get("signedOut", {}).get("lang") == "ko", "2: sign-out keeps the language chosen with ?lang=")
    c.eq(s2.get("signinEn", {}).get("h1"), "Sign in", "2: the English sign-in page")
    c.ok(s2.get("signinKo", {}).get("h1") == "로그인", f"2: the Korean sign-in page ({s2.get('signinKo', {}).get('h1')})")
    si = s2.get("signedIn", {})
    c.ok(si.get("page") == "admin-credentials" and si.get("userId") == acc.get("userId"),
         f"2: signed in with the passkey, the console's home ({si.get('page')}, {si.get('error')})")
    c.eq(s2.get("usedCredential"), (creds or [{}])[0].get("id"), "2: the assertion used the enrolled passkey")
    c.ok(s2.get("credentials", [{}])[0].get("signCount", 0) >= 1, "2: the authenticator counted a signature")

    s3 = got.get("3 a second passkey", {})
    if not s3 or "error" in s3:
        return codes
    second = s3.get("second", [])
    c.ok(len(second) == 1 and second[0]["id"] != creds[0]["id"] if creds else False,
         f"3: the second authenticator made a new credential ({second})")
    c.eq(sorted(s3.get("added", {}).get("passkeys", [])), sorted([creds[0]["id"], second[0]["id"]])
         if creds and second else None, "3: my passkeys lists both")
    c.ok((s3.get("optionsBody") or {}).get("sentCsrf"), f"3: the page sent X-CSRF-Token ({s3.get('optionsBody')})")
    c.eq((s3.get("optionsBody") or {}).get("origin"), base, "3: the page's POST carried its Origin")
    c.eq(s3.get("signedIn", {}).get("page"), "admin-credentials", "3: signed in again")
    c.eq(s3.get("usedCredential"), second[0]["id"] if second else None, "3: with the second passkey")

    s4 = got.get("4 a recovery code", {})
    if not s4 or "error" in s4:
        return codes
    c.eq(s4.get("cleared"), [], "4: the authenticator holds no credential")
    c.ok(s4.get("noPasskey", {}).get("error") and s4["noPasskey"].get("page") == "admin-signin",
         f"4: passkey sign-in without a credential shows an error ({s4.get('noPasskey', {}).get('error')})")
    rec = s4.get("recovered", {})
    c.ok(rec.get("page") == "admin-account" and rec.get("mustEnroll") and rec.get("addShown") and
         not rec.get("whoShown") and not rec.get("sessionsShown"),
         f"4: a recovery code leads to 'add a passkey' only ({rec})")
    c.eq(s4.get("passkeysWhileRecovering"), 403, "4: before a new passkey, GET /v1/auth/passkeys is 403")
    c.eq(s4.get("sessionsWhileRecovering"), 403, "4: before a new passkey, GET /v1/sessions is 403")
    en = s4.get("enrolled", {})
    c.ok(not en.get("mustEnroll") and en.get("whoShown") and len(en.get("passkeys", [])) == 3,
         f"4: after adding a passkey the account works, three passkeys ({en.get('passkeys')}, {en.get('error')})")
    c.eq(s4.get("passkeysAfter"), 200, "4: GET /v1/auth/passkeys is 200 after")
    again = s4.get("codeAgain", {})
    c.ok(again.get("page") == "admin-signin" and again.get("error"),
         f"4: the same recovery code a second time is refused ({again.get('error')})")
    c.eq(s4.get("signedIn", {}).get("page"), "admin-credentials", "4: the new passkey signs in")

    s5 = got.get("5 a disabled user", {})
    if not s5 or "error" in s5:
        return codes
    c.ok(s5.get("cancelled", {}).get("error") and s5["cancelled"].get("state") == "error",
         f"5: a failed ceremony is reported on the page ({s5.get('cancelled', {}).get('error')})")
    c.ok(s5.get("cancelled", {}).get("error", "").lower().find("cancel") >= 0,
         "5: ... as cancelled")
    c.eq(len(s5.get("enrolled", {}).get("codes", [])), 10, "5: the retry enrolls")
    c.ok(s5.get("home", {}).get("page") == "admin-upload" and s5["home"].get("path") == "/admin/upload",
         f"5: an issuer's console home is the roster upload, the list needing the auditor role "
         f"({s5.get('home')})")
    c.ok(s5.get("account", {}).get("userId") and s5["account"].get("email") == "bob@example.com",
         "5: Bob's account page")
    c.eq(s5.get("sessionApi"), 401, "5: disabled: the open session's GET /v1/auth/session is 401 at once")
    c.eq(s5.get("sessionsApi"), 401, "5: disabled: GET /v1/sessions is 401")
    c.eq(s5.get("afterReload", {}).get("page"), "admin-signin", "5: disabled: the account page goes to sign-in")
    c.ok(s5.get("signin", {}).get("page") == "admin-signin" and s5["signin"].get("error"),
         f"5: disabled: the passkey sign-in is refused ({s5.get('signin', {}).get('error')})")
    c.eq(s5.get("adminStillWorks"), 200, "5: the admin's session is unaffected")

    s8 = got.get("8 console", {})
    if not s8 or "error" in s8:
        return codes
    for name, lines in (("admin", s8.get("console")), ("bob", s5.get("console")),
                        ("used invite", b.get("console"))):
        csp = [x for x in lines or [] if "Content Security Policy" in x or "CSP violation" in x or
               "integrity" in x.lower()]
        c.ok(lines is not None and not csp, f"8: {name}: no CSP or SRI violation in the console ({csp})")
        odd = [x for x in lines or [] if "pageerror" in x]
        c.ok(not odd, f"8: {name}: no uncaught script error ({odd})")
    for what, v in (("enroll (codes)", s1.get("axeEnroll")), ("account", s1.get("axeAccount")),
                    ("account ko", s1.get("axeAccountKo")), ("enroll used, ko", b.get("axe")),
                    ("sign-in", s2.get("axeSignin")), ("sign-in ko", s2.get("axeSigninKo")),
                    ("account, add a passkey", s4.get("axeMustEnroll"))):
        no_serious(v, f"8: {what}")
    for shot in ("signin-en.png", "signin-ko.png", "account-en.png", "account-ko.png",
                 "enroll-codes-en.png", "enroll-used-ko.png"):
        p = os.path.join(ARTEFACTS, shot)
        c.ok(os.path.exists(p) and os.path.getsize(p) > 5000, f"8: screenshot {p}")
    return codes


def run_main(tmp):
    port = ca.free_port()
    base = f"http://localhost:{port}"
    with ca.Node(env={"CREDANCHOR_NODE_PUBLIC_URL": base}) as node:
        node.start(port=port)
        header_checks(node)
        got = run_peer(tmp, "main", node, base)
        codes = judge_main(got, base)
        if len(codes) == 10:
            api_checks(node, base, codes)


# ---- run 2: idle expiry (case 6) ---------------------------------------------------------------

class ConfiguredNode(ca.Node):
    """ca.Node whose serve (and CLI, through the peer) reads an INI config file too."""

    def __init__(self, config_text, **kw):
        super().__init__(**kw)
        self.config = os.path.join(self.tmp, "node.conf")
        with open(self.config, "w") as f:
            f.write(config_text)

    def start(self, wait=True, port=None):
        self.port = port or ca.free_port()
        self.env["CREDANCHOR_NODE_LISTEN"] = f"127.0.0.1:{self.port}"
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([ca.BIN, "serve", "--config", self.config, "--data-dir",
                                      self.data_dir], env=self.env, stdout=self.log, stderr=self.log)
        if wait:
            self.wait_healthy()
        return self


def run_idle(tmp):
    port = ca.free_port()
    base = f"http://localhost:{port}"
    conf = "[auth]\n# issue #16 test: sessions end after 10 s without a request\nidle_timeout = 10s\n"
    with ConfiguredNode(conf, env={"CREDANCHOR_NODE_PUBLIC_URL": base}) as node:
        node.start(port=port)
        # The effective config is at the log's start (node.log_text() is only its tail), and
        # stderr reaches the file within serve's 100 ms flush.
        deadline = time.time() + ca.scaled(5)
        while True:
            with open(node.log_path, errors="replace") as f:
                head = f.read()
            if re.search(r"idle_timeout\W+10", head) or time.time() > deadline:
                break
            time.sleep(0.1)
        c.ok(re.search(r"idle_timeout\W+10", head),
             f"6: serve runs with auth.idle_timeout 10 s from the file ({head[:800]})")
        got = run_peer(tmp, "idle", node, base, idleWaitMs=int(ca.scaled(12) * 1000))
        e = got.get("6 enroll", {})
        c.eq(e.get("home", {}).get("page"), "admin-credentials", "6: enrolled, on the console's home")
        c.eq(e.get("account", {}).get("page"), "admin-account", "6: on the account page")
        i = got.get("6 idle", {})
        c.eq(i.get("path"), "/admin/signin", f"6: after {i.get('waitedMs')} ms idle the account page went "
             "to sign-in by itself")
        c.eq(i.get("session"), 401, "6: the idle session is 401")


# ---- run 3: behind nginx with TLS (case 7) -----------------------------------------------------

def spki_of(cert):
    """base64 SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's
    --ignore-certificate-errors-spki-list)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def run_https(tmp):
    with ca.NginxFront(tmp) as front:
        with ca.Node(env={"CREDANCHOR_NODE_PUBLIC_URL": front.public_url}) as node:
            node.start()
            front.start(node.port)
            r = front.request("GET", "/admin/signin", headers={"Accept": "text/html"})
            c.ok(r.status == 200 and "max-age" in r.headers.get("strict-transport-security", ""),
                 f"7: the sign-in page through nginx with HSTS ({r.status})")
            got = run_peer(tmp, "https", node, front.public_url, spki=spki_of(front.cert))
            e = got.get("7 enroll", {})
            c.ok(e.get("url", "").startswith(front.public_url + "/admin/enroll#"),
                 f"7: the invite names the https public URL ({e.get('url')})")
            c.eq(len(e.get("after", {}).get("codes", [])), 10, "7: enrolled through nginx (RP ID localhost)")
            c.eq(e.get("home", {}).get("page"), "admin-credentials", "7: the console's home")
            c.eq(e.get("account", {}).get("page"), "admin-account", "7: the account page")
            for when, jar in (("enroll", e.get("cookies")), ("sign-in", got.get("7 sign out, sign in", {}).get("cookies"))):
                k = cookie(jar, "__Host-credanchor")
                c.ok(k and k["secure"] and k["httpOnly"] and k["sameSite"] == "Strict" and k["path"] == "/"
                     and k["domain"] == "localhost", f"7: {when}: the cookie is __Host-credanchor, Secure, "
                     f"HttpOnly, SameSite=Strict, Path=/ ({jar})")
                c.ok(cookie(jar, "credanchor_session") is None, f"7: {when}: no development cookie")
            s = got.get("7 sign out, sign in", {})
            c.eq(s.get("signedIn", {}).get("page"), "admin-credentials", "7: signed in with the passkey over TLS")
            c.ok(s.get("origins") and all(o == front.public_url for o in s["origins"]),
                 f"7: every POST carried the page's Origin ({s.get('origins')})")
            csp = [x for x in s.get("console") or [] if "Content Security Policy" in x or "CSP violation" in x]
            c.ok(not csp, f"7: no CSP violation ({csp})")


def main():
    if not shutil.which(os.environ.get("CA_CHROMIUM", "chromium")) and \
            not os.path.exists(os.environ.get("CA_CHROMIUM", "/usr/bin/chromium")):
        c.ok(False, "Debian's chromium is not installed (scripts/install-deps installs it)")
        c.finish()
    subprocess.run([os.path.join(SRC, "tests", "interop", "install-peers")], check=True)
    os.makedirs(ARTEFACTS, exist_ok=True)
    only = os.environ.get("CA_ONLY", "main,idle,https").split(",")
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("main", run_main), ("idle", run_idle), ("https", run_https)):
            if name in only:
                t0 = time.time()
                fn(tmp)
                print(f"web_admin_auth: {name} run took {time.time() - t0:.1f} s", flush=True)
    c.finish()


if __name__ == "__main__":
    main()
