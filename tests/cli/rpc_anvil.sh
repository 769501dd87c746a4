#!/usr/bin/env bash
# JSON-RPC client against a real anvil (issue 5): runs tests/integration/test_rpc_anvil.py with
# the test driver tests/tools/rpc_probe; prints "N passed, M failed", exits non-zero on any
# failure.
set -euo pipefail
: "${CA_SOURCE_DIR:?set by ctest}" "${CA_TOOLS_DIR:?set by ctest}"
exec python3 "$CA_SOURCE_DIR/tests/integration/test_rpc_anvil.py"
