#!/usr/bin/env bash
# anchor_gas.sh [BUILD_DIR]: gas used per anchor transaction with 1 entry and with 1,000,000
# entries in the log, against the pinned anvil (issue 5, "Figure for the closing note").
#
# For each N: `credanchor init` a fresh data dir, fill the log with N random digests through
# `credanchor append --data-dir D -`, fund the anchor address (anvil_setBalance, harness only),
# `credanchor serve` on loopback, POST /v1/anchors, wait for final, and read gasUsed from the
# receipt. Prints both figures, the hardfork anvil ran (anvil_nodeInfo), and the target.
#
# Expected: SPEC §2's calldata is 44 bytes: "CAv1" || size (8 bytes BE) || root (32 bytes). Under
# EIP-7623 (Prague and later) a tx pays max(standard, floor), floor = 21000 + 10 * tokens with
# tokens = zero bytes + 4 * non-zero bytes; the standard cost (21000 + 4/zero + 16/non-zero byte,
# no execution: `to` is an EOA) is lower, so gasUsed = the floor: 22,550 for size 1 (7 zero
# bytes), 22,610 for size 1,000,000 (5 zero bytes), a few less if the root has zero bytes.
# Target: <= 23,000.
#
# BUILD_DIR (default /work/main/build) must hold credanchor. ANVIL_HARDFORK=name passes
# --hardfork to anvil (default: anvil's own default). Everything runs on 127.0.0.1; anvil and
# the node are always stopped.
set -euo pipefail

BUILD=${1:-/work/main/build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(dirname "$HERE")
BIN=${CREDANCHOR_BIN:-$BUILD/credanchor}
ANVIL=$SRC/tools/node_modules/.bin/anvil
TARGET=23000
SIZES=(1 1000000)

[[ -x $BIN ]] || { echo "anchor_gas.sh: $BIN not found; build it first" >&2; exit 2; }
[[ -x $ANVIL ]] || "$SRC/scripts/npm-tools" >/dev/null
[[ -x $ANVIL ]] || { echo "anchor_gas.sh: $ANVIL missing (scripts/npm-tools)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/ca-anchor-gas-XXXXXX)
ANVIL_PID="" NODE_PID=""
cleanup() {
    [[ -n $NODE_PID ]] && kill "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null
    [[ -n $ANVIL_PID ]] && kill "$ANVIL_PID" 2>/dev/null && wait "$ANVIL_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# jget JSON EXPR: python expression over j (the parsed JSON).
jget() { python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
rpc() { # rpc METHOD PARAMS-JSON -> result as JSON
    local out
    out=$(curl -sS -m 10 -H 'Content-Type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$RPC_URL")
    jget "$out" 'json.dumps(j["result"]) if "result" in j else sys.exit("rpc error: %s" % j)'
}

APORT=$(free_port)
RPC_URL=http://127.0.0.1:$APORT
extra=()
[[ -n ${ANVIL_HARDFORK:-} ]] && extra=(--hardfork "$ANVIL_HARDFORK")
"$ANVIL" --host 127.0.0.1 --port "$APORT" --chain-id 31337 --silent "${extra[@]}" \
    >"$WORK/anvil.log" 2>&1 &
ANVIL_PID=$!
for _ in $(seq 150); do rpc eth_chainId '[]' >/dev/null 2>&1 && break; sleep 0.1; done
rpc eth_chainId '[]' >/dev/null
INFO=$(rpc anvil_nodeInfo '[]')
HARDFORK=$(jget "$INFO" 'j["hardFork"]')
ANVIL_VERSION=$("$ANVIL" --version | head -1)

declare -A GAS
for n in "${SIZES[@]}"; do
    D=$WORK/d$n
    export CREDANCHOR_ANCHOR_RPC_URL="" CREDANCHOR_NODE_PUBLIC_URL=http://localhost:8080 \
        CREDANCHOR_NODE_RATE_LIMIT_PER_IP=0
    addr=$(jget "$("$BIN" init --json --data-dir "$D")" 'j["anchorAddress"]')
    token=$("$BIN" token create --role admin --data-dir "$D" 2>/dev/null)
    t0=$(date +%s.%N)
    python3 -c 'import os,sys
n=int(sys.argv[1]); w=sys.stdout.write
for i in range(0, n, 65536):
    k=min(65536, n-i); b=os.urandom(32*k).hex()
    w("".join(b[j:j+64]+"\n" for j in range(0, 64*k, 64)))' "$n" |
        "$BIN" append --data-dir "$D" - >/dev/null
    t1=$(date +%s.%N)
    rpc anvil_setBalance "[\"$addr\",\"0x8ac7230489e80000\"]" >/dev/null
    NPORT=$(free_port)
    CREDANCHOR_ANCHOR_RPC_URL=$RPC_URL CREDANCHOR_ANCHOR_CHAIN_ID=31337 \
        CREDANCHOR_ANCHOR_CONFIRMATIONS=1 CREDANCHOR_ANCHOR_INTERVAL=0 \
        CREDANCHOR_NODE_LISTEN=127.0.0.1:$NPORT \
        "$BIN" serve --data-dir "$D" >"$WORK/serve$n.log" 2>&1 &
    NODE_PID=$!
    base=http://127.0.0.1:$NPORT
    for _ in $(seq 300); do curl -sf -m 2 "$base/v1/health" >/dev/null && break; sleep 0.1; done
    curl -sf -m 10 -X POST -H "Authorization: Bearer $token" "$base/v1/anchors" >/dev/null
    rec=""
    for _ in $(seq 300); do
        rec=$(curl -sf -m 5 "$base/v1/anchors/latest" || true)
        [[ -n $rec && $(jget "$rec" 'j["status"]') == final ]] && break
        sleep 0.1
    done
    [[ $(jget "$rec" 'j["status"]') == final ]] || { cat "$WORK/serve$n.log" >&2; exit 1; }
    [[ $(jget "$rec" 'j["treeSize"]') == "$n" ]] || { echo "anchored size != $n" >&2; exit 1; }
    txh=$(jget "$rec" 'j["txHash"]')
    rcpt=$(rpc eth_getTransactionReceipt "[\"$txh\"]")
    tx=$(rpc eth_getTransactionByHash "[\"$txh\"]")
    GAS[$n]=$(jget "$rcpt" 'int(j["gasUsed"], 16)')
    # The EIP-7623 floor from the actual calldata, for comparison.
    floor=$(jget "$tx" '(lambda b: 21000 + 10 * (b.count(0) + 4 * (len(b) - b.count(0))))(bytes.fromhex(j["input"][2:]))')
    std=$(jget "$tx" '(lambda b: 21000 + 4 * b.count(0) + 16 * (len(b) - b.count(0)))(bytes.fromhex(j["input"][2:]))')
    inlen=$(jget "$tx" '(len(j["input"]) - 2) // 2')
    printf 'entries %-9s append %6.2f s  calldata %s bytes  gasUsed %s  (EIP-7623 floor %s, standard %s)  tx %s\n' \
        "$n" "$(echo "$t1 - $t0" | bc)" "$inlen" "${GAS[$n]}" "$floor" "$std" "$txh"
    kill "$NODE_PID"; wait "$NODE_PID" || true; NODE_PID=""
done

echo "anvil: $ANVIL_VERSION, hardfork $HARDFORK (anvil_nodeInfo)"
echo "gas per anchor: 1 entry ${GAS[1]}, 1,000,000 entries ${GAS[1000000]}; target <= $TARGET"
rc=0
for n in "${SIZES[@]}"; do
    if (( GAS[$n] > TARGET )); then echo "FAIL: $n entries: ${GAS[$n]} > $TARGET"; rc=1; fi
done
(( rc == 0 )) && echo "target met"
exit $rc
