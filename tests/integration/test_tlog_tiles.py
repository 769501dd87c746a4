"""The log as C2SP tlog-tiles (SPEC §8 "Static tiles", issue #19), judged by Go's
golang.org/x/mod/sumdb/tlog and sumdb/note: tests/interop/tlog_peer (built here, offline, from
Debian's golang-golang-x-mod-dev into the build dir) reads /tlog/checkpoint, verifies its
signature against /v1/log/key, recomputes the root from our tiles through tlog.TileHashReader
(which checks every tile against the tree), proves leaves taken from our entry bundles
(tlog.ProveRecord + CheckRecord) and proves consistency with the previous checkpoint
(tlog.ProveTree + CheckTree, after rebuilding the old root from the old tree's partial tiles).

Covered:
  - sizes 1, 255, 256, 257, 512, 65,535, 65,536 and 65,793: the tile edges of levels 0, 1 and
    2 (65,536 leaves make the first full level-1 tile; 65,793 a partial level-1 tile and a
    partial level-0 one beside full ones); at each, the Go peer agrees on the root, proves the
    first, last and edge leaves, and proves consistency from the previous size;
  - bytes from Python: a full level-0 tile is 8,192 bytes of RFC 9162 leaf hashes of the
    appended digests; a partial one is its first W hashes, also after the tree grew past W
    (tlog-tiles lets clients ask for a partial tile that is now wider); the full level-1 tile
    holds the 256 block roots; the level-2 tile's one hash is the checkpoint's root; entry
    bundles are uint16-length-prefixed digests equal to the appended ones;
  - tiles the tree does not have yet (a wider partial, a full tile of a partial, the next
    index, a level above the tree, level >= 8) are 404 problems; malformed paths (leading zeros,
    W 0 or 256, x000 groups, bad groups, percent-encoding, extra segments) are 404 problems
    and never hurt the node; POST is 405; HEAD answers the headers of GET without a body;
  - headers: application/octet-stream and `public, max-age=31536000, immutable` for every
    tile and bundle (their bytes never change, partial ones included), text/plain and
    no-cache for the checkpoint (which equals /v1/checkpoint), no-store on a 404;
  - behind nginx with TLS (docs/nginx-reverse-proxy.conf as deployed, ca_node.NginxFront) and
    an https public_url with a path: the Go peer, trusting the test CA through SSL_CERT_FILE,
    reads and proves the log through the proxy, and the headers survive it.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

t = ca.Checks("tlog_tiles")
IMMUTABLE = "public, max-age=31536000, immutable"
PEER_SRC = os.path.join(ca.SRC, "tests", "interop", "tlog_peer")


def build_peer(tmp):
    """Builds the Go peer offline in GOPATH mode against Debian's /usr/share/gocode (no module
    proxy, no toolchain download, a throwaway build cache). cgo stays on: Debian's Go ships
    its standard library prebuilt that way, so the build takes seconds, not a minute."""
    out = os.path.join(os.environ.get("CA_BUILD_DIR") or tmp, "tlog_peer")
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="",
               GOCACHE=os.path.join(tmp, "gocache"), GOTOOLCHAIN="local", GOPROXY="off")
    p = subprocess.run(["go", "build", "-o", out, "."], cwd=PEER_SRC, env=env,
                       capture_output=True, text=True, timeout=ca.scaled(180))
    if p.returncode != 0:
        sys.exit(f"tlog_tiles: building the Go peer failed:\n{p.stderr}")
    return out


def run_peer(peer, base, leaves=(), old=None, env=None):
    cmd = [peer, "-base", base, "-leaf", ",".join(str(i) for i in leaves)]
    if old:
        cmd += ["-old", old]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=ca.scaled(60))
    try:
        return json.loads(p.stdout)
    except ValueError:
        t.ok(False, f"Go peer printed no JSON (exit {p.returncode}): {p.stderr[-500:]}")
        return None


def judge(rep, size, root, leaves, digests, old_size, what):
    """The Go peer's report at one size: signature, root, inclusions, consistency."""
    if not rep:
        return
    t.eq(rep["errors"], [], f"{what}: Go peer errors")
    t.ok(rep["signatureVerified"], f"{what}: note.Open verified the checkpoint's signature")
    cp = rep.get("checkpoint") or {}
    t.eq(cp.get("size"), size, f"{what}: checkpoint size")
    t.eq(cp.get("root"), root, f"{what}: checkpoint root as the node reports it")
    t.ok(rep["rootMatches"] and rep["treeHash"] == root,
         f"{what}: tlog.TreeHash over our tiles equals the checkpoint's root")
    got = {i["index"]: i for i in rep["inclusion"]}
    for i in leaves:
        r = got.get(i, {})
        t.ok(r.get("ok"), f"{what}: leaf {i} proved by ProveRecord/CheckRecord: {r}")
        t.eq(r.get("digest"), digests[i], f"{what}: entry bundle's digest at leaf {i}")
    if old_size:
        c = rep.get("consistency") or {}
        t.ok(c.get("ok") and c.get("oldSignatureVerified") and c.get("oldRootMatchesTiles")
             and c.get("from") == old_size and c.get("to") == size,
             f"{what}: consistency {old_size} -> {size} by ProveTree/CheckTree: {c}")


def checkpoint_root(text):
    lines = text.decode().split("\n")
    return int(lines[1]), lines[2]


def append_until(node, digests, size):
    """Appends fresh digests until the log holds size leaves (10,000 per request: the cap)."""
    while len(digests) < size:
        batch = ca.random_digests(min(10000, size - len(digests)))
        r = node.append(batch)
        if not t.eq(r.status, 200, f"append to {len(digests) + len(batch)}"):
            raise SystemExit(f"append failed: {r.body[:300]}")
        digests.extend(batch)


def get_tile(node, path):
    return node.get("/tlog/" + path)


def check_headers(r, what, immutable=True):
    t.eq(r.status, 200, f"{what}: 200")
    t.eq(r.ctype, "application/octet-stream", f"{what}: Content-Type")
    if immutable:
        t.eq(r.headers.get("cache-control"), IMMUTABLE, f"{what}: Cache-Control")


def leaf_tile(digests, first, width):
    return b"".join(ca.leaf_hash(d) for d in digests[first:first + width])


def bundle(digests, first, width):
    return b"".join(b"\x00\x20" + bytes.fromhex(d) for d in digests[first:first + width])


def block_root(digests, block):
    return ca.merkle_root(digests[block * 256:(block + 1) * 256])


def is_404(r, what, parsed=None):
    """A 404 problem, marked no-store; parsed: the path was read as a tile that the tree does
    not have (the detail names the tree size) or not (refused as a path, or no route)."""
    t.ok(r.is_problem(404), f"{what}: 404 problem, got {r.status} {r.body[:120]!r}")
    t.eq(r.headers.get("cache-control"), "no-store", f"{what}: a 404 is not cached")
    if parsed is not None:
        detail = r.json().get("detail", "") if r.ctype.startswith("application/problem") else ""
        t.eq(detail.startswith("tree size "), parsed, f"{what}: parsed ({detail})")


def small_tree_bytes(node, digests):
    """At 257 leaves: one full level-0 tile, a partial of 1, the level-1 partial of 1."""
    r = get_tile(node, "tile/0/000")
    check_headers(r, "full level-0 tile")
    t.eq(len(r.body), 8192, "a full tile is 8,192 bytes")
    t.ok(r.body == leaf_tile(digests, 0, 256), "full level-0 tile = the 256 leaf hashes")
    r = get_tile(node, "tile/0/001.p/1")
    check_headers(r, "partial level-0 tile")
    t.ok(r.body == leaf_tile(digests, 256, 1), "tile/0/001.p/1 = leaf hash 256")
    # tlog-tiles: a client may ask for a partial tile that is now wider (or full).
    for w in (1, 5, 128, 255):
        r = get_tile(node, f"tile/0/000.p/{w}")
        check_headers(r, f"tile/0/000.p/{w} of a full tile")
        t.ok(r.body == leaf_tile(digests, 0, w), f"tile/0/000.p/{w} = its first {w} hashes")
    r = get_tile(node, "tile/1/000.p/1")
    check_headers(r, "level-1 partial tile")
    t.ok(r.body == block_root(digests, 0), "tile/1/000.p/1 = the root of leaves 0..255")
    r = get_tile(node, "tile/entries/000")
    check_headers(r, "full entry bundle")
    t.eq(len(r.body), 256 * 34, "a full entry bundle is 256 x (2 + 32) bytes")
    t.ok(r.body == bundle(digests, 0, 256), "entry bundle 000 = the appended digests, "
         "each behind a big-endian uint16 32")
    r = get_tile(node, "tile/entries/001.p/1")
    check_headers(r, "partial entry bundle")
    t.ok(r.body == bundle(digests, 256, 1), "entry bundle 001.p/1 = digest 256")
    r = get_tile(node, "tile/entries/000.p/7")
    t.ok(r.status == 200 and r.body == bundle(digests, 0, 7), "entries/000.p/7 of a full one")
    # HEAD: GET's headers, no body.
    r = node.request("HEAD", "/tlog/tile/0/000")
    t.ok(r.status == 200 and r.body == b"" and r.headers.get("cache-control") == IMMUTABLE
         and r.headers.get("content-length") == "8192", f"HEAD tile: {r.status} {r.headers}")
    r = node.request("POST", "/tlog/tile/0/000", body="x")
    t.eq(r.status, 405, "POST on a tile: 405")
    # What the tree does not have yet.
    for path in ("tile/0/001.p/2", "tile/0/001", "tile/0/002.p/1", "tile/1/000",
                 "tile/1/000.p/2", "tile/2/000.p/1", "tile/entries/001.p/2", "tile/entries/001",
                 "tile/8/000.p/1", "tile/63/000.p/1", "tile/0/x001/234",
                 "tile/0/x018/x446/x744/073.p/3"):
        is_404(get_tile(node, path), f"{path} at 257 leaves", parsed=True)
    # Malformed: never a tile, never a crash.
    for path in ("tile/00/000", "tile/01/000", "tile/0/0", "tile/0/00", "tile/0/0000",
                 "tile/0/x000/001", "tile/0/x001", "tile/0/001/002", "tile/0/000.p/0",
                 "tile/0/000.p/256", "tile/0/000.p/01", "tile/0/000.p/", "tile/0/000.q/1",
                 "tile/64/000", "tile/-1/000", "tile/entries/000.p/256", "tile/entries/x000/000",
                 "tile/0/%30%30%30", "tile/0/000.p/1/2", "tile/0/X001/000", "tile/a/000",
                 "tile/0/000.p/1%00", "tile/entries/0", "tile/0/x018/x446/x744/x073/x709/616"):
        is_404(get_tile(node, path), f"malformed {path}", parsed=False)
    for path in ("/tlog/tile", "/tlog/tile/", "/tlog/tile/0", "/tlog/tile/0/x001/x002/x003/x004/"
                 "x005/006", "/tlog/tile/0/000.p/1/2/3/4/5", "/tlog/", "/tlog/checkpoint/x"):
        r = node.get(path)
        t.eq(r.status, 404, f"no route: {path}")
    t.eq(node.get("/v1/health").status, 200, "the node is well after the malformed paths")


def upper_levels(node, digests, root):
    """At 65,536 leaves: the first full level-1 tile and the level-2 partial of width 1."""
    r = get_tile(node, "tile/1/000")
    check_headers(r, "full level-1 tile")
    t.eq(len(r.body), 8192, "full level-1 tile: 8,192 bytes")
    want = b"".join(block_root(digests, b) for b in range(256))
    t.ok(r.body == want, "full level-1 tile = the roots of the 256 level-0 tiles")
    r = get_tile(node, "tile/2/000.p/1")
    check_headers(r, "level-2 partial tile")
    t.eq(ca.base64.b64encode(r.body).decode(), root,
         "tile/2/000.p/1 = the checkpoint's root (the tree is one full subtree)")
    r = get_tile(node, "tile/0/255")
    t.ok(r.status == 200 and r.body == leaf_tile(digests, 255 * 256, 256), "tile/0/255")
    is_404(get_tile(node, "tile/1/001.p/1"), "tile/1/001.p/1 at 65,536", parsed=True)


def sizes_and_peer(node, peer, tmp):
    digests = []
    prev = None
    for size in (1, 255, 256, 257, 512, 65535, 65536, 65793):
        append_until(node, digests, size)
        r = node.get("/tlog/checkpoint")
        t.eq(r.status, 200, f"checkpoint at {size}")
        t.eq(r.ctype, "text/plain; charset=utf-8", "checkpoint Content-Type")
        t.eq(r.headers.get("cache-control"), "no-cache", "checkpoint is revalidated each time")
        t.eq(r.body, node.get("/v1/checkpoint").body, "the same note as /v1/checkpoint")
        got_size, root = checkpoint_root(r.body)
        t.eq(got_size, size, "checkpoint size")
        t.eq(root, ca.base64.b64encode(ca.merkle_root(digests) if size <= 512 else
                                       ca.base64.b64decode(root)).decode(),
             f"checkpoint root at {size} (recomputed in Python up to 512)")
        leaves = sorted({0, size - 1, size // 2, min(255, size - 1), min(256, size - 1),
                         max(0, size - 257)})
        old_file = None
        if prev:
            old_file = os.path.join(tmp, f"checkpoint.{prev[0]}")
            with open(old_file, "wb") as f:
                f.write(prev[1])
        rep = run_peer(peer, f"http://127.0.0.1:{node.port}", leaves, old_file)
        judge(rep, size, root, leaves, digests, prev[0] if prev else None, f"size {size}")
        if size == 257:
            small_tree_bytes(node, digests)
        if size == 65536:
            upper_levels(node, digests, root)
        if size == 65793 and rep:
            fetched = set(rep["tilesFetched"])
            t.ok({"tlog/tile/2/000.p/1", "tlog/tile/1/001.p/1", "tlog/tile/0/257.p/1"}
                 <= fetched, f"the Go peer read the partial tiles of levels 0..2: {fetched}")
            t.ok("tlog/tile/1/000" in fetched, "and the full level-1 tile")
        prev = (size, r.body)
    return digests


def behind_nginx(peer, tmp):
    """An https public_url with a path, nginx with TLS in front as documented."""
    with ca.NginxFront(tmp, base_path="/issuer") as front:
        env = {"CREDANCHOR_NODE_PUBLIC_URL": front.public_url,
               "CREDANCHOR_NODE_TRUSTED_PROXIES": "127.0.0.1"}
        with ca.Node(roles=("issuer",), env=env) as node:
            node.start()
            front.start(node.port)
            digests = []
            append_until(node, digests, 300)
            old = front.request("GET", "/tlog/checkpoint")
            t.eq(old.status, 200, "nginx: checkpoint")
            old_file = os.path.join(tmp, "nginx.checkpoint.300")
            with open(old_file, "wb") as f:
                f.write(old.body)
            append_until(node, digests, 700)
            r = front.request("GET", "/tlog/checkpoint")
            size, root = checkpoint_root(r.body)
            t.eq(size, 700, "nginx: checkpoint size")
            r = front.request("GET", "/tlog/tile/0/000")
            t.ok(r.status == 200 and r.body == leaf_tile(digests, 0, 256) and
                 r.headers.get("cache-control") == IMMUTABLE and
                 r.ctype == "application/octet-stream",
                 f"nginx: full tile and its headers pass the proxy: {r.status} {r.headers}")
            r = front.request("GET", "/tlog/tile/entries/002.p/188")
            t.ok(r.status == 200 and r.body == bundle(digests, 512, 188),
                 "nginx: partial entry bundle")
            r = front.request("GET", "/tlog/tile/0/000.p/00")
            t.ok(r.is_problem(404), f"nginx: a malformed path is a 404 problem ({r.status})")
            env = dict(os.environ, SSL_CERT_FILE=front.ca)
            leaves = [0, 255, 256, 511, 512, 699]
            rep = run_peer(peer, front.public_url, leaves, old_file, env=env)
            judge(rep, 700, root, leaves, digests, 300, "nginx")
            # Without the test CA, Go refuses the proxy's certificate: the peer really used TLS.
            rep = run_peer(peer, front.public_url, [0],
                           env=dict(os.environ, SSL_CERT_FILE="/dev/null",
                                    SSL_CERT_DIR="/nonexistent"))
            t.ok(rep and rep["errors"] and "certificate" in rep["errors"][0],
                 f"nginx: an untrusted certificate is refused: {rep and rep['errors']}")
            stopped_cleanly(node, "the node behind nginx")


def stopped_cleanly(node, what):
    """SIGTERM ends the node with 0 and, in a sanitizer build, no report in its log."""
    rc = node.stop()
    t.eq(rc, 0, f"{what} exits 0 on SIGTERM")
    log = node.log_text()
    t.ok("Sanitizer" not in log and "runtime error" not in log, f"{what}: clean log: {log[-800:]}")


def main():
    tmp = tempfile.mkdtemp(prefix="ca-tlog-")
    try:
        peer = build_peer(tmp)
        started = time.time()
        with ca.Node(roles=("issuer",)) as node:
            node.start()
            sizes_and_peer(node, peer, tmp)
            stopped_cleanly(node, "the node")
        print(f"tlog_tiles: 65,793 leaves and eight Go checks in {time.time() - started:.1f}s",
              flush=True)
        behind_nginx(peer, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.finish()


if __name__ == "__main__":
    main()
