#!/usr/bin/env bash
# The credential's public page (issue #15, SPEC §8) in Debian's Chromium driven by
# playwright-core (tests/interop/web_page_peer.mjs), on a node anchoring on the pinned anvil
# and again behind nginx with TLS: verdicts equal to the node's own verification, in-flight
# forgeries, a faked /verification, SRI, CSP, Korean and English pages with screenshots
# (kept in $CA_BUILD_DIR/web_page_artefacts) and an axe accessibility pass.
# tests/integration/test_web_page.py says what each case checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
command -v node >/dev/null || { echo "web_page: node is required"; exit 1; }
exec timeout "$(scaled 600)" python3 "$CA_SOURCE_DIR/tests/integration/test_web_page.py"
