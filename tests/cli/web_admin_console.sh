#!/usr/bin/env bash
# The admin console in the browser (issue #17): web/admin/ (the credentials list with search,
# filters, paging and exports; one credential with revoke/suspend; the dashboard; the audit
# log; people and tokens) in Debian's Chromium driven by playwright-core with CDP virtual
# authenticators (tests/interop/web_admin_console_peer.mjs), on http://localhost with the
# 166-row roster; an admin and an auditor, axe on every view, Korean and English screenshots
# (kept in $CA_BUILD_DIR/web_admin_console_artefacts). tests/integration/test_web_admin_console.py
# says what each case checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
command -v node >/dev/null || { echo "web_admin_console: node is required"; exit 1; }
exec timeout "$(scaled 600)" python3 "$CA_SOURCE_DIR/tests/integration/test_web_admin_console.py"
