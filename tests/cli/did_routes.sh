#!/usr/bin/env bash
# DID resolution routes and `credanchor resolve` (issue 4): runs
# tests/integration/test_did_routes.py against the real binary, with no network; the script
# prints "N passed, M failed" and exits non-zero on any failure.
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec python3 "$CA_SOURCE_DIR/tests/integration/test_did_routes.py"
