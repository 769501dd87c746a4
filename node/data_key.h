/*
 * The node's data key: encryption at rest for contact data (people's emails, names), which
 * the node needs in clear only to deliver to them or show them to an admin (issue #16
 * accounts, issue #18 recipient contact data, ISO 27001 A.8.24 / ISO 27701).
 *
 * One random 32-byte secret, kept in the keystore like the signing keys (an encrypted key
 * file, "<data_dir>/keys/data.key", under the node's passphrase), created on first use. Two
 * keys are derived from it with HKDF-SHA256 (RFC 5869), each with its own info string, so the
 * secret itself never touches data:
 *   - the sealing key (AES-256-GCM): a field is sealed as version(1) || nonce(12) ||
 *     ciphertext || tag(16), with associated data naming the record and field it belongs to,
 *     so a sealed value copied into another record does not open;
 *   - the blind-index key (HMAC-SHA256): an equality-searchable fingerprint of a normalised
 *     value (an email, lower-cased and trimmed), so a record can be found by email without
 *     storing the email in clear or decrypting every record.
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_DATA_KEY_H
#define CREDANCHOR_DATA_KEY_H

#include "credanchor/common.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ca_data_key ca_data_key; /* opaque; holds derived keys, wiped on free */

#define CA_SEAL_OVERHEAD (1 + 12 + 16) /* version, nonce, tag */
#define CA_BLIND_INDEX_LEN 32

/* Loads "<keys_dir>/data.key" with the passphrase, creating it (random secret, mode 0600,
 * atomic write; keys_dir made mode 0700 if missing) when absent and create is true; a file
 * another process created first is read, never replaced. CA_ERR_NOT_FOUND when absent and
 * !create; CA_ERR_INVALID when the file holds another kind of key; keystore errors
 * (CA_ERR_VERIFY for a wrong passphrase, CA_ERR_PERMISSION for a readable file) as
 * ca_keyfile_read gives them. *key is NULL on failure. */
ca_err ca_data_key_open(ca_data_key **key, const char *keys_dir, const char *pass,
                        size_t pass_len, bool create, ca_errbuf *eb);
void ca_data_key_free(ca_data_key *key);

/* Seals plain (plain_len bytes) into out, which must hold plain_len + CA_SEAL_OVERHEAD bytes;
 * *out_len gets the sealed length. aad (may be NULL with aad_len 0) binds the value to its
 * place, e.g. "user:<id>:email". A fresh random nonce per call. */
ca_err ca_data_seal(const ca_data_key *key, uint8_t *out, size_t *out_len, const uint8_t *plain,
                    size_t plain_len, const void *aad, size_t aad_len, ca_errbuf *eb);

/* Opens a sealed value into out (capacity *out_len in, plain length out; sealed_len -
 * CA_SEAL_OVERHEAD bytes suffice). CA_ERR_VERIFY when the tag fails (wrong key, wrong aad,
 * tampered), CA_ERR_INVALID for a value too short or of an unknown version. */
ca_err ca_data_open(const ca_data_key *key, uint8_t *out, size_t *out_len, const uint8_t *sealed,
                    size_t sealed_len, const void *aad, size_t aad_len, ca_errbuf *eb);

/* The blind index of an email: HMAC-SHA256(blind key, "email:" || lower-cased, trimmed
 * address). Two spellings that differ only in ASCII case or surrounding spaces match. */
void ca_data_blind_email(const ca_data_key *key, uint8_t out[CA_BLIND_INDEX_LEN],
                         const char *email);

#ifdef __cplusplus
}
#endif
#endif
