/*
 * A plain HTTP(S) GET for the CLI's lookups at a node the user named (--node URL): http or
 * https only, TLS verification always on (libcurl's default; never turned off), no redirects,
 * no proxy, connect and total timeouts, and a body cap (exceeding it is an error, never a
 * larger buffer). Fetches of arbitrary URLs from documents go through the did:web transport's
 * guards instead (did_resolve.h). Conventions: common.h.
 */
#ifndef CREDANCHOR_FETCH_H
#define CREDANCHOR_FETCH_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* GETs url into a malloc'd, NUL-terminated *out (*out_len bytes, at most max). *status (may
 * be NULL) gets the HTTP status; without it any status but 200 is CA_ERR_NETWORK, and 404
 * is CA_ERR_NOT_FOUND. CA_ERR_INVALID for a URL that is not http(s), CA_ERR_TOO_LARGE past
 * max, CA_ERR_NETWORK for a transport failure (eb names the URL and the reason). */
ca_err ca_fetch(char **out, size_t *out_len, const char *url, size_t max, long *status,
                ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
