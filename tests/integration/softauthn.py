"""A software WebAuthn authenticator for the API tests of issue #16 (tests/integration).

It answers the node's options the way a browser and a platform authenticator would, in the
JSON shape of WebAuthn L3 toJSON(): clientDataJSON, an attestationObject with fmt "none" and
authData built per L3 §6.1 / §6.5.1, and assertions signed over authData || SHA-256(cdj).
Keys are ES256 (P-256) or EdDSA (Ed25519), from python3-cryptography. CBOR is encoded by
hand (the CTAP2 canonical subset: ints, byte and text strings, maps).

Knobs for negative tests: origin, rp_id, flags, counter (set it to go backwards), and
tamper hooks on the produced fields.
"""
import base64
import hashlib
import json
import os
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    if n < 256:
        return bytes([major << 5 | 24, n])
    if n < 65536:
        return bytes([major << 5 | 25]) + struct.pack(">H", n)
    return bytes([major << 5 | 26]) + struct.pack(">I", n)


def cbor(v):
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return _head(3, len(b)) + b
    if isinstance(v, dict):
        return _head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(type(v))


class Authenticator:
    def __init__(self, origin, alg=-7):
        self.origin = origin
        self.alg = alg
        self.creds = {}  # credential id -> (private key, user handle, counter)

    def _cose(self, key):
        if self.alg == -8:
            raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
            return cbor({1: 1, 3: -8, -1: 6, -2: raw})
        n = key.public_key().public_numbers()
        return cbor({1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"),
                     -3: n.y.to_bytes(32, "big")})

    def _sign(self, key, data):
        if self.alg == -8:
            return key.sign(data)
        return key.sign(data, ec.ECDSA(hashes.SHA256()))

    def create(self, options, origin=None, rp_id=None, flags=0x45, challenge=None):
        pk = options["publicKey"]
        key = ed25519.Ed25519PrivateKey.generate() if self.alg == -8 else \
            ec.generate_private_key(ec.SECP256R1())
        cid = os.urandom(16)
        self.creds[cid] = [key, unb64u(pk["user"]["id"]), 0]
        cdj = json.dumps({"type": "webauthn.create",
                          "challenge": challenge or pk["challenge"],
                          "origin": origin or self.origin, "crossOrigin": False}).encode()
        rp = (rp_id or pk["rp"]["id"]).encode()
        auth = (hashlib.sha256(rp).digest() + bytes([flags]) + struct.pack(">I", 0) +
                bytes(16) + struct.pack(">H", len(cid)) + cid + self._cose(key))
        att = cbor({"fmt": "none", "attStmt": {}, "authData": auth})
        return {"id": b64u(cid), "rawId": b64u(cid), "type": "public-key",
                "response": {"clientDataJSON": b64u(cdj), "attestationObject": b64u(att)}}

    def get(self, options, cid=None, origin=None, rp_id=None, flags=0x05, counter=None,
            challenge=None, forge=False):
        pk = options["publicKey"]
        cid = cid or next(iter(self.creds))
        key, handle, count = self.creds[cid]
        count = count + 1 if counter is None else counter
        self.creds[cid][2] = count
        cdj = json.dumps({"type": "webauthn.get", "challenge": challenge or pk["challenge"],
                          "origin": origin or self.origin, "crossOrigin": False}).encode()
        rp = (rp_id or pk["rpId"]).encode()
        auth = hashlib.sha256(rp).digest() + bytes([flags]) + struct.pack(">I", count)
        sig = self._sign(key, auth + hashlib.sha256(cdj).digest())
        if forge:
            sig = self._sign(key, b"something else")
        return {"id": b64u(cid), "rawId": b64u(cid), "type": "public-key",
                "response": {"clientDataJSON": b64u(cdj), "authenticatorData": b64u(auth),
                             "signature": b64u(sig), "userHandle": b64u(handle)}}


class Session:
    """A person's signed-in session as an HTTP caller: ca_node's request() sends the cookie,
    and on a write the Origin and X-CSRF-Token that session-authenticated writes need."""

    def __init__(self, cookie, csrf, origin, user_id):
        self.cookie, self.csrf, self.origin, self.user_id = cookie, csrf, origin, user_id

    def auth_headers(self, method):
        h = {"Cookie": self.cookie}
        if method not in ("GET", "HEAD"):
            h.update({"Origin": self.origin, "X-CSRF-Token": self.csrf})
        return h


def enroll_person(node, origin, admin_token, email, roles):
    """Invites email with roles (admin token), enrolls a software passkey from the invite
    and returns the new person's Session. Raises on any refusal."""
    r = node.request("POST", "/v1/users", token=admin_token,
                     body={"email": email, "name": email.split("@")[0], "roles": roles})
    if r.status != 201:
        raise RuntimeError(f"invite {email}: {r.status} {r.body[:200]!r}")
    invited = json.loads(r.body)
    secret = invited["enrollUrl"].split("#", 1)[1]
    hdr = {"Origin": origin}
    r = node.request("POST", "/v1/auth/enroll/options", body={"invite": secret}, headers=hdr)
    options = json.loads(r.body)
    cred = Authenticator(origin).create(options)
    r = node.request("POST", "/v1/auth/enroll", headers=hdr, body={
        "ceremony": options["ceremony"], "invite": secret, "credential": cred})
    if r.status != 201:
        raise RuntimeError(f"enroll {email}: {r.status} {r.body[:200]!r}")
    cookie = (r.headers.get("set-cookie") or "").split(";")[0]
    return Session(cookie, json.loads(r.body)["csrf"], origin, invited["user"]["id"])
