/* Signed checkpoint notes and verifier keys (anchor/checkpoint.c). The whole input is tried
 * as a note opened with a fixed verifier (the key of the seed notes in corpus/checkpoint, so
 * mutations of those reach the signature check), and as a verifier key; a key that parses is
 * re-formatted and must round-trip, and then is used to open the same input as a note. */
#include "credanchor/checkpoint.h"
#include "fuzz_common.h"

/* `credanchor checkpoint --key` of the data dir the seed corpus was made with. */
#define FUZZ_VKEY "localhost:8080/credanchor+e9884e8f+Aaor1fqKzLEjlcO6sW50/GumPfaOJuPPP6CzFEkP8L03"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ca_note_verifier fixed;
    static int have_fixed;
    if (!have_fixed) {
        ca_errbuf eb = {{0}};
        FUZZ_CHECK(ca_verifier_key_parse(&fixed, FUZZ_VKEY, strlen(FUZZ_VKEY), &eb) == CA_OK);
        have_fixed = 1;
    }

    char *in = (char *)fuzz_memdup(data, size);
    ca_errbuf eb = {{0}};
    ca_checkpoint cp;
    ca_err err = ca_checkpoint_open(&cp, in, size, &fixed, &eb);
    if (err == CA_OK) {
        FUZZ_CHECK(memchr(cp.origin, '\0', sizeof cp.origin) != NULL);
        FUZZ_CHECK(strcmp(cp.origin, fixed.name) == 0);
    }

    ca_note_verifier v;
    memset(&v, 0, sizeof v);
    if (ca_verifier_key_parse(&v, in, size, &eb) == CA_OK) {
        FUZZ_CHECK(memchr(v.name, '\0', sizeof v.name) != NULL);
        char text[CA_VERIFIER_KEY_MAX];
        ca_verifier_key_format(text, v.name, v.pub);
        ca_note_verifier v2;
        FUZZ_CHECK(ca_verifier_key_parse(&v2, text, strlen(text), &eb) == CA_OK);
        FUZZ_CHECK(strcmp(v.name, v2.name) == 0);
        FUZZ_CHECK(memcmp(v.key_id, v2.key_id, 4) == 0 && memcmp(v.pub, v2.pub, sizeof v.pub) == 0);
        (void)ca_checkpoint_open(&cp, in, size, &v, &eb);
    }
    free(in);
    return 0;
}
