/* node/proof.c — inclusion proofs from the log as SPEC §3 JSON. */
#include "credanchor/proof.h"

#include "credanchor/encoding.h"
#include "credanchor/log.h"

#include <jansson.h>
#include <stdlib.h>

static json_t *hex_string(const ca_hash *h)
{
    char hex[2 * CA_HASH_SIZE + 1];
    ca_hash_to_hex(hex, h);
    return json_string(hex);
}

ca_err ca_proof_build(char **out, ca_log *log, const ca_hash *digest, uint64_t tree_size,
                      ca_errbuf *eb)
{
    *out = NULL;
    uint64_t index;
    ca_hash path[CA_MERKLE_MAX_PROOF], root;
    size_t path_len;
    char note[CA_NOTE_MAX];
    size_t note_len;
    ca_err err;
    if ((err = ca_log_prove(log, &index, path, &path_len, &root, &tree_size, digest, eb)) ||
        (err = ca_log_checkpoint_at(log, note, &note_len, tree_size, eb)))
        return err;

    json_t *arr = json_array();
    for (size_t i = 0; i < path_len; i++)
        json_array_append_new(arr, hex_string(&path[i]));
    json_t *o = json_object();
    json_object_set_new(o, "digest", hex_string(digest));
    json_object_set_new(o, "leafIndex", json_integer((json_int_t)index));
    json_object_set_new(o, "treeSize", json_integer((json_int_t)tree_size));
    json_object_set_new(o, "rootHash", hex_string(&root));
    json_object_set_new(o, "inclusionPath", arr);
    json_object_set_new(o, "checkpoint", json_stringn(note, note_len));
    json_object_set_new(o, "anchor", json_null());
    *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return *out ? CA_OK : ca_fail(eb, CA_ERR_NOMEM, "out of memory");
}
