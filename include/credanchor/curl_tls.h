/*
 * Extra trust anchors for libcurl handles: a PEM bundle (did.web_ca_file, mail.ca_file) whose
 * certificates are ADDED to the system store libcurl already loaded, never replacing it
 * (CURLOPT_CAINFO would replace it, so a private CA would turn every public server away).
 * Verification itself stays libcurl's default (peer and host name on); nothing here turns it
 * off. OpenSSL backend. Conventions: common.h.
 */
#ifndef CREDANCHOR_CURL_TLS_H
#define CREDANCHOR_CURL_TLS_H

#include "credanchor/common.h"

#include <curl/curl.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ca_curl_cas ca_curl_cas; /* opaque: the certificates of one bundle */

/* Reads every PEM certificate of file. what names the setting in errors ("did.web_ca_file").
 * CA_ERR_IO when it cannot be read, CA_ERR_CONFIG when it holds no certificate. */
ca_err ca_curl_cas_load(ca_curl_cas **cas, const char *file, const char *what, ca_errbuf *eb);
void ca_curl_cas_free(ca_curl_cas *cas);

/* Makes handle c add cas (borrowed: it must outlive every transfer of c) to the trust store
 * of each TLS connection it opens; libcurl's shared CA cache is turned off for c, so the
 * store is the handle's own. */
CURLcode ca_curl_cas_apply(CURL *c, ca_curl_cas *cas);

#ifdef __cplusplus
}
#endif
#endif
