#!/usr/bin/env bash
# What a recipient takes away (issue #15, SPEC §8): the PDF certificate (pdftotext, pdftoppm,
# zbarimg on its QR code) and the OB 3.0 baked PNG and SVG badges, extracted by the test's own
# readers and verified by jose / the Data Integrity check (tests/interop/badge_peer.mjs).
# tests/integration/test_takeaway.py says what each case checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
for tool in node pdftotext pdftoppm zbarimg; do
  command -v "$tool" >/dev/null || { echo "takeaway: $tool is required (scripts/install-deps)"; exit 1; }
done
"$CA_SOURCE_DIR/tests/interop/install-peers"
exec timeout "$(scaled 180)" python3 "$CA_SOURCE_DIR/tests/integration/test_takeaway.py"
