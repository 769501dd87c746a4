/*
 * node/node.c — the data dir: creating it (init) and opening it for a verb or the server.
 * Layout: include/credanchor/node.h. Keys are decrypted only when a flag asks for them, and
 * decrypted secrets are wiped as soon as the key object (or address) is made.
 */
#include "credanchor/node.h"

#include "credanchor/did.h"
#include "credanchor/keystore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KEY_LOG "log.key"
#define KEY_ANCHOR "anchor.key"
#define KEY_ISSUER "issuer.key"

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

/* Decrypts one key file of the expected kind into secret (32 bytes); the caller wipes it. */
static ca_err read_key(uint8_t secret[32], const ca_config *cfg, const char *name,
                       ca_key_kind want, ca_errbuf *eb)
{
    char keys_dir[CA_CONFIG_STR_MAX + 8], path[CA_CONFIG_STR_MAX + 64];
    char pass_path[CA_CONFIG_STR_MAX + 64], pass[CA_PASSPHRASE_MAX];
    size_t pass_len = 0, len = 32;
    ca_key_kind kind;
    ca_err err;
    if ((err = join_path(keys_dir, sizeof keys_dir, cfg->node_data_dir, "keys", eb)) ||
        (err = join_path(path, sizeof path, keys_dir, name, eb)))
        return err;
    ca_config_passphrase_path(cfg, pass_path, sizeof pass_path);
    if ((err = ca_passphrase_load(pass, &pass_len, pass_path, eb)) != CA_OK)
        goto out;
    err = ca_keyfile_read(secret, &len, &kind, path, pass, pass_len, eb);
    if (!err && (kind != want || len != 32))
        err = ca_fail(eb, CA_ERR_INVALID, "%s holds the wrong kind of key", path);
out:
    ca_wipe(pass, sizeof pass);
    if (err)
        ca_wipe(secret, 32);
    return err;
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
    free(node);
}

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

ca_err ca_node_open(ca_node **out, const ca_config *cfg, unsigned flags, ca_errbuf *eb)
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
        (err = load_ed25519(&node->issuer_key, cfg, KEY_ISSUER, eb)))
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

/* Fills the report from an opened node. */
static void report_node(ca_init_report *r, ca_node *node, ca_errbuf *eb)
{
    snprintf(r->did, sizeof r->did, "%s", node->did);
    ca_eth_address_hex(r->anchor_address, node->anchor_address);
    ca_log_verifier_key(node->log, r->log_key, eb);
}

ca_err ca_node_init(ca_init_report *r, const ca_config *cfg, ca_errbuf *eb)
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
        (err = create_key(keys_dir, KEY_ISSUER, CA_KEY_ED25519, pass, pass_len, eb)))
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
