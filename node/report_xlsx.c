/* node/report_xlsx.c — the issuance list as an Excel workbook (node/report_xlsx.h). */
#include "node/report_xlsx.h"

#include "credanchor/credential.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define XLSX_ROWS_MAX 1048575 /* Excel's sheet: 1,048,576 rows, the header included */
#define XLSX_CELL_MAX 32767   /* Excel's longest text in a cell */

typedef struct sheet {
    lxw_worksheet *ws;
    lxw_format *date, *text;
    const char *const *members;
    size_t ncols;
    lxw_row_t row;
    bool too_many;
    bool failed;
} sheet;

/* RFC 3339 members become Excel dates; the others text. */
static bool is_time_member(const char *m)
{
    return strcmp(m, "issuedAt") == 0 || strcmp(m, "completedAt") == 0 ||
           strcmp(m, "statusChangedAt") == 0;
}

static void write_cell(sheet *s, lxw_col_t col, const char *member, const char *v)
{
    int64_t t;
    if (!v[0])
        return;
    if (is_time_member(member) && ca_datetime_parse(&t, v) == CA_OK) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        lxw_datetime dt = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                           tm.tm_sec};
        if (worksheet_write_datetime(s->ws, s->row, col, &dt, s->date) != LXW_NO_ERROR)
            s->failed = true;
        return;
    }
    /* A string cell is never evaluated: "=HYPERLINK(...)" stays text (issue #17). */
    char cut[XLSX_CELL_MAX + 1];
    if (strlen(v) > XLSX_CELL_MAX) {
        size_t n = XLSX_CELL_MAX;
        while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
            n--; /* never split a UTF-8 sequence */
        memcpy(cut, v, n);
        cut[n] = '\0';
        v = cut;
    }
    if (worksheet_write_string(s->ws, s->row, col, v, s->text) != LXW_NO_ERROR)
        s->failed = true;
}

static bool write_row(void *arg, const json_t *rec)
{
    sheet *s = arg;
    if (s->row == XLSX_ROWS_MAX) {
        s->too_many = true;
        return false;
    }
    s->row++;
    for (size_t c = 0; c < s->ncols; c++)
        write_cell(s, (lxw_col_t)c, s->members[c], ca_report_field(rec, s->members[c]));
    return !s->failed;
}

/* The header row: CA_REPORT_CSV_HEADER's names, bold. */
static void write_header(lxw_worksheet *ws, lxw_format *bold)
{
    char head[] = CA_REPORT_CSV_HEADER;
    char *save = NULL;
    lxw_col_t c = 0;
    for (char *name = strtok_r(head, ",", &save); name; name = strtok_r(NULL, ",", &save))
        worksheet_write_string(ws, 0, c++, name, bold);
}

/* Sheet "Summary": totals, then one table per dimension (department, course). */
static ca_err write_summary(lxw_workbook *wb, lxw_format *bold, lxw_format *pct,
                            ca_store *store, ca_errbuf *eb)
{
    char *text = NULL;
    size_t len = 0;
    ca_err err = ca_report_summary(&text, &len, store, false, false, eb);
    if (err)
        return err;
    json_t *doc = json_loadb(text, len, 0, NULL);
    free(text);
    if (!doc)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Summary");
    static const char *const counts[] = {"issued", "active", "revoked", "suspended",
                                         "enrolled", "completed"};
    lxw_row_t r = 0;
    worksheet_write_string(ws, r, 0, "total", bold);
    const json_t *totals = json_object_get(doc, "totals");
    for (size_t i = 0; i < 4; i++) {
        worksheet_write_string(ws, r, (lxw_col_t)(i + 1), counts[i], bold);
        worksheet_write_number(ws, r + 1, (lxw_col_t)(i + 1),
                               (double)json_integer_value(json_object_get(totals, counts[i])),
                               NULL);
    }
    r += 3;
    static const char *const dims[][2] = {{"byDepartment", "department"}, {"byCourse", "course"}};
    for (size_t d = 0; d < 2; d++) {
        worksheet_write_string(ws, r, 0, dims[d][1], bold);
        for (size_t i = 0; i < 6; i++)
            worksheet_write_string(ws, r, (lxw_col_t)(i + 1), counts[i], bold);
        worksheet_write_string(ws, r, 7, "completionRate", bold);
        size_t k;
        const json_t *g;
        json_array_foreach(json_object_get(doc, dims[d][0]), k, g) {
            r++;
            worksheet_write_string(ws, r, 0, ca_report_field(g, dims[d][1]), NULL);
            for (size_t i = 0; i < 6; i++)
                worksheet_write_number(ws, r, (lxw_col_t)(i + 1),
                                       (double)json_integer_value(json_object_get(g, counts[i])),
                                       NULL);
            const json_t *rate = json_object_get(g, "completionRate");
            if (json_is_number(rate))
                worksheet_write_number(ws, r, 7, json_number_value(rate), pct);
        }
        r += 2;
    }
    worksheet_set_column(ws, 0, 0, 28, NULL);
    worksheet_set_column(ws, 1, 7, 14, NULL);
    json_decref(doc);
    return CA_OK;
}

static ca_err write_workbook(const char *path, const char *tmpdir, ca_store *store,
                             const ca_report_filter *f, ca_errbuf *eb)
{
    lxw_workbook_options opts = {.constant_memory = LXW_TRUE, .tmpdir = (char *)tmpdir};
    lxw_workbook *wb = workbook_new_opt(path, &opts);
    if (!wb)
        return ca_fail(eb, CA_ERR_IO, "cannot start the workbook");
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    lxw_format *date = workbook_add_format(wb);
    format_set_num_format(date, "yyyy-mm-dd hh:mm");
    lxw_format *pct = workbook_add_format(wb);
    format_set_num_format(pct, "0.0%");
    sheet s = {.ws = workbook_add_worksheet(wb, "Credentials"), .date = date};
    s.members = ca_report_members(&s.ncols);
    write_header(s.ws, bold);
    ca_report_filter all = *f;
    all.offset = 0;
    all.limit = 0;
    ca_err err = ca_report_each(store, &all, write_row, &s, eb);
    if (s.too_many)
        err = ca_fail(eb, CA_ERR_TOO_LARGE, "more than %d rows match (Excel's limit): narrow "
                      "the filters or export CSV", XLSX_ROWS_MAX);
    else if (s.failed)
        err = ca_fail(eb, CA_ERR_IO, "cannot write a row of the workbook");
    if (!err) {
        worksheet_freeze_panes(s.ws, 1, 0);
        worksheet_autofilter(s.ws, 0, 0, s.row, (lxw_col_t)(s.ncols - 1));
        worksheet_set_column(s.ws, 0, 0, 18, NULL);
        worksheet_set_column(s.ws, 1, 1, 22, NULL);
        worksheet_set_column(s.ws, 2, (lxw_col_t)(s.ncols - 1), 16, NULL);
        err = write_summary(wb, bold, pct, store, eb);
    }
    lxw_error closed = workbook_close(wb); /* frees wb, also after an error */
    if (!err && closed != LXW_NO_ERROR)
        err = ca_fail(eb, CA_ERR_IO, "cannot write the workbook: %s", lxw_strerror(closed));
    return err;
}

ca_err ca_report_xlsx(int *fd, ca_store *store, const ca_report_filter *f, const char *tmpdir,
                      ca_errbuf *eb)
{
    *fd = -1;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/export-XXXXXX.xlsx", tmpdir);
    if (n < 0 || (size_t)n >= sizeof path)
        return ca_fail(eb, CA_ERR_INVALID, "the temporary directory's path is too long");
    int tmp = mkstemps(path, 5);
    if (tmp < 0)
        return ca_fail(eb, CA_ERR_IO, "cannot create a temporary file in %s: %s", tmpdir,
                       strerror(errno));
    close(tmp); /* libxlsxwriter writes the file by its name */
    ca_err err = write_workbook(path, tmpdir, store, f, eb);
    int rd = err ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    if (!err && rd < 0)
        err = ca_fail(eb, CA_ERR_IO, "cannot read the workbook back: %s", strerror(errno));
    unlink(path);
    *fd = rd;
    return err;
}
