/* Growable buffers with a hard maximum (include/credanchor/capbuf.h). */
#include "credanchor/capbuf.h"

#include <stdlib.h>
#include <string.h>

void ca_capbuf_init(ca_capbuf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

bool ca_capbuf_append(ca_capbuf *b, const void *p, size_t n)
{
    if (n > b->max - b->len) {
        b->overflow = true;
        return false;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        char *bigger = realloc(b->data, cap);
        if (!bigger)
            return false;
        b->data = bigger;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

void ca_capbuf_reset(ca_capbuf *b)
{
    b->len = 0;
    b->overflow = false;
    if (b->data)
        b->data[0] = '\0';
}

char *ca_capbuf_take(ca_capbuf *b, size_t *len)
{
    char *out = b->data ? b->data : calloc(1, 1);
    if (len)
        *len = out ? b->len : 0;
    b->data = NULL;
    b->len = b->cap = 0;
    return out;
}

void ca_capbuf_free(ca_capbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

size_t ca_capbuf_curl_write(char *data, size_t size, size_t nmemb, void *capbuf)
{
    size_t n = size * nmemb;
    return ca_capbuf_append(capbuf, data, n) ? n : 0;
}
