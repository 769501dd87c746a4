#!/usr/bin/env bash
# Credentials integration test (issuance, bulk, revocation, verification, reports, privacy):
# runs tests/integration/test_credentials.py against the real binary; the script prints
# "N passed, M failed" and exits non-zero on any failure. The anchoring part starts the pinned
# anvil (tools/); CA_SKIP_ANVIL=1 leaves it out.
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec python3 "$CA_SOURCE_DIR/tests/integration/test_credentials.py"
