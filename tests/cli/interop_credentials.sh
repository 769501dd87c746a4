#!/usr/bin/env bash
# Credential interop against npm peers (tests/interop/credentials_peer.mjs says what is checked):
#   did-jwt verifyJWT + key-did-resolver  EdDSA / ES256K VC-JWTs of a did:key issuer
#   jose                                  EdDSA / ES256K / ES256 / RS256 VC-JWTs of the did:web
#                                         issuer, against /.well-known/did.json; tampering refused
#   canonicalize                          RFC 8785 bytes of eddsa-jcs-2022 credentials = digest
#   @digitalbazaar/vc-bitstring-status-list  decodes /v1/status lists after revocations (an
#                                         Open Badge has no suspension entry: 409)
# Runs two loopback nodes: A (did:web issuer, credentials.suspension = true) and B (did:key
# issuer, suspension off). The pinned peers (tests/interop/package.json + package-lock.json) are
# installed into tests/interop/node_modules with npm on first use; nothing else leaves loopback.
# Prints "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
: "${CREDANCHOR_BIN:?set by ctest}" "${CA_SOURCE_DIR:?set by ctest}"
source "$CA_SOURCE_DIR/tests/cli/lib.bash"
INTEROP=$CA_SOURCE_DIR/tests/interop
PER_ALG=${PER_ALG:-5}

bail() { fail "$*"; finish; exit 1; }

for tool in node npm python3 curl; do
  command -v "$tool" >/dev/null || bail "$tool is required"
done

# The pinned peers, installed once under a lock (tests/interop/install-peers).
"$INTEROP/install-peers" || bail "installing the pinned peers failed"

# start_node NAME EXTRA_ENV...: init + tokens + serve; sets NAME_url, NAME_issuer, NAME_revoker.
start_node() {
  local name=$1
  shift
  local dir=$WORK/$name port
  port=$(free_port)
  local -a envs=(CREDANCHOR_ANCHOR_RPC_URL= CREDANCHOR_NODE_RATE_LIMIT_PER_IP=0
                 "CREDANCHOR_NODE_LISTEN=127.0.0.1:$port"
                 "CREDANCHOR_NODE_PUBLIC_URL=http://localhost:$port" "$@")
  env "${envs[@]}" "$BIN" init --data-dir "$dir/data" >"$dir.init" 2>&1 ||
    { cat "$dir.init" >&2; return 1; }
  local role tok
  for role in issuer revoker auditor; do
    tok=$(env "${envs[@]}" "$BIN" token create --role "$role" --data-dir "$dir/data" 2>/dev/null) ||
      return 1
    printf -v "${name}_$role" '%s' "$tok"
  done
  env "${envs[@]}" "$BIN" serve --data-dir "$dir/data" >"$dir.log" 2>&1 &
  local pid=$!
  cleanup_hooks+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
  local i
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "serve ($name) exited:" >&2; tail -20 "$dir.log" >&2; return 1
    fi
    curl -sf --max-time 2 "http://127.0.0.1:$port/v1/health" >/dev/null && break
    sleep 0.05
  done
  ((i < 300)) || { echo "serve ($name) not healthy" >&2; return 1; }
  printf -v "${name}_url" '%s' "http://127.0.0.1:$port"
  printf -v "${name}_public" '%s' "http://localhost:$port"
}

mkdir -p "$WORK/A" "$WORK/B"
start_node A CREDANCHOR_CREDENTIALS_SUSPENSION=true || bail "node A (did:web) did not start"
ok
start_node B CREDANCHOR_DID_ISSUER_METHOD=key || bail "node B (did:key) did not start"
ok

# The peer does every HTTP call itself (to 127.0.0.1 only) and prints its own tally.
out=$(CA_A_URL=$A_url CA_A_PUBLIC=$A_public CA_A_ISSUER=$A_issuer CA_A_REVOKER=$A_revoker \
      CA_B_URL=$B_url CA_B_PUBLIC=$B_public CA_B_ISSUER=$B_issuer CA_B_REVOKER=$B_revoker \
      CA_TEMPLATE=$CA_SOURCE_DIR/config/templates/security-awareness-2026.json PER_ALG=$PER_ALG \
      timeout 100 node "$INTEROP/credentials_peer.mjs")
rc=$?
printf '%s\n' "$out" | sed '$d'
tally=$(printf '%s\n' "$out" | tail -1)
if [[ $tally =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  passed=$((passed + BASH_REMATCH[1]))
  failed=$((failed + BASH_REMATCH[2]))
  [[ $rc == 0 || ${BASH_REMATCH[2]} != 0 ]] || fail "peer exited $rc"
else
  printf '%s\n' "$tally"
  fail "peer exited $rc without a tally"
fi
# Both nodes must still be up (no crash on anything the peer sent).
for u in "$A_url" "$B_url"; do
  if curl -sf --max-time 5 "$u/v1/health" >/dev/null; then ok; else fail "node $u died"; fi
done
finish
