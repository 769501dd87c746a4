#!/usr/bin/env bash
# People's sign-in over HTTP (issue #16), server side, with a software authenticator:
# ceremonies and their refusals, sessions on role routes with Origin and CSRF, recovery
# codes, disable, the audit trail. tests/integration/test_auth_api.py says what each checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 300)" python3 "$CA_SOURCE_DIR/tests/integration/test_auth_api.py"
