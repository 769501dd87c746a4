"""did:web against a real nginx over TLS (issue 4). The test makes its own CA with the openssl
CLI, a server certificate for "localhost" signed by it, and a second, untrusted self-signed
"rogue" certificate; it starts nginx (foreground, single process) on free loopback ports and
always stops it. tests/tools/did_web_resolve resolves each DID through ca_did_web_resolve and
the real libcurl transport and prints the W3C resolution result.

Covered: root path, sub-path, port, id mismatch, 404, oversized (with and without
Content-Length), same-host redirect (followed), redirects off the host or port (refused),
redirect loops and chains, slow (timeout), connection refused, the private-address guard
(localhost resolves to 127.0.0.1 though its name is no IP literal), an IP-literal DID, a
certificate from another CA, and no --ca-file (the test CA is not trusted by default)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ca_node import Checks, free_port, make_test_ca  # noqa: E402

c = Checks("did_web_nginx")
check = c.ok


def find_driver():
    d = os.environ.get("CA_TOOLS_DIR")
    cands = [os.path.join(d, "did_web_resolve")] if d else []
    b = os.environ.get("CA_BUILD_DIR")
    if b:
        cands.append(os.path.join(b, "tests", "did_web_resolve"))
    for c in cands:
        if os.access(c, os.X_OK):
            return c
    sys.exit("did_web_resolve driver not found (set CA_TOOLS_DIR)")


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def make_certs(d):
    """The test CA and server certificate (ca_node.make_test_ca), plus a self-signed rogue
    certificate for localhost that the node must refuse."""
    ca, key, crt = make_test_ca(d, "credanchor did:web test CA")
    rkey, rcrt = os.path.join(d, "rogue.key"), os.path.join(d, "rogue.pem")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
       "subjectAltName=DNS:localhost", "-keyout", rkey, "-out", rcrt)
    return ca, key, crt, rkey, rcrt


def write_doc(root, path, doc):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))


def main():
    driver = find_driver()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    tmp = tempfile.mkdtemp(prefix="ca-didweb-")
    proc = None
    try:
        ca, key, crt, rkey, rcrt = make_certs(tmp)
        port, rogue_port, dead_port = free_port(), free_port(), free_port()
        host = f"localhost%3A{port}"
        did_root = f"did:web:{host}"
        root = os.path.join(tmp, "www")
        ctx = ["https://www.w3.org/ns/did/v1"]
        write_doc(root, "/.well-known/did.json", {"@context": ctx, "id": did_root})
        write_doc(root, "/user/alice/did.json", {"id": f"{did_root}:user:alice"})
        write_doc(root, "/mismatch/did.json", {"@context": ctx, "id": "did:web:evil.example"})
        write_doc(root, "/notjson/did.json", "<html>not json</html>")
        big = json.dumps({"id": f"{did_root}:big", "pad": "x" * (1024 * 1024 + 10)})
        write_doc(root, "/big/did.json", big)
        write_doc(root, "/bigchunked/did.json", big.replace(f"{did_root}:big",
                                                          f"{did_root}:bigchunked"))
        write_doc(root, "/moved-target/did.json", {"id": f"{did_root}:moved"})
        write_doc(root, "/slow/did.json", {"id": f"{did_root}:slow", "pad": "y" * 4000})
        # The rogue server serves the same tree; its root DID differs only in the port.
        write_doc(os.path.join(tmp, "rogue"), "/.well-known/did.json",
                  {"id": f"did:web:localhost%3A{rogue_port}"})
        for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(tmp, "temp", d))
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/temp/body;
    proxy_temp_path {tmp}/temp/proxy;
    fastcgi_temp_path {tmp}/temp/fastcgi;
    uwsgi_temp_path {tmp}/temp/uwsgi;
    scgi_temp_path {tmp}/temp/scgi;
    types {{ application/did+json json; }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {crt};
        ssl_certificate_key {key};
        root {root};
        location = /offhost/did.json {{ return 302 https://example.com/did.json; }}
        location = /offport/did.json {{ return 302 https://localhost:{rogue_port}/x/did.json; }}
        location = /plainhttp/did.json {{ return 302 http://localhost:{port}/user/alice/did.json; }}
        location = /loop/did.json {{ return 302 /loop/did.json; }}
        location = /loopa/did.json {{ return 302 /loopb/did.json; }}
        location = /loopb/did.json {{ return 302 /loopa/did.json; }}
        location = /chain/did.json {{ return 302 /chain1/did.json; }}
        location = /chain1/did.json {{ return 302 /chain2/did.json; }}
        location = /chain2/did.json {{ return 302 /chain3/did.json; }}
        location = /chain3/did.json {{ return 302 /chain4/did.json; }}
        location = /moved/did.json {{ return 301 /moved-target/did.json; }}
        location = /bigchunked/did.json {{ ssi on; ssi_types application/did+json; }}
        location /slow/ {{ limit_rate 1; }}
    }}
    server {{
        listen 127.0.0.1:{rogue_port} ssl;
        server_name localhost;
        ssl_certificate {rcrt};
        ssl_certificate_key {rkey};
        root {tmp}/rogue;
    }}
}}
""")
        proc = subprocess.Popen([nginx, "-p", tmp, "-c", conf, "-e", f"{tmp}/error.log"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            if proc.poll() is not None:
                sys.exit(f"nginx exited: {proc.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", rogue_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("nginx did not start listening")

        allow = f"localhost:{port},localhost:{rogue_port},localhost:{dead_port}"

        def resolve(did, ca_file=ca, allow_hosts=allow, extra=()):
            cmd = [driver]
            if ca_file:
                cmd += ["--ca-file", ca_file]
            if allow_hosts:
                cmd += ["--allow-hosts", allow_hosts]
            cmd += list(extra) + [did]
            t0 = time.time()
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            elapsed = time.time() - t0
            try:
                out = json.loads(p.stdout)
            except ValueError:
                out = {"didDocument": None, "didResolutionMetadata": {
                    "error": {"type": "unparsable driver output",
                              "detail": p.stdout + p.stderr}}}
            return p.returncode, out, elapsed

        def err_of(out):
            e = out["didResolutionMetadata"].get("error") or {}
            return e.get("type", "").rsplit("#", 1)[-1], e.get("detail", "")

        def expect_ok(did, what, content_type=None, **kw):
            rc, out, _ = resolve(did, **kw)
            doc = out.get("didDocument") or {}
            ok = check(rc == 0 and doc.get("id") == did,
                       f"{what}: {did} did not resolve: {err_of(out)}")
            if ok and content_type:
                check(out["didResolutionMetadata"].get("contentType") == content_type,
                      f"{what}: content type {out['didResolutionMetadata']}")

        def expect_err(did, code, detail_has, what, max_seconds=None, **kw):
            rc, out, elapsed = resolve(did, **kw)
            got, detail = err_of(out)
            check(rc == 1 and out.get("didDocument") is None and got == code,
                  f"{what}: got {got!r} ({detail}), want {code}")
            if detail_has:
                check(any(s.lower() in detail.lower() for s in detail_has),
                      f"{what}: detail {detail!r} lacks any of {detail_has}")
            check("\n" not in detail, f"{what}: detail is one line")
            if max_seconds:
                check(elapsed < max_seconds, f"{what}: took {elapsed:.1f} s")

        # Addresses: root path, sub-path, port.
        expect_ok(did_root, "root path /.well-known/did.json", "application/did+ld+json")
        expect_ok(f"{did_root}:user:alice", "sub-path /user/alice/did.json",
                  "application/did+json")
        expect_ok(did_root, "allow-list entry without a port", allow_hosts="localhost")
        expect_ok(did_root, "no-cache", extra=["--no-cache"])
        # Documents.
        expect_err(f"{did_root}:mismatch", "INVALID_DID_DOCUMENT", ["not the DID"],
                   "id mismatch")
        expect_err(f"{did_root}:notjson", "INVALID_DID_DOCUMENT", ["not valid JSON"],
                   "not JSON")
        expect_err(f"{did_root}:nobody", "NOT_FOUND", ["no DID document at https://localhost"],
                   "404")
        expect_err(f"{did_root}:big", "NOT_FOUND", ["larger than 1048576"],
                   "oversized (Content-Length)")
        expect_err(f"{did_root}:bigchunked", "NOT_FOUND", ["larger than 1048576"],
                   "oversized (chunked, write-callback cap)")
        # Redirects.
        expect_ok(f"{did_root}:moved", "same-host redirect followed")
        expect_err(f"{did_root}:offhost", "NOT_FOUND", ["redirects to https://example.com"],
                   "redirect to another host refused")
        expect_err(f"{did_root}:offport", "NOT_FOUND", ["redirects to"],
                   "redirect to another port refused")
        expect_err(f"{did_root}:plainhttp", "NOT_FOUND", ["redirects to http://"],
                   "redirect to plain http refused")
        expect_err(f"{did_root}:loop", "NOT_FOUND", ["redirect loop"], "redirect to itself")
        expect_err(f"{did_root}:loopa", "NOT_FOUND", ["redirect loop"], "two-step redirect loop")
        expect_err(f"{did_root}:chain", "NOT_FOUND", ["more than 3 redirects"],
                   "redirect chain longer than 3")
        # Slow and refused.
        expect_err(f"{did_root}:slow", "NOT_FOUND", ["timeout", "timed out"],
                   "slow server times out", max_seconds=8, extra=["--timeout", "2"])
        expect_err(f"did:web:localhost%3A{dead_port}", "NOT_FOUND", ["connect"],
                   "connection refused", max_seconds=8)
        # The address guard: localhost is 127.0.0.1/::1 though the name is no IP literal.
        expect_err(did_root, "NOT_FOUND", ["loopback"], "loopback refused without allow-list",
                   allow_hosts=None)
        expect_err(did_root, "NOT_FOUND", ["loopback"],
                   "allow-list entry for another port does not open this one",
                   allow_hosts=f"localhost:{dead_port},example.com")
        expect_err(f"did:web:127.0.0.1%3A{port}", "INVALID_DID", ["IP address"],
                   "IP-literal DID")
        expect_err("did:web:127.1", "INVALID_DID", ["IP address"], "short IPv4 DID")
        # TLS trust.
        expect_err(f"did:web:localhost%3A{rogue_port}", "NOT_FOUND",
                   ["certificate", "SSL"], "certificate from another CA refused")
        expect_err(did_root, "NOT_FOUND", ["certificate", "SSL"],
                   "no --ca-file: the test CA is not trusted", ca_file=None)
        expect_err(did_root, "NOT_FOUND", ["no PEM certificate"], "CA file without certificates",
                   ca_file=conf)
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if c.failed and os.path.exists(os.path.join(tmp, "error.log")):
            with open(os.path.join(tmp, "error.log")) as f:
                sys.stdout.write("nginx error.log tail:\n" + "".join(f.readlines()[-15:]))
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


if __name__ == "__main__":
    main()
