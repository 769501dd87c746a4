#!/usr/bin/env python3
"""The dashboard's charts and date range (issue #17: "Completion dashboard: by department and
by course ... Charts with a small pinned library vendored from npm ... A date range"), in
Debian's Chromium (tests/interop/web_admin_charts_peer.mjs), judged against the API.

One node on http://localhost:<port> with two courses (config/templates' security awareness
course and a copy named privacy-basics-2026 in a temporary templates dir); the 166-person
roster issued by the batch route, odd rows moved to the second course, every fifth row with no
completedAt (an enrolment without a credential); three credentials revoked.
  0. The API: GET /v1/reports/summary?from=&to= counts the credentials issued in the range
     and the completions dated in it (everyone enrolled stays enrolled); bad dates, from after
     to and an unknown parameter are 400 problem+json; a range's CSV has the same figures.
  1. An auditor enrolls a passkey.
  2. The dashboard in English and Korean: each card's canvas is painted (non-blank pixels in
     several colours), role="img" with an aria-label naming its groups; the tables' figures are
     GET /v1/reports/summary's (issued, completed / enrolled, rate, revoked, suspended).
  3. The range form: three ranges typed in turn, each re-querying, the totals and tables equal
     to the API's answer for that range, the totals' title naming the range; a range whose start
     is after its end is refused on the page (nothing queried); Back returns to the range before;
     Clear returns to all time; a link with #from=&to= opens the Korean page on that range.
  4. axe finds no violation on any view; no CSP violation, SRI failure or script error in the
     console; screenshots charts-{en,ko}.png, charts-range-{en,ko}.png in
     $CA_BUILD_DIR/web_admin_charts_artefacts.
"""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

c = ca.Checks("web_admin_charts")
SRC = os.environ["CA_SOURCE_DIR"]
PEER = os.path.join(SRC, "tests", "interop", "web_admin_charts_peer.mjs")
ROSTER = os.path.join(SRC, "tests", "data", "participants-166.csv")
TEMPLATES = os.path.join(SRC, "config", "templates")
ARTEFACTS = os.environ.get("CA_ARTEFACTS") or os.path.join(
    os.environ.get("CA_BUILD_DIR", tempfile.gettempdir()), "web_admin_charts_artefacts")
SECOND = "privacy-basics-2026"
TODAY = time.strftime("%Y-%m-%d", time.gmtime())
# The roster completed in June 2026; credentials are issued today.
RANGES = [{"from": "2026-06-01", "to": "2026-06-10"}, {"from": TODAY, "to": ""},
          {"from": "", "to": "2026-06-20"}]
BAD = {"from": "2026-06-20", "to": "2026-06-01"}


def js(r):
    try:
        return json.loads(r.body)
    except ValueError:
        return {}


def templates(tmp):
    d = os.path.join(tmp, "templates")
    os.makedirs(d)
    shutil.copy(os.path.join(TEMPLATES, "security-awareness-2026.json"), d)
    with open(os.path.join(TEMPLATES, "security-awareness-2026.json")) as f:
        t = json.load(f)
    t["name"] = t["credentialSubject"]["achievement"]["name"] = "Privacy Basics 2026"
    t["credentialSubject"]["achievement"]["id"] = f"urn:credanchor:achievement:{SECOND}"
    with open(os.path.join(d, f"{SECOND}.json"), "w") as f:
        json.dump(t, f)
    return d


def issue(node):
    with open(ROSTER, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for i, r in enumerate(rows):
        if i % 2:
            r["course"] = SECOND
        if i % 5 == 4:
            r["completedAt"] = ""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    r = node.request("POST", "/v1/credentials/batch", token=node.tokens["issuer"],
                     headers={"Content-Type": "text/csv"}, body=out.getvalue().encode())
    c.eq(r.status, 200, f"the roster issued by the batch route ({r.body[:300]!r})")
    listed = js(node.get("/v1/credentials?limit=200", token=node.tokens["auditor"])).get("credentials", [])
    c.eq(len(listed), 166 - 166 // 5, "one credential per completed row")
    for x in listed[:3]:
        r = node.request("POST", f"/v1/credentials/{x['id']}/revoke", token=node.tokens["admin"],
                         body={"reason": "charts test"})
        c.eq(r.status, 200, "revoked one")
    return rows


def summary(node, rng=None):
    q = "&".join(f"{k}={v}" for k, v in (rng or {}).items() if v)
    r = node.get("/v1/reports/summary" + (f"?{q}" if q else ""), token=node.tokens["auditor"])
    c.eq(r.status, 200, f"GET /v1/reports/summary?{q}")
    return js(r)


def check_api(node, rows):
    all_time = summary(node)
    c.eq(all_time["totals"]["issued"], 166 - 166 // 5, "0: all time: every credential issued")
    june = summary(node, RANGES[0])
    want_done = sum(1 for r in rows if r["completedAt"] and "2026-06-01" <= r["completedAt"][:10] <= "2026-06-10")
    c.eq((june["totals"]["issued"], june["totals"]["enrolled"], june["totals"]["completed"]),
         (0, 166, want_done), f"0: early June: nothing issued, all 166 enrolled, {want_done} completed in it")
    today = summary(node, RANGES[1])
    c.eq((today["totals"]["issued"], today["totals"]["revoked"], today["totals"]["completed"]),
         (all_time["totals"]["issued"], 3, 0), "0: from today: every credential, 3 revoked, no completion today")
    c.eq(sorted(g["course"] for g in today["byCourse"]), sorted(["security-awareness-2026", SECOND]),
         "0: ... both courses")
    for q, what in (("from=June", "a word"), ("from=2026-06-20&to=2026-06-01", "from after to"),
                    ("from=2026-13-01", "month 13"), ("since=2026-06-01", "an unknown parameter"),
                    ("to=" + "9" * 60, "too long")):
        r = node.get(f"/v1/reports/summary?{q}", token=node.tokens["auditor"])
        c.ok(r.status == 400 and "problem+json" in r.headers.get("content-type", ""),
             f"0: {what} ({q[:40]}): 400 problem+json ({r.status} {r.body[:120]!r})")
    r = node.get("/v1/reports/summary?format=csv&from=2026-06-01&to=2026-06-10", token=node.tokens["auditor"])
    total = next((x for x in csv.reader(io.StringIO(r.body.decode())) if x[:1] == ["total"]), [])
    c.eq(total[2:8], ["0", "0", "0", "0", "166", str(want_done)], "0: the range's CSV has the same totals")
    r = node.get("/v1/reports/summary?from=2026-06-01", token=node.tokens["issuer"])
    c.eq(r.status, 403, "0: an issuer cannot read the summary, with a range either")


def invite(node, email, name, roles):
    r = node.request("POST", "/v1/users", body={"email": email, "name": name, "roles": roles},
                     token=node.tokens["admin"])
    c.eq(r.status, 201, f"POST /v1/users: {name} invited ({r.body[:200]!r})")
    return js(r).get("enrollUrl", "")


def run_peer(tmp, node, plan):
    return ca.run_browser_peer(c, PEER, tmp, plan, timeout=240, node=node, artefacts=ARTEFACTS)


def num(s):
    return int((s or "").replace(",", "") or -1)


def same_figures(dash, api, what):
    """The tables' cells against the API's groups, in the API's order."""
    for card, key in (("departments", "department"), ("courses", "course")):
        groups = api.get("byDepartment" if key == "department" else "byCourse", [])
        shown = (dash or {}).get(card, {}).get("rows", [])
        if not groups:
            c.ok(len(shown) == 1 and shown[0]["group"] is None, f"{what}: {card}: the empty row ({shown})")
            continue
        c.eq([r["group"] for r in shown], [g[key] for g in groups], f"{what}: {card}: the API's groups, in order")
        for r, g in zip(shown, groups):
            cells = r["cells"]
            c.eq((num(cells[1]), cells[2].replace(",", "").replace(" ", ""), num(cells[4]), num(cells[5])),
                 (g["issued"], f"{g['completed']}/{g['enrolled']}", g["revoked"], g["suspended"]),
                 f"{what}: {card} {g[key]}: issued, completed / enrolled, revoked, suspended")
            rate = g["completionRate"]
            c.ok((rate is None and cells[3].endswith("—")) or
                 (rate is not None and cells[3].rstrip("%").endswith(f"{round(rate * 100, 1):g}")),
                 f"{what}: {card} {g[key]}: the rate {rate} shown as {cells[3]!r}")
    t = api["totals"]
    c.eq((num(dash["totals"]["issued"]), num(dash["totals"]["revoked"]),
          dash["totals"]["completed"].replace(",", "").replace(" ", "")),
         (t["issued"], t["revoked"], f"{t['completed']}/{t['enrolled']}"), f"{what}: the totals")


def painted(dash, what, lang="en"):
    for card in ("departments", "courses"):
        ch = (dash or {}).get(card, {}).get("chart") or {}
        c.ok(ch.get("role") == "img" and ch.get("width", 0) > 200 and ch.get("height", 0) > 100 and
             ch.get("painted", 0) > 2000 and ch.get("colours", 0) >= 4 and not ch.get("boxHidden"),
             f"{what}: the {card} chart is drawn ({ {k: v for k, v in ch.items() if k != 'label'} })")
        label = ch.get("label") or ""
        groups = [r["group"] for r in dash[card]["rows"]]
        count = f"{len(groups)} groups" if lang == "en" else f"{len(groups)}개 그룹"
        c.ok(label and count in label and sum(1 for g in groups if g and f"{g}:" in label) == min(5, len(groups)),
             f"{what}: the {card} chart's aria-label counts its groups and spells out the 5 largest ({label[:200]})")


def judge(got, node):
    views = (got.get("2 dashboard") or {}).get("views") or {}
    api = summary(node)
    for lang in ("en", "ko"):
        v = views.get(lang) or {}
        c.ok(v.get("look", {}).get("state") == "ready" and v.get("look", {}).get("lang") == lang and
             not v.get("look", {}).get("error"), f"2 ({lang}): ready ({v.get('look')})")
        c.eq(v.get("axe"), [], f"2 ({lang}): axe finds no violation")
        painted(v.get("dash"), f"2 ({lang})", lang)
        if v.get("dash"):
            same_figures(v["dash"], api, f"2 ({lang})")
    s3 = got.get("3 ranges") or {}
    seen = s3.get("seen") or []
    c.eq(len(seen), len(RANGES), "3: every range shown")
    issued = []
    for s in seen:
        want = summary(node, s["range"])
        same_figures(s["dash"], want, f"3: range {s['range']}")
        painted(s["dash"], f"3: range {s['range']}")
        issued.append(num(s["dash"]["totals"]["issued"]))
        c.ok(s["dash"]["totalsTitle"].startswith("Issued"), f"3: the totals' title names the range ({s['dash']['totalsTitle']})")
    c.eq(issued, [0, api["totals"]["issued"], 0], "3: the ranges change the figures")
    c.eq(s3.get("axe"), [], "3: axe finds no violation with a range")
    ref = s3.get("refused") or {}
    c.ok(ref.get("rangeError") == "The start date is after the end date." and
         ref.get("range") == seen[-1]["dash"]["range"] if seen else False,
         f"3: from after to: refused on the page, nothing queried ({ref.get('rangeError')}, {ref.get('range')})")
    back = s3.get("back") or {}
    if len(seen) > 1:
        same_figures(back, summary(node, RANGES[-2]), "3: Back")
    cl = s3.get("cleared") or {}
    c.ok(cl.get("hash") in ("", "#") and cl.get("totalsTitle") == "All credentials", f"3: Clear ({cl.get('hash')})")
    if cl:
        same_figures(cl, api, "3: Clear: all time again")
    ko = s3.get("ko") or {}
    c.eq(ko.get("axe"), [], "3: axe finds no violation (Korean, with a range)")
    if ko.get("dash"):
        same_figures(ko["dash"], summary(node, RANGES[0]), "3: a link with a range (Korean)")
        c.ok("발급분" in ko["dash"]["totalsTitle"], f"3: the Korean totals' title ({ko['dash']['totalsTitle']})")
    lines = (got.get("4 console") or {}).get("auditor")
    bad = [x for x in lines or [] if "Content Security Policy" in x or "CSP violation" in x or
           "integrity" in x.lower() or "pageerror" in x]
    c.ok(lines is not None and not bad, f"4: no CSP, SRI or script error in the console ({bad})")
    for shot in ("charts-en", "charts-ko", "charts-range-en", "charts-range-ko"):
        p = os.path.join(ARTEFACTS, f"{shot}.png")
        c.ok(os.path.exists(p) and os.path.getsize(p) > 5000, f"screenshot {p}")


def main():
    if not os.path.exists(os.environ.get("CA_CHROMIUM", "/usr/bin/chromium")):
        c.ok(False, "Debian's chromium is not installed (scripts/install-deps installs it)")
        c.finish()
    subprocess.run([os.path.join(SRC, "tests", "interop", "install-peers")], check=True)
    os.makedirs(ARTEFACTS, exist_ok=True)
    port = ca.free_port()
    base = f"http://localhost:{port}"
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp, \
            ca.Node(roles=("admin", "issuer", "auditor"),
                    env={"CREDANCHOR_NODE_PUBLIC_URL": base, "CREDANCHOR_CREDENTIALS_ISSUE_PREFIX": "BIZM",
                         "CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": templates(tmp)}) as node:
        node.start(port=port)
        rows = issue(node)
        check_api(node, rows)
        got = run_peer(tmp, node, {"base": base, "artefacts": ARTEFACTS, "ranges": RANGES, "badRange": BAD,
                                   "auditorInvite": invite(node, "audrey@example.com", "Audrey Auditor",
                                                           ["auditor"])})
        judge(got, node)
    print(f"web_admin_charts: took {time.time() - t0:.1f} s", flush=True)
    c.finish()


if __name__ == "__main__":
    main()
