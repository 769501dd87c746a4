#!/usr/bin/env bash
# web/vendor (issue #15) is what scripts/vendor-web wrote from the pinned npm packages: every
# file listed in web/vendor/MANIFEST has the listed SHA-256, nothing unlisted is there (but
# the LICENSEs, MANIFEST and package.json), each package has its LICENSE, and the pinned
# versions are the ones tests/interop/package-lock.json holds.
set -euo pipefail
: "${CA_SOURCE_DIR:?set by ctest}"
exec python3 - "$CA_SOURCE_DIR" <<'PY'
import hashlib, json, os, sys
src = sys.argv[1]
vendor = os.path.join(src, "web", "vendor")
lock = json.load(open(os.path.join(src, "tests", "interop", "package-lock.json")))["packages"]
passed = failed = 0
def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL web_vendor: {what}")
listed = {"MANIFEST", "package.json"}
for line in open(os.path.join(vendor, "MANIFEST")):
    f = line.split()
    if f[:1] == ["package"]:
        pkg, version, integrity = f[1:4]
        pin = lock.get(f"node_modules/{pkg}", {})
        check((pin.get("version"), pin.get("integrity")) == (version, integrity),
              f"{pkg} {version} is the version and integrity the lock pins")
        d = f"{pkg.lstrip('@').replace('/', '-')}-{version}"  # scripts/vendor-web target_dir
        check(os.path.isfile(os.path.join(vendor, d, "LICENSE")), f"{d}/LICENSE")
        listed.add(os.path.join(d, "LICENSE"))
    elif f[:1] == ["file"]:
        path, want = f[1], f[4].split("=")[1]
        listed.add(path)
        full = os.path.join(vendor, path)
        got = hashlib.sha256(open(full, "rb").read()).hexdigest() if os.path.isfile(full) else None
        check(got == want, f"{path}: sha256 {got} is the manifest's {want}")
present = {os.path.relpath(os.path.join(r, n), vendor) for r, _, ns in os.walk(vendor) for n in ns}
check(present == listed, f"files not in the manifest: {sorted(present - listed)}; "
      f"missing: {sorted(listed - present)}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
PY
