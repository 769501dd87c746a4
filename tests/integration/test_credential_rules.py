"""Issue #12 items 3 and 8 against the real `credanchor serve` / CLI on loopback ports.

  1. credentials.suspension = true: an OpenBadgeCredential carries exactly one credentialStatus
     object (revocation) in every way of issuing it (POST /v1/credentials as vc+jwt and
     eddsa-jcs-2022, the batch route as JSON and CSV, `credanchor issue --csv` and
     `--credential`), validates against 1EdTech's OB 3.0 AchievementCredential JSON Schema
     (tests/vectors/ob3, python3-jsonschema), and POST .../suspend answers 409 problem+json
     (SPEC §5, OB 3.0 B.1.2);
  2. issue numbers <PREFIX>-<YYYYMM>-<NNNN> take YYYYMM from the completion (a row's
     completedAt, a single issuance's recipient.completedAt or the credential's awardedDate),
     the issuing month otherwise; gap-free per month with months interleaved in one batch, under
     concurrent requests, and across a restart after a batch of more than 16 months; the number
     and the completion date are in the credential (credentialSubject.licenseNumber,
     awardedDate); a bad or future completion date answers 400 naming the field.
Python 3 standard library plus python3-jsonschema; prints "N passed, M failed".
"""
import csv
import io
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

t = ca.Checks("credential_rules")
TEMPLATES = os.path.join(ca.SRC, "config", "templates")
TEMPLATE = os.path.join(TEMPLATES, "security-awareness-2026.json")
SCHEMA = os.path.join(ca.SRC, "tests", "vectors", "ob3",
                      "ob_v3p0_achievementcredential_schema.json")
NOW_MONTH = time.strftime("%Y%m", time.gmtime())
ENV = {"CREDANCHOR_CREDENTIALS_ISSUE_PREFIX": "RULE",
       "CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": TEMPLATES,
       "CREDANCHOR_CREDENTIALS_SUSPENSION": "true"}
WORK = tempfile.mkdtemp(prefix="ca-rules-test-")

with open(SCHEMA) as f:
    OB3_SCHEMA = json.load(f)
VALIDATOR = jsonschema.Draft201909Validator(OB3_SCHEMA)


def unsigned(subject_id="did:example:alice", **extra):
    with open(TEMPLATE) as f:
        c = json.load(f)
    c["credentialSubject"]["id"] = subject_id
    c.update(extra)
    return c


def enc(ref):
    return urllib.parse.quote(ref, safe="")


def row(ext, completed, course="security-awareness-2026"):
    return {"externalId": ext, "name": f"Person {ext}", "email": f"{ext.lower()}@bizm.example",
            "department": "QA", "course": course, "completedAt": completed}


def csv_of(rows):
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode()


def check_ob_credential(cred, what):
    """One credentialStatus object (revocation) and 1EdTech's schema passes."""
    st = cred.get("credentialStatus")
    t.ok(isinstance(st, dict), f"{what}: credentialStatus is one object ({type(st).__name__})")
    if isinstance(st, dict):
        t.eq((st.get("type"), st.get("statusPurpose")),
             ("BitstringStatusListEntry", "revocation"), f"{what}: the revocation entry")
    errors = sorted(VALIDATOR.iter_errors(cred), key=lambda e: list(e.path))
    t.ok(not errors, f"{what}: valid against the 1EdTech OB 3.0 schema "
         f"({[(list(e.path), e.message[:120]) for e in errors[:3]]})")


def jwt_credential(jwt):
    """The credential of a VC-JWT: the payload without the JWT claims (SPEC §5)."""
    pl = ca.jwt_parts(jwt)[1]
    return {k: v for k, v in pl.items() if k not in ("iss", "jti", "nbf", "sub", "exp")}


def suspend_409(node, cred_id, what):
    r = node.request("POST", f"/v1/credentials/{enc(cred_id)}/suspend",
                     token=node.tokens["revoker"])
    t.ok(r.status == 409 and r.is_problem(409), f"{what}: /suspend answers 409 problem+json "
         f"({r.status} {r.body[:160]!r})")


def issue(node, body):
    return node.request("POST", "/v1/credentials", body=body, token=node.tokens["issuer"])


def batch(node, rows, as_csv=False):
    if as_csv:
        return node.request("POST", "/v1/credentials/batch", body=csv_of(rows),
                            headers={"Content-Type": "text/csv"}, token=node.tokens["issuer"])
    return node.request("POST", "/v1/credentials/batch", body=rows, token=node.tokens["issuer"])


# ================================================================================================
# 1. OB credentials: one credentialStatus object, no suspension (item 3)
# ================================================================================================
def part_ob_status(n):
    for fmt in ("vc+jwt", "eddsa-jcs-2022"):
        r = issue(n, {"credential": unsigned(), "format": fmt})
        if not t.eq(r.status, 201, f"single {fmt}: 201"):
            print(r.body[:300])
            continue
        ans = r.json()
        cred = (jwt_credential(ans["credential"]) if fmt == "vc+jwt" else ans["credential"])
        check_ob_credential(cred, f"single {fmt}")
        suspend_409(n, ans["id"], f"single {fmt}")
        r = n.request("POST", f"/v1/credentials/{enc(ans['id'])}/reinstate",
                      token=n.tokens["revoker"])
        t.eq(r.status, 409, f"single {fmt}: /reinstate 409")
    c = unsigned()
    c["type"] = ["VerifiableCredential", "AchievementCredential"]  # OB 3.0's alias
    r = issue(n, {"credential": c})
    if t.eq(r.status, 201, "AchievementCredential: 201"):
        check_ob_credential(jwt_credential(r.json()["credential"]), "AchievementCredential")
    for how, as_csv in (("JSON", False), ("CSV", True)):
        rows = [row(f"OB-{how}-{i}", "2026-06-0%d" % (i + 1)) for i in range(3)]
        r = batch(n, rows, as_csv)
        if not t.eq(r.status, 200, f"batch {how}: 200"):
            print(r.body[:300])
            continue
        res = r.json()["results"]
        t.eq([x["status"] for x in res], ["issued"] * 3, f"batch {how}: 3 issued")
        jwts = ca.stored_jwts(n.data_dir)
        for x in res:
            jwt = jwts.get(x.get("digest"))
            if t.ok(jwt is not None, f"batch {how} {x['externalId']}: signed bytes stored"):
                check_ob_credential(jwt_credential(jwt), f"batch {how} {x['externalId']}")
        suspend_409(n, res[0]["id"], f"batch {how}")
    # revocation still works on an OB credential
    r = n.request("POST", f"/v1/credentials/{enc(res[1]['id'])}/revoke",
                  token=n.tokens["revoker"])
    t.eq((r.status, r.json().get("status")), (200, "revoked"), "OB credential: revoke 200")


def part_cli_ob_status():
    """`credanchor issue` on a stopped node, bulk and single."""
    env = dict(os.environ, **ENV, CREDANCHOR_ANCHOR_RPC_URL="",
               CREDANCHOR_NODE_PUBLIC_URL="http://localhost:8080")
    d = os.path.join(WORK, "cli-node")
    ca.run_cli("init", "--json", data_dir=d, env=env)
    lst = os.path.join(WORK, "cli.csv")
    with open(lst, "wb") as f:
        f.write(csv_of([row("CLI-1", "2026-03-09"), row("CLI-2", "")]))
    p = ca.run_cli("issue", "--csv", lst, "--json", data_dir=d, env=env, check=False)
    t.eq(p.returncode, 0, f"cli issue --csv: exit 0 ({p.stderr.strip()[-200:]})")
    rep = json.loads(p.stdout) if p.returncode == 0 else {"results": []}
    issued = [x for x in rep["results"] if x["status"] == "issued"]
    t.eq([x.get("issueNumber") for x in issued], ["RULE-202603-0001"],
         "cli issue --csv: completion month in the number")
    jwt = ca.stored_jwts(d).get(issued[0]["digest"]) if issued else None
    if t.ok(jwt is not None, "cli issue --csv: signed bytes stored"):
        check_ob_credential(jwt_credential(jwt), "cli issue --csv")
    cf = os.path.join(WORK, "one.json")
    with open(cf, "w") as f:
        json.dump(unsigned(awardedDate="2026-02-27T15:00:00Z"), f)
    p = ca.run_cli("issue", "--credential", cf, "--json", data_dir=d, env=env, check=False)
    t.eq(p.returncode, 0, f"cli issue --credential: exit 0 ({p.stderr.strip()[-200:]})")
    try:
        ans = json.loads(p.stdout)
        t.eq(ans.get("issueNumber"), "RULE-202602-0001", "cli issue --credential: awardedDate "
             "month in the number")
        check_ob_credential(jwt_credential(ans["credential"]), "cli issue --credential")
        p = ca.run_cli("revoke", "--suspend", ans["id"], data_dir=d, env=env, check=False)
        t.eq(p.returncode, 1, f"cli revoke --suspend on an OB credential: exit 1 "
             f"({p.stderr.strip()[-160:]})")
        t.ok("revocation entry" in p.stderr, "cli revoke --suspend: says why")
    except (ValueError, KeyError) as e:
        t.ok(False, f"cli issue --credential output: {e}: {p.stdout[:200]!r}")


# ================================================================================================
# 2. issue numbers by completion month (item 8)
# ================================================================================================
def numbers_of(rep):
    return [x.get("issueNumber") for x in rep["results"] if x["status"] == "issued"]


def gap_free(numbers, what):
    """Every (prefix, month) holds 0001..N exactly once."""
    by = {}
    for num in numbers:
        m = re.fullmatch(r"(RULE-\d{6})-(\d{4,})", num or "")
        if not t.ok(m is not None, f"{what}: {num!r} is PREFIX-YYYYMM-NNNN"):
            return
        by.setdefault(m.group(1), []).append(int(m.group(2)))
    for key, seqs in sorted(by.items()):
        t.eq(sorted(seqs), list(range(1, len(seqs) + 1)), f"{what}: {key} gap-free")


def part_numbers(n):
    r = issue(n, {"credential": unsigned()})
    t.eq(r.json().get("issueNumber"), f"RULE-{NOW_MONTH}-0001", "no completion: issuing month")
    r = issue(n, {"credential": unsigned(), "recipient": {"completedAt": "2026-06-15"}})
    if t.eq(r.status, 201, "recipient.completedAt: 201"):
        ans = r.json()
        t.eq(ans["issueNumber"], "RULE-202606-0001", "June completion issued now: 202606")
        cred = jwt_credential(ans["credential"])
        t.eq(cred.get("awardedDate"), "2026-06-15T00:00:00Z", "awardedDate = completedAt")
        t.eq(cred["credentialSubject"].get("licenseNumber"), ans["issueNumber"],
             "the issue number is in the credential (credentialSubject.licenseNumber)")
        check_ob_credential(cred, "credential with licenseNumber and awardedDate")
    r = issue(n, {"credential": unsigned(awardedDate="2026-05-31T23:30:00Z"),
                  "format": "eddsa-jcs-2022"})
    t.eq(r.json().get("issueNumber"), "RULE-202605-0001", "awardedDate in the credential: May")
    # bad completion dates: 400 naming the field, and no number used
    for what, body, field in [
            ("recipient.completedAt not a date",
             {"credential": unsigned(), "recipient": {"completedAt": "2026-13-01"}},
             "completedAt"),
            ("recipient.completedAt a number",
             {"credential": unsigned(), "recipient": {"completedAt": 20260601}}, "completedAt"),
            ("recipient.completedAt in the future",
             {"credential": unsigned(), "recipient": {"completedAt": "2099-01-01"}},
             "completedAt"),
            ("both completedAt and awardedDate",
             {"credential": unsigned(awardedDate="2026-06-01T00:00:00Z"),
              "recipient": {"completedAt": "2026-06-01"}}, "completedAt"),
            ("awardedDate not a dateTime", {"credential": unsigned(awardedDate="June 2026")},
             "awardedDate")]:
        r = issue(n, body)
        ok = r.status == 400 and r.is_problem(400)
        t.ok(ok, f"{what}: 400 problem ({r.status} {r.body[:160]!r})")
        if ok:
            t.ok(field in r.json()["detail"], f"{what}: detail names {field} "
                 f"({r.json()['detail']!r})")
    r = issue(n, {"credential": unsigned(), "recipient": {"completedAt": "2026-06-20"}})
    t.eq(r.json().get("issueNumber"), "RULE-202606-0002", "bad requests used no June number")
    # a bulk row with a bad completedAt: its own error naming the field (200 for the batch)
    r = batch(n, [row("BAD-1", "2026-02-30"), row("OK-1", "2026-06-21")], as_csv=True)
    res = r.json()["results"] if r.status == 200 else []
    t.ok(len(res) == 2 and res[0]["status"] == "error" and "completedAt" in res[0]["error"],
         f"CSV row with a bad completedAt: its error names the field ({res[:1]})")
    t.eq(numbers_of(r.json()) if res else [], ["RULE-202606-0003"], "the good row: June 0003")
    # two months interleaved in one batch
    rows = [row(f"IL-{i}", "2026-03-1%d" % (i % 10) if i % 2 else "2026-04-0%d" % (i % 9 + 1))
            for i in range(12)]
    r = batch(n, rows)
    nums = numbers_of(r.json())
    t.eq(nums, [f"RULE-20260{3 if i % 2 else 4}-{i // 2 + 1:04d}" for i in range(12)],
         "two months interleaved: each counts 0001.. in row order")
    r = batch(n, rows)
    t.eq([x.get("issueNumber") for x in r.json()["results"]], nums,
         "re-run: the same numbers (idempotent)")


def part_concurrent_numbers(n):
    """8 clients at once (4 under valgrind): batches across three months and singles,
    gap-free per month."""
    out, lock = [], threading.Lock()
    clients = 8 if ca.TIME_FACTOR <= 1 else 4

    def client(k):
        got = []
        for j in range(4):
            rows = [row(f"C{k}-{j}-{i}", ("2026-01-15", "2026-02-15", "2026-06-15")[i % 3])
                    for i in range(6)]
            r = batch(n, rows, as_csv=bool(j % 2))
            got += numbers_of(r.json()) if r.status == 200 else [None]
            r = issue(n, {"credential": unsigned(f"did:example:c{k}-{j}"),
                          "recipient": {"completedAt": "2026-01-0%d" % (j + 1)}})
            got.append(r.json().get("issueNumber") if r.status == 201 else None)
        with lock:
            out.extend(got)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.eq(len(out), clients * 4 * 7, "concurrent: every credential answered")
    t.eq(len(set(out)), len(out), "concurrent: no number twice")
    everything = out + [x.get("issueNumber") for x in
                        n.get("/v1/credentials?limit=10000",
                              token=n.tokens["auditor"]).json().get("credentials", [])]
    gap_free(sorted(set(everything)), "concurrent and earlier")


def part_many_months_restart(n):
    """A batch of 20 months, each twice (more than the 16 the commit once remembered): after a
    restart every month continues at 0003, never at a number already given."""
    months = [f"20{24 + i // 12}-{i % 12 + 1:02d}-10" for i in range(20)]
    rows = [row(f"MM-{k}-{i}", m) for k in range(2) for i, m in enumerate(months)]
    r = batch(n, rows)
    t.eq(r.json().get("issued"), 40, "20 months twice: 40 issued")
    n.stop()
    n.start()
    again = [row(f"MM-2-{i}", m) for i, m in enumerate(months)]
    r = batch(n, again)
    want = [f"RULE-{m[:4]}{m[5:7]}-0003" for m in months]
    t.eq(numbers_of(r.json()), want, "after a restart every month continues at 0003")


def main():
    with ca.Node(roles=["issuer", "revoker"], env=ENV) as o, \
            ca.Node(roles=["issuer", "revoker", "auditor"], env=ENV) as n:
        o.start()
        n.start()
        for part in (lambda: part_ob_status(o), part_cli_ob_status, lambda: part_numbers(n),
                     lambda: part_concurrent_numbers(n), lambda: part_many_months_restart(n)):
            try:
                part()
            except Exception as e:  # noqa: BLE001 - one failed check, the other parts run
                import traceback
                traceback.print_exc()
                t.ok(False, f"raised {type(e).__name__}: {e}")


try:
    main()
finally:
    shutil.rmtree(WORK, ignore_errors=True)
t.finish()
