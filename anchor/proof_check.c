/* anchor/proof_check.c — offline check of an inclusion proof (SPEC §3, §6 verify-proof):
 * RFC 9162 §2.1.3.2 for the path, C2SP signed-note for the checkpoint. A verifier needs
 * nothing from the node but the proof and the log's verifier key. */
#include "credanchor/proof.h"

#include "credanchor/encoding.h"
#include "credanchor/json_fields.h"
#include "credanchor/merkle.h"

#include <jansson.h>
#include <string.h>

static ca_err get_hash(ca_hash *out, json_t *o, const char *field, ca_errbuf *eb)
{
    json_t *v = json_object_get(o, field);
    if (!json_is_string(v))
        return ca_fail(eb, CA_ERR_INVALID, "proof: \"%s\" must be a hex string", field);
    if (ca_hash_from_hex(out, json_string_value(v), json_string_length(v)))
        return ca_fail(eb, CA_ERR_INVALID, "proof: \"%s\" is not 64 hex characters", field);
    return CA_OK;
}

static ca_err get_u64(uint64_t *out, json_t *o, const char *field, ca_errbuf *eb)
{
    if (!ca_json_u64(out, o, field))
        return ca_fail(eb, CA_ERR_INVALID, "proof: \"%s\" must be a non-negative integer",
                       field);
    return CA_OK;
}

ca_err ca_proof_check(ca_proof_report *r, const char *text, size_t len,
                      const ca_note_verifier *v, ca_errbuf *eb)
{
    memset(r, 0, sizeof *r);
    if (len > CA_PROOF_MAX_BYTES)
        return ca_fail(eb, CA_ERR_INVALID, "proof: larger than %u bytes", CA_PROOF_MAX_BYTES);
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o)
        return ca_fail(eb, CA_ERR_INVALID, "proof: not JSON (line %d: %s)", jerr.line,
                       jerr.text);
    ca_err err = CA_OK;
    ca_hash path[CA_MERKLE_MAX_PROOF], leaf;
    size_t path_len = 0;
    json_t *arr = json_object_get(o, "inclusionPath"), *note = json_object_get(o, "checkpoint");
    json_t *anchor = json_object_get(o, "anchor");
    if (!json_is_object(o)) {
        err = ca_fail(eb, CA_ERR_INVALID, "proof: not a JSON object");
        goto out;
    }
    if ((err = get_hash(&r->digest, o, "digest", eb)) ||
        (err = get_u64(&r->leaf_index, o, "leafIndex", eb)) ||
        (err = get_u64(&r->tree_size, o, "treeSize", eb)) ||
        (err = get_hash(&r->root, o, "rootHash", eb)))
        goto out;
    if (!json_is_array(arr) || json_array_size(arr) > CA_MERKLE_MAX_PROOF) {
        err = ca_fail(eb, CA_ERR_INVALID, "proof: \"inclusionPath\" must be an array of at most "
                                          "%d hashes", CA_MERKLE_MAX_PROOF);
        goto out;
    }
    for (path_len = 0; path_len < json_array_size(arr); path_len++) {
        json_t *h = json_array_get(arr, path_len);
        if (!json_is_string(h) ||
            ca_hash_from_hex(&path[path_len], json_string_value(h), json_string_length(h))) {
            err = ca_fail(eb, CA_ERR_INVALID, "proof: inclusionPath[%zu] is not 64 hex "
                                              "characters", path_len);
            goto out;
        }
    }
    if (!json_is_string(note)) {
        err = ca_fail(eb, CA_ERR_INVALID, "proof: \"checkpoint\" must be a string");
        goto out;
    }
    if (anchor && !json_is_null(anchor) && !json_is_object(anchor)) {
        err = ca_fail(eb, CA_ERR_INVALID, "proof: \"anchor\" must be an object or null");
        goto out;
    }
    r->has_anchor = json_is_object(anchor);

    if (r->leaf_index >= r->tree_size) {
        err = ca_fail(eb, CA_ERR_VERIFY, "proof: leafIndex %llu is not below treeSize %llu",
                      (unsigned long long)r->leaf_index, (unsigned long long)r->tree_size);
        goto out;
    }
    ca_merkle_leaf_hash(&leaf, r->digest.b);
    if (ca_merkle_inclusion_verify(&leaf, r->leaf_index, r->tree_size, path, path_len,
                                   &r->root)) {
        err = ca_fail(eb, CA_ERR_VERIFY, "proof: the inclusion path does not lead to rootHash");
        goto out;
    }
    if ((err = ca_checkpoint_open(&r->checkpoint, json_string_value(note),
                                  json_string_length(note), v, eb)))
        goto out;
    if (r->checkpoint.size != r->tree_size ||
        memcmp(r->checkpoint.root.b, r->root.b, CA_HASH_SIZE) != 0) {
        err = ca_fail(eb, CA_ERR_VERIFY,
                      "proof: the checkpoint is for size %llu with another root, not for "
                      "treeSize %llu and rootHash",
                      (unsigned long long)r->checkpoint.size, (unsigned long long)r->tree_size);
        goto out;
    }
out:
    json_decref(o);
    return err;
}
