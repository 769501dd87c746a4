#!/usr/bin/env bash
# People's sign-in in the browser (issue #16): web/admin/ (enroll from an invite, passkey
# sign-in, recovery codes, the account page) in Debian's Chromium driven by playwright-core
# with CDP virtual authenticators (tests/interop/web_admin_auth_peer.mjs), on http://localhost
# and behind nginx with TLS; a disabled user, idle expiry, CSRF and Origin refusals, CSP, axe,
# Korean and English screenshots (kept in $CA_BUILD_DIR/web_admin_auth_artefacts).
# tests/integration/test_web_admin_auth.py says what each case checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
command -v node >/dev/null || { echo "web_admin_auth: node is required"; exit 1; }
exec timeout "$(scaled 600)" python3 "$CA_SOURCE_DIR/tests/integration/test_web_admin_auth.py"
