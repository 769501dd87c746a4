"""Optional TLS (issue 3): with node.tls_cert_file/tls_key_file the node serves HTTPS only.
A client that verifies against the node's (self-signed, test-made) certificate gets answers
with keep-alive; plaintext HTTP gets none; a client that does not trust the certificate is
refused by its own verification (credanchor's verify-proof never turns verification off);
a bad key file stops start-up with one line and exit 2."""
import json
import os
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node as ca  # noqa: E402

t = ca.Checks("http_tls")

with ca.Node(roles=["issuer"]) as node:
    cert = os.path.join(node.data_dir, "..", "tls-cert.pem")
    key = os.path.join(node.data_dir, "..", "tls-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    node.env["CREDANCHOR_NODE_TLS_CERT_FILE"] = cert
    node.env["CREDANCHOR_NODE_TLS_KEY_FILE"] = key
    node.tls = ssl.create_default_context(cafile=cert)
    node.start()

    c = node.conn()
    r = node.get("/v1/health", conn=c)
    t.eq(r.status, 200, "health over HTTPS with a verifying client")
    d = ca.random_digests(3)
    r = node.request("POST", "/v1/log/entries", body={"digests": d}, conn=c,
                     token=node.tokens["issuer"])
    t.eq(r.status, 200, "append over the same TLS connection (keep-alive)")
    r = node.get(f"/v1/log/proof?digest={d[1]}", conn=c)
    t.eq(r.status, 200, "proof over the same TLS connection")
    proof = r.body
    c.close()

    # Plaintext to the TLS port gets no HTTP answer.
    s = socket.create_connection(("127.0.0.1", node.port), timeout=5)
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    s.close()
    t.ok(not data.startswith(b"HTTP/1.1 200"), "plain HTTP on the TLS port gets no 200")

    # A client that does not trust the certificate refuses the connection: verify-proof uses
    # the system trust store and has no switch to skip verification.
    pf = os.path.join(node.data_dir, "..", "proof.json")
    with open(pf, "wb") as f:
        f.write(proof)
    p = ca.run_cli("verify-proof", "--node", f"https://localhost:{node.port}", pf, check=False)
    t.eq(p.returncode, 2, "verify-proof against an untrusted certificate: exit 2")
    t.ok("certificate" in p.stderr.lower() or "ssl" in p.stderr.lower(),
         f"the error names the certificate problem ({p.stderr.strip()})")
    t.eq(node.stop(), 0, "serve exits 0")

    # A key file that is not a key: start-up stops with one line, exit 2.
    with open(key, "w") as f:
        f.write("not a key\n")
    p = node.serve_foreground()
    lines = [l for l in p.stderr.splitlines()
             if l.startswith("credanchor") and "serve:" in l and "listening" not in l]
    t.eq(p.returncode, 2, "bad TLS key: exit 2")
    t.ok(len(lines) >= 1, f"bad TLS key: a clear error line ({p.stderr[-300:]!r})")

t.finish()
