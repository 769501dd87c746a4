#!/usr/bin/env bash
# The admin console in the browser (issue #17): web/admin/ (the roster upload; the credentials
# list with search, filters, paging and exports; one credential with revoke/suspend; the
# dashboard; the audit log; people and tokens) in Debian's Chromium driven by playwright-core
# with CDP virtual authenticators (tests/interop/web_admin_console_peer.mjs), on
# http://localhost with the 166-row roster uploaded through the page; an admin, an auditor and
# an issuer, axe on every view, Korean and English screenshots (kept in
# $CA_BUILD_DIR/web_admin_console_artefacts). tests/integration/test_web_admin_console.py says
# what each case checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
command -v node >/dev/null || { echo "web_admin_console: node is required"; exit 1; }
# openpyxl (the XLSX export) comes from Debian (python3-openpyxl): use the system interpreter
# when the python3 first on PATH (e.g. a pyenv one) lacks it.
PY=python3
"$PY" -c 'import openpyxl' 2>/dev/null || PY=/usr/bin/python3
exec timeout "$(scaled 600)" "$PY" "$CA_SOURCE_DIR/tests/integration/test_web_admin_console.py"
