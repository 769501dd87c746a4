/* DID resolution results and the W3C error codes with their HTTP statuses (SPEC §4). */
#include "credanchor/did_resolve.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    const char *code;
    int status;
} did_errors[] = {
    [CA_DID_OK] = {"", 200},
    [CA_DID_INVALID_DID] = {"INVALID_DID", 400},
    [CA_DID_INVALID_DID_URL] = {"INVALID_DID_URL", 400},
    [CA_DID_INVALID_OPTIONS] = {"INVALID_OPTIONS", 400},
    [CA_DID_NOT_FOUND] = {"NOT_FOUND", 404},
    [CA_DID_REPRESENTATION_NOT_SUPPORTED] = {"REPRESENTATION_NOT_SUPPORTED", 406},
    [CA_DID_DEACTIVATED] = {"deactivated", 410},
    [CA_DID_INVALID_DID_DOCUMENT] = {"INVALID_DID_DOCUMENT", 500},
    [CA_DID_INTERNAL_ERROR] = {"INTERNAL_ERROR", 500},
    [CA_DID_METHOD_NOT_SUPPORTED] = {"METHOD_NOT_SUPPORTED", 501},
    [CA_DID_FEATURE_NOT_SUPPORTED] = {"FEATURE_NOT_SUPPORTED", 501},
};

const char *ca_did_error_code(ca_did_error e)
{
    return (unsigned)e < sizeof did_errors / sizeof did_errors[0] ? did_errors[e].code
                                                                   : "INTERNAL_ERROR";
}

int ca_did_error_status(ca_did_error e)
{
    return (unsigned)e < sizeof did_errors / sizeof did_errors[0] ? did_errors[e].status : 500;
}

void ca_did_result_init(ca_did_result *r)
{
    r->error = CA_DID_OK;
    r->detail[0] = '\0';
    r->document = NULL;
    r->document_metadata = json_object();
    snprintf(r->content_type, sizeof r->content_type, "application/did+ld+json");
    r->from_cache = false;
}

void ca_did_result_clear(ca_did_result *r)
{
    json_decref(r->document);
    json_decref(r->document_metadata);
    ca_did_result_init(r);
}

void ca_did_result_free(ca_did_result *r)
{
    json_decref(r->document);
    json_decref(r->document_metadata);
    r->document = r->document_metadata = NULL;
}

ca_did_error ca_did_fail(ca_did_result *r, ca_did_error e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
    r->error = e;
    json_decref(r->document);
    r->document = NULL;
    return e;
}
