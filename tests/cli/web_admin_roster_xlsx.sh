#!/usr/bin/env bash
# The roster upload page with Excel workbooks (issue #17) in Debian's Chromium:
# tests/integration/test_web_admin_roster_xlsx.py says what it checks; screenshots (en, ko) are
# kept in $CA_BUILD_DIR/web_admin_roster_xlsx_artefacts. openpyxl comes from Debian
# (python3-openpyxl): use the system interpreter when the first python3 on PATH lacks it.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
command -v node >/dev/null || { echo "web_admin_roster_xlsx: node is required"; exit 1; }
PY=python3
"$PY" -c 'import openpyxl' 2>/dev/null || PY=/usr/bin/python3
exec timeout "$(scaled 200)" "$PY" "$CA_SOURCE_DIR/tests/integration/test_web_admin_roster_xlsx.py"
