#!/usr/bin/env bash
# The admin console's own API (issue #17): machine tokens over HTTP (made, shown once, used,
# revoked, audited), the audit chain's check, and the issuance list's search.
# tests/integration/test_admin_api.py says what each checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
# openpyxl comes from Debian (python3-openpyxl): use the system interpreter when the python3
# first on PATH (e.g. a pyenv one) lacks it.
PY=python3
"$PY" -c 'import openpyxl' 2>/dev/null || PY=/usr/bin/python3
exec timeout "$(scaled 300)" "$PY" "$CA_SOURCE_DIR/tests/integration/test_admin_api.py"
