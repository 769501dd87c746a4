#!/usr/bin/env bash
# The console's webhooks page and the dashboard's anchoring-account warnings (issue #17) in
# Debian's Chromium driven by playwright-core (tests/interop/web_admin_webhooks_peer.mjs), the
# console behind nginx with TLS, a Standard Webhooks receiver on loopback and the pinned anvil;
# axe on every view in both languages, screenshots kept in
# $CA_BUILD_DIR/web_admin_webhooks_artefacts. tests/integration/test_web_admin_webhooks.py says
# what each case checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
command -v node >/dev/null || { echo "web_admin_webhooks: node is required"; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "web_admin_webhooks: nginx is required"; exit 1; }
exec timeout "$(scaled 400)" python3 "$CA_SOURCE_DIR/tests/integration/test_web_admin_webhooks.py"
