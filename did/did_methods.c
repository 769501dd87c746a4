/*
 * did/did_methods.c — the table of the DID methods the node knows (credanchor/did.h), in
 * place of "did:key:" / "did:web:" prefix checks spread over the callers (issue #14). Adding
 * a method: a row here and a value in ca_did_method, then its resolver in
 * ca_resolver_resolve (node/resolver.c).
 */
#include "credanchor/did.h"

#include <string.h>

typedef struct did_method_row {
    const char *prefix; /* "did:<method>:" */
    ca_did_method method;
    bool fetches; /* resolving it may wait on the network */
} did_method_row;

static const did_method_row did_methods[] = {
    {"did:key:", CA_DID_METHOD_KEY, false},
    {"did:web:", CA_DID_METHOD_WEB, true},
};
#define NMETHODS (sizeof did_methods / sizeof did_methods[0])

ca_did_method ca_did_method_of(const char *did, size_t len)
{
    if (!did)
        return CA_DID_METHOD_OTHER;
    for (size_t i = 0; i < NMETHODS; i++) {
        size_t n = strlen(did_methods[i].prefix);
        if (len >= n && memcmp(did, did_methods[i].prefix, n) == 0)
            return did_methods[i].method;
    }
    return CA_DID_METHOD_OTHER;
}

bool ca_did_method_fetches(ca_did_method m)
{
    for (size_t i = 0; i < NMETHODS; i++)
        if (did_methods[i].method == m)
            return did_methods[i].fetches;
    return false;
}
