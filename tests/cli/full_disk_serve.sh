#!/usr/bin/env bash
# A full disk under `serve` (issue 7, SPEC §1 §7 store.max_map_size): as root, a 24 MiB tmpfs
# holds a fresh data dir; the serving node takes digests (POST /v1/log/entries) and credentials
# (POST /v1/credentials, the config/templates template) until it answers 507. Every
# acknowledged digest and credential is recorded. Phase 2: the data dir is copied to a bigger
# place and served again with store.max_map_size just above the current map, until 507 again.
# Then, served without a limit: every acknowledged digest of the last batches before each 507
# and a random sample of the rest is provable (RFC 9162 path to the checkpoint's root), every
# acknowledged credential's /verification passes signature and inclusion, and
# `credanchor check` is clean. While full, the credanchor_log_appends_blocked gauge is 1
# (issue #13 item 15). The tmpfs is always unmounted (trap). Not root, or no tmpfs: skipped with a printed reason, counting nothing as failed.
source "$(dirname "$0")/lib.bash"
: "${CA_SOURCE_DIR:?set by ctest}"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP full_disk_serve: not running as root (mount -t tmpfs needs root)"
  echo "0 passed, 0 failed"
  exit 0
fi
MNT=$WORK/mnt
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=24m,mode=0700 tmpfs "$MNT" 2>"$WORK/mount.err"; then
  echo "SKIP full_disk_serve: mount -t tmpfs failed: $(cat "$WORK/mount.err")"
  echo "0 passed, 0 failed"
  exit 0
fi
# Runs before lib.bash's rm -rf of $WORK (hooks run first).
cleanup_hooks+=("umount -l '$MNT'")

timeout "$(scaled 170)" python3 - "$WORK" "$MNT" <<'PY'
import base64, json, os, random, shutil, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["CA_SOURCE_DIR"], "tests", "integration"))
from ca_node import (BIN, Checks, Node, leaf_hash, parse_checkpoint, random_digests,
                     root_from_inclusion, run_cli, scaled)

work, mnt = sys.argv[1], sys.argv[2]
c = Checks("full_disk_serve")
tpl = json.load(open(os.path.join(os.environ["CA_SOURCE_DIR"], "config", "templates",
                                  "security-awareness-2026.json")))
acked = []        # (digest, leafIndex)
batches = []      # lists of digests, in order
creds = []        # issued credential answers
BATCH = 1000


def fill(n, phase, deadline_s=60):
    """Appends (and issues a credential every 5th round) until 507; returns what ended it."""
    t0, i, last = time.time(), 0, None
    while time.time() - t0 < scaled(deadline_s):
        i += 1
        d = random_digests(BATCH)
        try:
            r = n.append(d)
        except OSError as ex:
            return f"append raised {ex}"
        if r.status == 200:
            ents = r.json()["entries"]
            if not c.ok([e["digest"] for e in ents] == d, f"{phase}: entries echo the digests"):
                return "bad answer"
            acked.extend((e["digest"], e["leafIndex"]) for e in ents)
            batches.append(d)
        elif r.status == 507:
            c.ok(r.is_problem(507), f"{phase}: 507 is a problem+json: {r.body[:200]!r}")
            return "507"
        else:
            return f"append answered {r.status}: {r.body[:300]!r}"
        if i % 5 == 0:
            cred = json.loads(json.dumps(tpl))
            cred["credentialSubject"]["id"] = f"did:example:p{len(creds)}"
            body = {"credential": cred}
            if len(creds) % 2:
                body["format"] = "eddsa-jcs-2022"
            r = n.request("POST", "/v1/credentials", body=body, token=n.tokens["issuer"])
            if r.status == 201:
                creds.append(r.json())
            elif r.status == 507:
                c.ok(r.is_problem(507) or r.ctype.startswith("application/json"),
                     f"{phase}: credential 507 body: {r.body[:200]!r}")
                return "507 (credential)"
            else:
                return f"POST /v1/credentials answered {r.status}: {r.body[:300]!r}"
    return "no 507 within the time limit"


def after_full(n, phase):
    """The node is full: it stays up, answers reads, keeps refusing writes with 507."""
    c.ok(n.proc.poll() is None, f"{phase}: the node is still running after 507")
    h = n.get("/v1/health")
    c.eq(h.status, 200, f"{phase}: /v1/health after 507")
    size = h.json()["treeSize"] if h.status == 200 else -1
    c.ok(size >= len(acked), f"{phase}: treeSize {size} covers the {len(acked)} acknowledged")
    # Smaller appends may still fit; each one acknowledged is recorded. It must end in 507.
    for _ in range(200):
        d = random_digests(10)
        r = n.append(d)
        if r.status != 200:
            break
        acked.extend((e["digest"], e["leafIndex"]) for e in r.json()["entries"])
        batches.append(d)
    c.ok(r.status == 507, f"{phase}: small appends when full end in 507: {r.status} "
         f"{r.body[:200]!r}")
    if acked:
        d, i = acked[-1]
        r = n.get(f"/v1/log/proof?digest={d}")
        c.ok(r.status == 200 and r.json()["leafIndex"] == i,
             f"{phase}: the last acknowledged digest is provable while full: {r.status}")
    r = n.get("/v1/checkpoint")
    c.eq(r.status, 200, f"{phase}: /v1/checkpoint while full")
    c.eq(appends_blocked(n), 1, f"{phase}: credanchor_log_appends_blocked while appends get 507")


def appends_blocked(n):
    """The credanchor_log_appends_blocked gauge (issue #13 item 15), or None."""
    r = n.get("/metrics")
    for line in r.body.decode(errors="replace").splitlines():
        if line.startswith("credanchor_log_appends_blocked "):
            return int(line.split()[1])
    return None


# ---- phase 1: the tmpfs fills up ----
n1 = Node(roles=("issuer", "auditor"), keep_dir=mnt)
n1.log_path = os.path.join(work, "serve1.log")
n1.start()
why = fill(n1, "tmpfs")
print(f"tmpfs: stopped by {why} after {len(acked)} digests, {len(creds)} credentials",
      flush=True)
c.ok(why.startswith("507"), f"tmpfs: the fill ended with {why}, want 507")
c.ok(len(acked) > 0 and len(creds) > 0, "tmpfs: something was acknowledged before full")
after_full(n1, "tmpfs")
rc = n1.stop()
c.eq(rc, 0, "tmpfs: serve exits 0 on SIGTERM when full")
if c.failed:
    print(open(n1.log_path, errors="replace").read()[-2000:])
n1_acked = len(acked)

# ---- phase 2: copied to a bigger place, served with a small store.max_map_size ----
big = os.path.join(work, "big")
os.makedirs(big)
shutil.copytree(os.path.join(mnt, "data"), os.path.join(big, "data"), symlinks=True)
mdb = [os.path.join(r, f) for r, _, fs in os.walk(os.path.join(big, "data")) for f in fs
       if f == "data.mdb"]
cur = max(os.path.getsize(p) for p in mdb) if mdb else 0
limit = max(cur + 2 * 1024 * 1024, 2 * 1024 * 1024)
print(f"map: data.mdb {cur} bytes, store.max_map_size {limit}", flush=True)
n2 = Node(keep_dir=big, env={"CREDANCHOR_STORE_MAX_MAP_SIZE": str(limit)})
n2.tokens = {"issuer": n2.create_token("issuer")}
n2.log_path = os.path.join(work, "serve2.log")
n2.start()
h = n2.get("/v1/health").json()
c.ok(h["treeSize"] >= n1_acked, f"copy: treeSize {h['treeSize']} >= {n1_acked} acknowledged")
why = fill(n2, "map")
print(f"map: stopped by {why}; {len(acked) - n1_acked} more digests", flush=True)
c.ok(why.startswith("507"), f"map: the fill ended with {why}, want 507")
after_full(n2, "map")
c.eq(n2.stop(), 0, "map: serve exits 0 on SIGTERM when full")

# ---- phase 3: served without a limit, everything acknowledged is there ----
n3 = Node(keep_dir=big)
n3.log_path = os.path.join(work, "serve3.log")
n3.start()
h = n3.get("/v1/health").json()
c.ok(h["treeSize"] >= len(acked), f"final: treeSize {h['treeSize']} >= {len(acked)}")
c.eq(appends_blocked(n3), 0, "final: credanchor_log_appends_blocked 0 with room again")
sample = set(d for b in batches[-3:] for d in b)
sample |= set(d for b in [batches[i] for i in range(len(batches)) if
                          sum(len(x) for x in batches[:i + 1]) >= n1_acked][:3] for d in b)
sample |= set(random.sample([d for d, _ in acked], min(1500, len(acked))))
index = dict(acked)
bad = []
conn = n3.conn()
for d in sample:
    r = n3.get(f"/v1/log/proof?digest={d}", conn=conn)
    if r.status != 200:
        bad.append((d, r.status))
        continue
    p = r.json()
    _, size, root, _ = parse_checkpoint(p["checkpoint"])
    got = root_from_inclusion(p["leafIndex"], p["treeSize"], leaf_hash(d),
                              [bytes.fromhex(x) for x in p["inclusionPath"]])
    if p["leafIndex"] != index[d] or got != root or size != p["treeSize"]:
        pf = os.path.join("/tmp", f"fd-bad-{d[:12]}.json")
        open(pf, "w").write(r.body.decode())
        vk = n3.get("/v1/log/key").body.decode().strip()
        vp = subprocess.run([BIN, "verify-proof", pf, "--key", vk], capture_output=True,
                            text=True, timeout=scaled(60))
        bad.append((d, f"verify-proof exit {vp.returncode} {vp.stderr.strip()[:200]}; "
                       f"saved {pf}"))
        bad.append((d, f"leafIndex {p['leafIndex']} (acknowledged {index[d]}), treeSize "
                       f"{p['treeSize']}, checkpoint size {size}, path verifies: {got == root}"))
conn.close()
c.ok(not bad, f"final: {len(bad)} of {len(sample)} sampled acknowledged digests not "
     f"provable: {bad[:5]}")
vbad = []
for cr in creds:
    r = n3.get("/v1/credentials/" + cr["id"] + "/verification")
    if r.status != 200:
        vbad.append((cr["id"], r.status, r.body[:200]))
        continue
    v = r.json()["checks"]
    if v["signature"]["result"] != "pass" or v["inclusion"]["result"] != "pass":
        vbad.append((cr["id"], v["signature"], v["inclusion"]))
    pr = n3.get(f"/v1/log/proof?digest={cr['digest']}")
    if pr.status != 200 or pr.json()["leafIndex"] != cr["leafIndex"]:
        vbad.append((cr["id"], "digest proof", pr.status))
c.ok(not vbad, f"final: {len(vbad)} of {len(creds)} acknowledged credentials fail: {vbad[:3]}")
c.eq(n3.stop(), 0, "final: serve exits 0")
p = subprocess.run([BIN, "check", "--data-dir", os.path.join(big, "data")], capture_output=True,
                   text=True, env=n3.env, timeout=scaled(120))
c.ok(p.returncode == 0, f"credanchor check: exit {p.returncode}: {p.stdout[-500:]} {p.stderr[-500:]}")
print(f"{len(acked)} digests and {len(creds)} credentials acknowledged; "
      f"{len(sample)} digests proved", flush=True)
c.finish()
PY
