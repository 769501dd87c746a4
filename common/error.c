/* Error names, the error buffer, and the caller-bug abort (conventions: common.h). */
#include "credanchor/common.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *ca_strerror(ca_err code)
{
    switch (code) {
    case CA_OK: return "ok";
    case CA_ERR_INVALID: return "invalid input";
    case CA_ERR_RANGE: return "value out of range";
    case CA_ERR_NOT_FOUND: return "not found";
    case CA_ERR_VERIFY: return "verification failed";
    case CA_ERR_NOMEM: return "out of memory";
    case CA_ERR_IO: return "input/output error";
    case CA_ERR_STORE: return "storage error";
    case CA_ERR_FULL: return "storage full";
    case CA_ERR_LOCKED: return "data directory is locked";
    case CA_ERR_CRYPTO: return "cryptographic error";
    case CA_ERR_CONFIG: return "bad configuration";
    case CA_ERR_INCONSISTENT: return "log inconsistent with a signed checkpoint";
    case CA_ERR_PERMISSION: return "permission problem";
    case CA_ERR_TOO_LARGE: return "input too large";
    case CA_ERR_NETWORK: return "network error";
    case CA_ERR_EXISTS: return "already exists";
    case CA_ERR_CONFLICT: return "conflicts with the current state";
    }
    return "unknown error";
}

ca_err ca_fail(ca_errbuf *eb, ca_err code, const char *fmt, ...)
{
    if (eb) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *ca_errmsg(const ca_errbuf *eb, ca_err code)
{
    if (eb && eb->msg[0])
        return eb->msg;
    return ca_strerror(code);
}

_Noreturn void ca_abort_bug(const char *file, int line, const char *expr)
{
    fprintf(stderr, "credanchor: internal error at %s:%d: %s\n", file, line, expr);
    abort();
}

void ca_wipe(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}
