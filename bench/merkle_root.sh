#!/usr/bin/env bash
# merkle_root.sh [BUILD_DIR]: the RFC 9162 root of 1,000,000 digests, C builder vs merkletreejs,
# and the C hash rate against OpenSSL's own SHA-256 speed.
#
# BUILD_DIR (default /work/main/build) must hold bench/bench_merkle_root
# (cmake --build BUILD_DIR --target bench_merkle_root). merkletreejs is installed into
# bench/node_modules on first use (npm only; nothing is added to package.json).
#
# What "fraction of OpenSSL speed" means here. The tree does n leaf hashes of 33 bytes and
# n - 1 node hashes of 65 bytes. SHA-256 pads a message with 9+ bytes and works in 64-byte
# blocks, so a 33-byte leaf is 1 compression-function call, a 65-byte node is 2, and the whole
# tree is 3n - 2 calls. `openssl speed -evp sha256 -bytes 64` hashes 64-byte messages, which are
# also 2 calls each (64 + 9 > 64), so its hashes/s x 2 is OpenSSL's compression rate for short
# messages, per-call overhead included (speed calls EVP_Digest, which allocates a context per
# hash). We compare compression calls per second, the honest unit when message sizes differ. We
# also print the node-equivalent view (C tree hashes/s vs OpenSSL 64-byte hashes/s, which
# flatters C because half its hashes are 1-block leaves) and the ceiling: OpenSSL's bulk rate
# (16 KiB messages, no per-call overhead) in compressions/s, which no short-message hashing
# can reach.
set -euo pipefail

BUILD=${1:-/work/main/build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$BUILD/bench/bench_merkle_root
MERKLETREEJS_VERSION=0.6.0
TARGET_RATIO=25
TARGET_FRACTION=0.70

if [[ ! -x $BIN ]]; then
    echo "merkle_root.sh: $BIN not found; build it with: cmake --build $BUILD --target bench_merkle_root" >&2
    exit 1
fi
for tool in node npm openssl awk; do
    command -v "$tool" >/dev/null || { echo "merkle_root.sh: $tool is required" >&2; exit 1; }
done

installed=$(node -p "try { require('$HERE/node_modules/merkletreejs/package.json').version } catch (e) { '' }")
if [[ $installed != "$MERKLETREEJS_VERSION" ]]; then
    echo "== installing merkletreejs@$MERKLETREEJS_VERSION into $HERE/node_modules"
    npm install --no-save --no-audit --no-fund --prefix "$HERE" "merkletreejs@$MERKLETREEJS_VERSION" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# "key: value" field from a bench output file.
field() { awk -v k="$1:" '$1 == k { print $2 }' "$2"; }

echo "== openssl speed -evp sha256 -bytes 64 -seconds 3"
openssl speed -evp sha256 -bytes 64 -seconds 3 2>/dev/null >"$work/speed64"
# The last line is "sha256  <N>k": thousands of bytes per second for 64-byte messages.
ossl64_bps=$(awk '$1 == "sha256" { v = $2; sub(/k$/, "", v); print v * 1000 }' "$work/speed64" | tail -1)
echo "== openssl speed -evp sha256 -bytes 16384 -seconds 2 (bulk ceiling)"
openssl speed -evp sha256 -bytes 16384 -seconds 2 2>/dev/null >"$work/speedbulk"
osslbulk_bps=$(awk '$1 == "sha256" { v = $2; sub(/k$/, "", v); print v * 1000 }' "$work/speedbulk" | tail -1)
if [[ -z $ossl64_bps || -z $osslbulk_bps ]]; then
    echo "merkle_root.sh: could not parse openssl speed output" >&2
    cat "$work/speed64" "$work/speedbulk" >&2
    exit 1
fi

echo "== C: $BIN (best of 3)"
"$BIN" -o "$work/digests.bin" | tee "$work/c.out"
c_root=$(field root "$work/c.out")

echo "== merkletreejs: node $HERE/merkle_root_peer.js (best of 3)"
if ! node "$HERE/merkle_root_peer.js" "$work/digests.bin" "$c_root" 3 | tee "$work/js.out"; then
    echo "merkle_root.sh: merkletreejs failed or its root differs from C's" >&2
    exit 1
fi
js_root=$(field root "$work/js.out")
if [[ -z $c_root || $c_root != "$js_root" ]]; then
    echo "merkle_root.sh: ROOTS DIFFER: C $c_root, merkletreejs $js_root" >&2
    exit 1
fi

awk -v c="$(field digests_per_s "$work/c.out")" \
    -v js="$(field digests_per_s "$work/js.out")" \
    -v ch="$(field hashes_per_s "$work/c.out")" \
    -v cc="$(field compressions_per_s "$work/c.out")" \
    -v o64="$ossl64_bps" -v obulk="$osslbulk_bps" \
    -v tr="$TARGET_RATIO" -v tf="$TARGET_FRACTION" -v root="$c_root" '
BEGIN {
    oh = o64 / 64            # openssl 64-byte hashes/s
    oc = oh * 2              # ... as compression calls/s (64-byte message = 2 blocks)
    bc = obulk / 64          # bulk compression calls/s (ceiling)
    ratio = c / js
    frac = cc / oc
    print  ""
    print  "== summary (1,000,000 digests, single thread)"
    printf "roots agree:                 %s\n", root
    printf "C builder:                   %.0f digests/s\n", c
    printf "merkletreejs:                %.0f digests/s\n", js
    printf "ratio C / merkletreejs:      %.1fx (target >= %dx: %s)\n", ratio, tr, (ratio >= tr ? "met" : "NOT met")
    printf "openssl 64-byte SHA-256:     %.0f hashes/s = %.0f compressions/s\n", oh, oc
    printf "C compressions/s:            %.0f (3n-2 per tree)\n", cc
    printf "C / openssl, compressions:   %.0f%% (target >= %.0f%%: %s)\n", 100 * frac, 100 * tf, (frac >= tf ? "met" : "NOT met")
    printf "C / openssl, node-equiv.:    %.0f%% (C tree hashes/s %.0f vs openssl 64-byte hashes/s; flatters C)\n", 100 * ch / oh, ch
    printf "C / openssl bulk ceiling:    %.0f%% of %.0f compressions/s\n", 100 * cc / bc, bc
}'
