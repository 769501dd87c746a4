#!/usr/bin/env bash
# A reorg after an anchor became final (issue #12 item 4, SPEC §2) against a real anvil: runs
# tests/integration/test_anchor_reorg_final.py; prints "N passed, M failed", exits non-zero on
# any failure.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 150)" python3 "$CA_SOURCE_DIR/tests/integration/test_anchor_reorg_final.py"
