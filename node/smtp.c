/* Sending one message over SMTP with libcurl (smtp.h). */
#include "node/smtp.h"

#include "credanchor/curl_tls.h"
#include "node/keystore.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ca_smtp_sender {
    CURL *curl;              /* kept between messages: one connection, reused */
    ca_curl_cas *cas;        /* mail.ca_file */
    char url[CA_CONFIG_STR_MAX];
    char username[CA_CONFIG_STR_MAX];
    char password[CA_PASSPHRASE_MAX];
    long timeout;
};

ca_err ca_smtp_sender_new(ca_smtp_sender **out, const ca_config *cfg, ca_errbuf *eb)
{
    *out = NULL;
    ca_smtp_sender *s = calloc(1, sizeof *s);
    if (!s)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    snprintf(s->url, sizeof s->url, "%s", cfg->mail_smtp_url);
    snprintf(s->username, sizeof s->username, "%s", cfg->mail_username);
    s->timeout = (long)cfg->mail_timeout;
    ca_err err = CA_OK;
    if (cfg->mail_ca_file[0])
        err = ca_curl_cas_load(&s->cas, cfg->mail_ca_file, "mail.ca_file", eb);
    size_t plen = 0;
    if (!err && cfg->mail_username[0]) {
        err = ca_passphrase_load(s->password, &plen, cfg->mail_password_file, eb);
        if (err) {
            char why[sizeof eb->msg];
            snprintf(why, sizeof why, "%s", eb->msg);
            ca_fail(eb, err, "mail.password_file: %s", why);
        }
    }
    if (!err && !(s->curl = curl_easy_init()))
        err = ca_fail(eb, CA_ERR_NOMEM, "curl_easy_init failed");
    if (err) {
        ca_smtp_sender_free(s);
        return err;
    }
    *out = s;
    return CA_OK;
}

void ca_smtp_sender_free(ca_smtp_sender *s)
{
    if (!s)
        return;
    if (s->curl)
        curl_easy_cleanup(s->curl);
    ca_curl_cas_free(s->cas);
    ca_wipe(s->password, sizeof s->password);
    free(s);
}

typedef struct upload {
    const char *p;
    size_t left;
} upload;

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
    upload *u = arg;
    size_t k = size * n < u->left ? size * n : u->left;
    memcpy(buf, u->p, k);
    u->p += k;
    u->left -= k;
    return k;
}

/* The options of one message on the kept handle. STARTTLS is required (CURLUSESSL_ALL),
 * only smtp is spoken, no proxy from the environment, and verification stays libcurl's
 * default (on): nothing here can turn it off. */
static CURLcode set_options(ca_smtp_sender *s, const char *from, struct curl_slist *rcpt,
                            upload *u, char *cerr)
{
    CURL *c = s->curl;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) \
    do { if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, val); } while (0)
    SET(CURLOPT_URL, s->url);
    SET(CURLOPT_PROTOCOLS_STR, "smtp");
    SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT, s->timeout);
    SET(CURLOPT_TIMEOUT, s->timeout);
    SET(CURLOPT_MAIL_FROM, from);
    SET(CURLOPT_MAIL_RCPT, rcpt);
    SET(CURLOPT_UPLOAD, 1L);
    SET(CURLOPT_READFUNCTION, read_cb);
    SET(CURLOPT_READDATA, u);
    SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->left);
    SET(CURLOPT_ERRORBUFFER, cerr);
    if (s->username[0]) {
        SET(CURLOPT_USERNAME, s->username);
        SET(CURLOPT_PASSWORD, s->password);
    }
    if (s->cas && rc == CURLE_OK)
        rc = ca_curl_cas_apply(c, s->cas);
#undef SET
    return rc;
}

/* RFC 5321 §4.2.1: 5yz is a permanent failure of what was asked, 4yz a transient one. A 5yz
 * that is about us (TLS, AUTH: libcurl's USE_SSL_FAILED and LOGIN_DENIED) is a fault of the
 * node's set-up, not the recipient's: it is retried, with the reason, until the admin fixes
 * it or the deadline passes. */
static void classify(CURLcode rc, long code, const char *cerr, ca_smtp_result *r)
{
    r->code = code;
    char line[CURL_ERROR_SIZE];
    snprintf(line, sizeof line, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
    for (char *p = line; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    if (rc == CURLE_OK) {
        r->outcome = CA_SMTP_SENT;
        snprintf(r->detail, sizeof r->detail, "accepted (%ld)", code);
        return;
    }
    bool ours = rc == CURLE_USE_SSL_FAILED || rc == CURLE_LOGIN_DENIED ||
                rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR;
    r->outcome = !ours && code >= 500 && code < 600 ? CA_SMTP_PERMANENT : CA_SMTP_TEMPORARY;
    const char *why = rc == CURLE_PEER_FAILED_VERIFICATION
                          ? "the SMTP server's TLS certificate is not trusted (mail.ca_file?): "
                      : rc == CURLE_USE_SSL_FAILED
                          ? "the SMTP server does not offer STARTTLS, which is required: "
                      : rc == CURLE_LOGIN_DENIED ? "SMTP AUTH refused (mail.username / "
                                                   "mail.password_file): "
                                                 : "";
    if (code)
        snprintf(r->detail, sizeof r->detail, "%s%ld: %.200s", why, code, line);
    else
        snprintf(r->detail, sizeof r->detail, "%s%.200s", why, line);
}

void ca_smtp_send(ca_smtp_sender *s, const char *from_addr, const char *to_addr,
                  const char *msg, size_t len, ca_smtp_result *r)
{
    memset(r, 0, sizeof *r);
    char from[CA_CONFIG_STR_MAX + 2], to[CA_CONFIG_STR_MAX + 2], cerr[CURL_ERROR_SIZE] = "";
    snprintf(from, sizeof from, "<%s>", from_addr);
    snprintf(to, sizeof to, "<%s>", to_addr);
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    upload u = {msg, len};
    CURLcode rc = rcpt ? set_options(s, from, rcpt, &u, cerr) : CURLE_OUT_OF_MEMORY;
    if (rc == CURLE_OK)
        rc = curl_easy_perform(s->curl);
    long code = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
    classify(rc, code, cerr, r);
    curl_slist_free_all(rcpt);
    curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL); /* the list is gone */
}
