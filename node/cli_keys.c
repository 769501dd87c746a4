/*
 * node/cli_keys.c — `credanchor keys rotate --log|--issuer` (SPEC §6, issue 7 "Key
 * management") and `credanchor keys migrate` (issue #13 item 7: the only way, besides init,
 * that key files are created). The help text is in the verb table in node/cli.c.
 *
 * Rotation needs the node stopped: it opens the data dir as the single writer
 * (CA_NODE_WRITE), so against a serving node it fails at once ("in use", exit 2) instead of
 * swapping a key under a process that still signs with the old one. The file and store steps
 * are in node/keys.c (ca_node_rotate_log_key, ca_node_rotate_issuer_key). --issuer replaces
 * every issuer signing key at once (Ed25519 "#key-n" and the JOSE "#es256k-n", "#es256-n",
 * "#rs256-n"); --json lists the new methods in "rotatedMethods".
 */
#include "node/cli.h"

#include "node/node.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERB "keys"

/* keys migrate: creates the JOSE issuer keys an older data dir lacks, with the writer lock. */
static int keys_migrate(ca_cli_opt *opts)
{
    if (ca_cli_flag(opts, "log") || ca_cli_flag(opts, "issuer"))
        return ca_cli_usage_error(VERB, "migrate takes neither --log nor --issuer");
    ca_node *node = NULL;
    int rc = ca_cli_open_node(&node, VERB, opts, CA_NODE_WRITE | CA_NODE_ISSUER_KEY);
    if (rc)
        return rc;
    ca_errbuf eb = {{0}};
    ca_key_migration m;
    ca_err err = ca_node_migrate_issuer_keys(node, &m, &eb);
    ca_node_close(node);
    if (err)
        return ca_cli_error(VERB, err, &eb);
    if (ca_cli_flag(opts, "json")) {
        json_t *files = json_array();
        for (size_t i = 0; files && i < m.ncreated; i++)
            json_array_append_new(files, json_string(m.created[i]));
        ca_cli_print_json(json_pack("{s:o*}", "created", files));
    } else if (!m.ncreated) {
        printf("every issuer key file is present; nothing to create\n");
    } else {
        for (size_t i = 0; i < m.ncreated; i++)
            printf("created keys/%s\n", m.created[i]);
    }
    return CA_EXIT_OK;
}

int ca_cli_keys(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"config", true, NULL, false}, {"data-dir", true, NULL, false},
                         {"log", false, NULL, false},   {"issuer", false, NULL, false},
                         {"json", false, NULL, false},  {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    if (npos == 1 && strcmp(pos[0], "migrate") == 0)
        return keys_migrate(opts);
    if (npos != 1 || strcmp(pos[0], "rotate") != 0)
        return ca_cli_usage_error(VERB, "give the subcommand rotate or migrate (see --help)");
    bool log = ca_cli_flag(opts, "log"), issuer = ca_cli_flag(opts, "issuer");
    if (log == issuer)
        return ca_cli_usage_error(VERB, "rotate needs exactly one of --log and --issuer");
    ca_node *node = NULL;
    /* An interrupted rotation is this verb's to finish and report. */
    unsigned flags = CA_NODE_WRITE | CA_NODE_NO_ROTATION_CHECK;
    if (issuer)
        flags |= CA_NODE_ISSUER_KEY;
    if ((rc = ca_cli_open_node(&node, VERB, opts, flags)))
        return rc;
    ca_errbuf eb = {{0}};
    ca_key_rotation *r = malloc(sizeof *r);
    if (!r) {
        ca_node_close(node);
        return ca_cli_error(VERB, CA_ERR_NOMEM, NULL);
    }
    ca_err err = log ? ca_node_rotate_log_key(node, r, &eb)
                     : ca_node_rotate_issuer_key(node, r, &eb);
    if (err) {
        rc = ca_cli_error(VERB, err, &eb);
    } else if (ca_cli_flag(opts, "json")) {
        if (log)
            ca_cli_print_json(json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:b}", "rotated", "log",
                                 "logKey", r->new_key, "previousKey", r->old_key, "treeSize",
                                 (json_int_t)r->tree_size, "checkpoint", r->note, "archived",
                                 r->archived, "resumed", r->resumed));
        else {
            char vm[CA_DID_MAX + 32];
            json_t *methods = json_array(), *files = json_array();
            for (size_t i = 0; methods && files && i < r->nrotated; i++) {
                snprintf(vm, sizeof vm, "%s#%s", node->did, r->rotated[i]);
                json_array_append_new(methods, json_string(vm));
                json_array_append_new(files, json_string(r->rotated_archived[i]));
            }
            snprintf(vm, sizeof vm, "%s#key-%zu", node->did, r->nkeys);
            /* archived: the Ed25519 key's file; archivedFiles: every replaced key's file, in
             * the order of rotatedMethods. */
            ca_cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:b, s:o*, s:o*}", "rotated",
                                 "issuer", "issuerKey", r->new_key, "previousKey", r->old_key,
                                 "verificationMethod", vm, "keys", (json_int_t)r->nkeys,
                                 "archived", r->archived, "resumed", r->resumed,
                                 "rotatedMethods", methods, "archivedFiles", files));
        }
    } else if (log) {
        printf("%slog key rotated at tree size %llu\n", r->resumed ? "finished: " : "",
               (unsigned long long)r->tree_size);
        printf("log key:      %s\n", r->new_key);
        printf("previous key: %s (archived: %s)\n", r->old_key, r->archived);
    } else {
        printf("%sissuer key rotated: ", r->resumed ? "finished: " : "");
        for (size_t i = 0; i < r->nrotated; i++)
            printf("%s#%s", i ? ", " : "", r->rotated[i]);
        printf("\n");
        printf("issuer key:   %s\n", r->new_key);
        printf("previous key: %s\n", r->old_key);
        for (size_t i = 0; i < r->nrotated; i++)
            printf("archived:     %s\n", r->rotated_archived[i]);
    }
    free(r);
    ca_node_close(node);
    return rc;
}
