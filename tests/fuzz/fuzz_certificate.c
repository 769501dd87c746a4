/* What the downloads read (node/certificate.c, node/badge.c): the input's first line is a
 * certificate layout (JSON), the rest a stored credential (a VC-JWT or JSON). No crash, no
 * leak; a credential that loads gives NUL-terminated view fields and an SVG badge with one
 * <openbadges:credential> element (more only when the credential's own text holds one); a layout that renders gives a PDF ("%PDF-"). */
#include "fuzz_common.h"
#include "node/badge.h"
#include "node/certificate.h"

static void check_view(const ca_credential_view *v)
{
    if (memchr(v->issuer_name, 0, sizeof v->issuer_name) == NULL ||
        memchr(v->recipient, 0, sizeof v->recipient) == NULL ||
        memchr(v->achievement_key, 0, sizeof v->achievement_key) == NULL ||
        strspn(v->achievement_key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            strlen(v->achievement_key))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t layout_len = nl ? (size_t)(nl - data) : 0;
    const uint8_t *doc = nl ? nl + 1 : data;
    size_t doc_len = size - (size_t)(doc - data);
    char *copy = fuzz_strndup(doc, doc_len);
    ca_credential_view v;
    json_t *cred = NULL;
    ca_errbuf eb = {{0}};
    if (ca_credential_view_load(&v, &cred, copy, doc_len, "https://issuer.example/c/x", &eb) == CA_OK) {
        check_view(&v);
        char *svg = NULL;
        size_t svg_len = 0;
        if (ca_badge_svg(&svg, &svg_len, &v, cred, copy, doc_len, &eb) == CA_OK) {
            /* Exactly one element, unless the credential's own text names it (inside CDATA). */
            const char *first = strstr(svg, "<openbadges:credential");
            if (!first || (strstr(first + 1, "<openbadges:credential") &&
                           !strstr(copy, "<openbadges:credential")))
                abort();
            free(svg);
        }
        json_t *layout = layout_len ? json_loadb((const char *)data, layout_len, 0, NULL) : NULL;
        char *pdf = NULL;
        size_t pdf_len = 0;
        if (layout && ca_certificate_pdf_layout(&pdf, &pdf_len, &v, layout, &eb) == CA_OK) {
            if (pdf_len < 5 || memcmp(pdf, "%PDF-", 5) != 0)
                abort();
            free(pdf);
        }
        json_decref(layout);
        json_decref(cred);
    }
    free(copy);
    return 0;
}
