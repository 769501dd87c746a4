#!/usr/bin/env bash
# XLSX rosters over HTTP (issue #17): tests/integration/test_roster_xlsx.py says what it checks.
# openpyxl comes from Debian (python3-openpyxl): use the system interpreter when the first
# python3 on PATH lacks it.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
PY=python3
"$PY" -c 'import openpyxl' 2>/dev/null || PY=/usr/bin/python3
exec timeout "$(scaled 300)" "$PY" "$CA_SOURCE_DIR/tests/integration/test_roster_xlsx.py"
