#!/usr/bin/env bash
# Issue #12 items 3 and 8: OB credentials carry one credentialStatus object and never the
# suspension entry (validated against 1EdTech's OB 3.0 schema); issue numbers take the
# completion month, gap-free. Runs tests/integration/test_credential_rules.py against the
# real binary; the script prints "N passed, M failed" and exits non-zero on any failure.
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec python3 "$CA_SOURCE_DIR/tests/integration/test_credential_rules.py"
