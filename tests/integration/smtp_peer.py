#!/usr/bin/python3
"""A real SMTP server for the tests, on Debian's python3-aiosmtpd (run it with /usr/bin/python3:
a pyenv python3 on PATH usually lacks aiosmtpd; tests start it through smtp_fixture.SmtpPeer).

  smtp_peer.py --host 127.0.0.1 --port P --cert CERT --key KEY --out messages.jsonl
               [--control control.json] [--ready-file F] [--hostname NAME] [--verbose]

--port 0 picks a free port; once the socket listens, the bound port is written to the ready
file (write to F.tmp, then rename). STARTTLS is offered and required (TLS 1.2+, the given
certificate and key): any MAIL/RCPT/DATA/AUTH/HELO before it gets 530.

Every accepted message is appended to --out as one JSON line, flushed and fsynced before the
250 goes out, so a test can count delivered messages exactly:
  {"mail_from", "rcpt_tos": [...], "data_b64", "message_id", "tls", "auth_user", "received_at"}
A message is recorded only when the server is about to answer 250 to the end of DATA; a client
that goes away earlier (e.g. killed during delay_ms) leaves no record (stderr says so).

The control file (JSON, missing = {}) is re-read whenever it is consulted (at each connection,
EHLO, AUTH, MAIL, RCPT and end of DATA), so a test can change behaviour at run time by
replacing it atomically. A file that does not parse keeps the last good content the server
read in force (a warning on stderr each time).
  {"auth": {"user": "u", "password": "p"}}   AUTH PLAIN/LOGIN offered (after STARTTLS only)
                                             and required for MAIL/RCPT/DATA
  {"rcpt_rules": [{"match": "regex", "code": 550, "message": "...", "times": N}]}
        RCPT whose address matches (re.search) gets that code, the first N times it matches
        (times absent or null: always); match absent or null matches every address
  {"data_rules": [... same shape ...]}      the end of DATA gets that code when any recipient
        of the envelope matches; the message is then not recorded
  {"greeting": {"code": 421, "message": "...", "times": N}}
        the first N connections get that greeting and are closed
  {"delay_ms": D}                           sleep D ms before answering the end of DATA
Rules are checked in order; the first matching rule that still has times left answers. The
"times" counters live for the life of the process, keyed by the rule list, its index and its
match text (so rewriting the file with the same rules does not reset them; changing a rule's
match text does); the greeting has a single counter.
EHLO also offers SIZE (32 MiB), 8BITMIME and SMTPUTF8 (aiosmtpd's own checks of those stay on).
SIGTERM/SIGINT stop the server cleanly (exit 0).
"""
import argparse
import asyncio
import base64
import datetime
import email.parser
import email.policy
import json
import logging
import os
import re
import signal
import ssl
import sys

try:
    from aiosmtpd.smtp import SMTP, MISSING, AuthResult, TLSSetupException
except ImportError:  # pragma: no cover
    sys.stderr.write("smtp_peer: aiosmtpd is missing: run with /usr/bin/python3 after "
                     "installing python3-aiosmtpd (scripts/install-deps)\n")
    sys.exit(2)

log = logging.getLogger("smtp_peer")


class Control:
    """The control file, read again on every get(); keeps the last good content when the file
    does not parse, and the per-rule "times" counters."""

    def __init__(self, path):
        self.path = path
        self.last = {}
        self.used = {}  # (list name, index, match text) -> times applied

    def get(self):
        if not self.path:
            return {}
        try:
            with open(self.path, "rb") as f:
                data = json.loads(f.read() or b"{}")
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            self.last = data
        except FileNotFoundError:
            self.last = {}
        except (OSError, ValueError) as e:
            log.warning("control file %s unreadable (%s): keeping the last good one",
                        self.path, e)
        return self.last

    def _take(self, key, times):
        """True (and counts one use) if a rule with this key and times may apply now."""
        n = self.used.get(key, 0)
        if times is not None and n >= int(times):
            return False
        self.used[key] = n + 1
        return True

    def rule_for(self, name, addresses):
        """The first rule of control[name] that matches one of addresses and has times left,
        or None."""
        for i, rule in enumerate(self.get().get(name) or []):
            pattern = rule.get("match")
            if pattern is not None and not any(re.search(pattern, a) for a in addresses):
                continue
            if self._take((name, i, pattern), rule.get("times")):
                return rule
        return None

    def greeting(self):
        g = self.get().get("greeting")
        if not g:
            return None
        return g if self._take(("greeting", 0, None), g.get("times")) else None

    def auth(self):
        a = self.get().get("auth")
        return a if a and "user" in a else None


def reply(rule, default_text):
    code = int(rule.get("code", 550))
    text = rule.get("message") or default_text
    return f"{code} {text}"


DEFAULT_TEXT = {4: "4.3.0 temporary failure (test rule)", 5: "5.7.1 rejected (test rule)"}


class Recorder:
    """Appends one JSON line per accepted message, flushed and fsynced."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, record):
        line = (json.dumps(record, ensure_ascii=True) + "\n").encode()
        view = memoryview(line)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        os.fsync(self.fd)

    def close(self):
        os.close(self.fd)


def message_id(raw):
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        v = headers.get("Message-ID")
        return str(v).strip() if v is not None else None
    except Exception:  # a broken message is still recorded
        return None


class Handler:
    def __init__(self, control, recorder):
        self.control = control
        self.recorder = recorder

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not self.control.auth():
            responses = [r for r in responses if not r[4:].startswith("AUTH")]
        return responses

    async def handle_AUTH(self, server, session, envelope, args):
        if not self.control.auth():
            return "502 5.5.1 AUTH not offered"
        return MISSING  # the built-in PLAIN/LOGIN run, checked by authenticate()

    async def handle_exception(self, error):
        if isinstance(error, TLSSetupException):  # e.g. the client refused the certificate
            log.warning("TLS handshake failed: %s", error.__cause__ or error)
            return "421 4.7.0 TLS handshake failed"  # not sent: aiosmtpd closes the connection
        log.exception("SMTP session exception")
        return f"500 Error: ({error.__class__.__name__}) {error}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        rule = self.control.rule_for("rcpt_rules", [address])
        if rule:
            code = int(rule.get("code", 550))
            return reply(rule, DEFAULT_TEXT.get(code // 100, "rejected (test rule)"))
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        control = self.control.get()
        delay = control.get("delay_ms")
        if delay:
            try:
                await asyncio.sleep(float(delay) / 1000)
            except asyncio.CancelledError:
                log.warning("client %r went away during delay_ms: message from %s not "
                            "recorded", session.peer, envelope.mail_from)
                raise
        rule = self.control.rule_for("data_rules", list(envelope.rcpt_tos))
        if rule:
            code = int(rule.get("code", 554))
            return reply(rule, DEFAULT_TEXT.get(code // 100, "rejected (test rule)"))
        if server.transport is None or server.transport.is_closing():
            log.warning("client %r gone before the answer to DATA: not recorded", session.peer)
            return "451 4.3.0 connection lost"
        raw = envelope.original_content or b""
        login = getattr(session.auth_data, "login", None) if session.authenticated else None
        self.recorder.write({
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data_b64": base64.b64encode(raw).decode(),
            "message_id": message_id(raw),
            "tls": session.ssl is not None,
            "auth_user": login.decode("utf-8", "replace") if isinstance(login, bytes) else login,
            "received_at": datetime.datetime.now(datetime.timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        })
        return "250 2.0.0 OK queued"


class PeerSMTP(SMTP):
    """aiosmtpd's SMTP with the greeting injection and AUTH required only while the control
    file configures it."""

    def __init__(self, handler, control, **kw):
        self.control = control
        super().__init__(handler, authenticator=self.authenticate, **kw)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        cfg = self.control.auth()
        ok = bool(cfg) and auth_data.login == str(cfg.get("user", "")).encode() and \
            auth_data.password == str(cfg.get("password", "")).encode()
        return AuthResult(success=ok, handled=False,
                          auth_data=auth_data if ok else None)

    async def check_auth_needed(self, caller_method):
        if self.control.auth() and not self.session.authenticated:
            await self.push("530 5.7.0 Authentication required")
            return True
        return False

    async def _handle_client(self):
        # The hook for the greeting: aiosmtpd sends "220 ..." first thing in _handle_client.
        g = self.control.greeting()
        if g:
            code = int(g.get("code", 421))
            await self.push(f"{code} {g.get('message') or '4.3.2 service not available (test)'}")
            self.transport.close()
            return
        await super()._handle_client()


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


def write_ready(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


async def serve(args):
    loop = asyncio.get_running_loop()
    control = Control(args.control)
    recorder = Recorder(args.out)
    handler = Handler(control, recorder)
    ctx = tls_context(args.cert, args.key)

    def factory():
        return PeerSMTP(handler, control, hostname=args.hostname, tls_context=ctx,
                        require_starttls=True, auth_require_tls=True,
                        enable_SMTPUTF8=True, loop=loop)

    server = await loop.create_server(factory, host=args.host, port=args.port)
    port = server.sockets[0].getsockname()[1]
    log.info("listening on %s:%d", args.host, port)
    if args.ready_file:
        write_ready(args.ready_file, port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    recorder.close()
    log.info("stopped")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--control")
    p.add_argument("--ready-file")
    p.add_argument("--hostname", default="localhost", help="the name in the greeting and EHLO")
    p.add_argument("--verbose", action="store_true", help="log every SMTP line to stderr")
    args = p.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if args.verbose else
                        logging.WARNING, format="%(asctime)s smtp_peer %(message)s")
    # aiosmtpd logs each command at INFO on "mail.log"
    mail_log = logging.getLogger("mail.log")
    mail_log.setLevel(logging.INFO if args.verbose else logging.WARNING)
    # aiosmtpd 1.4 itself sets Session.login_data after every AUTH, and warns that it does
    mail_log.addFilter(lambda r: "login_data is deprecated" not in r.getMessage())
    log.setLevel(logging.INFO)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
