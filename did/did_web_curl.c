/*
 * The libcurl transport for did:web (SPEC §4; did:web method spec §2.6 "Security and privacy
 * considerations"). Guards, all always on:
 *  1. HTTPS only: CURLOPT_PROTOCOLS_STR and CURLOPT_REDIR_PROTOCOLS_STR are "https", and the
 *     URL's scheme is checked before anything is sent. No proxy (CURLOPT_PROXY ""), so the
 *     environment cannot route the request, and the address checked is the server's.
 *  2. Certificate and host-name verification always on: VERIFYPEER/VERIFYHOST are never set,
 *     so libcurl's defaults (on) hold; TLS 1.2 or newer. ca_file ADDS its certificates to the
 *     system trust store (curl_tls.h puts them in the X509_STORE libcurl already
 *     filled; the CA cache is off so that store is this handle's own). Nothing turns it off.
 *  3. No IP literals in the URL's host (nor hosts whose last label starts with a digit,
 *     which URL parsers and inet_aton read as IPv4: "127.1", "0x7f.1", "2130706433").
 *  4. Redirects are followed by hand: at most 3, only to https on the same host and port;
 *     a URL seen before is a loop and an error.
 *  5. A body cap (max_body, default 1 MiB) in the write callback and CURLOPT_MAXFILESIZE.
 *  6. CURLOPT_CONNECTTIMEOUT and a total deadline over all hops (timeout_seconds, default
 *     10); CURLOPT_NOSIGNAL.
 *  7. Address guard on the address actually connected to (CURLOPT_OPENSOCKETFUNCTION gets the
 *     resolved sockaddr before connect(), so DNS rebinding cannot slip past a name check),
 *     re-checked in CURLOPT_PREREQFUNCTION on the connection's primary IP. Refused unless the
 *     URL's host or host:port is in allow_hosts: IPv4 0/8, 10/8, 100.64/10 (CGNAT), 127/8,
 *     169.254/16, 172.16/12, 192.0.0/24, 192.168/16, 198.18/15, 224/4 (multicast), 240/4
 *     (reserved, broadcast); IPv6 ::, ::1, fc00::/7, fe80::/10, fec0::/10, ff00::/8, and the
 *     IPv4 address inside ::ffff:0:0/96 (mapped), ::/96 (compatible), 64:ff9b::/96 (NAT64)
 *     and 2002::/16 (6to4) checked by the IPv4 rules.
 *  8. Nothing else of libcurl's: no cookies, netrc, auth, compression or alt-svc.
 * Cache-Control max-age comes from the last response's headers; no-cache or no-store give 0.
 */
#include "credanchor/did_resolve.h"

#include "credanchor/capbuf.h"
#include "credanchor/curl_tls.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define DID_WEB_MAX_REDIRECTS 3
#define DID_WEB_DEFAULT_TIMEOUT 10
#define DID_WEB_DEFAULT_MAX_BODY (1024 * 1024)

typedef struct fetch_state {
    const ca_did_web_curl *cfg;
    char host[256];
    long port;
    ca_capbuf body; /* capped at max_body */
    /* headers */
    long max_age;
    bool no_cache;
    ca_curl_guard guard; /* the address guard (curl_tls.h) */
    ca_curl_cas *extra_cas; /* did.web_ca_file (curl_tls.h) */
} fetch_state;

/* ---- allow list, URL checks ---- */

static bool host_is_ip_like(const char *host)
{
    if (host[0] == '[' || strchr(host, ':'))
        return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return true;
    const char *last = strrchr(host, '.');
    last = last ? last + 1 : host;
    if (*last == '\0') { /* trailing dot: look at the label before it */
        size_t n = strlen(host);
        const char *q = host + n - 1;
        while (q > host && q[-1] != '.')
            q--;
        last = q;
    }
    return *last >= '0' && *last <= '9';
}

/* Splits url into lower-level parts; checks scheme https and a non-IP host. */
static ca_err url_parts(const char *url, char *host, size_t host_cap, long *port,
                        ca_errbuf *eb)
{
    CURLU *u = curl_url();
    if (!u)
        return ca_fail(eb, CA_ERR_NOMEM, "did:web fetch of %s: out of memory", url);
    ca_err err = CA_OK;
    char *scheme = NULL, *h = NULL, *p = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        err = ca_fail(eb, CA_ERR_INVALID, "did:web fetch of %s: not a valid URL", url);
        goto out;
    }
    if (strcasecmp(scheme, "https") != 0) {
        err = ca_fail(eb, CA_ERR_INVALID, "did:web fetch of %s refused: not https", url);
        goto out;
    }
    if (host_is_ip_like(h)) {
        err = ca_fail(eb, CA_ERR_INVALID, "did:web fetch of %s refused: the host is an IP address",
                      url);
        goto out;
    }
    if (strlen(h) >= host_cap) {
        err = ca_fail(eb, CA_ERR_INVALID, "did:web fetch of %s: host too long", url);
        goto out;
    }
    snprintf(host, host_cap, "%s", h);
    *port = strtol(p, NULL, 10);
out:
    curl_free(scheme);
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return err;
}

/* ---- callbacks ---- */

/* Cache-Control: max-age=N / no-cache / no-store (RFC 9111 §5.2.2). */
static void parse_cache_control(fetch_state *st, const char *v, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',')
            i++;
        size_t tl = i - start;
        const char *tok = v + start;
        while (tl > 0 && (tok[tl - 1] == ' ' || tok[tl - 1] == '\t' || tok[tl - 1] == '\r' ||
                          tok[tl - 1] == '\n'))
            tl--;
        if ((tl == 8 && strncasecmp(tok, "no-cache", 8) == 0) ||
            (tl == 8 && strncasecmp(tok, "no-store", 8) == 0)) {
            st->no_cache = true;
        } else if (tl > 8 && strncasecmp(tok, "max-age=", 8) == 0) {
            const char *d = tok + 8, *e = tok + tl;
            if (d < e && *d == '"')
                d++;
            long val = 0;
            bool any = false;
            for (; d < e && *d >= '0' && *d <= '9'; d++) {
                any = true;
                if (val < 1000000000L)
                    val = val * 10 + (*d - '0');
            }
            if (any)
                st->max_age = val > 1000000000L ? 1000000000L : val;
        }
    }
}

static size_t header_cb(char *data, size_t size, size_t nitems, void *userp)
{
    fetch_state *st = userp;
    size_t n = size * nitems;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response: forget the last one */
        st->max_age = -1;
        st->no_cache = false;
    } else if (n > 14 && strncasecmp(data, "cache-control:", 14) == 0) {
        parse_cache_control(st, data + 14, n - 14);
    }
    return n;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

/* ---- the transport ---- */

/* Applies the guards to c with the options that hold on every hop (1, 2, 5, 6, 7, 8 above;
 * the URL and the time left are set per hop). */
static CURLcode apply_guards(CURL *c, fetch_state *st, long timeout, char *cerr,
                             struct curl_slist *hdrs)
{
    CURLcode rc = CURLE_OK;
#define SET(opt, val) \
    do { if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, val); } while (0)
    SET(CURLOPT_PROTOCOLS_STR, "https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_CONNECTTIMEOUT, timeout);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)st->body.max);
    SET(CURLOPT_WRITEFUNCTION, ca_capbuf_curl_write);
    SET(CURLOPT_WRITEDATA, &st->body);
    SET(CURLOPT_HEADERFUNCTION, header_cb);
    SET(CURLOPT_HEADERDATA, st);
    SET(CURLOPT_ERRORBUFFER, cerr);
    SET(CURLOPT_USERAGENT, "credanchor did:web resolver");
    SET(CURLOPT_HTTPHEADER, hdrs);
    if (rc == CURLE_OK)
        rc = ca_curl_guard_apply(c, &st->guard);
    if (st->extra_cas && rc == CURLE_OK)
        rc = ca_curl_cas_apply(c, st->extra_cas);
#undef SET
    return rc;
}

/* Why the hop to cur failed: the body cap (5), the address guard (7), or libcurl's reason. */
static ca_err hop_error(const fetch_state *st, CURLcode rc, const char *cur, char *cerr,
                        ca_errbuf *eb)
{
    if (st->body.overflow || rc == CURLE_FILESIZE_EXCEEDED)
        return ca_fail(eb, CA_ERR_TOO_LARGE,
                       "did:web fetch of %s failed: the response is larger than %zu bytes",
                       cur, st->body.max);
    if (st->guard.refused && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_ABORTED_BY_CALLBACK))
        return ca_fail(eb, CA_ERR_NETWORK, "did:web fetch of %s failed: %s", cur,
                       st->guard.msg);
    one_line(cerr);
    return ca_fail(eb, CA_ERR_NETWORK, "did:web fetch of %s failed: %s%s%s%s", cur,
                   curl_easy_strerror(rc), cerr[0] ? " (" : "", cerr, cerr[0] ? ")" : "");
}

/* Guard 4: the redirect from cur to loc is followed only to https on the same host and port,
 * to a URL not visited before, and at most DID_WEB_MAX_REDIRECTS times. */
static ca_err check_redirect(const fetch_state *st, const char *url, const char *cur,
                             const char *loc, char *const *visited, size_t nvisited,
                             ca_errbuf *eb)
{
    char rhost[256];
    long rport = 0;
    ca_errbuf reb;
    if (url_parts(loc, rhost, sizeof rhost, &rport, &reb) != CA_OK ||
        strcasecmp(rhost, st->host) != 0 || rport != st->port)
        return ca_fail(eb, CA_ERR_NETWORK,
                       "did:web fetch of %s refused: it redirects to %.200s (only https on "
                       "the same host %s:%ld is followed)",
                       cur, loc, st->host, st->port);
    bool loop = false;
    for (size_t i = 0; i < nvisited; i++)
        loop = loop || strcmp(visited[i], loc) == 0;
    if (loop)
        return ca_fail(eb, CA_ERR_NETWORK, "did:web fetch of %s failed: redirect loop at %.200s",
                       url, loc);
    if (nvisited > DID_WEB_MAX_REDIRECTS)
        return ca_fail(eb, CA_ERR_NETWORK,
                       "did:web fetch of %s failed: more than %d redirects", url,
                       DID_WEB_MAX_REDIRECTS);
    return CA_OK;
}

/* Fetches url with c, following redirects by hand (guard 4) within the total deadline
 * (guard 6), and hands over the final answer. */
static ca_err fetch_hops(CURL *c, fetch_state *st, const char *url, long timeout,
                         double deadline, char *cerr, char **body, size_t *body_len,
                         long *status, long *max_age, ca_errbuf *eb)
{
    ca_err err = CA_OK;
    char *visited[DID_WEB_MAX_REDIRECTS + 1] = {0};
    size_t nvisited = 0;
    char *cur = strdup(url);
    if (!cur)
        return ca_fail(eb, CA_ERR_NOMEM, "did:web fetch of %s: out of memory", url);
    for (;;) {
        visited[nvisited++] = cur;
        double left = deadline - now_seconds();
        if (left <= 0) {
            err = ca_fail(eb, CA_ERR_NETWORK, "did:web fetch of %s failed: timed out after %ld s",
                          url, timeout);
            break;
        }
        ca_capbuf_reset(&st->body);
        st->max_age = -1;
        st->no_cache = false;
        cerr[0] = '\0';
        curl_easy_setopt(c, CURLOPT_URL, cur);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(left * 1000) + 1);
        CURLcode rc = curl_easy_perform(c);
        if (rc != CURLE_OK) {
            err = hop_error(st, rc, cur, cerr, eb);
            break;
        }
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        char *loc = NULL;
        if (code >= 300 && code < 400)
            curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
        if (!loc) { /* a final answer */
            *status = code;
            *max_age = st->no_cache ? 0 : st->max_age;
            if (!(*body = ca_capbuf_take(&st->body, body_len)))
                err = ca_fail(eb, CA_ERR_NOMEM, "did:web fetch of %s: out of memory", url);
            break;
        }
        if ((err = check_redirect(st, url, cur, loc, visited, nvisited, eb)))
            break;
        cur = strdup(loc);
        if (!cur) {
            err = ca_fail(eb, CA_ERR_NOMEM, "did:web fetch of %s: out of memory", url);
            break;
        }
    }
    for (size_t i = 0; i < nvisited; i++)
        free(visited[i]);
    return err;
}

ca_err ca_did_web_curl_fetch(void *ctx, const char *url, char **body, size_t *body_len,
                             long *status, long *max_age, ca_errbuf *eb)
{
    CA_ASSERT(ctx != NULL && url != NULL && body != NULL && body_len != NULL &&
              status != NULL && max_age != NULL);
    const ca_did_web_curl *cfg = ctx;
    *body = NULL;
    *body_len = 0;
    *status = 0;
    *max_age = -1;

    fetch_state st;
    memset(&st, 0, sizeof st);
    st.cfg = cfg;
    ca_capbuf_init(&st.body, cfg->max_body ? cfg->max_body : DID_WEB_DEFAULT_MAX_BODY);
    long timeout = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : DID_WEB_DEFAULT_TIMEOUT;
    double deadline = now_seconds() + (double)timeout;

    ca_err err = url_parts(url, st.host, sizeof st.host, &st.port, eb);
    if (err)
        return err;
    ca_curl_guard_init(&st.guard, cfg->allow_hosts, "did.web_allow_hosts", st.host, st.port);
    if (cfg->ca_file[0]) {
        err = ca_curl_cas_load(&st.extra_cas, cfg->ca_file, "did.web_ca_file", eb);
        if (err)
            goto out;
    }

    CURL *c = curl_easy_init();
    if (!c) {
        err = ca_fail(eb, CA_ERR_NOMEM, "did:web fetch of %s: curl_easy_init failed", url);
        goto out;
    }
    char cerr[CURL_ERROR_SIZE];
    struct curl_slist *hdrs = curl_slist_append(
        NULL, "Accept: application/did+json, application/did+ld+json, application/json");
    CURLcode rc = apply_guards(c, &st, timeout, cerr, hdrs);
    if (rc != CURLE_OK) {
        err = ca_fail(eb, CA_ERR_NETWORK, "did:web fetch of %s: libcurl cannot apply a guard: %s",
                      url, curl_easy_strerror(rc));
        goto cleanup;
    }
    err = fetch_hops(c, &st, url, timeout, deadline, cerr, body, body_len, status, max_age, eb);
cleanup:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
out:
    ca_capbuf_free(&st.body);
    ca_curl_cas_free(st.extra_cas);
    return err;
}
