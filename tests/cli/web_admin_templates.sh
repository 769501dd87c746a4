#!/usr/bin/env bash
# The console's template editor in the browser (issue #17 "Templates"): an admin edits,
# previews and saves, a 412 conflict is shown, an issuer sees it read-only; axe in both
# languages, screenshots in $CA_BUILD_DIR/web_admin_templates_artefacts.
# tests/integration/test_web_admin_templates.py says what each case checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
command -v node >/dev/null || { echo "web_admin_templates: node is required"; exit 1; }
exec timeout "$(scaled 240)" python3 "$CA_SOURCE_DIR/tests/integration/test_web_admin_templates.py"
