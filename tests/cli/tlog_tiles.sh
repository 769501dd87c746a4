#!/usr/bin/env bash
# The log as C2SP tlog-tiles (SPEC §8 "Static tiles", issue #19): /tlog/checkpoint,
# /tlog/tile/<L>/<N>[.p/<W>] and /tlog/tile/entries/<N>[.p/<W>] served by the node, read by
# Go's golang.org/x/mod/sumdb/tlog and sumdb/note (tests/interop/tlog_peer, built offline from
# Debian's golang-golang-x-mod-dev) at tree sizes that cross tile edges up to 65,793 leaves
# (full and partial tiles at levels 0, 1 and 2), byte checks from Python, strict paths, cache
# headers, and the same routes behind nginx with TLS under an https public_url with a path.
# tests/integration/test_tlog_tiles.py says what each case checks.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
command -v go >/dev/null || { echo "tlog_tiles: go is required (scripts/install-deps: golang-go)"; exit 1; }
exec timeout "$(scaled 240)" python3 "$CA_SOURCE_DIR/tests/integration/test_tlog_tiles.py"
