/*
 * Network guards shared by the node's libcurl clients (did:web, webhooks, SMTP).
 *
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

/* The address guard (SPEC §4, the did:web transport's guard 7; webhooks, SPEC §8): the
 * address actually connected to is checked (CURLOPT_OPENSOCKETFUNCTION gets the resolved
 * sockaddr before connect(), so DNS rebinding cannot slip past a name check) and re-checked
 * in CURLOPT_PREREQFUNCTION on the connection's primary IP. Refused unless host[:port] is in
 * the allow list: IPv4 0/8, 10/8, 100.64/10 (CGNAT), 127/8, 169.254/16, 172.16/12,
 * 192.0.0/24, 192.168/16, 198.18/15, 224/4, 240/4; IPv6 ::, ::1, fc00::/7, fe80::/10,
 * fec0::/10, ff00::/8, and the IPv4 address inside ::ffff:0:0/96, ::/96, 64:ff9b::/96 and
 * 2002::/16 by the IPv4 rules. A refusal's message names the host, never the address it
 * resolved to (no oracle for internal DNS). */
typedef struct ca_curl_guard {
    char host[256];
    long port;
    const char *setting;   /* the allow list's config key, for the message */
    bool allowed;          /* host[:port] is allow-listed: no address check */
    bool refused;          /* a connection was refused; msg says why */
    char msg[512];
} ca_curl_guard;

/* allow_hosts: comma-separated host or host:port entries (case-insensitive host). */
void ca_curl_guard_init(ca_curl_guard *g, const char *allow_hosts, const char *setting,
                        const char *host, long port);
/* Makes handle c apply g (borrowed: it must outlive every transfer of c). */
CURLcode ca_curl_guard_apply(CURL *c, ca_curl_guard *g);
/* Whether host:port is in the comma-separated allow list. */
bool ca_curl_host_allowed(const char *allow, const char *host, long port);

#ifdef __cplusplus
}
#endif
#endif
