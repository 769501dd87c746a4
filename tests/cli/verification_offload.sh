#!/usr/bin/env bash
# The public /verification route against a stalled JSON-RPC provider (issue #13 item 2): a
# second verification of a final anchor makes no RPC call (the memo), and 12 concurrent
# verifications with the provider stalled run on the offload pool, answer within the check's
# short budget with the anchor not passing, while /v1/health and proofs answer within a second.
# Runs tests/integration/test_verification_offload.py (the fake RPC of test_rpc_faults.py in
# front of a real anvil); prints "N passed, M failed", exits non-zero on any failure.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 150)" python3 "$CA_SOURCE_DIR/tests/integration/test_verification_offload.py"
