/*
 * node/keys.h — what node/node.c (opening and creating the data dir) and node/keys.c (key
 * rotation, the issuer key histories, the key files against the store) share. Daemon-only;
 * the public calls stay in credanchor/node.h. Conventions: credanchor/common.h.
 */
#ifndef CREDANCHOR_NODE_KEYS_H
#define CREDANCHOR_NODE_KEYS_H

#include "node/keystore.h"
#include "node/log.h"
#include "node/node.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CA_KEYFILE_LOG "log.key"
#define CA_KEYFILE_ANCHOR "anchor.key"
#define CA_KEYFILE_ISSUER "issuer.key"

/* The issuer's signing keys (SPEC §5), one key file each: issuer.key (Ed25519) serves EdDSA
 * and eddsa-jcs-2022 and is listed in the did:web document as Multikey methods "#key-n"; the
 * keys for the other JOSE algorithms as JsonWebKey methods "#es256k-n", "#es256-n",
 * "#rs256-n". n numbers an algorithm's keys, oldest first: 1 until the first
 * `keys rotate --issuer`, which replaces every one of them (the histories in meta:
 * node/keys.c). */
typedef struct ca_issuer_slot {
    ca_jws_alg alg;
    const char *file;     /* under keys/; archived as keys/archive/<file minus .key>-<n>.key */
    ca_key_kind kind;
    const char *fragment; /* the methods' fragment prefix */
    const char *meta;     /* the store's key history */
} ca_issuer_slot;

#define CA_ISSUER_SLOTS CA_ISSUER_ALGS
/* One per issuer algorithm (node/node.c). */
extern const ca_issuer_slot ca_issuer_slots[CA_ISSUER_SLOTS];

/* The slot of alg, or NULL. */
const ca_issuer_slot *ca_issuer_slot_of(ca_jws_alg alg);

/* out = "dir/name"; CA_ERR_TOO_LARGE when it does not fit in cap. */
ca_err ca_node_join_path(char *out, size_t cap, const char *dir, const char *name,
                         ca_errbuf *eb);

/* mkdir 0700; an existing path is fine. */
ca_err ca_node_make_dir(const char *path, ca_errbuf *eb);

/* Decrypts one key file of the expected kind into secret (*len: in the capacity, out the
 * length; 32-byte kinds must be exactly 32); the caller wipes it. */
ca_err ca_node_read_key_any(uint8_t *secret, size_t *len, const ca_config *cfg, const char *name,
                            ca_key_kind want, ca_errbuf *eb);

/* Loads the Ed25519 key file keys/name. */
ca_err ca_node_load_ed25519(ca_ed25519_key **key, const ca_config *cfg, const char *name,
                            ca_errbuf *eb);

/* Creates the key file of slot k under keys_dir, encrypted with pass. */
ca_err ca_node_create_alg_key(const char *keys_dir, const ca_issuer_slot *k, const char *pass,
                              size_t pass_len, ca_errbuf *eb);

/* The checks an open runs (node/node.c, node_open), defined in node/keys.c: finishing a log
 * or issuer key rotation a crash interrupted, and the issuer key files against the store's
 * histories. See their comments there. */
ca_err ca_node_check_log_rotation(ca_node *node, ca_log_options *lo, ca_errbuf *eb);
ca_err ca_node_check_issuer_rotation(ca_node *node, bool writer, ca_errbuf *eb);
ca_err ca_node_check_issuer_key_files(ca_node *node, bool writer, ca_errbuf *eb);

#endif
