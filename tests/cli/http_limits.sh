#!/usr/bin/env bash
# HTTP connection and memory limits (issue 13 items 3 and 4): runs
# tests/integration/test_http_limits.py against the real binary (1,100 connections and 1 GiB
# of announced uploads: not in the valgrind subset of scripts/test).
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
exec python3 "$CA_SOURCE_DIR/tests/integration/test_http_limits.py"
