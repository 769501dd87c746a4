#!/usr/bin/env bash
# The admin console's own API (issue #17): machine tokens over HTTP (made, shown once, used,
# revoked, audited), the audit chain's check, and the issuance list's search.
# tests/integration/test_admin_api.py says what each checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 300)" python3 "$CA_SOURCE_DIR/tests/integration/test_admin_api.py"
