#!/usr/bin/env bash
# SPEC §1 start-up gate against a real anvil: runs tests/integration/test_anchor_gate.py; the
# script prints "N passed, M failed" and exits non-zero on any failure.
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec python3 "$CA_SOURCE_DIR/tests/integration/test_anchor_gate.py"
