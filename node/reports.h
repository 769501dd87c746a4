/*
 * Auditor reports (SPEC §3 auditor routes, §5): the issuance list with filters and cursor
 * pagination, the CSV export streamed in bounded memory, and a summary by department and
 * course with completion rates, as JSON or CSV. Read from the issuance records and
 * participant rows (issuer.h) and from summary counters kept in step with them. CSV fields are
 * escaped against spreadsheet formula injection (csv.h). Conventions: common.h.
 *
 * Order: credentials are keyed by their UUIDv7 id, whose first 48 bits are the issue time in
 * milliseconds and whose next 12 a per-process counter (ob3.h), so key order is issue order
 * and every list is a cursor walk over the table: no request loads the table (issue #13
 * item 6). Newest first (?sort=-issued, issue #17) is the same walk downwards
 * (ca_store_scan_reverse), the cursor then meaning "older than".
 */
#ifndef CREDANCHOR_REPORTS_H
#define CREDANCHOR_REPORTS_H

#include "credanchor/common.h"
#include "node/store.h"

#include <jansson.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_REPORT_LIMIT_MAX 10000

typedef struct ca_report_filter {
    char status[16];          /* "" any, or active / revoked / suspended */
    char department[256];     /* "" any; exact match */
    char course[256];         /* "" any; the course or the achievement id */
    char q[128];              /* "" any; else the issue number or email (whole, any case),
                               * or a part of the recipient's name (ASCII in any case) */
    int64_t from, to;         /* issue time range, inclusive; 0 = open */
    int64_t completed_from, completed_to; /* completion time range, inclusive; 0 = open (a
                                           * credential without a completion date never
                                           * matches a completion bound) */
    uint8_t after[16];        /* with has_after: only credentials after this id (cursor), in
                               * the list's order */
    bool has_after;
    bool newest_first;        /* ?sort=-issued: the walk goes down the table (issue #17) */
    uint64_t offset;          /* matching rows skipped (after the cursor) */
    uint64_t limit;           /* rows at most; 0 = every matching row (the CSV export) */
} ca_report_filter;

/* GET /v1/credentials as JSON: {"total","offset","limit","next","credentials":[{"id",
 * "issueNumber","name","type","achievementId","achievementName","department","course",
 * "issuedAt","status","statusChangedAt"?,"statusReason"?,"completedAt"?,"format"}]}.
 * total counts every match of the filters (cursor and offset aside); next is the id to pass
 * as ?after= for the following page, null on the last page. f->limit must be 1..LIMIT_MAX.
 * total comes from the summary counters when the filters are at most status and department,
 * otherwise from a scan of the records (bounded memory, time linear in the table). */
ca_err ca_report_list(char **out, size_t *len, ca_store *store, const ca_report_filter *f,
                      ca_errbuf *eb);

/* The CSV export of GET /v1/credentials, produced chunk by chunk while the client reads:
 * each ca_report_csv_read opens a read transaction, walks on from the last id sent and
 * closes it, so no transaction is held across network waits and memory stays at one chunk.
 * Columns: CA_REPORT_CSV_HEADER. bom: start with U+FEFF so Excel reads UTF-8 (Hangul names). */
#define CA_REPORT_CSV_HEADER                                                                  \
    "issueNumber,name,type,achievement,issueDate,status,department,course,achievementId,id," \
    "completionDate,statusChangedAt,statusReason,alertChannel,deliveryState"
typedef struct ca_report_stream ca_report_stream;
ca_err ca_report_csv_open(ca_report_stream **s, ca_store *store, const ca_report_filter *f,
                          bool bom, ca_errbuf *eb);
/* Up to max bytes of the CSV into buf: the bytes written, 0 at the end, -1 when the store
 * could not be read (the server then cuts the connection, so a truncated export never looks
 * complete). */
ssize_t ca_report_csv_read(ca_report_stream *s, char *buf, size_t max);
void ca_report_csv_close(ca_report_stream *s);

/* Calls fn(arg, record) for every credential record the filter matches (offset and limit
 * apply; 0 = every one), in issue order, in one read transaction: for exports that need the
 * fields themselves (node/report_xlsx.c). fn returning false stops the walk with CA_ERR_IO. */
typedef bool (*ca_report_row_fn)(void *arg, const json_t *rec);
ca_err ca_report_each(ca_store *store, const ca_report_filter *f, ca_report_row_fn fn,
                      void *arg, ca_errbuf *eb);
/* The record members of the export's columns, in CA_REPORT_CSV_HEADER's order. */
const char *const *ca_report_members(size_t *n);
/* A record's member as the CSV writes it: the string, or "" when absent. */
const char *ca_report_field(const json_t *rec, const char *member);

/* GET /v1/reports/summary: {"totals":{issued,active,revoked,suspended},
 * "byDepartment":[{"department",issued,active,revoked,suspended,enrolled,completed,
 * "completionRate"}], "byCourse":[{"course",...}]}; completionRate = completed / enrolled
 * from the participant lists (null where no list gave totals). CSV: one row per group with
 * the column "dimension" (department or course). Read from the summary counters, so its
 * cost does not grow with the number of credentials. */
ca_err ca_report_summary(char **out, size_t *len, ca_store *store, bool csv, bool bom,
                         ca_errbuf *eb);
/* The same over the credentials issued from..to (inclusive; 0 = open, both 0 = everything,
 * from the counters): issued/active/revoked/suspended count the credentials issued in the
 * range (with their status now); enrolled counts every participant row (a row has no date of
 * its own) and completed those whose completedAt is in the range, so completionRate is the
 * share of the enrolled who completed within the range (issue #17: the dashboard's date
 * range). A range walks the records, so its cost grows with the table. */
ca_err ca_report_summary_range(char **out, size_t *len, ca_store *store, int64_t from,
                               int64_t to, bool csv, bool bom, ca_errbuf *eb);

/* ---- summary counters (table report_counts, node/store.c) ---------------------------------
 * Kept by the issuer inside the commits that write the records they count, so they are
 * never out of step with them. */
struct ca_store_txn;
/* A credential record enters with status new_status (old_status NULL), or changes from
 * old_status to new_status. */
ca_err ca_report_count_credential(struct ca_store_txn *t, const json_t *rec,
                                  const char *old_status, const char *new_status);
/* A participant row (enrolment) is written over old_row (NULL when it is new). */
ca_err ca_report_count_participant(struct ca_store_txn *t, const json_t *old_row,
                                   const json_t *new_row);
/* Builds the counters from the records once, in one write transaction, when the data dir has
 * none yet (a data dir from before they existed): a migration run by every writer open. */
ca_err ca_report_counts_migrate(ca_store *store, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
