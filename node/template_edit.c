/*
 * node/template_edit.c — checks of an edited achievement template and certificate layout
 * (node/template_edit.h; issue #17 "Templates").
 */
#include "node/template_edit.h"

#include "credanchor/credential.h"
#include "credanchor/encoding.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ca_template_name_ok(const char *name, bool new_name)
{
    size_t n = strlen(name);
    if (new_name)
        return n >= 1 && n <= CA_TEMPLATE_NAME_MAX &&
               strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
    static const char stem[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    return n >= 1 && n <= 128 && strspn(name, stem) == n && name[0] != '.' &&
           !(n >= 5 && strcmp(name + n - 5, ".mail") == 0);
}

/* ---- small checks ------------------------------------------------------------------------ */

/* A string member: NULL when absent or not a string. */
static const char *str_of(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* No control characters (a newline allowed where multiline is). */
static bool clean_text(const char *s, bool multiline)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t'))) || *p == 0x7f)
            return false;
    return true;
}

/* A required non-empty text of at most max bytes. */
static ca_err need_text(const json_t *o, const char *k, const char *where, size_t max,
                        bool multiline, ca_errbuf *eb)
{
    const json_t *v = json_object_get(o, k);
    const char *s = json_string_value(v);
    if (!s)
        return ca_fail(eb, CA_ERR_INVALID, "%s.%s: required, a string", where, k);
    size_t n = strlen(s), lead = strspn(s, " \t\n");
    if (lead == n)
        return ca_fail(eb, CA_ERR_INVALID, "%s.%s: must not be empty", where, k);
    if (n > max)
        return ca_fail(eb, CA_ERR_INVALID, "%s.%s: over %zu bytes", where, k, max);
    if (!clean_text(s, multiline))
        return ca_fail(eb, CA_ERR_INVALID, "%s.%s: holds a control character", where, k);
    return CA_OK;
}

/* An https URL (OB 3.0 URI; the page and wallets fetch it, so never http or javascript:). */
static bool https_url(const char *s)
{
    size_t n = strlen(s);
    if (n > CA_TEMPLATE_URL_MAX || strncmp(s, "https://", 8) != 0 || n == 8 ||
        strchr("/?#:@", s[8]))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return false;
    return true;
}

/* data:image/png|jpeg|svg+xml;base64,<padded base64> whose bytes are what the type says. */
static ca_err data_image(const char *s, const char *where, ca_errbuf *eb)
{
    static const char *const types[] = {"png", "jpeg", "svg+xml"};
    size_t n = strlen(s);
    if (n > CA_TEMPLATE_IMAGE_MAX)
        return ca_fail(eb, CA_ERR_INVALID, "%s: the image is over %u KiB as a data: URI; use a "
                       "smaller one or an https URL", where, CA_TEMPLATE_IMAGE_MAX >> 10);
    size_t t = 0;
    const char *b64 = NULL;
    for (; t < 3 && !b64; t++) {
        char head[48];
        snprintf(head, sizeof head, "data:image/%s;base64,", types[t]);
        if (strncmp(s, head, strlen(head)) == 0)
            b64 = s + strlen(head);
    }
    if (!b64)
        return ca_fail(eb, CA_ERR_INVALID, "%s: a data: URI must be data:image/png, "
                       "data:image/jpeg or data:image/svg+xml with ;base64,", where);
    size_t len = strlen(b64), cap = len / 4 * 3 + 3;
    uint8_t *bytes = malloc(cap + 1);
    if (!bytes)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_err err = ca_base64_decode(bytes, &cap, b64, len);
    if (err || cap == 0) {
        free(bytes);
        return ca_fail(eb, CA_ERR_INVALID, "%s: the data: URI's base64 is not valid", where);
    }
    bytes[cap] = 0;
    bool fits = false;
    const char *type = types[t - 1];
    if (t == 1)
        fits = cap >= 8 && memcmp(bytes, "\x89PNG\r\n\x1a\n", 8) == 0;
    else if (t == 2)
        fits = cap >= 3 && memcmp(bytes, "\xff\xd8\xff", 3) == 0;
    else
        fits = memchr(bytes, 0, cap) == NULL && strstr((const char *)bytes, "<svg") != NULL;
    free(bytes);
    if (!fits)
        return ca_fail(eb, CA_ERR_INVALID, "%s: the bytes are not a %s image", where, type);
    return CA_OK;
}

/* An OB 3.0 Image: {"id": https URL | data: URI, "type": "Image", "caption"?}. */
static ca_err image(const json_t *img, const char *where, ca_errbuf *eb)
{
    if (!json_is_object(img))
        return ca_fail(eb, CA_ERR_INVALID, "%s: an Image object {\"id\", \"type\": \"Image\"}",
                       where);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)img, k, v) {
        if (strcmp(k, "id") && strcmp(k, "type") && strcmp(k, "caption"))
            return ca_fail(eb, CA_ERR_INVALID, "%s.%s: not a member of an Image", where, k);
    }
    const char *type = str_of(img, "type");
    if (!type || strcmp(type, "Image"))
        return ca_fail(eb, CA_ERR_INVALID, "%s.type: must be \"Image\"", where);
    const char *caption = str_of(img, "caption");
    if (json_object_get(img, "caption") && (!caption || strlen(caption) > 512 ||
                                            !clean_text(caption, false)))
        return ca_fail(eb, CA_ERR_INVALID, "%s.caption: a line of text up to 512 bytes", where);
    const char *id = str_of(img, "id");
    if (!id)
        return ca_fail(eb, CA_ERR_INVALID, "%s.id: required, the image's URL or data: URI", where);
    if (strncmp(id, "data:", 5) == 0)
        return data_image(id, where, eb);
    if (!https_url(id))
        return ca_fail(eb, CA_ERR_INVALID, "%s.id: an https:// URL or a data:image/... URI",
                       where);
    return CA_OK;
}

/* OB 3.0 AchievementType: the schema's enumeration, or the extension "ext:<name>". */
static bool achievement_type_ok(const char *s)
{
    static const char *const known[] = {
        "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment",
        "AssociateDegree", "Award", "Badge", "BachelorDegree", "Certificate",
        "CertificateOfCompletion", "Certification", "CommunityService", "Competency", "Course",
        "CoCurricular", "Degree", "Diploma", "DoctoralDegree", "Fieldwork",
        "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram", "License",
        "Membership", "ProfessionalDoctorate", "QualityAssuranceCredential", "MasterCertificate",
        "MasterDegree", "MicroCredential", "ResearchDoctorate", "SecondarySchoolDiploma"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(s, known[i]) == 0)
            return true;
    size_t n = strlen(s);
    return n > 4 && n <= 64 && strncmp(s, "ext:", 4) == 0 &&
           strspn(s + 4, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
               n - 4;
}

/* A JSON array of strings, or one string, naming want. */
static bool type_has(const json_t *t, const char *want)
{
    if (json_is_string(t))
        return strcmp(json_string_value(t), want) == 0;
    size_t i;
    const json_t *v;
    json_array_foreach(t, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
            return true;
    }
    return false;
}

/* ---- the template ------------------------------------------------------------------------- */

static ca_err check_achievement(const json_t *ach, ca_errbuf *eb)
{
    const char *w = "credentialSubject.achievement";
    if (!json_is_object(ach))
        return ca_fail(eb, CA_ERR_INVALID, "%s: required, an object", w);
    const char *id = str_of(ach, "id");
    if (!id || !id[0] || strlen(id) > 256 || !clean_text(id, false))
        return ca_fail(eb, CA_ERR_INVALID, "%s.id: required, a URI of up to 256 bytes", w);
    if (!type_has(json_object_get(ach, "type"), "Achievement"))
        return ca_fail(eb, CA_ERR_INVALID, "%s.type: must include \"Achievement\"", w);
    ca_err err;
    /* The caps are what the credential's view keeps (node/certificate.h), so the page and the
     * certificate show the whole text. */
    if ((err = need_text(ach, "name", w, 511, false, eb)) ||
        (err = need_text(ach, "description", w, 2047, true, eb)))
        return err;
    const json_t *crit = json_object_get(ach, "criteria");
    if (!json_is_object(crit))
        return ca_fail(eb, CA_ERR_INVALID, "%s.criteria: required, an object with narrative "
                       "(OB 3.0 Criteria)", w);
    const char *cid = str_of(crit, "id");
    if (json_object_get(crit, "id") && (!cid || !https_url(cid)))
        return ca_fail(eb, CA_ERR_INVALID, "%s.criteria.id: an https:// URL", w);
    if (json_object_get(crit, "narrative") || !cid)
        if ((err = need_text(crit, "narrative", "credentialSubject.achievement.criteria", 1023,
                             true, eb)))
            return err;
    const json_t *at = json_object_get(ach, "achievementType");
    if (at && (!json_is_string(at) || !achievement_type_ok(json_string_value(at))))
        return ca_fail(eb, CA_ERR_INVALID, "%s.achievementType: one of OB 3.0's achievement "
                       "types (e.g. Certificate, Badge, Course) or \"ext:<name>\"", w);
    if (json_object_get(ach, "image"))
        return image(json_object_get(ach, "image"), "credentialSubject.achievement.image", eb);
    return CA_OK;
}

/* The issuer Profile a template may carry (merged under the node's did:web id). */
static ca_err check_issuer(const json_t *is, ca_errbuf *eb)
{
    if (!json_is_object(is))
        return ca_fail(eb, CA_ERR_INVALID, "issuer: an object with name, url, image (the node "
                       "adds its own did:web id)");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)is, k, v) {
        if (strcmp(k, "id") == 0)
            return ca_fail(eb, CA_ERR_INVALID, "issuer.id: always the node's own did:web; "
                           "leave it out");
        if (strcmp(k, "name") && strcmp(k, "url") && strcmp(k, "image") &&
            strcmp(k, "description") && strcmp(k, "email") && strcmp(k, "type"))
            return ca_fail(eb, CA_ERR_INVALID, "issuer.%s: not editable here (name, url, image, "
                           "description, email)", k);
    }
    const json_t *type = json_object_get(is, "type");
    if (type && !type_has(type, "Profile"))
        return ca_fail(eb, CA_ERR_INVALID, "issuer.type: must include \"Profile\"");
    ca_err err;
    if (json_object_get(is, "name") && (err = need_text(is, "name", "issuer", 255, false, eb)))
        return err;
    const char *url = str_of(is, "url");
    if (json_object_get(is, "url") && (!url || !https_url(url)))
        return ca_fail(eb, CA_ERR_INVALID, "issuer.url: an https:// URL");
    if (json_object_get(is, "description") &&
        (err = need_text(is, "description", "issuer", 2047, true, eb)))
        return err;
    const char *email = str_of(is, "email");
    if (json_object_get(is, "email") &&
        (!email || !strchr(email, '@') || strlen(email) > 254 || !clean_text(email, false) ||
         strchr(email, ' ')))
        return ca_fail(eb, CA_ERR_INVALID, "issuer.email: an email address");
    if (json_object_get(is, "image"))
        return image(json_object_get(is, "image"), "issuer.image", eb);
    return CA_OK;
}

ca_err ca_template_check(const json_t *tmpl, ca_errbuf *eb)
{
    if (!json_is_object(tmpl))
        return ca_fail(eb, CA_ERR_INVALID, "template: a JSON object (an unsigned "
                       "OpenBadgeCredential without a recipient)");
    const json_t *ctx = json_object_get(tmpl, "@context");
    const char *c0 = json_string_value(json_array_get(ctx, 0));
    if (!c0 || strcmp(c0, "https://www.w3.org/ns/credentials/v2"))
        return ca_fail(eb, CA_ERR_INVALID, "@context: an array starting with "
                       "\"https://www.w3.org/ns/credentials/v2\" (VC 2.0)");
    const json_t *type = json_object_get(tmpl, "type");
    if (!type_has(type, "VerifiableCredential") ||
        !(type_has(type, "OpenBadgeCredential") || type_has(type, "AchievementCredential")))
        return ca_fail(eb, CA_ERR_INVALID, "type: must include \"VerifiableCredential\" and "
                       "\"OpenBadgeCredential\"");
    static const char *const filled[] = {"id", "proof", "credentialStatus"};
    for (size_t i = 0; i < sizeof filled / sizeof filled[0]; i++)
        if (json_object_get(tmpl, filled[i]))
            return ca_fail(eb, CA_ERR_INVALID, "%s: the node fills it for each credential; "
                           "leave it out of the template", filled[i]);
    if (json_object_get(tmpl, "name")) {
        ca_err err = need_text(tmpl, "name", "template", 511, false, eb);
        if (err)
            return err;
    }
    const json_t *subject = json_object_get(tmpl, "credentialSubject");
    if (!json_is_object(subject))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject: required, an object");
    if (json_object_get(subject, "identifier") || json_object_get(subject, "licenseNumber") ||
        json_object_get(subject, "id"))
        return ca_fail(eb, CA_ERR_INVALID, "credentialSubject: identifier, licenseNumber and id "
                       "are each recipient's, filled at issuance; leave them out");
    ca_err err = check_achievement(json_object_get(subject, "achievement"), eb);
    if (err)
        return err;
    const json_t *opts = json_object_get(tmpl, "credanchor");
    if (opts) {
        const char *k;
        const json_t *v;
        if (!json_is_object(opts))
            return ca_fail(eb, CA_ERR_INVALID, "credanchor: an object of the node's options");
        json_object_foreach((json_t *)opts, k, v) {
            if (strcmp(k, "showRecipientName") || !json_is_boolean(v))
                return ca_fail(eb, CA_ERR_INVALID, "credanchor.%s: the only option is "
                               "showRecipientName (true or false)", k);
        }
    }
    const json_t *issuer = json_object_get(tmpl, "issuer");
    return issuer ? check_issuer(issuer, eb) : CA_OK;
}

/* ---- the layout --------------------------------------------------------------------------- */

static bool color_ok(const json_t *c)
{
    const char *s = json_string_value(c);
    return s && strlen(s) == 7 && s[0] == '#' &&
           strspn(s + 1, "0123456789abcdefABCDEF") == 6;
}

/* A number member within [lo, hi] when present (required: must be present). */
static ca_err number(const json_t *o, const char *k, double lo, double hi, bool required,
                     const char *where, ca_errbuf *eb)
{
    const json_t *v = json_object_get(o, k);
    if (!v && !required)
        return CA_OK;
    double d = json_number_value(v);
    if (!json_is_number(v) || !(d >= lo && d <= hi))
        return ca_fail(eb, CA_ERR_INVALID, "%s.%s: a number from %g to %g", where, k, lo, hi);
    return CA_OK;
}

/* Every member of o is one of the NULL-terminated names. */
static ca_err only(const json_t *o, const char *const *names, const char *where, ca_errbuf *eb)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        size_t i = 0;
        while (names[i] && strcmp(names[i], k))
            i++;
        if (!names[i])
            return ca_fail(eb, CA_ERR_INVALID, "%s.%s: not a member of a certificate layout",
                           where, k);
    }
    return CA_OK;
}

/* A block's text: at most CA_LAYOUT_TEXT_MAX bytes, every {field} one the renderer knows. */
static ca_err block_text(const char *s, const char *where, ca_errbuf *eb)
{
    if (strlen(s) > CA_LAYOUT_TEXT_MAX)
        return ca_fail(eb, CA_ERR_INVALID, "%s.text: over %d bytes", where, CA_LAYOUT_TEXT_MAX);
    if (!clean_text(s, true))
        return ca_fail(eb, CA_ERR_INVALID, "%s.text: holds a control character", where);
    for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        if (!close)
            break;
        const char *inner = p + 1;
        size_t n = (size_t)(close - inner);
        if (n && n < 40 && strspn(inner, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == n &&
            !ca_certificate_field_known(inner, n))
            return ca_fail(eb, CA_ERR_INVALID, "%s.text: {%.*s} is no certificate field (issuerName, "
                           "achievementName, achievementType, description, criteria, recipient, "
                           "issueNumber, issuedOn, completedOn, validUntil, pageUrl)", where,
                           (int)n, inner);
    }
    return CA_OK;
}

static ca_err check_block(const json_t *b, size_t i, ca_errbuf *eb)
{
    static const char *const names[] = {"text", "x", "y", "width", "size", "bold", "align",
                                        "color", NULL};
    char where[32];
    snprintf(where, sizeof where, "blocks[%zu]", i);
    if (!json_is_object(b))
        return ca_fail(eb, CA_ERR_INVALID, "%s: an object {text, x, y, ...}", where);
    ca_err err = only(b, names, where, eb);
    if (err)
        return err;
    const char *text = str_of(b, "text");
    if (!text)
        return ca_fail(eb, CA_ERR_INVALID, "%s.text: required, a string", where);
    if ((err = block_text(text, where, eb)) || (err = number(b, "x", -5000, 5000, true, where, eb)) ||
        (err = number(b, "y", -5000, 5000, true, where, eb)) ||
        (err = number(b, "width", 1, 5000, false, where, eb)) ||
        (err = number(b, "size", 1, 300, false, where, eb)))
        return err;
    if (json_object_get(b, "bold") && !json_is_boolean(json_object_get(b, "bold")))
        return ca_fail(eb, CA_ERR_INVALID, "%s.bold: true or false", where);
    const char *align = str_of(b, "align");
    if (json_object_get(b, "align") &&
        (!align || (strcmp(align, "left") && strcmp(align, "center") && strcmp(align, "right"))))
        return ca_fail(eb, CA_ERR_INVALID, "%s.align: left, center or right", where);
    if (json_object_get(b, "color") && !color_ok(json_object_get(b, "color")))
        return ca_fail(eb, CA_ERR_INVALID, "%s.color: a colour #rrggbb", where);
    return CA_OK;
}

ca_err ca_layout_check(const json_t *layout, ca_errbuf *eb)
{
    static const char *const names[] = {"size", "background", "border", "font", "blocks", "qr",
                                        NULL};
    if (!json_is_object(layout))
        return ca_fail(eb, CA_ERR_INVALID, "certificate: a layout object {size, blocks, ...}");
    ca_err err = only(layout, names, "certificate", eb);
    if (err)
        return err;
    const json_t *size = json_object_get(layout, "size");
    double w = json_number_value(json_array_get(size, 0)), h = json_number_value(json_array_get(size, 1));
    if (json_array_size(size) != 2 || !json_is_number(json_array_get(size, 0)) ||
        !json_is_number(json_array_get(size, 1)) || !(w >= 72 && w <= 5000 && h >= 72 && h <= 5000))
        return ca_fail(eb, CA_ERR_INVALID, "certificate.size: [width, height] in points, each "
                       "72..5000 (A4 landscape: [842, 595])");
    if (json_object_get(layout, "background") && !color_ok(json_object_get(layout, "background")))
        return ca_fail(eb, CA_ERR_INVALID, "certificate.background: a colour #rrggbb");
    const json_t *border = json_object_get(layout, "border");
    if (border) {
        static const char *const bn[] = {"color", "width", "inset", NULL};
        if (!json_is_object(border))
            return ca_fail(eb, CA_ERR_INVALID, "certificate.border: an object {color, width, "
                           "inset}");
        if ((err = only(border, bn, "certificate.border", eb)) ||
            (err = number(border, "width", 0, 200, false, "certificate.border", eb)) ||
            (err = number(border, "inset", 0, 1000, false, "certificate.border", eb)))
            return err;
        if (json_object_get(border, "color") && !color_ok(json_object_get(border, "color")))
            return ca_fail(eb, CA_ERR_INVALID, "certificate.border.color: a colour #rrggbb");
    }
    const char *font = str_of(layout, "font");
    if (json_object_get(layout, "font") &&
        (!font || !font[0] || strlen(font) > 64 ||
         strspn(font, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,-") !=
             strlen(font)))
        return ca_fail(eb, CA_ERR_INVALID, "certificate.font: a font family name (letters, "
                       "digits, spaces; e.g. NanumSquare)");
    const json_t *blocks = json_object_get(layout, "blocks");
    if (!json_is_array(blocks) || json_array_size(blocks) > 32)
        return ca_fail(eb, CA_ERR_INVALID, "certificate.blocks: an array of at most 32 blocks");
    size_t i;
    const json_t *b;
    json_array_foreach(blocks, i, b) {
        if ((err = check_block(b, i, eb)))
            return err;
    }
    const json_t *qr = json_object_get(layout, "qr");
    if (qr) {
        static const char *const qn[] = {"x", "y", "size", NULL};
        if (!json_is_object(qr))
            return ca_fail(eb, CA_ERR_INVALID, "certificate.qr: an object {x, y, size}");
        if ((err = only(qr, qn, "certificate.qr", eb)) ||
            (err = number(qr, "x", -5000, 5000, true, "certificate.qr", eb)) ||
            (err = number(qr, "y", -5000, 5000, true, "certificate.qr", eb)) ||
            (err = number(qr, "size", 20, 2000, false, "certificate.qr", eb)))
            return err;
    }
    return CA_OK;
}

/* ---- the sample ---------------------------------------------------------------------------- */

static void copy(char *out, size_t cap, const char *s)
{
    snprintf(out, cap, "%s", s ? s : "");
}

void ca_template_sample_view(ca_credential_view *v, const json_t *tmpl, const char *issuer_name,
                             const char *public_url, int64_t now)
{
    memset(v, 0, sizeof *v);
    const json_t *ach = json_object_get(json_object_get(tmpl, "credentialSubject"), "achievement");
    const char *given = str_of(json_object_get(tmpl, "issuer"), "name");
    copy(v->issuer_name, sizeof v->issuer_name, given && given[0] ? given : issuer_name);
    copy(v->achievement_name, sizeof v->achievement_name, str_of(ach, "name"));
    copy(v->achievement_type, sizeof v->achievement_type, str_of(ach, "achievementType"));
    copy(v->description, sizeof v->description, str_of(ach, "description"));
    copy(v->criteria, sizeof v->criteria, str_of(json_object_get(ach, "criteria"), "narrative"));
    /* A sample person, in both scripts the certificate must draw (issue #15: Hangul). */
    copy(v->recipient, sizeof v->recipient, "Hong Gildong 홍길동");
    char when[CA_DATETIME_MAX], month[8];
    ca_datetime_format(when, now);
    snprintf(month, sizeof month, "%.4s%.2s", when, when + 5);
    snprintf(v->issue_number, sizeof v->issue_number, "SAMPLE-%s-0001", month);
    snprintf(v->issued_on, sizeof v->issued_on, "%.10s", when);
    memcpy(v->completed_on, v->issued_on, sizeof v->issued_on);
    snprintf(v->page_url, sizeof v->page_url, "%s/c/00000000-0000-4000-8000-000000000000",
             public_url);
    copy(v->achievement_key, sizeof v->achievement_key, "sample");
}
