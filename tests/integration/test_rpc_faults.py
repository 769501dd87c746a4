"""Anchoring against a misbehaving JSON-RPC endpoint (issue 7 fault tests, SPEC §1 §2).

The node's anchor.rpc_url points at a fake JSON-RPC server written here (http.server on a free
loopback port, in a thread). In mode "good" it forwards every request to a real anvil (ca_node
Anvil, chain id 31337), so the start-up gate passes and anchors can become final; the test
switches it through the fault modes:

  slow        answers after longer than the client's 20 s RPC timeout (held until the mode ends)
  notjson     HTML instead of JSON
  truncated   a JSON-RPC answer cut in the middle
  wrongid     a well-formed answer with another id (eth_chainId's carries the right chain)
  hugecl      a 5 MiB body over the 4 MiB cap, with Content-Length
  hugeclose   a 5 MiB body over the cap, no Content-Length (ends at connection close)
  rpcerror    JSON-RPC error -32000 for every method
  http500     HTTP 500 with a JSON body
  http429     HTTP 429 Too Many Requests
  reset       the socket closed without an answer (SO_LINGER 0: a TCP RST)
  wrongchain  eth_chainId answers 0x1 (anchor.chain_id is 31337), every other method is
              forwarded to anvil: the node must refuse to sign, so no eth_sendRawTransaction
              arrives while in this mode

For each mode, with new digests appended so the engine has an anchor to make: the node stays up,
/v1/health answers 200 quickly, POST /v1/log/entries keeps working, no anchor becomes final,
the node never calls a method outside SPEC §2 (+ the read-only eth_blockNumber, eth_getBalance,
eth_getTransactionByHash of anchor/rpc.c's allow-list), and its log gets a clear
"credanchor anchor:" error line. Then back to "good": an anchor covering every appended digest
becomes final. The fake server records every method it receives, per mode.
"""
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ca_node import Anvil, Checks, Node, free_port, random_digests  # noqa: E402
from ca_node import eth_rpc as rpc  # noqa: E402

c = Checks("rpc_faults")
SLOW_S = float(os.environ.get("CA_RPC_FAULTS_SLOW", "23"))  # > the client's 20 s timeout
ALLOWED = {"eth_chainId", "eth_getTransactionCount", "eth_feeHistory",
           "eth_maxPriorityFeePerGas", "eth_estimateGas", "eth_sendRawTransaction",
           "eth_getTransactionReceipt", "eth_getBlockByNumber", "eth_blockNumber",
           "eth_getBalance", "eth_getTransactionByHash"}
HUGE = 5 * 1024 * 1024
WANT = {"notjson": ["not JSON"], "truncated": ["not JSON"], "wrongid": ["id does not match"],
        "hugecl": ["over 4194304"], "hugeclose": ["over 4194304"], "rpcerror": ["-32000"],
        "http500": ["HTTP 500"], "http429": ["HTTP 429"], "reset": ["reset", "cannot reach"],
        "wrongchain": ["31337"]}


class Fake:
    def __init__(self, upstream):
        self.upstream = upstream
        self.mode = "good"
        self.lock = threading.Lock()
        self.calls = []  # (mode, method)
        self.stopping = False
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def send(self, status, body, ctype="application/json", length=True):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if length:
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                try:
                    self.wfile.write(body)
                    self.wfile.flush()
                except OSError:
                    pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    req = json.loads(raw)
                    method, rid = req.get("method"), req.get("id")
                except (ValueError, AttributeError):
                    method, rid = f"<unparsable {raw[:40]!r}>", None
                mode = fake.mode
                with fake.lock:
                    fake.calls.append((mode, method))
                ok = lambda res: json.dumps({"jsonrpc": "2.0", "id": rid,  # noqa: E731
                                             "result": res}).encode()
                if mode == "good" or (mode == "wrongchain" and method != "eth_chainId"):
                    try:
                        r = urllib.request.Request(fake.upstream, raw,
                                                   {"Content-Type": "application/json"})
                        with urllib.request.urlopen(r, timeout=10) as u:
                            body = u.read()
                        self.send(200, body)
                    except OSError as ex:
                        self.send(502, str(ex).encode(), "text/plain")
                elif mode == "wrongchain":
                    self.send(200, ok("0x1"))
                elif mode == "slow":
                    t0 = time.time()
                    while fake.mode == "slow" and not fake.stopping and time.time() - t0 < 60:
                        time.sleep(0.1)
                    self.close_connection = True  # the client gave up long ago
                elif mode == "notjson":
                    self.send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
                elif mode == "truncated":
                    self.send(200, ok("0x7a69")[:17])
                elif mode == "wrongid":
                    self.send(200, json.dumps({"jsonrpc": "2.0", "id": (rid or 0) + 1000,
                                               "result": "0x7a69"}).encode())
                elif mode == "hugecl":
                    self.send(200, b'{"jsonrpc":"2.0","id":%d,"result":"0x' % (rid or 0)
                              + b"0" * HUGE + b'"}')
                elif mode == "hugeclose":
                    self.send(200, b'{"jsonrpc":"2.0","id":%d,"result":"0x' % (rid or 0)
                              + b"0" * HUGE + b'"}', length=False)
                elif mode == "rpcerror":
                    self.send(200, json.dumps({"jsonrpc": "2.0", "id": rid, "error": {
                        "code": -32000, "message": "header not found"}}).encode())
                elif mode == "http500":
                    self.send(500, json.dumps({"jsonrpc": "2.0", "id": rid, "error": {
                        "code": -32603, "message": "internal error"}}).encode())
                elif mode == "http429":
                    self.send(429, b'{"error":"rate limited"}')
                elif mode == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.srv.daemon_threads = True
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping = True
        self.srv.shutdown()
        self.srv.server_close()

    def methods(self, mode=None):
        with self.lock:
            return [m for (md, m) in self.calls if mode is None or md == mode]


wait_for = c.wait_for  # a timeout is a failure of c


def anchors(node):
    r = node.get("/v1/anchors")
    return r.json()["anchors"] if r.status == 200 else None


def finals(node):
    return {(a["treeSize"], a["rootHash"], a["txHash"]) for a in anchors(node) or []
            if a["status"] == "final"}


def latest_final_covers(node, size):
    a = anchors(node)
    return a and a[-1]["treeSize"] >= size and a[-1]["status"] == "final"


def log_lines(node, since):
    with open(node.log_path, "rb") as f:
        f.seek(since)
        text = f.read().decode(errors="replace")
    return [x for x in text.splitlines() if x.startswith("credanchor anchor:")]


def main():
    with Anvil() as anvil, Fake(anvil.url) as fake:
        env = {"CREDANCHOR_ANCHOR_RPC_URL": fake.url, "CREDANCHOR_ANCHOR_CHAIN_ID": "31337",
               "CREDANCHOR_ANCHOR_INTERVAL": "1", "CREDANCHOR_ANCHOR_CONFIRMATIONS": "1"}
        with Node(roles=("issuer", "admin"), env=env) as n:
            rpc(anvil.url, "anvil_setBalance", [n.init["anchorAddress"], hex(10**19)])
            n.start()
            appended = []

            def append(k, what):
                d = random_digests(k)
                t = time.time()
                r = n.append(d)
                ok = c.ok(r.status == 200 and time.time() - t < 5,
                          f"{what}: POST /v1/log/entries answered {r.status} in "
                          f"{time.time() - t:.1f} s: {r.body[:200]!r}")
                if ok:
                    appended.extend(d)
                    return r.json()["treeSize"]
                return None

            # Baseline through the proxy: the gate opens, an anchor becomes final.
            d0 = random_digests(2)
            r0 = wait_for(lambda: (lambda r: r if r.status != 503 else None)(n.append(d0)), 15)
            c.ok(r0 and r0.status == 200, f"baseline: the gate opens through the proxy "
                 f"({r0 and r0.status}: {r0 and r0.body[:200]!r})")
            size = r0.json()["treeSize"] if r0 and r0.status == 200 else 0
            appended.extend(d0 if size else [])
            c.ok(wait_for(lambda: latest_final_covers(n, size), 30, "baseline final"),
                 "baseline: an anchor through the proxy becomes final")
            modes = ["notjson", "truncated", "wrongid", "hugecl", "hugeclose", "rpcerror",
                     "http500", "http429", "reset", "wrongchain", "slow"]
            for mode in modes:
                t_mode = time.time()
                before = finals(n)
                since = os.path.getsize(n.log_path)
                ncalls = len(fake.methods(mode))
                fake.mode = mode
                size = append(3, mode)
                # Let the engine hit the fault for a while (several passes; one slow call).
                dwell = SLOW_S if mode == "slow" else 3
                bad_health, worst = 0, 0.0
                while time.time() - t_mode < dwell:
                    t = time.time()
                    try:
                        h = n.get("/v1/health")
                        st = h.status
                    except OSError as ex:
                        st = str(ex)
                    worst = max(worst, time.time() - t)
                    bad_health += st != 200
                    time.sleep(0.3)
                c.ok(n.proc.poll() is None, f"{mode}: the node is still running")
                c.ok(bad_health == 0 and worst < 3,
                     f"{mode}: /v1/health 200 throughout ({bad_health} not 200, slowest "
                     f"{worst:.1f} s)")
                append(1, mode + " (second append)")
                got = fake.methods(mode)[ncalls:]
                c.ok(got, f"{mode}: the node called the endpoint at all")
                outside = sorted(set(m for m in got if m not in ALLOWED))
                c.ok(not outside, f"{mode}: methods outside SPEC §2: {outside}")
                if mode == "wrongchain":
                    c.ok("eth_sendRawTransaction" not in got,
                         f"wrongchain: eth_sendRawTransaction arrived: {got}")
                    c.ok("eth_estimateGas" not in got and "eth_getTransactionCount" not in got,
                         f"wrongchain: the engine went past the chain id check: {got}")
                after = finals(n)
                c.eq(after - before, set(), f"{mode}: anchors that became final on bad data")
                lines = log_lines(n, since)
                print(f"{mode}: {len(got)} calls {sorted(set(got))}; new log lines:",
                      *lines[:3], sep="\n  ", flush=True)
                c.ok(len(lines) < 30, f"{mode}: log flood ({len(lines)} lines)")
                if mode == "slow":
                    # The client's timeout is 20 s and a read-only call is tried 3 times before
                    # the engine logs, so within the dwell the sign of the timeout is the
                    # client giving up and asking again.
                    c.ok(len(got) >= 2, f"slow: the client never timed out and retried: {got}")
                    if SLOW_S >= 66:
                        c.ok(any(w in x.lower() for x in lines for w in ("timeout", "timed out")),
                             f"slow: no line saying the call timed out: {lines}")
                    continue
                # The engine logs each distinct message once until it makes progress, so a mode
                # whose message equals the previous mode's adds no line: check the newest one.
                allines = log_lines(n, 0)
                last = allines[-1] if allines else ""
                want = WANT[mode]
                c.ok(any(w.lower() in last.lower() for w in want),
                     f"{mode}: the newest anchor log line {last!r} lacks any of {want}")
            # The faults stop: everything appended is anchored final.
            fake.mode = "good"
            total = len(appended)
            r = n.get("/v1/health").json()
            c.eq(r["treeSize"], total, "tree size after the faults")
            c.ok(wait_for(lambda: latest_final_covers(n, total), 40,
                          "final after the faults stop"),
                 f"an anchor covering all {total} entries becomes final after the faults")
            a = anchors(n) or []
            sizes = [x["treeSize"] for x in a]
            c.ok(sizes == sorted(set(sizes)), f"one record per size, ascending: {sizes}")
            c.ok(all(x["status"] == "final" for x in a[:-1]) if a else False,
                 f"earlier anchors all final: {[(x['treeSize'], x['status']) for x in a]}")
            # Each final anchor's tx is really on chain with the CAv1 calldata.
            for x in a:
                if x["status"] != "final":
                    continue
                tx = rpc(anvil.url, "eth_getTransactionByHash", [x["txHash"]])
                c.ok(tx and tx["input"] == "0x43417631" + "%016x" % x["treeSize"] + x["rootHash"]
                     and tx["blockHash"] == x["blockHash"],
                     f"final anchor {x['treeSize']} is not on chain as recorded")
            outside = sorted(set(m for m in fake.methods() if m not in ALLOWED))
            c.ok(not outside, f"methods outside SPEC §2 over the whole run: {outside}")
            for d in appended[:3] + appended[-3:]:
                c.eq(n.get(f"/v1/log/proof?digest={d}").status, 200, f"proof of {d[:8]}")
            rc = n.stop()
            c.eq(rc, 0, "serve exits 0 on SIGTERM")
            if c.failed:
                print("node log tail:\n" + n.log_text()[-2500:], flush=True)
    c.finish()


if __name__ == "__main__":
    main()
