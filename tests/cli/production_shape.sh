#!/usr/bin/env bash
# The production shape (issue #12): the node behind real nginx with TLS from a test CA, set up
# from docs/nginx-reverse-proxy.conf, public_url https://localhost:<port> (and .../base), and
# the pinned npm peers (did-io + did-method-web, jose, canonicalize, vc-bitstring-status-list)
# verifying credentials of every format and alg through it; plus a public_url with a path on
# plain localhost. Runs tests/integration/test_production_shape.py; prints "N passed, M failed".
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
for tool in node npm python3 openssl; do
  command -v "$tool" >/dev/null || { echo "production_shape: $tool is required"; exit 1; }
done
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "production_shape: nginx is required"; exit 1; }
"$CA_SOURCE_DIR/tests/interop/install-peers"
exec python3 "$CA_SOURCE_DIR/tests/integration/test_production_shape.py"
