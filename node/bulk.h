/*
 * Bulk issuance (SPEC §5): a participant list (CSV with a header row, or a JSON array of
 * objects) plus one template per achievement becomes credentials, idempotent per
 * (achievement id, externalId). Shared by POST /v1/credentials/batch and `credanchor issue`.
 *
 * Columns / members (header names case-insensitive): externalId, name, email, department,
 * course (also accepted as achievementId or achievement), completedAt (a dateTime, or a date
 * YYYY-MM-DD taken as 00:00 UTC; empty: enrolled, not completed — counted in completion rates,
 * no credential). A bad row gets its own error and the valid rows still go in.
 *
 * A template is an unsigned OpenBadgeCredential without a recipient: <templates_dir>/<course>
 * .json, course matching [A-Za-z0-9._-]{1,128}. Each row's credential is the template plus
 * credentialSubject.identifier = [the salted SHA-256 email IdentityObject (OB 3.0, hashed),
 * the name as a plain IdentityObject of identityType "name"] and awardedDate = completedAt.
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_BULK_H
#define CREDANCHOR_BULK_H

#include "credanchor/common.h"
#include "node/issuer.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_BULK_MAX_ROWS 1000000 /* rows per list (HTTP batches: CA_ISSUE_BATCH_MAX) */
#define CA_TEMPLATE_MAX (256u << 10)

typedef struct ca_bulk_row {
    uint64_t line;               /* CSV line, or 1-based array position */
    ca_participant p;            /* strings point into the row's own storage */
    char error[CA_ISSUE_ERROR_MAX]; /* non-empty: the row is bad and is not issued */
    char *storage;
} ca_bulk_row;

typedef struct ca_bulk {
    ca_bulk_row *rows;
    size_t n;
} ca_bulk;

/* Parses a CSV participant list (csv.h): the header row names the columns (externalId and
 * email are required columns; unknown columns are ignored). CA_ERR_INVALID for a list
 * without a usable header, CA_ERR_TOO_LARGE past max_rows. Row problems go to rows[i].error. */
ca_err ca_bulk_parse_csv(ca_bulk *b, const char *data, size_t len, size_t max_rows,
                         ca_errbuf *eb);
/* Parses a JSON array of participant objects the same way. */
ca_err ca_bulk_parse_json(ca_bulk *b, const json_t *array, size_t max_rows, ca_errbuf *eb);
void ca_bulk_free(ca_bulk *b);

/* Loads and checks a template file (a JSON object, duplicate names refused, at most
 * CA_TEMPLATE_MAX bytes, with credentialSubject.achievement.id). */
ca_err ca_template_load(json_t **tmpl, const char *path, ca_errbuf *eb);

/* Options of one bulk run. */
typedef struct ca_bulk_options {
    const json_t *template_fixed;  /* every row uses this template; NULL: by the row's course
                                    * from templates_dir */
    const char *template_name;     /* with template_fixed: its course name (file stem) */
    const char *templates_dir;
    ca_credential_format format;
    ca_jws_alg alg;
    size_t chunk;                  /* rows per commit (0: 1000) */
    bool errors_only;              /* the report's "results" lists only the failed rows (the
                                    * counts stay complete): the CLI without --json */
    /* Called after each commit with rows done so far (may be NULL). */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
    /* The audit entry each issued credential gets in its own commit (may be NULL): the CLI's
     * `issue` (issue #12 item 7; the HTTP batch route audits the request instead). */
    const struct ca_audit_event *audit;
} ca_bulk_options;

/* Issues every good row. *report gets {"issued","existing","enrolled","failed",
 * "results":[{"row","externalId","status":"issued"|"existing"|"enrolled"|"error",
 * "id","issueNumber","digest","leafIndex" | "error"}]}. Returns an error only when a commit
 * failed (rows committed before it stay issued; the report says which). */
ca_err ca_bulk_issue(ca_issuer *is, ca_bulk *b, const ca_bulk_options *o, json_t **report,
                     ca_errbuf *eb);

/* The dry run of ca_bulk_issue (issue #17's roster upload): what each row would become,
 * nothing written. *report gets {"dryRun":true,"new","existing","enrolled","failed",
 * "results":[{"row","externalId","status":"new"|"existing"|"enrolled"|"error","id"? |
 * "error"}]} with the row errors ca_bulk_issue would give (parse, template, course), so a
 * roster can be fixed before anything is issued. */
ca_err ca_bulk_preview(ca_issuer *is, ca_bulk *b, const ca_bulk_options *o, json_t **report,
                       ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
