#!/usr/bin/env bash
# did_key.sh [BUILD_DIR]: did:key interop. Resolves the same DIDs with credanchor
# (BUILD_DIR/bench/bench_did_key --resolve) and with the npm resolvers key-did-resolver and
# @digitalbazaar/did-method-key, and compares the key material: public key bytes, JWK x/y and
# the Ed25519 -> X25519 keyAgreement key (did_key_peer.mjs says exactly what is compared).
#
# DIDs: the did:key spec's test vectors for every key type, plus RANDOM_PER_TYPE fresh random
# keys of each of Ed25519, X25519, secp256k1, P-256 and P-384.
# The peers (exact versions pinned in package.json / package-lock.json) are installed into
# tests/interop/node_modules with npm on first use. Prints "N passed, M failed"; exits non-zero
# on any mismatch.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${1:-${CA_BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}}
BIN=$BUILD/bench/bench_did_key
RANDOM_PER_TYPE=${RANDOM_PER_TYPE:-40}

if [[ ! -x $BIN ]]; then
    echo "did_key.sh: $BIN not found; build it with: cmake --build $BUILD --target bench_did_key" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "did_key.sh: $tool is required" >&2; echo "0 passed, 1 failed"; exit 1; }
done

# The pinned peers, installed once under a lock (tests/interop/install-peers).
"$HERE/install-peers" || { echo "did_key.sh: installing the pinned peers failed" >&2; echo "0 passed, 1 failed"; exit 1; }

work=$(mktemp -d /tmp/ca-didkey-XXXXXX)
trap 'rm -rf "$work"' EXIT

cat >"$work/dids.txt" <<'VECTORS'
did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp
did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG
did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf
did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ
did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL
did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK
did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH
did:key:z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F
did:key:z6LStiZsmxiK4odS4Sb6JmdRFuJ6e1SYP157gtiCyJKfrYha
did:key:z6LSoMdmJz2Djah2P4L9taDmtqeJ6wwd2HhKZvNToBmvaczQ
did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme
did:key:zQ3shtxV1FrJfhqE1dvxYRcCknWNjHc3c5X1y3ZSoPDi2aur2
did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N
did:key:zQ3shadCps5JLAHcZiuX5YUtWHHL8ysBJqFLWvjZDKAWUBGzy
did:key:zQ3shptjE6JwdkeKN4fcpnYQY3m9Cet3NiHdAfpvSUZBFoKBj
did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv
did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169
did:key:z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9
did:key:z82LkvCwHNreneWpsgPEbV3gu1C6NFJEBg4srfJ5gdxEsMGRJUz2sG9FE42shbn2xkZJh54
VECTORS
"$BIN" --gen "$RANDOM_PER_TYPE" >>"$work/dids.txt"
echo "== $(wc -l <"$work/dids.txt") DIDs: spec vectors + $RANDOM_PER_TYPE random keys of each type" >&2

# bench_did_key --resolve exits 2 when a DID fails; the peer script reports it per DID.
"$BIN" --resolve --derive "@$work/dids.txt" >"$work/multikey.jsonl" || true
"$BIN" --resolve --derive --format JsonWebKey "@$work/dids.txt" >"$work/jwk.jsonl" || true
node "$HERE/did_key_peer.mjs" "$work/multikey.jsonl" "$work/jwk.jsonl"
