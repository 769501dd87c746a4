/*
 * node/node.c — the data dir: creating it (init) and opening it for a verb or the server.
 * Layout: node/node.h; key rotation and the issuer key histories: node/keys.c.
 * Keys are decrypted only when a flag asks for them, and
 * decrypted secrets are wiped as soon as the key object (or address) is made.
 */
#include "node/node.h"

#include "node/auth.h"
#include "node/data_key.h"
#include "node/users.h"
#include "credanchor/did.h"
#include "credanchor/did_resolve.h"
#include "credanchor/encoding.h"
#include "node/keystore.h"
#include "credanchor/multibase.h"
#include "node/store.h"
#include "node/keys.h"
#include "node/node_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Declared with its size in node/keys.h: one slot per issuer algorithm. */
const ca_issuer_slot ca_issuer_slots[] = {
    {CA_ALG_EDDSA, CA_KEYFILE_ISSUER, CA_KEY_ED25519, "key", "issuer_keys"},
    {CA_ALG_ES256K, "issuer-es256k.key", CA_KEY_SECP256K1, "es256k", "issuer_keys_es256k"},
    {CA_ALG_ES256, "issuer-es256.key", CA_KEY_P256, "es256", "issuer_keys_es256"},
    {CA_ALG_RS256, "issuer-rs256.key", CA_KEY_RSA, "rs256", "issuer_keys_rs256"},
};

const ca_issuer_slot *ca_issuer_slot_of(ca_jws_alg alg)
{
    for (size_t i = 0; i < CA_ISSUER_SLOTS; i++)
        if (ca_issuer_slots[i].alg == alg)
            return &ca_issuer_slots[i];
    return NULL;
}

const char *ca_node_issuer_fragment(ca_jws_alg alg)
{
    const ca_issuer_slot *s = ca_issuer_slot_of(alg);
    return s ? s->fragment : NULL;
}

ca_err ca_node_join_path(char *out, size_t cap, const char *dir, const char *name,
                         ca_errbuf *eb)
{
    if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "path %s/%s is too long", dir, name);
    return CA_OK;
}

/* The data dir must exist, be a directory, and be closed to group and others: it holds the
 * store and the key files. */
static ca_err check_data_dir(const char *dir, ca_errbuf *eb)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return ca_fail(eb, CA_ERR_NOT_FOUND,
                           "data dir %s does not exist (run credanchor init)", dir);
        return ca_fail(eb, CA_ERR_IO, "data dir %s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return ca_fail(eb, CA_ERR_INVALID, "data dir %s is not a directory", dir);
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return ca_fail(eb, CA_ERR_PERMISSION,
                       "data dir %s is open to other users (mode %03o); run chmod 700 %s", dir,
                       (unsigned)(st.st_mode & 0777), dir);
    return CA_OK;
}

ca_err ca_node_make_dir(const char *path, ca_errbuf *eb)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return CA_OK;
    return ca_fail(eb, errno == ENOSPC ? CA_ERR_FULL : CA_ERR_IO, "cannot create %s: %s", path,
                   strerror(errno));
}

/* Whether dir/keys holds any of the node's key files: then the data dir has been initialised
 * and its keys have signed something (issue #13 item 8). */
static bool data_dir_has_keys(const char *dir)
{
    const char *names[3 + CA_ISSUER_SLOTS] = {CA_KEYFILE_LOG, CA_KEYFILE_ANCHOR};
    size_t n = 2;
    for (size_t i = 0; i < CA_ISSUER_SLOTS; i++)
        names[n++] = ca_issuer_slots[i].file; /* issuer.key among them */
    for (size_t i = 0; i < n; i++) {
        char path[CA_CONFIG_STR_MAX + 80];
        struct stat st;
        snprintf(path, sizeof path, "%s/keys/%s", dir, names[i]);
        if (lstat(path, &st) == 0)
            return true;
    }
    return false;
}

/* Decrypts one key file of the expected kind into secret (*len: in the capacity, out the
 * length; 32-byte kinds must be exactly 32); the caller wipes it. */
ca_err ca_node_read_key_any(uint8_t *secret, size_t *len, const ca_config *cfg, const char *name,
                            ca_key_kind want, ca_errbuf *eb)
{
    char keys_dir[CA_CONFIG_STR_MAX + 8], path[CA_CONFIG_STR_MAX + 64];
    char pass_path[CA_CONFIG_STR_MAX + 64], pass[CA_PASSPHRASE_MAX];
    size_t pass_len = 0, cap = *len;
    ca_key_kind kind;
    ca_err err;
    if ((err = ca_node_join_path(keys_dir, sizeof keys_dir, cfg->node_data_dir, "keys", eb)) ||
        (err = ca_node_join_path(path, sizeof path, keys_dir, name, eb)))
        return err;
    ca_config_passphrase_path(cfg, pass_path, sizeof pass_path);
    if ((err = ca_passphrase_load(pass, &pass_len, pass_path, eb)) != CA_OK)
        goto out;
    err = ca_keyfile_read(secret, len, &kind, path, pass, pass_len, eb);
    if (!err && (kind != want || (want != CA_KEY_RSA && *len != 32)))
        err = ca_fail(eb, CA_ERR_INVALID, "%s holds the wrong kind of key", path);
out:
    ca_wipe(pass, sizeof pass);
    if (err)
        ca_wipe(secret, cap);
    return err;
}

static ca_err read_key(uint8_t secret[32], const ca_config *cfg, const char *name,
                       ca_key_kind want, ca_errbuf *eb)
{
    size_t len = 32;
    return ca_node_read_key_any(secret, &len, cfg, name, want, eb);
}

ca_err ca_node_load_ed25519(ca_ed25519_key **key, const ca_config *cfg, const char *name,
                            ca_errbuf *eb)
{
    uint8_t seed[32];
    ca_err err = read_key(seed, cfg, name, CA_KEY_ED25519, eb);
    if (!err && (err = ca_ed25519_key_from_seed(key, seed)) != CA_OK)
        ca_fail(eb, err, "cannot load %s", name);
    ca_wipe(seed, sizeof seed);
    return err;
}

ca_err ca_node_anchor_secret(const ca_node *node, uint8_t secret[CA_SECP256K1_SECRET_SIZE],
                             ca_errbuf *eb)
{
    return read_key(secret, &node->cfg, CA_KEYFILE_ANCHOR, CA_KEY_SECP256K1, eb);
}

ca_err ca_node_default_origin(char *out, size_t cap, const char *public_url, ca_errbuf *eb)
{
    char host[256];
    unsigned port;
    ca_err err = ca_url_host_port(host, sizeof host, &port, public_url, eb);
    if (err)
        return err;
    size_t n = port ? (size_t)snprintf(out, cap, "%s:%u/credanchor", host, port)
                    : (size_t)snprintf(out, cap, "%s/credanchor", host);
    return n < cap ? CA_OK : ca_fail(eb, CA_ERR_TOO_LARGE, "origin too long");
}

void ca_node_close(ca_node *node)
{
    if (!node)
        return;
    ca_log_close(node->log);
    ca_store_close(node->store);
    ca_ed25519_key_free(node->log_key);
    ca_ed25519_key_free(node->issuer_key);
    ca_data_key_free(node->data_key);
    for (size_t i = 0; i < sizeof node->issuer_signers / sizeof node->issuer_signers[0]; i++)
        ca_signer_free(node->issuer_signers[i]);
    free(node);
}

static ca_err load_signers(ca_node *node, ca_errbuf *eb);

/* The data key (node/data_key.h). It is made on first need, but only while nothing is sealed
 * under it (no user yet): once contact data exists, a missing data.key is a lost key, which
 * is restored from a backup, never regenerated (as for the signing keys, issue #13 item 7). */
static ca_err load_data_key(ca_node *node, bool writable, ca_errbuf *eb)
{
    char keys_dir[CA_CONFIG_STR_MAX + 8], pass_path[CA_CONFIG_STR_MAX + 64];
    char pass[CA_PASSPHRASE_MAX];
    size_t pass_len = 0, users = 0;
    ca_err err;
    if ((err = ca_node_join_path(keys_dir, sizeof keys_dir, node->cfg.node_data_dir, "keys",
                                 eb)))
        return err;
    ca_config_passphrase_path(&node->cfg, pass_path, sizeof pass_path);
    if ((err = ca_passphrase_load(pass, &pass_len, pass_path, eb)))
        goto out;
    if (writable) {
        ca_user *list = NULL;
        err = ca_user_list(node->store, NULL, &list, &users, eb);
        free(list);
        if (err)
            goto out;
    }
    err = ca_data_key_open(&node->data_key, keys_dir, pass, pass_len, writable && users == 0,
                           eb);
    if (err == CA_ERR_NOT_FOUND)
        ca_fail(eb, err, "%s/data.key is missing%s", keys_dir,
                users ? " but people's data is sealed under it: restore it from a backup"
                      : "; open the node for writing (credanchor serve) to create it");
out:
    ca_wipe(pass, sizeof pass);
    return err;
}

static ca_err open_store(ca_store **store, const ca_config *cfg, bool read_only,
                         bool shared_writer, ca_errbuf *eb)
{
    char db[CA_CONFIG_STR_MAX + 8];
    ca_err err = ca_node_join_path(db, sizeof db, cfg->node_data_dir, "db", eb);
    if (err)
        return err;
    ca_store_options so = {.dir = db, .max_map_size = cfg->store_max_map_size,
                           .read_only = read_only, .shared_writer = shared_writer};
    return ca_store_open(store, &so, eb);
}

static ca_err node_open(ca_node **out, const ca_config *cfg, unsigned flags, ca_errbuf *eb)
{
    *out = NULL;
    ca_err err = check_data_dir(cfg->node_data_dir, eb);
    if (err)
        return err;
    ca_node *node = calloc(1, sizeof *node);
    if (!node)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    node->cfg = *cfg;
    if ((err = ca_did_web_from_url(node->did, sizeof node->did, cfg->node_public_url, eb)))
        goto fail;
    if ((flags & CA_NODE_WRITE) &&
        (err = ca_node_load_ed25519(&node->log_key, cfg, CA_KEYFILE_LOG, eb)))
        goto fail_key;
    if ((flags & CA_NODE_ISSUER_KEY) &&
        ((err = ca_node_load_ed25519(&node->issuer_key, cfg, CA_KEYFILE_ISSUER, eb)) ||
         (err = load_signers(node, eb))))
        goto fail_key;
    if (flags & CA_NODE_ANCHOR_ADDRESS) {
        uint8_t secret[32];
        if ((err = ca_node_anchor_secret(node, secret, eb)))
            goto fail_key;
        err = ca_eth_address(node->anchor_address, secret);
        ca_wipe(secret, sizeof secret);
        if (err) {
            ca_fail(eb, err, "the anchor key is not a valid secp256k1 key");
            goto fail;
        }
        node->have_anchor_address = true;
    }
    if ((err = open_store(&node->store, cfg, !(flags & (CA_NODE_WRITE | CA_NODE_ADMIN_WRITE)),
                          !(flags & CA_NODE_WRITE), eb)))
        goto fail;
    ca_log_options lo = {.store = node->store, .index_batch = cfg->store_index_batch,
                         .index_flush_pages = cfg->store_index_flush_pages,
                         .log_key = node->log_key};
    if ((err = ca_log_open(&node->log, &lo, eb))) {
        if (err == CA_ERR_NOT_FOUND && data_dir_has_keys(cfg->node_data_dir))
            err = ca_fail(eb, err, "the store in %s/db holds no log, but the data dir has its "
                          "keys: the store was lost or emptied. Restore the data dir from a "
                          "backup (credanchor restore); do not run init, which would start a "
                          "second log under the same log key", cfg->node_data_dir);
        goto fail;
    }
    if ((flags & CA_NODE_DATA_KEY) &&
        (err = load_data_key(node, (flags & (CA_NODE_WRITE | CA_NODE_ADMIN_WRITE)) != 0, eb)))
        goto fail;
    if ((flags & CA_NODE_WRITE) && !(flags & CA_NODE_NO_ROTATION_CHECK) &&
        (err = ca_node_check_log_rotation(node, &lo, eb)))
        goto fail;
    if ((flags & CA_NODE_ISSUER_KEY) && !(flags & CA_NODE_NO_ROTATION_CHECK) &&
        (err = ca_node_check_issuer_rotation(node, (flags & CA_NODE_WRITE) != 0, eb)))
        goto fail;
    if ((flags & CA_NODE_ISSUER_KEY) &&
        (err = ca_node_check_issuer_key_files(node, (flags & CA_NODE_WRITE) != 0, eb)))
        goto fail;
    *out = node;
    return CA_OK;
fail_key:
    /* Key files are made only by init and keys migrate (issue #13 item 7): a missing one is
     * restored, never regenerated, or what it signed stops verifying. */
    if (err == CA_ERR_NOT_FOUND) {
        char detail[sizeof eb->msg];
        snprintf(detail, sizeof detail, "%s", ca_errmsg(eb, err));
        ca_fail(eb, err, "%s: %s", detail, data_dir_has_keys(cfg->node_data_dir)
                                                ? "restore the key from a backup"
                                                : "run credanchor init");
    }
fail:
    ca_node_close(node);
    return err;
}

/* The open runs in a keystore memo scope: its (up to seven) key files cost one scrypt when
 * they share a salt, as every file `init` writes does (keystore.h). */
ca_err ca_node_open(ca_node **out, const ca_config *cfg, unsigned flags, ca_errbuf *eb)
{
    ca_keystore_memo_begin();
    ca_err err = node_open(out, cfg, flags, eb);
    ca_keystore_memo_end();
    return err;
}

/* Generates and writes one key file unless it exists already. */
static ca_err create_key(const char *keys_dir, const char *name, ca_key_kind kind,
                         const char *pass, size_t pass_len, ca_errbuf *eb)
{
    char path[CA_CONFIG_STR_MAX + 64];
    ca_err err = ca_node_join_path(path, sizeof path, keys_dir, name, eb);
    if (err)
        return err;
    struct stat st;
    if (stat(path, &st) == 0)
        return CA_OK;
    uint8_t secret[32];
    err = kind == CA_KEY_ED25519 ? ca_ed25519_generate_seed(secret)
                                 : ca_secp256k1_generate(secret);
    if (!err)
        err = ca_keyfile_write(path, kind, secret, sizeof secret, pass, pass_len, eb);
    else
        ca_fail(eb, err, "cannot generate %s", name);
    ca_wipe(secret, sizeof secret);
    return err;
}

/* Generates and writes one issuer key for a JOSE algorithm unless it exists already. */
ca_err ca_node_create_alg_key(const char *keys_dir, const ca_issuer_slot *k, const char *pass,
                              size_t pass_len, ca_errbuf *eb)
{
    char path[CA_CONFIG_STR_MAX + 64];
    ca_err err = ca_node_join_path(path, sizeof path, keys_dir, k->file, eb);
    if (err)
        return err;
    struct stat st;
    if (stat(path, &st) == 0)
        return CA_OK;
    uint8_t *secret = malloc(CA_SIGNER_SECRET_MAX);
    size_t len = CA_SIGNER_SECRET_MAX;
    if (!secret)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (!(err = ca_signer_generate(secret, &len, k->alg, eb)))
        err = ca_keyfile_write(path, k->kind, secret, len, pass, pass_len, eb);
    ca_wipe(secret, CA_SIGNER_SECRET_MAX);
    free(secret);
    return err;
}

/* Creates the JOSE issuer keys a data dir lacks: init only (a data dir made before they
 * existed gets them from `keys migrate`, ca_node_migrate_issuer_keys). */
static ca_err create_alg_keys(const ca_config *cfg, ca_errbuf *eb)
{
    char keys_dir[CA_CONFIG_STR_MAX + 8], pass_path[CA_CONFIG_STR_MAX + 64];
    char pass[CA_PASSPHRASE_MAX];
    size_t pass_len = 0;
    ca_err err;
    if ((err = ca_node_join_path(keys_dir, sizeof keys_dir, cfg->node_data_dir, "keys", eb)))
        return err;
    ca_config_passphrase_path(cfg, pass_path, sizeof pass_path);
    if ((err = ca_passphrase_load(pass, &pass_len, pass_path, eb)))
        goto out;
    for (size_t i = 0; i < CA_ISSUER_SLOTS && !err; i++)
        if (ca_issuer_slots[i].alg != CA_ALG_EDDSA) /* issuer.key: create_key, in init */
            err = ca_node_create_alg_key(keys_dir, &ca_issuer_slots[i], pass, pass_len, eb);
out:
    ca_wipe(pass, sizeof pass);
    return err;
}

/* Loads issuer.key as the EdDSA signer and every JOSE issuer key (SPEC §5). A JOSE key file
 * that is missing leaves its signer NULL: ca_node_check_issuer_key_files decides, once the
 * store is
 * open, whether that is a lost key (refused) or a data dir from before that alg. */
static ca_err load_signers(ca_node *node, ca_errbuf *eb)
{
    uint8_t *secret = malloc(CA_SIGNER_SECRET_MAX);
    ca_err err = CA_OK;
    if (!secret)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    size_t len = 32;
    if ((err = ca_node_read_key_any(secret, &len, &node->cfg, CA_KEYFILE_ISSUER, CA_KEY_ED25519,
                                    eb)) ||
        (err = ca_signer_open(&node->issuer_signers[CA_ALG_EDDSA], CA_ALG_EDDSA, secret, len,
                              eb)))
        goto out;
    for (size_t i = 0; i < CA_ISSUER_SLOTS; i++) {
        const ca_issuer_slot *k = &ca_issuer_slots[i];
        if (k->alg == CA_ALG_EDDSA)
            continue; /* loaded above */
        len = CA_SIGNER_SECRET_MAX;
        err = ca_node_read_key_any(secret, &len, &node->cfg, k->file, k->kind, eb);
        if (err == CA_ERR_NOT_FOUND) {
            err = CA_OK; /* ca_node_check_issuer_key_files */
            continue;
        }
        if (err || (err = ca_signer_open(&node->issuer_signers[k->alg], k->alg, secret, len,
                                         eb)))
            goto out;
    }
out:
    ca_wipe(secret, CA_SIGNER_SECRET_MAX);
    free(secret);
    return err;
}

/* Fills the report from an opened node. */
static void report_node(ca_init_report *r, ca_node *node, ca_errbuf *eb)
{
    snprintf(r->did, sizeof r->did, "%s", node->did);
    ca_eth_address_hex(r->anchor_address, node->anchor_address);
    ca_log_verifier_key(node->log, r->log_key, eb);
}

/* *has_log: the data dir's store holds a log. A missing or empty data.mdb holds none (a
 * read-only open cannot look into either). */
static ca_err probe_log(const ca_config *cfg, bool *has_log, ca_errbuf *eb)
{
    char path[CA_CONFIG_STR_MAX + 16];
    struct stat st;
    *has_log = false;
    snprintf(path, sizeof path, "%s/db/data.mdb", cfg->node_data_dir);
    if (stat(path, &st) != 0 || st.st_size == 0)
        return CA_OK;
    ca_store *store = NULL;
    ca_log *log = NULL;
    ca_err err = open_store(&store, cfg, true, true, eb);
    if (!err) {
        ca_log_options lo = {.store = store, .index_batch = cfg->store_index_batch};
        err = ca_log_open(&log, &lo, eb);
        *has_log = err == CA_OK;
    }
    ca_log_close(log);
    ca_store_close(store);
    return err == CA_ERR_NOT_FOUND ? CA_OK : err;
}

/* init creates keys only in a data dir that has none and whose store holds no log. Keys with
 * no log are a lost or emptied store: a new log there would be signed by the same log key as
 * the lost one, a split view C2SP forbids (issue #13 item 8). A log with no keys is lost keys.
 * Either is restored from a backup. With both, the read-only open that failed says why. */
static ca_err init_allowed(const ca_config *cfg, ca_errbuf *eb)
{
    const char *dir = cfg->node_data_dir;
    bool has_keys = data_dir_has_keys(dir), has_log = false;
    ca_err err = probe_log(cfg, &has_log, eb);
    if (err)
        return err;
    if (has_keys && !has_log)
        return ca_fail(eb, CA_ERR_INCONSISTENT,
                       "%s has its keys but its store holds no log: the store was lost or "
                       "emptied. Restore the data dir from a backup (credanchor restore); a new "
                       "log would be a second log signed by the same log key. (An init "
                       "interrupted before it created the log: remove %s/keys and run init "
                       "again.)", dir, dir);
    if (!has_keys && has_log)
        return ca_fail(eb, CA_ERR_INCONSISTENT,
                       "the store in %s/db holds a log but %s/keys holds no key files: restore "
                       "the keys from a backup (credanchor restore)", dir, dir);
    if (has_keys) {
        ca_node *node = NULL;
        err = ca_node_open(&node, cfg, CA_NODE_READ_ONLY | CA_NODE_ANCHOR_ADDRESS, eb);
        ca_node_close(node);
        return err ? err : ca_fail(eb, CA_ERR_STORE, "%s: cannot open it", dir);
    }
    return CA_OK;
}

static ca_err node_init(ca_init_report *r, const ca_config *cfg, ca_errbuf *eb)
{
    memset(r, 0, sizeof *r);
    ca_config_passphrase_path(cfg, r->passphrase_file, sizeof r->passphrase_file);
    /* Already initialised: report through a read-only open, which also works while the node
     * serves (it holds the single-writer lock). */
    ca_node *existing = NULL;
    if (ca_node_open(&existing, cfg, CA_NODE_READ_ONLY | CA_NODE_ANCHOR_ADDRESS, NULL) == CA_OK) {
        report_node(r, existing, eb);
        ca_node_close(existing);
        return CA_OK;
    }
    const char *dir = cfg->node_data_dir;
    char keys_dir[CA_CONFIG_STR_MAX + 8], pass[CA_PASSPHRASE_MAX];
    size_t pass_len = 0;
    ca_err err;
    ca_node *node = NULL;
    ca_store *store = NULL;
    ca_ed25519_key *log_key = NULL;
    ca_log *log = NULL;

    if ((err = ca_node_make_dir(dir, eb)) || (err = check_data_dir(dir, eb)) ||
        (err = init_allowed(cfg, eb)) ||
        (err = ca_node_join_path(keys_dir, sizeof keys_dir, dir, "keys", eb)) ||
        (err = ca_node_make_dir(keys_dir, eb)))
        return err;
    err = ca_passphrase_create(r->passphrase_file, eb);
    if (err && err != CA_ERR_EXISTS)
        return err;
    if ((err = ca_passphrase_load(pass, &pass_len, r->passphrase_file, eb)) ||
        (err = create_key(keys_dir, CA_KEYFILE_LOG, CA_KEY_ED25519, pass, pass_len, eb)) ||
        (err = create_key(keys_dir, CA_KEYFILE_ANCHOR, CA_KEY_SECP256K1, pass, pass_len, eb)) ||
        (err = create_key(keys_dir, CA_KEYFILE_ISSUER, CA_KEY_ED25519, pass, pass_len, eb)) ||
        (err = create_alg_keys(cfg, eb)))
        goto out;

    /* Create the log unless the store already holds one. */
    if ((err = ca_node_load_ed25519(&log_key, cfg, CA_KEYFILE_LOG, eb)) ||
        (err = open_store(&store, cfg, false, false, eb)))
        goto out;
    ca_log_options lo = {.store = store, .index_batch = cfg->store_index_batch,
                         .log_key = log_key};
    err = ca_log_open(&log, &lo, eb);
    if (err == CA_ERR_NOT_FOUND) {
        char origin[CA_ORIGIN_MAX + 1];
        if (cfg->log_origin[0]) {
            if (strlen(cfg->log_origin) >= sizeof origin) {
                err = ca_fail(eb, CA_ERR_CONFIG, "config: log.origin is longer than %d bytes",
                              CA_ORIGIN_MAX);
                goto out;
            }
            memcpy(origin, cfg->log_origin, strlen(cfg->log_origin) + 1);
        } else if ((err = ca_node_default_origin(origin, sizeof origin, cfg->node_public_url, eb)))
            goto out;
        lo.create_origin = origin;
        err = ca_log_open(&log, &lo, eb);
        r->created = err == CA_OK;
    }
    if (err)
        goto out;
    ca_log_close(log);
    log = NULL;
    ca_store_close(store);
    store = NULL;

    /* Report through the normal open path, which also proves the files read back; as the
     * writer, it records every issuer key in the store's histories
     * (ca_node_check_issuer_key_files),
     * so a key file lost later is noticed. */
    if ((err = ca_node_open(&node, cfg, CA_NODE_WRITE | CA_NODE_ISSUER_KEY |
                            CA_NODE_ANCHOR_ADDRESS, eb)))
        goto out;
    report_node(r, node, eb);
out:
    ca_node_close(node);
    ca_log_close(log);
    ca_store_close(store);
    ca_ed25519_key_free(log_key);
    ca_wipe(pass, sizeof pass);
    return err;
}

/* In one keystore memo scope, so every key file is written under one salt and the whole
 * init costs one scrypt (keystore.h). */
ca_err ca_node_init(ca_init_report *r, const ca_config *cfg, ca_errbuf *eb)
{
    ca_keystore_memo_begin();
    ca_err err = node_init(r, cfg, eb);
    ca_keystore_memo_end();
    return err;
}
