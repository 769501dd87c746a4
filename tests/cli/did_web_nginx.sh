#!/usr/bin/env bash
# did:web against a real nginx over TLS (issue 4): runs tests/integration/test_did_web_nginx.py
# with the test driver tests/tools/did_web_resolve; prints "N passed, M failed", exits non-zero
# on any failure.
set -euo pipefail
: "${CA_SOURCE_DIR:?set by ctest}" "${CA_TOOLS_DIR:?set by ctest}"
exec python3 "$CA_SOURCE_DIR/tests/integration/test_did_web_nginx.py"
