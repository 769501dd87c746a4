"""Credential issuance, bulk issuance, revocation, verification, reports and privacy (SPEC §3,
§5, §6) end to end against the real `credanchor serve` / CLI on loopback ports.

  1. POST /v1/credentials for every format/alg: 201, urn:uuid id, sequential issue numbers
     BIZM-YYYYMM-NNNN, digest = SHA-256 of the JWS / JCS bytes, provable leaf; JWT header and
     payload shape; one credentialStatus object (an Open Badge never gets the suspension
     entry, SPEC §5); every bad input answered with the right status;
  2. bulk: the 166-row roster as text/csv (idempotent re-run), malformed rows, a JSON array,
     two achievements for one person, enrolled rows; `credanchor issue` on a stopped node;
  3. revocation (suspension and reinstatement answer 409 on Open Badges), the status list
     (ETag, Cache-Control, 304, bit order, every version in the log, ?timestamp=), 200
     concurrent revocations (group commit), `credanchor revoke --file` on a stopped node;
  4. verification: the route and `credanchor verify` (tampering, unreachable status list,
     another node's keys, pending anchor), and with anvil a final anchor that passes;
  5. auditor reports (filters, ordering, CSV, CSV injection, summary, completion rates);
  6. privacy: no plaintext email in the LMDB file unless credentials.store_email.
Python 3 standard library only; prints "N passed, M failed"; every process is always stopped.
"""
import base64
import copy
import csv
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

t = ca.Checks("credentials")
SRC = ca.SRC
TEMPLATES = os.path.join(SRC, "config", "templates")
ROSTER = os.path.join(SRC, "tests", "data", "participants-166.csv")
COURSE = "security-awareness-2026"
ACH_ID = "urn:credanchor:achievement:security-awareness-2026"
YYYYMM = time.strftime("%Y%m", time.gmtime())
COMPLETED_YYYYMM = "202606"  # the roster's and BATCH_A's completedAt month, so their numbers'
NUM_RE = re.compile(r"^BIZM-(\d{6})-(\d{4})$")
UUID_RE = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BASE_ENV = {"CREDANCHOR_CREDENTIALS_ISSUE_PREFIX": "BIZM",
            "CREDANCHOR_CREDENTIALS_TEMPLATES_DIR": TEMPLATES,
            "CREDANCHOR_CREDENTIALS_STATUS_TTL": "120"}
WORK = tempfile.mkdtemp(prefix="ca-cred-test-")


def section(fn):
    """Runs one part; an unexpected exception is one failed check, the others still run."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        t.ok(False, f"{fn.__name__} raised {type(e).__name__}: {e}")


b64u_dec = ca.b64u_dec
jwt_parts = ca.jwt_parts


def jcs(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def enc(ref):
    return urllib.parse.quote(ref, safe="")


def template():
    with open(os.path.join(TEMPLATES, COURSE + ".json")) as f:
        return json.load(f)


def unsigned(subject_id="did:example:alice"):
    c = template()
    c["credentialSubject"]["id"] = subject_id
    return c


def decode_list(body):
    """The bitstring of a status list credential (bytes)."""
    cred = json.loads(body)
    el = cred["credentialSubject"]["encodedList"]
    assert el.startswith("u"), "encodedList must start with the multibase 'u'"
    return gzip.decompress(b64u_dec(el[1:]))


def bit(bits, i):
    return (bits[i // 8] >> (7 - i % 8)) & 1


def set_bits(bits):
    out = []
    for i, byte in enumerate(bits):
        if byte:
            for j in range(8):
                if byte & (0x80 >> j):
                    out.append(i * 8 + j)
    return out


def status_entries(cred):
    st = cred.get("credentialStatus")
    return st if isinstance(st, list) else [st]


def entry(cred, purpose):
    for e in status_entries(cred):
        if e and e.get("statusPurpose") == purpose:
            return e
    return None


def list_id(e):
    return int(e["statusListCredential"].rsplit("/", 1)[1])


def provable(node, digest, what):
    r = node.get(f"/v1/log/proof?digest={digest}")
    ok = r.status == 200
    if ok:
        p = r.json()
        ok = (p["digest"] == digest and
              ca.root_from_inclusion(p["leafIndex"], p["treeSize"], ca.leaf_hash(digest),
                                     [bytes.fromhex(x) for x in p["inclusionPath"]]) ==
              bytes.fromhex(p["rootHash"]))
    t.ok(ok, f"{what}: digest {digest[:12]}.. provable in the log ({r.status})")
    return r.json() if r.status == 200 else None


def tree_size(node):
    return node.get("/v1/health").json()["treeSize"]


def audit_entries(node):
    """The audit log's entry count (`audit verify`, beside the serving node)."""
    p = ca.run_cli("audit", "verify", "--json", data_dir=node.data_dir, env=node.env)
    return json.loads(p.stdout)["entries"]


def mdb_bytes(node):
    return ca.mdb_bytes(node.data_dir)


def stored_jwts(node):
    return ca.stored_jwts(node.data_dir)


def cli(*args, env=None, data_dir=None):
    return ca.run_cli(*args, data_dir=data_dir, env=env, check=False)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def roster_rows():
    with open(ROSTER, newline="") as f:
        return list(csv.DictReader(f))


# ================================================================================================
# 1. single issuance, node A
# ================================================================================================
ALGS = [("vc+jwt", "EdDSA"), ("vc+jwt", "ES256K"), ("vc+jwt", "ES256"), ("vc+jwt", "RS256"),
        ("eddsa-jcs-2022", None)]
ISSUED = {}   # "fmt/alg" -> 201 answer
TPL2 = os.path.join(WORK, "templates")
os.makedirs(TPL2)
shutil.copy(os.path.join(TEMPLATES, COURSE + ".json"), TPL2)
_t2 = template()
_t2["name"] = "Phishing 101"
_t2["credentialSubject"]["achievement"].update(
    {"id": "urn:credanchor:achievement:phishing-101", "name": "Phishing 101",
     "description": "Spotting phishing mails.", "achievementType": "Course"})
write(os.path.join(TPL2, "phishing-101.json"), json.dumps(_t2))

PORT_A = ca.free_port()
PUB_A = f"http://localhost:{PORT_A}"  # --node of `credanchor verify` must be the same origin


ENV_A = dict(BASE_ENV, CREDANCHOR_CREDENTIALS_SUSPENSION="true", CREDANCHOR_NODE_PUBLIC_URL=PUB_A,
             CREDANCHOR_CREDENTIALS_TEMPLATES_DIR=TPL2, CREDANCHOR_NODE_MAX_BODY="262144")


def method_of(doc, vm_id):
    """The verificationMethod vm_id of a DID document when assertionMethod lists it."""
    if vm_id not in doc.get("assertionMethod", []):
        return None
    return next((m for m in doc.get("verificationMethod", []) if m.get("id") == vm_id), None)


def part_issue(a):
    tok = a.tokens["issuer"]
    own_doc = a.get("/.well-known/did.json").json()
    for i, (fmt, alg) in enumerate(ALGS):
        body = {"credential": unsigned(f"did:example:s{i}"), "format": fmt,
                "recipient": {"name": f"Single {i}", "department": "Singles",
                              "course": "single-course"}}
        if i == 4:
            body["recipient"]["name"] = "=HYPERLINK(\"http://evil.example\",\"x\")"
        if alg:
            body["alg"] = alg
        what = f"{fmt}/{alg}"
        r = a.request("POST", "/v1/credentials", body=body, token=tok)
        if not t.eq(r.status, 201, f"issue {what}: status"):
            print(r.body[:400])
            continue
        ans = r.json()
        ISSUED[what] = ans
        t.eq(sorted(ans), sorted(["id", "issueNumber", "credential", "digest", "leafIndex", "page"]),
             f"{what}: answer members")
        t.eq(ans.get("page"), f"{PUB_A}/c/{ans['id'].removeprefix('urn:uuid:')}",
             f"{what}: page is <public_url>/c/<uuid> (SPEC §5, §8)")
        t.ok(UUID_RE.match(ans["id"]) is not None, f"{what}: id is a urn:uuid ({ans['id']})")
        t.eq(ans["issueNumber"], f"BIZM-{YYYYMM}-{i + 1:04d}", f"{what}: sequential number")
        if fmt == "vc+jwt":
            jwt = ans["credential"]
            t.ok(isinstance(jwt, str) and jwt.count(".") == 2, f"{what}: compact JWS")
            t.eq(ans["digest"], sha(jwt.encode()), f"{what}: digest = sha256(JWS)")
            hdr, pl = jwt_parts(jwt)
            t.eq(sorted(hdr), ["alg", "kid", "typ"], f"{what}: header members")
            t.eq((hdr["alg"], hdr["typ"]), (alg, "JWT"), f"{what}: header alg/typ")
            t.ok(hdr["kid"].startswith(a.init["did"] + "#"), f"{what}: kid in the issuer DID")
            # SPEC §5, OB 3.0 §8.2.3/§8.5: the kid is a JsonWebKey assertionMethod with
            # publicKeyJwk, for EdDSA too (issue #12 item 2: it named the Multikey).
            vm = method_of(own_doc, hdr["kid"]) or {}
            t.ok(vm.get("type") == "JsonWebKey" and "publicKeyJwk" in vm,
                 f"{what}: kid {hdr['kid']} is a JsonWebKey assertionMethod ({vm})")
            for k in ("iss", "jti", "nbf", "sub"):
                t.ok(k in pl, f"{what}: payload has {k}")
            t.ok("vc" not in pl, f"{what}: no vc wrapper")
            t.eq(pl.get("jti"), ans["id"], f"{what}: jti = id")
            t.eq(pl.get("iss"), a.init["did"], f"{what}: iss = issuer DID")
            t.eq(pl.get("sub"), f"did:example:s{i}", f"{what}: sub = subject id")
            t.eq(pl.get("id"), ans["id"], f"{what}: credential id")
            cred = pl
        else:
            cred = ans["credential"]
            t.ok(isinstance(cred, dict) and "proof" in cred, f"{what}: signed JSON with proof")
            t.eq(ans["digest"], sha(jcs(cred)), f"{what}: digest = sha256(JCS)")
            t.eq(cred["proof"].get("cryptosuite"), "eddsa-jcs-2022", f"{what}: cryptosuite")
            vm = method_of(own_doc, cred["proof"].get("verificationMethod")) or {}
            t.ok(vm.get("type") == "Multikey" and "publicKeyMultibase" in vm,
                 f"{what}: proof names the Multikey assertionMethod ({vm})")
            t.eq(cred.get("id"), ans["id"], f"{what}: credential id")
        t.eq(cred.get("issuer", {}).get("id"), a.init["did"], f"{what}: issuer filled")
        t.ok("validFrom" in cred, f"{what}: validFrom filled")
        # SPEC §5: an OpenBadgeCredential carries exactly one credentialStatus object, even
        # with credentials.suspension on (node A); tests/integration/test_credential_rules.py
        # checks it against 1EdTech's schema.
        e = cred.get("credentialStatus")
        if t.ok(isinstance(e, dict), f"{what}: one credentialStatus object"):
            t.eq((e.get("type"), e.get("statusPurpose")),
                 ("BitstringStatusListEntry", "revocation"), f"{what}: revocation entry")
            t.ok(isinstance(e.get("statusListIndex"), str) and
                 re.fullmatch(r"0|[1-9][0-9]*", e["statusListIndex"]) is not None,
                 f"{what}: statusListIndex base-10 string")
            t.ok(re.fullmatch(re.escape(PUB_A) + r"/v1/status/[1-9][0-9]*",
                              e.get("statusListCredential", "")) is not None,
                 f"{what}: statusListCredential at public_url")
        p = provable(a, ans["digest"], what)
        if p:
            t.eq(p["leafIndex"], ans["leafIndex"], f"{what}: proof leafIndex = answered")

    # ---- bad input
    def bad(body, status, what, field=None, ctype=None, token=tok, raw=False):
        h = {"Content-Type": ctype} if ctype else None
        r = a.request("POST", "/v1/credentials", body=body if raw or body is None else body,
                      headers=h, token=token)
        t.ok(r.status == status and r.is_problem(status),
             f"{what}: {status} problem (got {r.status} {r.body[:160]!r})")
        if field and r.is_problem():
            t.ok(field in r.json()["detail"], f"{what}: detail names {field!r} "
                 f"({r.json()['detail']!r})")

    def without(path):
        c = unsigned()
        obj = c
        for k in path[:-1]:
            obj = obj[k]
        del obj[path[-1]]
        return {"credential": c}

    bad(without(["name"]), 400, "missing name", "name")
    bad(without(["credentialSubject"]), 400, "missing credentialSubject", "credentialSubject")
    bad(without(["credentialSubject", "achievement"]), 400, "missing achievement",
        "credentialSubject.achievement")
    bad(without(["credentialSubject", "achievement", "criteria"]), 400, "missing criteria",
        "criteria")
    bad(without(["credentialSubject", "achievement", "description"]), 400,
        "missing description", "description")
    bad(without(["@context"]), 400, "missing @context", "@context")
    bad(without(["type"]), 400, "missing type", "type")
    bad({"credential": unsigned(), "format": "ldp_vc"}, 400, "unknown format", "format")
    bad({"credential": unsigned(), "alg": "HS256"}, 400, "unknown alg", "alg")
    bad({"credential": unsigned(), "format": "eddsa-jcs-2022", "alg": "ES256K"}, 400,
        "eddsa-jcs-2022 with ES256K")
    for member, value in (("id", "urn:uuid:00000000-0000-4000-8000-000000000000"),
                          ("credentialStatus", {"id": "x", "type": "BitstringStatusListEntry"}),
                          ("proof", {"type": "DataIntegrityProof"})):
        c = unsigned()
        c[member] = value
        bad({"credential": c}, 400, f"credential with {member}", member)
    c = unsigned()
    c["issuer"] = {"id": "did:web:evil.example", "type": ["Profile"]}
    bad({"credential": c}, 400, "issuer with another id", "issuer")
    bad('{"credential": {', 400, "malformed JSON", ctype="application/json", raw=True)
    bad('{"credential": %s, "format": "vc+jwt", "format": "vc+jwt"}' % json.dumps(unsigned()),
        400, "duplicate keys", ctype="application/json", raw=True)
    bad(json.dumps({"credential": unsigned()}), 415, "text/plain body", ctype="text/plain",
        raw=True)
    bad({"credential": unsigned()}, 401, "no token", token=None)
    bad({"credential": unsigned()}, 403, "auditor token", token=a.tokens["auditor"])
    big = {"credential": unsigned(), "pad": "x" * 300000}
    bad(big, 413, "body over node.max_body")
    n = tree_size(a)
    entries = audit_entries(a)
    r = a.request("POST", "/v1/credentials", body={"credential": unsigned()}, token=tok)
    t.eq(r.status, 201, "a good credential after the bad ones")
    if r.status == 201:
        t.eq(r.json()["issueNumber"], f"BIZM-{YYYYMM}-0006", "bad requests used no number")
        t.eq(tree_size(a), n + 1, "one leaf for one credential")
        ISSUED["extra"] = r.json()
        # Its audit entry is written in the issuance's own commit, once (node/issuer.c).
        t.eq(audit_entries(a), entries + 1, "one audit entry for one issuance")
        detail = f'"status":201,"detail":"issued BIZM-{YYYYMM}-0006 {r.json()["id"]}"'
        t.ok(detail.encode() in mdb_bytes(a), f"the audit entry names it: {detail}")


# ================================================================================================
# 2. bulk
# ================================================================================================
def part_bulk_roster(b):
    tok = b.tokens["issuer"]
    with open(ROSTER, "rb") as f:
        data = f.read()
    r = b.request("POST", "/v1/credentials/batch", body=data,
                  headers={"Content-Type": "text/csv"}, token=tok)
    if not t.eq(r.status, 200, "roster batch status"):
        print(r.body[:500])
        return None
    rep = r.json()
    t.eq((rep["issued"], rep["existing"], rep["failed"]), (166, 0, 0), "roster: 166 issued")
    nums = [x.get("issueNumber") for x in rep["results"]]
    t.eq(sorted(nums), [f"BIZM-{COMPLETED_YYYYMM}-{i:04d}" for i in range(1, 167)],
         "roster: numbers 0001..0166 in the completion month")
    t.eq(nums, sorted(nums), "roster: numbers follow the row order")
    t.ok(all(x["status"] == "issued" for x in rep["results"]), "roster: every row issued")
    size = tree_size(b)
    sample = rep["results"][17]
    provable(b, sample["digest"], "roster row 18")
    r = b.request("POST", "/v1/credentials/batch", body=data,
                  headers={"Content-Type": "text/csv; charset=utf-8"}, token=tok)
    t.eq(r.status, 200, "roster re-run status")
    rep2 = r.json()
    t.eq((rep2["issued"], rep2["existing"], rep2["failed"]), (0, 166, 0),
         "roster re-run: 166 existing")
    t.eq([x.get("id") for x in rep2["results"]], [x.get("id") for x in rep["results"]],
         "re-run answers the earlier ids")
    t.eq(tree_size(b), size, "re-run: tree size unchanged")
    # the JSON report keys
    t.eq(sorted(rep), sorted(["issued", "existing", "enrolled", "failed", "results"]),
         "bulk report members")
    return rep


def part_bulk_bad_csv(b):
    tok = b.tokens["issuer"]
    hdr = "externalId,name,email,department,course,completedAt\n"
    rows = [
        "X-1,Good One,good.one@bizm.example,QA,security-awareness-2026,2026-06-01T10:00:00Z",
        "X-2,Bad Email,not-an-email,QA,security-awareness-2026,2026-06-01",
        "X-3,Bad Date,bad.date@bizm.example,QA,security-awareness-2026,2026-13-45",
        "X-4,Unknown Course,uc@bizm.example,QA,no-such-course,2026-06-01",
        'X-5,Stray "quote,sq@bizm.example,QA,security-awareness-2026,2026-06-01',
        "X-6,Too Few,tf@bizm.example",
        "X-7,Good Two,good.two@bizm.example,QA,security-awareness-2026,2026-06-02",
    ]
    r = b.request("POST", "/v1/credentials/batch", body=(hdr + "\n".join(rows) + "\n").encode(),
                  headers={"Content-Type": "text/csv"}, token=tok)
    if not t.eq(r.status, 200, "bad CSV batch: 200 with per-row errors"):
        print(r.body[:500])
        return
    rep = r.json()
    by = {x.get("externalId"): x for x in rep["results"]}
    t.eq((rep["issued"], rep["failed"]), (2, 5), "bad CSV: 2 issued, 5 failed")
    for ext in ("X-1", "X-7"):
        t.eq(by.get(ext, {}).get("status"), "issued", f"bad CSV: {ext} issued")
    for ext in ("X-2", "X-3", "X-4", "X-5", "X-6"):
        x = by.get(ext)
        if ext == "X-5" and x is None:  # the parser may not recover the id of a broken row
            x = next((y for y in rep["results"] if y.get("row") == 6), None)
        t.ok(x is not None and x.get("status") == "error" and x.get("error"),
             f"bad CSV: row {ext} has its own error ({x})")


def part_cli_issue():
    env = dict(os.environ, **BASE_ENV, CREDANCHOR_ANCHOR_RPC_URL="",
               CREDANCHOR_NODE_PUBLIC_URL="http://localhost:8080")
    d = os.path.join(WORK, "cli-node")
    r = ca.run_cli("init", "--json", data_dir=d, env=env)
    tmpl = os.path.join(TEMPLATES, COURSE + ".json")
    small = os.path.join(WORK, "small.csv")
    rows = roster_rows()[:12]
    with open(small, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    p = cli("issue", "--csv", small, "--template", tmpl, env=env, data_dir=d)
    t.eq(p.returncode, 0, f"cli issue: exit 0 ({p.stderr.strip()[-200:]})")
    t.ok("12 issued" in p.stderr, f"cli issue: summary on stderr ({p.stderr.strip()!r})")
    p = cli("issue", "--csv", small, "--template", tmpl, "--json", env=env, data_dir=d)
    t.eq(p.returncode, 0, "cli issue re-run --json: exit 0")
    try:
        rep = json.loads(p.stdout)
        t.eq((rep["issued"], rep["existing"]), (0, 12), "cli issue re-run: 12 existing")
        t.eq(rep["results"][0]["issueNumber"], f"BIZM-{COMPLETED_YYYYMM}-0001",
             "cli issue numbers")
    except (ValueError, KeyError) as e:
        t.ok(False, f"cli issue --json report: {e}: {p.stdout[:200]!r}")
    badcsv = write(os.path.join(WORK, "bad.csv"),
                   "externalId,name,email,department,course,completedAt\n"
                   "Y-1,Ok,ok.y1@bizm.example,QA,security-awareness-2026,2026-06-01\n"
                   "Y-2,Bad,not-an-email,QA,security-awareness-2026,2026-06-01\n")
    p = cli("issue", "--csv", badcsv, "--template", tmpl, env=env, data_dir=d)
    t.eq(p.returncode, 1, "cli issue bad CSV: exit 1")
    t.ok("Y-2" in p.stderr and "row" in p.stderr, f"cli issue: per-row error ({p.stderr!r})")
    p = cli("issue", "--csv", os.path.join(WORK, "missing.csv"), "--template", tmpl, env=env,
            data_dir=d)
    t.eq(p.returncode, 2, "cli issue missing file: exit 2")
    p = cli("issue", "--csv", small, "--template", tmpl, "--alg", "HS256", env=env, data_dir=d)
    t.eq(p.returncode, 2, "cli issue bad --alg: exit 2")
    p = cli("issue", "--help", env=env)
    t.ok(p.returncode == 0 and "usage" in (p.stdout + p.stderr), "issue --help")
    # Issue #12 item 7: every CLI issuance is audited (actor "cli"), and audit list reads them.
    p = cli("audit", "list", "--json", "--token", "cli", env=env, data_dir=d)
    t.eq(p.returncode, 0, f"audit list --json: exit 0 ({p.stderr.strip()[-200:]})")
    try:
        entries = json.loads(p.stdout)
        issued = [e for e in entries if e.get("method") == "issue"]
        t.eq(len(issued), 13, "audit list: one entry per CLI issuance (12 + Y-1)")
        t.ok(all(e["tokenId"] == "cli"
                 and re.match(r"issued BIZM-\d{6}-\d{4} urn:uuid:", e["detail"])
                 for e in issued), f"CLI issuance entries name cli and the credential "
             f"({issued[:1]})")
        t.eq([e["seq"] for e in entries], sorted(e["seq"] for e in entries), "oldest first")
    except (ValueError, KeyError) as e:
        t.ok(False, f"audit list --json: {e}: {p.stdout[:200]!r}")
    p = cli("audit", "list", "--since", "2099-01-01", env=env, data_dir=d)
    t.ok(p.returncode == 0 and p.stdout == "", f"audit list --since the future: none "
         f"({p.stdout[:100]!r})")
    p = cli("audit", "list", env=env, data_dir=d)
    t.ok(p.returncode == 0 and len(p.stdout.splitlines()) >= 13 and " cli " in p.stdout,
         "audit list: one line per entry")
    t.eq(cli("audit", "list", "--since", "yesterday", env=env, data_dir=d).returncode, 2,
         "audit list --since bad: exit 2")
    t.eq(cli("audit", "verify", env=env, data_dir=d).returncode, 0,
         "audit verify after CLI issuances: intact")


# ================================================================================================
# node A, continued: batch JSON, two achievements, enrolled rows; revocation; status lists
# ================================================================================================
BATCH_A = [
    {"externalId": "P-1", "name": "Pat One", "email": "Pat.One@Bizm.example",
     "department": "Eng", "course": "security-awareness-2026",
     "completedAt": "2026-06-03T08:00:00Z"},
    {"externalId": "P-1", "name": "Pat One", "email": "Pat.One@Bizm.example",
     "department": "Eng", "course": "phishing-101", "completedAt": "2026-06-04"},
    {"externalId": "P-2", "name": "Pia Two", "email": "pia.two@bizm.example",
     "department": "Eng", "course": "security-awareness-2026", "completedAt": "2026-06-05"},
    {"externalId": "P-3", "name": "Pol Three", "email": "pol.three@bizm.example",
     "department": "Ops", "course": "security-awareness-2026", "completedAt": "2026-06-05"},
    {"externalId": "P-4", "name": "Pam Four", "email": "pam.four@bizm.example",
     "department": "Ops", "course": "security-awareness-2026", "completedAt": ""},
    {"externalId": "P-5", "name": "Pit Five", "email": "pit.five@bizm.example",
     "department": "Ops", "course": "security-awareness-2026"},
]
BATCH_A_REP = {}


def part_batch_json(a):
    r = a.request("POST", "/v1/credentials/batch", body=BATCH_A, token=a.tokens["issuer"])
    if not t.eq(r.status, 200, "JSON batch status"):
        print(r.body[:400])
        return
    rep = r.json()
    BATCH_A_REP.update(rep)
    t.eq((rep["issued"], rep["enrolled"], rep["failed"]), (4, 2, 0),
         "JSON batch: 4 issued, 2 enrolled")
    st = [x["status"] for x in rep["results"]]
    t.eq(st, ["issued", "issued", "issued", "issued", "enrolled", "enrolled"], "row outcomes")
    ids = [x.get("id") for x in rep["results"][:2]]
    t.ok(ids[0] and ids[1] and ids[0] != ids[1], "one person, two achievements: two credentials")
    nums = [x.get("issueNumber") for x in rep["results"][:4]]
    t.eq(nums, [f"BIZM-{COMPLETED_YYYYMM}-{i:04d}" for i in range(1, 5)],
         "batch numbers count in the completion month")
    # the credentials' recipient identity
    jwts = stored_jwts(a)
    d0 = rep["results"][0]["digest"]
    jwt = jwts.get(d0)
    if t.ok(jwt is not None, "the bulk credential's signed bytes are in the store"):
        _, pl = jwt_parts(jwt)
        subj = pl["credentialSubject"]
        ident = subj.get("identifier", [])
        em = [x for x in ident if x.get("identityType") == "emailAddress"]
        if t.ok(len(em) == 1, f"one email IdentityObject ({ident})"):
            o = em[0]
            t.eq(o.get("type"), "IdentityObject", "identity type")
            t.eq(o.get("hashed"), True, "identity hashed true")
            salt = o.get("salt", "")
            t.ok(len(salt) >= 16, "identity salt present")
            t.eq(o.get("identityHash"),
                 "sha256$" + sha(("pat.one@bizm.example" + salt).encode()),
                 "identityHash = sha256(lowercased email + salt)")
        t.ok("pat.one@bizm.example" not in json.dumps(pl).lower(), "no plaintext email in it")
        t.ok(any(x.get("identityType") == "name" and x.get("identityHash") == "Pat One"
                 for x in ident), f"name IdentityObject ({ident})")
        t.eq(pl.get("awardedDate"), "2026-06-03T08:00:00Z", "awardedDate = completedAt")
        t.eq(pl["credentialSubject"]["achievement"]["id"], ACH_ID, "achievement from template")
    jwt2 = jwts.get(rep["results"][1]["digest"])
    if jwt2:
        t.eq(jwt_parts(jwt2)[1]["credentialSubject"]["achievement"]["id"],
             "urn:credanchor:achievement:phishing-101", "second achievement's template")
    r = a.request("POST", "/v1/credentials/batch", body=BATCH_A, token=a.tokens["issuer"])
    t.eq((r.status, r.json().get("existing"), r.json().get("issued")), (200, 4, 0),
         "JSON batch re-run: existing")


def get_list(a, lid, ts=None):
    q = f"?timestamp={ts}" if ts else ""
    r = a.get(f"/v1/status/{lid}{q}")
    return r


def part_revocation(a):
    rv = a.tokens["revoker"]
    jwt_cred = {k: jwt_parts(v["credential"])[1] for k, v in ISSUED.items()
                if k.startswith("vc+jwt")}
    creds = dict(jwt_cred)
    if "eddsa-jcs-2022/None" in ISSUED:
        creds["eddsa-jcs-2022/None"] = ISSUED["eddsa-jcs-2022/None"]["credential"]
    rev_lid = list_id(entry(creds["vc+jwt/EdDSA"], "revocation"))
    versions = {}  # sha -> body

    def snap(lid, what):
        r = get_list(a, lid)
        t.eq(r.status, 200, f"{what}: status list {lid} 200")
        versions[sha(r.body)] = r.body
        return r

    r0 = snap(rev_lid, "before")
    t.eq(r0.headers.get("cache-control"), "public, max-age=120", "Cache-Control max-age=ttl")
    etag = r0.headers.get("etag")
    t.eq(etag, f'"{sha(r0.body)}"', "ETag is the quoted sha256 of the body")
    r = a.get(f"/v1/status/{rev_lid}", headers={"If-None-Match": etag})
    t.eq((r.status, r.body), (304, b""), "If-None-Match: 304")
    lc = json.loads(r0.body)
    t.ok("BitstringStatusListCredential" in lc.get("type", []), "list credential type")
    t.eq(lc.get("id"), f"{PUB_A}/v1/status/{rev_lid}", "list id = its URL")
    t.eq(lc["credentialSubject"].get("statusPurpose"), "revocation", "list purpose")
    bits0 = decode_list(r0.body)
    t.ok(len(bits0) >= 16384, f"bitstring >= 16384 bytes ({len(bits0)})")
    t.eq(set_bits(bits0), [], "no bit set before revocations")
    t_before = int(time.time())
    time.sleep(1.2)

    def change(ref, action, token=rv, body=None):
        return a.request("POST", f"/v1/credentials/{enc(ref)}/{action}", token=token, body=body)

    tgt = ISSUED["vc+jwt/ES256K"]
    r = change(tgt["id"], "revoke", body={"reason": "left the company"})
    t.eq(r.status, 200, "revoke: 200")
    ans = r.json()
    t.eq((ans.get("id"), ans.get("issueNumber"), ans.get("status"), ans.get("changed")),
         (tgt["id"], tgt["issueNumber"], "revoked", True), "revoke answer")
    t.eq(ans.get("statusListCredential"), f"{PUB_A}/v1/status/{rev_lid}",
         "revoke answer names the list")
    r = change(tgt["id"], "revoke")
    t.eq((r.status, r.json().get("changed")), (200, False), "revoke twice: changed false")
    r = change(tgt["issueNumber"], "reinstate")
    t.ok(r.status == 409 and r.is_problem(409), f"reinstate revoked: 409 ({r.status})")
    r = change(tgt["issueNumber"], "suspend")
    t.ok(r.status == 409 and r.is_problem(409), f"suspend revoked: 409 ({r.status})")
    r = change("urn:uuid:00000000-0000-4000-8000-000000000000", "revoke")
    t.ok(r.status == 404 and r.is_problem(404), f"unknown id: 404 ({r.status})")
    r = change(f"BIZM-{YYYYMM}-9999", "revoke")
    t.ok(r.status == 404 and r.is_problem(404), f"unknown issue number: 404 ({r.status})")
    r = change(ISSUED["vc+jwt/ES256"]["id"], "revoke", token=a.tokens["issuer"])
    t.eq(r.status, 403, "issuer token revoking: 403")
    r = change(ISSUED["vc+jwt/ES256"]["id"], "revoke", token=None)
    t.eq(r.status, 401, "no token revoking: 401")
    # an Open Badge has no suspension entry (SPEC §5): suspend / reinstate answer 409
    sus = ISSUED["vc+jwt/ES256"]
    r = change(sus["issueNumber"], "suspend")
    t.ok(r.status == 409 and r.is_problem(409) and "revocation entry" in r.json()["detail"],
         f"suspend an Open Badge by issue number: 409 ({r.status} {r.body[:160]!r})")
    r1 = snap(rev_lid, "after revoke")
    bits1 = decode_list(r1.body)
    want_rev = int(entry(creds["vc+jwt/ES256K"], "revocation")["statusListIndex"])
    t.eq(set_bits(bits1), [want_rev], "exactly the revoked credential's bit is set")
    t.eq(bit(bits1, want_rev), 1, "bit index 0 = MSB of byte 0 (revoked bit read back)")
    old = get_list(a, rev_lid, t_before)
    t.eq(old.status, 200, "?timestamp= before the revocation: 200")
    if old.status == 200:
        versions[sha(old.body)] = old.body
        t.eq(bit(decode_list(old.body), want_rev), 0, "older version: bit clear")
        t.ok(old.body != r1.body, "older version differs from the latest")
    r = a.get(f"/v1/status/{rev_lid}?timestamp=100")
    t.ok(r.status == 404 and r.is_problem(404), f"?timestamp before any version: 404 ({r.status})")
    r = a.get("/v1/status/999")
    t.eq(r.status, 404, "unknown list: 404")
    # a second revocation; reinstating what was never suspended
    r = change(ISSUED["eddsa-jcs-2022/None"]["id"], "revoke")
    t.eq(r.status, 200, "revoke the DI credential")
    r = change(sus["id"], "reinstate")
    t.ok(r.status == 409 and r.is_problem(409), f"reinstate an Open Badge: 409 ({r.status})")
    r2 = snap(rev_lid, "after second revoke")
    want2 = sorted([want_rev, int(entry(creds["eddsa-jcs-2022/None"],
                                        "revocation")["statusListIndex"])])
    t.eq(set_bits(decode_list(r2.body)), want2, "two revoked bits exactly")
    for d in versions:
        provable(a, d, "status list version")
    return sus


def part_suspension_off():
    """A node without credentials.suspension: /suspend answers 409."""
    with ca.Node(roles=["issuer", "revoker"], env=BASE_ENV, keep_dir=None) as n:
        n.start()
        r = n.request("POST", "/v1/credentials", body={"credential": unsigned()},
                      token=n.tokens["issuer"])
        t.eq(r.status, 201, "no-suspension node: issue")
        cred = jwt_parts(r.json()["credential"])[1]
        t.eq([e["statusPurpose"] for e in status_entries(cred)], ["revocation"],
             "one revocation entry only")
        r = n.request("POST", f"/v1/credentials/{enc(r.json()['id'])}/suspend",
                      token=n.tokens["revoker"])
        t.ok(r.status == 409 and r.is_problem(409), f"suspend without entry: 409 ({r.status})")


def concurrently(n, items, send, clients=16):
    """send(item, conn) for every item from `clients` threads, each on its own keep-alive
    connection; returns [(index, response)] in item order."""
    out, lock, work = [], threading.Lock(), list(enumerate(items))

    def worker():
        c = n.conn()
        try:
            while True:
                with lock:
                    if not work:
                        return
                    i, item = work.pop()
                r = send(item, c)
                with lock:
                    out.append((i, r))
        finally:
            c.close()
    ths = [threading.Thread(target=worker) for _ in range(clients)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    return sorted(out, key=lambda x: x[0])


def log_commits(n):
    m = re.search(r"^credanchor_log_commits_total (\d+)", n.get("/metrics").body.decode(), re.M)
    return int(m.group(1))


def concurrent_singles(n):
    """16 clients issuing single credentials at once: they are group-committed (fewer log
    commits than credentials), every answer is its own (a bad request among good ones gets its
    400, the others their 201), and issue numbers stay distinct and gap-free."""
    tok = n.tokens["issuer"]
    bad_body = unsigned()
    del bad_body["credentialSubject"]["achievement"]

    def fire(bodies):
        return [(i, r.status, r.json()) for i, r in concurrently(
            n, bodies, lambda body, c: n.request("POST", "/v1/credentials",
                                                 body={"credential": body}, token=tok, conn=c))]

    size0, commits0 = tree_size(n), log_commits(n)
    out = fire([unsigned(f"did:example:single{i}") for i in range(160)])
    t.eq([st for _, st, _ in out], [201] * 160, "160 concurrent single issuances: all 201")
    commits = log_commits(n) - commits0
    t.eq(tree_size(n) - size0, 160, "160 concurrent single issuances: 160 leaves")
    t.ok(commits < 160, f"concurrent single issuances share commits: {commits} for 160")
    mixed = [bad_body if i % 5 == 0 else unsigned(f"did:example:mixed{i}") for i in range(80)]
    out2 = fire(mixed)
    t.eq([st for _, st, _ in out2], [400 if i % 5 == 0 else 201 for i in range(80)],
         "bad requests among concurrent good ones: each its own answer")
    t.ok(all("achievement" in js.get("detail", "") for i, st, js in out2 if i % 5 == 0),
         "the 400s name the missing achievement")
    got = sorted(int(js["issueNumber"].rsplit("-", 1)[1]) for _, st, js in out + out2
                 if st == 201)
    t.eq(got, list(range(got[0], got[0] + len(got))), "issue numbers distinct and gap-free")
    t.eq(len({js["id"] for _, st, js in out + out2 if st == 201}), len(got), "distinct ids")
    print(f"160 concurrent single issuances in {commits} log commits", flush=True)


def part_concurrent():
    n_cred = 200
    rows = [{"externalId": f"C-{i}", "name": f"Con {i}", "email": f"c{i}@bizm.example",
             "department": "Load", "course": COURSE, "completedAt": "2026-06-10"}
            for i in range(n_cred)]
    # one HTTP worker per core is the default; 16 workers let 16 revocations queue together
    with ca.Node(roles=["issuer", "revoker"], env=dict(BASE_ENV, CREDANCHOR_NODE_THREADS="16")) as n:
        n.start()
        r = n.request("POST", "/v1/credentials/batch", body=rows, token=n.tokens["issuer"])
        t.eq((r.status, r.json().get("issued")), (200, n_cred), "200 issued for the load run")
        nums = [x["issueNumber"] for x in r.json()["results"]]
        concurrent_singles(n)
        v0 = n.get("/v1/status/1")
        t0 = time.time()
        done = concurrently(n, nums, lambda ref, c: n.request(
            "POST", f"/v1/credentials/{ref}/revoke", token=n.tokens["revoker"], conn=c))
        results = [(rr.status, rr.json().get("statusListVersion") if rr.status == 200
                    else rr.body[:100]) for _, rr in done]
        dt = time.time() - t0
        t.eq([s for s, _ in results], [200] * n_cred, "200 concurrent revocations all 200")
        vers = {v for s, v in results if s == 200}
        print(f"200 revocations in {dt:.2f}s -> {len(vers)} list versions", flush=True)
        # Under valgrind (CA_TEST_TIME_FACTOR > 1) one thread runs at a time, so fewer
        # revocations queue behind each commit (130 versions seen in CI); there any sharing
        # shows the grouping, as for issuances above. Without it every revocation is a version.
        limit = n_cred // 2 if ca.TIME_FACTOR <= 1 else n_cred
        t.ok(len(vers) < limit, f"group commit: {len(vers)} versions for 200 revocations")
        r = n.get("/v1/status/1")
        bits = decode_list(r.body)
        t.eq(len(set_bits(bits)), n_cred, "200 bits set in the latest list")
        t.ok(json.loads(v0.body) != json.loads(r.body), "list changed")
        provable(n, sha(r.body), "latest list after the load")


# ================================================================================================
# 4. verification
# ================================================================================================
def verify_route(a, ref, token=None):
    return a.get(f"/v1/credentials/{enc(ref)}/verification", token=token)


def part_verify_route(a, sus):
    good = ISSUED["vc+jwt/RS256"]
    r = verify_route(a, good["id"])
    t.eq(r.status, 200, "verification: 200")
    v = r.json()
    t.eq(v.get("verified"), True, f"verification: verified ({v})")
    for k in ("signature", "status", "inclusion"):
        t.eq(v["checks"][k]["result"], "pass", f"verification: {k} pass")
    t.eq(v["checks"]["anchor"]["result"], "pending", "verification: anchor pending")
    t.ok("not yet anchored" in v["checks"]["anchor"]["detail"], "anchor detail")
    t.eq((v["checks"]["status"].get("revoked"), v["checks"]["status"].get("suspended")),
         (False, False), "status flags")
    t.eq(v.get("id"), good["id"], "verification id")
    for what in ("vc+jwt/EdDSA", "eddsa-jcs-2022/None", "vc+jwt/ES256K"):
        rr = verify_route(a, ISSUED[what]["id"])
        t.eq(rr.json()["checks"]["signature"]["result"], "pass", f"{what}: signature pass")
    v = verify_route(a, ISSUED["vc+jwt/ES256K"]["id"]).json()
    t.eq((v["verified"], v["checks"]["status"]["result"], v["checks"]["status"]["revoked"]),
         (False, "fail", True), "revoked: verified false, status fail")
    v = verify_route(a, sus["id"]).json()
    t.eq((v["verified"], v["checks"]["status"]["result"], v["checks"]["status"]["suspended"],
          v["checks"]["status"]["revoked"]), (True, "pass", False, False),
         "the /suspend refused (409) left it valid")
    r = verify_route(a, good["issueNumber"])
    t.eq(r.status, 401, "by issue number without token: 401")
    r = verify_route(a, good["issueNumber"], token=a.tokens["auditor"])
    t.eq((r.status, r.json().get("id")), (200, good["id"]), "by issue number with auditor")
    r = verify_route(a, good["issueNumber"], token=a.tokens["revoker"])
    t.ok(r.status == 403 and r.is_problem(403),
         f"by issue number with a revoker token: 403 (SPEC §5: auditor) ({r.status})")
    r = verify_route(a, "urn:uuid:00000000-0000-4000-8000-000000000000")
    t.ok(r.status == 404 and r.is_problem(404), f"unknown: 404 ({r.status})")
    r = verify_route(a, f"BIZM-{YYYYMM}-9999", token=a.tokens["auditor"])
    t.eq(r.status, 404, "unknown issue number: 404")
    r = verify_route(a, BATCH_A_REP["results"][2]["id"]) if BATCH_A_REP else None
    if r:
        t.eq(r.json().get("verified"), True, "a bulk-issued credential verifies")


def part_credential_route(a):
    """GET /v1/credentials/{id} (SPEC §8): the bytes as issued, public by id; by issue number
    an auditor token."""
    for what, ans in ISSUED.items():
        if "/" not in what:
            continue
        r = a.get(f"/v1/credentials/{enc(ans['id'])}")
        if not t.eq(r.status, 200, f"GET credential {what}: 200"):
            continue
        if what.startswith("vc+jwt"):
            t.eq((r.ctype, r.body.decode()), ("application/vc+jwt", ans["credential"]),
                 f"GET credential {what}: the compact JWT as issued")
        else:
            t.eq((r.ctype, json.loads(r.body)), ("application/vc", ans["credential"]),
                 f"GET credential {what}: the signed document as issued")
        t.eq(r.headers.get("cache-control"), "no-cache", f"GET credential {what}: no-cache")
    good = ISSUED["vc+jwt/EdDSA"]
    r = a.get(f"/v1/credentials/{good['issueNumber']}")
    t.ok(r.status == 401 and r.is_problem(401), f"by issue number without a token: 401 ({r.status})")
    r = a.get(f"/v1/credentials/{good['issueNumber']}", token=a.tokens["revoker"])
    t.ok(r.status == 403 and r.is_problem(403), f"by issue number, revoker: 403 ({r.status})")
    r = a.get(f"/v1/credentials/{good['issueNumber']}", token=a.tokens["auditor"])
    t.eq((r.status, r.body.decode(), r.headers.get("cache-control")),
         (200, good["credential"], "no-store"), "by issue number, auditor: 200, no-store")
    r = a.get("/v1/credentials/" + enc("urn:uuid:00000000-0000-4000-8000-000000000000"))
    t.ok(r.status == 404 and r.is_problem(404), f"unknown id: 404 problem ({r.status})")
    for bad in ("not-a-credential", "%ff%00", "x" * 300):
        r = a.get("/v1/credentials/" + bad)
        t.ok(r.status in (400, 404) and r.is_problem(r.status),
             f"malformed id {bad[:12]!r}: 400/404 problem ({r.status})")
    r = a.request("DELETE", f"/v1/credentials/{enc(good['id'])}", token=a.tokens["issuer"])
    t.eq(r.status, 405, "DELETE on a credential: 405")


def verify_cli(path, node_url, *extra):
    p = cli("verify", path, "--node", node_url, "--json", *extra)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        return p.returncode, {"raw": p.stdout + p.stderr}


def part_verify_cli(a, other):
    url = PUB_A
    jwt_file = write(os.path.join(WORK, "cred.jwt"), ISSUED["vc+jwt/EdDSA"]["credential"] + "\n")
    di_file = write(os.path.join(WORK, "cred.json"),
                    json.dumps(ISSUED["eddsa-jcs-2022/None"]["credential"], indent=2))
    es_file = write(os.path.join(WORK, "cred256.jwt"), ISSUED["vc+jwt/ES256"]["credential"])
    rc, v = verify_cli(jwt_file, url)
    t.eq(rc, 0, f"cli verify JWT: exit 0 ({v})")
    t.eq(v.get("verified"), True, "cli verify JWT: verified")
    if "checks" in v:
        t.eq([v["checks"][k]["result"] for k in ("signature", "status", "inclusion", "anchor")],
             ["pass", "pass", "pass", "pending"], "cli verify JWT: checks")
        t.eq(v.get("digest"), ISSUED["vc+jwt/EdDSA"]["digest"], "cli verify: digest")
    rc, v = verify_cli(di_file, url)
    t.eq(rc, 1, "cli verify revoked DI credential: exit 1")
    t.eq(v.get("checks", {}).get("signature", {}).get("result"), "pass",
         "cli verify DI (pretty-printed JSON): signature pass")
    t.eq(v.get("checks", {}).get("status", {}).get("revoked"), True, "cli verify DI: revoked")
    rc, v = verify_cli(es_file, url)
    t.eq((rc, v.get("checks", {}).get("status", {}).get("suspended")), (0, False),
         "cli verify: not suspended (an Open Badge cannot be), exit 0")
    p = cli("verify", jwt_file, "--node", url)
    t.ok(p.returncode == 0 and "verified" in p.stdout and "signature" in p.stdout,
         "cli verify human output")
    # tampering: JWT payload changed, signature kept
    h, pl, s = ISSUED["vc+jwt/EdDSA"]["credential"].split(".")
    payload = json.loads(b64u_dec(pl))
    payload["name"] = "Forged"
    forged = h + "." + base64.urlsafe_b64encode(jcs(payload)).decode().rstrip("=") + "." + s
    rc, v = verify_cli(write(os.path.join(WORK, "forged.jwt"), forged), url)
    t.eq((rc, v.get("checks", {}).get("signature", {}).get("result")), (1, "fail"),
         "tampered JWT: exit 1, signature fail")
    di = copy.deepcopy(ISSUED["eddsa-jcs-2022/None"]["credential"])
    di["name"] = "Forged"
    rc, v = verify_cli(write(os.path.join(WORK, "forged.json"), json.dumps(di)), url)
    t.eq((rc, v.get("checks", {}).get("signature", {}).get("result")), (1, "fail"),
         "tampered JSON: exit 1, signature fail")
    # a node with the same did:web (same public_url) but other keys
    rc, v = verify_cli(jwt_file, f"http://localhost:{other.port}")
    t.eq((rc, v.get("checks", {}).get("signature", {}).get("result")), (1, "fail"),
         f"other node's keys: signature fail ({v.get('checks', {}).get('signature')})")
    p = cli("verify", "--help")
    t.ok(p.returncode == 0 and "usage" in (p.stdout + p.stderr), "verify --help")
    p = cli("verify", os.path.join(WORK, "nothing.jwt"), "--node", url)
    t.eq(p.returncode, 2, "cli verify missing file: exit 2")
    return jwt_file


def part_verify_dead(jwt_file):
    dead = f"http://127.0.0.1:{ca.free_port()}"
    rc, v = verify_cli(jwt_file, dead)
    t.eq(rc, 1, "status list unreachable: exit 1")
    t.eq(v.get("checks", {}).get("status", {}).get("result"), "fail",
         f"status list unreachable: status fail ({v.get('checks', {}).get('status')})")


def part_cli_revoke(a, roster_rep):
    """`credanchor revoke --file` on the stopped node A."""
    refs = [ISSUED["vc+jwt/EdDSA"]["issueNumber"], ISSUED["extra"]["id"]]
    f = write(os.path.join(WORK, "revoke.txt"), "\n".join(refs) + "\n\n")
    p = cli("revoke", "--file", f, "--json", "--reason", "test", env=a.env, data_dir=a.data_dir)
    t.eq(p.returncode, 0, f"cli revoke --file: exit 0 ({p.stderr.strip()})")
    try:
        out = json.loads(p.stdout)
        t.eq([(x.get("status"), x.get("changed")) for x in out], [("revoked", True)] * 2,
             "cli revoke: both revoked")
    except ValueError:
        t.ok(False, f"cli revoke --json output: {p.stdout!r}")
    p = cli("revoke", f"BIZM-{YYYYMM}-9999", env=a.env, data_dir=a.data_dir)
    t.eq(p.returncode, 1, "cli revoke unknown: exit 1")
    p = cli("revoke", "--help")
    t.eq(p.returncode, 0, "revoke --help")


# ================================================================================================
# 5. reports
# ================================================================================================
def part_reports(a):
    au = a.tokens["auditor"]

    def lst(q=""):
        r = a.get("/v1/credentials" + q, token=au)
        return r

    r = lst()
    t.eq(r.status, 200, "list: 200")
    body = r.json()
    total = 6 + 4  # 6 singles (5 algs + extra) + 4 batch credentials
    t.eq(body.get("total"), total, "list: total")
    nums = [c["issueNumber"] for c in body["credentials"]]
    t.eq(nums, [f"BIZM-{YYYYMM}-{i:04d}" for i in range(1, 7)] +
         [f"BIZM-{COMPLETED_YYYYMM}-{i:04d}" for i in range(1, 5)],
         "list ordered by issue time then number")
    t.eq(lst("?status=revoked").json().get("total"), REVOKED_A[0], "status=revoked")
    t.eq(lst("?status=suspended").json().get("total"), 0, "status=suspended: none (OB)")
    t.eq(lst("?status=active").json().get("total"), total - REVOKED_A[0], "status=active")
    t.eq(lst("?department=Eng").json().get("total"), 3, "department=Eng")
    t.eq(lst("?department=Ops").json().get("total"), 1, "department=Ops")
    t.eq(lst("?course=phishing-101").json().get("total"), 1, "course=phishing-101")
    t.eq(lst(f"?course={enc('urn:credanchor:achievement:phishing-101')}").json().get("total"),
         1, "course by achievement id")
    t.eq(lst("?course=single-course&department=Singles").json().get("total"), 5,
         "course + department")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    t.eq(lst(f"?from={today}&to={today}").json().get("total"), total, "from/to today")
    t.eq(lst("?from=2099-01-01").json().get("total"), 0, "from the future: none")
    t.eq(lst("?to=2000-01-01").json().get("total"), 0, "to the past: none")
    pg = lst("?offset=2&limit=3").json()
    t.eq(([c["issueNumber"] for c in pg["credentials"]], pg["total"], pg["offset"], pg["limit"]),
         (nums[2:5], total, 2, 3), "offset/limit page")
    eng = lst("?department=Eng").json()["credentials"]
    t.eq(sorted(c["name"] for c in eng), ["Pat One", "Pat One", "Pia Two"], "names in the list")
    st = {c["issueNumber"]: c["status"] for c in body["credentials"]}
    t.eq(st.get(ISSUED["vc+jwt/ES256K"]["issueNumber"]), "revoked", "list: status revoked")
    t.eq(st.get(ISSUED["vc+jwt/ES256"]["issueNumber"]), "active", "list: status active")
    for q in ("?limit=0", "?status=bogus", "?limit=10001", "?from=yesterday", "?offset=-1"):
        r = lst(q)
        t.ok(r.status == 400 and r.is_problem(400), f"list {q}: 400 ({r.status})")
    t.eq(a.get("/v1/credentials").status, 401, "list without token: 401")
    t.eq(a.get("/v1/credentials", token=a.tokens["issuer"]).status, 403, "list issuer: 403")
    # CSV
    for how, (q, h) in {"?format=csv": ("?format=csv", None),
                        "Accept": ("", {"Accept": "text/csv"})}.items():
        r = a.get("/v1/credentials" + q, token=au, headers=h)
        t.ok(r.status == 200 and r.ctype.startswith("text/csv"), f"CSV via {how}")
        text = r.body.decode()
        rows = list(csv.reader(io.StringIO(text)))
        t.eq(rows[0], ["issueNumber", "name", "type", "achievement", "issueDate", "status",
                       "department", "course", "achievementId", "id", "completionDate",
                       "statusChangedAt", "statusReason", "alertChannel", "deliveryState"],
             f"CSV header ({how})")
        t.eq(len(rows) - 1, total, f"CSV rows ({how})")
        evil = [x for x in rows[1:] if x[0] == ISSUED["eddsa-jcs-2022/None"]["issueNumber"]]
        if t.ok(len(evil) == 1, "CSV row of the '=' name"):
            t.ok(not evil[0][1].startswith(("=", "+", "-", "@")),
                 f"CSV injection neutralised ({evil[0][1]!r})")
            t.ok("HYPERLINK" in evil[0][1], "the name is kept, neutralised")
    # Issue #12 item 6: BOM, download name, new columns, completion filter, unknown filters.
    r = a.get("/v1/credentials?format=csv&bom=true", token=au)
    t.ok(r.status == 200 and r.body.startswith(b"\xef\xbb\xbfissueNumber,"),
         f"CSV ?bom=true starts with the UTF-8 BOM ({r.body[:8]!r})")
    cd = r.headers.get("content-disposition", "")
    t.ok(cd.startswith("attachment;") and ".csv" in cd, f"CSV Content-Disposition ({cd!r})")
    t.ok(a.get("/v1/credentials?format=csv", token=au).body.startswith(b"issueNumber,"),
         "CSV without bom: no BOM")
    rows = list(csv.DictReader(io.StringIO(r.body.decode("utf-8-sig"))))
    by_num = {x["issueNumber"]: x for x in rows}
    revoked = by_num.get(ISSUED["vc+jwt/EdDSA"]["issueNumber"], {})
    t.eq((revoked.get("status"), revoked.get("statusReason")), ("revoked", "test"),
         "CSV statusReason of a revocation")
    t.ok(revoked.get("statusChangedAt", "").endswith("Z"), "CSV statusChangedAt")
    done = [x for x in rows if x["completionDate"]]
    t.eq(len(done), 4, f"CSV completionDate of the 4 batch credentials ({len(done)})")
    t.eq(lst("?completedFrom=2026-06-04").json().get("total"), 3, "completedFrom")
    t.eq(lst("?completedFrom=2026-06-03&completedTo=2026-06-03").json().get("total"), 1,
         "completedFrom/completedTo one day")
    t.eq(lst("?completedTo=2000-01-01").json().get("total"), 0, "completedTo the past: none")
    t.eq(len(list(csv.reader(io.StringIO(a.get("/v1/credentials?format=csv&completedFrom="
                                               "2026-06-04", token=au).body.decode())))) - 1,
         3, "CSV with a completion filter")
    for q in ("?departmnet=Eng", "?format=xml", "?bom=maybe", "?after=nope",
              "?completedFrom=June", "?format=csv&foo=1"):
        r = lst(q)
        t.ok(r.status == 400 and r.is_problem(400), f"list {q}: 400 ({r.status})")
    t.ok("departmnet" in lst("?departmnet=Eng").json().get("detail", ""),
         "the 400 names the unknown parameter")
    t.eq(a.get("/v1/reports/summary?dept=x", token=au).status, 400, "summary unknown: 400")
    # Cursor pages: next + Link, and the page after it.
    pg = lst("?limit=3")
    ids = [c["id"] for c in body["credentials"]]
    t.eq(pg.json().get("next"), ids[2], "next names the page's last credential")
    link = pg.headers.get("link", "")
    t.ok("rel=\"next\"" in link and "after=" in link and "limit=3" in link,
         f"Link rel=next ({link!r})")
    pg2 = lst("?limit=3&after=" + enc(ids[2])).json()
    t.eq([c["issueNumber"] for c in pg2["credentials"]], nums[3:6], "the page after the cursor")
    t.eq(pg2["total"], total, "total is the whole match, cursor aside")
    last = lst("?limit=3&after=" + enc(ids[-4])).json()
    t.eq((len(last["credentials"]), last["next"]), (3, None), "last page: next null")
    t.eq(lst("?status=revoked&limit=1").json().get("total"), REVOKED_A[0],
         "total with a status filter (counters)")
    # Issue #12 item 7: GET /v1/audit.
    r = a.get("/v1/audit", token=au)
    t.eq(r.status, 200, "audit: 200")
    ents = r.json().get("entries", [])
    cli_rev = [e for e in a.get("/v1/audit?tokenId=cli&limit=1000", token=au).json()["entries"]
               if e["method"] == "revoke"]
    t.ok(len(cli_rev) == 2 and all("reason: test" in e["detail"] for e in cli_rev),
         f"CLI revocations audited with their reason ({cli_rev[:1]})")
    http_rev = [e for e in a.get("/v1/audit?limit=1000", token=au).json()["entries"]
                if e["route"] == "/v1/credentials/{id}/revoke" and e["status"] == 200]
    t.ok(len(http_rev) >= 1 and all(e["tokenId"] == a.tokens["revoker"].split("_")[1]
                                    for e in http_rev), "HTTP revocations name the token")
    p1 = a.get("/v1/audit?limit=2", token=au)
    t.eq([e["seq"] for e in p1.json()["entries"]], [1, 2], "audit ?limit=2: entries 1, 2")
    t.eq(p1.json().get("next"), 2, "audit next")
    t.ok("after=2" in p1.headers.get("link", ""), "audit Link rel=next")
    t.eq([e["seq"] for e in a.get("/v1/audit?after=2&limit=1", token=au).json()["entries"]],
         [3], "audit ?after=2")
    t.eq(a.get("/v1/audit?since=2099-01-01", token=au).json()["entries"], [],
         "audit ?since the future: none")
    t.ok(len(ents) >= 1 and all("prev" in e for e in ents), "audit entries as stored")
    for q in ("?sinse=2026-01-01", "?limit=0", "?limit=1001", "?since=nope", "?after=-1"):
        r = a.get("/v1/audit" + q, token=au)
        t.ok(r.status == 400 and r.is_problem(400), f"audit {q}: 400 ({r.status})")
    t.eq(a.get("/v1/audit", token=a.tokens["issuer"]).status, 403, "audit issuer: 403")
    t.eq(a.get("/v1/audit").status, 401, "audit without token: 401")
    # summary
    r = a.get("/v1/reports/summary", token=au)
    t.eq(r.status, 200, "summary: 200")
    s = r.json()
    tot = s.get("totals", {})
    t.eq((tot.get("issued"), tot.get("revoked"), tot.get("suspended")),
         (total, REVOKED_A[0], 0), "summary totals issued/revoked/suspended")
    dep = {d["department"]: d for d in s.get("byDepartment", [])}
    t.eq({k: (v["issued"], v["revoked"], v["suspended"]) for k, v in dep.items()},
         {"Singles": (5, REVOKED_A[1], 0), "": (1, REVOKED_A[2], 0), "Eng": (3, 0, 0),
          "Ops": (1, 0, 0)}, "summary by department")
    ops = dep.get("Ops", {})
    t.eq((ops.get("enrolled"), ops.get("completed")), (3, 1), "Ops enrolled/completed")
    t.ok(abs((ops.get("completionRate") or 0) - 1 / 3) < 1e-6,
         f"Ops completion rate 1/3 ({ops.get('completionRate')})")
    eng = dep.get("Eng", {})
    t.eq(eng.get("completionRate"), 1, f"Eng completion rate 1 ({eng.get('completionRate')})")
    t.eq(dep.get("Singles", {}).get("completionRate"), None, "no list: completion rate null")
    crs = {c["course"]: c for c in s.get("byCourse", [])}
    sec = crs.get(COURSE, {})
    t.eq((sec.get("issued"), sec.get("enrolled"), sec.get("completed")), (3, 5, 3),
         f"by course {COURSE} ({sec})")
    t.ok(abs((sec.get("completionRate") or 0) - 0.6) < 1e-6, "course completion rate 3/5")
    t.eq(crs.get("phishing-101", {}).get("issued"), 1, "by course phishing-101")
    t.eq(crs.get("single-course", {}).get("issued"), 5, "by course single-course")
    r = a.get("/v1/reports/summary?format=csv", token=au)
    t.ok(r.status == 200 and r.ctype.startswith("text/csv"), "summary CSV")
    rows = list(csv.DictReader(io.StringIO(r.body.decode())))
    t.ok(any(x.get("dimension") == "department" and x.get("key") == "Ops" and
             x.get("issued") == "1" and x.get("enrolled") == "3" for x in rows),
         f"summary CSV Ops row ({rows[:3]})")
    t.ok(any(x.get("dimension") == "course" and x.get("key") == COURSE for x in rows),
         "summary CSV course row")
    t.eq(a.get("/v1/reports/summary", token=a.tokens["revoker"]).status, 403,
         "summary revoker: 403")


REVOKED_A = [0, 0, 0]  # totals, Singles, "" (filled after the CLI revocation)


# ================================================================================================
# 6. privacy
# ================================================================================================
def part_privacy(b, roster_first_email):
    data = mdb_bytes(b)
    t.ok(len(data) > 0, "the LMDB data file exists")
    t.ok(roster_first_email.encode() not in data and b"@bizm.example" not in data,
         "no plaintext email in the LMDB file")
    env = dict(BASE_ENV, CREDANCHOR_CREDENTIALS_STORE_EMAIL="true")
    with ca.Node(roles=["issuer", "auditor"], env=env) as n:
        n.start()
        r = n.request("POST", "/v1/credentials/batch", body=BATCH_A[:1], token=n.tokens["issuer"])
        t.eq((r.status, r.json().get("issued")), (200, 1), "store_email node: issued")
        t.ok(b"Pat.One@Bizm.example" in mdb_bytes(n) or b"pat.one@bizm.example" in mdb_bytes(n),
             "store_email=true: the email is stored")
        # CSV injection through every text column a list can carry
        evil = {"externalId": "E-1", "name": "+SUM(1,1)", "email": "e1@bizm.example",
                "department": "@evil", "course": COURSE, "completedAt": "2026-06-01"}
        r = n.request("POST", "/v1/credentials/batch", body=[evil], token=n.tokens["issuer"])
        t.eq(r.status, 200, "evil row issued")
        rows = list(csv.reader(io.StringIO(
            n.get("/v1/credentials?format=csv", token=n.tokens["auditor"]).body.decode())))
        bad = [c for row in rows[1:] for c in row if c[:1] in ("=", "+", "-", "@")]
        t.eq(bad, [], "list CSV: no cell starts with = + - @")
        rows = list(csv.reader(io.StringIO(
            n.get("/v1/reports/summary?format=csv", token=n.tokens["auditor"]).body.decode())))
        bad = [c for row in rows[1:] for c in row if c[:1] in ("=", "+", "@")]
        t.eq(bad, [], "summary CSV: no cell starts with = + @")


# ================================================================================================
# 4b. anchoring with anvil
# ================================================================================================
def part_anvil():
    with ca.Anvil() as anvil:
        port = ca.free_port()
        env = dict(BASE_ENV, CREDANCHOR_ANCHOR_RPC_URL=anvil.url,
                   CREDANCHOR_NODE_PUBLIC_URL=f"http://localhost:{port}",
                   CREDANCHOR_ANCHOR_CHAIN_ID="31337", CREDANCHOR_ANCHOR_INTERVAL="1",
                   CREDANCHOR_ANCHOR_CONFIRMATIONS="1")
        with ca.Node(roles=["issuer"], env=env) as n:
            ca.eth_rpc(anvil.url, "anvil_setBalance", [n.init["anchorAddress"], hex(10**19)])
            n.start(port=port)
            r = n.request("POST", "/v1/credentials", body={"credential": unsigned()},
                          token=n.tokens["issuer"])
            if not t.eq(r.status, 201, "anvil node: issue"):
                return
            ans = r.json()
            size = tree_size(n)
            deadline = time.time() + 30
            a = None
            while time.time() < deadline:
                lr = n.get("/v1/anchors/latest")
                if lr.status == 200 and lr.json()["status"] == "final" and \
                        lr.json()["treeSize"] >= size:
                    a = lr.json()
                    break
                time.sleep(0.2)
            if not t.ok(a is not None, "anchor final within 30 s"):
                print(n.log_text())
                return
            v = verify_route(n, ans["id"]).json()
            t.eq(v["checks"]["anchor"]["result"], "pass",
                 f"verification route: anchor pass ({v['checks']['anchor']})")
            t.eq(v.get("verified"), True, "verification route: verified with anchor")
            f = write(os.path.join(WORK, "anchored.jwt"), ans["credential"])
            node_url = f"http://localhost:{port}"
            # Issue 12 item 9: an anchor that cannot be read is a failure, not "pending".
            rc, v = verify_cli(f, node_url, "--rpc", f"http://127.0.0.1:{ca.free_port()}")
            a = v.get("checks", {}).get("anchor", {})
            t.ok(rc == 1 and v.get("verified") is False and a.get("result") == "fail" and
                 "cannot check the anchor" in a.get("detail", ""),
                 f"cli verify with an unreachable --rpc: exit 1, anchor fail ({rc} {a})")
            # No --confirmations and no config: the proof's chain (31337, a dev chain) says 1,
            # not a silent 12.
            rc, v = verify_cli(f, node_url, "--rpc", anvil.url)
            a = v.get("checks", {}).get("anchor", {})
            t.ok(rc == 0 and a.get("result") == "pass" and "1 required" in a.get("detail", ""),
                 f"cli verify --rpc: the dev chain's 1 confirmation ({rc} {a})")
            rc, v = verify_cli(f, node_url, "--rpc", anvil.url, "--confirmations", "12")
            t.eq(v.get("checks", {}).get("anchor", {}).get("result"), "pending",
                 "cli verify --rpc --confirmations 12: fewer confirmations: pending")
            ca.eth_rpc(anvil.url, "anvil_mine", ["0xc"])  # harness only: 12 more blocks
            rc, v = verify_cli(f, node_url, "--rpc", anvil.url, "--confirmations", "12")
            t.eq(rc, 0, "cli verify --rpc: exit 0")
            t.eq(v.get("checks", {}).get("anchor", {}).get("result"), "pass",
                 f"cli verify --rpc: anchor pass ({v.get('checks', {}).get('anchor')})")


# ================================================================================================
def main():
    t_start = time.time()
    roster = roster_rows()
    with ca.Node(roles=["issuer", "revoker", "auditor"], env=ENV_A) as a, \
            ca.Node(roles=["issuer", "revoker", "auditor"],
                    env=dict(BASE_ENV, CREDANCHOR_NODE_PUBLIC_URL=PUB_A)) as b:
        a.start(port=PORT_A)
        b.start()
        section(lambda: part_issue(a))
        rep = {}

        def bulk():
            rep["roster"] = part_bulk_roster(b)
            part_bulk_bad_csv(b)
        section(bulk)
        section(part_cli_issue)
        section(lambda: part_batch_json(a))
        sus = {}

        def revocation():
            sus.update(part_revocation(a))
        section(revocation)
        section(part_suspension_off)
        jwt_file = {}

        def verification():
            part_verify_route(a, sus)
            part_credential_route(a)
            jwt_file["f"] = part_verify_cli(a, b)
        section(verification)
        section(lambda: part_privacy(b, roster[0]["email"]))
        b.stop()
        a.stop()
        section(lambda: part_verify_dead(jwt_file["f"]))
        section(lambda: part_cli_revoke(a, rep.get("roster")))
        a.start(port=PORT_A)
        REVOKED_A[:] = [4, 3, 1]  # ES256K, DI, EdDSA (Singles); extra (no department)

        def after_restart():
            v = verify_route(a, ISSUED["vc+jwt/EdDSA"]["id"]).json()
            t.eq((v["verified"], v["checks"]["status"]["revoked"]), (False, True),
                 "revoked by the CLI while stopped: seen after restart")
            rev_lid = list_id(entry(jwt_parts(ISSUED["vc+jwt/EdDSA"]["credential"])[1],
                                    "revocation"))
            r = a.get(f"/v1/status/{rev_lid}")
            provable(a, sha(r.body), "list version published by the CLI")
            t.eq(len(set_bits(decode_list(r.body))), 4, "4 revoked bits after the CLI run")
        section(after_restart)
        section(lambda: part_reports(a))
    section(part_concurrent)
    print(f"(without anvil: {time.time() - t_start:.1f}s)", flush=True)
    if os.environ.get("CA_SKIP_ANVIL"):
        print("anvil part skipped (CA_SKIP_ANVIL)")
    else:
        section(part_anvil)
    print(f"total {time.time() - t_start:.1f}s", flush=True)


try:
    main()
finally:
    if not os.environ.get("KEEP"):
        shutil.rmtree(WORK, ignore_errors=True)
t.finish()
