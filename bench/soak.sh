#!/usr/bin/env bash
# Soak benchmark (issue #13): DURATION seconds (default 600) of mixed load with slowloris and a
# stalled RPC provider injected halfway; prints health, RSS and "lost" figures beside their
# targets (bench/soak.py says what runs). Needs the pinned anvil (scripts/npm-tools).
#
# usage: bench/soak.sh [BUILD_DIR]      env DURATION=600 SLOW_CONNS=1100 KEEP=1
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
export CREDANCHOR_BIN=$BUILD/credanchor CA_SOURCE_DIR=$SRC
[ -x "$CREDANCHOR_BIN" ] || { echo "no binary at $CREDANCHOR_BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
"$SRC/scripts/npm-tools"
exec python3 "$SRC/bench/soak.py"
