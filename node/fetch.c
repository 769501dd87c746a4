/* node/fetch.c — the CLI's HTTP(S) GET (node/fetch.h). */
#include "node/fetch.h"

#include "credanchor/capbuf.h"

#include <curl/curl.h>
#include <string.h>

ca_err ca_fetch(char **out, size_t *out_len, const char *url, size_t max, long *status,
                ca_errbuf *eb)
{
    *out = NULL;
    *out_len = 0;
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return ca_fail(eb, CA_ERR_INVALID, "%s: only http:// and https:// URLs", url);
    CURL *c = curl_easy_init();
    if (!c)
        return ca_fail(eb, CA_ERR_NOMEM, "cannot start libcurl");
    ca_capbuf buf;
    ca_capbuf_init(&buf, max);
    long code = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ca_capbuf_curl_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    ca_err err = CA_OK;
    if (buf.overflow)
        err = ca_fail(eb, CA_ERR_TOO_LARGE, "%s: answer larger than %zu bytes", url, max);
    else if (rc != CURLE_OK)
        err = ca_fail(eb, CA_ERR_NETWORK, "%s: %s", url, curl_easy_strerror(rc));
    else if (!status && code == 404)
        err = ca_fail(eb, CA_ERR_NOT_FOUND, "%s: HTTP status 404", url);
    else if (!status && code != 200)
        err = ca_fail(eb, CA_ERR_NETWORK, "%s: HTTP status %ld", url, code);
    if (err) {
        ca_capbuf_free(&buf);
        return err;
    }
    if (status)
        *status = code;
    *out = ca_capbuf_take(&buf, out_len);
    ca_capbuf_free(&buf);
    return *out ? CA_OK : ca_fail(eb, CA_ERR_NOMEM, "out of memory");
}
