#!/usr/bin/env bash
# Optional TLS integration test (issue 3): runs tests/integration/test_http_tls.py against the
# real binary; the script prints "N passed, M failed" and exits non-zero on any failure.
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec python3 "$CA_SOURCE_DIR/tests/integration/test_http_tls.py"
