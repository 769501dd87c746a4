/* Extra trust anchors for libcurl handles (curl_tls.h). */
#include "credanchor/curl_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

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
