/*
 * node/cli_backup.c — `credanchor backup DIR` and `credanchor restore DIR` (SPEC §6; issue 7).
 * The work is in node/backup.c (node/backup.h); this file parses, prints and
 * maps errors to exit codes: 0 done, 1 the backup failed verification, 2 anything else.
 */
#include "node/cli.h"

#include "node/backup.h"
#include "credanchor/encoding.h"
#include "credanchor/json_fields.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define NODE_OPTS {"config", true, NULL, false}, {"data-dir", true, NULL, false}

/* Parses `<verb> [options] DIR`; returns CA_EXIT_OK with *dir set, or the exit code. */
static int parse_dir(int argc, char **argv, ca_cli_opt *opts, ca_config *cfg, const char **dir)
{
    const char *verb = argv[0], *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_CLI_HELP : rc;
    if (npos != 1 || !pos[0][0])
        return ca_cli_usage_error(verb, "give one DIR; see --help");
    *dir = pos[0];
    return ca_cli_load_config(cfg, verb, opts);
}

int ca_cli_backup(int argc, char **argv)
{
    ca_cli_opt opts[] = {NODE_OPTS, {"json", false, NULL, false}, {NULL, false, NULL, false}};
    ca_config cfg;
    const char *dir = NULL;
    int rc = parse_dir(argc, argv, opts, &cfg, &dir);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    ca_errbuf eb = {{0}};
    json_t *m;
    ca_err err = ca_backup_create(&m, &cfg, dir, &eb);
    if (err)
        return ca_cli_error("backup", err, &eb);
    if (ca_cli_flag(opts, "json")) {
        ca_cli_print_json(json_incref(m));
    } else {
        char pass[CA_CONFIG_STR_MAX];
        const json_t *a = json_object_get(m, "latestAnchor");
        printf("backup %s\n", dir);
        printf("tree size:     %lld\n", (long long)json_integer_value(json_object_get(m, "treeSize")));
        printf("root:          %s\n", ca_json_str(m, "rootHash"));
        printf("log key:       %s\n", ca_json_str(m, "logKey"));
        printf("key files:     %zu (encrypted)\n", json_object_size(json_object_get(m, "keyFiles")));
        if (json_is_object(a))
            printf("latest anchor: size %lld, %s\n",
                   (long long)json_integer_value(json_object_get(a, "treeSize")),
                   ca_json_str(a, "status"));
        else
            printf("latest anchor: none\n");
        printf("passphrase:    NOT in the backup; back up %s separately\n",
               ca_config_passphrase_path(&cfg, pass, sizeof pass) ? pass : "the passphrase file");
    }
    json_decref(m);
    return CA_EXIT_OK;
}

int ca_cli_restore(int argc, char **argv)
{
    ca_cli_opt opts[] = {NODE_OPTS, {"json", false, NULL, false}, {"force", false, NULL, false},
                         {NULL, false, NULL, false}};
    ca_config cfg;
    const char *dir = NULL;
    int rc = parse_dir(argc, argv, opts, &cfg, &dir);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    ca_errbuf eb = {{0}};
    ca_restore_report *r = malloc(sizeof *r);
    if (!r)
        return ca_cli_error("restore", CA_ERR_NOMEM, NULL);
    ca_err err = ca_restore(r, &cfg, dir, ca_cli_flag(opts, "force"), &eb);
    if (err) {
        free(r);
        return ca_cli_error("restore", err, &eb);
    }
    char root[2 * CA_HASH_SIZE + 1], max_root[2 * CA_HASH_SIZE + 1];
    ca_hash_to_hex(root, &r->root);
    ca_hash_to_hex(max_root, &r->signed_max_root);
    if (r->blocked[0])
        fprintf(stderr,
                "credanchor restore: warning: the restored log refuses appends until it is "
                "consistent with the largest checkpoint this node signed: %s\n", r->blocked);
    for (size_t i = 0; i < r->n_warnings; i++)
        fprintf(stderr, "credanchor restore: warning: %s\n", r->warnings[i]);
    if (ca_cli_flag(opts, "json")) {
        json_t *o = json_pack("{s:s, s:I, s:s, s:o, s:b, s:o, s:o, s:o}", "dataDir",
                              cfg.node_data_dir, "treeSize", (json_int_t)r->tree_size,
                              "rootHash", root, "signedMax",
                              r->have_signed_max
                                  ? json_pack("{s:I, s:s}", "treeSize",
                                              (json_int_t)r->signed_max_size, "rootHash",
                                              max_root)
                                  : json_null(),
                              "signedMaxCarried", r->carried, "appendsRefused",
                              r->blocked[0] ? json_string(r->blocked) : json_null(),
                              "movedAside", json_array(), "warnings", json_array());
        json_t *moved = json_object_get(o, "movedAside"), *w = json_object_get(o, "warnings");
        if (r->moved_db[0])
            json_array_append_new(moved, json_string(r->moved_db));
        if (r->moved_keys[0])
            json_array_append_new(moved, json_string(r->moved_keys));
        for (size_t i = 0; i < r->n_warnings; i++)
            json_array_append_new(w, json_string(r->warnings[i]));
        ca_cli_print_json(o);
    } else {
        printf("restored %s into %s\n", dir, cfg.node_data_dir);
        printf("tree size:  %llu\n", (unsigned long long)r->tree_size);
        printf("root:       %s\n", root);
        if (r->have_signed_max)
            printf("signed max: %llu %s%s\n", (unsigned long long)r->signed_max_size, max_root,
                   r->carried ? " (carried from the replaced store)" : "");
        printf("key files:  %zu\n", r->key_files);
        if (r->moved_db[0])
            printf("moved aside: %s\n", r->moved_db);
        if (r->moved_keys[0])
            printf("moved aside: %s\n", r->moved_keys);
        printf("appends:    %s\n", r->blocked[0] ? "REFUSED (see the warning)" : "allowed");
    }
    free(r);
    return CA_EXIT_OK;
}
