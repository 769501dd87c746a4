#!/usr/bin/env bash
# did_key.sh [BUILD_DIR]: in-process did:key resolutions per second, credanchor
# (bench_did_key) vs key-did-resolver in node, on the same DIDs in the same run.
#
# The DID set is mixed: KEYS random keys of each type both resolvers support (Ed25519,
# secp256k1, P-256, P-384; key-did-resolver has no X25519 driver), resolved round-robin as
# Multikey documents on the C side. Best of 3 runs of SECONDS each, single thread, both sides.
# key-did-resolver is installed into tests/interop/node_modules (pinned) on first use.
#
# Not like for like, and in key-did-resolver's favour: it does not validate Ed25519 or
# secp256k1 keys (credanchor decodes every point: RFC 8032 for Ed25519, libsecp256k1 for
# secp256k1); it does derive the X25519 key of every Ed25519 key (credanchor only when asked,
# which the default Multikey resolution does not). A per-type breakdown follows the summary.
set -euo pipefail

BUILD=${1:-/work/main/build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$BUILD/bench/bench_did_key
INTEROP=$HERE/../tests/interop
KEYS=${KEYS:-50}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
TARGET_RATIO=20

if [[ ! -x $BIN ]]; then
    echo "did_key.sh: $BIN not found; build it with: cmake --build $BUILD --target bench_did_key" >&2
    exit 1
fi
"$INTEROP/install-peers"   # the pinned peers (tests/interop/install-peers)
want=$(node -p "require('$INTEROP/package.json').dependencies['key-did-resolver']")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
field() { awk -v k="$1:" '$1 == k { print $2 }' "$2"; }

"$BIN" --gen "$KEYS" --types ed25519,secp256k1,p256,p384 >"$work/dids.txt"
echo "== C: $BIN --dids ($(wc -l <"$work/dids.txt") DIDs, best of 3 x ${SECONDS_PER_RUN}s)"
"$BIN" --dids "$work/dids.txt" --seconds "$SECONDS_PER_RUN" | tee "$work/c.out"
echo "== node $(node --version): key-did-resolver@$want (best of 3 x ${SECONDS_PER_RUN}s)"
node "$HERE/did_key_peer.mjs" "$work/dids.txt" "$SECONDS_PER_RUN" 3 | tee "$work/js.out"

echo
echo "== per key type (1 s each)"
for t in ed25519 secp256k1 p256 p384; do
    grep -E "^did:key:$(case $t in ed25519) echo z6Mk;; secp256k1) echo zQ3s;; p256) echo zDna;; p384) echo z82L;; esac)" \
        "$work/dids.txt" >"$work/$t.txt"
    c=$(field resolutions_per_s <("$BIN" --dids "$work/$t.txt" --seconds 1))
    js=$(field resolutions_per_s <(node "$HERE/did_key_peer.mjs" "$work/$t.txt" 1 1))
    awk -v t="$t" -v c="$c" -v js="$js" \
        'BEGIN { printf "%-10s C %9.0f/s   key-did-resolver %8.0f/s   %6.1fx\n", t, c, js, c / js }'
done

awk -v c="$(field resolutions_per_s "$work/c.out")" -v js="$(field resolutions_per_s "$work/js.out")" \
    -v tr="$TARGET_RATIO" '
BEGIN {
    print ""
    print "== summary (mixed Ed25519/secp256k1/P-256/P-384, Multikey, single thread)"
    printf "credanchor:          %.0f resolutions/s\n", c
    printf "key-did-resolver:    %.0f resolutions/s\n", js
    printf "ratio:               %.1fx (target >= %dx: %s)\n", c / js, tr, (c / js >= tr ? "met" : "NOT met")
}'
