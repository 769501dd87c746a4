/*
 * Auditor reports (SPEC §3 auditor routes, §5): the issuance list with filters and
 * pagination, and a summary by department and course with completion rates, as JSON or CSV.
 * Read from the issuance records and participant rows (issuer.h); CSV fields are escaped
 * against spreadsheet formula injection (csv.h). Conventions: common.h.
 */
#ifndef CREDANCHOR_REPORTS_H
#define CREDANCHOR_REPORTS_H

#include "credanchor/common.h"
#include "credanchor/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_REPORT_LIMIT_MAX 10000

typedef struct ca_report_filter {
    char status[16];          /* "" any, or active / revoked / suspended */
    char department[256];     /* "" any; exact match */
    char course[256];         /* "" any; the course or the achievement id */
    int64_t from, to;         /* issue time range, inclusive; 0 = open */
    uint64_t offset, limit;
} ca_report_filter;

/* GET /v1/credentials: matching records ordered by issue time then issue number.
 * JSON {"total","offset","limit","credentials":[{"id","issueNumber","name","type",
 * "achievementId","achievementName","department","course","issuedAt","status",
 * "statusChangedAt","format"}]}; CSV with the header
 * issueNumber,name,type,achievement,issueDate,status,department,course,achievementId,id. */
ca_err ca_report_list(char **out, size_t *len, ca_store *store, const ca_report_filter *f,
                      bool csv, ca_errbuf *eb);

/* GET /v1/reports/summary: {"totals":{issued,active,revoked,suspended},
 * "byDepartment":[{"department",issued,active,revoked,suspended,enrolled,completed,
 * "completionRate"}], "byCourse":[{"course",...}]}; completionRate = completed / enrolled
 * from the participant lists (null where no list gave totals). CSV: one row per group with
 * the column "dimension" (department or course). */
ca_err ca_report_summary(char **out, size_t *len, ca_store *store, bool csv, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
