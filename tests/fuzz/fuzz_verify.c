/* Credential verification (credential/verify.c): no crash, leak or hang on any presented
 * text. The env answers without any network: did:key DIDs resolve offline (did/did_key.c, so
 * signature checks are reached), everything else fails at once — no did:web, no status list,
 * no inclusion proof, no log keys, no chain. Invariants: CA_OK fills a report whose inclusion
 * check fails ("digest not in the log"), so it is never verified, whose anchor is pending, and
 * whose JSON form builds; an error is CA_ERR_INVALID or CA_ERR_TOO_LARGE with a sentence. */
#include "credanchor/did_resolve.h"
#include "credanchor/verify.h"
#include "fuzz_common.h"

static ca_err fz_resolve(void *ctx, const char *did, json_t **doc, ca_errbuf *eb)
{
    (void)ctx;
    if (strncmp(did, "did:key:", 8) != 0)
        return ca_fail(eb, CA_ERR_NETWORK, "fuzz: no network");
    ca_did_result r;
    ca_did_result_init(&r);
    ca_did_options o = {.format = CA_DID_FORMAT_MULTIKEY};
    ca_err err = CA_OK;
    if (ca_did_key_resolve(&r, did, &o) == CA_DID_OK)
        *doc = json_incref(r.document);
    else
        err = ca_fail(eb, CA_ERR_INVALID, "fuzz: %s", r.detail);
    ca_did_result_free(&r);
    return err;
}

static ca_err fz_fetch(void *ctx, const char *url, char **body, size_t *len, ca_errbuf *eb)
{
    (void)ctx;
    (void)url;
    (void)body;
    (void)len;
    return ca_fail(eb, CA_ERR_NETWORK, "fuzz: no network");
}

static ca_err fz_proof(void *ctx, const char *digest_hex, char **body, size_t *len,
                       ca_errbuf *eb)
{
    (void)ctx;
    (void)body;
    (void)len;
    FUZZ_CHECK(strlen(digest_hex) == 64);
    return ca_fail(eb, CA_ERR_NOT_FOUND, "fuzz: not in the log");
}

static ca_err fz_keys(void *ctx, ca_note_verifier *v, size_t *n, ca_errbuf *eb)
{
    (void)ctx;
    (void)v;
    (void)n;
    return ca_fail(eb, CA_ERR_NETWORK, "fuzz: no network");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = (char *)fuzz_memdup(data, size);
    ca_verify_env env = {.resolve_did = fz_resolve,
                         .fetch_url = fz_fetch,
                         .fetch_proof = fz_proof,
                         .log_keys = fz_keys,
                         .now = 1735689600,
                         .min_confirmations = 1};
    ca_verify_report r;
    ca_errbuf eb = {{0}};
    ca_err err = ca_verify_credential(&r, in, size, &env, &eb);
    if (err == CA_OK) {
        FUZZ_CHECK(!r.verified);
        FUZZ_CHECK(r.inclusion.result == CA_CHECK_FAIL);
        FUZZ_CHECK(r.anchor.result == CA_CHECK_PENDING);
        FUZZ_CHECK(!strcmp(r.format, "vc+jwt") || !strcmp(r.format, "eddsa-jcs-2022"));
        FUZZ_CHECK(r.signature.detail[0] && r.status.detail[0]);
        json_t *j = ca_verify_report_json(&r);
        FUZZ_CHECK(j != NULL);
        json_decref(j);
    } else {
        FUZZ_CHECK(err == CA_ERR_INVALID || err == CA_ERR_TOO_LARGE || err == CA_ERR_NOMEM);
        FUZZ_CHECK(eb.msg[0] != '\0');
        FUZZ_CHECK(!r.verified);
    }
    free(in);
    return 0;
}
