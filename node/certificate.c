/*
 * node/certificate.c — the credential's readable facts and its PDF certificate
 * (node/certificate.h; issue #15 "A PDF certificate").
 *
 * Drawing: cairo's PDF surface written into memory, text laid out by pango (which finds a
 * Hangul font through fontconfig: fonts-nanum), the page URL as a QR code from libqrencode
 * drawn module by module as filled squares. Each call builds its own surface, layouts and QR
 * symbol, so the HTTP workers render in parallel (pango >= 1.32 keeps a font map per thread).
 */
#include "node/certificate.h"

#include "credanchor/credential.h"
#include "credanchor/encoding.h"
#include "credanchor/jws.h"
#include "node/node_log.h"
#include "node/web_assets.h"

#include <archive.h>
#include <archive_entry.h>
#include <cairo-pdf.h>
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <time.h>
#include <stddef.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <qrencode.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAYOUT_MAX (64 * 1024) /* bytes of a layout file */
#define BLOCKS_MAX 32
#define TEXT_MAX 4096          /* one block's text after substitution */

/* ---- the view ------------------------------------------------------------------------------ */

static void copy_str(char *out, size_t cap, const json_t *v)
{
    snprintf(out, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static void copy_date(char out[16], const json_t *v)
{
    const char *s = json_string_value(v);
    snprintf(out, 16, "%.10s", s && strlen(s) >= 10 ? s : "");
}

/* The id's last ':' or '/' segment, keeping only [A-Za-z0-9_-] (it names a file). */
static void achievement_key(char *out, size_t cap, const char *id);
void ca_certificate_layout_key(char *out, size_t cap, const char *id)
{
    achievement_key(out, cap, id);
}

static void achievement_key(char *out, size_t cap, const char *id)
{
    const char *seg = id;
    for (const char *p = id; *p; p++)
        if (*p == ':' || *p == '/')
            seg = p + 1;
    size_t n = 0;
    for (const char *p = seg; *p && n + 1 < cap; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_')
            out[n++] = *p;
    out[n] = 0;
}

/* did:web:host%3Aport[:path] -> "host:port". */
static void did_web_host(char *out, size_t cap, const char *did)
{
    out[0] = 0;
    if (!did || strncmp(did, "did:web:", 8) != 0)
        return;
    size_t n = 0;
    for (const char *p = did + 8; *p && *p != ':' && n + 1 < cap; p++) {
        if (p[0] == '%' && p[1] == '3' && (p[2] == 'A' || p[2] == 'a')) {
            out[n++] = ':';
            p += 2;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = 0;
}

static void recipient_name(char *out, size_t cap, const json_t *subject)
{
    size_t i;
    const json_t *id;
    out[0] = 0;
    json_array_foreach(json_object_get(subject, "identifier"), i, id) {
        if (json_is_false(json_object_get(id, "hashed")) &&
            json_is_string(json_object_get(id, "identityType")) &&
            strcmp(json_string_value(json_object_get(id, "identityType")), "name") == 0) {
            copy_str(out, cap, json_object_get(id, "identityHash"));
            return;
        }
    }
    copy_str(out, cap, json_object_get(subject, "name"));
}

/* When the credential was issued, in unix ms: the 48-bit time of its UUIDv7 id (RFC 9562
 * §5.7; the node's ids, node/issuer.c), else its validFrom (whole seconds), else 0. */
static int64_t issued_ms(const json_t *cred)
{
    const char *id = json_string_value(json_object_get(cred, "id"));
    const char *u = id && strncmp(id, "urn:uuid:", 9) == 0 ? id + 9 : NULL;
    if (u && strlen(u) == 36 && u[8] == '-' && u[14] == '7') {
        int64_t ms = 0;
        for (int i = 0; i < 13; i++) {
            if (i == 8)
                continue;
            int d = ca_hex_digit_value(u[i]);
            if (d < 0)
                return 0;
            ms = ms << 4 | d;
        }
        return ms;
    }
    const char *from = json_string_value(json_object_get(cred, "validFrom"));
    int64_t t;
    return from && ca_datetime_parse(&t, from) == CA_OK ? t * 1000 : 0;
}

ca_err ca_credential_view_load(ca_credential_view *v, json_t **cred_out, const char *doc,
                               size_t len, const char *page_url, ca_errbuf *eb)
{
    memset(v, 0, sizeof *v);
    json_t *cred = NULL;
    if (len && doc[0] == '{') {
        cred = json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);
    } else {
        ca_jws jws = {0};
        if (ca_jws_parse(&jws, doc, len, eb) == CA_OK)
            cred = json_incref(jws.payload);
        ca_jws_clear(&jws);
    }
    if (!json_is_object(cred)) {
        json_decref(cred);
        return ca_fail(eb, CA_ERR_INVALID, "the stored credential is neither JSON nor a VC-JWT");
    }
    const json_t *issuer = json_object_get(cred, "issuer");
    const json_t *subject = json_object_get(cred, "credentialSubject");
    const json_t *ach = json_object_get(subject, "achievement");
    copy_str(v->issuer_name, sizeof v->issuer_name, json_object_get(issuer, "name"));
    if (!v->issuer_name[0])
        did_web_host(v->issuer_name, sizeof v->issuer_name,
                     json_is_string(issuer) ? json_string_value(issuer)
                                            : json_string_value(json_object_get(issuer, "id")));
    achievement_key(v->achievement_key, sizeof v->achievement_key,
                    json_string_value(json_object_get(ach, "id")) ?: "");
    copy_str(v->achievement_name, sizeof v->achievement_name, json_object_get(ach, "name"));
    if (!v->achievement_name[0])
        copy_str(v->achievement_name, sizeof v->achievement_name, json_object_get(cred, "name"));
    copy_str(v->achievement_type, sizeof v->achievement_type,
             json_object_get(ach, "achievementType"));
    copy_str(v->description, sizeof v->description, json_object_get(ach, "description"));
    copy_str(v->criteria, sizeof v->criteria,
             json_object_get(json_object_get(ach, "criteria"), "narrative"));
    recipient_name(v->recipient, sizeof v->recipient, subject);
    copy_str(v->issue_number, sizeof v->issue_number, json_object_get(subject, "licenseNumber"));
    copy_date(v->issued_on, json_object_get(cred, "validFrom"));
    v->issued_at_ms = issued_ms(cred);
    copy_date(v->completed_on, json_object_get(cred, "awardedDate"));
    if (!v->completed_on[0])
        memcpy(v->completed_on, v->issued_on, sizeof v->issued_on);
    copy_date(v->valid_until, json_object_get(cred, "validUntil"));
    snprintf(v->page_url, sizeof v->page_url, "%s", page_url);
    if (cred_out)
        *cred_out = cred;
    else
        json_decref(cred);
    return CA_OK;
}

/* ---- layouts ------------------------------------------------------------------------------- */

static json_t *load_layout_file(const char *path, bool *missing, ca_errbuf *eb)
{
    FILE *f = fopen(path, "rb");
    *missing = f == NULL;
    if (!f)
        return NULL;
    char *buf = malloc(LAYOUT_MAX + 1);
    size_t n = buf ? fread(buf, 1, LAYOUT_MAX + 1, f) : 0;
    fclose(f);
    json_error_t jerr;
    json_t *j = buf && n <= LAYOUT_MAX ? json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    free(buf);
    if (!j)
        ca_fail(eb, CA_ERR_INVALID, "certificate layout %s: %s", path,
                n > LAYOUT_MAX ? "over 64 KiB" : jerr.text);
    return j;
}

/* "YYYYMMDDTHHMMSSZ-..." -> unix seconds; -1 when the name does not start so. */
/* The unix ms of a history file's name, "<YYYYmmddTHHMMSS>[.mmm]Z-<sha256>.json" (node/
 * routes_templates.c keep_history; names without milliseconds came first), or -1. */
static int64_t history_time(const char *name)
{
    struct tm tm = {0};
    const char *end = strptime(name, "%Y%m%dT%H%M%S", &tm);
    int64_t ms = 0;
    if (end && end[0] == '.' && isdigit((unsigned char)end[1]) &&
        isdigit((unsigned char)end[2]) && isdigit((unsigned char)end[3])) {
        ms = (end[1] - '0') * 100 + (end[2] - '0') * 10 + (end[3] - '0');
        end += 4;
    }
    return end && end[0] == 'Z' && end[1] == '-' ? (int64_t)timegm(&tm) * 1000 + ms : -1;
}

/* The layout that was replaced first after issued_ms (certificate.h): <dir>/.history/<key>/
 * <time>-<sha256>.json with the smallest time > issued_ms; NULL (and *missing) when none.
 * Both times are in ms, so only an edit in the very millisecond of an issuance is ambiguous
 * (validFrom's whole seconds were not enough: an edit in the second of an issuance redrew
 * that credential in the new design). */
static json_t *layout_as_of(const char *dir, const char *key, int64_t issued_ms, bool *missing,
                            ca_errbuf *eb)
{
    char hist[4096], best[256] = "";
    int64_t best_t = INT64_MAX;
    *missing = true;
    snprintf(hist, sizeof hist, "%s/.history/%s", dir, key);
    DIR *d = issued_ms > 0 && key[0] ? opendir(hist) : NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        int64_t t = history_time(e->d_name);
        size_t n = strlen(e->d_name);
        if (t > issued_ms && t < best_t && n < sizeof best && n > 5 &&
            strcmp(e->d_name + n - 5, ".json") == 0) {
            best_t = t;
            memcpy(best, e->d_name, n + 1);
        }
    }
    if (d)
        closedir(d);
    if (!best[0])
        return NULL;
    char path[sizeof hist + 1 + sizeof best]; /* both whole: no truncated name is opened */
    snprintf(path, sizeof path, "%s/%s", hist, best);
    return load_layout_file(path, missing, eb);
}

/* The layout for key at issued_ms: the one replaced after it (layout_as_of), else
 * <dir>/<key>.json, <dir>/default.json, the built-in one. */
static json_t *find_layout(const char *dir, const char *key, int64_t issued_ms, ca_errbuf *eb)
{
    bool was_missing = true;
    json_t *then = dir && dir[0] ? layout_as_of(dir, key, issued_ms, &was_missing, eb) : NULL;
    if (then || !was_missing)
        return then;
    const char *names[] = {key, "default"};
    for (size_t i = 0; i < 2 && dir && dir[0]; i++) {
        if (!names[i][0])
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.json", dir, names[i]);
        bool missing;
        json_t *j = load_layout_file(path, &missing, eb);
        if (j || !missing)
            return j;
    }
    for (size_t i = 0; i < ca_web_assets_count; i++)
        if (strcmp(ca_web_assets[i].path, "certificate/default.json") == 0)
            return json_loadb((const char *)ca_web_assets[i].data, ca_web_assets[i].len, 0, NULL);
    ca_fail(eb, CA_ERR_INVALID, "no certificate layout (the build lost web/certificate/)");
    return NULL;
}

/* ---- drawing ------------------------------------------------------------------------------- */

typedef struct growbuf {
    char *p;
    size_t len, cap;
    bool failed;
} growbuf;

static cairo_status_t write_mem(void *closure, const unsigned char *data, unsigned int n)
{
    growbuf *b = closure;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return CAIRO_STATUS_SUCCESS;
}

/* "#rrggbb" -> rgb in 0..1; black when malformed. */
static void set_color(cairo_t *cr, const json_t *c)
{
    unsigned r = 0x1b, g = 0x1f, b = 0x24;
    const char *s = json_string_value(c);
    if (s && strlen(s) == 7 && s[0] == '#')
        sscanf(s + 1, "%2x%2x%2x", &r, &g, &b);
    cairo_set_source_rgb(cr, r / 255.0, g / 255.0, b / 255.0);
}

/* The fields a block's text may name as {name} (docs/operations.md "Certificates"). */
static const struct {
    const char *name;
    size_t off;
} view_fields[] = {
    {"issuerName", offsetof(ca_credential_view, issuer_name)},
    {"achievementName", offsetof(ca_credential_view, achievement_name)},
    {"achievementType", offsetof(ca_credential_view, achievement_type)},
    {"description", offsetof(ca_credential_view, description)},
    {"criteria", offsetof(ca_credential_view, criteria)},
    {"recipient", offsetof(ca_credential_view, recipient)},
    {"issueNumber", offsetof(ca_credential_view, issue_number)},
    {"issuedOn", offsetof(ca_credential_view, issued_on)},
    {"completedOn", offsetof(ca_credential_view, completed_on)},
    {"validUntil", offsetof(ca_credential_view, valid_until)},
    {"pageUrl", offsetof(ca_credential_view, page_url)},
};
#define NFIELDS (sizeof view_fields / sizeof view_fields[0])

bool ca_certificate_field_known(const char *name, size_t len)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (strlen(view_fields[i].name) == len && strncmp(name, view_fields[i].name, len) == 0)
            return true;
    return false;
}

/* The block's text with {issuerName}, {recipient}, ... replaced. */
static void substitute(char *out, size_t cap, const char *tmpl, const ca_credential_view *v)
{
    size_t n = 0;
    out[0] = 0;
    for (const char *p = tmpl; *p && n + 1 < cap;) {
        const char *close = p[0] == '{' ? strchr(p, '}') : NULL;
        size_t i = 0;
        for (; close && i < NFIELDS; i++)
            if (strlen(view_fields[i].name) == (size_t)(close - p - 1) &&
                strncmp(p + 1, view_fields[i].name, (size_t)(close - p - 1)) == 0)
                break;
        if (close && i < NFIELDS) {
            const char *val = (const char *)v + view_fields[i].off;
            int w = snprintf(out + n, cap - n, "%s", val);
            n = w < 0 ? n : (size_t)w >= cap - n ? cap - 1 : n + (size_t)w;
            p = close + 1;
        } else {
            out[n++] = *p++;
            out[n] = 0;
        }
    }
}

/* A layout number, def when absent, clamped to [lo, hi] so no layout can ask cairo or pango
 * for a 10^9-point font or a negative width. */
static double num(const json_t *o, const char *k, double def, double lo, double hi)
{
    const json_t *v = json_object_get(o, k);
    double d = json_is_number(v) ? json_number_value(v) : def;
    return d != d ? def : d < lo ? lo : d > hi ? hi : d; /* d != d: NaN */
}

#define COORD_MIN (-5000.0)
#define COORD_MAX 5000.0

static void draw_block(cairo_t *cr, PangoContext *pc, const json_t *b, const char *font,
                       const ca_credential_view *v)
{
    char *text = malloc(TEXT_MAX);
    if (!text)
        return;
    substitute(text, TEXT_MAX, json_string_value(json_object_get(b, "text")) ?: "", v);
    PangoLayout *layout = pango_layout_new(pc);
    PangoFontDescription *fd = pango_font_description_from_string(font);
    pango_font_description_set_absolute_size(fd, num(b, "size", 12, 1, 300) * PANGO_SCALE);
    if (json_is_true(json_object_get(b, "bold")))
        pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
    pango_layout_set_font_description(layout, fd);
    pango_layout_set_width(layout, (int)(num(b, "width", 400, 1, COORD_MAX) * PANGO_SCALE));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    const char *align = json_string_value(json_object_get(b, "align"));
    pango_layout_set_alignment(layout, align && strcmp(align, "center") == 0 ? PANGO_ALIGN_CENTER
                                       : align && strcmp(align, "right") == 0 ? PANGO_ALIGN_RIGHT
                                                                              : PANGO_ALIGN_LEFT);
    pango_layout_set_text(layout, text, -1);
    set_color(cr, json_object_get(b, "color"));
    cairo_move_to(cr, num(b, "x", 0, COORD_MIN, COORD_MAX), num(b, "y", 0, COORD_MIN, COORD_MAX));
    pango_cairo_show_layout(cr, layout);
    pango_font_description_free(fd);
    g_object_unref(layout);
    free(text);
}

/* The page URL as a QR code (ISO/IEC 18004, level M) with its 4-module quiet zone. */
static ca_err draw_qr(cairo_t *cr, const json_t *q, const char *url, ca_errbuf *eb)
{
    QRcode *code = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!code)
        return ca_fail(eb, CA_ERR_INVALID, "the page URL does not fit a QR code");
    double size = num(q, "size", 120, 20, 2000), x = num(q, "x", 0, COORD_MIN, COORD_MAX),
           y = num(q, "y", 0, COORD_MIN, COORD_MAX);
    double m = size / (code->width + 8);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, x, y, size, size);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int r = 0; r < code->width; r++)
        for (int c = 0; c < code->width; c++)
            if (code->data[r * code->width + c] & 1)
                cairo_rectangle(cr, x + (c + 4) * m, y + (r + 4) * m, m, m);
    cairo_fill(cr);
    QRcode_free(code);
    return CA_OK;
}

static void draw_frame(cairo_t *cr, const json_t *layout, double w, double h)
{
    const json_t *bg = json_object_get(layout, "background");
    if (json_is_string(bg))
        set_color(cr, bg);
    else
        cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    const json_t *border = json_object_get(layout, "border");
    if (json_is_object(border)) {
        double inset = num(border, "inset", 20, 0, 1000), bw = num(border, "width", 4, 0, 200);
        set_color(cr, json_object_get(border, "color"));
        cairo_set_line_width(cr, bw);
        cairo_rectangle(cr, inset, inset, w - 2 * inset, h - 2 * inset);
        cairo_stroke(cr);
    }
}

ca_err ca_certificate_pdf(char **pdf, size_t *len, const ca_credential_view *v,
                          const char *certificates_dir, ca_errbuf *eb)
{
    json_t *layout = find_layout(certificates_dir, v->achievement_key, v->issued_at_ms, eb);
    if (!layout)
        return CA_ERR_INVALID;
    ca_err err = ca_certificate_pdf_layout(pdf, len, v, layout, eb);
    json_decref(layout);
    return err;
}

ca_err ca_certificate_pdf_layout(char **pdf, size_t *len, const ca_credential_view *v,
                                 const json_t *layout, ca_errbuf *eb)
{
    const json_t *size = json_object_get(layout, "size");
    double w = json_number_value(json_array_get(size, 0)), h = json_number_value(json_array_get(size, 1));
    const json_t *blocks = json_object_get(layout, "blocks");
    if (!(w >= 72 && w <= 5000 && h >= 72 && h <= 5000) || !json_is_array(blocks) ||
        json_array_size(blocks) > BLOCKS_MAX) {
        return ca_fail(eb, CA_ERR_INVALID, "certificate layout for %s: \"size\" must be "
                       "[width, height] in points (72..5000) and \"blocks\" an array of at most %d",
                       v->achievement_key[0] ? v->achievement_key : "default", BLOCKS_MAX);
    }
    growbuf out = {0};
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_mem, &out, w, h);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, v->achievement_name);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_AUTHOR, v->issuer_name);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "credanchor");
    cairo_t *cr = cairo_create(s);
    draw_frame(cr, layout, w, h);
    const char *font = json_string_value(json_object_get(layout, "font")) ?: "NanumGothic";
    size_t i;
    const json_t *b;
    /* One pango context for the page's blocks (the transform never changes). */
    PangoContext *pc = pango_cairo_create_context(cr);
    json_array_foreach(blocks, i, b) draw_block(cr, pc, b, font, v);
    g_object_unref(pc);
    ca_err err = CA_OK;
    if (json_is_object(json_object_get(layout, "qr")))
        err = draw_qr(cr, json_object_get(layout, "qr"), v->page_url, eb);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    cairo_status_t st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (!err && (out.failed || st != CAIRO_STATUS_SUCCESS))
        err = out.failed ? ca_fail(eb, CA_ERR_NOMEM, "out of memory rendering the certificate")
                         : ca_fail(eb, CA_ERR_IO, "cairo: %s", cairo_status_to_string(st));
    if (err) {
        free(out.p);
        return err;
    }
    *pdf = out.p;
    *len = out.len;
    return CA_OK;
}

/* ---- many certificates as one ZIP, streamed ------------------------------------------------
 * issue #17: the bulk download is produced while the client reads, never built whole: each
 * read renders the next batch of certificates (one per thread, on the cores) and hands them
 * to libarchive, whose output goes to a buffer the reads drain. Memory stays at one batch of
 * PDFs plus the ZIP's central directory, whatever the number of certificates. */

typedef struct zip_job {
    const ca_credential_view *views;
    size_t n;
    const char *dir;
    char **pdf;
    size_t *len;
    ca_err *err;
    ca_errbuf *ebs;
    atomic_size_t next;
} zip_job;

static void *render_worker(void *arg)
{
    zip_job *j = arg;
    for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < j->n;)
        j->err[i] = ca_certificate_pdf(&j->pdf[i], &j->len[i], &j->views[i], j->dir, &j->ebs[i]);
    return NULL;
}

#define ZIP_THREADS_MAX 8
#define ZIP_BATCH 16 /* certificates rendered per batch (about 400 KB of PDFs) */

struct ca_zip_stream {
    ca_credential_view *views; /* owned */
    size_t n, next;            /* certificates; the next one to render */
    char *dir;
    unsigned threads;
    struct archive *a;
    growbuf out;               /* ZIP bytes not yet read: out.p[off..len) */
    size_t off;
    bool closed;               /* the central directory is written */
    /* One batch, rendered by up to threads + 1 threads. */
    char *pdf[ZIP_BATCH];
    size_t len[ZIP_BATCH];
    ca_err err[ZIP_BATCH];
    ca_errbuf ebs[ZIP_BATCH];
};

static la_ssize_t zip_write(struct archive *a, void *closure, const void *data, size_t n)
{
    (void)a;
    growbuf *b = closure;
    return write_mem(b, data, (unsigned int)n) == CAIRO_STATUS_SUCCESS ? (la_ssize_t)n : -1;
}

/* Renders views[next..next+batch) on the threads and writes them as stored ZIP entries. */
static ca_err zip_next_batch(ca_zip_stream *z, ca_errbuf *eb)
{
    /* A batch of ZIP_BATCH whatever the threads: fewer joins, a few PDFs held at once. */
    size_t batch = z->n - z->next;
    if (batch > ZIP_BATCH)
        batch = ZIP_BATCH;
    zip_job j = {.views = z->views + z->next, .n = batch, .dir = z->dir, .pdf = z->pdf,
                 .len = z->len, .err = z->err, .ebs = z->ebs};
    atomic_init(&j.next, 0);
    memset(z->pdf, 0, sizeof z->pdf);
    pthread_t tid[ZIP_THREADS_MAX];
    unsigned started = 0;
    for (; started < z->threads && started + 1 < batch; started++)
        if (pthread_create(&tid[started], NULL, render_worker, &j))
            break;
    render_worker(&j); /* this thread works too */
    for (unsigned t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    ca_err err = CA_OK;
    for (size_t i = 0; i < batch; i++) {
        const ca_credential_view *v = &z->views[z->next + i];
        if (!err && z->err[i])
            err = ca_fail(eb, z->err[i], "%s: %s", v->issue_number, z->ebs[i].msg);
        if (!err) {
            char name[96];
            if (v->issue_number[0])
                snprintf(name, sizeof name, "%s.pdf", v->issue_number);
            else
                snprintf(name, sizeof name, "certificate-%zu.pdf", z->next + i + 1);
            struct archive_entry *e = archive_entry_new();
            archive_entry_set_pathname(e, name);
            archive_entry_set_size(e, (la_int64_t)z->len[i]);
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            if (archive_write_header(z->a, e) != ARCHIVE_OK ||
                archive_write_data(z->a, z->pdf[i], z->len[i]) != (la_ssize_t)z->len[i])
                err = ca_fail(eb, CA_ERR_IO, "zip: %s", archive_error_string(z->a));
            archive_entry_free(e);
        }
        free(z->pdf[i]);
        z->pdf[i] = NULL;
    }
    z->next += batch;
    if (!err && z->out.failed)
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory writing the ZIP");
    return err;
}

/* Makes more ZIP bytes: the next batch, or the central directory after the last. */
static ca_err zip_fill(ca_zip_stream *z, ca_errbuf *eb)
{
    z->out.len = z->off = 0;
    if (z->next < z->n)
        return zip_next_batch(z, eb);
    z->closed = true;
    if (archive_write_close(z->a) != ARCHIVE_OK)
        return ca_fail(eb, CA_ERR_IO, "zip: %s", archive_error_string(z->a));
    return z->out.failed ? ca_fail(eb, CA_ERR_NOMEM, "out of memory writing the ZIP") : CA_OK;
}

ca_err ca_zip_stream_open(ca_zip_stream **out, ca_credential_view *views, size_t n,
                          const char *certificates_dir, unsigned threads, ca_errbuf *eb)
{
    *out = NULL;
    ca_zip_stream *z = calloc(1, sizeof *z);
    if (!z) {
        free(views);
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    }
    z->views = views;
    z->n = n;
    z->threads = threads < ZIP_THREADS_MAX ? threads : ZIP_THREADS_MAX;
    z->dir = strdup(certificates_dir ? certificates_dir : "");
    z->a = archive_write_new();
    ca_err err = CA_OK;
    if (!z->dir || !z->a)
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    /* No blocking: every byte libarchive writes reaches the buffer at once. */
    else if (archive_write_set_format_zip(z->a) != ARCHIVE_OK ||
             archive_write_set_options(z->a, "zip:compression=store") != ARCHIVE_OK ||
             archive_write_set_bytes_per_block(z->a, 0) != ARCHIVE_OK ||
             archive_write_open(z->a, &z->out, NULL, zip_write, NULL) != ARCHIVE_OK)
        err = ca_fail(eb, CA_ERR_IO, "zip: %s", archive_error_string(z->a));
    /* The first batch now, so a broken layout is an error before any byte is sent. */
    if (!err)
        err = zip_fill(z, eb);
    if (err) {
        ca_zip_stream_free(z);
        return err;
    }
    *out = z;
    return CA_OK;
}

ssize_t ca_zip_stream_read(ca_zip_stream *z, char *buf, size_t max)
{
    while (z->off == z->out.len) {
        if (z->closed)
            return 0;
        ca_errbuf eb = {{0}};
        if (zip_fill(z, &eb) != CA_OK) {
            ca_node_log(CA_NODE_LOG_ERROR, NULL, "certificates.zip: %s", eb.msg);
            return -1;
        }
    }
    size_t n = z->out.len - z->off;
    if (n > max)
        n = max;
    memcpy(buf, z->out.p + z->off, n);
    z->off += n;
    return (ssize_t)n;
}

void ca_zip_stream_free(ca_zip_stream *z)
{
    if (!z)
        return;
    if (z->a)
        archive_write_free(z->a);
    for (size_t i = 0; i < sizeof z->pdf / sizeof z->pdf[0]; i++)
        free(z->pdf[i]);
    free(z->out.p);
    free(z->views);
    free(z->dir);
    free(z);
}

ca_err ca_certificates_zip(char **zip, size_t *len, const ca_credential_view *views, size_t n,
                           const char *certificates_dir, unsigned threads, ca_errbuf *eb)
{
    ca_credential_view *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!copy)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    memcpy(copy, views, n * sizeof *copy);
    ca_zip_stream *z;
    ca_err err = ca_zip_stream_open(&z, copy, n, certificates_dir, threads, eb);
    if (err)
        return err;
    growbuf all = {0};
    char buf[65536];
    ssize_t got;
    while ((got = ca_zip_stream_read(z, buf, sizeof buf)) > 0)
        if (write_mem(&all, (const unsigned char *)buf, (unsigned int)got) != CAIRO_STATUS_SUCCESS)
            break;
    ca_zip_stream_free(z);
    if (got != 0 || all.failed) {
        free(all.p);
        return ca_fail(eb, all.failed ? CA_ERR_NOMEM : CA_ERR_IO, "the ZIP could not be made");
    }
    *zip = all.p;
    *len = all.len;
    return CA_OK;
}
