"""SmtpPeer: the test SMTP server (smtp_peer.py) as a fixture (Python 3 standard library only,
so any python3 may import it; the server itself always runs under /usr/bin/python3, where
Debian's python3-aiosmtpd lives).

    with SmtpPeer(work_dir) as smtp:          # or SmtpPeer(work_dir, ca=make_test_ca(d))
        node.env["..."] = smtp.url            # smtp://localhost:PORT, STARTTLS required
        ... trust smtp.ca (the CA that signed the "localhost" certificate) ...
        smtp.set_control({"rcpt_rules": [{"match": "@bad\\.example$", "code": 550}]})
        msgs = smtp.wait_for_messages(1, timeout=10)
        msgs[0].raw, msgs[0]["rcpt_tos"], msgs[0].email()["Subject"]

The control keys (auth, rcpt_rules, data_rules, greeting, delay_ms) are described in
smtp_peer.py. The server is not probed with a connection when it starts (that would use up a
"greeting" rule): readiness is the ready file it writes once it listens.
"""
import base64
import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ca_node  # noqa: E402

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtp_peer.py")
SERVER_PYTHON = "/usr/bin/python3"


class SmtpMessage(dict):
    """One recorded message: the JSON line as a dict, plus .raw (the message bytes) and
    attribute access to its members (.mail_from, .rcpt_tos, .message_id, .tls, .auth_user,
    .received_at)."""

    def __init__(self, record):
        super().__init__(record)
        self.raw = base64.b64decode(record.get("data_b64") or "")

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def email(self):
        """The message parsed (email.message.EmailMessage, policy.default)."""
        return email.message_from_bytes(self.raw, policy=email.policy.default)


class SmtpPeer:
    def __init__(self, work_dir, ca=None, control=None, host="127.0.0.1", verbose=False,
                 start_timeout=15):
        """ca: None (a new test CA and localhost certificate are made in work_dir/smtp) or the
        (ca.pem, server.key, server.pem) tuple make_test_ca returned. control: a dict written
        as the control file before the server starts (e.g. a greeting rule for the very first
        connection). verbose: the server logs every SMTP line to self.log_path."""
        self.dir = os.path.join(work_dir, "smtp")
        os.makedirs(self.dir, exist_ok=True)
        if ca is None:
            ca = ca_node.make_test_ca(self.dir, "credanchor SMTP test CA")
        self.ca, self.key, self.cert = ca
        self.out_path = os.path.join(self.dir, "messages.jsonl")
        self.control_path = os.path.join(self.dir, "control.json")
        self.ready_path = os.path.join(self.dir, "ready")
        self.log_path = os.path.join(self.dir, "smtp_peer.log")
        self.host = host
        self.port = None
        self.proc = None
        for p in (self.ready_path, self.out_path):
            if os.path.exists(p):
                os.unlink(p)
        self.set_control(control or {})
        cmd = [SERVER_PYTHON, SERVER, "--host", host, "--port", "0", "--cert", self.cert,
               "--key", self.key, "--out", self.out_path, "--control", self.control_path,
               "--ready-file", self.ready_path]
        if verbose:
            cmd.append("--verbose")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.time() + ca_node.scaled(start_timeout)
        while time.time() < deadline:
            if os.path.exists(self.ready_path):
                with open(self.ready_path) as f:
                    self.port = int(f.read().strip())
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise RuntimeError(f"smtp_peer did not start (exit {self.proc.returncode}): "
                               f"{self.log_tail()}")

    @property
    def url(self):
        return f"smtp://localhost:{self.port}"

    def set_control(self, control):
        """Replaces the control file atomically; the server reads it at its next command."""
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".control-")
        with os.fdopen(fd, "w") as f:
            json.dump(control, f)
        os.replace(tmp, self.control_path)

    def messages(self):
        """Every message accepted so far, in order (a last line without its newline, from a
        server killed mid-write, is left out)."""
        try:
            with open(self.out_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        return [SmtpMessage(json.loads(line)) for line in data.split(b"\n")[:-1] if line]

    def wait_for_messages(self, n, timeout=10):
        """The messages once there are at least n (within timeout seconds, scaled), else
        whatever there is."""
        deadline = time.time() + ca_node.scaled(timeout)
        while True:
            msgs = self.messages()
            if len(msgs) >= n or time.time() >= deadline:
                return msgs
            time.sleep(0.05)

    def log_tail(self, chars=2000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=ca_node.scaled(10))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
