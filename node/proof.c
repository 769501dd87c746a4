/* node/proof.c — inclusion proofs from the log as SPEC §3 JSON.
 *
 * The proof has one fixed shape, so it is written directly rather than through a JSON
 * document tree: on the proof route that tree was a quarter of the server's CPU. Hex and
 * integers need no escaping; the checkpoint note is escaped per RFC 8259 §7. */
#include "credanchor/proof.h"

#include "node/anchor_engine.h"
#include "credanchor/encoding.h"
#include "node/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends s as a JSON string body (without quotes). out has room for 6 bytes per input. */
static size_t json_escape(char *out, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c < 0x20) {
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = ca_hex_digit(c >> 4);
            out[o + 5] = ca_hex_digit(c);
            o += 6;
        } else {
            out[o++] = (char)c; /* UTF-8 (the note's em dash) passes through */
        }
    }
    return o;
}

static ca_err proof_json(char **out, ca_log *log, const ca_hash *digest, uint64_t tree_size,
                         const char *anchor, ca_errbuf *eb);

ca_err ca_proof_build(char **out, ca_log *log, const ca_hash *digest, uint64_t tree_size,
                      ca_errbuf *eb)
{
    return ca_proof_build_anchored(out, log, NULL, digest, tree_size, eb);
}

/* The anchor to embed (SPEC §3): with tree_size, the anchor of exactly that size (confirmed or
 * final); without, the smallest confirmed or final anchor containing the leaf, whose size the
 * proof is then built for. */
static json_t *pick_anchor(ca_store *store, ca_log *log, const ca_hash *digest,
                           uint64_t *tree_size)
{
    if (!store)
        return NULL;
    ca_anchor_record *rec = malloc(sizeof *rec);
    json_t *o = NULL;
    uint64_t index;
    if (!rec)
        return NULL;
    if (*tree_size) {
        if (ca_anchor_get(store, rec, *tree_size, NULL) == CA_OK &&
            rec->status >= CA_ANCHOR_CONFIRMED)
            o = ca_anchor_record_json(rec);
    } else if (ca_log_find(log, &index, digest, NULL) == CA_OK &&
               ca_anchor_covering(store, rec, index, NULL) == CA_OK &&
               rec->tree_size <= ca_log_size(log)) {
        *tree_size = rec->tree_size;
        o = ca_anchor_record_json(rec);
    }
    free(rec);
    return o;
}

ca_err ca_proof_build_anchored(char **out, ca_log *log, ca_store *store, const ca_hash *digest,
                               uint64_t tree_size, ca_errbuf *eb)
{
    *out = NULL;
    json_t *anchor = pick_anchor(store, log, digest, &tree_size);
    char *anchor_text = anchor ? json_dumps(anchor, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(anchor);
    ca_err err = proof_json(out, log, digest, tree_size, anchor_text, eb);
    free(anchor_text);
    return err;
}

static ca_err proof_json(char **out, ca_log *log, const ca_hash *digest, uint64_t tree_size,
                         const char *anchor, ca_errbuf *eb)
{
    uint64_t index;
    ca_hash path[CA_MERKLE_MAX_PROOF], root;
    size_t path_len;
    char note[CA_NOTE_MAX];
    size_t note_len;
    ca_err err;
    if ((err = ca_log_prove(log, &index, path, &path_len, &root, &tree_size, digest, eb)) ||
        (err = ca_log_checkpoint_at(log, note, &note_len, tree_size, eb)))
        return err;

    size_t cap = 256 + (path_len + 2) * (2 * CA_HASH_SIZE + 3) + 6 * note_len +
                 (anchor ? strlen(anchor) : 0);
    char *json = malloc(cap), hex[2 * CA_HASH_SIZE + 1];
    if (!json)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    size_t n = 0;
    ca_hash_to_hex(hex, digest);
    n += (size_t)snprintf(json + n, cap - n, "{\"digest\":\"%s\",\"leafIndex\":%llu,"
                                             "\"treeSize\":%llu,",
                          hex, (unsigned long long)index, (unsigned long long)tree_size);
    ca_hash_to_hex(hex, &root);
    n += (size_t)snprintf(json + n, cap - n, "\"rootHash\":\"%s\",\"inclusionPath\":[", hex);
    for (size_t i = 0; i < path_len; i++) {
        ca_hash_to_hex(hex, &path[i]);
        n += (size_t)snprintf(json + n, cap - n, "%s\"%s\"", i ? "," : "", hex);
    }
    n += (size_t)snprintf(json + n, cap - n, "],\"checkpoint\":\"");
    n += json_escape(json + n, note, note_len);
    n += (size_t)snprintf(json + n, cap - n, "\",\"anchor\":%s}", anchor ? anchor : "null");
    *out = json;
    return CA_OK;
}
