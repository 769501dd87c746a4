#!/usr/bin/env bash
# The clock steps back (issue #13 item 12): a credential is issued (status list version 1),
# then revoked by a process whose clock runs a day behind (faketime; no clock hook exists in
# the binary). The new version's validFrom must not be earlier than the one it replaces, and
# ?timestamp= at that validFrom must answer the new version (it answered 404 when the
# version claimed the stepped-back time). Without faketime installed: skipped.
source "$(dirname "$0")/lib.bash"
: "${CA_SOURCE_DIR:?set by ctest}"
if ! command -v faketime > /dev/null; then
  echo "SKIP status_clock_step: faketime is not installed (scripts/install-deps)"
  echo "0 passed, 0 failed"
  exit 0
fi
timeout "$(scaled 120)" python3 - "$WORK" <<'PY'
import json, os, subprocess, sys, time
sys.path.insert(0, os.path.join(os.environ["CA_SOURCE_DIR"], "tests", "integration"))
from ca_node import BIN, Checks, Node, scaled

work = sys.argv[1]
c = Checks("status_clock_step")
src = os.environ["CA_SOURCE_DIR"]
n = Node(keep_dir=work)
rows = open(os.path.join(src, "tests", "data", "participants-166.csv")).read().splitlines()[:2]
csv = os.path.join(work, "one.csv")
open(csv, "w").write("\n".join(rows) + "\n")
tpl = os.path.join(src, "config", "templates", "security-awareness-2026.json")
issued_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
p = subprocess.run([BIN, "issue", "--data-dir", n.data_dir, "--csv", csv, "--template", tpl,
                    "--json"], env=n.env, capture_output=True, text=True, timeout=scaled(60))
c.eq(p.returncode, 0, f"issue: {p.stderr}")
cid = json.loads(p.stdout)["results"][0]["id"]
# faketime preloads libfaketime; an ASan build must then not insist on coming first.
fenv = dict(n.env, ASAN_OPTIONS=(n.env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
            .lstrip(":"))
p = subprocess.run(["faketime", "-f", "-1d", BIN, "revoke", "--data-dir", n.data_dir, cid],
                   env=fenv, capture_output=True, text=True, timeout=scaled(60))
c.eq(p.returncode, 0, f"revoke a day behind: {p.stderr}")
n.start()
try:
    path = "/v1/status/1"  # the first revocation list
    latest = n.get(path)
    c.eq(latest.status, 200, "GET the status list")
    vf = latest.json()["validFrom"]
    c.ok(vf >= issued_at, f"version 2 validFrom {vf} is not before version 1's time "
         f"(issued at {issued_at} or later)")
    at = n.get(path + "?timestamp=" + vf)
    c.eq(at.status, 200, f"?timestamp={vf} (the latest version's own validFrom)")
    c.ok(at.status == 200 and at.body == latest.body, "?timestamp= at validFrom is that version")
finally:
    c.eq(n.stop(), 0, "serve exits 0")
c.finish()
PY
