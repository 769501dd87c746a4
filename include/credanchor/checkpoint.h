/*
 * Checkpoints as C2SP tlog-checkpoint signed notes (SPEC §1):
 *
 *   <origin>\n<tree size>\n<base64 root>\n\n— <key name> <base64(4-byte key id || sig)>\n
 *
 * The key name is the origin; key id = SHA-256(name || 0x0A || 0x01 || pubkey)[0:4]
 * (C2SP signed-note, Ed25519 type 0x01). The signature covers exactly the checkpoint body
 * "<origin>\n<size>\n<base64 root>\n". Verifier keys are "<name>+<hex key id>+<base64(0x01 ||
 * pubkey)>". Conventions: common.h.
 */
#ifndef CREDANCHOR_CHECKPOINT_H
#define CREDANCHOR_CHECKPOINT_H

#include "credanchor/common.h"
#include "credanchor/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_ORIGIN_MAX 256      /* longest origin / key name accepted */
#define CA_NOTE_MAX 1024       /* longest signed checkpoint note we produce or accept */
#define CA_VERIFIER_KEY_MAX 512

typedef struct ca_note_verifier {
    char name[CA_ORIGIN_MAX + 1];
    uint8_t key_id[4];
    uint8_t pub[CA_ED25519_PUB_SIZE];
} ca_note_verifier;

typedef struct ca_checkpoint {
    char origin[CA_ORIGIN_MAX + 1];
    uint64_t size;
    ca_hash root;
} ca_checkpoint;

void ca_note_key_id(uint8_t id[4], const char *name, const uint8_t pub[CA_ED25519_PUB_SIZE]);

/* Formats the verifier key into out (CA_VERIFIER_KEY_MAX bytes, NUL-terminated). */
void ca_verifier_key_format(char *out, const char *name, const uint8_t pub[CA_ED25519_PUB_SIZE]);
/* Parses and checks a verifier key (the key id must match the name and key). */
ca_err ca_verifier_key_parse(ca_note_verifier *v, const char *text, size_t len, ca_errbuf *eb);

/* Signs checkpoint cp with key (whose name is cp->origin) and writes the note into out
 * (CA_NOTE_MAX bytes, NUL-terminated); *out_len gets its length. */
ca_err ca_checkpoint_sign(char *out, size_t *out_len, const ca_checkpoint *cp,
                          const ca_ed25519_key *key, ca_errbuf *eb);

/* Parses a signed note and checks that a signature line by v's name and key id verifies.
 * Other signature lines are ignored, as C2SP signed-note says. CA_ERR_INVALID for a malformed
 * note, CA_ERR_VERIFY when no line by v verifies. */
ca_err ca_checkpoint_open(ca_checkpoint *cp, const char *note, size_t len,
                          const ca_note_verifier *v, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
