"""Every log route of SPEC §3 against the real `credanchor serve`: exact JSON shapes, content
types, security headers, proofs checked with RFC 9162 maths in Python and with
`credanchor verify-proof --node`, keep-alive on one connection, /metrics, the request log."""
import base64
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

t = ca.Checks("http_routes")
SECURITY = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
            "content-security-policy": "default-src 'none'"}


def check_security_headers(r, what):
    for k, v in SECURITY.items():
        t.eq(r.headers.get(k), v, f"{what}: header {k}")
    t.ok("cache-control" in r.headers, f"{what}: Cache-Control present")


with ca.Node(roles=["issuer"]) as node:
    node.start()
    tok = node.tokens["issuer"]

    # ---- health on an empty log
    r = node.get("/v1/health")
    t.eq(r.status, 200, "health status")
    t.ok(r.ctype.startswith("application/json"), "health content type")
    t.eq(r.json(), {"status": "ok", "treeSize": 0, "latestAnchor": None}, "empty health")
    check_security_headers(r, "health")

    # ---- appends: three batches, one with duplicates (idempotent)
    digests = ca.random_digests(37)
    r = node.append(digests[:20])
    t.eq(r.status, 200, "append 20")
    body = r.json()
    t.eq(list(body.keys()), ["entries", "treeSize"], "append answer keys")
    t.eq(body["treeSize"], 20, "treeSize after 20")
    t.eq([e["digest"] for e in body["entries"]], digests[:20], "entries echo digests in order")
    t.eq([e["leafIndex"] for e in body["entries"]], list(range(20)), "leaf indexes 0..19")
    t.ok(all(list(e.keys()) == ["digest", "leafIndex"] for e in body["entries"]),
         "entry keys are digest, leafIndex")
    t.eq(r.headers.get("cache-control"), "no-store", "authenticated route is no-store")
    check_security_headers(r, "append")
    r = node.append(digests[20:] + digests[3:5])
    t.eq(r.status, 200, "append 17 + 2 duplicates")
    b2 = r.json()
    t.eq(b2["treeSize"], 37, "duplicates do not grow the tree")
    t.eq([e["leafIndex"] for e in b2["entries"]][-2:], [3, 4], "duplicates keep their index")
    r = node.append([digests[0].upper()])
    t.eq((r.status, r.json()["entries"][0]["leafIndex"]), (200, 0), "upper-case hex accepted")
    t.eq(r.json()["entries"][0]["digest"], digests[0], "digest answered in lower case")

    # ---- health, checkpoint, key, keys
    r = node.get("/v1/health")
    t.eq(r.json(), {"status": "ok", "treeSize": 37, "latestAnchor": None}, "health after appends")
    r = node.get("/v1/checkpoint")
    t.eq(r.status, 200, "checkpoint status")
    t.ok(r.ctype.startswith("text/plain"), "checkpoint is text/plain")
    check_security_headers(r, "checkpoint")
    cp_text = r.body.decode()
    try:
        origin, size, root, sigs = ca.parse_checkpoint(cp_text)
        t.eq(size, 37, "checkpoint size")
        t.eq(root, ca.merkle_root(digests), "checkpoint root is the RFC 9162 root")
        t.eq(origin, "localhost:8080/credanchor", "origin from public_url")
        t.eq(len(sigs), 1, "one signature line")
    except ValueError as e:
        t.ok(False, f"checkpoint format: {e}")
        sigs = []
    r = node.get("/v1/log/key")
    t.eq(r.status, 200, "log key status")
    t.ok(r.ctype.startswith("text/plain"), "log key is text/plain")
    vkey = r.body.decode().strip()
    t.eq(vkey, node.init["logKey"], "log key equals init's logKey")
    name, kid, raw = ca.parse_verifier_key(vkey)
    t.eq(name, origin, "key name is the origin")
    t.eq(len(raw), 33, "key is 0x01 || 32 bytes")
    t.eq(raw[:1], b"\x01", "Ed25519 key type byte")
    t.eq(kid, ca.key_id(name, raw), "key id per C2SP signed-note")
    if sigs:
        t.eq(sigs[0][0], name, "signature line names the key")
        t.eq(sigs[0][1][:4], kid, "signature starts with the key id")
        t.eq(len(sigs[0][1]), 68, "key id + 64-byte Ed25519 signature")
    r = node.get("/v1/log/keys")
    t.eq(r.status, 200, "keys status")
    t.eq(r.json(), {"keys": [{"key": vkey, "fromSize": 0, "toSize": None}]}, "keys shape")

    # ---- inclusion proofs: latest and historical, for every leaf
    proof_keys = ["digest", "leafIndex", "treeSize", "rootHash", "inclusionPath", "checkpoint",
                  "anchor"]
    bad = 0
    saved = None
    for i, d in enumerate(digests):
        r = node.get(f"/v1/log/proof?digest={d}")
        p = r.json() if r.status == 200 else {}
        ok = (r.status == 200 and list(p.keys()) == proof_keys and p["digest"] == d and
              p["leafIndex"] == i and p["treeSize"] == 37 and p["anchor"] is None and
              p["checkpoint"] == cp_text and p["rootHash"] == root.hex())
        leaf = ca.leaf_hash(d)
        path = [bytes.fromhex(h) for h in p.get("inclusionPath", [])]
        ok = ok and ca.root_from_inclusion(i, 37, leaf, path) == root
        if not ok:
            bad += 1
        if i == 11:
            saved = r.body
    t.eq(bad, 0, "every latest proof has the exact shape and verifies")
    bad = 0
    for n_size in (1, 2, 3, 8, 13, 16, 17, 36, 37):
        root_n = ca.merkle_root(digests[:n_size])
        for i in sorted({0, n_size // 2, n_size - 1}):
            r = node.get(f"/v1/log/proof?digest={digests[i]}&treeSize={n_size}")
            p = r.json() if r.status == 200 else {}
            path = [bytes.fromhex(h) for h in p.get("inclusionPath", [])]
            ok = (r.status == 200 and p["treeSize"] == n_size and p["leafIndex"] == i and
                  p["rootHash"] == root_n.hex() and
                  ca.root_from_inclusion(i, n_size, ca.leaf_hash(digests[i]), path) == root_n)
            if ok:
                o, s, rt, _ = ca.parse_checkpoint(p["checkpoint"])
                ok = (o, s, rt) == (origin, n_size, root_n)
            if not ok:
                bad += 1
                print(f"  historical proof leaf {i} size {n_size}: {r.status} {r.body[:200]}")
    t.eq(bad, 0, "historical proofs (treeSize=N) verify against the size-N root and checkpoint")

    # ---- verify-proof against the node's published key
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
        f.write(saved)
        proof_file = f.name
    p = subprocess.run([ca.BIN, "verify-proof", "--node", f"http://127.0.0.1:{node.port}",
                        proof_file], capture_output=True, text=True, timeout=60)
    t.eq(p.returncode, 0, f"verify-proof --node exits 0 ({p.stderr.strip()})")
    tampered = json.loads(saved)
    tampered["leafIndex"] = 12
    with open(proof_file, "w") as f:
        json.dump(tampered, f)
    p = subprocess.run([ca.BIN, "verify-proof", "--node", f"http://127.0.0.1:{node.port}",
                        proof_file], capture_output=True, text=True, timeout=60)
    t.eq(p.returncode, 1, "verify-proof rejects a tampered proof")
    os.unlink(proof_file)

    # ---- consistency proofs
    bad = 0
    for m, n in [(1, 1), (1, 2), (1, 37), (2, 37), (3, 7), (4, 8), (7, 37), (16, 37), (20, 37),
                 (36, 37), (37, 37), (5, 13)]:
        r = node.get(f"/v1/log/consistency?from={m}&to={n}")
        c = r.json() if r.status == 200 else {}
        proof = [bytes.fromhex(h) for h in c.get("proof", [])]
        ok = (r.status == 200 and list(c.keys()) == ["from", "to", "proof"] and
              c["from"] == m and c["to"] == n and
              ca.verify_consistency(m, n, ca.merkle_root(digests[:m]),
                                    ca.merkle_root(digests[:n]), proof))
        if not ok:
            bad += 1
            print(f"  consistency {m}->{n}: {r.status} {r.body[:200]}")
    t.eq(bad, 0, "consistency proofs verify (RFC 9162 §2.1.4)")

    # ---- keep-alive: several requests, a POST among them, on one connection
    c = node.conn()
    socks = set()
    statuses = []
    for i in range(6):
        if i == 3:
            r = node.append(ca.random_digests(3), conn=c)
        else:
            r = node.get("/v1/health" if i % 2 else f"/v1/log/proof?digest={digests[i]}",
                         conn=c)
        statuses.append(r.status)
        socks.add(id(c.sock))
        t.ok(r.headers.get("connection", "").lower() != "close", f"keep-alive request {i}")
    r = node.get("/v1/nope", conn=c)  # an error answer keeps the connection too
    statuses.append(r.status)
    r = node.get("/v1/health", conn=c)
    statuses.append(r.status)
    socks.add(id(c.sock))
    c.close()
    t.eq(statuses, [200] * 6 + [404, 200], "keep-alive statuses")
    t.eq(len(socks), 1, "all requests went over one connection")

    # ---- HEAD works like GET without a body
    r = node.request("HEAD", "/v1/health")
    t.eq((r.status, r.body), (200, b""), "HEAD /v1/health")

    # ---- metrics
    r = node.get("/metrics")
    t.eq(r.status, 200, "metrics status")
    t.ok(r.ctype.startswith("text/plain"), "metrics content type")
    m = r.body.decode()
    for needle in ['credanchor_http_requests_total{route="/v1/log/proof",status="200"}',
                   'credanchor_http_requests_total{route="unmatched",status="404"}',
                   'credanchor_http_request_duration_seconds_bucket{route="/v1/log/proof",'
                   'le="+Inf"}',
                   'credanchor_http_request_duration_seconds_count{route="/v1/log/entries"}',
                   "credanchor_log_tree_size 40", "credanchor_log_appends_total 40",
                   "credanchor_log_commits_total ", "# TYPE credanchor_http_request_duration_"
                   "seconds histogram"]:
        t.ok(needle in m, f"metrics has {needle}")

    rc = node.stop()
    t.eq(rc, 0, "serve exits 0 on SIGTERM")

    # ---- the request log: one JSON object a line, no token, no raw query
    full = open(node.log_path, errors="replace").read()
    lines = [ln for ln in full.splitlines() if ln.startswith('{"time"')]
    t.ok(len(lines) > 80, f"request log lines ({len(lines)})")
    parsed = 0
    for ln in lines:
        try:
            o = json.loads(ln)
            if list(o.keys()) == ["time", "method", "route", "status", "durationMs", "bytes",
                                  "client"]:
                parsed += 1
        except ValueError:
            pass
    t.eq(parsed, len(lines), "every request line is JSON with the documented keys")
    t.ok(tok not in full and tok[20:] not in full, "the token never reaches the log")
    t.ok("digest=" not in full, "query strings are not logged")

t.finish()
