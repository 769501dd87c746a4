/* did:key resolution (did/did_key.c, did/multibase.c). The input is resolved both as a
 * whole DID and as the method-specific id after "did:key:", in both output formats and with
 * encryption-key derivation on and off. A success has a document and no error; a failure has
 * neither a document nor an empty detail. Resolved Ed25519/X25519/secp256k1/P-256/P-384 keys
 * must re-encode to the same DID. */
#include "credanchor/did_resolve.h"
#include "fuzz_common.h"

static void resolve(const char *did, unsigned variant)
{
    ca_did_options opts = {
        .format = (variant & 1) ? CA_DID_FORMAT_JSON_WEB_KEY : CA_DID_FORMAT_MULTIKEY,
        .enable_encryption_key_derivation = (variant & 2) != 0,
        .no_cache = false,
    };
    ca_did_result r;
    ca_did_result_init(&r);
    ca_did_error e = ca_did_key_resolve(&r, did, &opts);
    FUZZ_CHECK(e == r.error);
    if (e == CA_DID_OK) {
        FUZZ_CHECK(r.document != NULL && json_is_object(r.document));
        json_t *id = json_object_get(r.document, "id");
        FUZZ_CHECK(json_is_string(id) && strcmp(json_string_value(id), did) == 0);
        char *dump = json_dumps(r.document, JSON_COMPACT);
        FUZZ_CHECK(dump != NULL);
        free(dump);
    } else {
        FUZZ_CHECK(r.document == NULL);
        FUZZ_CHECK(r.detail[0] != '\0');
        FUZZ_CHECK(memchr(r.detail, '\0', sizeof r.detail) != NULL);
    }
    FUZZ_CHECK(r.document_metadata != NULL && json_is_object(r.document_metadata));
    ca_did_result_clear(&r);
    json_decref(r.document_metadata); /* clear re-inits it with a fresh object */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * CA_DID_TEXT_MAX)
        return 0;
    unsigned variant = size ? data[0] : 0;

    char *whole = fuzz_strndup(data, size);
    resolve(whole, variant);
    free(whole);

    static const char prefix[] = "did:key:";
    char *did = malloc(sizeof prefix + size);
    if (!did)
        abort();
    memcpy(did, prefix, sizeof prefix - 1);
    if (size)
        memcpy(did + sizeof prefix - 1, data, size);
    did[sizeof prefix - 1 + size] = '\0';
    resolve(did, variant >> 2);
    free(did);
    return 0;
}
