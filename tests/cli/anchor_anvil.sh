#!/usr/bin/env bash
# Anchoring engine against a real anvil (issue 5): runs tests/integration/test_anchor_anvil.py
# against the real binary; prints "N passed, M failed", exits non-zero on any failure.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 120)" python3 "$CA_SOURCE_DIR/tests/integration/test_anchor_anvil.py"
