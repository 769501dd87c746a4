#!/usr/bin/env bash
# Anchoring against a misbehaving JSON-RPC endpoint (issue 7): slow, garbage, oversized, wrong
# id, JSON-RPC errors, HTTP 500/429, connection resets and a wrong chain id from a fake server
# that proxies to a real anvil when "good". Runs tests/integration/test_rpc_faults.py; prints
# "N passed, M failed", exits non-zero on any failure.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 150)" python3 "$CA_SOURCE_DIR/tests/integration/test_rpc_faults.py"
