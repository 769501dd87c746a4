#!/usr/bin/env bash
# `credanchor check --rpc` against a real anvil (issue 7): runs
# tests/integration/test_check_anvil.py against the real binary; prints "N passed, M failed",
# exits non-zero on any failure.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 60)" python3 "$CA_SOURCE_DIR/tests/integration/test_check_anvil.py"
