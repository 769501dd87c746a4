#!/usr/bin/env bash
# verify-proof --rpc against a real anvil (issue 5, SPEC §6): runs
# tests/integration/test_verify_proof_rpc.py with the test driver tests/tools/anchor_send;
# prints "N passed, M failed", exits non-zero on any failure.
set -euo pipefail
: "${CA_SOURCE_DIR:?set by ctest}" "${CA_TOOLS_DIR:?set by ctest}" "${CREDANCHOR_BIN:?set by ctest}"
exec python3 "$CA_SOURCE_DIR/tests/integration/test_verify_proof_rpc.py"
