#!/usr/bin/env bash
# The dashboard's charts and date range in the browser (issue #17): Chart.js (web/vendor) on a
# canvas under the console's CSP, its figures equal to GET /v1/reports/summary's, the from/to
# range re-querying (and its bad input refused, on the page and by the API), axe in English
# and Korean, screenshots kept in $CA_BUILD_DIR/web_admin_charts_artefacts.
# tests/integration/test_web_admin_charts.py says what each case checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
command -v node >/dev/null || { echo "web_admin_charts: node is required"; exit 1; }
exec timeout "$(scaled 300)" python3 "$CA_SOURCE_DIR/tests/integration/test_web_admin_charts.py"
