/*
 * Backup and restore of a data dir (SPEC §1, §6; issue 7).
 *
 * A backup directory holds
 *   db/data.mdb     a compacting hot copy of the LMDB environment (ca_store_copy), taken
 *                   beside a serving node through a read-only open (no writer lock);
 *   keys/NAME.key   the key files, still encrypted under the node's passphrase (mode 0600).
 *                   The passphrase file is NEVER copied: it must be backed up apart;
 *   manifest.json   {"format":1,"createdAt","treeSize","rootHash","signedMax":{"treeSize",
 *                   "rootHash"}|null,"origin","logKey","keyFiles":{name:sha256 hex},
 *                   "db":{"sha256"},"latestAnchor":record|null}; size, root, signed_max and
 *                   anchor are read from the copy, not from the live node.
 * Every file, and each directory, is fsync'd before the backup is reported.
 *
 * Restore verifies the backup (key file and db hashes, the copy opens and has the manifest's
 * size, root, origin, log key and signed_max) before touching the data dir, then installs it.
 * It carries the replaced store's signed_max into the restored one
 * (ca_log_carry_signed_max), so a restore from an older backup refuses appends until the log
 * is consistent again with the largest checkpoint ever signed (SPEC §1).
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_BACKUP_H
#define CREDANCHOR_BACKUP_H

#include "credanchor/common.h"
#include "node/config.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_BACKUP_FORMAT 1

/* `credanchor backup DIR`: DIR must not exist (it is created, mode 0700) or be an empty
 * directory. *manifest gets the manifest written to DIR/manifest.json (new reference).
 * CA_ERR_EXISTS when DIR is not empty; CA_ERR_NOT_FOUND when the data dir is not initialised. */
ca_err ca_backup_create(json_t **manifest, const ca_config *cfg, const char *dir,
                        ca_errbuf *eb);

#define CA_RESTORE_WARNINGS 4

typedef struct ca_restore_report {
    uint64_t tree_size;           /* of the restored log */
    ca_hash root;
    bool have_signed_max;         /* signed_max of the restored store, after carrying */
    uint64_t signed_max_size;
    ca_hash signed_max_root;
    bool carried;                 /* the replaced store's signed_max was written over it */
    char moved_db[4300];           /* where the replaced db/ went; empty when none */
    char moved_keys[4300];        /* where the replaced keys/ went; empty when none */
    char blocked[1024];           /* non-empty: the restored log refuses appends, and why */
    size_t key_files;
    char warnings[CA_RESTORE_WARNINGS][600];
    size_t n_warnings;
} ca_restore_report;

/* `credanchor restore DIR` into cfg->node_data_dir; the node must be stopped (takes the
 * writer lock). CA_ERR_VERIFY when the backup fails verification (nothing is touched then);
 * CA_ERR_NOT_FOUND when DIR or its manifest is missing; CA_ERR_EXISTS when the data dir
 * already holds db/ or key files and force is false; CA_ERR_LOCKED when a node serves it.
 * With force the current db/ and keys/ are renamed to db.before-restore-<UTC time> and
 * keys.before-restore-<UTC time>. The passphrase file is left as it is. */
ca_err ca_restore(ca_restore_report *report, const ca_config *cfg, const char *dir, bool force,
                  ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
