/*
 * The files under web/ (the public page's HTML, CSS and ES modules, and the vendored
 * libraries with their licences), compiled into the node at build time by
 * cmake/embed_web.cmake, so a running node never reads web/ from disk and serves exactly the
 * bytes its SRI hashes name. Paths are relative to web/ ("verify/verify.mjs").
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_WEB_ASSETS_H
#define CREDANCHOR_WEB_ASSETS_H

#include <stddef.h>

typedef struct ca_web_asset {
    const char *path;          /* "page/credential.mjs" */
    const unsigned char *data; /* len bytes, then a NUL (not counted) */
    size_t len;
} ca_web_asset;

/* Sorted by path (byte order). */
extern const ca_web_asset ca_web_assets[];
extern const size_t ca_web_assets_count;

#endif
