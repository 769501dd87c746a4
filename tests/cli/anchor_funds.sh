#!/usr/bin/env bash
# The anchor account's funds and the chain's reachability (issue #17): runs
# tests/integration/test_anchor_funds.py against the real binary and a real anvil on loopback;
# prints "N passed, M failed", exits non-zero on any failure.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 120)" python3 "$CA_SOURCE_DIR/tests/integration/test_anchor_funds.py"
