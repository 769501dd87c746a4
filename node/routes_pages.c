/*
 * The credential's public page and its assets (issue #15, SPEC §8; node/pages.h).
 *
 * Safety (issue #15 "Safety"): the page is a shell whose scripts (same origin, SRI-pinned
 * through the import map's "integrity" table and the module script's own integrity
 * attribute) fetch the credential and every piece of evidence themselves and decide in the
 * browser. Its Content-Security-Policy allows no inline script but the import map, by hash;
 * connect-src is the node and page.rpc_urls; frame-ancestors 'none'. Behind https it adds
 * HSTS. Everything the HTML shows before the scripts run comes from web/page/strings.json
 * and the URL the visitor opened, never from the credential, so a forged credential cannot
 * inject markup, and nothing the server says can stand in for the browser's checks.
 *
 * The people's sign-in pages (issue #16: /admin/signin, /admin/enroll, the account page at
 * ADMIN_ACCOUNT_PATH) and the admin console (issue #17: the credentials list at
 * ADMIN_HOME_PATH, one credential, the roster upload, the dashboard, the audit log, the
 * webhooks, people and tokens) are shells of the same kind, with their strings in
 * web/admin/strings.json, a CSP whose connect-src is the node alone, and no-store: their
 * scripts call /v1/ with the session cookie, and the HTML holds nothing of a person or a
 * credential.
 */
#include "node/pages.h"

#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "node/http.h"
#include "credanchor/credential.h"
#include "node/issuer.h"
#include "node/web_assets.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REF_MAX 256
#define SRI_MAX 72         /* "sha384-" + 64 base64 characters + NUL */
#define ACCEPT_LANG_SCAN 512 /* bytes of Accept-Language looked at; the rest is ignored */
/* The console's home, the credentials list (issue #17); "/admin" redirects to it. */
#define ADMIN_HOME_PATH "/admin/"
/* The signed-in person's account page (issue #16 had it at "/admin/"; issue #17 moved it). */
#define ADMIN_ACCOUNT_PATH "/admin/account"

typedef struct asset_meta {
    char sri[SRI_MAX];
    char etag[SRI_MAX];             /* the SRI digest (base64), quoted */
    const char *ctype;
} asset_meta;

typedef struct pages {
    const ca_config *cfg;
    asset_meta *meta;                 /* parallel to ca_web_assets */
    char root[CA_CONFIG_STR_MAX];     /* public_url's path: "" or "/base" */
    char *importmap;                  /* the import map's JSON text */
    char csp[CA_HTTP_HEADER_VALUE_MAX];
    char admin_csp[CA_HTTP_HEADER_VALUE_MAX]; /* the sign-in pages': connect-src 'self' */
    bool https;
    json_t *strings;                  /* web/page/strings.json: {"en":{..},"ko":{..}} */
    json_t *admin_strings;            /* web/admin/strings.json, the same shape */
} pages;

static const char *const langs[] = {"en", "ko"}; /* the first is the default */

/* ---- assets -------------------------------------------------------------------------------- */

static const ca_web_asset *asset_find(const char *path, size_t *idx)
{
    size_t lo = 0, hi = ca_web_assets_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, ca_web_assets[mid].path);
        if (c == 0) {
            if (idx)
                *idx = mid;
            return &ca_web_assets[mid];
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".mjs", "text/javascript; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},        {".html", "text/html; charset=utf-8"},
        {".json", "application/json"},              {".svg", "image/svg+xml"},
        {".png", "image/png"},                      {".woff2", "font/woff2"},
    };
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && strcmp(path + n - e, types[i].ext) == 0)
            return types[i].type;
    }
    return "text/plain; charset=utf-8"; /* LICENSE, MANIFEST */
}

/* "sha384-<base64>" of the bytes (W3C Subresource Integrity §3.1). */
static ca_err sri_of(char out[SRI_MAX], const void *data, size_t len, ca_errbuf *eb)
{
    unsigned char md[48];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha384(), NULL) || mdlen != sizeof md)
        return ca_fail(eb, CA_ERR_CRYPTO, "SHA-384 failed");
    memcpy(out, "sha384-", 7);
    ca_base64_encode(out + 7, md, sizeof md);
    return CA_OK;
}

static bool is_script(const char *path)
{
    size_t n = strlen(path);
    return (n > 4 && strcmp(path + n - 4, ".mjs") == 0) ||
           (n > 3 && strcmp(path + n - 3, ".js") == 0);
}

/* ---- HTML templates ------------------------------------------------------------------------ */

typedef struct buf {
    char *p;
    size_t len, cap;
    bool failed;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void put_escaped(buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': put(b, "&amp;", 5); break;
        case '<': put(b, "&lt;", 4); break;
        case '>': put(b, "&gt;", 4); break;
        case '"': put(b, "&quot;", 6); break;
        case '\'': put(b, "&#39;", 5); break;
        default: put(b, p, 1);
        }
    }
}

/* JSON inside <script type="application/json">: '<' becomes \u003c so no "</script" or
 * "<!--" can appear (HTML §4.12.1.3); '<' only occurs inside JSON strings. */
static void put_json_data(buf *b, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    if (!s) {
        b->failed = true;
        return;
    }
    for (char *p = s; *p; p++)
        if (*p == '<')
            put(b, "\\u003c", 6);
        else
            put(b, p, 1);
    free(s);
}

typedef struct page_vars {
    const pages *pg;
    const char *lang;
    const json_t *strings; /* strings[lang] */
    const json_t *data;    /* the page's JSON data block, or NULL */
} page_vars;

static bool render_into(buf *b, const char *path, const page_vars *v, int depth);

/* One {{name}}: "lang", "root", "importmap", "data", "sri:<asset>", "t:<string key>" or
 * "include:<template>" (a part several pages share, such as the admin pages' <head> and
 * header, rendered with the same variables; parts do not include parts). */
static void put_var(buf *b, const page_vars *v, const char *name, size_t n, int depth)
{
    char key[128];
    if (n >= sizeof key) {
        b->failed = true;
        return;
    }
    memcpy(key, name, n);
    key[n] = 0;
    size_t idx;
    if (strcmp(key, "lang") == 0)
        put_escaped(b, v->lang);
    else if (strcmp(key, "root") == 0)
        put_escaped(b, v->pg->root);
    else if (strcmp(key, "importmap") == 0)
        put(b, v->pg->importmap, strlen(v->pg->importmap));
    else if (strcmp(key, "data") == 0 && v->data)
        put_json_data(b, v->data);
    else if (strncmp(key, "sri:", 4) == 0 && asset_find(key + 4, &idx))
        put(b, v->pg->meta[idx].sri, strlen(v->pg->meta[idx].sri));
    else if (strncmp(key, "t:", 2) == 0 && json_string_value(json_object_get(v->strings, key + 2)))
        put_escaped(b, json_string_value(json_object_get(v->strings, key + 2)));
    else if (strncmp(key, "include:", 8) == 0 && depth == 0)
        b->failed |= !render_into(b, key + 8, v, depth + 1);
    else
        b->failed = true; /* a template names something that does not exist: a build bug */
}

/* Appends the template web/<path> with every {{name}} replaced; false when it is missing or
 * broken. */
static bool render_into(buf *b, const char *path, const page_vars *v, int depth)
{
    const ca_web_asset *t = asset_find(path, NULL);
    if (!t)
        return false;
    const char *p = (const char *)t->data, *end = p + t->len;
    while (p < end && !b->failed) {
        const char *open = strstr(p, "{{");
        if (!open || open >= end) {
            put(b, p, (size_t)(end - p));
            break;
        }
        const char *close = strstr(open + 2, "}}");
        if (!close || close >= end)
            return false;
        put(b, p, (size_t)(open - p));
        put_var(b, v, open + 2, (size_t)(close - open - 2), depth);
        p = close + 2;
    }
    return !b->failed;
}

/* The template web/<path> rendered; NULL when out of memory or when the template is broken
 * (the tests render every template, so that cannot ship). */
static char *render(const char *path, const page_vars *v, size_t *len)
{
    buf b = {0};
    if (!render_into(&b, path, v, 0))
        b.failed = true;
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

/* ---- language -------------------------------------------------------------------------------- */

/* The best of langs for an Accept-Language value (RFC 9110 §12.5.4): the highest q among
 * ranges whose primary tag is one we have; "*" counts for the default. Only the first
 * ACCEPT_LANG_SCAN bytes are read, byte by byte, so a huge or binary header costs nothing
 * and matches nothing odd. */
const char *ca_page_lang_from_header(const char *h)
{
    const char *best = langs[0];
    int best_q = -1;
    if (!h)
        return best;
    size_t n = strnlen(h, ACCEPT_LANG_SCAN);
    size_t i = 0;
    while (i < n) {
        while (i < n && (h[i] == ' ' || h[i] == ','))
            i++;
        size_t start = i;
        while (i < n && h[i] != ',')
            i++;
        const char *item = h + start;
        size_t len = i - start;
        size_t tag = strcspn(item, "-;, ");
        if (tag > len)
            tag = len;
        int q = 1000;
        const char *qp = memmem(item, len, ";q=", 3);
        if (qp) {
            q = 0;
            const char *d = qp + 3;
            int scale = 1000;
            if (d < item + len && *d == '1')
                q = 1000;
            else if (d + 1 < item + len && d[0] == '0' && d[1] == '.')
                for (d += 2; d < item + len && *d >= '0' && *d <= '9' && scale > 1; d++) {
                    scale /= 10;
                    q += (*d - '0') * scale;
                }
        }
        const char *match = NULL;
        if (tag == 1 && item[0] == '*')
            match = langs[0];
        for (size_t l = 0; l < sizeof langs / sizeof langs[0]; l++)
            if (tag == strlen(langs[l]) && strncasecmp(item, langs[l], tag) == 0)
                match = langs[l];
        if (match && q > 0 && q > best_q) {
            best = match;
            best_q = q;
        }
    }
    return best;
}

/* ?lang= when it names a language we have, else Accept-Language. */
static const char *page_lang(ca_http_request *req)
{
    char q[8];
    size_t len;
    if (ca_http_query(req, "lang", q, sizeof q, &len) == CA_OK)
        for (size_t l = 0; l < sizeof langs / sizeof langs[0]; l++)
            if (strcmp(q, langs[l]) == 0)
                return langs[l];
    return ca_page_lang_from_header(ca_http_header(req, "Accept-Language"));
}

/* ---- handlers ------------------------------------------------------------------------------ */

/* The headers every HTML page gets besides the server's own (node/http_response.c), with the
 * page's Content-Security-Policy. */
static void headers_with_csp(const pages *pg, ca_http_response *resp, const char *lang,
                             const char *csp)
{
    ca_http_response_add_header(resp, "Content-Security-Policy", csp);
    if (pg->https)
        ca_http_response_add_header(resp, "Strict-Transport-Security",
                                    "max-age=63072000; includeSubDomains");
    ca_http_response_add_header(resp, "Vary", "Accept, Accept-Language");
    ca_http_response_add_header(resp, "Content-Language", lang);
}

/* Renders template tmpl with the strings of lang and data (a reference it steals; NULL for
 * a template that takes none), and answers it with status and the page headers under csp. */
static void reply_page(const pages *pg, ca_http_response *resp, int status, const char *lang,
                       const json_t *strings, const char *tmpl, json_t *data, const char *csp)
{
    page_vars v = {pg, lang, strings, data};
    size_t len;
    char *html = render(tmpl, &v, &len);
    json_decref(data);
    if (!html) {
        ca_http_problem(resp, 500, "the page template failed");
        return;
    }
    ca_http_reply_owned(resp, status, "text/html; charset=utf-8", html, len);
    headers_with_csp(pg, resp, lang, csp);
}

static bool wants_html(ca_http_request *req)
{
    const char *a = ca_http_header(req, "Accept");
    return a && strstr(a, "text/html");
}

/* An unknown credential: an HTML page for a browser, problem+json for an API client. */
static void not_found(ca_http_request *req, ca_http_response *resp, const char *lang)
{
    pages *pg = req->ctx;
    if (!wants_html(req)) {
        ca_http_problem(resp, 404, "no credential has this id");
        return;
    }
    resp->cache_control = "no-store";
    reply_page(pg, resp, 404, lang, json_object_get(pg->strings, lang), "page/not_found.html",
               NULL, pg->csp);
}

/* The credential id a page path names: a bare UUID stands for urn:uuid:<uuid>. */
static bool page_ref(const char *raw, char ref[REF_MAX])
{
    size_t len;
    char dec[REF_MAX];
    if (ca_http_percent_decode(dec, sizeof dec, &len, raw, strlen(raw)))
        return false;
    bool uuid = len == 36;
    for (size_t i = 0; uuid && i < 36; i++)
        uuid = (i == 8 || i == 13 || i == 18 || i == 23) ? dec[i] == '-'
                                                          : ca_hex_digit_value(dec[i]) >= 0;
    int n = snprintf(ref, REF_MAX, "%s%s", uuid ? "urn:uuid:" : "", dec);
    return n > 0 && n < REF_MAX;
}

static void h_page(ca_http_request *req, ca_http_response *resp)
{
    pages *pg = req->ctx;
    const char *lang = page_lang(req);
    static const char *const allowed[] = {"lang", NULL};
    ca_errbuf eb = {{0}};
    char ref[REF_MAX];
    if (ca_http_query_only(req, allowed, &eb)) {
        ca_http_problem(resp, 400, "%s", eb.msg);
        return;
    }
    /* By id only: issue numbers are sequential, and the page is public (SPEC §5). */
    uint8_t uuid[16];
    char *doc = NULL;
    size_t doc_len = 0;
    if (!page_ref(req->params[0], ref) || ca_issue_number_syntax_ok(ref) ||
        ca_credential_find(req->node->store, ref, uuid, NULL, &doc, &doc_len, &eb) != CA_OK) {
        not_found(req, resp, lang);
        return;
    }
    free(doc); /* the page fetches it itself, from GET /v1/credentials/{id} */
    json_t *urls = json_array();
    char list[CA_CONFIG_STR_MAX];
    snprintf(list, sizeof list, "%s", pg->cfg->page_rpc_urls);
    char *save = NULL;
    for (char *u = strtok_r(list, ", ", &save); u; u = strtok_r(NULL, ", ", &save))
        json_array_append_new(urls, json_string(u));
    char url[CA_PAGE_URL_MAX];
    ca_page_url(url, sizeof url, pg->cfg->node_public_url, ref);
    json_t *data = json_pack(
        "{s:o, s:{s:s, s:s, s:s, s:o, s:I, s:I, s:s, s:s}}", "strings",
        json_deep_copy(json_object_get(pg->strings, lang)), "config", "id", ref, "base",
        pg->cfg->node_public_url, "page", url, "rpcUrls", urls, "confirmations",
        (json_int_t)pg->cfg->anchor_confirmations, "chainId",
        (json_int_t)pg->cfg->anchor_chain_id, "linkedinOrganizationId",
        pg->cfg->page_linkedin_organization_id, "lang", lang);
    if (!data) {
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    reply_page(pg, resp, 200, lang, json_object_get(pg->strings, lang), "page/credential.html",
               data, pg->csp);
}

/* GET /c/{ref}/qr.svg: the page's URL as a QR code (level M, 4-module quiet zone), drawn as
 * one SVG path, for the page's share section (same origin, so the CSP's img-src allows it). */
static void h_page_qr(ca_http_request *req, ca_http_response *resp)
{
    pages *pg = req->ctx;
    char ref[REF_MAX], url[CA_PAGE_URL_MAX];
    uint8_t uuid[16];
    char *doc = NULL;
    size_t doc_len = 0;
    ca_errbuf eb = {{0}};
    if (!page_ref(req->params[0], ref) || ca_issue_number_syntax_ok(ref) ||
        ca_credential_find(req->node->store, ref, uuid, NULL, &doc, &doc_len, &eb) != CA_OK) {
        ca_http_problem(resp, 404, "no credential has this id");
        return;
    }
    free(doc);
    ca_page_url(url, sizeof url, pg->cfg->node_public_url, ref);
    QRcode *qr = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) {
        ca_http_problem(resp, 500, "the QR code could not be made");
        return;
    }
    buf b = {0};
    char head[256];
    int w = qr->width + 8;
    snprintf(head, sizeof head,
             "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
             "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
             "<path fill=\"#000\" d=\"", w, w, w, w);
    put(&b, head, strlen(head));
    for (int y = 0; y < qr->width; y++)
        for (int x = 0; x < qr->width; x++)
            if (qr->data[y * qr->width + x] & 1) {
                char m[40];
                int n = snprintf(m, sizeof m, "M%d %dh1v1h-1z", x + 4, y + 4);
                put(&b, m, (size_t)n);
            }
    put(&b, "\"/></svg>\n", 9);
    QRcode_free(qr);
    if (b.failed) {
        free(b.p);
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    ca_http_reply_owned(resp, 200, "image/svg+xml", b.p, b.len);
}

/* GET /lookup: the form that finds a credential's page by issue number and email. */
static void h_lookup_page(ca_http_request *req, ca_http_response *resp)
{
    pages *pg = req->ctx;
    const char *lang = page_lang(req);
    static const char *const allowed[] = {"lang", NULL};
    ca_errbuf eb = {{0}};
    if (ca_http_query_only(req, allowed, &eb)) {
        ca_http_problem(resp, 400, "%s", eb.msg);
        return;
    }
    json_t *data = json_pack("{s:o, s:{s:s, s:s}}", "strings",
                             json_deep_copy(json_object_get(pg->strings, lang)), "config", "base",
                             pg->cfg->node_public_url, "lang", lang);
    if (!data) {
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    reply_page(pg, resp, 200, lang, json_object_get(pg->strings, lang), "page/lookup.html", data,
               pg->csp);
}

/* GET /admin/signin, /admin/enroll, the account page (issue #16) and the console's pages
 * (issue #17): the template the route names, in the visitor's language, with the strings and
 * the paths its script needs. The enrollment secret travels in the URL's fragment, which
 * never reaches the server; so do the credentials list's filters. The one credential's page
 * takes ?id= (its script reads it; the HTML does not show it). */
static void h_admin_page(ca_http_request *req, ca_http_response *resp)
{
    static const char *const lang_only[] = {"lang", NULL};
    static const char *const with_id[] = {"lang", "id", NULL};
    static const struct {
        const char *route, *page, *tmpl;
        const char *const *allowed; /* the query parameters the page takes */
    } admin_pages[] = {
        {ADMIN_HOME_PATH, "admin-credentials", "admin/credentials.html", lang_only},
        {ADMIN_ACCOUNT_PATH, "admin-account", "admin/account.html", lang_only},
        {"/admin/credential", "admin-credential", "admin/credential.html", with_id},
        {"/admin/dashboard", "admin-dashboard", "admin/dashboard.html", lang_only},
        {"/admin/audit", "admin-audit", "admin/audit.html", lang_only},
        {"/admin/people", "admin-people", "admin/people.html", lang_only},
        {"/admin/templates", "admin-templates", "admin/templates.html", lang_only},
        {"/admin/webhooks", "admin-webhooks", "admin/webhooks.html", lang_only},
        {"/admin/upload", "admin-upload", "admin/upload.html", lang_only},
        {"/admin/signin", "admin-signin", "admin/signin.html", lang_only},
        {"/admin/enroll", "admin-enroll", "admin/enroll.html", lang_only},
    };
    pages *pg = req->ctx;
    const char *lang = page_lang(req);
    size_t i = 0;
    while (i < sizeof admin_pages / sizeof admin_pages[0] && strcmp(req->route, admin_pages[i].route))
        i++;
    CA_ASSERT(i < sizeof admin_pages / sizeof admin_pages[0]);
    ca_errbuf eb = {{0}};
    if (ca_http_query_only(req, admin_pages[i].allowed, &eb)) {
        ca_http_problem(resp, 400, "%s", eb.msg);
        return;
    }
    json_t *data = json_pack("{s:o, s:{s:s, s:s, s:s, s:s, s:s}}", "strings",
                             json_deep_copy(json_object_get(pg->admin_strings, lang)), "config",
                             "root", pg->root, "lang", lang, "page", admin_pages[i].page,
                             "home", ADMIN_HOME_PATH, "account", ADMIN_ACCOUNT_PATH);
    if (!data) {
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    /* no-store: the sign-in pages are the door to a session; no cache, shared or the
     * browser's back-forward one, should keep them. */
    resp->cache_control = "no-store";
    reply_page(pg, resp, 200, lang, json_object_get(pg->admin_strings, lang),
               admin_pages[i].tmpl, data, pg->admin_csp);
}

/* GET /admin: 308 to the console's home "/admin/" under the public path, as any web server
 * answers a directory's URL without its slash; a ?lang= the pages know is kept (any other
 * value is dropped, never copied into Location). */
static void h_admin_redirect(ca_http_request *req, ca_http_response *resp)
{
    const pages *pg = req->ctx;
    static const char *const allowed[] = {"lang", NULL};
    ca_errbuf eb = {{0}};
    if (ca_http_query_only(req, allowed, &eb)) {
        ca_http_problem(resp, 400, "%s", eb.msg);
        return;
    }
    bool asked = ca_http_query_raw(req, "lang") != NULL;
    const char *lang = page_lang(req);
    char where[sizeof pg->root + 32];
    snprintf(where, sizeof where, "%s%s%s%s", pg->root, ADMIN_HOME_PATH,
             asked ? "?lang=" : "", asked ? lang : "");
    if (ca_http_response_add_header(resp, "Location", where) != CA_OK) {
        ca_http_problem(resp, 500, "node.public_url's path is too long to redirect to");
        return;
    }
    ca_http_reply_text(resp, 308, "text/plain; charset=utf-8", where, strlen(where));
}

/* GET /assets/<path> with up to five segments (web/vendor/<lib>/esm/abstract/<file>). */
static void h_asset(ca_http_request *req, ca_http_response *resp)
{
    pages *pg = req->ctx;
    char path[256];
    size_t at = 0;
    for (size_t i = 0; i < req->nparams; i++) {
        const char *s = req->params[i];
        /* Asset names are plain: no escapes, no dot segments (nothing outside web/). */
        if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                strlen(s) || s[0] == '.') {
            ca_http_problem(resp, 404, "no such asset");
            return;
        }
        int n = snprintf(path + at, sizeof path - at, "%s%s", i ? "/" : "", s);
        if (n < 0 || (size_t)n >= sizeof path - at) {
            ca_http_problem(resp, 404, "no such asset");
            return;
        }
        at += (size_t)n;
    }
    size_t idx;
    const ca_web_asset *a = asset_find(path, &idx);
    if (!a) {
        ca_http_problem(resp, 404, "no such asset");
        return;
    }
    snprintf(resp->etag, sizeof resp->etag, "%s", pg->meta[idx].etag);
    const char *inm = ca_http_header(req, "If-None-Match");
    if (inm && strstr(inm, pg->meta[idx].etag)) {
        resp->status = 304;
        resp->content_type = pg->meta[idx].ctype;
        return;
    }
    ca_http_reply_text(resp, 200, pg->meta[idx].ctype, (const char *)a->data, a->len);
}

/* ---- set-up -------------------------------------------------------------------------------- */

void ca_page_url(char *out, size_t cap, const char *public_url, const char *id)
{
    static const char hex[] = "0123456789ABCDEF";
    int n = snprintf(out, cap, "%s/c/", public_url);
    if (n < 0 || (size_t)n >= cap)
        return;
    size_t at = (size_t)n;
    if (strncmp(id, "urn:uuid:", 9) == 0)
        id += 9;
    for (const unsigned char *p = (const unsigned char *)id; *p && at + 4 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            out[at++] = (char)*p;
        } else {
            out[at++] = '%';
            out[at++] = hex[*p >> 4];
            out[at++] = hex[*p & 15];
        }
    }
    out[at] = 0;
}

/* The import map (HTML §8.1.5.3) pins every module's SRI hash: a static import cannot
 * carry an integrity attribute, so this is how the page's own modules and the vendored
 * libraries get SRI. */
static ca_err build_importmap(pages *pg, ca_errbuf *eb)
{
    json_t *integrity = json_object();
    for (size_t i = 0; i < ca_web_assets_count; i++) {
        if (!is_script(ca_web_assets[i].path))
            continue;
        char url[CA_CONFIG_STR_MAX + 300];
        snprintf(url, sizeof url, "%s/assets/%s", pg->root, ca_web_assets[i].path);
        json_object_set_new(integrity, url, json_string(pg->meta[i].sri));
    }
    json_t *map = json_pack("{s:{}, s:o}", "imports", "integrity", integrity);
    pg->importmap = map ? json_dumps(map, JSON_COMPACT | JSON_ESCAPE_SLASH) : NULL;
    json_decref(map);
    if (!pg->importmap)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory building the page's import map");
    return CA_OK;
}

/* default-src 'self' with the import map allowed by its hash (CSP3 §8.3 hash-source). */
static ca_err build_csp(pages *pg, ca_errbuf *eb)
{
    ca_hash h;
    ca_sha256(&h, pg->importmap, strlen(pg->importmap));
    char b64[48];
    ca_base64_encode(b64, h.b, sizeof h.b);
    char rpc[CA_CONFIG_STR_MAX];
    size_t at = 0;
    char list[CA_CONFIG_STR_MAX];
    snprintf(list, sizeof list, "%s", pg->cfg->page_rpc_urls);
    char *save = NULL;
    rpc[0] = 0;
    for (char *u = strtok_r(list, ", ", &save); u; u = strtok_r(NULL, ", ", &save)) {
        int n = snprintf(rpc + at, sizeof rpc - at, " %s", u);
        if (n < 0 || (size_t)n >= sizeof rpc - at)
            return ca_fail(eb, CA_ERR_CONFIG, "config: page.rpc_urls: too long for a header");
        at += (size_t)n;
    }
    int n = snprintf(pg->csp, sizeof pg->csp,
                     "default-src 'self'; script-src 'self' 'sha256-%s'; style-src 'self'; "
                     "img-src 'self' data:; connect-src 'self'%s; object-src 'none'; "
                     "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
                     b64, rpc);
    if (n < 0 || (size_t)n >= sizeof pg->csp)
        return ca_fail(eb, CA_ERR_CONFIG, "config: page.rpc_urls: too long for a header");
    /* The sign-in and console pages talk to the node only; their forms are never submitted
     * by the browser itself (a recovery code must not end up in a URL when a script failed). */
    snprintf(pg->admin_csp, sizeof pg->admin_csp,
             "default-src 'self'; script-src 'self' 'sha256-%s'; style-src 'self'; "
             "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
             "form-action 'none'; frame-ancestors 'none'",
             b64);
    return CA_OK;
}

static ca_err load_assets(pages *pg, ca_errbuf *eb)
{
    pg->meta = calloc(ca_web_assets_count ? ca_web_assets_count : 1, sizeof *pg->meta);
    if (!pg->meta)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ca_web_assets_count; i++) {
        asset_meta *m = &pg->meta[i];
        ca_err err = sri_of(m->sri, ca_web_assets[i].data, ca_web_assets[i].len, eb);
        if (err)
            return err;
        snprintf(m->etag, sizeof m->etag, "\"%s\"", m->sri + 7);
        m->ctype = content_type(ca_web_assets[i].path);
    }
    const ca_web_asset *s = asset_find("page/strings.json", NULL);
    pg->strings = s ? json_loadb((const char *)s->data, s->len, JSON_REJECT_DUPLICATES, NULL)
                    : NULL;
    for (size_t l = 0; pg->strings && l < sizeof langs / sizeof langs[0]; l++)
        if (!json_is_object(json_object_get(pg->strings, langs[l])))
            return ca_fail(eb, CA_ERR_CONFIG, "web/page/strings.json has no \"%s\"", langs[l]);
    if (!pg->strings)
        return ca_fail(eb, CA_ERR_CONFIG, "web/page/strings.json is missing or not JSON");
    s = asset_find("admin/strings.json", NULL);
    pg->admin_strings =
        s ? json_loadb((const char *)s->data, s->len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!pg->admin_strings)
        return ca_fail(eb, CA_ERR_CONFIG, "web/admin/strings.json is missing or not JSON");
    for (size_t l = 0; l < sizeof langs / sizeof langs[0]; l++)
        if (!json_is_object(json_object_get(pg->admin_strings, langs[l])))
            return ca_fail(eb, CA_ERR_CONFIG, "web/admin/strings.json has no \"%s\"", langs[l]);
    return CA_OK;
}

static const ca_http_route page_routes[] = {
    {"GET", "/c/{ref}", 0, NULL, h_page, NULL},
    {"GET", "/c/{ref}/qr.svg", 0, NULL, h_page_qr, NULL},
    {"GET", "/lookup", 0, NULL, h_lookup_page, NULL},
    {"GET", ADMIN_HOME_PATH, 0, NULL, h_admin_page, NULL},
    {"GET", "/admin", 0, NULL, h_admin_redirect, NULL},
    {"GET", ADMIN_ACCOUNT_PATH, 0, NULL, h_admin_page, NULL},
    {"GET", "/admin/credential", 0, NULL, h_admin_page, NULL},
    {"GET", "/admin/dashboard", 0, NULL, h_admin_page, NULL},
    {"GET", "/admin/audit", 0, NULL, h_admin_page, NULL},
    {"GET", "/admin/people", 0, NULL, h_admin_page, NULL},
    {"GET", "/admin/templates", 0, NULL, h_admin_page, NULL},
    {"GET", "/admin/webhooks", 0, NULL, h_admin_page, NULL},
    {"GET", "/admin/upload", 0, NULL, h_admin_page, NULL},
    {"GET", "/admin/signin", 0, NULL, h_admin_page, NULL},
    {"GET", "/admin/enroll", 0, NULL, h_admin_page, NULL},
    {"GET", "/assets/{a}", 0, NULL, h_asset, NULL},
    {"GET", "/assets/{a}/{b}", 0, NULL, h_asset, NULL},
    {"GET", "/assets/{a}/{b}/{c}", 0, NULL, h_asset, NULL},
    {"GET", "/assets/{a}/{b}/{c}/{d}", 0, NULL, h_asset, NULL},
    {"GET", "/assets/{a}/{b}/{c}/{d}/{e}", 0, NULL, h_asset, NULL},
};

ca_err ca_page_routes_register(struct ca_http_server *srv, const ca_config *cfg, ca_errbuf *eb)
{
    static pages pg; /* one server per process; lives as long as it */
    pg.cfg = cfg;
    const char *u = cfg->node_public_url;
    pg.https = strncasecmp(u, "https://", 8) == 0;
    const char *host = strstr(u, "://");
    const char *path = host ? strchr(host + 3, '/') : NULL;
    snprintf(pg.root, sizeof pg.root, "%s", path ? path : "");
    ca_err err;
    if ((err = load_assets(&pg, eb)) || (err = build_importmap(&pg, eb)) ||
        (err = build_csp(&pg, eb)))
        return err;
    return ca_http_add_routes(srv, page_routes, sizeof page_routes / sizeof page_routes[0], &pg,
                              eb);
}
