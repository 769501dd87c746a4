/*
 * DIDs the node names itself by (SPEC §4). Resolution of did:key and did:web lives beside
 * this in did/. Conventions: common.h.
 */
#ifndef CREDANCHOR_DID_H
#define CREDANCHOR_DID_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The did:web DID for an http(s) base URL, per the did:web method spec: the host (lower
 * case; an internationalized name as its A-label, "xn--..."), its port as "%3A<port>" (none
 * for https's default 443), then each path segment after ':' with bytes outside DID Core's
 * idchar percent-encoded. "http://localhost:8080" gives "did:web:localhost%3A8080";
 * "https://Issuer.Example.org/a/b/" gives "did:web:issuer.example.org:a:b". CA_ERR_INVALID
 * for a URL that is not http(s)://host..., or that has user information, a query, a
 * fragment, an empty ("//"), "." or ".." path segment. */
ca_err ca_did_web_from_url(char *out, size_t cap, const char *url, ca_errbuf *eb);

/* Splits an http(s) base URL (scheme in either case) into host (lower case, IDNs as their
 * A-label) and port (0 when absent). CA_ERR_INVALID when malformed, as ca_did_web_from_url. */
ca_err ca_url_host_port(char *host, size_t host_cap, unsigned *port, const char *url,
                        ca_errbuf *eb);

/* The ASCII host name for the len bytes at host: letters, digits, '-' and '.' lower-cased,
 * or, when it has non-ASCII (UTF-8) bytes, its IDNA2008 A-label form ("bücher.example" ->
 * "xn--bcher-kva.example"). CA_ERR_INVALID for other characters or an invalid IDN,
 * CA_ERR_TOO_LARGE when out (cap bytes) is too small. */
ca_err ca_host_to_ascii(char *out, size_t cap, const char *host, size_t len, ca_errbuf *eb);

/* The DID methods this node knows (did/did_methods.c), one row each in a table: the place to
 * add a method. */
typedef enum ca_did_method {
    CA_DID_METHOD_OTHER = 0, /* not a DID of a known method (or not a DID at all) */
    CA_DID_METHOD_KEY,       /* did:key: resolved offline from the DID itself */
    CA_DID_METHOD_WEB,       /* did:web: its document is fetched over HTTPS */
} ca_did_method;

/* The method of the len bytes at did: a known method's prefix ("did:key:", "did:web:") as
 * is, case-sensitive (DID Core 3.1: method names are lower case), so a percent-encoded DID
 * ("did%3Aweb%3A...") is CA_DID_METHOD_OTHER until the caller decodes it. No other syntax is
 * checked (ca_did_syntax_ok does). */
ca_did_method ca_did_method_of(const char *did, size_t len);

/* True when resolving a DID of method m may fetch over the network (did:web), so a caller
 * runs it where a slow host cannot hold anything else. False for CA_DID_METHOD_OTHER. */
bool ca_did_method_fetches(ca_did_method m);

#ifdef __cplusplus
}
#endif
#endif
