"""Shared helpers for the HTTP integration tests (Python 3 standard library only).

Node starts the real binary ($CREDANCHOR_BIN): `init` in a temp data dir, tokens created with
the CLI before `serve` (the data dir is single-writer-locked while serving), `serve` on a free
loopback port with CREDANCHOR_* environment overrides, and waits for /v1/health. Use it as a
context manager so the process is always killed. Checks collects pass/fail lines and ends with
"N passed, M failed". Anvil runs the pinned local EVM chain for the anchoring tests, and
eth_rpc talks plain JSON-RPC to it (harness-only calls such as anvil_setBalance are made from
tests, never by the node).
"""
import base64
import glob
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("CREDANCHOR_BIN", "credanchor")
SRC = os.environ.get("CA_SOURCE_DIR",
                     os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ANVIL = os.path.join(SRC, "tools", "node_modules", ".bin", "anvil")
# Harness waits are multiplied by this (scripts/valgrind-run sets it: every process runs tens
# of times slower under memcheck). The node's own timeouts are never changed.
TIME_FACTOR = float(os.environ.get("CA_TEST_TIME_FACTOR", "1"))


def scaled(seconds):
    """A harness wait, stretched by CA_TEST_TIME_FACTOR."""
    return seconds * TIME_FACTOR


def wait_for(fn, timeout, checks=None, what=None, interval=0.1):
    """Polls fn until it returns something true and returns that, for timeout seconds
    (scaled); on timeout returns None and, given checks and what, records a failure."""
    deadline = time.time() + scaled(timeout)
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(interval)
    if checks and what:
        checks.ok(False, f"timed out waiting for {what}")
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Checks:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {self.name}: {what}", flush=True)
        return cond

    def eq(self, got, want, what):
        return self.ok(got == want, f"{what}: got {got!r}, want {want!r}")

    def wait_for(self, fn, timeout, what=None, quiet=False):
        """wait_for (above) that records a timeout as a failure of these checks, unless
        quiet."""
        return wait_for(fn, timeout, None if quiet else self, what)

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed or not self.passed else 0)


def run_cli(*args, data_dir=None, env=None, check=True, stdin=None):
    cmd = [BIN] + list(args)
    if data_dir:
        cmd += ["--data-dir", data_dir]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, input=stdin,
                       timeout=scaled(120))
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body

    def json(self):
        return json.loads(self.body)

    @property
    def ctype(self):
        return self.headers.get("content-type", "")

    def is_problem(self, status=None):
        """An RFC 9457 problem with the expected members (and status when given)."""
        if not self.ctype.startswith("application/problem+json"):
            return False
        try:
            p = self.json()
        except ValueError:
            return False
        keys_ok = all(k in p for k in ("type", "title", "status", "detail"))
        return keys_ok and p["status"] == self.status and (status is None or
                                                           self.status == status)


class Node:
    def __init__(self, roles=(), env=None, keep_dir=None):
        self.tmp = keep_dir or tempfile.mkdtemp(prefix="ca-http-")
        self.owns_dir = keep_dir is None
        self.data_dir = os.path.join(self.tmp, "data")
        self.port = None
        self.proc = None
        self.log_path = os.path.join(self.tmp, "serve.log")
        self.env = dict(os.environ)
        self.env.update({
            "CREDANCHOR_ANCHOR_RPC_URL": "",
            "CREDANCHOR_NODE_PUBLIC_URL": "http://localhost:8080",
            "CREDANCHOR_NODE_RATE_LIMIT_PER_IP": "0",
        })
        self.env.update(env or {})
        self.tokens = {}
        if not os.path.exists(self.data_dir):
            out = run_cli("init", "--json", data_dir=self.data_dir, env=self.env).stdout
            self.init = json.loads(out)
        for r in roles:
            self.tokens[r] = self.create_token(r)

    def create_token(self, role, *extra):
        return run_cli("token", "create", "--role", role, *extra, data_dir=self.data_dir,
                       env=self.env).stdout.strip()

    def start(self, wait=True, port=None):
        """Starts `serve` in the background on port (a free one when None: pass a port
        chosen beforehand when the config, e.g. public_url, must name it)."""
        self.port = port or free_port()
        self.env["CREDANCHOR_NODE_LISTEN"] = f"127.0.0.1:{self.port}"
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "serve", "--data-dir", self.data_dir],
                                     env=self.env, stdout=self.log, stderr=self.log)
        if wait:
            self.wait_healthy()
        return self

    def serve_foreground(self, timeout=30):
        """Runs `serve` with the node's environment and waits for it to exit, for a start-up
        that must fail; returns the subprocess.CompletedProcess (text stdout and stderr)."""
        return subprocess.run([BIN, "serve", "--data-dir", self.data_dir], env=self.env,
                              capture_output=True, text=True, errors="replace",
                              timeout=scaled(timeout))

    def wait_healthy(self, timeout=30):
        deadline = time.time() + scaled(timeout)
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited {self.proc.returncode}:\n{self.log_text()}")
            try:
                if self.get("/v1/health").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("serve did not become healthy:\n" + self.log_text())

    def log_text(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def conn(self, timeout=30):
        timeout = scaled(timeout)
        if getattr(self, "tls", None):  # an ssl.SSLContext: speak HTTPS to "localhost"
            return http.client.HTTPSConnection("localhost", self.port, timeout=timeout,
                                               context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None, token=None):
        own = conn is None
        c = conn or self.conn()
        h = dict(headers or {})
        if hasattr(token, "auth_headers"):  # a person's session (softauthn.Session)
            h.update(token.auth_headers(method))
        elif token:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            if own:
                c.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def append(self, digests, token=None, conn=None):
        return self.request("POST", "/v1/log/entries", body={"digests": digests},
                            token=token or self.tokens.get("issuer"), conn=conn)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=scaled(timeout))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        return rc

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # SIGTERM first, so the node shuts down as in production (and under valgrind leaves
        # its leak report); SIGKILL only if it does not stop in time.
        self.stop()
        if self.owns_dir and not os.environ.get("KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False


# ---- RFC 9162 maths (§2.1) ------------------------------------------------------------------

def leaf_hash(digest_hex):
    return hashlib.sha256(b"\x00" + bytes.fromhex(digest_hex)).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index, size, leaf, path):
    """RFC 9162 §2.1.3.2: the root an inclusion path leads to, or None when it is malformed."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_consistency(m, n, root_m, root_n, proof):
    """RFC 9162 §2.1.4.2."""
    if m == n:
        return not proof and root_m == root_n
    if m == 0 or m > n or not proof:
        return False
    if m & (m - 1) == 0:  # a power of two: the first node is root_m itself
        proof = [root_m] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root_m and sr == root_n and sn == 0


def merkle_root(digests_hex):
    """The RFC 9162 root of a list of digests (recursive definition)."""
    leaves = [leaf_hash(d) for d in digests_hex]

    def mth(v):
        if not v:
            return hashlib.sha256(b"").digest()
        if len(v) == 1:
            return v[0]
        k = 1
        while k * 2 < len(v):
            k *= 2
        return node_hash(mth(v[:k]), mth(v[k:]))
    return mth(leaves)


def parse_checkpoint(text):
    """C2SP tlog-checkpoint: returns (origin, size, root bytes, [(name, sigbytes)]) or raises."""
    body, sep, sigs = text.partition("\n\n")
    if not sep:
        raise ValueError("no blank line")
    lines = body.split("\n")
    if len(lines) != 3:
        raise ValueError(f"want origin, size, root; got {len(lines)} lines")
    origin, size, root_b64 = lines
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise ValueError("bad size line")
    root = base64.b64decode(root_b64, validate=True)
    if len(root) != 32:
        raise ValueError("root is not 32 bytes")
    if not sigs.endswith("\n"):
        raise ValueError("signature lines must end in a newline")
    out = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise ValueError(f"bad signature line {line!r}")
        name, _, sig = line[2:].rpartition(" ")
        out.append((name, base64.b64decode(sig, validate=True)))
    return origin, int(size), root, out


def parse_verifier_key(vkey):
    name, key_id, b64 = vkey.split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    return name, bytes.fromhex(key_id), raw


def key_id(name, raw_key):
    """C2SP signed-note key id: SHA-256(name || 0x0A || 0x01 || pubkey)[:4]; raw_key includes
    the 0x01 type byte."""
    return hashlib.sha256(name.encode() + b"\n" + raw_key).digest()[:4]


# ---- credentials ---------------------------------------------------------------------------

def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(jwt):
    """(header, payload) of a compact JWS, decoded."""
    h, p, _ = jwt.split(".")
    return json.loads(b64u_dec(h)), json.loads(b64u_dec(p))


def mdb_bytes(data_dir):
    """The raw bytes of every LMDB file under a data dir."""
    data = b""
    for p in glob.glob(os.path.join(data_dir, "**", "data.mdb"), recursive=True):
        with open(p, "rb") as f:
            data += f.read()
    return data


JWT_RE = re.compile(rb"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def stored_jwts(data_dir):
    """Every compact JWT stored in a data dir's LMDB file, by its SHA-256 hex (the signed
    bytes of bulk-issued credentials, which no route returns)."""
    out = {}
    for m in JWT_RE.finditer(mdb_bytes(data_dir)):
        h, p, sig = m.group(0).split(b".")
        for cut in (len(sig), 86, 342):  # stored bytes may run on into the next value
            j = h + b"." + p + b"." + sig[:cut]
            out[hashlib.sha256(j).hexdigest()] = j.decode()
    return out


def random_digests(n):
    return [os.urandom(32).hex() for _ in range(n)]


def eth_rpc(url, method, params, timeout=10):
    """One JSON-RPC call; raises RuntimeError on a JSON-RPC error."""
    import urllib.request
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        ans = json.loads(r.read())
    if "error" in ans:
        raise RuntimeError(f"{method}: {ans['error']}")
    return ans["result"]


class Anvil:
    """The pinned anvil (tools/, installed by scripts/npm-tools when missing) on 127.0.0.1, a
    free port unless given, chain id 31337, optionally with --state FILE. start() waits until it
    answers; stop() is SIGTERM (anvil then dumps its state) and may be followed by start() on
    the same port. As a context manager it is always stopped."""

    def __init__(self, port=None, state=None, chain_id=31337):
        if not os.access(ANVIL, os.X_OK):
            subprocess.run([os.path.join(SRC, "scripts", "npm-tools")], check=True,
                           stdout=subprocess.DEVNULL)
        self.port = port or free_port()
        self.state, self.chain_id, self.proc = state, chain_id, None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self):
        args = [ANVIL, "--host", "127.0.0.1", "--port", str(self.port), "--chain-id",
                str(self.chain_id), "--silent"]
        if self.state:
            args += ["--state", self.state]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while True:
            try:
                eth_rpc(self.url, "eth_chainId", [])
                return self
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("anvil did not start")
                time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def make_test_ca(d, name="credanchor test CA"):
    """A throwaway P-256 CA and a server certificate for "localhost" signed by it, in d.
    Returns (ca.pem, server.key, server.pem): the node trusts ca.pem via did.web_ca_file."""
    def sh(*cmd):
        subprocess.run(cmd, check=True, capture_output=True)
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-days", "2", "-subj", "/CN=" + name, "-keyout", ca_key,
       "-out", ca, "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    key, csr, crt = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.pem"))
    sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", csr)
    ext = os.path.join(d, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    sh("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
       "-days", "2", "-extfile", ext, "-out", crt)
    return ca, key, crt


NGINX_EXAMPLE = os.path.join(SRC, "docs", "nginx-reverse-proxy.conf")


class NginxFront:
    """The node behind nginx as docs/nginx-reverse-proxy.conf deploys it: that file's http{}
    part, rendered with test values only (upstream = the node's port, `listen` on a loopback
    port with TLS from the test CA of make_test_ca, server_name localhost, logs and temp dirs
    in the work dir, no port-80 redirect server), so every proxy setting (raw URI pass-through,
    keep-alive, problem+json error pages, limits) is the documented one. With base_path
    ("/base") the server block's locations move under it, as a deployment that mounts the
    node on a path would (the raw URI still goes through unchanged).

    Use: front = NginxFront(tmp); node public_url = front.public_url; start the node; then
    front.start(node.port). As a context manager nginx is always stopped. front.ca is the CA
    to trust (did.web_ca_file, NODE_EXTRA_CA_CERTS); front.tls an ssl.SSLContext for it."""

    def __init__(self, work_dir, base_path=""):
        import ssl
        self.dir = os.path.join(work_dir, "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.ca, self.key, self.cert = make_test_ca(self.dir, "credanchor production-shape CA")
        self.port = free_port()
        self.base_path = base_path
        self.public_url = f"https://localhost:{self.port}{base_path}"
        self.proc = None
        self.tls = ssl.create_default_context(cafile=self.ca)

    def render(self, upstream_port):
        """The example config with test values (raises if the example's shape changed, so the
        test never silently runs another config than the documented one)."""
        import re
        with open(NGINX_EXAMPLE) as f:
            text = f.read()

        def sub(pattern, repl, count=1):
            nonlocal text
            text, n = re.subn(pattern, repl, text, count=count, flags=re.M)
            if n != count:
                raise RuntimeError(f"{NGINX_EXAMPLE}: expected {count} of {pattern!r}")

        d = self.dir
        sub(r"^\s*server 127\.0\.0\.1:8080;", f"    server 127.0.0.1:{upstream_port};")
        # The plain-HTTP redirect server: no port 80 in a test.
        text, n = re.subn(r"^server \{\n(?:    [^\n]*\n|\n)*?    return 301 [^\n]*\n\}\n", "",
                          text, count=1, flags=re.M)
        if n != 1:
            raise RuntimeError(f"{NGINX_EXAMPLE}: the port-80 redirect server is gone")
        sub(r"^\s*listen 443 ssl http2;", f"    listen 127.0.0.1:{self.port} ssl http2;")
        sub(r"^\s*listen \[::\]:443 ssl http2;\n", "")
        sub(r"server_name issuer\.example\.org;", "server_name localhost;")
        sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {self.cert};")
        sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {self.key};")
        sub(r"access_log \S+;", f"access_log {d}/access.log;")
        sub(r"error_log \S+ warn;", f"error_log {d}/error.log warn;")
        if self.base_path:
            b = self.base_path
            sub(r"location = /v1/credentials/batch \{", f"location = {b}/v1/credentials/batch {{")
            sub(r"location = /metrics \{", f"location = {b}/metrics {{")
            sub(r"location / \{", f"location {b}/ {{")
        for t in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(d, "temp", t), exist_ok=True)
        return f"""daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {d}/temp/body;
    proxy_temp_path {d}/temp/proxy;
    fastcgi_temp_path {d}/temp/fastcgi;
    uwsgi_temp_path {d}/temp/uwsgi;
    scgi_temp_path {d}/temp/scgi;
    default_type application/octet-stream;
{text}
}}
"""

    def start(self, upstream_port):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(self.render(upstream_port))
        self.proc = subprocess.Popen([nginx, "-p", self.dir, "-c", conf, "-e",
                                      os.path.join(self.dir, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + scaled(10)
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.proc.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start listening")

    def request(self, method, path, body=None, headers=None, token=None):
        """One HTTPS request to the front (path under public_url), verified against the CA."""
        c = http.client.HTTPSConnection("localhost", self.port, timeout=scaled(30),
                                        context=self.tls)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        try:
            c.request(method, self.base_path + path, body=body, headers=h)
            r = c.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            c.close()

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
                return "".join(f.readlines()[-15:])
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def run_browser_peer(checks, peer, work, plan, *, timeout, node=None, artefacts=None):
    """Runs a browser peer (tests/interop/*_peer.mjs, on tests/interop/console_lib.mjs) with
    plan as CA_PLAN and returns {step: observations} from its JSON lines. Checks that it
    exited 0 (what it printed before a timeout is still judged) and that no step reported an
    error (with the node's log tail when one did); prints each step's time; keeps what the
    browser saw in <artefacts>/peer.json for a failure's post-mortem."""
    interop = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "interop")
    path = os.path.join(work, "plan.json")
    with open(path, "w") as f:
        json.dump(plan, f)
    env = dict(os.environ, CA_PLAN=path, NODE_PATH=os.path.join(interop, "node_modules"))
    try:
        p = subprocess.run(["node", peer], capture_output=True, text=True, env=env,
                           timeout=scaled(timeout), cwd=interop)
    except subprocess.TimeoutExpired as e:
        p = subprocess.CompletedProcess(e.cmd, -9, (e.stdout or b"").decode(errors="replace"),
                                        (e.stderr or b"").decode(errors="replace") + " (timed out)")
    out = {}
    for line in p.stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        out[o["step"]] = o
    checks.eq(p.returncode, 0, f"the browser peer ran: {p.stderr[-2000:]}")
    for name, o in out.items():
        log = node.log_text()[-1500:] if node and "error" in o else ""
        checks.ok("error" not in o, f"step {name!r} ran ({o.get('error', '')[:1500]})\nnode log: {log}")
        views = {lang: v.get("ms") for lang, v in (o.get("views") or {}).items()}
        print(f"{checks.name}: step {name}: {o.get('ms', 0) / 1000:.1f} s {views or ''}", flush=True)
    if artefacts:
        with open(os.path.join(artefacts, "peer.json"), "w") as f:
            json.dump(out, f, indent=1, ensure_ascii=False)
    return out
