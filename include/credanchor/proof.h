/*
 * Inclusion proofs as verifiers receive them (SPEC §3):
 *   {"digest":HEX,"leafIndex":N,"treeSize":N,"rootHash":HEX,"inclusionPath":[HEX...],
 *    "checkpoint":"<signed note>","anchor":{...}|null}
 * ca_proof_build (node side) makes one from the log; ca_proof_check (verifier side, no node
 * state) checks one offline. Conventions: common.h.
 */
#ifndef CREDANCHOR_PROOF_H
#define CREDANCHOR_PROOF_H

#include "credanchor/checkpoint.h"
#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_PROOF_MAX_BYTES (1u << 20) /* a proof file larger than this is not a proof */

typedef struct ca_log ca_log;

/* Builds the proof JSON text for digest (malloc'd, NUL-terminated; caller frees).
 * tree_size 0 means "the latest checkpoint" (until anchoring lands, SPEC §3's rule for a leaf
 * no anchor covers yet); otherwise the proof and checkpoint are for exactly that size.
 * CA_ERR_NOT_FOUND when the digest is not in the log, CA_ERR_RANGE for a size outside
 * (leafIndex, current size]. */
ca_err ca_proof_build(char **json, ca_log *log, const ca_hash *digest, uint64_t tree_size,
                      ca_errbuf *eb);

/* The same with the SPEC §3 anchor embedded from the anchor records in store (NULL: anchor
 * null): without tree_size (0), the proof is against the smallest confirmed or final anchor
 * containing the leaf, or the latest checkpoint with anchor null when none does; with
 * tree_size N, the anchor is the one of size N (confirmed or final) or null. */
typedef struct ca_store ca_store;
ca_err ca_proof_build_anchored(char **json, ca_log *log, ca_store *store, const ca_hash *digest,
                               uint64_t tree_size, ca_errbuf *eb);

/* What an offline check established. */
typedef struct ca_proof_report {
    ca_hash digest;
    uint64_t leaf_index;
    uint64_t tree_size;
    ca_hash root;
    ca_checkpoint checkpoint;
    bool has_anchor; /* the proof carries an anchor record (checked separately on chain) */
} ca_proof_report;

/* Checks a proof: the inclusion path leads from the digest's leaf hash to rootHash, and the
 * checkpoint is signed by v and names the same tree size and root.
 * CA_ERR_INVALID for a malformed proof (bad JSON, wrong hex, missing field), CA_ERR_VERIFY
 * when a check fails; eb says which. */
ca_err ca_proof_check(ca_proof_report *report, const char *json, size_t len,
                      const ca_note_verifier *v, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
