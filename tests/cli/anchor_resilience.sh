#!/usr/bin/env bash
# Anchoring engine resilience against a real anvil (issue 5): a 30 s chain outage with the node
# serving, kill -9 mid-anchor (no lost, no doubled anchor), replacement under a raised base fee.
# Runs tests/integration/test_anchor_resilience.py; prints "N passed, M failed", exits non-zero
# on any failure.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 180)" python3 "$CA_SOURCE_DIR/tests/integration/test_anchor_resilience.py"
