/* What the template editor checks before it writes (node/template_edit.c, issue #17
 * "Templates"): the input's first line is a template (JSON), the rest a certificate layout
 * (JSON); the first byte of the line also picks a route name to check. No crash, no leak,
 * and properties:
 *  - a template that passes has a non-empty achievement name and description, and every
 *    image data: URI in it is of a type the check names;
 *  - a layout that passes has every block's {field} known and renders to a PDF ("%PDF-")
 *    with the sample view of a passing template (the renderer never refuses what the
 *    check passed);
 *  - a new template name that passes is also an existing-template name (new names are the
 *    stricter set), and never has a '/' or starts with '.'. */
#include "fuzz_common.h"
#include "node/certificate.h"
#include "node/template_edit.h"

static void check_name(const uint8_t *data, size_t size)
{
    char name[80];
    size_t n = size < sizeof name - 1 ? size : sizeof name - 1;
    memcpy(name, data, n);
    name[n] = 0;
    bool fresh = ca_template_name_ok(name, true), old = ca_template_name_ok(name, false);
    if (fresh && !old)
        abort();
    if (old && (strchr(name, '/') || name[0] == '.'))
        abort();
}

static void check_passing_template(const json_t *t)
{
    const json_t *ach = json_object_get(json_object_get(t, "credentialSubject"), "achievement");
    const char *name = json_string_value(json_object_get(ach, "name"));
    const char *desc = json_string_value(json_object_get(ach, "description"));
    if (!name || !name[0] || !desc || !desc[0])
        abort();
    const char *img = json_string_value(json_object_get(json_object_get(ach, "image"), "id"));
    if (img && strncmp(img, "data:", 5) == 0 && strncmp(img, "data:image/png;base64,", 22) &&
        strncmp(img, "data:image/jpeg;base64,", 23) && strncmp(img, "data:image/svg+xml;base64,", 26))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_name(data, size);
    const uint8_t *nl = memchr(data, '\n', size);
    size_t tlen = nl ? (size_t)(nl - data) : size;
    ca_errbuf eb = {{0}};
    json_t *tmpl = json_loadb((const char *)data, tlen, JSON_REJECT_DUPLICATES, NULL);
    bool tmpl_ok = tmpl && ca_template_check(tmpl, &eb) == CA_OK;
    if (tmpl_ok)
        check_passing_template(tmpl);
    json_t *layout = nl ? json_loadb((const char *)nl + 1, size - tlen - 1, JSON_REJECT_DUPLICATES, NULL)
                        : NULL;
    if (layout && ca_layout_check(layout, &eb) == CA_OK && tmpl_ok) {
        ca_credential_view v;
        ca_template_sample_view(&v, tmpl, "Fuzz Issuer", "https://issuer.example", 1796083200);
        char *pdf = NULL;
        size_t len = 0;
        if (ca_certificate_pdf_layout(&pdf, &len, &v, layout, &eb) != CA_OK || len < 5 ||
            memcmp(pdf, "%PDF-", 5) != 0)
            abort();
        free(pdf);
    }
    json_decref(layout);
    json_decref(tmpl);
    return 0;
}
