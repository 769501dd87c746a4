#!/usr/bin/env python3
"""Reads one RFC 5322 message on stdin and prints what a mail client would show, as JSON.

Used by the integration tests to check what the node sends (node/mail_message.c) with an
independent parser: Python's `email` package with policy=default, which decodes RFC 2047
encoded-words, RFC 2231 parameters and base64 bodies, and records every defect it finds.

Output (one JSON object):
  to, from                                "Display Name <addr>" or "addr", decoded, or null
  to_name, to_addr, from_name, from_addr  the parts of those ("" for no display name)
  subject, message_id, date               the decoded header values (str), or null
  event, auto_submitted                   X-Credanchor-Event, Auto-Submitted, or null
  text, html                              the text/plain and text/html bodies (CRLF -> LF), or null
  attachments                             [{name, content_type, size, sha256}]
  defects                                 the parser's defects, as strings (want: [])
  max_line                                the longest line in the raw message, CRLF excluded
  bare_lf                                 true when some LF is not preceded by CR

Display names are decoded from the raw header, not taken from the policy=default parser:
CPython (3.11) keeps the white space between adjacent encoded-words in a phrase, which RFC 2047
§6.2 says a reader must drop, so a long name split over several encoded-words would come back
with spaces in it. The raw header is unfolded, split at its last '<', and its phrase unquoted
(a quoted-string) or decoded with email.header.decode_header (which follows §6.2).

Exit status: 0 when parsed (check `defects` yourself), 2 when the input is not a message.
"""
import email
import email.policy
import hashlib
import json
import re
import sys
from email.header import decode_header, make_header


def collect_defects(msg):
    found = [f"{type(d).__name__}: {d}" for d in msg.defects]
    for part in msg.walk():
        if part is not msg:
            found += [f"{type(d).__name__}: {d}" for d in part.defects]
    # Header-level defects (a bad encoded-word, a non-ASCII byte) live on the header objects.
    for part in msg.walk():
        for name, value in part.items():
            for d in getattr(value, "defects", ()):
                found.append(f"{name}: {type(d).__name__}: {d}")
    return found


def body_text(msg, subtype):
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    return part.get_content().replace("\r\n", "\n")


def header(msg, name):
    value = msg.get(name)
    return None if value is None else str(value)


def mailbox(raw):
    """(display name, addr-spec) of one mailbox header as this project writes it, or None."""
    if raw is None:
        return None
    value = re.sub(r"\r?\n(?=[ \t])", "", str(raw)).strip()
    phrase, addr = "", value
    if value.endswith(">") and "<" in value:
        cut = value.rindex("<")
        phrase, addr = value[:cut].strip(), value[cut + 1:-1]
    if len(phrase) >= 2 and phrase[0] == phrase[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", phrase[1:-1])
    else:
        name = str(make_header(decode_header(phrase))) if phrase else ""
    return name, addr


def main():
    raw = sys.stdin.buffer.read()
    if not raw:
        print("mail_parse_check: empty input", file=sys.stderr)
        return 2
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    attachments = []
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True) or b""
        attachments.append({
            "name": part.get_filename(),
            "content_type": part.get_content_type(),
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        })
    lines = raw.split(b"\n")
    legacy = email.message_from_bytes(raw, policy=email.policy.compat32)
    out = {}
    for key, name in (("to", "To"), ("from", "From")):
        box = mailbox(legacy[name])
        out[key] = None if box is None else (f"{box[0]} <{box[1]}>" if box[0] else box[1])
        out[key + "_name"] = None if box is None else box[0]
        out[key + "_addr"] = None if box is None else box[1]
    out.update({
        "subject": header(msg, "Subject"),
        "message_id": header(msg, "Message-ID"),
        "date": header(msg, "Date"),
        "event": header(msg, "X-Credanchor-Event"),
        "auto_submitted": header(msg, "Auto-Submitted"),
        "text": body_text(msg, "plain"),
        "html": body_text(msg, "html"),
        "attachments": attachments,
        "defects": collect_defects(msg),
        "max_line": max(len(line.rstrip(b"\r")) for line in lines),
        "bare_lf": any(not line.endswith(b"\r") for line in lines[:-1]),
    })
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
