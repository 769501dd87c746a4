#!/usr/bin/env bash
# The page's in-browser checks (web/verify/, issue #15) on Node's WebCrypto against a live node
# anchoring on the pinned anvil (tools/): the same results as the node's own verification for
# every format and alg, revoked from the signed status list, pending before an anchor, and
# forgeries (changed payload, flipped status bit, another leaf's proof, a checkpoint by another
# key, calldata with another root) invalid with the right check failing.
# First the published vectors (tests/interop/web_verify_vectors.mjs: RFC 8785, the W3C
# eddsa-jcs-2022 example, RFC 9162 paths), then tests/integration/test_web_verify.py.
source "$(dirname "$0")/scaled.bash"
set -euo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
command -v node >/dev/null || { echo "web_verify: node is required"; exit 1; }
CA_SOURCE_DIR="$CA_SOURCE_DIR" node "$CA_SOURCE_DIR/tests/interop/web_verify_vectors.mjs"
exec timeout "$(scaled 240)" python3 "$CA_SOURCE_DIR/tests/integration/test_web_verify.py"
