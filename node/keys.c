/*
 * node/keys.c — key rotation (keys rotate --log|--issuer), the issuer key histories in the
 * store, and the issuer key files against those histories; moved out of node/node.c
 * (issue #14). Shared with node/node.c through node/keys.h.
 */
#include "node/keys.h"
#include "node/node_log.h"

#include "node/auth.h"
#include "credanchor/did.h"
#include "credanchor/did_resolve.h"
#include "credanchor/encoding.h"
#include "node/keystore.h"
#include "credanchor/multibase.h"
#include "node/store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
/* ---- key rotation (keys rotate --log|--issuer) -------------------------------------------------
 * Files: the current key stays keys/<name>.key. A rotation
 *   1. writes each new key to keys/<name>.key.next (encrypted, atomic);
 *   2. commits the new keys to the store in one transaction (log: verifier key, key history
 *      and a checkpoint for the current size signed by the new key, ca_log_rotate_key;
 *      issuer: every issuer key history below, so all the issuer's keys change together);
 *   3. links keys/<name>.key to keys/archive/<stem>-<id>.key (still encrypted; <id> is the
 *      old log key's hex key id, or the old issuer key's number n as in "#key-n" /
 *      "#es256k-n"; <stem> is <name> without .key);
 *   4. renames keys/<name>.key.next over keys/<name>.key and syncs both directories, so
 *      keys/<name>.key exists at every moment (an open for writing would otherwise create a
 *      fresh JOSE key in place of a missing one).
 * A crash between 2 and 4 leaves the store naming the .next keys: the next `keys rotate` of
 * that kind finds them and finishes steps 3-4 for each, and so does the next open with the
 * writer lock (serve, append, issue: ca_node_check_log_rotation,
 * ca_node_check_issuer_rotation). Until then the log refuses appends, as its key does not
 * match, and opens of the issuer keys without the writer lock are refused. A crash before 2
 * leaves stale .next files, which the next rotation discards.
 * The store's meta issuer key histories (owned here), one line per key, oldest first:
 *   "issuer_keys"          issuer.key:         "<unix seconds valid from> <publicKeyMultibase>\n"
 *   "issuer_keys_es256k"   issuer-es256k.key:  "<unix seconds valid from> <public JWK>\n"
 *   "issuer_keys_es256"    issuer-es256.key    (the JWK as compact JSON with sorted members,
 *   "issuer_keys_rs256"    issuer-rs256.key     as ca_signer_public_jwk gives it)
 * Each is absent until the first issuer rotation that had the key (then the key in the file,
 * valid since init, is written as 0); line n is the method "#key-n" / "#es256k-n" / .... */

/* Steps 3 and 4 above. A resumed swap may find the archive already linked to the current
 * file (a crash between 3 and 4) or the current file already moved (by a rotation from before
 * step 3 linked instead of renaming). */
static ca_err swap_key_files(const char *keys_dir, const char *name, const char *archive_name,
                             char *archived, size_t archived_cap, ca_errbuf *eb)
{
    char cur[CA_CONFIG_STR_MAX + 64], next[CA_CONFIG_STR_MAX + 80];
    char arch_dir[CA_CONFIG_STR_MAX + 16];
    ca_err err;
    if ((err = ca_node_join_path(cur, CA_CONFIG_STR_MAX + 64, keys_dir, name, eb)) ||
        (err = ca_node_join_path(arch_dir, sizeof arch_dir, keys_dir, "archive", eb)) ||
        (err = ca_node_make_dir(arch_dir, eb)) ||
        (err = ca_node_join_path(archived, archived_cap, arch_dir, archive_name, eb)))
        return err;
    snprintf(next, sizeof next, "%s.next", cur);
    struct stat cur_st, arch_st;
    bool have_cur = stat(cur, &cur_st) == 0;
    if (stat(archived, &arch_st) == 0) {
        if (have_cur && (cur_st.st_dev != arch_st.st_dev || cur_st.st_ino != arch_st.st_ino))
            return ca_fail(eb, CA_ERR_EXISTS, "%s already exists; not replacing it", archived);
    } else if (have_cur && link(cur, archived) != 0) {
        return ca_fail(eb, errno == ENOSPC ? CA_ERR_FULL : CA_ERR_IO, "cannot link %s to %s: %s",
                       cur, archived, strerror(errno));
    }
    if (rename(next, cur) != 0)
        return ca_fail(eb, CA_ERR_IO, "cannot move %s to %s: %s", next, cur, strerror(errno));
    if ((err = ca_fsync_dir(arch_dir, eb)) || (err = ca_fsync_dir(keys_dir, eb)))
        return err;
    return CA_OK;
}

/* The log key: generates a new Ed25519 key, writes it to keys/<name>.key.next and loads it
 * (issuer keys: make_next, below). */
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
    ca_err err = ca_node_join_path(keys_dir, sizeof keys_dir, cfg->node_data_dir, "keys", eb);
    if (err)
        return err;
    snprintf(path, sizeof path, "%s/%s.next", keys_dir, name);
    struct stat st;
    if (stat(path, &st) != 0)
        return CA_OK;
    snprintf(next_name, sizeof next_name, "%s.next", name);
    if (ca_node_load_ed25519(next, cfg, next_name, eb) != CA_OK) {
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
    ca_audit_event ev = {.method = "keys rotate", .route = route, .detail = detail};
    ca_errbuf eb = {{0}};
    if (ca_audit_append(node->store, &ev, &eb))
        ca_node_log(CA_NODE_LOG_WARNING, "keys rotate", "audit entry not written: %s",
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
    if ((err = ca_node_join_path(keys_dir, sizeof keys_dir, node->cfg.node_data_dir, "keys", eb)) ||
        (err = ca_log_verifier_key(node->log, r->new_key, eb)) ||
        (err = find_next_key(&next, &node->cfg, CA_KEYFILE_LOG, eb)))
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
            err = swap_key_files(keys_dir, CA_KEYFILE_LOG, archive_name, r->archived,
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
        discard_next_key(&node->cfg, CA_KEYFILE_LOG);
    }
    if ((err = make_next_key(&next, &node->cfg, keys_dir, CA_KEYFILE_LOG, eb)))
        return err;
    if ((err = ca_log_rotate_key(node->log, next, eb))) {
        ca_ed25519_key_free(next);
        discard_next_key(&node->cfg, CA_KEYFILE_LOG);
        return err;
    }
    /* The log now signs with next: the node owns it from here. */
    ca_ed25519_key_free(node->log_key);
    node->log_key = next;
    r->tree_size = ca_log_size(node->log);
    ca_log_verifier_key(node->log, r->new_key, NULL);
    ca_log_checkpoint(node->log, r->note, &r->note_len, NULL);
    if ((err = swap_key_files(keys_dir, CA_KEYFILE_LOG, archive_name, r->archived,
                              sizeof r->archived, eb)))
        return err;
    snprintf(detail, sizeof detail, "log key %s replaced by %s at size %llu", old_id,
             r->new_key, (unsigned long long)r->tree_size);
    audit_rotation(node, "keys/log", detail);
    return CA_OK;
}

/* ---- issuer key histories and rotation (keys rotate --issuer) ------------------------------ */

#define ISSUER_PUB_MAX 1024 /* one history key: a multibase, or a public JWK (RSA-4096: ~750) */
#define HISTORY_TEXT_MAX (CA_ISSUER_KEYS_MAX * (ISSUER_PUB_MAX + 24))

/* One line of a history. */
typedef struct hist_key {
    int64_t valid_from;
    char pub[ISSUER_PUB_MAX]; /* the multibase (Ed25519) or the public JWK text (JOSE) */
} hist_key;

/* Called by every open with the writer lock, after the log is open. A log key rotation
 * committed but not finished (a crash between steps 2 and 4) leaves log.key holding the key
 * the store calls old, and the log refuses appends until the rotation is finished: the writer
 * finishes it here (ca_node_rotate_log_key resumes it, with its audit entry), then reopens
 * the log with the new key. A .next the store does not name is left for the next rotation
 * to discard. keys rotate --log skips this (CA_NODE_NO_ROTATION_CHECK) to report it. */
ca_err ca_node_check_log_rotation(ca_node *node, ca_log_options *lo, ca_errbuf *eb)
{
    ca_ed25519_key *next = NULL;
    char stored[CA_VERIFIER_KEY_MAX], next_vkey[CA_VERIFIER_KEY_MAX];
    ca_err err = find_next_key(&next, &node->cfg, CA_KEYFILE_LOG, eb);
    if (err || !next)
        return err;
    uint8_t pub[CA_ED25519_PUB_SIZE];
    ca_ed25519_key_public(next, pub);
    ca_ed25519_key_free(next);
    ca_verifier_key_format(next_vkey, ca_log_origin(node->log), pub);
    if ((err = ca_log_verifier_key(node->log, stored, eb)) || strcmp(stored, next_vkey) != 0)
        return err;
    ca_key_rotation *r = malloc(sizeof *r);
    if (!r)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    err = ca_node_rotate_log_key(node, r, eb);
    CA_ASSERT(err || r->resumed);
    free(r);
    if (err)
        return err;
    ca_log_close(node->log);
    node->log = NULL;
    ca_ed25519_key_free(node->log_key);
    node->log_key = NULL;
    if ((err = ca_node_load_ed25519(&node->log_key, &node->cfg, CA_KEYFILE_LOG, eb)))
        return err;
    lo->log_key = node->log_key;
    if ((err = ca_log_open(&node->log, lo, eb)))
        return err;
    ca_node_log(CA_NODE_LOG_INFO, NULL, "finished an interrupted log key rotation (now %s)",
                stored);
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

/* The Ed25519 public key of a publicKeyMultibase; false when it is not one. */
static bool ed25519_from_multibase(uint8_t pub[CA_ED25519_PUB_SIZE], const char *mb)
{
    uint8_t raw[64];
    size_t raw_len = sizeof raw;
    if (strlen(mb) >= CA_MULTIBASE_KEY_MAX ||
        ca_multibase_decode(raw, &raw_len, mb, strlen(mb), NULL) != CA_OK ||
        raw_len != 2 + CA_ED25519_PUB_SIZE || raw[0] != 0xed || raw[1] != 0x01)
        return false;
    memcpy(pub, raw + 2, CA_ED25519_PUB_SIZE);
    return true;
}

/* The public JWK of a JOSE history key; NULL when the text is not a JSON object. */
static json_t *jwk_from_text(const char *text)
{
    json_t *jwk = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (jwk && !json_is_object(jwk)) {
        json_decref(jwk);
        jwk = NULL;
    }
    return jwk;
}

/* A key as its history writes it: the multibase (Ed25519) or the public JWK (JOSE). */
static ca_err signer_pub_text(char out[ISSUER_PUB_MAX], const ca_issuer_slot *s,
                              const ca_signer *sg, ca_errbuf *eb)
{
    ca_err err;
    if (s->alg == CA_ALG_EDDSA) {
        uint8_t pub[33];
        size_t len = sizeof pub;
        if ((err = ca_signer_public_raw(sg, pub, &len, eb)))
            return err;
        CA_ASSERT(len == CA_ED25519_PUB_SIZE);
        return ed25519_multibase(out, pub, eb);
    }
    json_t *jwk = NULL;
    if ((err = ca_signer_public_jwk(&jwk, sg, eb)))
        return err;
    char *text = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(jwk);
    if (!text)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (strlen(text) >= ISSUER_PUB_MAX)
        err = ca_fail(eb, CA_ERR_TOO_LARGE, "the %s issuer key is too large",
                      ca_jws_alg_name(s->alg));
    else
        memcpy(out, text, strlen(text) + 1);
    free(text);
    return err;
}

/* Parses the history text of slot s. CA_ERR_STORE when it is damaged. */
static ca_err parse_history(const ca_issuer_slot *s, hist_key *keys, size_t cap, size_t *n,
                            const char *text)
{
    *n = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        char *end;
        if (!nl || *n >= cap)
            return CA_ERR_STORE;
        long long from = strtoll(p, &end, 10);
        if (end == p || end >= nl || *end != ' ')
            return CA_ERR_STORE;
        size_t len = (size_t)(nl - end - 1);
        if (len == 0 || len >= ISSUER_PUB_MAX)
            return CA_ERR_STORE;
        hist_key *k = &keys[*n];
        memcpy(k->pub, end + 1, len);
        k->pub[len] = '\0';
        k->valid_from = from;
        bool good;
        if (s->alg == CA_ALG_EDDSA) {
            uint8_t pub[CA_ED25519_PUB_SIZE];
            good = ed25519_from_multibase(pub, k->pub);
        } else {
            json_t *jwk = jwk_from_text(k->pub);
            good = jwk != NULL;
            json_decref(jwk);
        }
        if (!good)
            return CA_ERR_STORE;
        (*n)++;
        p = nl + 1;
    }
    return CA_OK;
}

/* Reads the history of slot s in t; none stored (never rotated) is *n = 0. */
static ca_err read_history(ca_store_txn *t, const ca_issuer_slot *s, hist_key *keys, size_t cap,
                           size_t *n, ca_errbuf *eb)
{
    *n = 0;
    ca_store_val val;
    ca_err err = ca_store_get(t, CA_TABLE_META, s->meta, strlen(s->meta), &val);
    if (err == CA_ERR_NOT_FOUND)
        return CA_OK;
    if (err)
        return ca_fail(eb, err, "cannot read the issuer key history %s: %s", s->meta,
                       ca_strerror(err));
    char *text = NULL;
    if (val.len < HISTORY_TEXT_MAX && !(text = malloc(val.len + 1)))
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    err = CA_ERR_STORE;
    if (text) {
        memcpy(text, val.data, val.len);
        text[val.len] = '\0';
        if (strlen(text) == val.len)
            err = parse_history(s, keys, cap, n, text);
    }
    free(text);
    return err ? ca_fail(eb, err, "the issuer key history %s is damaged", s->meta) : CA_OK;
}

/* The keys of slot s the DID document lists, in *keys (cap entries, allocated here; the
 * caller frees it, also on error): the history, and current (a history key text; NULL: none)
 * appended when the history does not end with it (never rotated, or a rotation committed
 * before its files were swapped). */
static ca_err load_history(ca_store *store, const ca_issuer_slot *s, const char *current,
                           hist_key **keys, size_t cap, size_t *n, ca_errbuf *eb)
{
    *n = 0;
    hist_key *k = *keys = calloc(cap, sizeof *k);
    if (!k)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    err = read_history(t, s, k, cap, n, eb);
    ca_store_abort(t);
    if (err || !current || (*n && strcmp(k[*n - 1].pub, current) == 0))
        return err;
    if (*n >= cap)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "too many %s issuer keys",
                       ca_jws_alg_name(s->alg));
    k[*n].valid_from = 0;
    snprintf(k[*n].pub, sizeof k[*n].pub, "%s", current);
    (*n)++;
    return CA_OK;
}

ca_err ca_node_issuer_keys(ca_store *store, const ca_ed25519_key *current, ca_issuer_key *keys,
                           size_t cap, size_t *n, ca_errbuf *eb)
{
    CA_ASSERT(store && keys && n && cap >= 1);
    *n = 0;
    char cur[CA_MULTIBASE_KEY_MAX];
    hist_key *h = NULL;
    size_t hn = 0;
    ca_err err = CA_OK;
    if (current) {
        uint8_t pub[CA_ED25519_PUB_SIZE];
        ca_ed25519_key_public(current, pub);
        err = ed25519_multibase(cur, pub, eb);
    }
    if (!err)
        err = load_history(store, &ca_issuer_slots[0], current ? cur : NULL, &h, cap, &hn, eb);
    for (size_t i = 0; !err && i < hn; i++) {
        /* parse_history checked every multibase; current is one */
        keys[i].valid_from = h[i].valid_from;
        snprintf(keys[i].multibase, sizeof keys[i].multibase, "%.*s",
                 (int)sizeof keys[i].multibase - 1, h[i].pub);
        if (!ed25519_from_multibase(keys[i].pub, h[i].pub))
            err = ca_fail(eb, CA_ERR_STORE, "the issuer key history is damaged");
    }
    if (!err)
        *n = hn;
    free(h);
    return err;
}

ca_err ca_node_issuer_jwks(ca_store *store, ca_jws_alg alg, const ca_signer *current,
                           ca_issuer_jwk *keys, size_t cap, size_t *n, ca_errbuf *eb)
{
    const ca_issuer_slot *s = ca_issuer_slot_of(alg);
    CA_ASSERT(store && keys && n && cap >= 1 && s && alg != CA_ALG_EDDSA);
    *n = 0;
    char cur[ISSUER_PUB_MAX];
    hist_key *h = NULL;
    size_t hn = 0;
    ca_err err = CA_OK;
    if (current)
        err = signer_pub_text(cur, s, current, eb);
    if (!err)
        err = load_history(store, s, current ? cur : NULL, &h, cap, &hn, eb);
    for (size_t i = 0; !err && i < hn; i++) {
        keys[i].valid_from = h[i].valid_from;
        if (!(keys[i].jwk = jwk_from_text(h[i].pub))) /* parse_history checked each */
            err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        else
            *n = i + 1;
    }
    if (err) {
        ca_node_issuer_jwks_free(keys, *n);
        *n = 0;
    }
    free(h);
    return err;
}

void ca_node_issuer_jwks_free(ca_issuer_jwk *keys, size_t n)
{
    for (size_t i = 0; keys && i < n; i++) {
        json_decref(keys[i].jwk);
        keys[i].jwk = NULL;
    }
}

/* One issuer key during `keys rotate --issuer`. */
typedef struct slot_rotation {
    const ca_issuer_slot *s;
    /* The stored history; then the key file's key when the history does not end with it;
     * then the new key. */
    hist_key keys[CA_ISSUER_KEYS_MAX + 2];
    size_t stored;            /* entries the store holds */
    size_t n;                 /* entries with the key file's: the document's "#<fragment>-n" */
    char cur[ISSUER_PUB_MAX]; /* the key in keys/<file> */
    size_t cur_no;            /* its place in the stored history (last match); 0: not there */
    ca_signer *next;          /* keys/<file>.next: left by a crash, or the new key */
    ca_ed25519_key *next_ed;  /* Ed25519: next as the node's issuer_key */
    char next_pub[ISSUER_PUB_MAX];
    bool committed;           /* the store's history ends with next: finish the file swap */
    bool swapped;             /* this call swapped the files */
    char archived[CA_CONFIG_STR_MAX + 96];
} slot_rotation;

/* Reads the history of sr->s in t and the key its file holds (cur, the node's signer). */
static ca_err load_slot(slot_rotation *sr, ca_store_txn *t, const ca_signer *cur, ca_errbuf *eb)
{
    ca_err err;
    if ((err = read_history(t, sr->s, sr->keys, CA_ISSUER_KEYS_MAX, &sr->stored, eb)) ||
        (err = signer_pub_text(sr->cur, sr->s, cur, eb)))
        return err;
    sr->n = sr->stored;
    for (size_t i = 0; i < sr->stored; i++)
        if (strcmp(sr->keys[i].pub, sr->cur) == 0)
            sr->cur_no = i + 1;
    if (!sr->n || strcmp(sr->keys[sr->n - 1].pub, sr->cur) != 0) {
        sr->keys[sr->n].valid_from = 0;
        memcpy(sr->keys[sr->n].pub, sr->cur, sizeof sr->cur);
        sr->n++;
    }
    return CA_OK;
}

/* Opens a key's secret bytes as sr->next (and for Ed25519 as sr->next_ed too). */
static ca_err open_next(slot_rotation *sr, const uint8_t *secret, size_t len, ca_errbuf *eb)
{
    ca_err err = ca_signer_open(&sr->next, sr->s->alg, secret, len, eb);
    if (!err && sr->s->alg == CA_ALG_EDDSA &&
        (err = ca_ed25519_key_from_seed(&sr->next_ed, secret)))
        ca_fail(eb, err, "cannot load the new issuer key");
    if (!err)
        err = signer_pub_text(sr->next_pub, sr->s, sr->next, eb);
    return err;
}

static void free_next(slot_rotation *sr)
{
    ca_signer_free(sr->next);
    sr->next = NULL;
    ca_ed25519_key_free(sr->next_ed);
    sr->next_ed = NULL;
}

/* Looks for keys/<file>.next left by an interrupted rotation and loads it as sr->next; one
 * that does not load was never committed (the store names only written keys) and is removed
 * when may_remove (never by an open without the writer lock: a rotation may be writing it).
 * secret is CA_SIGNER_SECRET_MAX bytes of scratch. */
static ca_err find_next(slot_rotation *sr, const ca_config *cfg, const char *keys_dir,
                        uint8_t *secret, bool may_remove, ca_errbuf *eb)
{
    char name[64], path[CA_CONFIG_STR_MAX + 80];
    snprintf(name, sizeof name, "%s.next", sr->s->file);
    snprintf(path, sizeof path, "%s/%s", keys_dir, name);
    struct stat st;
    if (stat(path, &st) != 0)
        return CA_OK;
    size_t len = CA_SIGNER_SECRET_MAX;
    ca_err err = ca_node_read_key_any(secret, &len, cfg, name, sr->s->kind, NULL);
    if (!err)
        err = open_next(sr, secret, len, NULL);
    ca_wipe(secret, CA_SIGNER_SECRET_MAX);
    if (err) {
        free_next(sr);
        if (may_remove && unlink(path) != 0)
            return ca_fail(eb, CA_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
    }
    sr->committed = sr->next && sr->stored && sr->n > sr->stored &&
                    strcmp(sr->keys[sr->stored - 1].pub, sr->next_pub) == 0;
    return CA_OK;
}

/* Generates a new key for sr->s, writes it to keys/<file>.next and loads it as sr->next.
 * secret is CA_SIGNER_SECRET_MAX bytes of scratch. */
static ca_err make_next(slot_rotation *sr, const char *keys_dir, const char *pass,
                        size_t pass_len, uint8_t *secret, ca_errbuf *eb)
{
    char path[CA_CONFIG_STR_MAX + 80];
    size_t len = CA_SIGNER_SECRET_MAX;
    snprintf(path, sizeof path, "%s/%s.next", keys_dir, sr->s->file);
    ca_err err = ca_signer_generate(secret, &len, sr->s->alg, eb);
    if (!err)
        err = ca_keyfile_write(path, sr->s->kind, secret, len, pass, pass_len, eb);
    if (!err)
        err = open_next(sr, secret, len, eb);
    ca_wipe(secret, CA_SIGNER_SECRET_MAX);
    return err;
}

/* keys/archive/<file minus .key>-<no>.key: where key number no of sr's slot is archived. */
static void slot_archive_name(const slot_rotation *sr, size_t no, char *out, size_t cap)
{
    snprintf(out, cap, "%.*s-%zu.key", (int)(strlen(sr->s->file) - strlen(".key")), sr->s->file,
             no);
}

/* Steps 3-4 for one key: the file's key (number no) goes to the archive, next takes its
 * place, and the node signs with next from now on. */
static ca_err swap_slot(ca_node *node, slot_rotation *sr, const char *keys_dir, size_t no,
                        ca_errbuf *eb)
{
    char archive_name[96];
    slot_archive_name(sr, no, archive_name, sizeof archive_name);
    ca_err err = swap_key_files(keys_dir, sr->s->file, archive_name, sr->archived,
                                sizeof sr->archived, eb);
    if (err)
        return err;
    sr->swapped = true;
    ca_signer_free(node->issuer_signers[sr->s->alg]);
    node->issuer_signers[sr->s->alg] = sr->next;
    sr->next = NULL;
    if (sr->next_ed) {
        ca_ed25519_key_free(node->issuer_key);
        node->issuer_key = sr->next_ed;
        sr->next_ed = NULL;
    }
    return CA_OK;
}

/* Adds the new method "<fragment>-<no>" to the report, and "#<fragment>-<no - 1> by
 * #<fragment>-<no>" to the audit detail. */
static void report_method(ca_key_rotation *r, const slot_rotation *sr, const char *keys_dir,
                          size_t no, char *detail, size_t cap)
{
    CA_ASSERT(r->nrotated < CA_ISSUER_ALGS && no >= 2);
    char *archived = r->rotated_archived[r->nrotated];
    if (sr->swapped) {
        snprintf(archived, sizeof r->rotated_archived[0], "%s", sr->archived);
    } else { /* moved before the crash */
        char name[96];
        slot_archive_name(sr, no - 1, name, sizeof name);
        snprintf(archived, sizeof r->rotated_archived[0], "%s/archive/%s", keys_dir, name);
    }
    snprintf(r->rotated[r->nrotated++], CA_ISSUER_FRAGMENT_MAX, "%s-%zu", sr->s->fragment, no);
    size_t len = strlen(detail);
    snprintf(detail + len, cap - len, "%s#%s-%zu by #%s-%zu", r->nrotated > 1 ? ", " : "",
             sr->s->fragment, no - 1, sr->s->fragment, no);
}

/* The Ed25519 part of the report, after report_method ran for every slot: sr is its slot,
 * the first (newest key last), so its archived file is the first reported. */
static void report_ed25519(ca_key_rotation *r, const slot_rotation *sr, size_t n)
{
    CA_ASSERT(sr->s->alg == CA_ALG_EDDSA && r->nrotated >= 1 &&
              strncmp(r->rotated[0], "key-", 4) == 0);
    r->nkeys = n;
    snprintf(r->new_key, sizeof r->new_key, "%.*s", CA_MULTIBASE_KEY_MAX, sr->keys[n - 1].pub);
    if (n >= 2)
        snprintf(r->old_key, sizeof r->old_key, "%.*s", CA_MULTIBASE_KEY_MAX,
                 sr->keys[n - 2].pub);
    snprintf(r->archived, sizeof r->archived, "%s", r->rotated_archived[0]);
}

/* A rotation committed before a crash: swaps the files of every key the store names as the
 * newest while its file holds an older one; keys swapped before the crash are done. */
static ca_err finish_rotation(ca_node *node, slot_rotation *sr, size_t nsr, const char *keys_dir,
                              ca_key_rotation *r, ca_errbuf *eb)
{
    char detail[512] = "issuer keys: finished the interrupted rotation: ";
    int64_t when = INT64_MIN;
    ca_err err;
    r->resumed = true;
    for (size_t i = 0; i < nsr; i++) {
        if (sr[i].committed) {
            when = sr[i].keys[sr[i].stored - 1].valid_from;
            if ((err = swap_slot(node, &sr[i], keys_dir, sr[i].cur_no ? sr[i].cur_no : sr[i].n,
                                 eb)))
                return err;
        } else if (sr[i].next) { /* not the store's newest: never committed */
            free_next(&sr[i]);
            discard_next_key(&node->cfg, sr[i].s->file);
        }
    }
    /* One rotation writes every history with the same valid_from: its keys are the newest
     * entries carrying it. */
    for (size_t i = 0; i < nsr; i++)
        if (sr[i].stored >= 2 && sr[i].keys[sr[i].stored - 1].valid_from == when)
            report_method(r, &sr[i], keys_dir, sr[i].stored, detail, sizeof detail);
    report_ed25519(r, &sr[0], sr[0].stored);
    audit_rotation(node, "keys/issuer", detail);
    return CA_OK;
}

/* Steps 1 and 2 below: for each issuer key the node has (a data dir lacking a JOSE key file
 * has none of that alg), its history, the key in its file, and a .next file a crash may have
 * left; *resume when the store names some .next as the newest key, i.e. a rotation was
 * committed but not all its files swapped. sr holds CA_ISSUER_SLOTS entries; secret is scratch. */
static ca_err scan_issuer_keys(ca_node *node, slot_rotation *sr, size_t *nsr,
                               const char *keys_dir, uint8_t *secret, bool may_remove,
                               bool *resume, ca_errbuf *eb)
{
    ca_store_txn *t = NULL;
    *nsr = 0;
    *resume = false;
    ca_err err = ca_store_begin(node->store, &t, false, eb);
    for (size_t i = 0; i < CA_ISSUER_SLOTS && !err; i++) {
        const ca_signer *cur = node->issuer_signers[ca_issuer_slots[i].alg];
        if (!cur)
            continue;
        sr[*nsr].s = &ca_issuer_slots[i];
        err = load_slot(&sr[(*nsr)++], t, cur, eb);
    }
    ca_store_abort(t);
    for (size_t i = 0; i < *nsr && !err; i++)
        if (!(err = find_next(&sr[i], &node->cfg, keys_dir, secret, may_remove, eb)))
            *resume = *resume || sr[i].committed;
    return err;
}

/* Frees what scan_issuer_keys filled (sr may be NULL) and wipes its secret scratch. */
static void free_scan(slot_rotation *sr, size_t nsr, uint8_t *secret)
{
    for (size_t i = 0; sr && i < nsr; i++)
        free_next(&sr[i]);
    if (secret)
        ca_wipe(secret, CA_SIGNER_SECRET_MAX);
    free(secret);
    free(sr);
}

/* Called by every open that loads the issuer keys, after the store is open. A rotation
 * committed but not finished (a crash between steps 2 and 4) leaves the files holding keys
 * the store already calls old: signing with them would put a retired key back in the DID
 * document. The single writer finishes the rotation (as `keys rotate --issuer` would, with
 * its audit entry); any other open is refused until then. keys rotate itself skips this
 * (CA_NODE_NO_ROTATION_CHECK) to report the resumption. */
ca_err ca_node_check_issuer_rotation(ca_node *node, bool writer, ca_errbuf *eb)
{
    char keys_dir[CA_CONFIG_STR_MAX + 8];
    slot_rotation *sr = calloc(CA_ISSUER_SLOTS, sizeof *sr);
    uint8_t *secret = malloc(CA_SIGNER_SECRET_MAX);
    ca_key_rotation *r = malloc(sizeof *r);
    size_t nsr = 0;
    bool resume = false;
    ca_err err;
    if (!sr || !secret || !r) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((err = ca_node_join_path(keys_dir, sizeof keys_dir, node->cfg.node_data_dir, "keys", eb)) ||
        (err = scan_issuer_keys(node, sr, &nsr, keys_dir, secret, writer, &resume, eb)) ||
        !resume)
        goto out;
    if (!writer) {
        err = ca_fail(eb, CA_ERR_INCONSISTENT, "an issuer key rotation was interrupted; run "
                      "`credanchor keys rotate --issuer` (node stopped) to finish it");
        goto out;
    }
    memset(r, 0, sizeof *r);
    if (!(err = finish_rotation(node, sr, nsr, keys_dir, r, eb)))
        ca_node_log(CA_NODE_LOG_INFO, NULL,
                    "finished an interrupted issuer key rotation (now #key-%zu)", r->nkeys);
out:
    free_scan(sr, nsr, secret);
    free(r);
    return err;
}

typedef struct issuer_rotate_args {
    const slot_rotation *sr;
    size_t nsr;
    char *text; /* nsr new histories of HISTORY_TEXT_MAX bytes each */
} issuer_rotate_args;

static ca_err issuer_rotate_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    const issuer_rotate_args *a = arg;
    for (size_t i = 0; i < a->nsr; i++) {
        const char *meta = a->sr[i].s->meta, *text = a->text + i * HISTORY_TEXT_MAX;
        ca_err err = ca_store_put(t, CA_TABLE_META, meta, strlen(meta), text, strlen(text));
        if (err)
            return ca_fail(eb, err, "cannot store the issuer key history %s: %s", meta,
                           ca_strerror(err));
    }
    return CA_OK;
}

/* Every issuer key together (the file steps are at the top of this section):
 *   1. scan_issuer_keys: each key's history, file and leftover .next;
 *   2. any .next the store names as the newest key: the last rotation was committed but not
 *      all files swapped; finish those swaps and stop (finish_rotation);
 *   3. otherwise discard stale .next files, write a new .next key per alg, commit all the
 *      histories in one transaction, then swap the files key by key. */
ca_err ca_node_rotate_issuer_key(ca_node *node, ca_key_rotation *r, ca_errbuf *eb)
{
    CA_ASSERT(node && r && node->issuer_key && node->issuer_signers[CA_ALG_EDDSA]);
    memset(r, 0, sizeof *r);
    char keys_dir[CA_CONFIG_STR_MAX + 8], pass_path[CA_CONFIG_STR_MAX + 64];
    char pass[CA_PASSPHRASE_MAX], detail[512] = "issuer keys replaced: ";
    slot_rotation *sr = calloc(CA_ISSUER_SLOTS, sizeof *sr);
    uint8_t *secret = malloc(CA_SIGNER_SECRET_MAX);
    char *text = NULL;
    size_t nsr = 0, pass_len = 0;
    bool resume = false;
    ca_err err;
    if (!sr || !secret) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((err = ca_node_join_path(keys_dir, sizeof keys_dir, node->cfg.node_data_dir, "keys", eb)) ||
        (err = scan_issuer_keys(node, sr, &nsr, keys_dir, secret, true, &resume, eb)))
        goto out;
    CA_ASSERT(sr[0].s->alg == CA_ALG_EDDSA);
    if (resume) {
        err = finish_rotation(node, sr, nsr, keys_dir, r, eb);
        goto out;
    }

    for (size_t i = 0; i < nsr; i++) {
        free_next(&sr[i]);
        discard_next_key(&node->cfg, sr[i].s->file);
    }
    for (size_t i = 0; i < nsr; i++)
        if (sr[i].n >= CA_ISSUER_KEYS_MAX) {
            err = ca_fail(eb, CA_ERR_TOO_LARGE, "already %zu %s issuer keys (at most %d); no "
                          "more rotations", sr[i].n, ca_jws_alg_name(sr[i].s->alg),
                          CA_ISSUER_KEYS_MAX);
            goto out;
        }
    if (!(text = calloc(nsr, HISTORY_TEXT_MAX))) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    ca_config_passphrase_path(&node->cfg, pass_path, sizeof pass_path);
    if ((err = ca_passphrase_load(pass, &pass_len, pass_path, eb)))
        goto out;
    for (size_t i = 0; i < nsr && !err; i++)
        err = make_next(&sr[i], keys_dir, pass, pass_len, secret, eb);
    if (err)
        goto out_discard;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < nsr; i++) {
        slot_rotation *s = &sr[i];
        s->keys[s->n].valid_from = now;
        memcpy(s->keys[s->n].pub, s->next_pub, sizeof s->next_pub);
        s->n++;
        char *out = text + i * HISTORY_TEXT_MAX;
        size_t len = 0;
        for (size_t k = 0; k < s->n; k++)
            len += (size_t)snprintf(out + len, HISTORY_TEXT_MAX - len, "%lld %s\n",
                                    (long long)s->keys[k].valid_from, s->keys[k].pub);
    }
    issuer_rotate_args a = {sr, nsr, text};
    if ((err = ca_store_write(node->store, issuer_rotate_txn, &a, eb)))
        goto out_discard;
    /* Committed: from here a failure is finished by the next `keys rotate --issuer`. */
    for (size_t i = 0; i < nsr; i++) {
        if ((err = swap_slot(node, &sr[i], keys_dir, sr[i].n - 1, eb)))
            goto out;
        report_method(r, &sr[i], keys_dir, sr[i].n, detail, sizeof detail);
    }
    report_ed25519(r, &sr[0], sr[0].n);
    size_t len = strlen(detail);
    snprintf(detail + len, sizeof detail - len, " (Ed25519 %.64s replaced by %.64s)", r->old_key,
             r->new_key);
    audit_rotation(node, "keys/issuer", detail);
    goto out;
out_discard:
    for (size_t i = 0; i < nsr; i++)
        discard_next_key(&node->cfg, sr[i].s->file);
out:
    ca_wipe(pass, sizeof pass);
    free_scan(sr, nsr, secret);
    free(text);
    return err;
}

/* ---- issuer key files against the store's histories (issue #13 item 7) --------------------
 * Key files are created only by init and `keys migrate`, never by an open: a key regenerated
 * in place of a lost file would silently break every credential the lost key signed. Each
 * open that loads the issuer keys (ca_node_check_issuer_key_files):
 *   - refuses when a JOSE key file is missing but the store's history names a key of that
 *     alg: "restore the key from a backup";
 *   - with the file missing and no history (a data dir from before that alg), leaves the alg
 *     unavailable; `credanchor keys migrate` creates the key, audited;
 *   - as the writer, records each key file's key in a history still absent (one line
 *     "0 <key>", what the first rotation would write), so from then on the store names every
 *     key in use. The DID document is unchanged: it appends the file's key to a history that
 *     does not end with it (load_history). */

typedef struct record_args {
    const ca_issuer_slot *slots[CA_ISSUER_SLOTS];
    char (*lines)[ISSUER_PUB_MAX + 8]; /* "0 <key>\n" per slot */
    size_t n;
} record_args;

static ca_err record_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    const record_args *a = arg;
    for (size_t i = 0; i < a->n; i++) {
        const char *meta = a->slots[i]->meta;
        ca_store_val v;
        ca_err err = ca_store_get(t, CA_TABLE_META, meta, strlen(meta), &v);
        if (err == CA_ERR_NOT_FOUND)
            err = ca_store_put(t, CA_TABLE_META, meta, strlen(meta), a->lines[i],
                               strlen(a->lines[i]));
        if (err)
            return ca_fail(eb, err, "cannot store the issuer key history %s: %s", meta,
                           ca_strerror(err));
    }
    return CA_OK;
}

/* Writes "0 <key>" as the history of every slot in want[] (NULL: skip) whose history is
 * absent. */
static ca_err record_histories(ca_node *node, const ca_issuer_slot *const *want, ca_errbuf *eb)
{
    record_args a = {.lines = calloc(CA_ISSUER_SLOTS, sizeof *a.lines)};
    ca_err err = CA_OK;
    if (!a.lines)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < CA_ISSUER_SLOTS && !err; i++) {
        if (!want[i])
            continue;
        char pub[ISSUER_PUB_MAX];
        if (!(err = signer_pub_text(pub, want[i], node->issuer_signers[want[i]->alg], eb))) {
            snprintf(a.lines[a.n], sizeof a.lines[0], "0 %s\n", pub);
            a.slots[a.n++] = want[i];
        }
    }
    if (!err && a.n)
        err = ca_store_write(node->store, record_txn, &a, eb);
    free(a.lines);
    return err;
}

ca_err ca_node_check_issuer_key_files(ca_node *node, bool writer, ca_errbuf *eb)
{
    const ca_issuer_slot *record[CA_ISSUER_SLOTS] = {0};
    hist_key *h = calloc(CA_ISSUER_KEYS_MAX, sizeof *h);
    ca_store_txn *t = NULL;
    size_t n = 0;
    bool any = false;
    ca_err err = h ? ca_store_begin(node->store, &t, false, eb)
                   : ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < CA_ISSUER_SLOTS && !err; i++) {
        const ca_issuer_slot *s = &ca_issuer_slots[i];
        if ((err = read_history(t, s, h, CA_ISSUER_KEYS_MAX, &n, eb)))
            break;
        if (node->issuer_signers[s->alg]) {
            if (n == 0 && writer) {
                record[i] = s;
                any = true;
            }
        } else if (n > 0) {
            err = ca_fail(eb, CA_ERR_NOT_FOUND,
                          "%s/keys/%s is missing, but the store's key history names %zu %s "
                          "issuer key(s) (#%s-1..%zu) that credentials may be signed with: "
                          "restore the key from a backup",
                          node->cfg.node_data_dir, s->file, n, ca_jws_alg_name(s->alg),
                          s->fragment, n);
        } else if (writer) {
            ca_node_log(CA_NODE_LOG_WARNING, NULL,
                        "%s/keys/%s is missing and the store names no %s key: %s is "
                        "unavailable (a data dir from before it: run credanchor keys migrate; "
                        "otherwise restore the key from a backup)",
                        node->cfg.node_data_dir, s->file, ca_jws_alg_name(s->alg),
                        ca_jws_alg_name(s->alg));
        }
    }
    ca_store_abort(t);
    free(h);
    if (!err && any)
        err = record_histories(node, record, eb);
    return err;
}

ca_err ca_node_migrate_issuer_keys(ca_node *node, ca_key_migration *m, ca_errbuf *eb)
{
    CA_ASSERT(node && m && node->issuer_signers[CA_ALG_EDDSA]);
    memset(m, 0, sizeof *m);
    char keys_dir[CA_CONFIG_STR_MAX + 8], pass_path[CA_CONFIG_STR_MAX + 64];
    char pass[CA_PASSPHRASE_MAX], detail[256] = "created";
    const ca_issuer_slot *record[CA_ISSUER_SLOTS] = {0};
    uint8_t *secret = malloc(CA_SIGNER_SECRET_MAX);
    size_t pass_len = 0;
    ca_err err;
    if (!secret)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_config_passphrase_path(&node->cfg, pass_path, sizeof pass_path);
    if ((err = ca_node_join_path(keys_dir, sizeof keys_dir, node->cfg.node_data_dir, "keys", eb)) ||
        (err = ca_passphrase_load(pass, &pass_len, pass_path, eb)))
        goto out;
    /* The open refused any missing key a history names, so each missing one here never
     * signed anything. */
    for (size_t i = 0; i < CA_ISSUER_SLOTS && !err; i++) {
        const ca_issuer_slot *s = &ca_issuer_slots[i];
        if (node->issuer_signers[s->alg])
            continue;
        size_t len = CA_SIGNER_SECRET_MAX;
        if ((err = ca_node_create_alg_key(keys_dir, s, pass, pass_len, eb)) ||
            (err = ca_node_read_key_any(secret, &len, &node->cfg, s->file, s->kind, eb)) ||
            (err = ca_signer_open(&node->issuer_signers[s->alg], s->alg, secret, len, eb)))
            break;
        ca_wipe(secret, CA_SIGNER_SECRET_MAX);
        record[i] = s;
        snprintf(m->created[m->ncreated++], sizeof m->created[0], "%s", s->file);
        size_t dl = strlen(detail);
        snprintf(detail + dl, sizeof detail - dl, " %s (%s)", s->file, ca_jws_alg_name(s->alg));
    }
    if (!err && m->ncreated && !(err = record_histories(node, record, eb))) {
        ca_audit_event ev = {.method = "keys migrate", .route = "keys/issuer", .detail = detail};
        ca_errbuf aeb = {{0}};
        if ((err = ca_audit_append(node->store, &ev, &aeb)))
            ca_fail(eb, err, "the keys were created but the audit entry was not written: %s",
                    ca_errmsg(&aeb, err));
    }
out:
    ca_wipe(pass, sizeof pass);
    ca_wipe(secret, CA_SIGNER_SECRET_MAX);
    free(secret);
    return err;
}

/* What `check` asks of the key files (issue #13 item 11): each decrypts, log.key holds the
 * key of the log's verifier key, and each issuer key file holds the newest key of its
 * history; a missing file the store names fails. CA_ERR_VERIFY names the first file that
 * does not match; other errors mean the check could not run (say, no passphrase). */
ca_err ca_node_check_keys(ca_node *node, size_t *checked, ca_errbuf *eb)
{
    CA_ASSERT(node && checked);
    *checked = 0;
    const char *dir = node->cfg.node_data_dir;
    char vkey[CA_VERIFIER_KEY_MAX], stored[CA_VERIFIER_KEY_MAX], pub_text[ISSUER_PUB_MAX];
    ca_ed25519_key *key = NULL;
    ca_signer *sg = NULL;
    hist_key *h = calloc(CA_ISSUER_KEYS_MAX, sizeof *h);
    uint8_t *secret = malloc(CA_SIGNER_SECRET_MAX);
    ca_store_txn *t = NULL;
    ca_err err = CA_OK;
    if (!h || !secret) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* log.key against the log's verifier key */
    if ((err = ca_node_load_ed25519(&key, &node->cfg, CA_KEYFILE_LOG, eb))) {
        if (err == CA_ERR_NOT_FOUND)
            err = ca_fail(eb, CA_ERR_VERIFY, "%s/keys/%s is missing: restore it from a backup",
                          dir, CA_KEYFILE_LOG);
        goto out;
    }
    uint8_t pub[CA_ED25519_PUB_SIZE];
    ca_ed25519_key_public(key, pub);
    ca_verifier_key_format(vkey, ca_log_origin(node->log), pub);
    if ((err = ca_log_verifier_key(node->log, stored, eb)))
        goto out;
    if (strcmp(vkey, stored) != 0) {
        err = ca_fail(eb, CA_ERR_VERIFY, "%s/keys/%s holds %s, not the log's key %s", dir,
                      CA_KEYFILE_LOG, vkey, stored);
        goto out;
    }
    (*checked)++;
    if ((err = ca_node_anchor_secret(node, secret, eb)))
        goto out;
    ca_wipe(secret, CA_SIGNER_SECRET_MAX);
    (*checked)++;
    if ((err = ca_store_begin(node->store, &t, false, eb)))
        goto out;
    for (size_t i = 0; i < CA_ISSUER_SLOTS && !err; i++) {
        const ca_issuer_slot *s = &ca_issuer_slots[i];
        size_t n = 0, len = CA_SIGNER_SECRET_MAX;
        if ((err = read_history(t, s, h, CA_ISSUER_KEYS_MAX, &n, eb)))
            break;
        err = ca_node_read_key_any(secret, &len, &node->cfg, s->file, s->kind, eb);
        if (err == CA_ERR_NOT_FOUND) {
            err = n ? ca_fail(eb, CA_ERR_VERIFY, "%s/keys/%s is missing, but the store names "
                              "%zu %s key(s): restore it from a backup", dir, s->file, n,
                              ca_jws_alg_name(s->alg))
                    : CA_OK; /* a data dir from before that alg: keys migrate */
            continue;
        }
        if (err || (err = ca_signer_open(&sg, s->alg, secret, len, eb)) ||
            (err = signer_pub_text(pub_text, s, sg, eb)))
            break;
        ca_signer_free(sg);
        sg = NULL;
        if (n && strcmp(h[n - 1].pub, pub_text) != 0)
            err = ca_fail(eb, CA_ERR_VERIFY, "%s/keys/%s holds another %s key than the one "
                          "the store names (#%s-%zu): what it signs would not verify; restore "
                          "it from a backup", dir, s->file, ca_jws_alg_name(s->alg),
                          s->fragment, n);
        else
            (*checked)++;
    }
out:
    ca_store_abort(t);
    ca_signer_free(sg);
    ca_ed25519_key_free(key);
    if (secret)
        ca_wipe(secret, CA_SIGNER_SECRET_MAX);
    free(secret);
    free(h);
    return err;
}
