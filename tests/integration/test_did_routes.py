"""DID resolution routes and `credanchor resolve` (issue 4, SPEC §3, §4), with no network:

- the node's own did:web document at /.well-known/did.json (shape, issuer key as
  assertionMethod, anchor account with the configured chain id, no anchor without a chain),
  and the same document from /1.0/identifiers/<own DID> raw and percent-encoded and from the
  CLI beside the serving node (its did:web on localhost could never be fetched: resolving it
  proves it came from local state);
- did:key over HTTP in both key formats, equal to `credanchor resolve --json`;
- Accept negotiation (each type, the legacy ones, q-values, 406);
- every error reachable offline, in the resolution-result form and as problem+json;
- path forms: did%3A... decoded once, did:web:localhost%3A8443 kept raw;
- the route is public and rate limited;
- `credanchor resolve` exit codes, --json, --format, and use without a data dir.
The did:web fetches against a real nginx are in another test.
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ca_node import BIN, Checks, Node  # noqa: E402

DID_NS = "https://www.w3.org/ns/did#"
CT_RESULT = "application/did-resolution"
LEGACY_RESULT = 'application/ld+json;profile="https://w3id.org/did-resolution"'
# did:key v0.9 test vectors (Ed25519, secp256k1, P-256).
ED = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
K1 = "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"
P256 = "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"
CHAIN_ID = 31337
METHOD_ERRORS = ("invalidDid", "invalidPublicKeyLength", "invalidPublicKey",
                 "unsupportedPublicKeyType")

c = Checks("did_routes")


def enc(did):
    """The percent-encoded path form: every ':' and '%' escaped."""
    return urllib.parse.quote(did, safe="")


def cli(*args, cwd=None, env=None):
    return subprocess.run([BIN, "resolve", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)


def resolve(node, seg, query="", accept=None):
    h = {"Accept": accept} if accept is not None else {}
    return node.get("/1.0/identifiers/" + seg + query, headers=h)


def check_result_error(r, status, code, what):
    """A resolution result carrying an error, as application/did-resolution."""
    c.eq(r.status, status, f"{what}: status")
    c.eq(r.ctype, CT_RESULT, f"{what}: content type")
    try:
        b = r.json()
    except ValueError:
        c.ok(False, f"{what}: body is not JSON: {r.body[:200]!r}")
        return None
    c.eq(b.get("didDocument", "absent"), None, f"{what}: didDocument null")
    c.eq(b.get("didDocumentMetadata"), {}, f"{what}: didDocumentMetadata")
    err = b.get("didResolutionMetadata", {}).get("error", {})
    c.eq(err.get("type"), DID_NS + code, f"{what}: error type")
    c.ok(isinstance(err.get("title"), str) and err["title"], f"{what}: error title")
    c.ok(isinstance(err.get("detail"), str) and err["detail"], f"{what}: error detail")
    return err


def check_own_document(doc, did, anchor, chain_id, what):
    c.eq(doc.get("@context"), ["https://www.w3.org/ns/did/v1",
                               "https://w3id.org/security/multikey/v1",
                               "https://w3id.org/security/suites/secp256k1recovery-2020/v2",
                               "https://w3id.org/security/jwk/v1"],
         f"{what}: @context")
    c.eq(doc.get("id"), did, f"{what}: id")
    vms = doc.get("verificationMethod", [])
    key = vms[0] if vms else {}
    c.eq(key.get("id"), did + "#key-1", f"{what}: key id")
    c.eq(key.get("type"), "Multikey", f"{what}: key type")
    c.eq(key.get("controller"), did, f"{what}: key controller")
    mb = key.get("publicKeyMultibase", "")
    c.ok(mb.startswith("z6Mk") and len(mb) == 48, f"{what}: Ed25519 multibase {mb!r}")
    # The VC-JWT keys (SPEC §5: a kid dereferences to a JsonWebKey), the Ed25519 key again as
    # "#eddsa-1" (issue #12) and the ES256K, ES256 and RS256 keys, public members only.
    jose = [did + "#eddsa-1", did + "#es256k-1", did + "#es256-1", did + "#rs256-1"]
    c.eq(doc.get("assertionMethod"), [did + "#key-1"] + jose, f"{what}: assertionMethod")
    c.eq(doc.get("authentication"), [did + "#key-1"] + jose, f"{what}: authentication")
    jwks = {vm.get("id"): vm for vm in vms if vm.get("type") == "JsonWebKey"}
    c.eq(sorted(jwks), sorted(jose), f"{what}: JsonWebKey methods")
    want_kty = {"eddsa-1": ("OKP", "Ed25519"), "es256k-1": ("EC", "secp256k1"),
                "es256-1": ("EC", "P-256"), "rs256-1": ("RSA", None)}
    for frag, (kty, crv) in want_kty.items():
        jwk = jwks.get(did + "#" + frag, {}).get("publicKeyJwk", {})
        c.eq((jwk.get("kty"), jwk.get("crv")), (kty, crv), f"{what}: {frag} JWK type")
        c.ok(not ({"d", "p", "q", "dp", "dq", "qi"} & set(jwk)), f"{what}: {frag} JWK public")
    if chain_id:
        c.eq(len(vms), 6, f"{what}: six verification methods")
        c.eq(vms[-1], {"id": did + "#anchor", "type": "EcdsaSecp256k1RecoveryMethod2020",
                       "controller": did,
                       "blockchainAccountId": f"eip155:{chain_id}:{anchor}"},
             f"{what}: anchor method")
    else:
        c.eq(len(vms), 5, f"{what}: no anchor method without a chain id")
    return mb


def test_own(node):
    did = node.init["did"]
    c.eq(did, "did:web:localhost%3A8080", "init's did")
    r = node.get("/.well-known/did.json")
    c.eq(r.status, 200, "well-known status")
    c.eq(r.ctype, "application/did+ld+json", "well-known content type")
    doc = r.json()
    check_own_document(doc, did, node.init["anchorAddress"], CHAIN_ID, "well-known")

    # The own DID from the resolver, raw and percent-encoded (either hex case): local state,
    # since the guard refuses localhost for every other did:web.
    for seg in (did, enc(did), enc(did).replace("%3A", "%3a")):
        r = resolve(node, seg)
        c.eq(r.status, 200, f"own DID {seg}: status")
        c.eq(r.ctype, CT_RESULT, f"own DID {seg}: content type")
        b = r.json()
        c.eq(b.get("didDocument"), doc, f"own DID {seg}: same document")
        c.eq(b.get("didResolutionMetadata"), {"contentType": "application/did+ld+json"},
             f"own DID {seg}: resolution metadata")
        c.eq(b.get("didDocumentMetadata"), {}, f"own DID {seg}: document metadata")
    r = resolve(node, did, accept="application/did")
    c.eq((r.status, r.ctype), (200, "application/did"), "own DID as application/did")
    c.eq(r.json(), doc, "own DID document alone")
    # HEAD answers like GET without a body.
    r = node.request("HEAD", "/.well-known/did.json")
    c.eq((r.status, r.body), (200, b""), "HEAD well-known")

    # The CLI beside the serving node (a shared reader of its data dir), same document.
    p = cli(did, data_dir_args(node), env=node.env)
    c.eq(p.returncode, 0, f"cli own DID exit ({p.stderr.strip()})")
    c.eq(json.loads(p.stdout or "null"), doc, "cli own DID document")
    p = cli("--json", did, data_dir_args(node), env=node.env)
    c.eq(json.loads(p.stdout or "{}").get("didDocument"), doc, "cli own DID --json")


def data_dir_args(node):
    return f"--data-dir={node.data_dir}"


def test_did_key(node):
    for did in (ED, K1, P256):
        for fmt in ("Multikey", "JsonWebKey"):
            what = f"{did[:16]} {fmt}"
            r = resolve(node, did, f"?publicKeyFormat={fmt}")
            c.eq(r.status, 200, f"{what}: status")
            b = r.json()
            p = cli("--json", "--format", fmt, did, cwd=tempfile.gettempdir())
            c.eq(p.returncode, 0, f"{what}: cli exit")
            c.eq(b, json.loads(p.stdout or "null"), f"{what}: HTTP result == CLI --json")
            c.eq(r.body.decode(), p.stdout.strip(), f"{what}: byte for byte (jansson's text)")
            vm = b["didDocument"]["verificationMethod"][0]
            c.eq(vm["type"], fmt, f"{what}: method type")
            c.ok(("publicKeyJwk" in vm) == (fmt == "JsonWebKey"), f"{what}: key field")
            c.ok("d" not in vm.get("publicKeyJwk", {}), f"{what}: no private part")
            # The pretty CLI output is the document alone.
            p = cli("--format", fmt, did)
            c.eq(json.loads(p.stdout or "null"), b["didDocument"], f"{what}: cli document")
        # Percent-encoded path: the same answer.
        c.eq(resolve(node, enc(did)).json(), resolve(node, did).json(),
             f"{did[:16]}: did%3A form equals raw")
    # Multikey is the default.
    c.eq(resolve(node, ED).json(), resolve(node, ED, "?publicKeyFormat=Multikey").json(),
         "Multikey is the default")
    b = resolve(node, ED, "?enableEncryptionKeyDerivation=true").json()
    c.ok(b["didDocument"].get("keyAgreement"), "enableEncryptionKeyDerivation adds keyAgreement")
    b = resolve(node, ED, "?enableEncryptionKeyDerivation=false&noCache=true").json()
    c.ok("keyAgreement" not in b["didDocument"], "derivation off: no keyAgreement")


def test_accept(node):
    doc = resolve(node, ED).json()["didDocument"]
    for accept in (None, "", "application/did-resolution", "*/*", "application/*",
                   LEGACY_RESULT, 'application/ld+json; profile="https://w3id.org/did-resolution"',
                   "text/html, */*;q=0.8", "application/did;q=0.5, application/did-resolution",
                   "APPLICATION/DID-RESOLUTION"):
        r = resolve(node, ED, accept=accept)
        c.eq((r.status, r.ctype), (200, CT_RESULT), f"Accept {accept!r}: result")
        c.eq(r.json().get("didDocument"), doc, f"Accept {accept!r}: document inside")
    for accept, ctype in (("application/did", "application/did"),
                          ("application/did+ld+json", "application/did+ld+json"),
                          ("application/did-resolution;q=0.1, application/did",
                           "application/did"),
                          ("text/plain, application/did+ld+json;q=0.9",
                           "application/did+ld+json")):
        r = resolve(node, ED, accept=accept)
        c.eq((r.status, r.ctype), (200, ctype), f"Accept {accept!r}: document alone")
        c.eq(r.json(), doc, f"Accept {accept!r}: body is the document")
    for accept in ("text/html", "application/json", "application/ld+json",
                   "application/did;q=0", "image/*"):
        r = resolve(node, ED, accept=accept)
        check_result_error(r, 406, "REPRESENTATION_NOT_SUPPORTED", f"Accept {accept!r}")


def test_errors(node):
    cases = [
        ("junk", "", 400, "INVALID_DID"),
        ("did:", "", 400, "INVALID_DID"),
        ("did:key:", "", 400, "INVALID_DID"),
        ("did:KEY:z6Mk", "", 400, "INVALID_DID"),
        ("did%3Akey%3Az%ZZ", "", 400, "INVALID_DID"),
        ("did:web:127.0.0.1", "", 400, "INVALID_DID"),
        ("did:key:z6Mk", "", 400, "INVALID_DID"),           # too short a key
        ("did:key:uAAA", "", 400, "INVALID_DID"),           # not base58btc
        (ED, "?publicKeyFormat=Jwk", 400, "INVALID_OPTIONS"),
        (ED, "?enableEncryptionKeyDerivation=yes", 400, "INVALID_OPTIONS"),
        (ED, "?noCache=1", 400, "INVALID_OPTIONS"),
        ("did:example:123456789abcdefghi", "", 501, "METHOD_NOT_SUPPORTED"),
        ("did%3Aexample%3A123", "", 501, "METHOD_NOT_SUPPORTED"),
        ("did:web:localhost%3A8443", "", 404, "NOT_FOUND"),  # the loopback guard
    ]
    for seg, query, status, code in cases:
        what = f"{seg}{query}"
        err = check_result_error(resolve(node, seg, query), status, code, what)
        # The same error object alone as problem+json when the document was asked for.
        r = resolve(node, seg, query, accept="application/did")
        c.eq((r.status, r.ctype), (status, "application/problem+json"), f"{what}: problem form")
        if err is not None:
            c.eq(r.json(), err, f"{what}: problem body == the result's error object")
        c.ok(r.is_problem(status), f"{what}: RFC 9457 members")
    for seg in ("did:key:z6Mk", "did:key:uAAA", "did:key:zabc"):
        err = resolve(node, seg).json()["didResolutionMetadata"]["error"]
        c.ok(err["detail"].startswith(METHOD_ERRORS),
             f"{seg}: detail names the did:key error first: {err['detail']!r}")
    # did:web:localhost%3A8443 stays raw: %3A is the port, so the refused fetch names 8443.
    err = resolve(node, "did:web:localhost%3A8443").json()["didResolutionMetadata"]["error"]
    c.ok("8443" in err["detail"], f"raw %3A is the port: {err['detail']!r}")
    err = resolve(node, enc("did:web:localhost%3A8443")).json()["didResolutionMetadata"]["error"]
    c.ok("8443" in err["detail"], f"did%3A form decoded once: {err['detail']!r}")
    # A DID URL with a path is not this route's: the server's 404 problem.
    r = node.get("/1.0/identifiers/did:web:example.com/path")
    c.eq(r.status, 404, "a path after the DID")
    r = node.request("POST", "/1.0/identifiers/" + ED, body="")
    c.eq(r.status, 405, "POST is not allowed")


def test_cli():
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:  # no ./var here: no data dir at all
        p = cli(ED, cwd=tmp, env=env)
        c.eq(p.returncode, 0, f"cli did:key without a data dir ({p.stderr.strip()})")
        c.eq(json.loads(p.stdout or "{}").get("id"), ED, "cli prints the document")
        c.ok(p.stdout.startswith("{\n"), "cli document is indented")
        p = cli("--json", "--no-cache", ED, cwd=tmp, env=env)
        b = json.loads(p.stdout or "{}")
        c.eq(b.get("didResolutionMetadata"), {"contentType": "application/did+ld+json"},
             "cli --json resolution metadata")
        c.eq(len(p.stdout.strip().splitlines()), 1, "cli --json is one line")
        for args, rc, code in ((["junk"], 2, "INVALID_DID"),
                               (["did:key:z6Mk"], 2, "INVALID_DID"),
                               (["did:example:123"], 2, "METHOD_NOT_SUPPORTED"),
                               (["--format", "Jwk", ED], 2, "INVALID_OPTIONS"),
                               (["did:web:localhost%3A8443"], 1, "NOT_FOUND")):
            p = cli(*args, cwd=tmp, env=env)
            c.eq(p.returncode, rc, f"cli {args}: exit")
            c.ok(p.stderr.startswith(f"credanchor resolve: {code}: ") and
                 p.stderr.count("\n") == 1, f"cli {args}: stderr line {p.stderr!r}")
            c.eq(p.stdout, "", f"cli {args}: nothing on stdout")
            if code != "INVALID_OPTIONS":
                p = cli("--json", *args, cwd=tmp, env=env)
                err = json.loads(p.stdout or "{}").get("didResolutionMetadata", {}).get("error")
                c.eq((err or {}).get("type"), DID_NS + code, f"cli --json {args}: error")
        for args in ([], [ED, K1], ["--bogus", ED], ["--format"]):
            p = cli(*args, cwd=tmp, env=env)
            c.eq(p.returncode, 2, f"cli {args}: bad usage exits 2")
        p = cli("--help", cwd=tmp, env=env)
        c.ok(p.returncode == 0 and "usage: credanchor resolve" in p.stdout, "cli --help")


def test_key_method_and_no_chain():
    """did.issuer_method = key and anchor.chain_id = 0: /.well-known/did.json still serves the
    did:web document, without an anchor method; the did:key of the issuer key resolves to the
    same key; and the public route is rate limited."""
    env = {"CREDANCHOR_ANCHOR_CHAIN_ID": "0", "CREDANCHOR_DID_ISSUER_METHOD": "key",
           "CREDANCHOR_NODE_RATE_LIMIT_PER_IP": "5"}
    with Node(env=env) as node:
        node.start()
        r = node.get("/.well-known/did.json")
        c.eq(r.status, 200, "key method: well-known status")
        mb = check_own_document(r.json(), node.init["did"], None, 0, "no chain")
        p = cli("--json", "did:key:" + mb, data_dir_args(node), env=node.env)
        vm = json.loads(p.stdout or "{}").get("didDocument", {}).get("verificationMethod", [{}])
        c.eq(vm[0].get("publicKeyMultibase"), mb, "issuer did:key carries the same key")
        statuses = [resolve(node, ED).status for _ in range(30)]
        c.ok(429 in statuses and statuses[0] == 200, f"rate limited: {statuses}")
    bad = dict(os.environ, CREDANCHOR_DID_ISSUER_METHOD="webb")
    p = cli(ED, env=bad)
    c.ok(p.returncode == 2 and "did.issuer_method" in p.stderr,
         f"a bad did.issuer_method is a config error: {p.stderr!r}")


def main():
    env = {"CREDANCHOR_ANCHOR_CHAIN_ID": str(CHAIN_ID)}
    with Node(env=env) as node:
        node.start()
        test_own(node)
        test_did_key(node)
        test_accept(node)
        test_errors(node)
    test_cli()
    test_key_method_and_no_chain()
    c.finish()


if __name__ == "__main__":
    main()
