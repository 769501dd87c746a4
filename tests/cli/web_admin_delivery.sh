#!/usr/bin/env bash
# The admin console's deliveries in the browser (issue #18's console part): the list's alert
# channel and the credential page's timeline and Resend email, against a real STARTTLS SMTP
# server (SmtpPeer, python3-aiosmtpd) that delivers, refuses with 550 and defers with 451, in
# Debian's Chromium driven by playwright-core (tests/interop/web_admin_delivery_peer.mjs); an
# admin, an issuer and an auditor, axe on both pages in both languages, screenshots kept in
# $CA_BUILD_DIR/web_admin_delivery_artefacts. tests/integration/test_web_admin_delivery.py
# says what each case checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
command -v node >/dev/null || { echo "web_admin_delivery: node is required"; exit 1; }
exec timeout "$(scaled 400)" python3 "$CA_SOURCE_DIR/tests/integration/test_web_admin_delivery.py"
