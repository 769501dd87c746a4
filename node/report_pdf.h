/*
 * node/report_pdf.h — the summary report as a printable PDF (issue #17 "Exports": for
 * executive reporting and client audits). A4 portrait, Korean or English: the issuer, the
 * date, the totals (issued, active, revoked, suspended), then completion by department and by
 * course (enrolled, completed, rate with a bar, revoked), continued on further pages as the
 * tables grow; the hash-chain state of the audit log and the log size in the footer. Drawn
 * with cairo and pango (Hangul from fonts-nanum), like the certificates.
 */
#ifndef CREDANCHOR_NODE_REPORT_PDF_H
#define CREDANCHOR_NODE_REPORT_PDF_H

#include "credanchor/common.h"

#include <jansson.h>
#include <stdint.h>

typedef struct ca_report_pdf_meta {
    const char *issuer_name; /* "" when none */
    const char *lang;        /* "ko" or "en" */
    int64_t generated_at;    /* Unix seconds */
    uint64_t log_size;       /* the Merkle log's tree size */
    bool audit_intact;
    uint64_t audit_entries;
} ca_report_pdf_meta;

/* Renders summary (ca_report_summary's JSON, borrowed) into *pdf (malloc'd, *len bytes).
 * CA_ERR_NOMEM, CA_ERR_IO when cairo fails. */
ca_err ca_report_summary_pdf(char **pdf, size_t *len, const json_t *summary,
                             const ca_report_pdf_meta *meta, ca_errbuf *eb);

#endif
