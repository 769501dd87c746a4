# Shared helpers for the shell tests in tests/cli (sourced, not run by ctest itself).
# Every test prints a closing "N passed, M failed" line and exits non-zero on any failure.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scaled.bash"
: "${CREDANCHOR_BIN:?set by ctest}"
BIN=$CREDANCHOR_BIN
passed=0
failed=0
WORK=$(mktemp -d /tmp/ca-cli-XXXXXX)
cleanup_hooks=()
on_exit() {
  for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
  rm -rf "$WORK"
}
trap on_exit EXIT

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# expect_exit CODE NAME -- CMD...: runs CMD, checks its exit code, and for a non-zero code
# checks stderr is exactly one line starting "credanchor".
expect_exit() {
  local want=$1 name=$2
  shift 3
  local out err rc
  out=$("$@" 2>"$WORK/stderr") && rc=0 || rc=$?
  err=$(cat "$WORK/stderr")
  if [ "$rc" != "$want" ]; then
    fail "$name: exit $rc, want $want (stderr: $err)"
    return
  fi
  if [ "$want" != 0 ]; then
    if [ "$(printf '%s\n' "$err" | grep -c .)" != 1 ] || [[ "$err" != credanchor* ]]; then
      fail "$name: stderr is not one 'credanchor ...' line: $err"
      return
    fi
  fi
  ok
}

# free_port: a free loopback port, picked by the helper module the Python suites share
# (tests/integration/ca_node.py), so there is one copy of that code.
CA_PY_HELPERS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../integration" && pwd)
free_port() {
  PYTHONPATH="$CA_PY_HELPERS" python3 -c 'import ca_node; print(ca_node.free_port())'
}

# wait_healthy URL: waits until URL/v1/health answers 200, for 10 s (scaled).
wait_healthy() {
  for _ in $(seq 1 "$(scaled 200)"); do curl -sf "$1/v1/health" >/dev/null && return 0; sleep 0.05; done
  return 1
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}

# Digest i as hex: SHA-256 of the decimal text of i (deterministic, so a log can be rebuilt).
gen_digests() { # FROM COUNT
  python3 -c "import hashlib,sys
a,n=int(sys.argv[1]),int(sys.argv[2])
sys.stdout.write(''.join(hashlib.sha256(str(i).encode()).hexdigest()+'\n' for i in range(a,a+n)))" "$1" "$2"
}
