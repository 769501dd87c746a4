/* did:web identifiers from URLs (did:web method spec, "Create (Register)"). */
#include "credanchor/did.h"

#include <stdio.h>
#include <string.h>

ca_err ca_url_host_port(char *host, size_t host_cap, unsigned *port, const char *url,
                        ca_errbuf *eb)
{
    const char *p;
    if (strncmp(url, "https://", 8) == 0)
        p = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        p = url + 7;
    else
        return ca_fail(eb, CA_ERR_INVALID, "url \"%s\" is not http:// or https://", url);
    size_t hlen = strcspn(p, ":/?#");
    if (hlen == 0 || hlen >= host_cap)
        return ca_fail(eb, CA_ERR_INVALID, "url \"%s\" has no usable host", url);
    memcpy(host, p, hlen);
    host[hlen] = '\0';
    for (size_t i = 0; i < hlen; i++) {
        char c = host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return ca_fail(eb, CA_ERR_INVALID, "url \"%s\": bad character in host", url);
        if (c >= 'A' && c <= 'Z')
            host[i] = (char)(c - 'A' + 'a');
    }
    *port = 0;
    p += hlen;
    if (*p == ':') {
        unsigned v = 0;
        size_t digits = 0;
        for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
            v = v * 10 + (unsigned)(*p - '0');
        if (digits == 0 || v == 0 || v > 65535 || (*p && *p != '/'))
            return ca_fail(eb, CA_ERR_INVALID, "url \"%s\": bad port", url);
        *port = v;
    }
    return CA_OK;
}

ca_err ca_did_web_from_url(char *out, size_t cap, const char *url, ca_errbuf *eb)
{
    char host[256];
    unsigned port;
    ca_err err = ca_url_host_port(host, sizeof host, &port, url, eb);
    if (err)
        return err;
    size_t n = port ? (size_t)snprintf(out, cap, "did:web:%s%%3A%u", host, port)
                    : (size_t)snprintf(out, cap, "did:web:%s", host);
    if (n >= cap)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "did:web for \"%s\" is too long", url);
    /* Path segments become ':'-separated; an empty path or "/" adds nothing. */
    const char *path = strchr(url + strlen("http://"), '/');
    while (path && *path == '/') {
        const char *seg = path + 1;
        size_t len = strcspn(seg, "/?#");
        if (len == 0)
            break;
        if (n + 1 + len >= cap)
            return ca_fail(eb, CA_ERR_TOO_LARGE, "did:web for \"%s\" is too long", url);
        out[n++] = ':';
        memcpy(out + n, seg, len);
        n += len;
        out[n] = '\0';
        path = seg + len;
    }
    return CA_OK;
}
