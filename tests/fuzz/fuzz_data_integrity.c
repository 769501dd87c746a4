/* eddsa-jcs-2022 Data Integrity verification (credential/data_integrity.c, W3C Data Integrity
 * EdDSA Cryptosuites v1.0 REC §3.3.2): the input is parsed as JSON and verified with the
 * REC's fixed public key (appendix "Representation: eddsa-jcs-2022"). No crash, only the
 * documented codes, a message with every failure, a NUL-terminated info, and agreement
 * between the structural pass (pub NULL) and the full one: a proof that verifies is also
 * well formed, and a well-formed proof fails only with CA_ERR_VERIFY. The JCS form of the
 * parsed value, when it exists, is itself canonical. */
#include "credanchor/data_integrity.h"
#include "credanchor/jcs.h"
#include "fuzz_common.h"

#include <jansson.h>

/* z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2 without its multicodec header. */
static const uint8_t w3c_pub[32] = {
    0xb0, 0x0d, 0x8d, 0x93, 0x8e, 0x7f, 0x77, 0x3d, 0x51, 0x56, 0x5a, 0xad, 0x36, 0xa6, 0x23, 0xf5,
    0x34, 0x4f, 0x7f, 0x5d, 0x19, 0x60, 0xf9, 0xcf, 0x3e, 0x8e, 0x12, 0x62, 0x0e, 0xa2, 0x81, 0x0f,
};

static bool nul_terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0; /* jansson is not under test; keep runs fast */
    char *in = (char *)fuzz_memdup(data, size);
    json_error_t jerr;
    json_t *doc = json_loadb(in, size, JSON_DECODE_ANY, &jerr);
    char *canon = NULL, *again = NULL;
    if (!doc)
        goto out;

    ca_errbuf eb = {{0}};
    ca_di_proof_info info;
    ca_err full = ca_di_verify(doc, w3c_pub, &info, &eb);
    FUZZ_CHECK(full == CA_OK || full == CA_ERR_INVALID || full == CA_ERR_VERIFY ||
               full == CA_ERR_TOO_LARGE || full == CA_ERR_NOMEM);
    if (full != CA_OK)
        FUZZ_CHECK(eb.msg[0] != '\0');
    FUZZ_CHECK(nul_terminated(info.verification_method, sizeof info.verification_method));
    FUZZ_CHECK(nul_terminated(info.proof_purpose, sizeof info.proof_purpose));

    ca_errbuf eb2 = {{0}};
    ca_err shape = ca_di_verify(doc, NULL, NULL, &eb2);
    if (full == CA_OK)
        FUZZ_CHECK(shape == CA_OK);
    if (shape == CA_OK)
        FUZZ_CHECK(full == CA_OK || full == CA_ERR_VERIFY);

    size_t canon_len = 0, again_len = 0;
    if (ca_jcs_of_json(&canon, &canon_len, doc, &eb) == CA_OK) {
        FUZZ_CHECK(canon[canon_len] == '\0');
        FUZZ_CHECK(ca_jcs_canonicalize(&again, &again_len, canon, canon_len,
                                       6 * canon_len + 64, &eb) == CA_OK);
        FUZZ_CHECK(again_len == canon_len && memcmp(again, canon, canon_len) == 0);
    } else {
        FUZZ_CHECK(canon == NULL);
    }

out:
    free(again);
    free(canon);
    json_decref(doc);
    free(in);
    return 0;
}
