#!/usr/bin/env bash
# did:web against a misbehaving HTTPS server through the node (issue 7): slow-loris, endless
# bodies, Content-Length lies, redirect loops and off-host redirects, a 1 MiB + 1 body, an id
# mismatch and non-JSON; GET /1.0/identifiers/{did} answers within did.web_timeout while
# /v1/health keeps answering, and `credanchor resolve` exits non-zero with one line. Runs
# tests/integration/test_did_web_faults.py; prints "N passed, M failed", exits non-zero on any
# failure.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 150)" python3 "$CA_SOURCE_DIR/tests/integration/test_did_web_faults.py"
