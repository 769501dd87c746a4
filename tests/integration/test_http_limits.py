"""Connection and memory limits (issue 13 items 3 and 4), kept out of the valgrind subset:
- 1,100 slowloris connections from 127.0.0.1 leave /v1/health answering from 127.0.0.2 within a
  second (node.max_connections_per_ip, default 256);
- a connection trickling its headers, or its body, is closed after node.header_timeout /
  node.body_timeout although it is never idle for node.connection_timeout;
- 100 unauthenticated 10 MiB POSTs in flight: each gets 401 on its headers, and the node's peak
  RSS stays far below the 1 GiB they announce;
- bodies past node.max_buffered_bodies get 503 problem+json with Retry-After."""
import concurrent.futures
import json
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

t = ca.Checks("http_limits")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def health_from(port, source, timeout=1.0):
    """Status of GET /v1/health over a connection from the given source address."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    try:
        s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        buf = s.recv(64)
        return int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/1.") else None
    finally:
        s.close()


def closed_within(s, seconds, trickle=b"X"):
    """Trickles a byte every 0.4 s; returns the seconds until the node closed the connection,
    or None if it stayed open for `seconds`."""
    t0 = time.time()
    s.settimeout(0.4)
    while time.time() - t0 < seconds:
        try:
            s.sendall(trickle)
            if s.recv(4096) == b"":
                return time.time() - t0
        except socket.timeout:
            continue
        except OSError:
            return time.time() - t0
    return None


# ---- connection exhaustion, with the defaults (256 per address) ----
with ca.Node(roles=["issuer"], env={"CREDANCHOR_NODE_HEADER_TIMEOUT": "60"}) as node:
    node.start()
    port = node.port
    slow = []
    for i in range(1100):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")  # never finished
            slow.append(s)
        except OSError:
            pass
    t.ok(len(slow) >= 1000, f"opened {len(slow)} slow connections from 127.0.0.1")
    time.sleep(0.5)
    t0 = time.time()
    try:
        st = health_from(port, "127.0.0.2")
    except OSError as e:
        st = f"error {e}"
    took = time.time() - t0
    t.eq(st, 200, "health from 127.0.0.2 with 1,100 slow connections from 127.0.0.1")
    t.ok(took < 1.0, f"answered within a second ({took:.2f}s)")
    for s in slow:
        s.close()
    t.ok(node.proc.poll() is None, "serve still running")
    t.eq(node.stop(), 0, "serve exits 0")

# ---- total deadlines for headers and bodies (a connection never idle long enough) ----
with ca.Node(roles=["issuer"], env={"CREDANCHOR_NODE_HEADER_TIMEOUT": "2",
                                    "CREDANCHOR_NODE_BODY_TIMEOUT": "2",
                                    "CREDANCHOR_NODE_CONNECTION_TIMEOUT": "30"}) as node:
    node.start()
    tok = node.tokens["issuer"]
    s = socket.create_connection(("127.0.0.1", node.port))
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    took = closed_within(s, 8)
    t.ok(took is not None and 1.5 < took < 4, f"slow headers closed after the 2 s deadline: {took}")
    s.close()
    s = socket.create_connection(("127.0.0.1", node.port))
    s.sendall(b"POST /v1/log/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
              tok.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    took = closed_within(s, 8, b" ")
    t.ok(took is not None and 1.5 < took < 4, f"slow body closed after the 2 s deadline: {took}")
    s.close()
    # A keep-alive connection serves its requests as before.
    c = node.conn()
    t.ok(all(node.get("/v1/health", conn=c).status == 200 for _ in range(3)), "keep-alive works")
    c.close()
    t.eq(node.stop(), 0, "serve exits 0")

# ---- 100 unauthenticated 10 MiB POSTs: 401 on the headers, no body buffered ----
TEN_MIB = 10 << 20
with ca.Node(roles=["issuer"], env={"CREDANCHOR_NODE_MAX_BODY": str(TEN_MIB)}) as node:
    node.start()
    pid = node.proc.pid
    base = rss_kib(pid, "VmRSS")
    chunk = b"a" * (1 << 20)

    def unauthenticated_upload(_):
        s = socket.create_connection(("127.0.0.1", node.port), timeout=10)
        try:
            s.sendall(b"POST /v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      b"application/json\r\nContent-Length: %d\r\n\r\n" % TEN_MIB)
            try:
                for _ in range(10):
                    s.sendall(chunk)
            except OSError:
                pass
            try:
                buf = s.recv(64)
            except OSError:
                buf = b""
            return int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/1.") else None
        finally:
            s.close()

    with concurrent.futures.ThreadPoolExecutor(100) as ex:
        statuses = list(ex.map(unauthenticated_upload, range(100)))
    peak = rss_kib(pid, "VmHWM")
    answered = sum(1 for x in statuses if x == 401)
    t.ok(answered >= 90 and all(x in (401, None) for x in statuses),
         f"unauthenticated uploads answered 401: {answered}/100 ({set(statuses)})")
    print(f"  node RSS: {base // 1024} MiB before, peak {peak // 1024} MiB with 100 x 10 MiB "
          f"unauthenticated POSTs")
    t.ok(peak - base < 100 * 1024, f"peak RSS grew {(peak - base) // 1024} MiB (< 100 MiB)")
    t.eq(node.get("/v1/health").status, 200, "healthy after the uploads")
    t.eq(node.stop(), 0, "serve exits 0")

# ---- the buffered-body budget: 503 + Retry-After past it ----
with ca.Node(roles=["issuer"], env={"CREDANCHOR_NODE_MAX_BODY": str(1 << 20),
                                    "CREDANCHOR_NODE_MAX_BUFFERED_BODIES": str(2 << 20)}) as node:
    node.start()
    tok = node.tokens["issuer"].encode()
    head = (b"POST /v1/log/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok +
            b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (1 << 20))
    holders = []
    for _ in range(2):  # two 1 MiB bodies in flight hold the whole 2 MiB budget
        s = socket.create_connection(("127.0.0.1", node.port), timeout=5)
        s.sendall(head + b"{")
        holders.append(s)
    time.sleep(0.3)
    s = socket.create_connection(("127.0.0.1", node.port), timeout=5)
    s.sendall(head)
    buf = b""
    try:
        while b"}" not in buf:
            part = s.recv(4096)
            if not part:
                break
            buf += part
    except OSError:
        pass
    s.close()
    hdr, _, body = buf.partition(b"\r\n\r\n")
    t.ok(hdr.startswith(b"HTTP/1.1 503"), f"third body past the budget: {hdr[:40]!r}")
    t.ok(b"application/problem+json" in hdr.lower() and b"retry-after: 1" in hdr.lower(),
         "503 is problem+json with Retry-After")
    for h in holders:
        h.close()
    time.sleep(0.3)
    r = node.append(ca.random_digests(1))
    t.eq(r.status, 200, "budget freed when the bodies go")
    t.eq(node.stop(), 0, "serve exits 0")

t.finish()
