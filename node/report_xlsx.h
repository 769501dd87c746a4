/*
 * node/report_xlsx.h — the issuance list as an Excel workbook (issue #17 "Exports": XLSX with
 * libxlsxwriter). Sheet "Credentials": the CSV export's columns (CA_REPORT_CSV_HEADER), a
 * bold frozen header with an autofilter, dates as Excel dates (UTC); every text is a string
 * cell, never a formula, so a name such as =HYPERLINK(...) stays text. Sheet "Summary": the
 * totals and the completion by department and by course (ca_report_summary).
 */
#ifndef CREDANCHOR_NODE_REPORT_XLSX_H
#define CREDANCHOR_NODE_REPORT_XLSX_H

#include "credanchor/common.h"
#include "node/reports.h"
#include "node/store.h"

/* Writes the workbook for the records f matches (offset and limit ignored: every match) into
 * a new file under tmpdir (constant-memory mode: rows go to disk as they are written) and
 * returns it open for reading at its start in *fd, already unlinked, so it vanishes when
 * closed. CA_ERR_IO when the file cannot be written, CA_ERR_NOMEM, store errors. */
ca_err ca_report_xlsx(int *fd, ca_store *store, const ca_report_filter *f, const char *tmpdir,
                      ca_errbuf *eb);

#endif
