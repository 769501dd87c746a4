/* Offline inclusion-proof checking (anchor/proof_check.c) with a fixed verifier: the key of
 * the seed proofs in corpus/proof, so mutations that keep the checkpoint intact exercise the
 * Merkle path and the signature check. On CA_OK the report must be self-consistent. */
#include "credanchor/proof.h"
#include "fuzz_common.h"

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
    if (size > CA_PROOF_MAX_BYTES)
        return 0;

    char *in = (char *)fuzz_memdup(data, size);
    ca_errbuf eb = {{0}};
    ca_proof_report rep;
    memset(&rep, 0, sizeof rep);
    ca_err err = ca_proof_check(&rep, in, size, &fixed, &eb);
    if (err == CA_OK) {
        FUZZ_CHECK(rep.leaf_index < rep.tree_size);
        FUZZ_CHECK(rep.checkpoint.size == rep.tree_size);
        FUZZ_CHECK(memcmp(rep.checkpoint.root.b, rep.root.b, CA_HASH_SIZE) == 0);
    } else {
        FUZZ_CHECK(eb.msg[0] != '\0');
    }
    free(in);
    return 0;
}
