/*
 * The node's state on disk (SPEC §0, §6): one data dir holding
 *   db/          the LMDB environment (node/store.c documents its tables)
 *   keys/        log.key (Ed25519, signs checkpoints), anchor.key (secp256k1, signs anchor
 *                transactions), issuer.key (Ed25519, signs credentials and status lists),
 *                issuer-es256k.key, issuer-es256.key, issuer-rs256.key (the issuer's keys for
 *                the other VC-JWT algorithms, SPEC §5); each encrypted at rest under
 *                node.key_passphrase_file (node/keystore.h)
 *   keys/archive/  keys replaced by `keys rotate`: log-<hex key id>.key, issuer-<n>.key
 *                (n as in the DID document's "#key-n") and issuer-es256k-<n>.key,
 *                issuer-es256-<n>.key, issuer-rs256-<n>.key ("#es256k-n", ...), still
 *                encrypted
 *   passphrase   the default node.key_passphrase_file, created by init when missing
 * ca_node bundles what a verb or the server opens: config, store, log and the keys it asked
 * for. Conventions: common.h.
 */
#ifndef CREDANCHOR_NODE_H
#define CREDANCHOR_NODE_H

#include "credanchor/checkpoint.h"
#include "node/config.h"
#include "credanchor/crypto.h"
#include "node/log.h"
#include "credanchor/signer.h"
#include "node/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_DID_MAX 512

typedef struct ca_node {
    ca_config cfg;
    ca_store *store;
    ca_log *log;
    ca_ed25519_key *log_key;    /* loaded with CA_NODE_WRITE */
    ca_ed25519_key *issuer_key; /* loaded with CA_NODE_ISSUER_KEY */
    /* Credential signers by ca_jws_alg, loaded with CA_NODE_ISSUER_KEY: [CA_ALG_EDDSA] is
     * issuer.key; an alg whose key file is missing from an older data dir opened read-only
     * is NULL (opened for writing, the missing files are created). */
    ca_signer *issuer_signers[CA_ALG_RS256 + 1];
    uint8_t anchor_address[CA_ETH_ADDRESS_SIZE];
    bool have_anchor_address;   /* loaded with CA_NODE_ANCHOR_ADDRESS */
    char did[CA_DID_MAX];       /* the issuer DID (did:web of node.public_url) */
    /* Passed on-chain checks of final anchors (anchor_check.h), set by `serve` for the
     * /verification route (node/verify_env.c) and the anchoring engine, which forgets an
     * entry on a reorg; NULL elsewhere (nothing remembered). Not owned by the node. */
    struct ca_anchor_check_cache *anchor_checks;
    /* The data key for contact data at rest (node/data_key.h: people's names and emails),
     * loaded with CA_NODE_DATA_KEY; NULL otherwise. */
    struct ca_data_key *data_key;
} ca_node;

enum ca_node_flags {
    CA_NODE_READ_ONLY = 0,          /* no writer lock, no secrets: reads only */
    CA_NODE_WRITE = 1 << 0,         /* the writer lock and the log key: appends */
    CA_NODE_ISSUER_KEY = 1 << 1,    /* decrypt the issuer key */
    CA_NODE_ANCHOR_ADDRESS = 1 << 2, /* decrypt the anchor key for its address, then wipe it */
    CA_NODE_ADMIN_WRITE = 1 << 3,    /* write tokens and audit entries beside a serving node;
                                        the log stays read-only */
    CA_NODE_NO_ROTATION_CHECK = 1 << 4, /* leave an interrupted key rotation to the caller
                                          (keys rotate); otherwise a writer open finishes it,
                                          and other opens of the issuer keys are refused */
    CA_NODE_DATA_KEY = 1 << 5           /* decrypt the data key (people's contact data); a
                                          writable open creates it while no user exists */
};

/* Opens the node in cfg->node_data_dir. CA_ERR_NOT_FOUND when it was never initialised,
 * CA_ERR_LOCKED when another process writes to it, CA_ERR_PERMISSION for key files or a
 * data dir that others can read. */
ca_err ca_node_open(ca_node **node, const ca_config *cfg, unsigned flags, ca_errbuf *eb);
void ca_node_close(ca_node *node);

typedef struct ca_init_report {
    bool created;                        /* false: the data dir existed; keys reported */
    char did[CA_DID_MAX];
    char anchor_address[43];             /* 0x + 40 hex */
    char log_key[CA_VERIFIER_KEY_MAX];   /* the verifier key */
    char passphrase_file[CA_CONFIG_STR_MAX];
} ca_init_report;

/* `credanchor init`: creates the data dir (0700), the passphrase file when missing (0600),
 * the three keys and the log with its origin (log.origin, or the host of node.public_url plus
 * "/credanchor"), then reports them. On an initialised data dir it only reports. */
ca_err ca_node_init(ca_init_report *report, const ca_config *cfg, ca_errbuf *eb);

/* Reads and decrypts the anchor key into secret; the caller wipes it. */
ca_err ca_node_anchor_secret(const ca_node *node, uint8_t secret[CA_SECP256K1_SECRET_SIZE],
                             ca_errbuf *eb);

/* ---- key rotation (credanchor keys rotate; node/keys.c documents the file steps) ---- */

#define CA_ISSUER_KEYS_MAX 32   /* per algorithm */
#define CA_MULTIBASE_KEY_MAX 128
#define CA_ISSUER_ALGS 4        /* issuer signing keys: Ed25519, ES256K, ES256, RS256 */
#define CA_ISSUER_FRAGMENT_MAX 24 /* "es256k-32" */

typedef struct ca_key_rotation {
    bool resumed;                         /* finished a rotation a crash interrupted */
    char old_key[CA_VERIFIER_KEY_MAX];    /* log: verifier key; issuer: publicKeyMultibase */
    char new_key[CA_VERIFIER_KEY_MAX];
    char archived[CA_CONFIG_STR_MAX + 96]; /* where the old key file went (issuer: Ed25519's) */
    uint64_t tree_size;                   /* log: the size at rotation (old toSize, new fromSize) */
    char note[CA_NOTE_MAX];               /* log: the checkpoint the new key signed */
    size_t note_len;
    size_t nkeys;                         /* issuer: Ed25519 keys the DID document now lists */
    /* issuer: the fragment of every new verification method, "key-2", "es256k-2", ... (the
     * keys this rotation replaced, or whose interrupted rotation it finished) */
    char rotated[CA_ISSUER_ALGS][CA_ISSUER_FRAGMENT_MAX];
    char rotated_archived[CA_ISSUER_ALGS][CA_CONFIG_STR_MAX + 96]; /* where each old file went */
    size_t nrotated;
} ca_key_rotation;

/* Rotates the log key: needs a node opened with CA_NODE_WRITE (the writer lock, so the node
 * must be stopped). See ca_log_rotate_key; the audit log records it. */
ca_err ca_node_rotate_log_key(ca_node *node, ca_key_rotation *r, ca_errbuf *eb);
/* Rotates every issuer signing key the node has (Ed25519 issuer.key and the JOSE keys
 * issuer-es256k.key, issuer-es256.key, issuer-rs256.key) in one store transaction: needs
 * CA_NODE_WRITE | CA_NODE_ISSUER_KEY. The old public keys stay in the histories, so the own
 * DID document keeps listing them; node->issuer_key and node->issuer_signers get the new
 * keys. */
ca_err ca_node_rotate_issuer_key(ca_node *node, ca_key_rotation *r, ca_errbuf *eb);

/* `keys migrate` (issue #13 item 7): creates the JOSE issuer key files a data dir from before
 * their algorithms lacks, records them in the store's key histories and writes an audit
 * entry. Opens never create keys, and refuse when a history names a key whose file is
 * missing, so only algs that never had a key get one. Needs CA_NODE_WRITE |
 * CA_NODE_ISSUER_KEY; node->issuer_signers gets the new keys. */
typedef struct ca_key_migration {
    char created[CA_ISSUER_ALGS][32]; /* the key files created, e.g. "issuer-es256k.key" */
    size_t ncreated;
} ca_key_migration;
ca_err ca_node_migrate_issuer_keys(ca_node *node, ca_key_migration *m, ca_errbuf *eb);

/* For `check`: decrypts every key file (the passphrase is needed) and compares log.key with
 * the log's verifier key and each issuer key file with the newest key of its history.
 * CA_ERR_VERIFY (with the file named) on a mismatch or a missing file the store names; *checked
 * gets the number of files that matched. Works on a read-only open. */
ca_err ca_node_check_keys(ca_node *node, size_t *checked, ca_errbuf *eb);

/* One issuer key ever used (meta "issuer_keys"). */
typedef struct ca_issuer_key {
    int64_t valid_from;                   /* unix seconds it signs from; 0 = since init */
    char multibase[CA_MULTIBASE_KEY_MAX]; /* publicKeyMultibase (Ed25519 Multikey) */
    uint8_t pub[CA_ED25519_PUB_SIZE];
} ca_issuer_key;

/* Every issuer key, oldest first (so "#key-n" ids never change); current (may be NULL), the
 * key in issuer.key, is appended when the history does not end with it (a node never
 * rotated has no history). keys holds cap entries; *n gets the count. */
ca_err ca_node_issuer_keys(ca_store *store, const ca_ed25519_key *current, ca_issuer_key *keys,
                           size_t cap, size_t *n, ca_errbuf *eb);

/* One JOSE issuer key ever used (meta "issuer_keys_es256k", "issuer_keys_es256",
 * "issuer_keys_rs256"). */
typedef struct ca_issuer_jwk {
    int64_t valid_from;                   /* unix seconds it signs from; 0 = since init */
    json_t *jwk;                          /* the public JWK (owned: ca_node_issuer_jwks_free) */
} ca_issuer_jwk;

/* Every issuer key of alg (CA_ALG_ES256K, CA_ALG_ES256 or CA_ALG_RS256), oldest first (so
 * "#es256k-n" ids never change); current (may be NULL), the signer of the key file, is
 * appended when the history does not end with it (a node never rotated has no history).
 * keys holds cap entries; *n gets the count; free them with ca_node_issuer_jwks_free. */
ca_err ca_node_issuer_jwks(ca_store *store, ca_jws_alg alg, const ca_signer *current,
                           ca_issuer_jwk *keys, size_t cap, size_t *n, ca_errbuf *eb);
void ca_node_issuer_jwks_free(ca_issuer_jwk *keys, size_t n);

/* The fragment prefix of alg's issuer keys in the own DID document: "key" (EdDSA: "#key-n"),
 * "es256k", "es256", "rs256"; NULL for anything else. */
const char *ca_node_issuer_fragment(ca_jws_alg alg);

/* The default origin for a public URL: host[:port] + "/credanchor" (SPEC §1). */
ca_err ca_node_default_origin(char *out, size_t cap, const char *public_url, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
