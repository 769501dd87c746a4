#!/usr/bin/env bash
# Recipients' email through the outbox (issue #18) against a real STARTTLS SMTP server
# (python3-aiosmtpd): 166 messages checked one by one, a kill -9 mid-send (each message once),
# 421/451/550 answers, an untrusted certificate, and erasure of the sealed addresses.
# tests/integration/test_delivery_email.py says what each checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec timeout "$(scaled 400)" python3 "$CA_SOURCE_DIR/tests/integration/test_delivery_email.py"
