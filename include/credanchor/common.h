/*
 * credanchor — API conventions and the error enum, stated once for every public header.
 *
 * Conventions (after libsecp256k1 and curl):
 *  - Argument order: context/handle first, then outputs, then inputs; an optional
 *    `ca_errbuf *eb` comes last and may be NULL.
 *  - Functions that can fail return `ca_err`: CA_OK (0) on success. Bad *data* (malformed hex,
 *    a proof that does not verify, a missing file) is an error code plus a sentence in `eb`.
 *    Caller bugs (NULL where forbidden, impossible sizes) abort through CA_ASSERT: the caller
 *    never branches on its own bugs.
 *  - Lengths travel in and out through `size_t *len` pointers. Output buffers are owned by the
 *    caller unless a function says it allocates (then a matching *_free exists).
 *  - Hashes are fixed 32-byte values (`ca_hash`) passed by pointer, copied by value.
 *  - Secrets are wiped with ca_wipe() after use and are never written to a log.
 *  - Every buffer that grows from network or file input carries a maximum size; going past it
 *    is CA_ERR_TOO_LARGE, never a larger allocation.
 *  - The error enum only ever grows; codes are never renumbered.
 */
#ifndef CREDANCHOR_COMMON_H
#define CREDANCHOR_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ca_err {
    CA_OK = 0,
    CA_ERR_INVALID = 1,       /* malformed input: bad hex, wrong length, bad syntax */
    CA_ERR_RANGE = 2,         /* a number outside its allowed range (tree size, index) */
    CA_ERR_NOT_FOUND = 3,     /* the thing asked for does not exist */
    CA_ERR_VERIFY = 4,        /* a proof, root or signature does not check out */
    CA_ERR_NOMEM = 5,
    CA_ERR_IO = 6,            /* a file or socket operation failed */
    CA_ERR_STORE = 7,         /* the LMDB store failed */
    CA_ERR_FULL = 8,          /* store.max_map_size reached or disk full (HTTP 507) */
    CA_ERR_LOCKED = 9,        /* the data dir is held by another writer */
    CA_ERR_CRYPTO = 10,       /* a cryptographic library call failed */
    CA_ERR_CONFIG = 11,       /* a bad configuration value */
    CA_ERR_INCONSISTENT = 12, /* the log disagrees with a checkpoint it signed: appends refused */
    CA_ERR_PERMISSION = 13,   /* a file is readable by others, or access was denied */
    CA_ERR_TOO_LARGE = 14,    /* input over its cap */
    CA_ERR_NETWORK = 15,      /* a remote peer could not be reached or answered badly */
    CA_ERR_EXISTS = 16,       /* the thing to create is already there */
    CA_ERR_CONFLICT = 17,     /* the request contradicts the current state (HTTP 409), e.g.
                                 reinstating a revoked credential */
} ca_err;

/* A static English name for the code, e.g. "invalid input". Never NULL. */
const char *ca_strerror(ca_err code);

/* The human detail that goes with an error code (curl's error buffer). */
typedef struct ca_errbuf {
    char msg[512];
} ca_errbuf;

/* Writes a printf-style sentence into eb (if not NULL) and returns code, so a failing function
 * can `return ca_fail(eb, CA_ERR_INVALID, "digest %zu is not 64 hex characters", i);`. */
ca_err ca_fail(ca_errbuf *eb, ca_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The message in eb, or ca_strerror(code) when eb is NULL or empty. */
const char *ca_errmsg(const ca_errbuf *eb, ca_err code);

/* Aborts with file:line and the expression on a caller bug (a violated precondition). */
#define CA_ASSERT(cond) \
    do { if (!(cond)) ca_abort_bug(__FILE__, __LINE__, #cond); } while (0)
_Noreturn void ca_abort_bug(const char *file, int line, const char *expr);

/* Overwrites len bytes at p so the compiler cannot drop it (OPENSSL_cleanse). */
void ca_wipe(void *p, size_t len);

#define CA_HASH_SIZE 32
/* A SHA-256 (or Keccak-256) value. Small value type: copy it freely. */
typedef struct ca_hash {
    uint8_t b[CA_HASH_SIZE];
} ca_hash;

#ifdef __cplusplus
}
#endif
#endif
