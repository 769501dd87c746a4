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

/* The did:web DID for an http(s) base URL, per the did:web method spec: the host, its port
 * as "%3A<port>", then each path segment after ":". "http://localhost:8080" gives
 * "did:web:localhost%3A8080"; "https://issuer.example.org/a/b" gives
 * "did:web:issuer.example.org:a:b". CA_ERR_INVALID for a URL that is not http(s)://host... */
ca_err ca_did_web_from_url(char *out, size_t cap, const char *url, ca_errbuf *eb);

/* Splits an http(s) URL into host and port (0 when absent). CA_ERR_INVALID when malformed. */
ca_err ca_url_host_port(char *host, size_t host_cap, unsigned *port, const char *url,
                        ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
