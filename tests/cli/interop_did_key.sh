#!/usr/bin/env bash
# did:key interop against key-did-resolver and @digitalbazaar/did-method-key (npm): see
# tests/interop/did_key.sh. Needs node and npm (the peers are installed on first run) and the
# bench_did_key tool of this build.
set -uo pipefail
: "${CA_SOURCE_DIR:?set by ctest}"
exec bash "$CA_SOURCE_DIR/tests/interop/did_key.sh" "${CA_BUILD_DIR:-$(dirname "$CREDANCHOR_BIN")}"
