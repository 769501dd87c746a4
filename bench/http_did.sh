#!/usr/bin/env bash
# did:key resolutions over HTTP (issue 4 benchmark), side by side with nginx serving a static
# did.json of the same size as one answer, both on loopback.
#   wrk -t2 -c64 -d10s --latency; credanchor cycles over DIDS different did:key DIDs of the
#   five key types (Ed25519, X25519, secp256k1, P-256, P-384, one fifth each), made from real
#   keys by python3-cryptography; answers are full resolution results (the default Accept).
# Target: >= 50,000 resolutions/s. Prints figures, not pass/fail. Every process it starts is
# stopped on exit.
#
# usage: bench/http_did.sh [BUILD_DIR]     (default: build; env DURATION=10s, DIDS=10000)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
BIN=$BUILD/credanchor
DURATION=${DURATION:-10s}
DIDS=${DIDS:-10000}
[ -x "$BIN" ] || { echo "no binary at $BIN (build first or pass BUILD_DIR)" >&2; exit 2; }
for tool in wrk nginx python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }
done
python3 -c 'import cryptography' 2>/dev/null ||
  { echo "python3-cryptography is not installed" >&2; exit 2; }

source "$SRC/bench/lib.bash"
bench_workdir ca-bench-did

# ---- DIDS did:key DIDs from fresh keys, round-robin over the five key types
python3 - "$DIDS" "$W" <<'EOF'
import sys
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
n, w = int(sys.argv[1]), sys.argv[2]
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
def b58(b):
    v, out = int.from_bytes(b, "big"), ""
    while v:
        v, r = divmod(v, 58)
        out = B58[r] + out
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + out
raw = (ser.Encoding.Raw, ser.PublicFormat.Raw)
point = (ser.Encoding.X962, ser.PublicFormat.CompressedPoint)
makers = [  # (multicodec varint prefix, public key bytes)
    (b"\xed\x01", lambda: ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(*raw)),
    (b"\xec\x01", lambda: x25519.X25519PrivateKey.generate().public_key().public_bytes(*raw)),
    (b"\xe7\x01", lambda: ec.generate_private_key(ec.SECP256K1()).public_key().public_bytes(*point)),
    (b"\x80\x24", lambda: ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(*point)),
    (b"\x81\x24", lambda: ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(*point)),
]
dids = []
for i in range(n):
    prefix, make = makers[i % len(makers)]
    dids.append("did:key:z" + b58(prefix + make()))
with open(f"{w}/dids", "w") as f:
    f.write("\n".join(dids) + "\n")
with open(f"{w}/dids.lua", "w") as f:
    f.write("local paths = {\n")
    f.write("".join(f'"/1.0/identifiers/{d}",\n' for d in dids))
    f.write("}\nlocal n, i = #paths, 0\n"
            "function setup(thread) thread:set('start', thread.id) end\n"
            "request = function()\n  i = i % n + 1\n  return wrk.format('GET', paths[i])\nend\n")
EOF
FIRST=$(head -1 "$W/dids")

# ---- credanchor serve on dev.conf (no chain), on a free loopback port
DATA=$W/data
"$BIN" init --config "$SRC/config/dev.conf" --data-dir "$DATA" >/dev/null
CA_PORT=$(free_port)
export CREDANCHOR_NODE_LISTEN=127.0.0.1:$CA_PORT CREDANCHOR_NODE_DATA_DIR=$DATA
export CREDANCHOR_ANCHOR_RPC_URL=""
"$BIN" serve --config "$SRC/config/dev.conf" --data-dir "$DATA" 2>"$W/serve.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$CA_PORT/v1/health"
# Every DID resolves (a bad one would make the figures meaningless).
BAD=$(python3 - "$CA_PORT" "$W/dids" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
bad = 0
for d in open(sys.argv[2]).read().split():
    c.request("GET", "/1.0/identifiers/" + d)
    r = c.getresponse(); r.read()
    bad += r.status != 200
print(bad)
EOF
)
[ "$BAD" = 0 ] || { echo "$BAD of $DIDS DIDs did not resolve" >&2; exit 2; }
curl -sf "http://127.0.0.1:$CA_PORT/1.0/identifiers/$FIRST" > "$W/did.json"
SIZE=$(stat -c %s "$W/did.json")
SIZES=$(python3 - "$CA_PORT" "$W/dids" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
s = []
for d in open(sys.argv[2]).read().split()[:500]:
    c.request("GET", "/1.0/identifiers/" + d)
    r = c.getresponse(); s.append(len(r.read()))
print(f"{min(s)}-{max(s)}")
EOF
)

# ---- nginx: a static file of the same size
start_static_nginx "$W/did.json" /.well-known/did.json

compare_with_nginx "did:key resolutions over HTTP: $DIDS distinct DIDs (Ed25519, X25519, secp256k1, P-256, P-384), answers $SIZES bytes; nginx file $SIZE bytes" \
  "$W/dids.lua" /.well-known/did.json "target: >= 50000 resolutions/s"
echo "credanchor config (config/dev.conf + env overrides):"
sed -n '/^node\./p;/^did\./p;/^anchor\.rpc_url/p' "$W/serve.log" | sed 's/^/  /'
echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2), worker_processes 2, access_log off, keepalive"
echo "request log lines written: $(grep -c '^{"time"' "$W/serve.log" || true)"
