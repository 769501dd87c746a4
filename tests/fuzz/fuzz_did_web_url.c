/* did:web DID -> https URL (did/did_web.c). No crash or overflow for any text, including
 * ones that fill the output exactly; a success is a NUL-terminated "https://" URL ending in
 * "/did.json" that fits the capacity; a failure leaves a message. */
#include "credanchor/did_resolve.h"
#include "fuzz_common.h"

static void one(const char *did, size_t cap)
{
    char *out = malloc(cap ? cap : 1); /* exact size: ASan catches a write past cap */
    if (!out)
        abort();
    ca_errbuf eb = {{0}};
    ca_err err = ca_did_web_url(out, cap, did, &eb);
    if (err == CA_OK) {
        size_t n = strnlen(out, cap);
        FUZZ_CHECK(n < cap);
        FUZZ_CHECK(strncmp(out, "https://", 8) == 0);
        FUZZ_CHECK(n >= 9 && strcmp(out + n - 9, "/did.json") == 0);
    } else {
        FUZZ_CHECK(eb.msg[0] != '\0');
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * CA_DID_TEXT_MAX)
        return 0;
    char *did = fuzz_strndup(data, size);
    one(did, CA_DID_TEXT_MAX + 64);
    /* A small capacity derived from the input: exercises the too-small paths. */
    one(did, 1 + (size ? (size_t)data[size - 1] % 128 : 0));

    /* And as the method-specific part. */
    static const char prefix[] = "did:web:";
    char *full = malloc(sizeof prefix + size);
    if (!full)
        abort();
    memcpy(full, prefix, sizeof prefix - 1);
    memcpy(full + sizeof prefix - 1, did, size + 1);
    one(full, CA_DID_TEXT_MAX + 64);
    free(full);
    free(did);
    return 0;
}
