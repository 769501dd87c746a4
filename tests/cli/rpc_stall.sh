#!/usr/bin/env bash
# A stalled JSON-RPC endpoint at start-up and shutdown (issue #13 item 5, SPEC §1): reads are
# served at once, appends held with 503 + Retry-After, SIGTERM exits in < 5 s, appends open
# when the endpoint recovers. Runs tests/integration/test_rpc_stall.py; prints "N passed,
# M failed", exits non-zero on any failure.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 240)" python3 "$CA_SOURCE_DIR/tests/integration/test_rpc_stall.py"
