/* Extra trust anchors for libcurl handles (curl_tls.h). */
#include "credanchor/curl_tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct ca_curl_cas {
    STACK_OF(X509) *certs;
};

ca_err ca_curl_cas_load(ca_curl_cas **cas, const char *file, const char *what, ca_errbuf *eb)
{
    *cas = NULL;
    BIO *bio = BIO_new_file(file, "r");
    if (!bio)
        return ca_fail(eb, CA_ERR_IO, "%s %s cannot be read", what, file);
    ca_curl_cas *c = calloc(1, sizeof *c);
    if (c)
        c->certs = sk_X509_new_null();
    X509 *x;
    while (c && c->certs && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(c->certs, x)) {
            X509_free(x);
            break;
        }
    }
    BIO_free(bio);
    ERR_clear_error(); /* the read that ended the loop left "no start line" */
    if (!c || !c->certs || sk_X509_num(c->certs) == 0) {
        ca_curl_cas_free(c);
        return c ? ca_fail(eb, CA_ERR_CONFIG, "%s %s holds no PEM certificate", what, file)
                 : ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    }
    *cas = c;
    return CA_OK;
}

void ca_curl_cas_free(ca_curl_cas *cas)
{
    if (!cas)
        return;
    if (cas->certs)
        sk_X509_pop_free(cas->certs, X509_free);
    free(cas);
}

/* CURLOPT_SSL_CTX_FUNCTION: runs before each handshake with the store libcurl filled. */
static CURLcode add_to_store(CURL *curl, void *sslctx, void *parm)
{
    (void)curl;
    const ca_curl_cas *cas = parm;
    X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *)sslctx);
    if (!store)
        return CURLE_SSL_CERTPROBLEM;
    for (int i = 0; i < sk_X509_num(cas->certs); i++)
        X509_STORE_add_cert(store, sk_X509_value(cas->certs, i)); /* duplicates are fine */
    ERR_clear_error();
    return CURLE_OK;
}

CURLcode ca_curl_cas_apply(CURL *c, ca_curl_cas *cas)
{
    CURLcode rc = curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, add_to_store);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, cas);
    return rc;
}

/* ---- the address guard ---- */

static const char *v4_forbidden(uint32_t a /* host order */)
{
    if ((a >> 24) == 0)
        return "an unspecified (0.0.0.0/8) address";
    if ((a >> 24) == 127)
        return "a loopback address";
    if ((a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8)
        return "a private address";
    if ((a >> 22) == (100u << 2 | 1)) /* 100.64.0.0/10 */
        return "a shared (CGNAT) address";
    if ((a >> 16) == 0xa9fe)
        return "a link-local address";
    if ((a >> 8) == 0xc00000 || (a >> 17) == (0xc612u >> 1))
        return "a reserved address";
    if ((a >> 28) == 0xe)
        return "a multicast address";
    if ((a >> 28) == 0xf)
        return "a reserved or broadcast address";
    return NULL;
}

static const char *v6_forbidden(const uint8_t b[16])
{
    static const uint8_t zero[16] = {0};
    if (memcmp(b, zero, 16) == 0)
        return "the unspecified address";
    if (memcmp(b, zero, 15) == 0 && b[15] == 1)
        return "a loopback address";
    if ((b[0] & 0xfe) == 0xfc)
        return "a unique-local (private) address";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return "a link-local address";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return "a site-local address";
    if (b[0] == 0xff)
        return "a multicast address";
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, zero, 12) == 0 || memcmp(b, nat64, 12) == 0) {
        uint32_t a = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
        return v4_forbidden(a);
    }
    if (b[0] == 0x20 && b[1] == 0x02) {
        uint32_t a = (uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 8 | b[5];
        return v4_forbidden(a);
    }
    return NULL;
}

/* Why the address may not be connected to, or NULL. The reason stays inside this file: the
 * message a refusal gives (guard_refuse) names neither the address nor its kind. */
static const char *sockaddr_forbidden(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return v4_forbidden(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return v6_forbidden(in6->sin6_addr.s6_addr);
    }
    return "not an internet address";
}

/* A refused connection's message (issue #13 item 17): the host the DID names, never the
 * address it resolved to nor which private range that is, so a public resolver cannot be used
 * as an oracle for the internal DNS names and addresses behind it. */
static void guard_refuse(ca_curl_guard *g)
{
    if (!g->refused)
        snprintf(g->msg, sizeof g->msg,
                 "connection refused: the host resolves to a private or loopback address "
                 "(%.255s:%ld is not in %s)", g->host, g->port, g->setting);
    g->refused = true;
}

static curl_socket_t open_socket_cb(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *address)
{
    ca_curl_guard *g = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (!g->allowed && sockaddr_forbidden(&address->addr)) {
        guard_refuse(g);
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
}

static int prereq_cb(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                     int local_port)
{
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    ca_curl_guard *g = clientp;
    if (g->allowed)
        return CURL_PREREQFUNC_OK;
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } u;
    memset(&u, 0, sizeof u);
    if (inet_pton(AF_INET, primary_ip, &u.in.sin_addr) == 1)
        u.in.sin_family = AF_INET;
    else if (inet_pton(AF_INET6, primary_ip, &u.in6.sin6_addr) == 1)
        u.in6.sin6_family = AF_INET6;
    else
        u.sa.sa_family = AF_UNSPEC;
    if (sockaddr_forbidden(&u.sa)) {
        guard_refuse(g);
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}


bool ca_curl_host_allowed(const char *allow, const char *host, long port)
{
    const char *p = allow;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *e = p + len;
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        const char *end = e;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        const char *colon = memchr(p, ':', (size_t)(end - p));
        size_t hlen = colon ? (size_t)(colon - p) : (size_t)(end - p);
        if (hlen > 0 && hlen == strlen(host) && strncasecmp(p, host, hlen) == 0) {
            if (!colon)
                return true;
            char *stop;
            long v = strtol(colon + 1, &stop, 10);
            if (stop == end && v == port)
                return true;
        }
        p = *e ? e + 1 : e;
    }
    return false;
}


void ca_curl_guard_init(ca_curl_guard *g, const char *allow_hosts, const char *setting,
                        const char *host, long port)
{
    memset(g, 0, sizeof *g);
    snprintf(g->host, sizeof g->host, "%s", host);
    g->port = port;
    g->setting = setting;
    g->allowed = ca_curl_host_allowed(allow_hosts, host, port);
}

CURLcode ca_curl_guard_apply(CURL *c, ca_curl_guard *g)
{
    CURLcode rc = curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, g);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, prereq_cb);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(c, CURLOPT_PREREQDATA, g);
    return rc;
}
