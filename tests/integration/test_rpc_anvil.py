"""JSON-RPC client against a real anvil (issue 5). Starts the pinned anvil on a free loopback
port (installing it with scripts/npm-tools when missing) and always stops it; runs
tests/tools/rpc_probe, which calls every typed helper of include/credanchor/rpc.h through the
real libcurl transport, and checks each value against what anvil answers to plain JSON-RPC
from Python. Then the failure paths: a closed port, and a tiny local HTTP server answering
garbage, HTTP 500 (retried 3 times), HTTP 400 (not retried), a JSON-RPC error (not retried)
and an oversized body: each a clear one-line error and a non-zero exit.

Harness-only calls (evm_mine, to move the head) are made from Python, never by the node."""
import http.server
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ca_node import Anvil, free_port  # noqa: E402
from ca_node import eth_rpc as rpc  # noqa: E402

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, file=sys.stderr)


PROBE = os.path.join(os.environ["CA_TOOLS_DIR"], "rpc_probe")
ADDR = "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"  # anvil's first dev account
OTHER = "1111111111111111111111111111111111111111"


def probe(url, *args, timeout=20):
    p = subprocess.run([PROBE, *args, url], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def calldata():
    d = bytes([0x43, 0x41, 0x76, 0x31, 0, 0, 0, 0, 0, 0, 0, 42]) + bytes(range(12, 44))
    return "0x" + d.hex()


def test_anvil():
    with Anvil() as chain:
        url = chain.url
        rpc(url, "evm_mine", [])  # harness only: head = 2
        rpc(url, "evm_mine", [])
        for addr in (ADDR, OTHER):
            rc, out, err = probe(url, "--addr", addr)
            check(rc == 0, f"probe against anvil exits 0 (rc {rc}, stderr {err!r})")
            if rc != 0:
                continue
            got = json.loads(out)
            check(got["chainId"] == int(rpc(url, "eth_chainId", []), 16) == 31337, "chain id")
            check(got["blockNumber"] == int(rpc(url, "eth_blockNumber", []), 16) == 2,
                  "block number")
            check(got["nonce"] == int(rpc(url, "eth_getTransactionCount",
                                          ["0x" + addr, "pending"]), 16), "nonce")
            prio = int(rpc(url, "eth_maxPriorityFeePerGas", []), 16)
            hist = rpc(url, "eth_feeHistory", ["0x4", "latest", [50]])
            base = int(hist["baseFeePerGas"][-1], 16)
            check(int(got["maxPriorityFee"], 16) == prio, "max priority fee")
            check(int(got["maxFee"], 16) == 2 * base + prio,
                  f"max fee {got['maxFee']} = 2 * {base} + {prio}")
            gas = rpc(url, "eth_estimateGas", [{"from": "0x" + addr, "to": "0x" + addr,
                                                "data": calldata(), "value": "0x0"}])
            check(got["estimateGas"] == int(gas, 16), f"estimate gas {got['estimateGas']}")
            check(got["estimateGas"] > 21000, "44 bytes of calldata cost more than 21000")
            check(got["unknownReceiptFound"] is False, "unknown receipt not found")
            check(got["block0Hash"] == rpc(url, "eth_getBlockByNumber", ["0x0", False])["hash"],
                  "block 0 hash")


def test_closed_port():
    url = f"http://127.0.0.1:{free_port()}"
    t0 = time.time()
    rc, out, err = probe(url)
    check(rc == 1, f"closed port: exit 1 (got {rc})")
    check(err.count("\n") == 1 and "cannot reach http://127.0.0.1:" in err
          and "after 3 attempts" in err, f"closed port: one clear line ({err!r})")
    check(time.time() - t0 < 10, "closed port: gives up quickly")


class Handler(http.server.BaseHTTPRequestHandler):
    counts = {}

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(n))
        mode = self.path.split("/")[1]
        Handler.counts[mode] = Handler.counts.get(mode, 0) + 1
        status, body = 200, b""
        if mode == "garbage":
            body = b"<html>hello</html>"
        elif mode == "e500":
            status, body = 500, b"internal"
        elif mode == "e400":
            status, body = 400, b"bad request"
        elif mode == "rpcerror":
            body = json.dumps({"jsonrpc": "2.0", "id": req["id"], "error":
                               {"code": -32005, "message": "rate limited"}}).encode()
        elif mode == "wrongid":
            body = json.dumps({"jsonrpc": "2.0", "id": req["id"] + 1, "result": "0x1"}).encode()
        elif mode == "big":
            body = b" " * (5 * 1024 * 1024)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def test_bad_servers():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        cases = [
            ("garbage", "eth_chainId: not JSON-RPC from " + base + ": body is not JSON", 1),
            ("e500", "eth_chainId: HTTP 500 from " + base + " (after 3 attempts)", 3),
            ("e400", "eth_chainId: HTTP 400 from " + base, 1),
            ("rpcerror", "RPC eth_chainId: -32005 rate limited", 1),
            ("wrongid", "response id does not match", 1),
            ("big", "over 4194304 bytes", 1),
        ]
        for mode, want, calls in cases:
            rc, out, err = probe(f"{base}/{mode}/APIKEY123")
            check(rc == 1, f"{mode}: exit 1 (got {rc})")
            check(err.count("\n") == 1 and want in err, f"{mode}: {err!r} lacks {want!r}")
            check("APIKEY123" not in err, f"{mode}: the URL path is not printed")
            check(Handler.counts.get(mode) == calls,
                  f"{mode}: {Handler.counts.get(mode)} requests, want {calls}")
    finally:
        srv.shutdown()
        srv.server_close()


def main():
    if not os.access(PROBE, os.X_OK):
        print(f"rpc_probe not built at {PROBE}", file=sys.stderr)
        return 1
    for t in (test_anvil, test_closed_port, test_bad_servers):
        try:
            t()
        except Exception as e:  # a crashed test counts as one failure
            check(False, f"{t.__name__}: {e!r}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
