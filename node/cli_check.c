/*
 * node/cli_check.c — `credanchor check` (SPEC §2, §6; issue 7): a read-only audit of a data dir,
 * safe beside a serving node.
 *   checkpoint  the latest signed checkpoint verifies under the log's verifier key and names
 *               the log's origin;
 *   tiles       every stored 256-leaf tile (what inclusion proofs read) equals the hashes
 *               recomputed from its leaves;
 *   root        the root recomputed from ALL leaves (one store scan, streaming builder: no
 *               stored subtree hash is trusted) equals the checkpoint's, at a size covering
 *               every leaf the log had when opened; also compared with the stored tree;
 *   anchor N    each anchor record: rootHash = the recomputed root at treeSize N, its stored
 *               checkpoint verifies and names (N, root), `previous` is exactly the preceding
 *               record's (size, root) (null for the first) and its consistency proof verifies,
 *               so the anchored sequence only ever grew;
 *   status lists  every published Bitstring Status List version's SHA-256 is the log leaf
 *               stored with it (so each revocation's time is provable against an anchor);
 *   credentials every issued credential's stored bytes hash to its record's digest, which is
 *               the leaf at its leafIndex;
 *   contact data  how many recipients' addresses the outbox still holds, sealed (issue #18),
 *               and how many emails are queued: counts only;
 *   audit       the audit hash chain is intact (ca_audit_verify);
 *   store       every page of every table and of LMDB's free-page list reads (a damaged
 *               free list fails every append but no read; issue #13 item 11);
 *   keys        every key file decrypts; log.key holds the log's verifier key and each issuer
 *               key file the newest key of its history; a missing file the store names
 *               fails (issue #13 items 7, 11: a regenerated key would break what it signed);
 *   anchor N on chain  (--rpc) each final record's transaction, checked with ca_anchor_check
 *               against the node's own anchor account (or --anchor-address).
 * Exit 0: every check passed. 1: a check failed. 2: bad usage, or a check could not run.
 */
#include "node/cli.h"

#include "node/anchor_engine.h"
#include "credanchor/anchor_check.h"
#include "node/auth.h"
#include "credanchor/encoding.h"
#include "node/issuer.h"
#include "node/outbox.h"
#include "credanchor/json_fields.h"
#include "credanchor/merkle.h"
#include "node/node.h"
#include "credanchor/rpc.h"
#include "node/store.h"
#include "credanchor/tile.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define VERB "check"

typedef enum { R_OK, R_FAIL, R_SKIP, R_ERROR } result_t;
static const char *const result_names[] = {"ok", "fail", "skip", "error"};

typedef struct report {
    json_t *checks; /* [{"name","result","detail"}] */
    bool json;
    size_t n, failed, errors;
    char first[1200]; /* the first failed (or else errored) check, for the stderr line */
    bool first_is_fail;
} report;

static void add(report *r, const char *name, result_t res, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(report *r, const char *name, result_t res, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    r->n++;
    if (res == R_FAIL)
        r->failed++;
    if (res == R_ERROR)
        r->errors++;
    if ((res == R_FAIL && !r->first_is_fail) || (res == R_ERROR && !r->first[0])) {
        snprintf(r->first, sizeof r->first, "%s: %s", name, detail);
        r->first_is_fail = res == R_FAIL;
    }
    json_array_append_new(r->checks, json_pack("{s:s, s:s, s:s}", "name", name, "result",
                                               result_names[res], "detail", detail));
    if (!r->json) {
        printf("%-5s %s: %s\n", result_names[res], name, detail);
        fflush(stdout);
    }
}

/* ---- anchor records -------------------------------------------------------------------------- */

typedef struct anchor_item {
    json_t *json;          /* borrowed from the list */
    bool parsed;           /* the public fields parsed (ca_anchor_claim_parse, proof aside) */
    uint64_t size;
    ca_hash root;
    char status[16];
    bool have_log_root;    /* log_root: the recomputed root at `size` */
    ca_hash log_root;
} anchor_item;

/* ---- the leaf scan ------------------------------------------------------------------------- */

typedef struct scan_ctx {
    ca_merkle_builder b;
    uint64_t cp_size;      /* capture the root at this size too */
    bool have_cp_root;
    ca_hash cp_root;
    anchor_item *anchors;  /* ascending sizes */
    size_t n_anchors, next_anchor;
    bool gap;              /* a key out of sequence or a value of the wrong length */
    uint64_t gap_at;
    /* tiles: each complete 256-leaf block's stored read copy (node/store.c `tiles`) against
     * the hashes recomputed from its leaves; proofs read these, the root does not */
    ca_store_txn *txn;
    ca_hash block[CA_TILE_BLOCK_HASHES];
    uint64_t tiles_checked, tiles_bad, first_bad_tile;
} scan_ctx;

static void capture(scan_ctx *c)
{
    uint64_t n = c->b.count;
    if (n == c->cp_size && !c->have_cp_root) {
        ca_merkle_builder_root(&c->b, &c->cp_root);
        c->have_cp_root = true;
    }
    while (c->next_anchor < c->n_anchors && c->anchors[c->next_anchor].size <= n) {
        anchor_item *a = &c->anchors[c->next_anchor++];
        if (a->size == n) {
            ca_merkle_builder_root(&c->b, &a->log_root);
            a->have_log_root = true;
        }
    }
}

/* Compares block t's stored tile with the levels 0..7 recomputed from its 256 leaf hashes
 * (in c->block). A block whose tile is absent (an old store) is not counted. */
static void check_tile(scan_ctx *c, uint64_t t)
{
    uint8_t key[8];
    ca_store_val v;
    ca_store_u64_key(key, t);
    if (ca_store_get(c->txn, CA_TABLE_TILES, key, sizeof key, &v) != CA_OK)
        return;
    ca_tile_block_fill(c->block);
    c->tiles_checked++;
    if (v.len != sizeof c->block || memcmp(v.data, c->block, sizeof c->block) != 0) {
        if (c->tiles_bad++ == 0)
            c->first_bad_tile = t;
    }
}

static bool leaf_fn(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    scan_ctx *c = arg;
    if (k->len != 8 || ca_store_u64_from(k->data) != c->b.count || v->len != CA_HASH_SIZE) {
        c->gap = true;
        c->gap_at = c->b.count;
        return false;
    }
    ca_hash leaf;
    ca_merkle_leaf_hash(&leaf, v->data);
    c->block[c->b.count % CA_TILE_WIDTH] = leaf;
    ca_merkle_builder_add(&c->b, &leaf);
    capture(c);
    if (c->b.count % CA_TILE_WIDTH == 0 && c->txn)
        check_tile(c, c->b.count / CA_TILE_WIDTH - 1);
    return true;
}

/* ---- the checks -------------------------------------------------------------------------- */

static int parse_u64_opt(uint64_t *out, const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || s[0] == '-' || errno || v > 1000000000ull)
        return ca_cli_usage_error(VERB, "%s must be a number of blocks", what);
    *out = v;
    return CA_EXIT_OK;
}

/* A stored (anchored) checkpoint keeps the signer it had: after `keys rotate --log` that is
 * an earlier log key, so a note the current key does not verify is tried with every key in
 * the log's key history (GET /v1/log/keys). */
static ca_err open_with_old_keys(ca_checkpoint *cp, ca_node *node, const char *note,
                                 size_t note_len, ca_errbuf *eb)
{
    ca_log_key_span *spans = calloc(CA_LOG_KEYS_MAX, sizeof *spans);
    size_t n = 0;
    ca_err err = CA_ERR_VERIFY;
    if (spans && ca_log_key_history(node->log, spans, CA_LOG_KEYS_MAX, &n, NULL) == CA_OK) {
        for (size_t i = 0; i < n && err; i++) {
            ca_note_verifier old;
            if (spans[i].current ||
                ca_verifier_key_parse(&old, spans[i].key, strlen(spans[i].key), NULL))
                continue;
            err = ca_checkpoint_open(cp, note, note_len, &old, NULL);
        }
    }
    free(spans);
    if (err)
        return ca_fail(eb, CA_ERR_VERIFY, "no log key ever used verifies it");
    return CA_OK;
}

/* The public fields of record it, strictly (the consistency proof is checked later), and its
 * rootHash; fills it->root, size, status. False when a failure was reported. */
static bool anchor_parse(report *r, const char *name, anchor_item *it, uint64_t size)
{
    json_t *o = it->json;
    ca_anchor_claim rec;
    ca_errbuf eb = {{0}};
    ca_err err = ca_anchor_claim_parse(&rec, o, &eb);
    const char *st = json_string_value(json_object_get(o, "status"));
    /* A pending record has no transaction yet (SPEC §2): its tx fields are null. Its
     * (size, root), checkpoint and previous are still checked below. */
    bool pending = st && strcmp(st, "pending") == 0 &&
                   json_is_null(json_object_get(o, "txHash"));
    if (err && err != CA_ERR_VERIFY && !pending) {
        add(r, name, R_FAIL, "malformed record: %s", ca_errmsg(&eb, err));
        return false;
    }
    if (!ca_json_hash(&it->root, o, "rootHash")) {
        add(r, name, R_FAIL, "malformed rootHash");
        return false;
    }
    it->parsed = true;
    it->size = size;
    snprintf(it->status, sizeof it->status, "%s", st ? st : "?");
    return true;
}

/* 1. rootHash is the log's root at treeSize. */
static bool anchor_root_matches(report *r, const char *name, const anchor_item *it,
                                const char *hex)
{
    if (!it->have_log_root) {
        add(r, name, R_FAIL, "treeSize %llu is past the log's leaves",
            (unsigned long long)it->size);
        return false;
    }
    if (memcmp(it->log_root.b, it->root.b, CA_HASH_SIZE) != 0) {
        char want[2 * CA_HASH_SIZE + 1];
        ca_hash_to_hex(want, &it->log_root);
        add(r, name, R_FAIL, "rootHash %s is not the log's root %s at size %llu", hex, want,
            (unsigned long long)it->size);
        return false;
    }
    return true;
}

/* 2. Its stored checkpoint verifies and names (size, root). */
static bool anchor_checkpoint_matches(report *r, const char *name, ca_node *node,
                                      const ca_note_verifier *v, const anchor_item *it)
{
    char note[CA_NOTE_MAX];
    size_t note_len;
    ca_checkpoint cp;
    ca_errbuf eb = {{0}};
    ca_err err = ca_log_checkpoint_at(node->log, note, &note_len, it->size, &eb);
    if (err) {
        add(r, name, R_FAIL, "no stored checkpoint for size %llu: %s",
            (unsigned long long)it->size, ca_errmsg(&eb, err));
        return false;
    }
    if ((err = ca_checkpoint_open(&cp, note, note_len, v, &eb)) == CA_ERR_VERIFY)
        err = open_with_old_keys(&cp, node, note, note_len, &eb);
    if (err) {
        add(r, name, R_FAIL, "stored checkpoint: %s", ca_errmsg(&eb, err));
        return false;
    }
    if (cp.size != it->size || memcmp(cp.root.b, it->root.b, CA_HASH_SIZE) != 0) {
        add(r, name, R_FAIL, "stored checkpoint names size %llu, not this (size, root)",
            (unsigned long long)cp.size);
        return false;
    }
    return true;
}

/* previous.consistencyProof into proof[]; false when it is malformed. */
static bool parse_consistency_proof(ca_hash proof[CA_MERKLE_MAX_PROOF], size_t *plen,
                                    const json_t *p)
{
    const json_t *arr = json_object_get(p, "consistencyProof");
    *plen = json_array_size(arr);
    bool bad = !json_is_array(arr) || *plen > CA_MERKLE_MAX_PROOF;
    for (size_t j = 0; !bad && j < *plen; j++) {
        const char *s = json_string_value(json_array_get(arr, j));
        bad = !s || strlen(s) != 2 * CA_HASH_SIZE ||
              ca_hash_from_hex(&proof[j], s, strlen(s)) != CA_OK;
    }
    return !bad;
}

/* 3. previous = the preceding record's (size, root), and the consistency proof (not the
 * first record: first says so). */
static void anchor_previous(report *r, const char *name, const anchor_item *it,
                            const anchor_item *prev, bool first, const char *hex)
{
    const json_t *p = json_object_get(it->json, "previous");
    if (first) {
        if (!json_is_null(p))
            add(r, name, R_FAIL, "the first anchor has a previous anchor");
        else
            add(r, name, R_OK, "root %s at size %llu, checkpoint signed, first anchor", hex,
                (unsigned long long)it->size);
        return;
    }
    uint64_t psize;
    ca_hash proot;
    if (!json_is_object(p) || !ca_json_u64(&psize, p, "treeSize") ||
        !ca_json_hash(&proot, p, "rootHash")) {
        add(r, name, R_FAIL, "previous is missing or malformed");
        return;
    }
    if (!prev || !prev->parsed) {
        add(r, name, R_FAIL, "the preceding record is malformed; previous not checked");
        return;
    }
    if (psize != prev->size || memcmp(proot.b, prev->root.b, CA_HASH_SIZE) != 0) {
        add(r, name, R_FAIL, "previous (size %llu) is not the preceding anchor (size %llu)",
            (unsigned long long)psize, (unsigned long long)prev->size);
        return;
    }
    ca_hash proof[CA_MERKLE_MAX_PROOF];
    size_t plen;
    if (!parse_consistency_proof(proof, &plen, p)) {
        add(r, name, R_FAIL, "previous.consistencyProof is malformed");
    } else if (psize == 0 || psize > it->size ||
               ca_merkle_consistency_verify(psize, it->size, &proot, &it->root, proof, plen)) {
        add(r, name, R_FAIL, "the consistency proof from size %llu does not verify",
            (unsigned long long)psize);
    } else {
        add(r, name, R_OK, "root %s at size %llu, checkpoint signed, consistent with "
            "anchor %llu", hex, (unsigned long long)it->size, (unsigned long long)psize);
    }
}

/* Checks the anchor records offline (a's log roots are already captured). */
static void check_anchors(report *r, ca_node *node, const ca_note_verifier *v, anchor_item *a,
                          size_t n)
{
    if (n == 0) {
        add(r, "anchors", R_SKIP, "no anchor records");
        return;
    }
    const anchor_item *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        anchor_item *it = &a[i];
        char name[64], hex[2 * CA_HASH_SIZE + 1];
        uint64_t size = 0;
        ca_json_u64(&size, it->json, "treeSize");
        snprintf(name, sizeof name, "anchor %llu", (unsigned long long)size);
        if (anchor_parse(r, name, it, size)) {
            ca_hash_to_hex(hex, &it->root);
            if (anchor_root_matches(r, name, it, hex) &&
                anchor_checkpoint_matches(r, name, node, v, it))
                anchor_previous(r, name, it, prev, i == 0, hex);
        }
        prev = it;
    }
}

static void check_on_chain(report *r, const anchor_item *a, size_t n, const char *url,
                           const uint8_t from[CA_ETH_ADDRESS_SIZE], uint64_t min_conf)
{
    ca_rpc_curl curl_cfg;
    ca_rpc_curl_defaults(&curl_cfg);
    ca_rpc_transport t = {.post = ca_rpc_curl_post, .ctx = &curl_cfg};
    ca_rpc rpc;
    ca_errbuf eb = {{0}};
    ca_err err = ca_rpc_init(&rpc, url, &t, &eb);
    if (err) {
        add(r, "on chain", R_ERROR, "%s", ca_errmsg(&eb, err));
        return;
    }
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        char name[80];
        if (!a[i].parsed)
            continue;
        snprintf(name, sizeof name, "anchor %llu on chain", (unsigned long long)a[i].size);
        if (strcmp(a[i].status, "final") != 0) {
            add(r, name, R_SKIP, "status %s, not final", a[i].status);
            continue;
        }
        checked++;
        ca_anchor_report rep;
        eb.msg[0] = '\0';
        err = ca_anchor_check(&rep, a[i].json, a[i].size, &a[i].root, from, min_conf, &rpc, &eb);
        char tx[67] = "0x";
        const char *txs = json_string_value(json_object_get(a[i].json, "txHash"));
        if (txs)
            snprintf(tx, sizeof tx, "%s", txs);
        if (!err)
            add(r, name, R_OK, "tx %s in block %llu, %llu confirmations", tx,
                (unsigned long long)rep.record.block_number,
                (unsigned long long)rep.confirmations);
        else
            add(r, name, err == CA_ERR_VERIFY || err == CA_ERR_INVALID ? R_FAIL : R_ERROR,
                "tx %s: %s", tx, ca_errmsg(&eb, err));
    }
    if (!checked)
        add(r, "on chain", R_SKIP, "no final anchor to check");
}

/* The --rpc options, checked before anything is opened. */
typedef struct chain_opts {
    const char *rpc_url, *addr_opt;
    uint64_t min_conf;
    uint8_t from[CA_ETH_ADDRESS_SIZE];
} chain_opts;

static int parse_chain_opts(chain_opts *c, ca_cli_opt *opts)
{
    const char *conf = ca_cli_value(opts, "confirmations");
    int rc;
    c->rpc_url = ca_cli_value(opts, "rpc");
    c->addr_opt = ca_cli_value(opts, "anchor-address");
    if (!c->rpc_url && (c->addr_opt || conf))
        return ca_cli_usage_error(VERB, "--anchor-address and --confirmations go with --rpc URL");
    c->min_conf = 1;
    if (conf && (rc = parse_u64_opt(&c->min_conf, conf, "--confirmations")))
        return rc;
    const char *addr = c->addr_opt;
    if (addr && (strlen(addr) != 42 || addr[0] != '0' || (addr[1] != 'x' && addr[1] != 'X') ||
                 ca_hex_decode(c->from, sizeof c->from, addr + 2, 40)))
        return ca_cli_usage_error(VERB, "--anchor-address must be 0x and 40 hex characters");
    if (c->rpc_url && strncmp(c->rpc_url, "http://", 7) != 0 &&
        strncmp(c->rpc_url, "https://", 8) != 0)
        return ca_cli_usage_error(VERB, "--rpc must be an http:// or https:// URL");
    return CA_EXIT_OK;
}

/* The anchor records, read first: each later read (checkpoint, leaves) covers them. */
static ca_err load_anchor_items(ca_node *node, char **list_text, json_t **list,
                                anchor_item **items, size_t *n_items, ca_errbuf *eb)
{
    ca_err err = ca_anchor_list_json(node->store, list_text, 0, eb);
    if (err)
        return err;
    *list = json_loads(*list_text, 0, NULL);
    const json_t *arr = json_object_get(*list, "anchors");
    if (!json_is_array(arr))
        return ca_fail(eb, CA_ERR_INVALID, "cannot read the anchor records");
    *n_items = json_array_size(arr);
    *items = calloc(*n_items ? *n_items : 1, sizeof **items);
    if (!*items)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < *n_items; i++) {
        (*items)[i].json = json_array_get(arr, i);
        ca_json_u64(&(*items)[i].size, (*items)[i].json, "treeSize");
    }
    return CA_OK;
}

/* The "checkpoint" check: the latest checkpoint verifies and names the log's origin. Sets
 * *cp_ok; returns an error only when the log's own verifier key cannot be read. */
static ca_err check_checkpoint(report *r, ca_node *node, ca_note_verifier *v, ca_checkpoint *cp,
                               bool *cp_ok, ca_errbuf *eb)
{
    char vkey[CA_VERIFIER_KEY_MAX], note[CA_NOTE_MAX];
    size_t note_len;
    ca_err err;
    *cp_ok = false;
    if ((err = ca_log_verifier_key(node->log, vkey, eb)) ||
        (err = ca_verifier_key_parse(v, vkey, strlen(vkey), eb)))
        return err;
    err = ca_log_checkpoint(node->log, note, &note_len, eb);
    if (!err)
        err = ca_checkpoint_open(cp, note, note_len, v, eb);
    if (err) {
        add(r, "checkpoint", err == CA_ERR_VERIFY || err == CA_ERR_INVALID ? R_FAIL : R_ERROR,
            "%s", ca_errmsg(eb, err));
    } else if (strcmp(cp->origin, ca_log_origin(node->log)) != 0) {
        add(r, "checkpoint", R_FAIL, "origin \"%s\" is not the log's \"%s\"", cp->origin,
            ca_log_origin(node->log));
    } else {
        *cp_ok = true;
        add(r, "checkpoint", R_OK, "size %llu, signed by %s", (unsigned long long)cp->size,
            vkey);
    }
    return CA_OK;
}

/* One scan of every leaf: the roots at the checkpoint's and the anchors' sizes, and the tiles. */
static ca_err scan_leaves(scan_ctx *sc, ca_node *node, ca_errbuf *eb)
{
    ca_merkle_builder_init(&sc->b);
    capture(sc); /* size 0 */
    ca_store_txn *t;
    ca_err err = ca_store_begin(node->store, &t, false, eb);
    if (err)
        return err;
    sc->txn = t;
    err = ca_store_scan(t, CA_TABLE_LEAVES, NULL, 0, leaf_fn, sc);
    ca_store_abort(t);
    sc->txn = NULL;
    if (err)
        return ca_fail(eb, err, "cannot scan the leaves: %s", ca_strerror(err));
    return CA_OK;
}

/* The "root" check: the recomputed root against the checkpoint's, then the stored tree's. */
static void report_root(report *r, ca_node *node, const scan_ctx *sc, const ca_checkpoint *cp,
                        bool cp_ok, uint64_t opened_size)
{
    uint64_t leaves = sc->b.count;
    if (sc->gap) {
        add(r, "root", R_FAIL, "the leaf table is broken at leaf %llu",
            (unsigned long long)sc->gap_at);
    } else if (!cp_ok) {
        add(r, "root", R_SKIP, "no valid checkpoint to compare %llu leaves with",
            (unsigned long long)leaves);
    } else if (cp->size < opened_size) {
        add(r, "root", R_FAIL, "the latest checkpoint (size %llu) does not cover the log's %llu "
            "leaves", (unsigned long long)cp->size, (unsigned long long)opened_size);
    } else if (!sc->have_cp_root) {
        add(r, "root", R_FAIL, "the checkpoint's size %llu is past the log's %llu leaves",
            (unsigned long long)cp->size, (unsigned long long)leaves);
    } else if (memcmp(sc->cp_root.b, cp->root.b, CA_HASH_SIZE) != 0) {
        char got[2 * CA_HASH_SIZE + 1], want[2 * CA_HASH_SIZE + 1];
        ca_hash_to_hex(got, &sc->cp_root);
        ca_hash_to_hex(want, &cp->root);
        add(r, "root", R_FAIL, "recomputed root %s of %llu leaves is not the checkpoint's %s",
            got, (unsigned long long)cp->size, want);
    } else {
        /* Also the stored tree (subtree hashes, tiles) against the recomputation. */
        ca_hash stored;
        ca_errbuf reb = {{0}};
        ca_err rerr = cp->size <= opened_size ? ca_log_root(node->log, &stored, cp->size, &reb)
                                              : CA_ERR_RANGE;
        char hex[2 * CA_HASH_SIZE + 1];
        ca_hash_to_hex(hex, &cp->root);
        if (!rerr && memcmp(stored.b, cp->root.b, CA_HASH_SIZE) != 0)
            add(r, "root", R_FAIL, "the stored tree's root at size %llu differs from the root "
                "recomputed from the leaves", (unsigned long long)cp->size);
        else
            add(r, "root", R_OK, "recomputed from all %llu leaves: %s = the checkpoint's%s",
                (unsigned long long)cp->size, hex, rerr ? "" : " and the stored tree's");
    }
}

static void report_tiles(report *r, const scan_ctx *sc)
{
    if (sc->tiles_bad)
        add(r, "tiles", R_FAIL, "%llu of %llu stored 256-leaf tiles differ from their leaves "
            "(first: block %llu, leaves %llu..%llu): inclusion proofs there would not verify",
            (unsigned long long)sc->tiles_bad, (unsigned long long)sc->tiles_checked,
            (unsigned long long)sc->first_bad_tile,
            (unsigned long long)sc->first_bad_tile * CA_TILE_WIDTH,
            (unsigned long long)sc->first_bad_tile * CA_TILE_WIDTH + CA_TILE_WIDTH - 1);
    else
        add(r, "tiles", R_OK, "%llu stored 256-leaf tiles match their leaves",
            (unsigned long long)sc->tiles_checked);
}

/* The "status lists" and "credentials" checks (ca_issuer_audit_store). */
static void check_issuer_records(report *r, ca_node *node)
{
    ca_issuer_audit ia;
    ca_errbuf ieb = {{0}};
    ca_err ierr = ca_issuer_audit_store(node->store, node->log, &ia, &ieb);
    if (ierr) {
        add(r, "status lists", R_ERROR, "%s", ca_errmsg(&ieb, ierr));
        return;
    }
    bool bad = ia.version_problems != 0;
    add(r, "status lists", bad ? R_FAIL : R_OK, "%llu list version(s) %s",
        (unsigned long long)ia.versions, bad ? ia.first_version_problem : "all in the log");
    bad = ia.credential_problems != 0;
    add(r, "credentials", bad ? R_FAIL : R_OK, "%llu credential(s) %s",
        (unsigned long long)ia.credentials,
        bad ? ia.first_credential_problem : "hash to their digests, each in the log");
}

/* The "contact data" line (issue #18, ISO 27701): how many recipients' addresses the outbox
 * still holds (sealed, until delivery.retention_days after their delivery ended) and how
 * many deliveries wait. A count, never an address. */
static void check_contact_data(report *r, ca_node *node)
{
    ca_store_txn *t;
    ca_errbuf eb = {{0}};
    uint64_t held = 0, queued = 0;
    ca_err err = ca_store_begin(node->store, &t, false, &eb);
    if (!err) {
        err = ca_outbox_counts(t, &held, &queued);
        ca_store_abort(t);
    }
    if (err)
        add(r, "contact data", R_ERROR, "cannot read the outbox: %s", ca_strerror(err));
    else
        add(r, "contact data", R_OK, "%llu delivery record(s) hold a sealed recipient address; "
            "%llu email(s) queued; addresses are erased %llu day(s) after delivery ends",
            (unsigned long long)held, (unsigned long long)queued,
            (unsigned long long)node->cfg.delivery_retention_days);
}

/* The "audit", "store" and "keys" checks. */
static void check_audit_store_keys(report *r, ca_node *node)
{
    uint64_t entries = 0;
    ca_errbuf aeb = {{0}};
    ca_err aerr = ca_audit_verify(node->store, &entries, &aeb);
    if (!aerr)
        add(r, "audit", R_OK, "chain of %llu entries intact", (unsigned long long)entries);
    else
        add(r, "audit", aerr == CA_ERR_VERIFY ? R_FAIL : R_ERROR, "%s", ca_errmsg(&aeb, aerr));

    uint64_t nentries = 0;
    ca_errbuf seb = {{0}};
    ca_err serr = ca_store_verify(node->store, &nentries, &seb);
    if (!serr)
        add(r, "store", R_OK, "%llu entries read, free-page list included",
            (unsigned long long)nentries);
    else
        add(r, "store", serr == CA_ERR_STORE ? R_FAIL : R_ERROR, "%s", ca_errmsg(&seb, serr));

    size_t nkeys = 0;
    ca_errbuf keb = {{0}};
    ca_err kerr = ca_node_check_keys(node, &nkeys, &keb);
    if (!kerr)
        add(r, "keys", R_OK, "%zu key files hold the keys the store names", nkeys);
    else
        add(r, "keys", kerr == CA_ERR_VERIFY ? R_FAIL : R_ERROR, "%s", ca_errmsg(&keb, kerr));
}

/* Prints the summary (text or JSON) and the stderr line; returns the exit code. */
static int finish_report(const report *r)
{
    int exit_code = r->failed ? CA_EXIT_CHECK_FAILED : r->errors ? CA_EXIT_USAGE : CA_EXIT_OK;
    if (r->json) {
        json_t *o = json_pack("{s:b, s:O}", "ok", exit_code == CA_EXIT_OK, "checks", r->checks);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s)
            puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("%zu checks: %zu failed, %zu could not run\n", r->n, r->failed, r->errors);
    }
    if (exit_code != CA_EXIT_OK)
        fprintf(stderr, "credanchor check: %zu of %zu checks %s; first: %s\n",
                r->failed ? r->failed : r->errors, r->n, r->failed ? "failed" : "could not run",
                r->first);
    return exit_code;
}

/* Every check, in the order of the comment at the top of this file. */
static ca_err run_checks(report *r, ca_node *node, const chain_opts *chain, ca_errbuf *eb)
{
    char *list_text = NULL;
    json_t *list = NULL;
    anchor_item *items = NULL;
    size_t n_items = 0;
    /* The anchor records first, then the checkpoint, then the leaves: each is read no earlier
     * than the one before, so beside a serving node the later reads cover the earlier ones. */
    ca_err err = load_anchor_items(node, &list_text, &list, &items, &n_items, eb);
    if (err)
        goto out;
    ca_note_verifier v;
    ca_checkpoint cp;
    bool cp_ok;
    uint64_t opened_size = ca_log_size(node->log);
    if ((err = check_checkpoint(r, node, &v, &cp, &cp_ok, eb)))
        goto out;
    /* root: the full recomputation over every leaf */
    scan_ctx sc = {.cp_size = cp_ok ? cp.size : UINT64_MAX, .anchors = items,
                   .n_anchors = n_items};
    if ((err = scan_leaves(&sc, node, eb)))
        goto out;
    report_root(r, node, &sc, &cp, cp_ok, opened_size);
    report_tiles(r, &sc);
    check_anchors(r, node, &v, items, n_items);
    check_issuer_records(r, node);
    check_contact_data(r, node);
    check_audit_store_keys(r, node);
    if (chain->rpc_url)
        check_on_chain(r, items, n_items, chain->rpc_url, chain->from, chain->min_conf);
out:
    free(items);
    json_decref(list);
    free(list_text);
    return err;
}

int ca_cli_check(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"config", true, NULL, false},         {"data-dir", true, NULL, false},
                         {"json", false, NULL, false},          {"rpc", true, NULL, false},
                         {"anchor-address", true, NULL, false}, {"confirmations", true, NULL, false},
                         {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 0, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    chain_opts chain;
    if ((rc = parse_chain_opts(&chain, opts)))
        return rc;

    ca_config cfg;
    if ((rc = ca_cli_load_config(&cfg, VERB, opts)))
        return rc;
    ca_errbuf eb = {{0}};
    ca_node *node = NULL;
    bool own_address = chain.rpc_url && !chain.addr_opt;
    unsigned flags = CA_NODE_READ_ONLY | (own_address ? CA_NODE_ANCHOR_ADDRESS : 0);
    ca_err err = ca_node_open(&node, &cfg, flags, &eb);
    if (err)
        return ca_cli_error(VERB, err, &eb);
    if (own_address)
        memcpy(chain.from, node->anchor_address, sizeof chain.from);

    report r = {.checks = json_array(), .json = ca_cli_flag(opts, "json")};
    int exit_code = CA_EXIT_USAGE;
    if (!r.checks)
        err = ca_fail(&eb, CA_ERR_NOMEM, "out of memory");
    else if (!(err = run_checks(&r, node, &chain, &eb)))
        exit_code = finish_report(&r);
    json_decref(r.checks);
    ca_node_close(node);
    if (err)
        return ca_cli_error(VERB, err, &eb);
    return exit_code;
}
