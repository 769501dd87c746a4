/*
 * node/routes_did.c — the DID routes of SPEC §3/§4, registered by ca_did_routes_register
 * (node/cli_serve.c) through the server's route table. Both are public (no token) and so rate
 * limited per address like every public route.
 *
 * GET /1.0/identifiers/{did} — W3C DID Resolution HTTP(S) binding:
 *  1. Accept negotiation (accept_rep): application/did-resolution (also the default: no
 *     Accept, an empty one, or the wildcards star/star and application/star), or the legacy
 *     application/ld+json;profile="https://w3id.org/did-resolution" -> the resolution result
 *     as application/did-resolution; application/did or the legacy application/did+ld+json ->
 *     the document alone, with the type asked for. The highest q wins; at equal q an exact
 *     type beats a wildcard, then the first listed. Nothing acceptable ->
 *     REPRESENTATION_NOT_SUPPORTED (406), decided before anything is resolved.
 *  2. The path segment is raw (the server does not unescape): one starting with "did:" is
 *     the DID as is, so did:web:host%3A8443 keeps its %3A (the did:web port); one starting
 *     with "did%3A" (hex in either case) is percent-decoded once; anything else is
 *     INVALID_DID.
 *  3. Query: publicKeyFormat=JsonWebKey|Multikey, enableEncryptionKeyDerivation=true|false,
 *     noCache=true|false; another value -> INVALID_OPTIONS. Unknown parameters are ignored.
 *  4. Errors: the HTTP status of ca_did_error_status; the body is a resolution result with
 *     didResolutionMetadata.error = {type, title, status, detail} (application/did-resolution),
 *     or, when the client asked for the document alone, that error object by itself as
 *     application/problem+json (RFC 9457).
 * Responses keep the server's default Cache-Control (no-cache; no-store on errors): the
 * answer varies with Accept and the server sets no Vary header, so shared caches must
 * revalidate.
 *
 * GET /.well-known/did.json — the node's own did:web document, served as
 * application/did+ld+json: the DID Core media type of a JSON-LD DID document (it has an
 * @context). did:web resolvers read the body whatever the type; generic JSON clients accept
 * any +json type.
 */
#include "credanchor/did.h"
#include "node/http.h"
#include "node/resolver.h"
#include "credanchor/encoding.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum did_rep {
    REP_NONE = 0,     /* 406 */
    REP_RESULT,       /* application/did-resolution */
    REP_DOC,          /* application/did */
    REP_DOC_LEGACY,   /* application/did+ld+json */
} did_rep;

#define CT_RESULT "application/did-resolution"
#define CT_DOC "application/did"
#define CT_DOC_LEGACY "application/did+ld+json"
#define CT_PROBLEM "application/problem+json"
#define RESOLUTION_PROFILE "https://w3id.org/did-resolution"

/* ---- Accept ------------------------------------------------------------------------------- */

static bool span_eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

/* Parses one media range [s, e): its representation, q (in thousandths) and whether it was a
 * wildcard. Unknown types give REP_NONE. */
static did_rep media_range(const char *s, const char *e, int *q, bool *wildcard)
{
    *q = 1000;
    *wildcard = false;
    const char *semi = memchr(s, ';', (size_t)(e - s));
    const char *te = semi ? semi : e, *ts = s;
    trim(&ts, &te);
    bool profile_ok = false;
    /* Parameters: name=value or name="value"; q and profile matter. */
    const char *p = semi;
    while (p && p < e) {
        p++; /* past ';' */
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (!eq)
            break;
        const char *ns = p, *ne = eq;
        trim(&ns, &ne);
        const char *vs = eq + 1, *ve;
        while (vs < e && (*vs == ' ' || *vs == '\t'))
            vs++;
        if (vs < e && *vs == '"') {
            vs++;
            ve = memchr(vs, '"', (size_t)(e - vs));
            if (!ve)
                ve = e;
            p = memchr(ve, ';', (size_t)(e - ve));
        } else {
            ve = memchr(vs, ';', (size_t)(e - vs));
            p = ve;
            if (!ve)
                ve = e;
            const char *t = vs;
            trim(&t, &ve);
        }
        if (span_eq(ns, (size_t)(ne - ns), "q")) {
            /* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
            int v = 0, scale = 1000;
            const char *c = vs;
            if (c < ve && (*c == '0' || *c == '1'))
                v = (*c++ - '0') * 1000;
            if (c < ve && *c == '.')
                for (c++; c < ve && *c >= '0' && *c <= '9' && scale > 1; c++)
                    v += (*c - '0') * (scale /= 10);
            *q = v > 1000 ? 1000 : v;
        } else if (span_eq(ns, (size_t)(ne - ns), "profile")) {
            /* A space-separated list of profile URIs (RFC 6906). */
            for (const char *w = vs; w < ve;) {
                const char *we = w;
                while (we < ve && *we != ' ')
                    we++;
                if (span_eq(w, (size_t)(we - w), RESOLUTION_PROFILE))
                    profile_ok = true;
                w = we + 1;
            }
        }
    }
    size_t tn = (size_t)(te - ts);
    if (span_eq(ts, tn, "application/did-resolution"))
        return REP_RESULT;
    if (span_eq(ts, tn, "application/ld+json"))
        return profile_ok ? REP_RESULT : REP_NONE;
    if (span_eq(ts, tn, "application/did"))
        return REP_DOC;
    if (span_eq(ts, tn, "application/did+ld+json"))
        return REP_DOC_LEGACY;
    if (span_eq(ts, tn, "*/*") || span_eq(ts, tn, "application/*")) {
        *wildcard = true;
        return REP_RESULT;
    }
    return REP_NONE;
}

/* The representation the Accept header asks for (REP_RESULT when there is none). */
static did_rep accept_rep(const char *accept)
{
    if (!accept)
        return REP_RESULT;
    const char *s = accept;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return REP_RESULT;
    did_rep best = REP_NONE;
    int best_q = 0;
    bool best_wild = true;
    while (*s) {
        /* Find the end of this range: a ',' outside quotes. */
        const char *e = s;
        bool quoted = false;
        while (*e && (quoted || *e != ',')) {
            if (*e == '"')
                quoted = !quoted;
            e++;
        }
        int q;
        bool wild;
        did_rep rep = media_range(s, e, &q, &wild);
        if (rep != REP_NONE && q > 0 &&
            (q > best_q || (q == best_q && best_wild && !wild))) {
            best = rep;
            best_q = q;
            best_wild = wild;
        }
        s = *e ? e + 1 : e;
    }
    return best;
}

/* ---- a compact JSON writer ------------------------------------------------------------------ */

/* json_dumps costs 3-6 us for a did:key document, an eighth of the route's CPU time under
 * load (bench/http_did.sh, perf): this writer produces the same compact text (jansson's
 * defaults: UTF-8 as is, only '"', '\\' and control characters escaped) in one growing
 * buffer. Reals, which DID documents do not use, fall back to jansson. */
typedef struct wbuf {
    char *p;
    size_t len, cap;
    bool failed;
} wbuf;

static void w_put(wbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 2048;
        while (b->len + n + 1 > cap)
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
    b->p[b->len] = '\0';
}

static void w_lit(wbuf *b, const char *s)
{
    w_put(b, s, strlen(s));
}

static void w_string(wbuf *b, const char *s, size_t n)
{
    w_put(b, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        w_put(b, s + start, i - start);
        start = i + 1;
        char esc[7] = {'\\', 0};
        size_t el = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = ca_hex_digit(c >> 4);
            esc[5] = ca_hex_digit(c);
            el = 6;
        }
        w_put(b, esc, el);
    }
    w_put(b, s + start, n - start);
    w_put(b, "\"", 1);
}

static void w_json(wbuf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        bool first = true;
        w_put(b, "{", 1);
        json_object_foreach((json_t *)v, key, val) {
            if (!first)
                w_put(b, ",", 1);
            first = false;
            w_string(b, key, strlen(key));
            w_put(b, ":", 1);
            w_json(b, val);
        }
        w_put(b, "}", 1);
        break;
    }
    case JSON_ARRAY:
        w_put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                w_put(b, ",", 1);
            w_json(b, json_array_get(v, i));
        }
        w_put(b, "]", 1);
        break;
    case JSON_STRING:
        w_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER: {
        char num[32];
        int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        w_put(b, num, (size_t)n);
        break;
    }
    case JSON_TRUE: w_lit(b, "true"); break;
    case JSON_FALSE: w_lit(b, "false"); break;
    case JSON_NULL: w_lit(b, "null"); break;
    default: { /* JSON_REAL */
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s)
            w_lit(b, s);
        else
            b->failed = true;
        free(s);
    }
    }
}

/* ---- answers -------------------------------------------------------------------------------- */

static void reply_json(ca_http_response *resp, int status, const char *ctype, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    ca_http_reply_owned(resp, status, ctype, s, strlen(s));
}

static void reply_result(ca_http_response *resp, did_rep rep, const ca_did_result *res)
{
    int status = ca_did_error_status(res->error);
    if (res->error != CA_DID_OK) {
        snprintf(resp->detail, sizeof resp->detail, "%s", ca_did_error_code(res->error));
        if (rep == REP_DOC || rep == REP_DOC_LEGACY)
            reply_json(resp, status, CT_PROBLEM, ca_did_error_object(res->error, res->detail));
        else
            reply_json(resp, status, CT_RESULT, ca_did_result_json(res));
        return;
    }
    /* Success: the same text ca_did_result_json + json_dumps would give, written directly. */
    wbuf b = {0};
    if (rep == REP_RESULT) {
        w_lit(&b, "{\"didDocument\":");
        w_json(&b, res->document);
        w_lit(&b, ",\"didResolutionMetadata\":{\"contentType\":");
        w_string(&b, res->content_type, strlen(res->content_type));
        w_lit(&b, "},\"didDocumentMetadata\":");
        if (res->document_metadata)
            w_json(&b, res->document_metadata);
        else
            w_lit(&b, "{}");
        w_lit(&b, "}");
    } else {
        w_json(&b, res->document);
    }
    if (b.failed) {
        free(b.p);
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    ca_http_reply_owned(resp, 200, rep == REP_RESULT ? CT_RESULT
                                   : rep == REP_DOC  ? CT_DOC
                                                     : CT_DOC_LEGACY,
                        b.p, b.len);
}

/* A boolean option: absent -> false; "true"/"false"; else INVALID_OPTIONS. */
static bool bool_option(ca_http_request *req, ca_did_result *res, const char *name, bool *out)
{
    char v[16];
    ca_err err = ca_http_query(req, name, v, sizeof v, NULL);
    *out = false;
    if (err == CA_ERR_NOT_FOUND)
        return true;
    if (!err && (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)) {
        *out = v[0] == 't';
        return true;
    }
    ca_did_fail(res, CA_DID_INVALID_OPTIONS, "%s must be true or false", name);
    return false;
}

static bool parse_options(ca_http_request *req, ca_did_result *res, ca_did_options *o)
{
    memset(o, 0, sizeof *o);
    char fmt[32];
    ca_err err = ca_http_query(req, "publicKeyFormat", fmt, sizeof fmt, NULL);
    if (!err && strcmp(fmt, "JsonWebKey") == 0)
        o->format = CA_DID_FORMAT_JSON_WEB_KEY;
    else if (!err && strcmp(fmt, "Multikey") == 0)
        o->format = CA_DID_FORMAT_MULTIKEY;
    else if (err != CA_ERR_NOT_FOUND) {
        ca_did_fail(res, CA_DID_INVALID_OPTIONS, "publicKeyFormat must be JsonWebKey or Multikey");
        return false;
    }
    return bool_option(req, res, "enableEncryptionKeyDerivation",
                       &o->enable_encryption_key_derivation) &&
           bool_option(req, res, "noCache", &o->no_cache);
}

/* How a raw path segment turned into a DID (step 2 above). */
typedef enum segment_decoding {
    SEGMENT_OK = 0,
    SEGMENT_TOO_LONG,   /* over CA_DID_TEXT_MAX */
    SEGMENT_BAD_ESCAPE, /* a did%3A segment with a broken %-escape */
    SEGMENT_NOT_DID,    /* starts with neither did: nor did%3A */
} segment_decoding;

/* The DID of the raw path segment seg, NUL-terminated in did (cap bytes). The one decoding
 * both the handler and the offload decision (may_fetch) use, so they never disagree. */
static segment_decoding decode_segment(char *did, size_t cap, const char *seg)
{
    size_t n = strlen(seg);
    if (strncmp(seg, "did:", 4) == 0) {
        if (n >= cap)
            return SEGMENT_TOO_LONG;
        memcpy(did, seg, n + 1);
        return SEGMENT_OK;
    }
    if (strncasecmp(seg, "did%3a", 6) == 0) {
        ca_err err = ca_http_percent_decode(did, cap, NULL, seg, n);
        return err == CA_ERR_TOO_LARGE ? SEGMENT_TOO_LONG
               : err                   ? SEGMENT_BAD_ESCAPE
                                       : SEGMENT_OK;
    }
    return SEGMENT_NOT_DID;
}

/* The DID from the raw path segment (step 2 above); false after failing res. */
static bool did_from_segment(char *did, size_t cap, const char *seg, ca_did_result *res)
{
    switch (decode_segment(did, cap, seg)) {
    case SEGMENT_OK:
        return true;
    case SEGMENT_TOO_LONG:
        ca_did_fail(res, CA_DID_INVALID_DID, "the DID is longer than %d characters",
                    CA_DID_TEXT_MAX);
        return false;
    case SEGMENT_BAD_ESCAPE:
        ca_did_fail(res, CA_DID_INVALID_DID, "the percent-encoded DID has a bad %%-escape");
        return false;
    case SEGMENT_NOT_DID:
        break;
    }
    ca_did_fail(res, CA_DID_INVALID_DID,
                "the path segment is not a DID: it must start with did: (raw) or did%%3A "
                "(percent-encoded)");
    return false;
}

static void h_identifiers(ca_http_request *req, ca_http_response *resp)
{
    ca_resolver *r = req->ctx;
    ca_did_result res;
    ca_did_result_init(&res);
    char did[CA_DID_TEXT_MAX + 1];
    ca_did_options opts;
    did_rep rep = accept_rep(ca_http_header(req, "Accept"));
    if (rep == REP_NONE)
        ca_did_fail(&res, CA_DID_REPRESENTATION_NOT_SUPPORTED,
                    "Accept names no supported type: application/did-resolution, "
                    "application/did, application/did+ld+json or "
                    "application/ld+json;profile=\"" RESOLUTION_PROFILE "\"");
    else if (did_from_segment(did, sizeof did, req->params[0], &res) &&
             parse_options(req, &res, &opts))
        ca_resolver_resolve(r, &res, did, &opts);
    reply_result(resp, rep, &res);
    ca_did_result_clear(&res);
    json_decref(res.document_metadata); /* clear re-inits it */
}

static void h_well_known(ca_http_request *req, ca_http_response *resp)
{
    size_t len;
    const char *doc = ca_resolver_own_document(req->ctx, &len);
    if (!doc) {
        ca_http_problem(resp, 404, "this node has no issuer key loaded");
        return;
    }
    ca_http_reply_text(resp, 200, CT_DOC_LEGACY, doc, len);
}

/* GET /did.json: where a public_url with a path puts the did:web document (did:web spec
 * "Read": did:web:host:base is https://host/base/did.json; the server strips the "/base"
 * prefix when a proxy forwards it). A public_url without a path has its document only at
 * /.well-known/did.json. */
static void h_did_json(ca_http_request *req, ca_http_response *resp)
{
    if (!ca_config_public_path(&req->node->cfg)[0]) {
        ca_http_problem(resp, 404, "node.public_url has no path: the DID document is at "
                        "/.well-known/did.json");
        return;
    }
    h_well_known(req, resp);
}

/* A did:web other than the node's own may mean a network fetch of up to did.web_timeout:
 * such requests run on the server's offload threads (node/http.c), not on a worker, so slow
 * or silent hosts cannot hold the workers that serve health and proofs (issue #13 item 1).
 * The decision is made on the DID the handler will resolve, after step 2's decoding: the raw
 * segment is no guide, since did%3Aweb:... and did%3A%77eb%3A... decode to did:web too. Only
 * did:web fetches (ca_resolver_resolve; the "fetches" column of did/did_methods.c); a segment
 * that does not decode is answered at once. */
static bool may_fetch(const ca_http_request *req)
{
    char did[CA_DID_TEXT_MAX + 1];
    if (decode_segment(did, sizeof did, req->params[0]) != SEGMENT_OK)
        return false;
    return ca_did_method_fetches(ca_did_method_of(did, strlen(did))) &&
           strcmp(did, ca_resolver_web_did(req->ctx)) != 0;
}

static const ca_http_route did_routes[] = {
    {"GET", "/1.0/identifiers/{did}", 0, NULL, h_identifiers, may_fetch},
    {"GET", "/.well-known/did.json", 0, NULL, h_well_known, NULL},
    {"GET", "/did.json", 0, NULL, h_did_json, NULL},
};

ca_err ca_did_routes_register(ca_http_server *srv, ca_resolver *r, ca_errbuf *eb)
{
    return ca_http_add_routes(srv, did_routes, sizeof did_routes / sizeof did_routes[0], r, eb);
}
