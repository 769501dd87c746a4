#!/usr/bin/env python3
"""Test vectors for node/webauthn.c (tests/unit/test_webauthn.c, tests/fuzz/fuzz_webauthn.c).

Writes tests/vectors/webauthn/vectors.h (C arrays and case tables) and the seed corpus
tests/fuzz/corpus/webauthn/. Run from anywhere; the output is byte-for-byte reproducible
(fixed keys, deterministic signatures), so a re-run must leave `git diff` empty:

    python3 tests/vectors/webauthn/make_vectors.py

Needs only python3-cryptography (no CBOR library: the CBOR is encoded by hand below, in the
CTAP2 canonical form authenticators use).

What is in it:
  * Three authenticators, one per algorithm the verifier accepts: a P-256 key (ES256, -7), an
    Ed25519 key (EdDSA, -8) and an RSA-2048 key (RS256, -257). The keys are derived from fixed
    seeds: the P-256 scalar and the Ed25519 seed are SHA-256 of a label, the RSA primes come
    from a seeded search (Miller-Rabin). ES256 signatures are RFC 6979 deterministic, Ed25519
    and RSASSA-PKCS1-v1_5 ones are deterministic by construction.
  * For each, a registration ceremony (clientDataJSON of type "webauthn.create" and an
    attestationObject with fmt "none", attStmt {} and authData built byte by byte per
    WebAuthn L3 §6.1 (rpIdHash, flags, signCount) and §6.5.1 (aaguid, credentialIdLength,
    credentialId, credentialPublicKey as a COSE_Key, RFC 9052/9053)) and an assertion
    ceremony (clientDataJSON "webauthn.get", authData without attested credential data, and
    the signature over authData || SHA-256(clientDataJSON), §6.3.3 / §7.2).
  * Registration and assertion cases that must fail, each with the ca_err code and a piece
    of the message the verifier must give (fmt "packed", flags, trailing bytes, a point off
    the curve, a short RSA modulus, duplicate COSE labels, indefinite lengths, ...).
  * Published ceremonies from py_webauthn's test suite (duo-labs/py_webauthn, commit
    00e5dc886b1ad6246134bbcf7950b8f93641eec9, tests/test_verify_registration_response.py
    test_verifies_none_attestation_response and tests/test_verify_authentication_response.py
    test_verify_authentication_response_with_{EC2,RSA,OKP}_public_key), recorded from real
    authenticators, copied here as data with their expected results.
"""

import base64
import hashlib
import os
import random
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
HEADER = os.path.join(HERE, "vectors.h")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus", "webauthn")

ORIGIN = "https://issuer.example"
RP_ID = "issuer.example"
REG_CHALLENGE = hashlib.sha256(b"credanchor webauthn registration challenge").digest()
ASN_CHALLENGE = hashlib.sha256(b"credanchor webauthn assertion challenge").digest()
# Google Password Manager's AAGUID, as an example of a non-zero one.
AAGUID = bytes.fromhex("ea9b8d664d011d213ce4b6b48cb575d4")

UP, UV, BE, BS, AT, ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80


def sha256(b):
    return hashlib.sha256(b).digest()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# ---- CBOR (RFC 8949), by hand ----

def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError(n)


def cbor_int(v):
    return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)


def cbor_bytes(b):
    return cbor_head(2, len(b)) + b


def cbor_text(s):
    b = s.encode()
    return cbor_head(3, len(b)) + b


def cbor_map(pairs):
    """pairs: (encoded key, encoded value), kept in the given order (CTAP2 canonical when the
    caller lists them so)."""
    return cbor_head(5, len(pairs)) + b"".join(k + v for k, v in pairs)


def cose_ec2(x, y, alg=-7, crv=1):
    return cbor_map([(cbor_int(1), cbor_int(2)), (cbor_int(3), cbor_int(alg)),
                     (cbor_int(-1), cbor_int(crv)), (cbor_int(-2), cbor_bytes(x)),
                     (cbor_int(-3), cbor_bytes(y))])


def cose_okp(x, alg=-8, crv=6):
    return cbor_map([(cbor_int(1), cbor_int(1)), (cbor_int(3), cbor_int(alg)),
                     (cbor_int(-1), cbor_int(crv)), (cbor_int(-2), cbor_bytes(x))])


def cose_rsa(n, e):
    return cbor_map([(cbor_int(1), cbor_int(3)), (cbor_int(3), cbor_int(-257)),
                     (cbor_int(-1), cbor_bytes(n)), (cbor_int(-2), cbor_bytes(e))])


def att_object(auth_data, fmt="none", att_stmt=None):
    """The attestationObject (§6.5.4): {"fmt", "attStmt", "authData"} in canonical order."""
    if att_stmt is None:
        att_stmt = cbor_map([])
    return cbor_map([(cbor_text("fmt"), cbor_text(fmt)), (cbor_text("attStmt"), att_stmt),
                     (cbor_text("authData"), cbor_bytes(auth_data))])


# ---- authenticator data (§6.1, §6.5.1) ----

def auth_data(flags, count, rp_id=RP_ID, cred=None, extensions=b""):
    """rpIdHash(32) || flags(1) || signCount(4, big-endian) || [attestedCredentialData] ||
    [extensions]. cred: (aaguid, credential id, COSE_Key bytes) or None."""
    out = sha256(rp_id.encode()) + bytes([flags]) + count.to_bytes(4, "big")
    if cred is not None:
        aaguid, cred_id, cose_key = cred
        out += aaguid + len(cred_id).to_bytes(2, "big") + cred_id + cose_key
    return out + extensions


def client_data(typ, challenge, origin=ORIGIN, extra=""):
    """clientDataJSON as Chromium serialises it (§5.8.1.1)."""
    return ('{"type":"%s","challenge":"%s","origin":"%s","crossOrigin":false%s}'
            % (typ, b64url(challenge), origin, extra)).encode()


# ---- keys ----

def is_probable_prime(n, rng):
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(40):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def rsa_key(bits, label):
    """An RSA key from a seeded prime search: the same key on every run."""
    rng = random.Random(label)
    e = 65537

    def prime():
        while True:
            c = rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1
            while not (is_probable_prime(c, rng) and (c - 1) % e != 0):
                c += 2
            return c

    p = prime()
    q = prime()
    n = p * q
    assert n.bit_length() == bits
    d = pow(e, -1, (p - 1) * (q - 1))
    nums = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                 rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(e, n))
    return nums.private_key()


def p256_key(label):
    return ec.derive_private_key(int.from_bytes(sha256(label), "big") % (2**255), ec.SECP256R1())


def p256_cose(key):
    nums = key.public_key().public_numbers()
    return cose_ec2(nums.x.to_bytes(32, "big"), nums.y.to_bytes(32, "big"))


def rsa_cose(key):
    nums = key.public_key().public_numbers()
    return cose_rsa(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big"),
                    nums.e.to_bytes(3, "big"))


def sign(alg, key, msg):
    if alg == -7:
        return key.sign(msg, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    if alg == -8:
        return key.sign(msg)
    return key.sign(msg, padding.PKCS1v15(), hashes.SHA256())


P256 = p256_key(b"credanchor webauthn es256 authenticator")
P256_OTHER = p256_key(b"credanchor webauthn another authenticator")
ED_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(sha256(b"credanchor webauthn eddsa authenticator"))
RSA = rsa_key(2048, "credanchor webauthn rs256 authenticator")
RSA_OTHER = rsa_key(2048, "credanchor webauthn another rs256 authenticator")
RSA_SHORT = rsa_key(1024, "credanchor webauthn short rsa")
ED_OTHER = ed25519.Ed25519PrivateKey.from_private_bytes(sha256(b"credanchor webauthn another eddsa"))

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402

ED_COSE = cose_okp(ED_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

AUTHENTICATORS = [
    # name, alg, key, COSE_Key, credential id, registration count, assertion count
    ("es256", -7, P256, p256_cose(P256), sha256(b"es256 credential id"), 4, 5),
    # counters that stay 0: authenticators without a counter (the 0/0 case of §7.2 step 22)
    ("eddsa", -8, ED_KEY, ED_COSE, sha256(b"eddsa credential id")[:16], 0, 0),
    ("rs256", -257, RSA, rsa_cose(RSA), sha256(b"rs256 id 1") + sha256(b"rs256 id 2"), 0, 1),
]


def assertion(alg, key, flags, count, challenge=ASN_CHALLENGE, other_key=None, cdj=None):
    cdj = cdj if cdj is not None else client_data("webauthn.get", challenge)
    ad = auth_data(flags, count)
    sig = sign(alg, other_key or key, ad + sha256(cdj))
    return cdj, ad, sig


# ---- C output ----

class Out:
    def __init__(self):
        self.arrays = []
        self.names = {}

    def arr(self, name, data, comment=None):
        """Declares a static array once per distinct content; returns a WA_BUF(...) term."""
        if not data:
            return "{NULL, 0}"
        if data in self.names:
            return "WA_BUF(%s)" % self.names[data]
        self.names[data] = name
        lines = []
        if comment:
            lines.append("/* %s */" % comment.replace("*/", "* /"))
        lines.append("static const uint8_t %s[%d] = {" % (name, len(data)))
        for i in range(0, len(data), 12):
            lines.append("    " + " ".join("0x%02x," % b for b in data[i:i + 12]))
        lines.append("};")
        self.arrays.append("\n".join(lines))
        return "WA_BUF(%s)" % name


def c_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def reg_cases(out, fuzz_seeds):
    es_name, _, es_key, es_cose, es_id, es_count, _ = AUTHENTICATORS[0]
    es_cred = (AAGUID, es_id, es_cose)
    reg_cdj = client_data("webauthn.create", REG_CHALLENGE)
    flags = UP | UV | AT
    cases = []

    def case(desc, ao, want="CA_OK", msg="", cdj=reg_cdj, require_uv=False, alg=None,
             cred_id=None, cose=None, count=0, fl=0, aaguid=AAGUID, expect=None):
        i = len(cases)
        ch, origin, rp = expect or (REG_CHALLENGE, ORIGIN, RP_ID)
        cases.append((desc, out.arr("wa_reg_%d_challenge" % i, ch),
                      c_str(origin), c_str(rp), require_uv,
                      out.arr("wa_reg_%d_cdj" % i, cdj, cdj.decode(errors="replace")),
                      out.arr("wa_reg_%d_ao" % i, ao), want, c_str(msg),
                      alg or 0, out.arr("wa_reg_%d_cred_id" % i, cred_id or b""),
                      out.arr("wa_reg_%d_cose_key" % i, cose or b""), count, fl,
                      out.arr("wa_reg_%d_aaguid" % i, aaguid)))
        return ao

    for name, alg, key, cose, cred_id, count, _ in AUTHENTICATORS:
        ao = case("valid %s registration" % name,
                  att_object(auth_data(flags, count, cred=(AAGUID, cred_id, cose))),
                  alg=alg, cred_id=cred_id, cose=cose, count=count, fl=flags)
        fuzz_seeds.append(("reg-%s" % name, bytes([0]) + len(reg_cdj).to_bytes(2, "big") +
                           reg_cdj + ao))
        fuzz_seeds.append(("key-%s" % name, bytes([2]) + cose))

    ext = cbor_map([(cbor_text("credProtect"), cbor_int(2))])
    case("valid: extensions after the credential (ED flag)",
         att_object(auth_data(flags | ED, es_count, cred=es_cred, extensions=ext)),
         alg=-7, cred_id=es_id, cose=es_cose, count=es_count, fl=flags | ED)
    case("valid: backup eligible and backed up (BE, BS)",
         att_object(auth_data(flags | BE | BS, es_count, cred=es_cred)),
         alg=-7, cred_id=es_id, cose=es_cose, count=es_count, fl=flags | BE | BS)
    long_id = bytes(range(256)) * 3 + bytes(range(255))
    assert len(long_id) == 1023
    case("valid: a 1023-byte credential id (the maximum)",
         att_object(auth_data(flags, es_count, cred=(AAGUID, long_id, es_cose))),
         alg=-7, cred_id=long_id, cose=es_cose, count=es_count, fl=flags)
    case("valid: UV absent when it is not required",
         att_object(auth_data(UP | AT, es_count, cred=es_cred)),
         alg=-7, cred_id=es_id, cose=es_cose, count=es_count, fl=UP | AT)

    def bad(desc, ao, want, msg, **kw):
        case(desc, ao, want, msg, **kw)

    ad_ok = auth_data(flags, es_count, cred=es_cred)
    packed_sig = sign(-7, es_key, ad_ok + sha256(reg_cdj))
    bad('fmt "packed" (self attestation) is not accepted',
        att_object(ad_ok, "packed", cbor_map([(cbor_text("alg"), cbor_int(-7)),
                                                (cbor_text("sig"), cbor_bytes(packed_sig))])),
        "CA_ERR_INVALID", 'only "none"')
    bad('fmt "none" with a non-empty attStmt',
        att_object(ad_ok, att_stmt=cbor_map([(cbor_text("x"), cbor_int(1))])),
        "CA_ERR_INVALID", "attStmt")
    bad("UP flag missing", att_object(auth_data(UV | AT, es_count, cred=es_cred)),
        "CA_ERR_VERIFY", "user presence")
    bad("UV required but absent", att_object(auth_data(UP | AT, es_count, cred=es_cred)),
        "CA_ERR_VERIFY", "user verification", require_uv=True)
    bad("AT flag missing (no credential)", att_object(auth_data(UP | UV, es_count)),
        "CA_ERR_VERIFY", "attested credential data")
    bad("BS set without BE", att_object(auth_data(flags | BS, es_count, cred=es_cred)),
        "CA_ERR_VERIFY", "backup")
    bad("trailing garbage after the COSE key",
        att_object(ad_ok + b"\x00"), "CA_ERR_INVALID", "trailing")
    bad("ED flag set but no extensions",
        att_object(auth_data(flags | ED, es_count, cred=es_cred)), "CA_ERR_INVALID",
        "extensions")
    bad("extensions that are not a map",
        att_object(auth_data(flags | ED, es_count, cred=es_cred, extensions=cbor_int(1))),
        "CA_ERR_INVALID", "extensions")
    bad("rpIdHash of another RP ID",
        att_object(auth_data(flags, es_count, rp_id="evil.example", cred=es_cred)),
        "CA_ERR_VERIFY", "rpIdHash")
    nums = es_key.public_key().public_numbers()
    p = 2**256 - 2**224 + 2**192 + 2**96 - 1
    off_y = ((nums.y + 1) % p).to_bytes(32, "big")
    bad("EC point not on P-256",
        att_object(auth_data(flags, es_count, cred=(AAGUID, es_id,
                                                     cose_ec2(nums.x.to_bytes(32, "big"), off_y)))),
        "CA_ERR_INVALID", "curve")
    x32 = nums.x.to_bytes(32, "big")
    y32 = nums.y.to_bytes(32, "big")
    bad("EC2 key on P-384 (crv 2)",
        att_object(auth_data(flags, es_count, cred=(AAGUID, es_id, cose_ec2(x32, y32, crv=2)))),
        "CA_ERR_INVALID", "P-256")
    bad("EC2 key with a 31-byte x",
        att_object(auth_data(flags, es_count, cred=(AAGUID, es_id, cose_ec2(x32[1:], y32)))),
        "CA_ERR_INVALID", "32 bytes")
    bad("EC2 key that claims alg -8",
        att_object(auth_data(flags, es_count, cred=(AAGUID, es_id, cose_ec2(x32, y32, alg=-8)))),
        "CA_ERR_INVALID", "unsupported")
    bad("OKP key on X25519 (crv 4)",
        att_object(auth_data(flags, es_count, cred=(AAGUID, es_id,
                                                     cose_okp(ED_COSE[-32:], crv=4)))),
        "CA_ERR_INVALID", "Ed25519")
    short = RSA_SHORT.public_key().public_numbers()
    bad("RSA-1024 key",
        att_object(auth_data(flags, es_count, cred=(AAGUID, es_id, cose_rsa(
            short.n.to_bytes(128, "big"), b"\x01\x00\x01")))),
        "CA_ERR_INVALID", "2048")
    dup = cbor_map([(cbor_int(1), cbor_int(2)), (cbor_int(3), cbor_int(-7)),
                    (cbor_int(-1), cbor_int(1)), (cbor_int(-2), cbor_bytes(x32)),
                    (cbor_int(-3), cbor_bytes(y32)), (cbor_int(1), cbor_int(2))])
    bad("COSE key with a duplicate label",
        att_object(auth_data(flags, es_count, cred=(AAGUID, es_id, dup))),
        "CA_ERR_INVALID", "duplicate")
    bad("credential id of 1024 bytes",
        att_object(auth_data(flags, es_count, cred=(AAGUID, long_id + b"\x00", es_cose))),
        "CA_ERR_INVALID", "1023")
    bad("credential id of 0 bytes",
        att_object(auth_data(flags, es_count, cred=(AAGUID, b"", es_cose))),
        "CA_ERR_INVALID", "credential id")
    indef = (b"\xbf" + cbor_text("fmt") + cbor_text("none") + cbor_text("attStmt") +
             cbor_map([]) + cbor_text("authData") + cbor_bytes(ad_ok) + b"\xff")
    bad("indefinite-length attestationObject map", indef, "CA_ERR_INVALID", "indefinite")
    bad("attestationObject with a trailing byte", att_object(ad_ok) + b"\x00",
        "CA_ERR_INVALID", "trailing")
    bad("attestationObject that is an array",
        cbor_head(4, 3) + cbor_text("none") + cbor_map([]) + cbor_bytes(ad_ok),
        "CA_ERR_INVALID", "map")
    bad("attestationObject without authData",
        cbor_map([(cbor_text("fmt"), cbor_text("none")), (cbor_text("attStmt"), cbor_map([]))]),
        "CA_ERR_INVALID", "authData")
    bad("attestationObject with fmt twice",
        cbor_map([(cbor_text("fmt"), cbor_text("none")), (cbor_text("fmt"), cbor_text("none")),
                  (cbor_text("attStmt"), cbor_map([])), (cbor_text("authData"), cbor_bytes(ad_ok))]),
        "CA_ERR_INVALID", "duplicate")
    bad("authData shorter than 37 bytes", att_object(ad_ok[:36]), "CA_ERR_INVALID", "37")
    bad("COSE key cut short", att_object(ad_ok[:-1]), "CA_ERR_INVALID", "COSE")
    bad('clientDataJSON of type "webauthn.get"', att_object(ad_ok), "CA_ERR_VERIFY", "type",
        cdj=client_data("webauthn.get", REG_CHALLENGE))
    bad("clientDataJSON with crossOrigin true", att_object(ad_ok), "CA_ERR_VERIFY",
        "crossOrigin", cdj=reg_cdj.replace(b'"crossOrigin":false', b'"crossOrigin":true'))
    bad("clientDataJSON from another origin", att_object(ad_ok), "CA_ERR_VERIFY", "origin",
        cdj=client_data("webauthn.create", REG_CHALLENGE, origin="https://evil.example"))
    bad("clientDataJSON with another challenge", att_object(ad_ok), "CA_ERR_VERIFY",
        "challenge", cdj=client_data("webauthn.create", ASN_CHALLENGE))
    bad("clientDataJSON with a duplicate member", att_object(ad_ok), "CA_ERR_INVALID",
        "clientDataJSON", cdj=reg_cdj[:-1] + b',"type":"webauthn.create"}')
    bad("clientDataJSON without a challenge", att_object(ad_ok), "CA_ERR_INVALID", "challenge",
        cdj=('{"type":"webauthn.create","origin":"%s"}' % ORIGIN).encode())
    # topOrigin (L3) is ignored when crossOrigin is false.
    case("valid: topOrigin present", att_object(ad_ok),
         cdj=reg_cdj[:-1] + b',"topOrigin":"https://other.example"}', alg=-7,
         cred_id=es_id, cose=es_cose, count=es_count, fl=flags)

    # Published: py_webauthn test_verifies_none_attestation_response (a real authenticator).
    pub_ao = unb64url(
        "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjESZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFAAAA"
        "FwAAAAAAAAAAAAAAAAAAAAAAQPctcQPE5oNRRJk_nO_371mf7qE7qIodzr0eOf6ACvnMB1oQG165dqutoi1U44sh"
        "Gezu5_gkTjmOPeJO0N8a7P-lAQIDJiABIVggSFbUJF-42Ug3pdM8rDRFu_N5oiVEysPDB6n66r_7dZAiWCDUVnB3"
        "9FlGypL-qAoIO9xWHtJygo2jfDmHl-_eKFRLDA")
    pub_cdj = unb64url(
        "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiVHdON240V1R5R0tMYzRaWS1xR3NGcUtuSE00"
        "bmdscXN5VjBJQ0psTjJUTzlYaVJ5RnRya2FEd1V2c3FsLWdrTEpYUDZmbkYxTWxyWjUzTW00UjdDdnciLCJvcmln"
        "aW4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9")
    pub_expect = (unb64url("TwN7n4WTyGKLc4ZY-qGsFqKnHM4nglqsyV0ICJlN2TO9XiRyFtrkaDwUvsql-gkLJXP6f"
                           "nF1MlrZ53Mm4R7Cvw"), "http://localhost:5000", "localhost")
    case("published: py_webauthn none attestation (ES256)", pub_ao, cdj=pub_cdj,
         expect=pub_expect, alg=-7,
         cred_id=unb64url("9y1xA8Tmg1FEmT-c7_fvWZ_uoTuoih3OvR45_oAK-cwHWhAbXrl2q62iLVTjiyEZ7O7n-"
                          "CROOY494k7Q3xrs_w"),
         cose=unb64url("pQECAyYgASFYIEhW1CRfuNlIN6XTPKw0RbvzeaIlRMrDwwep-uq_-3WQIlgg1FZwd_RZRsqS_"
                       "qgKCDvcVh7ScoKNo3w5h5fv3ihUSww"),
         count=23, fl=UP | UV | AT, aaguid=bytes(16))
    # Mode 2 of the fuzz target: the bytes as an attestationObject (and as a COSE_Key).
    fuzz_seeds.append(("ao-published", bytes([2]) + pub_ao))
    return cases


def asn_cases(out, fuzz_seeds):
    cases = []

    def case(desc, cose, cdj, ad, sig, stored, want="CA_OK", msg="", require_uv=False,
             count=0, uv=False, expect=None):
        i = len(cases)
        ch, origin, rp = expect or (ASN_CHALLENGE, ORIGIN, RP_ID)
        cases.append((desc, out.arr("wa_asn_%d_challenge" % i, ch), c_str(origin), c_str(rp),
                      require_uv, out.arr("wa_asn_%d_cose_key" % i, cose), stored,
                      out.arr("wa_asn_%d_cdj" % i, cdj, cdj.decode(errors="replace")),
                      out.arr("wa_asn_%d_ad" % i, ad), out.arr("wa_asn_%d_sig" % i, sig),
                      want, c_str(msg), count, uv))

    for idx, (name, alg, key, cose, _, reg_count, count) in enumerate(AUTHENTICATORS):
        cdj, ad, sig = assertion(alg, key, UP | UV, count)
        case("valid %s assertion" % name, cose, cdj, ad, sig, reg_count, count=count, uv=True,
             require_uv=True)
        fuzz_seeds.append(("asn-%s" % name, bytes([1, idx]) + len(cdj).to_bytes(2, "big") +
                           len(ad).to_bytes(2, "big") + cdj + ad + sig))

    name, alg, key, cose, _, _, _ = AUTHENTICATORS[0]
    cdj, ad, sig = assertion(alg, key, UP, 9)
    case("valid: UV absent when it is not required", cose, cdj, ad, sig, 5, count=9)
    case("UV required but absent", cose, cdj, ad, sig, 5, "CA_ERR_VERIFY", "user verification",
         require_uv=True)
    cdj, ad, sig = assertion(alg, key, UV, 9)
    case("UP flag missing", cose, cdj, ad, sig, 5, "CA_ERR_VERIFY", "user presence")
    cdj, ad, sig = assertion(alg, key, UP | UV, 9, other_key=P256_OTHER)
    case("ES256 signature by another key", cose, cdj, ad, sig, 5, "CA_ERR_VERIFY", "signature")
    for idx, other_key in ((1, ED_OTHER), (2, RSA_OTHER)):
        name, alg, key, cose, _, _, _ = AUTHENTICATORS[idx]
        cdj, ad, sig = assertion(alg, key, UP, 9, other_key=other_key)
        case("%s signature by another key" % name, cose, cdj, ad, sig, 0, "CA_ERR_VERIFY",
             "signature")
        other = AUTHENTICATORS[(idx + 1) % 3]
        cdj, ad, sig = assertion(other[1], other[2], UP, 9)
        case("%s key, a signature of %s's length" % (name, other[0]), cose, cdj, ad, sig, 0,
             "CA_ERR_INVALID", "signature")
    cdj, ad, sig = assertion(-7, P256, UP, 9, cdj=client_data("webauthn.create", ASN_CHALLENGE))
    case('clientDataJSON of type "webauthn.create"', AUTHENTICATORS[0][3], cdj, ad, sig, 5,
         "CA_ERR_VERIFY", "type")

    # Published: py_webauthn test_verify_authentication_response_with_{EC2,RSA,OKP}_public_key.
    pub = [
        ("published: py_webauthn EC2 assertion",
         "xi30GPGAFYRxVDpY1sM10DaLzVQG66nv-_7RUazH0vI2YvG8LYgDEnvN5fZZNVuvEDuMi9te3VLqb42N0fkLGA",
         "pQECAyYgASFYIIeDTe-gN8A-zQclHoRnGFWN8ehM1b7yAsa8I8KIvmplIlgg4nFGT5px8o6gpPZZhO01wdy9crD"
         "SA_Ngtkx0vGpvPHI",
         "eyJjaGFsbGVuZ2UiOiJ4aTMwR1BHQUZZUnhWRHBZMXNNMTBEYUx6VlFHNjZudi1fN1JVYXpIMHZJMll2RzhMWWd"
         "ERW52TjVmWlpOVnV2RUR1TWk5dGUzVkxxYjQyTjBma0xHQSIsImNsaWVudEV4dGVuc2lvbnMiOnt9LCJoYXNoQW"
         "xnb3JpdGhtIjoiU0hBLTI1NiIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6NTAwMCIsInR5cGUiOiJ3ZWJh"
         "dXRobi5nZXQifQ",
         "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MBAAAATg",
         "MEUCIGisVZOBapCWbnJJvjelIzwpixxIwkjCCb5aCHafQu68AiEA88v-2pJNNApPFwAKFiNuf82-2hBxYW5kGwV"
         "weeoxCwo", 77, 78, False, False),
        ("published: py_webauthn RSA assertion",
         "iPmAi1Pp1XL6oAgq3PWZtZPnZa1zFUDoGbaQ0_KvVG1lF2s3Rt_3o4uSzccy0tmcTIpTTT4BU1T-I4maavndjQ",
         "pAEDAzkBACBZAQDfV20epzvQP-HtcdDpX-cGzdOxy73WQEvsU7Dnr9UWJophEfpngouvgnRLXaEUn_d8HGkp_HI"
         "x8rrpkx4BVs6X_B6ZjhLlezjIdJbLbVeb92BaEsmNn1HW2N9Xj2QM8cH-yx28_vCjf82ahQ9gyAr552Bn96G22n8"
         "jqFRQKdVpO-f-bvpvaP3IQ9F5LCX7CUaxptgbog1SFO6FI6ob5SlVVB00lVXsaYg8cIDZxCkkENkGiFPgwEaZ7995"
         "SCbiyCpUJbMqToLMgojPkAhWeyktu7TlK6UBWdJMHc3FPAIs0lH_2_2hKS-mGI1uZAFVAfW1X-mzKL0czUm2P1Ul"
         "Uox7IUMBAAE",
         "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiaVBtQWkxUHAxWEw2b0FncTNQV1p0WlBuWmExekZ"
         "VRG9HYmFRMF9LdlZHMWxGMnMzUnRfM280dVN6Y2N5MHRtY1RJcFRUVDRCVTFULUk0bWFhdm5kalEiLCJvcmlnaW"
         "4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9",
         "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
         "iOHKX3erU5_OYP_r_9HLZ-CexCE4bQRrxM8WmuoKTDdhAnZSeTP0sjECjvjfeS8MJzN1ArmvV0H0C3yy_FdRFfc"
         "pUPZzdZ7bBcmPh1XPdxRwY747OrIzcTLTFQUPdn1U-izCZtP_78VGw9pCpdMsv4CUzZdJbEcRtQuRS03qUjqDaov"
         "oJhOqEBmxJn9Wu8tBi_Qx7A33RbYjlfyLm_EDqimzDZhyietyop6XUcpKarKqVH0M6mMrM5zTjp8xf3W7odFCadX"
         "EJg-ERZqFM0-9Uup6kJNLbr6C5J4NDYmSm3HCSA6lp2iEiMPKU8Ii7QZ61kybXLxsX4w4Dm3fOLjmDw",
         0, 1, True, True),
        ("published: py_webauthn OKP (Ed25519) assertion",
         "eZ4eeA3O4jy5FIzqDaSJ6JDNGu0bBc5zI1DjQ_kLso1WNqkG6k5mCYf1dtQhVUiBWZWlZkzR5MFeeWCpJRUNXw",
         "pAEBAycgBiFYIMz6_SUFLiDid2Yhlq0YboyJ-CDrIrNpkPUGmJp4D3Dp",
         "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiZVo0ZWVBM080ank1Rkl6cURhU0o2SkROR3UwYkJ"
         "jNXpJMURqUV9rTHNvMVdOcWtHNms1bUNZZjFkdFFoVlVpQldaV2xaa3pSNU1GZWVXQ3BKUlVOWHciLCJvcmlnaW"
         "4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9",
         "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MBAAAABw",
         "RRWV8mYDRvK7YdQgdtZD4pJ2dh1D_IWZ_D6jsZo6FHJBoenbj0CVT5nA20vUzlRhN4R6dOEUHmUwP1F8eRBhBg",
         3, 7, False, False),
    ]
    for desc, ch, cose, cdj, ad, sig, stored, count, req_uv, uv in pub:
        case(desc, unb64url(cose), unb64url(cdj), unb64url(ad), unb64url(sig), stored,
             count=count, uv=uv, require_uv=req_uv,
             expect=(unb64url(ch), "http://localhost:5000", "localhost"))
    return cases


def main():
    out = Out()
    seeds = []
    regs = reg_cases(out, seeds)
    asns = asn_cases(out, seeds)
    alg_rows = []
    for name, alg, key, cose, cred_id, _, _ in AUTHENTICATORS:
        alg_rows.append("    {%s, %d, %s, %s}," % (c_str(name), alg,
                                                 out.arr("wa_%s_cose_key" % name, cose),
                                                 out.arr("wa_%s_cred_id" % name, cred_id)))
    h = [
        "/* Generated by tests/vectors/webauthn/make_vectors.py: do not edit; re-run it. */",
        "/* WebAuthn ceremonies for tests/unit/test_webauthn.c and tests/fuzz/fuzz_webauthn.c:",
        " * three generated authenticators (ES256, EdDSA, RS256) with \"none\" attestation, cases",
        " * that must fail, and published ceremonies from py_webauthn's tests (see the script). */",
        "#ifndef CA_TESTS_VECTORS_WEBAUTHN_H",
        "#define CA_TESTS_VECTORS_WEBAUTHN_H",
        "",
        "#include <stdbool.h>",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "#include \"credanchor/common.h\"",
        "",
        "#define WA_ORIGIN %s" % c_str(ORIGIN),
        "#define WA_RP_ID %s" % c_str(RP_ID),
        "",
        "typedef struct wa_buf {",
        "    const uint8_t *p;",
        "    size_t n;",
        "} wa_buf;",
        "#define WA_BUF(a) {a, sizeof(a)}",
        "",
    ]
    h += out.arrays
    h += [
        "",
        "/* The expected challenge of the generated ceremonies. */",
        "static const wa_buf wa_reg_challenge = %s;" % out.arr("wa_reg_challenge_bytes", REG_CHALLENGE),
        "static const wa_buf wa_asn_challenge = %s;" % out.arr("wa_asn_challenge_bytes", ASN_CHALLENGE),
        "",
        "/* The generated authenticators: name, COSE alg, COSE_Key, credential id. */",
        "typedef struct wa_authenticator {",
        "    const char *name;",
        "    int alg;",
        "    wa_buf cose_key, cred_id;",
        "} wa_authenticator;",
        "static const wa_authenticator wa_authenticators[] = {",
    ] + alg_rows + [
        "};",
        "",
        "/* Registration ceremonies: expectation, input, and the result (want; for CA_OK the",
        " * credential, else a piece of the message). */",
        "typedef struct wa_reg_case {",
        "    const char *desc;",
        "    wa_buf challenge;",
        "    const char *origin, *rp_id;",
        "    bool require_uv;",
        "    wa_buf cdj, ao;",
        "    ca_err want;",
        "    const char *want_msg;",
        "    int alg;",
        "    wa_buf cred_id, cose_key;",
        "    uint32_t sign_count;",
        "    uint8_t flags;",
        "    wa_buf aaguid;",
        "} wa_reg_case;",
        "static const wa_reg_case wa_reg_cases[] = {",
    ]
    for c in regs:
        h.append("    {%s, %s, %s, %s, %s, %s, %s, %s, %s, %d, %s, %s, %du, 0x%02x, %s}," %
                 (c_str(c[0]), c[1], c[2], c[3], "true" if c[4] else "false", c[5], c[6], c[7],
                  c[8], c[9], c[10], c[11], c[12], c[13], c[14]))
    h += [
        "};",
        "",
        "/* Assertion ceremonies: expectation, stored key and count, input, and the result. */",
        "typedef struct wa_asn_case {",
        "    const char *desc;",
        "    wa_buf challenge;",
        "    const char *origin, *rp_id;",
        "    bool require_uv;",
        "    wa_buf cose_key;",
        "    uint32_t stored_count;",
        "    wa_buf cdj, ad, sig;",
        "    ca_err want;",
        "    const char *want_msg;",
        "    uint32_t sign_count;",
        "    bool uv;",
        "} wa_asn_case;",
        "static const wa_asn_case wa_asn_cases[] = {",
    ]
    for c in asns:
        h.append("    {%s, %s, %s, %s, %s, %s, %du, %s, %s, %s, %s, %s, %du, %s}," %
                 (c_str(c[0]), c[1], c[2], c[3], "true" if c[4] else "false", c[5], c[6], c[7],
                  c[8], c[9], c[10], c[11], c[12], "true" if c[13] else "false"))
    h += ["};", "", "#endif", ""]
    with open(HEADER, "w") as f:
        f.write("\n".join(h))
    os.makedirs(CORPUS, exist_ok=True)
    for name, data in seeds:
        with open(os.path.join(CORPUS, name), "wb") as f:
            f.write(data)
    print("wrote %s (%d registration, %d assertion cases) and %d seeds in %s"
          % (os.path.relpath(HEADER, ROOT), len(regs), len(asns), len(seeds),
             os.path.relpath(CORPUS, ROOT)), file=sys.stderr)


if __name__ == "__main__":
    main()
