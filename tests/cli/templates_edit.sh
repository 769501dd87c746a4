#!/usr/bin/env bash
# Achievement templates edited over HTTP (issue #17 "Templates"): versions, If-Match, every
# refusal, roles, history, audit, and "applies to new credentials only".
# tests/integration/test_templates_edit.py says what each checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 300)" python3 "$CA_SOURCE_DIR/tests/integration/test_templates_edit.py"
