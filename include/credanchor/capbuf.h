/*
 * A growable byte buffer with a hard maximum (STYLE: growing past the cap is an error, not an
 * allocation), kept NUL-terminated so text answers can be parsed in place. Used for every
 * network answer the node reads (JSON-RPC, did:web). Conventions: common.h.
 */
#ifndef CREDANCHOR_CAPBUF_H
#define CREDANCHOR_CAPBUF_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ca_capbuf {
    char *data;     /* NULL until the first byte; then NUL-terminated */
    size_t len;
    size_t cap;     /* allocated bytes (len + 1 fit) */
    size_t max;     /* the most bytes it may hold */
    bool overflow;  /* an append went past max */
} ca_capbuf;

void ca_capbuf_init(ca_capbuf *b, size_t max);
/* Appends n bytes. false when that would pass max (overflow is set) or memory runs out. */
bool ca_capbuf_append(ca_capbuf *b, const void *p, size_t n);
/* Empties the buffer for reuse (the memory is kept). */
void ca_capbuf_reset(ca_capbuf *b);
/* Hands over the bytes (malloc'd, NUL-terminated, never NULL unless out of memory) and
 * empties the buffer. */
char *ca_capbuf_take(ca_capbuf *b, size_t *len);
void ca_capbuf_free(ca_capbuf *b);

/* A libcurl CURLOPT_WRITEFUNCTION over a ca_capbuf (CURLOPT_WRITEDATA): returning short
 * aborts the transfer with CURLE_WRITE_ERROR when the cap is reached. */
size_t ca_capbuf_curl_write(char *data, size_t size, size_t nmemb, void *capbuf);

#ifdef __cplusplus
}
#endif
#endif
