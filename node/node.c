/*
 * node/node.c — the data dir: creating it (init) and opening it for a verb or the server.
 * Layout: include/credanchor/node.h. Keys are decrypted only when a flag asks for them, and
 * decrypted secrets are wiped as soon as the key object (or address) is made.
 */
#include "credanchor/node.h"

#include "credanchor/auth.h"
#include "credanchor/did.h"
#include "credanchor/did_resolve.h"
#include "credanchor/encoding.h"
#include "credanchor/keystore.h"
#include "credanchor/multibase.h"
#include "credanchor/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_LOG "log.key"
#define KEY_ANCHOR "anchor.key"
#define KEY_ISSUER "issuer.key"

/* The issuer's keys for the other JOSE algorithms (SPEC §5): listed in the did:web document
 * as JsonWebKey methods "#es256k-1", "#es256-1", "#rs256-1". issuer.key (Ed25519) serves
 * EdDSA and eddsa-jcs-2022. */
static const struct alg_key_file {
    ca_jws_alg alg;
    const char *file;
    ca_key_kind kind;
} alg_key_files[] = {
    {CA_ALG_ES256K, "issuer-es256k.key", CA_KEY_SECP256K1},
    {CA_ALG_ES256, "issuer-es256.key", CA_KEY_P256},
    {CA_ALG_RS256, "issuer-rs256.key", CA_KEY_RSA},
};

static ca_err join_path(char *out, size_t cap, const char *dir, const char *name, ca_errbuf *eb)
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

static ca_err make_dir(const char *path, ca_errbuf *eb)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return CA_OK;
    return ca_fail(eb, errno == ENOSPC ? CA_ERR_FULL : CA_ERR_IO, "cannot create %s: %s", path,
                   strerror(errno));
}

/* Decrypts one key file of the expected kind into secret (*len: in the capacity, out the
 * length; 32-byte kinds must be exactly 32); the caller wipes it. */
static ca_err read_key_any(uint8_t *secret, size_t *len, const ca_config *cfg, const char *name,
                           ca_key_kind want, ca_errbuf *eb)
{
    char keys_dir[CA_CONFIG_STR_MAX + 8], path[CA_CONFIG_STR_MAX + 64];
    char pass_path[CA_CONFIG_STR_MAX + 64], pass[CA_PASSPHRASE_MAX];
    size_t pass_len = 0, cap = *len;
    ca_key_kind kind;
    ca_err err;
    if ((err = join_path(keys_dir, sizeof keys_dir, cfg->node_data_dir, "keys", eb)) ||
        (err = join_path(path, sizeof path, keys_dir, name, eb)))
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
    return read_key_any(secret, &len, cfg, name, want, eb);
}

static ca_err load_ed25519(ca_ed25519_key **key, const ca_config *cfg, const char *name,
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
    return read_key(secret, &node->cfg, KEY_ANCHOR, CA_KEY_SECP256K1, eb);
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
    for (size_t i = 0; i < sizeof node->issuer_signers / sizeof node->issuer_signers[0]; i++)
        ca_signer_free(node->issuer_signers[i]);
    free(node);
}

static ca_err load_signers(ca_node *node, bool may_create, ca_errbuf *eb);

static ca_err open_store(ca_store **store, const ca_config *cfg, bool read_only,
                         bool shared_writer, ca_errbuf *eb)
{
    char db[CA_CONFIG_STR_MAX + 8];
    ca_err err = join_path(db, sizeof db, cfg->node_data_dir, "db", eb);
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
    if ((flags & CA_NODE_WRITE) && (err = load_ed25519(&node->log_key, cfg, KEY_LOG, eb)))
        goto fail;
    if ((flags & CA_NODE_ISSUER_KEY) &&
        ((err = load_ed25519(&node->issuer_key, cfg, KEY_ISSUER, eb)) ||
         (err = load_signers(node, (flags & (CA_NODE_WRITE | CA_NODE_ADMIN_WRITE)) != 0, eb))))
        goto fail;
    if (flags & CA_NODE_ANCHOR_ADDRESS) {
        uint8_t secret[32];
        if ((err = ca_node_anchor_secret(node, secret, eb)))
            goto fail;
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
    if ((err = ca_log_open(&node->log, &lo, eb)))
        goto fail;
    *out = node;
    return CA_OK;
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
    ca_err err = join_path(path, sizeof path, keys_dir, name, eb);
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
static ca_err create_alg_key(const char *keys_dir, const struct alg_key_file *k, const char *pass,
                             size_t pass_len, ca_errbuf *eb)
{
    char path[CA_CONFIG_STR_MAX + 64];
    ca_err err = join_path(path, sizeof path, keys_dir, k->file, eb);
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

/* Creates the JOSE issuer keys a data dir lacks (init, and data dirs made before they
 * existed, on the first open that may write). */
static ca_err create_alg_keys(const ca_config *cfg, ca_errbuf *eb)
{
    char keys_dir[CA_CONFIG_STR_MAX + 8], pass_path[CA_CONFIG_STR_MAX + 64];
    char pass[CA_PASSPHRASE_MAX];
    size_t pass_len = 0;
    ca_err err;
    if ((err = join_path(keys_dir, sizeof keys_dir, cfg->node_data_dir, "keys", eb)))
        return err;
    ca_config_passphrase_path(cfg, pass_path, sizeof pass_path);
    if ((err = ca_passphrase_load(pass, &pass_len, pass_path, eb)))
        goto out;
    for (size_t i = 0; i < sizeof alg_key_files / sizeof alg_key_files[0] && !err; i++)
        err = create_alg_key(keys_dir, &alg_key_files[i], pass, pass_len, eb);
out:
    ca_wipe(pass, sizeof pass);
    return err;
}

/* Loads issuer.key as the EdDSA signer and every JOSE issuer key (SPEC §5). */
static ca_err load_signers(ca_node *node, bool may_create, ca_errbuf *eb)
{
    uint8_t *secret = malloc(CA_SIGNER_SECRET_MAX);
    ca_err err = CA_OK;
    if (!secret)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    size_t len = 32;
    if ((err = read_key_any(secret, &len, &node->cfg, KEY_ISSUER, CA_KEY_ED25519, eb)) ||
        (err = ca_signer_open(&node->issuer_signers[CA_ALG_EDDSA], CA_ALG_EDDSA, secret, len,
                              eb)))
        goto out;
    if (may_create && (err = create_alg_keys(&node->cfg, eb)))
        goto out;
    for (size_t i = 0; i < sizeof alg_key_files / sizeof alg_key_files[0]; i++) {
        const struct alg_key_file *k = &alg_key_files[i];
        len = CA_SIGNER_SECRET_MAX;
        err = read_key_any(secret, &len, &node->cfg, k->file, k->kind, eb);
        if (err == CA_ERR_NOT_FOUND) {
            err = CA_OK; /* a data dir from before these keys, opened read-only: no such alg */
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

    if ((err = make_dir(dir, eb)) || (err = check_data_dir(dir, eb)) ||
        (err = join_path(keys_dir, sizeof keys_dir, dir, "keys", eb)) ||
        (err = make_dir(keys_dir, eb)))
        return err;
    err = ca_passphrase_create(r->passphrase_file, eb);
    if (err && err != CA_ERR_EXISTS)
        return err;
    if ((err = ca_passphrase_load(pass, &pass_len, r->passphrase_file, eb)) ||
        (err = create_key(keys_dir, KEY_LOG, CA_KEY_ED25519, pass, pass_len, eb)) ||
        (err = create_key(keys_dir, KEY_ANCHOR, CA_KEY_SECP256K1, pass, pass_len, eb)) ||
        (err = create_key(keys_dir, KEY_ISSUER, CA_KEY_ED25519, pass, pass_len, eb)) ||
        (err = create_alg_keys(cfg, eb)))
        goto out;

    /* Create the log unless the store already holds one. */
    if ((err = load_ed25519(&log_key, cfg, KEY_LOG, eb)) ||
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

    /* Report through the normal open path, which also proves the files read back. */
    if ((err = ca_node_open(&node, cfg, CA_NODE_READ_ONLY | CA_NODE_ANCHOR_ADDRESS, eb)))
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

/* ---- key rotation (keys rotate --log|--issuer) -------------------------------------------------
 * Files: the current key stays keys/<name>.key. A rotation
 *   1. writes the new key to keys/<name>.key.next (encrypted, atomic);
 *   2. commits the new key to the store (log: verifier key, key history and a checkpoint for
 *      the current size signed by the new key, ca_log_rotate_key; issuer: meta "issuer_keys");
 *   3. moves keys/<name>.key to keys/archive/<name>-<id>.key (still encrypted; <id> is the
 *      old log key's hex key id, or the old issuer key's number n as in "#key-n");
 *   4. renames keys/<name>.key.next to keys/<name>.key and syncs both directories.
 * A crash between 2 and 4 leaves the store naming the .next key: the next `keys rotate` of
 * that kind finds it and finishes steps 3-4 (until then the log refuses appends, as its key
 * does not match). A crash before 2 leaves a stale .next, which the next rotation discards.
 * The store's meta "issuer_keys" (owned here): one line per issuer key, oldest first,
 * "<unix seconds valid from> <publicKeyMultibase>\n"; absent until the first issuer
 * rotation (then the one key in issuer.key, valid since init, written as 0). */

#define META_ISSUER_KEYS "issuer_keys"
#define ISSUER_KEYS_TEXT_MAX (CA_ISSUER_KEYS_MAX * (CA_MULTIBASE_KEY_MAX + 24))

static ca_err sync_dir(const char *dir, ca_errbuf *eb)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ca_fail(eb, CA_ERR_IO, "cannot sync %s: %s", dir, strerror(e));
    }
    close(fd);
    return CA_OK;
}

/* Steps 3 and 4 above. */
static ca_err swap_key_files(const char *keys_dir, const char *name, const char *archive_name,
                             char *archived, size_t archived_cap, ca_errbuf *eb)
{
    char cur[CA_CONFIG_STR_MAX + 64], next[CA_CONFIG_STR_MAX + 80];
    char arch_dir[CA_CONFIG_STR_MAX + 16];
    ca_err err;
    if ((err = join_path(cur, CA_CONFIG_STR_MAX + 64, keys_dir, name, eb)) ||
        (err = join_path(arch_dir, sizeof arch_dir, keys_dir, "archive", eb)) ||
        (err = make_dir(arch_dir, eb)) ||
        (err = join_path(archived, archived_cap, arch_dir, archive_name, eb)))
        return err;
    snprintf(next, sizeof next, "%s.next", cur);
    struct stat st;
    if (stat(archived, &st) == 0)
        return ca_fail(eb, CA_ERR_EXISTS, "%s already exists; not replacing it", archived);
    if (rename(cur, archived) != 0 && errno != ENOENT)
        return ca_fail(eb, CA_ERR_IO, "cannot move %s to %s: %s", cur, archived,
                       strerror(errno));
    if (rename(next, cur) != 0)
        return ca_fail(eb, CA_ERR_IO, "cannot move %s to %s: %s", next, cur, strerror(errno));
    if ((err = sync_dir(arch_dir, eb)) || (err = sync_dir(keys_dir, eb)))
        return err;
    return CA_OK;
}

/* Generates a new Ed25519 key, writes it to keys/<name>.key.next and loads it. */
static ca_err make_next_key(ca_ed25519_key **key, const ca_config *cfg, const char *keys_dir,
                            const char *name, ca_errbuf *eb)
{
    char path[CA_CONFIG_STR_MAX + 80], pass_path[CA_CONFIG_STR_MAX + 64];
    char pass[CA_PASSPHRASE_MAX];
    size_t pass_len = 0;
    uint8_t seed[32];
    ca_err err;
    snprintf(path, sizeof path, "%s/%s.next", keys_dir, name);
    ca_config_passphrase_path(cfg, pass_path, sizeof pass_path);
    if ((err = ca_passphrase_load(pass, &pass_len, pass_path, eb)))
        goto out;
    if ((err = ca_ed25519_generate_seed(seed))) {
        ca_fail(eb, err, "cannot generate a key");
        goto out;
    }
    if ((err = ca_keyfile_write(path, CA_KEY_ED25519, seed, sizeof seed, pass, pass_len, eb)))
        goto out;
    if ((err = ca_ed25519_key_from_seed(key, seed)))
        ca_fail(eb, err, "cannot load the new key");
out:
    ca_wipe(seed, sizeof seed);
    ca_wipe(pass, sizeof pass);
    return err;
}

/* Looks for keys/<name>.key.next left by an interrupted rotation: *next gets it loaded
 * (the caller decides whether the store already names it), or NULL when there is none. */
static ca_err find_next_key(ca_ed25519_key **next, const ca_config *cfg, const char *name,
                            ca_errbuf *eb)
{
    char keys_dir[CA_CONFIG_STR_MAX + 8], path[CA_CONFIG_STR_MAX + 80], next_name[64];
    *next = NULL;
    ca_err err = join_path(keys_dir, sizeof keys_dir, cfg->node_data_dir, "keys", eb);
    if (err)
        return err;
    snprintf(path, sizeof path, "%s/%s.next", keys_dir, name);
    struct stat st;
    if (stat(path, &st) != 0)
        return CA_OK;
    snprintf(next_name, sizeof next_name, "%s.next", name);
    if (load_ed25519(next, cfg, next_name, eb) != CA_OK) {
        *next = NULL; /* unreadable: never committed (the store names only written keys) */
        if (unlink(path) != 0)
            return ca_fail(eb, CA_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
    }
    return CA_OK;
}

static void discard_next_key(const ca_config *cfg, const char *name)
{
    char path[CA_CONFIG_STR_MAX + 96];
    snprintf(path, sizeof path, "%s/keys/%s.next", cfg->node_data_dir, name);
    unlink(path);
}

static void audit_rotation(ca_node *node, const char *route, const char *detail)
{
    ca_audit_event ev = {NULL, "keys rotate", route, 0, detail};
    ca_errbuf eb = {{0}};
    if (ca_audit_append(node->store, &ev, &eb))
        fprintf(stderr, "credanchor keys rotate: warning: audit entry not written: %s\n",
                ca_errmsg(&eb, CA_ERR_STORE));
}

static void key_id_hex(char out[9], const ca_log *log, const char *vkey)
{
    ca_note_verifier v;
    if (ca_verifier_key_parse(&v, vkey, strlen(vkey), NULL) == CA_OK)
        ca_hex_encode(out, v.key_id, 4);
    else
        snprintf(out, 9, "unknown");
    (void)log;
}

ca_err ca_node_rotate_log_key(ca_node *node, ca_key_rotation *r, ca_errbuf *eb)
{
    CA_ASSERT(node && r && node->log_key);
    memset(r, 0, sizeof *r);
    char keys_dir[CA_CONFIG_STR_MAX + 8], archive_name[64], detail[2 * CA_VERIFIER_KEY_MAX + 64];
    ca_ed25519_key *next = NULL;
    ca_err err;
    if ((err = join_path(keys_dir, sizeof keys_dir, node->cfg.node_data_dir, "keys", eb)) ||
        (err = ca_log_verifier_key(node->log, r->new_key, eb)) ||
        (err = find_next_key(&next, &node->cfg, KEY_LOG, eb)))
        return err;
    /* The old key is the one in log.key. */
    uint8_t pub[CA_ED25519_PUB_SIZE];
    ca_ed25519_key_public(node->log_key, pub);
    ca_verifier_key_format(r->old_key, ca_log_origin(node->log), pub);
    char old_id[9];
    key_id_hex(old_id, node->log, r->old_key);
    snprintf(archive_name, sizeof archive_name, "log-%s.key", old_id);
    if (next) {
        char next_vkey[CA_VERIFIER_KEY_MAX];
        ca_ed25519_key_public(next, pub);
        ca_verifier_key_format(next_vkey, ca_log_origin(node->log), pub);
        if (strcmp(next_vkey, r->new_key) == 0) {
            /* Committed before a crash: finish moving the files. */
            r->resumed = true;
            r->tree_size = ca_log_size(node->log);
            err = swap_key_files(keys_dir, KEY_LOG, archive_name, r->archived,
                                 sizeof r->archived, eb);
            ca_ed25519_key_free(next);
            if (!err) {
                snprintf(detail, sizeof detail, "log key: finished the interrupted rotation "
                         "to %s", r->new_key);
                audit_rotation(node, "keys/log", detail);
            }
            return err;
        }
        ca_ed25519_key_free(next);
        next = NULL;
        discard_next_key(&node->cfg, KEY_LOG);
    }
    if ((err = make_next_key(&next, &node->cfg, keys_dir, KEY_LOG, eb)))
        return err;
    if ((err = ca_log_rotate_key(node->log, next, eb))) {
        ca_ed25519_key_free(next);
        discard_next_key(&node->cfg, KEY_LOG);
        return err;
    }
    /* The log now signs with next: the node owns it from here. */
    ca_ed25519_key_free(node->log_key);
    node->log_key = next;
    r->tree_size = ca_log_size(node->log);
    ca_log_verifier_key(node->log, r->new_key, NULL);
    ca_log_checkpoint(node->log, r->note, &r->note_len, NULL);
    if ((err = swap_key_files(keys_dir, KEY_LOG, archive_name, r->archived, sizeof r->archived,
                              eb)))
        return err;
    snprintf(detail, sizeof detail, "log key %s replaced by %s at size %llu", old_id,
             r->new_key, (unsigned long long)r->tree_size);
    audit_rotation(node, "keys/log", detail);
    return CA_OK;
}

/* The multibase (did:key method-specific id) of an Ed25519 public key. */
static ca_err ed25519_multibase(char out[CA_MULTIBASE_KEY_MAX], const uint8_t *pub,
                                ca_errbuf *eb)
{
    char did[CA_DID_TEXT_MAX];
    ca_err err = ca_did_key_encode(did, CA_KEYTYPE_ED25519, pub, CA_ED25519_PUB_SIZE, eb);
    if (err)
        return err;
    const char *mb = did + strlen("did:key:");
    if (strlen(mb) >= CA_MULTIBASE_KEY_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "multibase key too long");
    memcpy(out, mb, strlen(mb) + 1);
    return CA_OK;
}

/* Parses the "issuer_keys" text. */
static ca_err parse_issuer_keys(ca_issuer_key *keys, size_t cap, size_t *n, const char *text)
{
    *n = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        char *end;
        if (!nl || *n >= cap)
            return CA_ERR_STORE;
        long long from = strtoll(p, &end, 10);
        size_t len = (size_t)(nl - end - 1);
        if (end == p || *end != ' ' || len == 0 || len >= CA_MULTIBASE_KEY_MAX)
            return CA_ERR_STORE;
        ca_issuer_key *k = &keys[*n];
        memcpy(k->multibase, end + 1, len);
        k->multibase[len] = '\0';
        k->valid_from = from;
        uint8_t raw[64];
        size_t raw_len = sizeof raw;
        if (ca_multibase_decode(raw, &raw_len, k->multibase, len, NULL) != CA_OK ||
            raw_len != 2 + CA_ED25519_PUB_SIZE || raw[0] != 0xed || raw[1] != 0x01)
            return CA_ERR_STORE;
        memcpy(k->pub, raw + 2, CA_ED25519_PUB_SIZE);
        (*n)++;
        p = nl + 1;
    }
    return CA_OK;
}

static ca_err issuer_keys_text(ca_store_txn *t, char *text, size_t cap)
{
    ca_store_val val;
    ca_err err = ca_store_get(t, CA_TABLE_META, META_ISSUER_KEYS, strlen(META_ISSUER_KEYS), &val);
    if (err)
        return err;
    if (val.len >= cap)
        return CA_ERR_STORE;
    memcpy(text, val.data, val.len);
    text[val.len] = '\0';
    return CA_OK;
}

ca_err ca_node_issuer_keys(ca_store *store, const ca_ed25519_key *current, ca_issuer_key *keys,
                           size_t cap, size_t *n, ca_errbuf *eb)
{
    CA_ASSERT(store && keys && n && cap >= 1);
    *n = 0;
    char *text = malloc(ISSUER_KEYS_TEXT_MAX);
    if (!text)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        goto out;
    err = issuer_keys_text(t, text, ISSUER_KEYS_TEXT_MAX);
    ca_store_abort(t);
    if (err == CA_ERR_NOT_FOUND) {
        text[0] = '\0';
        err = CA_OK;
    }
    if (!err && (err = parse_issuer_keys(keys, cap, n, text)))
        ca_fail(eb, err, "the issuer key history is damaged");
    if (err || !current)
        goto out;
    /* The key in issuer.key is always listed (last): before the first rotation it is the only
     * one; after an interrupted rotation the history may not name it yet. */
    uint8_t pub[CA_ED25519_PUB_SIZE];
    ca_ed25519_key_public(current, pub);
    if (*n && memcmp(keys[*n - 1].pub, pub, sizeof pub) == 0)
        goto out;
    if (*n >= cap) {
        err = ca_fail(eb, CA_ERR_TOO_LARGE, "too many issuer keys");
        goto out;
    }
    keys[*n].valid_from = 0;
    memcpy(keys[*n].pub, pub, sizeof pub);
    if (!(err = ed25519_multibase(keys[*n].multibase, pub, eb)))
        (*n)++;
out:
    free(text);
    return err;
}

typedef struct issuer_rotate_args {
    const char *text; /* the whole new history */
} issuer_rotate_args;

static ca_err issuer_rotate_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    const char *text = ((issuer_rotate_args *)arg)->text;
    ca_err err = ca_store_put(t, CA_TABLE_META, META_ISSUER_KEYS, strlen(META_ISSUER_KEYS), text,
                              strlen(text));
    return err ? ca_fail(eb, err, "cannot store the issuer key history: %s", ca_strerror(err))
               : CA_OK;
}

ca_err ca_node_rotate_issuer_key(ca_node *node, ca_key_rotation *r, ca_errbuf *eb)
{
    CA_ASSERT(node && r && node->issuer_key);
    memset(r, 0, sizeof *r);
    char keys_dir[CA_CONFIG_STR_MAX + 8], archive_name[64], detail[2 * CA_VERIFIER_KEY_MAX + 64];
    ca_issuer_key *keys = calloc(CA_ISSUER_KEYS_MAX, sizeof *keys);
    char *text = malloc(ISSUER_KEYS_TEXT_MAX);
    ca_ed25519_key *next = NULL;
    size_t n = 0;
    uint8_t pub[CA_ED25519_PUB_SIZE];
    ca_err err;
    if (!keys || !text) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((err = join_path(keys_dir, sizeof keys_dir, node->cfg.node_data_dir, "keys", eb)) ||
        (err = ca_node_issuer_keys(node->store, node->issuer_key, keys, CA_ISSUER_KEYS_MAX, &n,
                                   eb)) ||
        (err = find_next_key(&next, &node->cfg, KEY_ISSUER, eb)))
        goto out;
    ca_ed25519_key_public(node->issuer_key, pub);
    /* The loaded key's number: its place in the list (the last, unless a rotation was
     * committed but its files not yet swapped). */
    size_t old_no = n;
    for (size_t i = 0; i < n; i++)
        if (memcmp(keys[i].pub, pub, sizeof pub) == 0)
            old_no = i + 1;
    ed25519_multibase(r->old_key, pub, NULL);
    snprintf(archive_name, sizeof archive_name, "issuer-%zu.key", old_no);
    if (next) {
        ca_ed25519_key_public(next, pub);
        ca_ed25519_key_free(next);
        next = NULL;
        if (n >= 2 && memcmp(keys[n - 2].pub, keys[n - 1].pub, sizeof pub) != 0 &&
            memcmp(keys[n - 2].pub, pub, sizeof pub) == 0) {
            /* ca_node_issuer_keys appended issuer.key after the committed .next key: the
             * rotation to .next was committed before a crash. Finish moving the files. */
            r->resumed = true;
            snprintf(r->new_key, sizeof r->new_key, "%s", keys[n - 2].multibase);
            r->nkeys = n - 1;
            if (!(err = swap_key_files(keys_dir, KEY_ISSUER, archive_name, r->archived,
                                       sizeof r->archived, eb))) {
                snprintf(detail, sizeof detail,
                         "issuer key: finished the interrupted rotation to %s", r->new_key);
                audit_rotation(node, "keys/issuer", detail);
            }
            goto out;
        }
        discard_next_key(&node->cfg, KEY_ISSUER);
    }
    if (n >= CA_ISSUER_KEYS_MAX) {
        err = ca_fail(eb, CA_ERR_TOO_LARGE, "already %zu issuer keys; no more rotations", n);
        goto out;
    }
    if ((err = make_next_key(&next, &node->cfg, keys_dir, KEY_ISSUER, eb)))
        goto out;
    ca_ed25519_key_public(next, pub);
    if ((err = ed25519_multibase(keys[n].multibase, pub, eb)))
        goto out_discard;
    keys[n].valid_from = (int64_t)time(NULL);
    n++;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, ISSUER_KEYS_TEXT_MAX - len, "%lld %s\n",
                                (long long)keys[i].valid_from, keys[i].multibase);
    issuer_rotate_args a = {text};
    if ((err = ca_store_write(node->store, issuer_rotate_txn, &a, eb)))
        goto out_discard;
    ca_ed25519_key_free(node->issuer_key);
    node->issuer_key = next;
    next = NULL;
    snprintf(r->new_key, sizeof r->new_key, "%s", keys[n - 1].multibase);
    r->nkeys = n;
    if ((err = swap_key_files(keys_dir, KEY_ISSUER, archive_name, r->archived,
                              sizeof r->archived, eb)))
        goto out;
    /* The EdDSA credential signer is the same key: reload it from the new issuer.key. */
    ca_signer_free(node->issuer_signers[CA_ALG_EDDSA]);
    node->issuer_signers[CA_ALG_EDDSA] = NULL;
    uint8_t seed[32];
    size_t slen = sizeof seed;
    if (!(err = read_key_any(seed, &slen, &node->cfg, KEY_ISSUER, CA_KEY_ED25519, eb)))
        err = ca_signer_open(&node->issuer_signers[CA_ALG_EDDSA], CA_ALG_EDDSA, seed, slen, eb);
    ca_wipe(seed, sizeof seed);
    if (err)
        goto out;
    snprintf(detail, sizeof detail, "issuer key #key-%zu %s replaced by #key-%zu %s", old_no,
             r->old_key, n, r->new_key);
    audit_rotation(node, "keys/issuer", detail);
    goto out;
out_discard:
    discard_next_key(&node->cfg, KEY_ISSUER);
out:
    ca_ed25519_key_free(next);
    free(keys);
    free(text);
    return err;
}
