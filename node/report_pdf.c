/* node/report_pdf.c — the summary report as a printable PDF (node/report_pdf.h). */
#include "node/report_pdf.h"

#include "credanchor/credential.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_W 595.0 /* A4 in points */
#define PAGE_H 842.0
#define MARGIN 50.0
#define ROW_H 18.0
#define FONT "NanumGothic"

/* The report's words, Korean and English (the pages' strings live in web/; these are the
 * PDF's own). */
typedef struct words {
    const char *title, *issuer, *generated, *issued, *active, *revoked, *suspended,
        *by_department, *by_course, *enrolled, *completed, *rate, *none, *audit_ok,
        *audit_broken, *log_size, *page;
} words;

static const words EN = {
    "Credential completion report", "Issuer", "Generated", "Issued", "Active", "Revoked",
    "Suspended", "Completion by department", "Completion by course", "Enrolled", "Completed",
    "Rate", "(none)", "Audit log: hash chain intact, %llu entries",
    "Audit log: hash chain BROKEN — run credanchor audit verify", "Merkle log size: %llu",
    "Page %d"};
static const words KO = {
    "자격증명 이수 보고서", "발급 기관", "작성 일시", "발급", "유효", "취소", "정지",
    "부서별 이수 현황", "과정별 이수 현황", "등록", "이수", "이수율", "(없음)",
    "감사 로그: 해시 체인 정상, 항목 %llu건",
    "감사 로그: 해시 체인 손상 — credanchor audit verify로 확인하세요", "머클 로그 크기: %llu",
    "%d쪽"};

typedef struct pdf {
    cairo_t *cr;
    PangoContext *pc;
    const words *w;
    const ca_report_pdf_meta *meta;
    double y;
    int page;
} pdf;

/* Text at (x, y) in size pt, bold or not, clipped to width (ellipsised); its height. */
static double text_at(pdf *p, double x, double y, double width, double size, bool bold,
                      PangoAlignment align, const char *s)
{
    PangoLayout *l = pango_layout_new(p->pc);
    PangoFontDescription *fd = pango_font_description_from_string(FONT);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    if (bold)
        pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
    pango_layout_set_font_description(l, fd);
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
    pango_layout_set_alignment(l, align);
    pango_layout_set_text(l, s, -1);
    cairo_move_to(p->cr, x, y);
    pango_cairo_show_layout(p->cr, l);
    int h;
    pango_layout_get_pixel_size(l, NULL, &h);
    pango_font_description_free(fd);
    g_object_unref(l);
    return h;
}

static void footer(pdf *p)
{
    char line[160], num[32];
    const ca_report_pdf_meta *m = p->meta;
    cairo_set_source_rgb(p->cr, 0.35, 0.35, 0.35);
    if (m->audit_intact)
        snprintf(line, sizeof line, p->w->audit_ok, (unsigned long long)m->audit_entries);
    else
        snprintf(line, sizeof line, "%s", p->w->audit_broken);
    text_at(p, MARGIN, PAGE_H - 40, 380, 8, false, PANGO_ALIGN_LEFT, line);
    snprintf(line, sizeof line, p->w->log_size, (unsigned long long)m->log_size);
    text_at(p, MARGIN, PAGE_H - 29, 380, 8, false, PANGO_ALIGN_LEFT, line);
    snprintf(num, sizeof num, p->w->page, p->page);
    text_at(p, PAGE_W - MARGIN - 100, PAGE_H - 40, 100, 8, false, PANGO_ALIGN_RIGHT, num);
    cairo_set_source_rgb(p->cr, 0, 0, 0);
}

static void new_page(pdf *p)
{
    if (p->page) {
        footer(p);
        cairo_show_page(p->cr);
    }
    p->page++;
    p->y = MARGIN;
}

/* Room for h more points on this page, or a new page. */
static void need(pdf *p, double h)
{
    if (p->y + h > PAGE_H - 60)
        new_page(p);
}

static void header(pdf *p)
{
    const ca_report_pdf_meta *m = p->meta;
    p->y += text_at(p, MARGIN, p->y, PAGE_W - 2 * MARGIN, 20, true, PANGO_ALIGN_LEFT,
                    p->w->title) + 10;
    char line[600], when[CA_DATETIME_MAX];
    ca_datetime_format(when, m->generated_at);
    when[10] = ' '; /* "2026-06-03 10:00" */
    snprintf(line, sizeof line, "%s: %s    %s: %.16s UTC", p->w->issuer,
             m->issuer_name[0] ? m->issuer_name : "-", p->w->generated, when);
    p->y += text_at(p, MARGIN, p->y, PAGE_W - 2 * MARGIN, 10, false, PANGO_ALIGN_LEFT, line) + 16;
}

/* The totals as four boxes. */
static void totals(pdf *p, const json_t *t)
{
    const char *names[] = {p->w->issued, p->w->active, p->w->revoked, p->w->suspended};
    const char *keys[] = {"issued", "active", "revoked", "suspended"};
    double bw = (PAGE_W - 2 * MARGIN - 30) / 4;
    for (int i = 0; i < 4; i++) {
        double x = MARGIN + i * (bw + 10);
        cairo_set_source_rgb(p->cr, 0.94, 0.95, 0.97);
        cairo_rectangle(p->cr, x, p->y, bw, 54);
        cairo_fill(p->cr);
        cairo_set_source_rgb(p->cr, 0, 0, 0);
        char n[32];
        snprintf(n, sizeof n, "%lld", (long long)json_integer_value(json_object_get(t, keys[i])));
        text_at(p, x + 8, p->y + 6, bw - 16, 9, false, PANGO_ALIGN_LEFT, names[i]);
        text_at(p, x + 8, p->y + 22, bw - 16, 20, true, PANGO_ALIGN_LEFT, n);
    }
    p->y += 54 + 24;
}

/* One table: name, enrolled, completed, rate (a bar and the percentage), issued, revoked. */
static void table(pdf *p, const char *title, const json_t *groups, const char *name_key)
{
    static const double col[] = {MARGIN, 230, 285, 345, 455, 500}; /* left edges */
    need(p, 3 * ROW_H + 20);
    p->y += text_at(p, MARGIN, p->y, PAGE_W - 2 * MARGIN, 13, true, PANGO_ALIGN_LEFT, title) + 6;
    const char *heads[] = {"", p->w->enrolled, p->w->completed, p->w->rate, p->w->issued,
                           p->w->revoked};
    for (int c = 0; c < 6; c++)
        text_at(p, col[c], p->y, c == 0 ? 170 : 50, 9, true,
                c == 0 ? PANGO_ALIGN_LEFT : PANGO_ALIGN_RIGHT, heads[c]);
    p->y += ROW_H;
    if (json_array_size(groups) == 0) {
        text_at(p, MARGIN, p->y, 200, 9, false, PANGO_ALIGN_LEFT, p->w->none);
        p->y += ROW_H;
    }
    size_t i;
    const json_t *g;
    json_array_foreach(groups, i, g) {
        need(p, ROW_H);
        if (i % 2 == 0) {
            cairo_set_source_rgb(p->cr, 0.97, 0.97, 0.98);
            cairo_rectangle(p->cr, MARGIN - 4, p->y - 2, PAGE_W - 2 * MARGIN + 8, ROW_H);
            cairo_fill(p->cr);
            cairo_set_source_rgb(p->cr, 0, 0, 0);
        }
        const char *name = json_string_value(json_object_get(g, name_key));
        text_at(p, col[0], p->y, 170, 9, false, PANGO_ALIGN_LEFT, name && *name ? name : "-");
        const char *keys[] = {"enrolled", "completed", NULL, "issued", "revoked"};
        for (int c = 1; c < 6; c++) {
            if (!keys[c - 1])
                continue;
            char n[32];
            snprintf(n, sizeof n, "%lld",
                     (long long)json_integer_value(json_object_get(g, keys[c - 1])));
            text_at(p, col[c], p->y, 50, 9, false, PANGO_ALIGN_RIGHT, n);
        }
        const json_t *rate = json_object_get(g, "completionRate");
        char pct[16] = "-";
        if (json_is_number(rate)) {
            double r = json_number_value(rate);
            snprintf(pct, sizeof pct, "%.1f%%", r * 100);
            cairo_set_source_rgb(p->cr, 0.85, 0.88, 0.93);
            cairo_rectangle(p->cr, col[3] + 4, p->y + 3, 60, 8);
            cairo_fill(p->cr);
            cairo_set_source_rgb(p->cr, 0.09, 0.36, 0.62);
            cairo_rectangle(p->cr, col[3] + 4, p->y + 3, 60 * (r < 0 ? 0 : r > 1 ? 1 : r), 8);
            cairo_fill(p->cr);
            cairo_set_source_rgb(p->cr, 0, 0, 0);
        }
        text_at(p, col[3] + 66, p->y, 40, 9, false, PANGO_ALIGN_RIGHT, pct);
        p->y += ROW_H;
    }
    p->y += 16;
}

static cairo_status_t write_buf(void *closure, const unsigned char *data, unsigned int n)
{
    char **b = closure; /* b[0] data, b[1] length as a size_t* */
    size_t *len = (size_t *)b[1];
    char *grown = realloc(b[0], *len + n);
    if (!grown)
        return CAIRO_STATUS_WRITE_ERROR;
    memcpy(grown + *len, data, n);
    b[0] = grown;
    *len += n;
    return CAIRO_STATUS_SUCCESS;
}

ca_err ca_report_summary_pdf(char **out, size_t *out_len, const json_t *summary,
                             const ca_report_pdf_meta *meta, ca_errbuf *eb)
{
    size_t len = 0;
    char *buf[2] = {NULL, (char *)&len};
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_buf, buf, PAGE_W, PAGE_H);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "credanchor");
    pdf p = {.cr = cairo_create(s), .meta = meta,
             .w = strcmp(meta->lang, "ko") == 0 ? &KO : &EN};
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, p.w->title);
    p.pc = pango_cairo_create_context(p.cr);
    new_page(&p);
    header(&p);
    totals(&p, json_object_get(summary, "totals"));
    table(&p, p.w->by_department, json_object_get(summary, "byDepartment"), "department");
    table(&p, p.w->by_course, json_object_get(summary, "byCourse"), "course");
    footer(&p);
    g_object_unref(p.pc);
    cairo_destroy(p.cr);
    cairo_surface_finish(s);
    cairo_status_t st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        free(buf[0]);
        return ca_fail(eb, st == CAIRO_STATUS_WRITE_ERROR ? CA_ERR_NOMEM : CA_ERR_IO,
                       "cairo: %s", cairo_status_to_string(st));
    }
    *out = buf[0];
    *out_len = len;
    return CA_OK;
}
