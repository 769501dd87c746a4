#!/usr/bin/env bash
# Webhooks (issue #18, Standard Webhooks) against a receiver that verifies every signature with
# the npm `standardwebhooks` library: the URL rules and the address guard, six deliveries,
# 500-then-200, a receiver that never answers, one down for a minute, secret rotation, the
# delivery log and replay, anchor.final from anvil, a deleted endpoint.
# tests/integration/test_webhooks.py says what each checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
"$CA_SOURCE_DIR/tests/interop/install-peers"
exec timeout "$(scaled 400)" python3 "$CA_SOURCE_DIR/tests/integration/test_webhooks.py"
