/*
 * node/badge.c — baked OB 3.0 badges, PNG and SVG (node/badge.h).
 *
 * PNG: the picture is a cairo ARGB32 surface (the achievement's PNG decoded by cairo, or a
 * badge drawn here), written by libpng with the iTXt chunk before the image data (OB 3.0
 * §5.3.1: "an iTXt chunk with the keyword openbadgecredential"; libpng places text chunks
 * set before png_write_info ahead of IDAT). cairo's pixels are premultiplied native-endian
 * ARGB, so each row is turned into straight RGBA first.
 */
#include "node/badge.h"

#include "credanchor/encoding.h"

#include <cairo.h>
#include <pango/pangocairo.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#define BADGE_PX 512
#define IMAGE_MAX (4 * 1024 * 1024) /* a data: URI image we decode */
#define OB_NS "https://purl.imsglobal.org/ob/v3p0"

typedef struct mem {
    char *p;
    size_t len, cap, pos;
    bool failed;
} mem;

static void mem_put(mem *m, const void *data, size_t n)
{
    if (m->failed)
        return;
    if (m->len + n + 1 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 65536;
        while (cap < m->len + n + 1)
            cap *= 2;
        char *p = realloc(m->p, cap);
        if (!p) {
            m->failed = true;
            return;
        }
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, n);
    m->len += n;
    m->p[m->len] = 0;
}

static void mem_puts(mem *m, const char *s)
{
    mem_put(m, s, strlen(s));
}

/* The achievement image's data: URI of the given media type, decoded; NULL otherwise. */
static uint8_t *data_uri(const json_t *cred, const char *type, size_t *len)
{
    const json_t *img = json_object_get(
        json_object_get(json_object_get(cred, "credentialSubject"), "achievement"), "image");
    const char *uri = json_is_string(img) ? json_string_value(img)
                                          : json_string_value(json_object_get(img, "id"));
    char prefix[64];
    snprintf(prefix, sizeof prefix, "data:%s;base64,", type);
    if (!uri || strncmp(uri, prefix, strlen(prefix)) != 0)
        return NULL;
    const char *b64 = uri + strlen(prefix);
    size_t n = strlen(b64), cap = n / 4 * 3 + 3;
    if (cap > IMAGE_MAX)
        return NULL;
    uint8_t *out = malloc(cap + 1);
    if (out && ca_base64_decode(out, &cap, b64, n) == CA_OK) {
        out[cap] = 0;
        *len = cap;
        return out;
    }
    free(out);
    return NULL;
}

/* ---- PNG ----------------------------------------------------------------------------------- */

static cairo_status_t read_mem(void *closure, unsigned char *data, unsigned int n)
{
    mem *m = closure;
    if (m->pos + n > m->len)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, m->p + m->pos, n);
    m->pos += n;
    return CAIRO_STATUS_SUCCESS;
}

static void centered_text(cairo_t *cr, const char *text, double size, bool bold, double y,
                          double width)
{
    PangoLayout *l = pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_from_string("NanumSquare");
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    if (bold)
        pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
    pango_layout_set_font_description(l, fd);
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, PANGO_ALIGN_CENTER);
    pango_layout_set_text(l, text, -1);
    int lw, lh;
    pango_layout_get_pixel_size(l, &lw, &lh);
    cairo_move_to(cr, (BADGE_PX - width) / 2, y - lh / 2.0);
    pango_cairo_show_layout(cr, l);
    pango_font_description_free(fd);
    g_object_unref(l);
}

/* The default picture: a round seal with the issuer, the achievement and the issue number. */
static cairo_surface_t *draw_badge(const ca_credential_view *v)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, BADGE_PX, BADGE_PX);
    cairo_t *cr = cairo_create(s);
    double c = BADGE_PX / 2.0;
    cairo_arc(cr, c, c, c - 8, 0, 6.283185307179586);
    cairo_set_source_rgb(cr, 0x0a / 255.0, 0x4a / 255.0, 0x8a / 255.0);
    cairo_fill(cr);
    cairo_arc(cr, c, c, c - 28, 0, 6.283185307179586);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 4);
    cairo_stroke(cr);
    centered_text(cr, v->issuer_name, 22, false, 130, 300);
    centered_text(cr, v->achievement_name, 34, true, c, 360);
    centered_text(cr, v->issue_number, 20, false, 390, 300);
    cairo_destroy(cr);
    return s;
}

static void png_write_mem(png_structp png, png_bytep data, png_size_t n)
{
    mem_put(png_get_io_ptr(png), data, n);
}

static void png_flush_none(png_structp png)
{
    (void)png;
}

/* libpng reports errors by longjmp; this function holds nothing that needs freeing across
 * it but the structs png_destroy_write_struct frees. */
static bool write_png(mem *out, cairo_surface_t *s, const char *doc, size_t doc_len)
{
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *px = cairo_image_surface_get_data(s);
    bool opaque = cairo_image_surface_get_format(s) == CAIRO_FORMAT_RGB24; /* x byte unused */
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep row = malloc((size_t)w * 4);
    volatile bool ok = png && info && row && px;
    if (ok && setjmp(png_jmpbuf(png)) == 0) {
        png_set_write_fn(png, out, png_write_mem, png_flush_none);
        png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB_ALPHA,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_text t = {0};
        t.compression = PNG_ITXT_COMPRESSION_NONE;
        t.key = (png_charp) "openbadgecredential";
        t.text = (png_charp)doc;
        t.itxt_length = doc_len;
        t.lang = (png_charp) "";
        t.lang_key = (png_charp) "";
        png_set_text(png, info, &t, 1);
        png_write_info(png, info);
        for (int y = 0; y < h; y++) {
            const uint32_t *src = (const uint32_t *)(px + (size_t)y * (size_t)stride);
            for (int x = 0; x < w; x++) {
                uint32_t p = src[x];
                unsigned a = opaque ? 255 : p >> 24, r = (p >> 16) & 255, g = (p >> 8) & 255, b = p & 255;
                if (a && a < 255) { /* undo cairo's premultiplication */
                    r = (r * 255 + a / 2) / a;
                    g = (g * 255 + a / 2) / a;
                    b = (b * 255 + a / 2) / a;
                }
                png_bytep d = row + 4 * x;
                d[0] = (png_byte)r, d[1] = (png_byte)g, d[2] = (png_byte)b, d[3] = (png_byte)a;
            }
            png_write_row(png, row);
        }
        png_write_end(png, info);
    } else {
        ok = false;
    }
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    free(row);
    return ok && !out->failed;
}

ca_err ca_badge_png(char **out, size_t *len, const ca_credential_view *v, const json_t *cred,
                    const char *doc, size_t doc_len, ca_errbuf *eb)
{
    size_t n = 0;
    uint8_t *own = data_uri(cred, "image/png", &n);
    cairo_surface_t *s = NULL;
    if (own) {
        mem in = {(char *)own, n, n, 0, false};
        s = cairo_image_surface_create_from_png_stream(read_mem, &in);
        free(own);
        cairo_format_t f = cairo_image_surface_get_format(s);
        if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS ||
            (f != CAIRO_FORMAT_ARGB32 && f != CAIRO_FORMAT_RGB24)) {
            /* An unreadable or odd image: the drawn badge instead. */
            cairo_surface_destroy(s);
            s = NULL;
        }
    }
    if (!s)
        s = draw_badge(v);
    cairo_surface_flush(s);
    mem m = {0};
    bool ok = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS && write_png(&m, s, doc, doc_len);
    cairo_surface_destroy(s);
    if (!ok) {
        free(m.p);
        return ca_fail(eb, CA_ERR_NOMEM, "the badge PNG could not be written");
    }
    *out = m.p;
    *len = m.len;
    return CA_OK;
}

/* ---- SVG ----------------------------------------------------------------------------------- */

static void xml_escaped(mem *m, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': mem_puts(m, "&amp;"); break;
        case '<': mem_puts(m, "&lt;"); break;
        case '>': mem_puts(m, "&gt;"); break;
        case '"': mem_puts(m, "&quot;"); break;
        default: mem_put(m, s + i, 1);
        }
    }
}

/* The credential element of OB 3.0 §5.3.2: verify="<JWS>" for a VC-JWT, else CDATA JSON (a
 * "]]>" inside is split across two CDATA sections). */
static void credential_element(mem *m, const char *doc, size_t doc_len)
{
    if (doc_len && doc[0] != '{') {
        mem_puts(m, "<openbadges:credential verify=\"");
        xml_escaped(m, doc, doc_len);
        mem_puts(m, "\"></openbadges:credential>");
        return;
    }
    mem_puts(m, "<openbadges:credential><![CDATA[");
    for (size_t i = 0; i < doc_len; i++) {
        if (i + 2 < doc_len && memcmp(doc + i, "]]>", 3) == 0) {
            mem_puts(m, "]]]]><![CDATA[>");
            i += 2;
        } else {
            mem_put(m, doc + i, 1);
        }
    }
    mem_puts(m, "]]></openbadges:credential>");
}

static void default_svg_body(mem *m, const ca_credential_view *v)
{
    mem_puts(m, "<title>");
    xml_escaped(m, v->achievement_name, strlen(v->achievement_name));
    mem_puts(m, "</title>"
                "<circle cx=\"256\" cy=\"256\" r=\"248\" fill=\"#0a4a8a\"/>"
                "<circle cx=\"256\" cy=\"256\" r=\"228\" fill=\"none\" stroke=\"#fff\" "
                "stroke-width=\"4\"/>"
                "<g fill=\"#fff\" font-family=\"NanumGothic, sans-serif\" text-anchor=\"middle\">"
                "<text x=\"256\" y=\"140\" font-size=\"22\">");
    xml_escaped(m, v->issuer_name, strlen(v->issuer_name));
    mem_puts(m, "</text><text x=\"256\" y=\"268\" font-size=\"30\" font-weight=\"bold\">");
    xml_escaped(m, v->achievement_name, strlen(v->achievement_name));
    mem_puts(m, "</text><text x=\"256\" y=\"395\" font-size=\"20\">");
    xml_escaped(m, v->issue_number, strlen(v->issue_number));
    mem_puts(m, "</text></g>");
}

ca_err ca_badge_svg(char **out, size_t *len, const ca_credential_view *v, const json_t *cred,
                    const char *doc, size_t doc_len, ca_errbuf *eb)
{
    mem m = {0};
    size_t n = 0;
    char *own = (char *)data_uri(cred, "image/svg+xml", &n);
    char *open = own ? strstr(own, "<svg") : NULL;
    char *end = open ? strchr(open, '>') : NULL;
    if (end && end[-1] != '/') {
        /* The issuer's SVG: its <svg ...> tag (with the namespace added), the credential, the
         * rest unchanged. */
        mem_put(&m, own, (size_t)(end - own));
        if (!memmem(open, (size_t)(end - open), "xmlns:openbadges", 16))
            mem_puts(&m, " xmlns:openbadges=\"" OB_NS "\"");
        mem_puts(&m, ">");
        credential_element(&m, doc, doc_len);
        mem_puts(&m, end + 1);
    } else {
        mem_puts(&m, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:openbadges=\"" OB_NS "\" "
                     "viewBox=\"0 0 512 512\" width=\"512\" height=\"512\">");
        credential_element(&m, doc, doc_len);
        default_svg_body(&m, v);
        mem_puts(&m, "</svg>\n");
    }
    free(own);
    if (m.failed) {
        free(m.p);
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory writing the badge SVG");
    }
    *out = m.p;
    *len = m.len;
    return CA_OK;
}
