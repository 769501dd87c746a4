/*
 * node/routes_credentials.c — the credential routes of SPEC §3 / §5:
 *   POST /v1/credentials                         issuer   issue one credential
 *   POST /v1/credentials/batch                   issuer   bulk issuance (JSON array, CSV or XLSX)
 *   POST /v1/rosters/csv                         issuer   an XLSX roster as the CSV the batch
 *                                                takes (issue #17: the upload page's preview)
 *   POST /v1/credentials/{id}/revoke|suspend|reinstate  revoker  status change
 *   GET  /v1/credentials/{id}/verification       public (auditor/revoker token for an issue
 *                                                number)  the four checks, third-party path
 *   GET  /v1/credentials                         auditor  issuance list, JSON or CSV
 *   GET  /v1/reports/summary                     auditor  counts and completion rates
 *   GET  /v1/audit                               auditor  the audit log, filtered and paged
 *   GET  /v1/status/{listId}[?timestamp=]        public   the Bitstring Status List credential
 */
#include "node/bulk.h"
#include "credanchor/encoding.h"
#include "node/http.h"
#include "node/issuer.h"
#include "node/auth.h"
#include "node/log.h"
#include "node/pages.h"
#include "node/report_pdf.h"
#include "node/report_xlsx.h"
#include "node/reports.h"
#include "node/resolver.h"
#include "node/roster_xlsx.h"
#include "credanchor/json_fields.h"
#include "credanchor/verify.h"
#include "node/verify_env.h"
#include "node/badge.h"
#include "node/node_log.h"
#include "node/rate_limit.h"
#include "node/certificate.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct cred_routes {
    ca_issuer *issuer;
    ca_resolver *resolver;
    char status_cache[64]; /* Cache-Control of the latest list version: max-age = ttl */
    const char *certificates_dir; /* credentials.certificates_dir */
    ca_rate_limit *lookups;       /* POST /v1/credentials/lookup, per client address */
    ca_rate_limit *lookups_all;   /* ... and over all clients (one key) */
} cred_routes;

/* Lookups by issue number and email (SPEC §8): numbers are sequential, so each client gets
 * LOOKUPS_PER_MINUTE (a burst of LOOKUP_BURST), and all clients together LOOKUPS_ALL_PER_S:
 * enough for people typing, far too few to walk the numbers. */
#define LOOKUPS_PER_MINUTE 20
#define LOOKUP_BURST 10
#define LOOKUPS_ALL_PER_S 20
#define EMAIL_MAX 320 /* RFC 5321 §4.5.3.1: 64 + 1 + 255 */
#define CERTIFICATES_ZIP_MAX 2000 /* certificates in one ZIP (streamed; the list of them and
                                   * their views are held while it is read) */

#define REF_MAX 256

/* The {id} segment, percent-decoded (a urn:uuid id is usually sent as urn%3Auuid%3A...). */
static bool ref_param(ca_http_request *req, ca_http_response *resp, char ref[REF_MAX])
{
    size_t len;
    if (ca_http_percent_decode(ref, REF_MAX, &len, req->params[0], strlen(req->params[0]))) {
        ca_http_problem(resp, 400, "the credential id in the path is not valid");
        return false;
    }
    return true;
}

static ca_err parse_format_alg(const json_t *format, const json_t *alg, ca_credential_format *f,
                               ca_jws_alg *a, char *why, size_t cap)
{
    *f = CA_FORMAT_VC_JWT;
    *a = CA_ALG_EDDSA;
    if (format && (!json_is_string(format) ||
                   ca_credential_format_parse(f, json_string_value(format)))) {
        snprintf(why, cap, "format: must be \"vc+jwt\" or \"eddsa-jcs-2022\"");
        return CA_ERR_INVALID;
    }
    if (alg && (!json_is_string(alg) || ca_jws_alg_parse(a, json_string_value(alg)))) {
        snprintf(why, cap, "alg: must be \"EdDSA\", \"ES256K\", \"ES256\" or \"RS256\"");
        return CA_ERR_INVALID;
    }
    return CA_OK;
}

static void h_issue(ca_http_request *req, ca_http_response *resp)
{
    cred_routes *c = req->ctx;
    json_t *body = ca_http_body_json(req, resp);
    if (!body)
        return;
    const char *k;
    json_t *v;
    char why[160];
    if (!json_is_object(body)) {
        ca_http_problem(resp, 400, "the body must be {\"credential\":{...},\"format\",\"alg\"}");
        goto out;
    }
    json_object_foreach(body, k, v)
        if (strcmp(k, "credential") && strcmp(k, "format") && strcmp(k, "alg") &&
            strcmp(k, "recipient")) {
            ca_http_problem(resp, 400, "unknown member \"%.64s\" (allowed: credential, "
                            "format, alg, recipient)", k);
            goto out;
        }
    ca_issue_item it = {0};
    if (parse_format_alg(json_object_get(body, "format"), json_object_get(body, "alg"),
                         &it.format, &it.alg, why, sizeof why)) {
        ca_http_problem(resp, 400, "%s", why);
        goto out;
    }
    it.credential = json_object_get(body, "credential");
    if (!json_is_object(it.credential)) {
        ca_http_problem(resp, 400, "credential: required, the unsigned OpenBadgeCredential");
        goto out;
    }
    /* Optional recipient metadata: name, department and course are for reports only (never
     * in the credential); completedAt becomes the credential's awardedDate and the month of
     * its issue number (issue #12 item 8). */
    const json_t *rcp = json_object_get(body, "recipient");
    if (rcp && !json_is_object(rcp)) {
        ca_http_problem(resp, 400, "recipient: must be an object {name, email, department, "
                        "course, completedAt}");
        goto out;
    }
    it.recipient_name = ca_json_str(rcp, "name");
    it.recipient_email = ca_json_str(rcp, "email"); /* for its notification only (outbox.h) */
    it.department = ca_json_str(rcp, "department");
    it.course = ca_json_str(rcp, "course");
    const json_t *done = json_object_get(rcp, "completedAt");
    if (done && (!json_is_string(done) ||
                 ca_completion_date_parse(&it.completed_at, json_string_value(done)))) {
        ca_http_problem(resp, 400, "recipient.completedAt: must be a date (YYYY-MM-DD) or a "
                        "dateTime with a time zone");
        goto out;
    }
    /* The audit entry goes into the issuance's own commit (one sync for the request). */
    char client[64];
    ca_audit_event audit = {.token = req->token, .method = req->method, .route = req->route,
                            .status = 201, .client = ca_http_client_text(req, client, sizeof client)};
    it.audit = &audit;
    ca_errbuf eb = {{0}};
    ca_err err = ca_issuer_issue(c->issuer, &it, 1, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
    } else if (it.err) {
        ca_http_problem(resp, 400, "%s", it.error);
    } else {
        snprintf(resp->detail, sizeof resp->detail, "issued %s %s", it.issue_number, it.id);
        resp->audited = it.audited;
        ca_http_reply_json(resp, 201, ca_issue_item_json(c->issuer, &it));
    }
    ca_issue_item_clear(&it);
out:
    json_decref(body);
}

/* XLSX conversions running at once. One may hold about three times CA_XLSX_MAX_UNPACKED
 * (shared strings, the CSV, its padded copy: ~200 MiB) however small its upload, so a burst of
 * workbooks waits (503 + Retry-After) instead of taking the node's memory (issue #17). */
#define ROSTER_XLSX_CONCURRENT 2
static atomic_int roster_xlsx_running;

/* An XLSX roster's sheet (?sheet=, else the first visible one) as CSV (node/roster_xlsx.h).
 * CA_ERR_LOCKED when ROSTER_XLSX_CONCURRENT conversions are running. */
static ca_err roster_xlsx_csv(const ca_http_request *req, ca_xlsx_csv *x, size_t max_rows,
                              ca_errbuf *eb)
{
    memset(x, 0, sizeof *x);
    char sheet[CA_XLSX_SHEET_NAME_MAX] = "";
    ca_err err = ca_http_query(req, "sheet", sheet, sizeof sheet, NULL);
    if (err == CA_ERR_TOO_LARGE)
        return ca_fail(eb, CA_ERR_INVALID, "sheet: at most %d bytes", CA_XLSX_SHEET_NAME_MAX - 1);
    if (err && err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_INVALID, "sheet: not a valid percent-encoded name");
    if (atomic_fetch_add(&roster_xlsx_running, 1) >= ROSTER_XLSX_CONCURRENT) {
        atomic_fetch_sub(&roster_xlsx_running, 1);
        return ca_fail(eb, CA_ERR_LOCKED, "%d workbooks are being read; try again shortly",
                       ROSTER_XLSX_CONCURRENT);
    }
    ca_xlsx_options o = {.sheet = sheet, .max_rows = max_rows};
    err = ca_xlsx_to_csv(x, req->body, req->body_len, &o, eb);
    atomic_fetch_sub(&roster_xlsx_running, 1);
    return err;
}

static void roster_problem(ca_http_response *resp, ca_err err, const ca_errbuf *eb)
{
    if (err == CA_ERR_LOCKED) {
        resp->retry_after = 1;
        ca_http_problem(resp, 503, "%s", eb->msg);
    } else {
        ca_http_problem_err(resp, err, eb);
    }
}

/* The batch's participant list from its body: a JSON array, a CSV, or an XLSX workbook read as
 * the CSV it holds (issue #17), whose rows then carry their sheet row numbers. false when the
 * problem is answered. */
static bool parse_roster(ca_http_request *req, ca_http_response *resp, ca_bulk *b)
{
    const char *ctype = ca_http_header(req, "Content-Type");
    ca_errbuf eb = {{0}};
    ca_err err;
    if (ctype && strncasecmp(ctype, "text/csv", 8) == 0) {
        err = ca_bulk_parse_csv(b, req->body, req->body_len, CA_ISSUE_BATCH_MAX, &eb);
    } else if (ctype && strncasecmp(ctype, CA_XLSX_MEDIA_TYPE, strlen(CA_XLSX_MEDIA_TYPE)) == 0) {
        ca_xlsx_csv x;
        if (!(err = roster_xlsx_csv(req, &x, CA_ISSUE_BATCH_MAX, &eb)) &&
            !(err = ca_bulk_parse_csv(b, x.csv, x.len, CA_ISSUE_BATCH_MAX, &eb)))
            for (size_t i = 0; i < b->n; i++)
                b->rows[i].line = ca_xlsx_sheet_row(&x, b->rows[i].line);
        ca_xlsx_csv_free(&x);
        if (err) {
            roster_problem(resp, err, &eb);
            return false;
        }
    } else {
        json_t *arr = ca_http_body_json(req, resp);
        if (!arr)
            return false;
        err = ca_bulk_parse_json(b, arr, CA_ISSUE_BATCH_MAX, &eb);
        json_decref(arr);
    }
    if (err)
        ca_http_problem_err(resp, err, &eb);
    return !err;
}

/* POST /v1/rosters/csv (issue #17): the upload page sends an XLSX roster here and gets back the
 * CSV it then checks and issues in chunks as it does a CSV file, so both take one path. Writes
 * nothing; the server's audit entry says which sheet and how many rows. Roster-Sheet names the
 * sheet read (percent-encoded UTF-8). A client that accepts JSON and not text/csv (the console's
 * fetch helper) gets {"csv", "sheet", "rows"} instead. */
static void h_roster_csv(ca_http_request *req, ca_http_response *resp)
{
    ca_xlsx_csv x;
    ca_errbuf eb = {{0}};
    ca_err err = roster_xlsx_csv(req, &x, CA_BULK_MAX_ROWS, &eb);
    if (err) {
        roster_problem(resp, err, &eb);
        return;
    }
    char sheet[3 * CA_XLSX_SHEET_NAME_MAX];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)x.sheet; *p && o + 4 < sizeof sheet; p++)
        o += (size_t)snprintf(sheet + o, sizeof sheet - o,
                              (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                              (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'
                                  ? "%c" : "%%%02X", *p);
    if (o < CA_HTTP_HEADER_VALUE_MAX)
        ca_http_response_add_header(resp, "Roster-Sheet", sheet);
    snprintf(resp->detail, sizeof resp->detail, "roster read: sheet \"%.60s\", %zu rows",
             x.sheet, x.rows);
    const char *accept = ca_http_header(req, "Accept");
    if (accept && strstr(accept, "application/json") && !strstr(accept, "text/csv")) {
        json_t *j = json_pack("{s:s%,s:s,s:I}", "csv", x.csv, x.len, "sheet", x.sheet, "rows",
                              (json_int_t)x.rows);
        if (j)
            ca_http_reply_json(resp, 200, j);
        else
            ca_http_problem(resp, 500, "out of memory");
    } else {
        ca_http_reply_owned(resp, 200, "text/csv; charset=utf-8", x.csv, x.len);
        x.csv = NULL;
    }
    ca_xlsx_csv_free(&x);
}

static void h_batch(ca_http_request *req, ca_http_response *resp)
{
    cred_routes *c = req->ctx;
    const ca_config *cfg = &req->node->cfg;
    char tname[160], fmt[32], alg[16], why[160];
    ca_bulk b = {0};
    json_t *tmpl = NULL, *report = NULL;
    ca_errbuf eb = {{0}};
    ca_err err;
    ca_bulk_options o = {.templates_dir = cfg->credentials_templates_dir};
    json_t *jf = NULL, *ja = NULL;
    if (ca_http_query(req, "format", fmt, sizeof fmt, NULL) == CA_OK)
        jf = json_string(fmt);
    if (ca_http_query(req, "alg", alg, sizeof alg, NULL) == CA_OK)
        ja = json_string(alg);
    err = parse_format_alg(jf, ja, &o.format, &o.alg, why, sizeof why);
    json_decref(jf);
    json_decref(ja);
    if (err) {
        ca_http_problem(resp, 400, "%s", why);
        return;
    }
    if (ca_http_query(req, "template", tname, sizeof tname, NULL) == CA_OK) {
        bool ok = tname[0] && tname[0] != '.';
        for (const char *p = tname; *p; p++)
            ok &= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-';
        if (!ok) {
            ca_http_problem(resp, 400, "template: a course name of letters, digits, '.', '_' "
                            "or '-'");
            return;
        }
        char path[CA_CONFIG_STR_MAX + 200];
        snprintf(path, sizeof path, "%s/%s.json", cfg->credentials_templates_dir, tname);
        if ((err = ca_template_load(&tmpl, path, &eb))) {
            ca_http_problem(resp, err == CA_ERR_NOT_FOUND ? 404 : 400, "%s", eb.msg);
            return;
        }
        o.template_fixed = tmpl;
        o.template_name = tname;
    }
    if (!parse_roster(req, resp, &b))
        goto out;
    char dry[8] = "";
    if (ca_http_query(req, "dryRun", dry, sizeof dry, NULL) == CA_OK && strcmp(dry, "true") &&
        strcmp(dry, "false")) {
        ca_http_problem(resp, 400, "dryRun: true or false");
        goto out;
    }
    if (strcmp(dry, "true") == 0) { /* the roster upload's preview (issue #17) */
        if ((err = ca_bulk_preview(c->issuer, &b, &o, &report, &eb))) {
            ca_http_problem_err(resp, err, &eb);
            goto out;
        }
        snprintf(resp->detail, sizeof resp->detail,
                 "batch dry run: %lld new, %lld existing, %lld failed",
                 (long long)json_integer_value(json_object_get(report, "new")),
                 (long long)json_integer_value(json_object_get(report, "existing")),
                 (long long)json_integer_value(json_object_get(report, "failed")));
        ca_http_reply_json(resp, 200, report);
        report = NULL;
        goto out;
    }
    err = ca_bulk_issue(c->issuer, &b, &o, &report, &eb);
    if (err && !report) {
        ca_http_problem_err(resp, err, &eb);
        goto out;
    }
    if (err) { /* some chunks committed: the report says which rows */
        json_object_set_new(report, "error", json_string(eb.msg));
        ca_http_reply_json(resp, err == CA_ERR_FULL ? 507 : 500, report);
        report = NULL;
        goto out;
    }
    snprintf(resp->detail, sizeof resp->detail, "batch: %lld issued, %lld existing, %lld failed",
             (long long)json_integer_value(json_object_get(report, "issued")),
             (long long)json_integer_value(json_object_get(report, "existing")),
             (long long)json_integer_value(json_object_get(report, "failed")));
    ca_http_reply_json(resp, 200, report);
    report = NULL;
out:
    json_decref(report);
    json_decref(tmpl);
    ca_bulk_free(&b);
}

static void change_status(ca_http_request *req, ca_http_response *resp, ca_status_action a)
{
    cred_routes *c = req->ctx;
    char ref[REF_MAX];
    if (!ref_param(req, resp, ref))
        return;
    json_t *body = NULL;
    const char *reason = NULL;
    if (req->body_len) {
        if (!(body = ca_http_body_json(req, resp)))
            return;
        const json_t *r = json_object_get(body, "reason");
        if (!json_is_object(body) || (r && !json_is_string(r)) ||
            json_object_size(body) > (r ? 1u : 0u)) {
            ca_http_problem(resp, 400, "the body, when given, must be {\"reason\":\"...\"}");
            json_decref(body);
            return;
        }
        reason = json_string_value(r);
        if (reason && strlen(reason) > CA_STATUS_REASON_MAX) {
            ca_http_problem(resp, 400, "reason: at most %d bytes of UTF-8", CA_STATUS_REASON_MAX);
            json_decref(body);
            return;
        }
    }
    /* The audit entry goes into the round's own commit (one sync for the request). */
    char client[64];
    ca_audit_event audit = {.token = req->token, .method = req->method, .route = req->route,
                            .status = 200, .client = ca_http_client_text(req, client, sizeof client)};
    ca_status_change ch = {.ref = ref, .action = a, .reason = reason, .audit = &audit};
    ca_errbuf eb = {{0}};
    ca_err err = ca_issuer_change_status(c->issuer, &ch, 1, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
    } else if (ch.err) {
        ca_errbuf ceb = {{0}};
        snprintf(ceb.msg, sizeof ceb.msg, "%s", ch.error);
        ca_http_problem_err(resp, ch.err, &ceb);
    } else {
        char url[CA_CONFIG_STR_MAX + 32];
        size_t ulen = strlen(req->node->cfg.node_public_url);
        while (ulen && req->node->cfg.node_public_url[ulen - 1] == '/')
            ulen--;
        snprintf(url, sizeof url, "%.*s/v1/status/%u", (int)ulen,
                 req->node->cfg.node_public_url, ch.list_id);
        snprintf(resp->detail, sizeof resp->detail, "%s %s -> %s", ch.issue_number, ch.id,
                 ch.status);
        resp->audited = ch.audited;
        ca_http_reply_json(resp, 200,
                           json_pack("{s:s, s:s, s:s, s:b, s:s, s:I}", "id", ch.id,
                                     "issueNumber", ch.issue_number, "status", ch.status,
                                     "changed", ch.changed, "statusListCredential", url,
                                     "statusListVersion", (json_int_t)ch.version));
    }
    json_decref(body);
}

static void h_revoke(ca_http_request *req, ca_http_response *resp)
{
    change_status(req, resp, CA_STATUS_REVOKE);
}
static void h_suspend(ca_http_request *req, ca_http_response *resp)
{
    change_status(req, resp, CA_STATUS_SUSPEND);
}
static void h_reinstate(ca_http_request *req, ca_http_response *resp)
{
    change_status(req, resp, CA_STATUS_REINSTATE);
}

/* The signed bytes of the credential named by the {id} segment, for the public read routes.
 * SPEC §5/§8: issue numbers are sequential (guessable), so looking one up needs an auditor
 * token (revoker tokens are for status changes); the random urn:uuid id is public. False
 * with the answer made (400, 401/403, 404). *by_number tells which form was used. */
static bool find_public_credential(ca_http_request *req, ca_http_response *resp, char **doc,
                                   size_t *len, bool *by_number)
{
    char ref[REF_MAX];
    if (!ref_param(req, resp, ref))
        return false;
    *by_number = ca_issue_number_syntax_ok(ref);
    if (*by_number) {
        ca_token_info info;
        if (!ca_http_authenticate(req, resp, &info, 1u << CA_ROLE_AUDITOR))
            return false;
    }
    uint8_t uuid[16];
    ca_errbuf eb = {{0}};
    ca_err err = ca_credential_find(req->node->store, ref, uuid, NULL, doc, len, &eb);
    if (err)
        ca_http_problem_err(resp, err, &eb);
    return err == CA_OK;
}

/* GET /v1/credentials/{id} (SPEC §8): the credential exactly as signed, a compact VC-JWT as
 * application/vc+jwt or a Data Integrity document as application/vc. */
static void h_credential(ca_http_request *req, ca_http_response *resp)
{
    char *doc = NULL;
    size_t len = 0;
    bool by_number;
    if (!find_public_credential(req, resp, &doc, &len, &by_number))
        return;
    if (by_number)
        resp->cache_control = "no-store"; /* answered to a token: not for shared caches */
    ca_http_reply_owned(resp, 200, len && doc[0] == '{' ? "application/vc" : "application/vc+jwt",
                        doc, len);
}

/* The credential named by {id} with its readable facts, for the downloads below: false with
 * the answer made. *doc (the signed bytes) and *cred are the caller's to free. */
static bool load_view(ca_http_request *req, ca_http_response *resp, ca_credential_view *v,
                      json_t **cred, char **doc, size_t *len)
{
    cred_routes *c = req->ctx;
    bool by_number;
    if (!find_public_credential(req, resp, doc, len, &by_number))
        return false;
    if (by_number)
        resp->cache_control = "no-store"; /* answered to a token: not for shared caches */
    ca_errbuf eb = {{0}};
    if (ca_credential_view_load(v, cred, *doc, *len, "", &eb)) {
        free(*doc);
        ca_node_log(CA_NODE_LOG_ERROR, NULL, "stored credential unreadable: %s", eb.msg);
        ca_http_problem(resp, 500, "the stored credential cannot be read");
        return false;
    }
    const char *id = json_string_value(json_object_get(*cred, "id"));
    ca_issuer_page_url(c->issuer, id ? id : "", v->page_url, sizeof v->page_url);
    return true;
}

/* "<issue number>.<ext>" (or "credential.<ext>") as the download's file name (RFC 6266). */
static void attachment(ca_http_response *resp, const ca_credential_view *v, const char *ext)
{
    snprintf(resp->content_disposition, sizeof resp->content_disposition,
             "attachment; filename=\"%s.%s\"", v->issue_number[0] ? v->issue_number : "credential",
             ext);
}

typedef enum download { DOWNLOAD_PDF, DOWNLOAD_PNG, DOWNLOAD_SVG } download;

static void reply_download(ca_http_request *req, ca_http_response *resp, download what)
{
    cred_routes *c = req->ctx;
    ca_credential_view *v = malloc(sizeof *v);
    char *doc = NULL, *out = NULL;
    size_t len = 0, out_len = 0;
    json_t *cred = NULL;
    if (!v) {
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    if (!load_view(req, resp, v, &cred, &doc, &len)) {
        free(v);
        return;
    }
    ca_errbuf eb = {{0}};
    ca_err err = what == DOWNLOAD_PDF
                     ? ca_certificate_pdf(&out, &out_len, v, c->certificates_dir, &eb)
                 : what == DOWNLOAD_PNG ? ca_badge_png(&out, &out_len, v, cred, doc, len, &eb)
                                        : ca_badge_svg(&out, &out_len, v, cred, doc, len, &eb);
    if (err) {
        /* A broken layout file is the operator's to fix: named in the log, 500 to the client. */
        ca_node_log(CA_NODE_LOG_ERROR, NULL, "download: %s", eb.msg);
        ca_http_problem(resp, 500, "this download cannot be made now (%s)", ca_strerror(err));
    } else {
        static const char *const types[] = {"application/pdf", "image/png", "image/svg+xml"};
        static const char *const exts[] = {"pdf", "png", "svg"};
        ca_http_reply_owned(resp, 200, types[what], out, out_len);
        attachment(resp, v, exts[what]);
    }
    json_decref(cred);
    free(doc);
    free(v);
}

/* GET /v1/credentials/{id}/certificate.pdf (SPEC §8). */
static void h_certificate(ca_http_request *req, ca_http_response *resp)
{
    reply_download(req, resp, DOWNLOAD_PDF);
}

/* GET /v1/credentials/{id}/badge.png: an OB 3.0 baked PNG (SPEC §8). */
static void h_badge_png(ca_http_request *req, ca_http_response *resp)
{
    reply_download(req, resp, DOWNLOAD_PNG);
}

/* GET /v1/credentials/{id}/badge.svg: an OB 3.0 baked SVG (SPEC §8). */
static void h_badge_svg(ca_http_request *req, ca_http_response *resp)
{
    reply_download(req, resp, DOWNLOAD_SVG);
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* True when email hashes to one of the credential's emailAddress IdentityObjects (OB 3.0
 * B.2.4: "sha256$" + hex SHA-256 of the normalised address and the salt). The comparison is
 * constant-time; the caller hashes once even when there is no credential, so an unknown
 * number and a wrong email take the same time. */
static bool email_matches(const json_t *cred, const char *email)
{
    size_t i;
    const json_t *id;
    bool match = false;
    json_array_foreach(json_object_get(json_object_get(cred, "credentialSubject"), "identifier"),
                       i, id) {
        const char *type = json_string_value(json_object_get(id, "identityType"));
        const char *salt = json_string_value(json_object_get(id, "salt"));
        const char *want = json_string_value(json_object_get(id, "identityHash"));
        if (!type || strcmp(type, "emailAddress") || !salt || !want)
            continue;
        json_t *mine = ca_identity_object(email, salt);
        const char *got = json_string_value(json_object_get(mine, "identityHash"));
        if (got && strlen(got) == strlen(want) && CRYPTO_memcmp(got, want, strlen(want)) == 0)
            match = true;
        json_decref(mine);
    }
    return match;
}

/* POST /v1/credentials/lookup {"issueNumber","email"} (SPEC §8): {"id","page"} when the email
 * is the recipient's; the same 404 for an unknown number and a wrong email. */
static void h_lookup(ca_http_request *req, ca_http_response *resp)
{
    cred_routes *c = req->ctx;
    uint8_t key[16], all[16] = {0};
    ca_http_client_key(req, key);
    int64_t now = monotonic_ns();
    unsigned wait = ca_rate_limit_take(c->lookups, key, now);
    if (!wait)
        wait = ca_rate_limit_take(c->lookups_all, all, now);
    if (wait) {
        resp->retry_after = wait;
        ca_http_problem(resp, 429, "too many lookups; try again in %u s", wait);
        return;
    }
    json_t *body = ca_http_body_json(req, resp);
    if (!body)
        return;
    const char *number = json_string_value(json_object_get(body, "issueNumber"));
    const char *email = json_string_value(json_object_get(body, "email"));
    if (!json_is_object(body) || json_object_size(body) != 2 || !number || !email ||
        !email[0] || strlen(email) > EMAIL_MAX || !strchr(email, '@')) {
        json_decref(body);
        ca_http_problem(resp, 400, "the body must be {\"issueNumber\": \"...\", \"email\": "
                        "\"...\"} and nothing else");
        return;
    }
    char *doc = NULL;
    size_t len = 0;
    uint8_t uuid[16];
    ca_errbuf eb = {{0}};
    json_t *cred = NULL;
    ca_credential_view *v = calloc(1, sizeof *v);
    bool found = v && ca_issue_number_syntax_ok(number) &&
                 ca_credential_find(req->node->store, number, uuid, NULL, &doc, &len, &eb) == CA_OK &&
                 ca_credential_view_load(v, &cred, doc, len, "", &eb) == CA_OK;
    if (!found)
        json_decref(ca_identity_object(email, "00000000000000000000000000000000"));
    bool ok = found && email_matches(cred, email);
    const char *id = json_string_value(json_object_get(cred, "id"));
    resp->cache_control = "no-store";
    if (ok && id) {
        char page[CA_PAGE_URL_MAX];
        ca_issuer_page_url(c->issuer, id, page, sizeof page);
        ca_http_reply_json(resp, 200, json_pack("{s:s, s:s}", "id", id, "page", page));
    } else {
        ca_http_problem(resp, 404, "no credential has this issue number and recipient email");
    }
    json_decref(cred);
    json_decref(body);
    free(doc);
    free(v);
}

static void h_verification(ca_http_request *req, ca_http_response *resp)
{
    cred_routes *c = req->ctx;
    char *doc = NULL;
    size_t len = 0;
    bool by_number;
    if (!find_public_credential(req, resp, &doc, &len, &by_number))
        return;
    ca_errbuf eb = {{0}};
    /* The presented bytes are the ones issued; every check then takes the third party's
     * path (node/verify_env.c). */
    ca_verify_env env;
    ca_verify_local local;
    ca_verify_local_env(&env, &local, req->node, c->resolver, c->issuer);
    ca_verify_report *rep = calloc(1, sizeof *rep);
    if (!rep) {
        free(doc);
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    ca_err err = ca_verify_credential(rep, doc, len, &env, &eb);
    free(doc);
    if (err)
        ca_http_problem_err(resp, err, &eb);
    else
        ca_http_reply_json(resp, 200, ca_verify_report_json(rep));
    free(rep);
}

/* With an RPC endpoint configured, a verification reads the anchor transaction over JSON-RPC
 * (node/verify_env.c: a few seconds at most, often nothing when the memo answers): it then
 * runs on the server's offload threads (node/http.c) like a did:web fetch, so a slow or
 * stalled provider holds no HTTP worker, and health and proofs keep answering (issue #13
 * item 2). Without one nothing in it waits on the network. */
static bool verification_may_wait(const ca_http_request *req)
{
    return req->node->cfg.anchor_rpc_url[0] != '\0';
}

/* ?format=csv|json, else Accept: text/csv asks for CSV. *csv set; false for another format
 * (a 400 is answered). */
static bool report_format(ca_http_request *req, ca_http_response *resp, bool *csv)
{
    char f[16];
    ca_err err = ca_http_query(req, "format", f, sizeof f, NULL);
    if (err == CA_OK && (strcmp(f, "csv") == 0 || strcmp(f, "json") == 0)) {
        *csv = strcmp(f, "csv") == 0;
        return true;
    }
    if (err != CA_ERR_NOT_FOUND) {
        ca_http_problem(resp, 400, "format: csv or json (the issuance list also xlsx)");
        return false;
    }
    const char *accept = ca_http_header(req, "Accept");
    *csv = accept && strstr(accept, "text/csv") != NULL;
    return true;
}

/* ?bom=true starts a CSV with U+FEFF so Excel reads it as UTF-8 (issue #12 item 6). */
static bool report_bom(ca_http_request *req, ca_http_response *resp, bool *bom)
{
    char v[8];
    ca_err err = ca_http_query(req, "bom", v, sizeof v, NULL);
    *bom = err == CA_OK && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
    if (err == CA_ERR_NOT_FOUND || *bom || (err == CA_OK && (strcmp(v, "false") == 0 ||
                                                           strcmp(v, "0") == 0)))
        return true;
    ca_http_problem(resp, 400, "bom: true or false");
    return false;
}

/* A CSV download: Content-Disposition names a dated file (RFC 6266). */
/* attachment; filename="credanchor-<what>-<today>.<ext>" */
static void export_disposition(ca_http_response *resp, const char *what, const char *ext)
{
    char day[CA_DATETIME_MAX];
    ca_datetime_format(day, (int64_t)time(NULL));
    day[10] = '\0';
    snprintf(resp->content_disposition, sizeof resp->content_disposition,
             "attachment; filename=\"credanchor-%s-%s.%s\"", what, day, ext);
}

static void reply_report(ca_http_response *resp, ca_err err, const ca_errbuf *eb, char *text,
                         size_t len, bool csv)
{
    if (err) {
        ca_http_problem_err(resp, err, eb);
        return;
    }
    ca_http_reply_owned(resp, 200, csv ? "text/csv; charset=utf-8" : "application/json", text,
                        len);
}

static ca_err time_bound(ca_http_request *req, const char *name, bool end, int64_t *t,
                         ca_errbuf *eb)
{
    char v[40];
    ca_err err = ca_http_query(req, name, v, sizeof v, NULL);
    if (err == CA_ERR_NOT_FOUND)
        return CA_OK;
    if (err || ca_date_bound_parse(t, v, end))
        return ca_fail(eb, CA_ERR_INVALID, "%s: a date (YYYY-MM-DD) or a dateTime", name);
    return CA_OK;
}

static const char *const list_params[] = {"q", "status", "department", "course", "from", "to",
                                          "completedFrom", "completedTo", "after", "offset",
                                          "limit", "format", "bom", "sort", NULL};

/* Query filters of GET /v1/credentials: q (search: issue number, email or part of the name),
 * status, department, course, from/to (issue date),
 * completedFrom/completedTo (completion date; each a date or dateTime), after (the cursor: a
 * credential id), offset, limit (default 100 for JSON; every row for CSV unless given), sort
 * (issued: oldest first, the default; -issued: newest first, issue #17). Any other parameter
 * is a 400, never an unfiltered answer. */
static ca_err filter_from(ca_report_filter *f, ca_http_request *req, bool csv, ca_errbuf *eb)
{
    memset(f, 0, sizeof *f);
    f->limit = csv ? 0 : 100;
    ca_err err;
    if ((err = ca_http_query_only(req, list_params, eb)))
        return err;
    if ((err = ca_http_query(req, "status", f->status, sizeof f->status, NULL)) &&
        err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_INVALID, "status: active, revoked or suspended");
    if (f->status[0] && strcmp(f->status, "active") && strcmp(f->status, "revoked") &&
        strcmp(f->status, "suspended"))
        return ca_fail(eb, CA_ERR_INVALID, "status: active, revoked or suspended");
    if ((err = ca_http_query(req, "department", f->department, sizeof f->department, NULL)) &&
        err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_INVALID, "department: too long or badly escaped");
    if ((err = ca_http_query(req, "course", f->course, sizeof f->course, NULL)) &&
        err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_INVALID, "course: too long or badly escaped");
    if ((err = ca_http_query(req, "q", f->q, sizeof f->q, NULL)) && err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_INVALID, "q: at most %zu bytes, percent-encoded",
                       sizeof f->q - 1);
    if ((err = time_bound(req, "from", false, &f->from, eb)) ||
        (err = time_bound(req, "to", true, &f->to, eb)) ||
        (err = time_bound(req, "completedFrom", false, &f->completed_from, eb)) ||
        (err = time_bound(req, "completedTo", true, &f->completed_to, eb)))
        return err;
    char after[CA_CREDENTIAL_ID_MAX + 8];
    if ((err = ca_http_query(req, "after", after, sizeof after, NULL)) != CA_ERR_NOT_FOUND) {
        if (err || ca_credential_id_parse(f->after, after))
            return ca_fail(eb, CA_ERR_INVALID, "after: a credential id (urn:uuid:...)");
        f->has_after = true;
    }
    char sort[16];
    if ((err = ca_http_query(req, "sort", sort, sizeof sort, NULL)) != CA_ERR_NOT_FOUND) {
        if (err || (strcmp(sort, "issued") && strcmp(sort, "-issued")))
            return ca_fail(eb, CA_ERR_INVALID, "sort: issued (oldest first) or -issued");
        f->newest_first = sort[0] == '-';
    }
    if ((err = ca_http_query_u64(req, "offset", &f->offset, eb)) && err != CA_ERR_NOT_FOUND)
        return err;
    if ((err = ca_http_query_u64(req, "limit", &f->limit, eb)) && err != CA_ERR_NOT_FOUND)
        return err;
    if (err == CA_OK && (f->limit < 1 || f->limit > CA_REPORT_LIMIT_MAX))
        return ca_fail(eb, CA_ERR_INVALID, "limit: 1 to %d", CA_REPORT_LIMIT_MAX);
    return CA_OK;
}

/* Link: <...?after=NEXT&(the other parameters)>; rel="next" for the following page. */
static void next_link(ca_http_request *req, ca_http_response *resp, const char *base,
                      const char *next, const char *const *params)
{
    int n = snprintf(resp->link, sizeof resp->link, "<%s?after=%s", base, next);
    for (const char *const *p = params; *p && n > 0 && (size_t)n < sizeof resp->link; p++) {
        const char *raw = strcmp(*p, "after") ? ca_http_query_raw(req, *p) : NULL;
        bool safe = raw != NULL; /* as sent: percent-encoded URL characters, no <, >, " */
        for (const char *c = raw; safe && *c; c++)
            safe = *c > 0x20 && *c < 0x7f && *c != '<' && *c != '>' && *c != '"';
        if (safe)
            n += snprintf(resp->link + n, sizeof resp->link - (size_t)n, "&%s=%s", *p, raw);
    }
    if (n > 0 && (size_t)n + 14 < sizeof resp->link)
        snprintf(resp->link + n, sizeof resp->link - (size_t)n, ">; rel=\"next\"");
    else
        resp->link[0] = '\0'; /* too long to give whole: the body's "next" still says it */
}

static ssize_t csv_stream_read(void *ctx, char *buf, size_t max)
{
    return ca_report_csv_read(ctx, buf, max);
}

static void csv_stream_free(void *ctx)
{
    ca_report_csv_close(ctx);
}

static ssize_t fd_stream_read(void *ctx, char *buf, size_t max)
{
    int fd = (int)(intptr_t)ctx;
    for (;;) {
        ssize_t n = read(fd, buf, max);
        if (n >= 0 || errno != EINTR)
            return n < 0 ? -1 : n;
    }
}

static void fd_stream_close(void *ctx)
{
    close((int)(intptr_t)ctx);
}

/* GET /v1/credentials?format=xlsx (issue #17): the workbook of every match
 * (node/report_xlsx.h), written to an unlinked file in the data dir, then streamed. */
static void list_xlsx(ca_http_request *req, ca_http_response *resp)
{
    ca_report_filter f;
    ca_errbuf eb = {{0}};
    ca_err err = filter_from(&f, req, true, &eb);
    int fd = -1;
    if (!err)
        err = ca_report_xlsx(&fd, req->node->store, &f, req->node->cfg.node_data_dir, &eb);
    if (err) {
        if (err == CA_ERR_IO)
            ca_node_log(CA_NODE_LOG_ERROR, NULL, "XLSX export: %s", eb.msg);
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    export_disposition(resp, "credentials", "xlsx");
    resp->audit_read = true; /* names and issue numbers leave the node */
    snprintf(resp->detail, sizeof resp->detail, "export: credentials.xlsx");
    ca_http_reply_stream(resp, 200,
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         fd_stream_read, fd_stream_close, (void *)(intptr_t)fd);
}

static void h_list(ca_http_request *req, ca_http_response *resp)
{
    char format[8];
    if (ca_http_query(req, "format", format, sizeof format, NULL) == CA_OK &&
        strcmp(format, "xlsx") == 0) {
        list_xlsx(req, resp);
        return;
    }
    bool csv, bom;
    if (!report_format(req, resp, &csv) || !report_bom(req, resp, &bom))
        return;
    ca_report_filter f;
    ca_errbuf eb = {{0}};
    ca_err err = filter_from(&f, req, csv, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    if (csv) { /* every matching row, streamed while the client reads (issue #12 item 6) */
        ca_report_stream *s;
        if ((err = ca_report_csv_open(&s, req->node->store, &f, bom, &eb))) {
            ca_http_problem_err(resp, err, &eb);
            return;
        }
        export_disposition(resp, "credentials", "csv");
        resp->audit_read = true; /* names and issue numbers leave the node */
        snprintf(resp->detail, sizeof resp->detail, "export: credentials.csv");
        ca_http_reply_stream(resp, 200, "text/csv; charset=utf-8", csv_stream_read,
                             csv_stream_free, s);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    err = ca_report_list(&text, &len, req->node->store, &f, &eb);
    if (!err) { /* the cursor of the next page, for the Link header too */
        json_t *doc = json_loadb(text, len, 0, NULL);
        const char *next = ca_json_str(doc, "next");
        if (next)
            next_link(req, resp, "/v1/credentials", next, list_params);
        json_decref(doc);
    }
    reply_report(resp, err, &eb, text, len, false);
}

static void h_summary(ca_http_request *req, ca_http_response *resp)
{
    static const char *const params[] = {"format", "bom", "from", "to", NULL};
    bool csv, bom;
    ca_errbuf eb = {{0}};
    int64_t from = 0, to = 0; /* the issue date range (issue #17: the dashboard's from/to) */
    ca_err err = ca_http_query_only(req, params, &eb);
    if (!err && !(err = time_bound(req, "from", false, &from, &eb)) &&
        !(err = time_bound(req, "to", true, &to, &eb)) && from && to && from > to)
        err = ca_fail(&eb, CA_ERR_INVALID, "from: after to");
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    if (!report_format(req, resp, &csv) || !report_bom(req, resp, &bom))
        return;
    char *text = NULL;
    size_t len = 0;
    err = ca_report_summary_range(&text, &len, req->node->store, from, to, csv, bom, &eb);
    if (csv)
        export_disposition(resp, "summary", "csv");
    reply_report(resp, err, &eb, text, len, csv);
}

/* GET /v1/reports/summary.pdf?lang=ko|en (auditor; issue #17): the summary as a printable
 * report (node/report_pdf.h) with the audit chain's state and the log size; audited as an
 * export. Without ?lang=, Accept-Language chooses (Korean or English). */
static void h_summary_pdf(ca_http_request *req, ca_http_response *resp)
{
    static const char *const params[] = {"lang", NULL};
    ca_errbuf eb = {{0}};
    ca_err err = ca_http_query_only(req, params, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    char lang[8] = "";
    ca_http_query(req, "lang", lang, sizeof lang, NULL);
    if (lang[0] && strcmp(lang, "ko") && strcmp(lang, "en")) {
        ca_http_problem(resp, 400, "lang: ko or en");
        return;
    }
    char *text = NULL;
    size_t len = 0;
    if ((err = ca_report_summary(&text, &len, req->node->store, false, false, &eb))) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    json_t *summary = json_loadb(text, len, 0, NULL);
    free(text);
    uint64_t entries = 0;
    ca_errbuf aeb = {{0}};
    ca_report_pdf_meta meta = {
        .issuer_name = req->node->cfg.credentials_issuer_name,
        .lang = lang[0] ? lang
                        : ca_page_lang_from_header(ca_http_header(req, "Accept-Language")),
        .generated_at = (int64_t)time(NULL),
        .log_size = ca_log_size(req->node->log),
        .audit_intact = ca_audit_verify(req->node->store, &entries, &aeb) == CA_OK,
        .audit_entries = entries};
    char *pdf = NULL;
    err = summary ? ca_report_summary_pdf(&pdf, &len, summary, &meta, &eb)
                  : ca_fail(&eb, CA_ERR_NOMEM, "out of memory");
    json_decref(summary);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    ca_http_reply_owned(resp, 200, "application/pdf", pdf, len);
    export_disposition(resp, "summary", "pdf");
    resp->audit_read = true;
    snprintf(resp->detail, sizeof resp->detail, "export: summary.pdf");
}

/* GET /v1/audit (auditor; issue #12 item 7): the audit log oldest first, ?since= ?until=
 * (a date or dateTime), ?tokenId= (a token id or "cli"), ?after= (a sequence number: the
 * cursor), ?limit= (1..1000, default 100). {"entries":[...],"next":N|null} and a Link header
 * to the next page. */
static void h_audit(ca_http_request *req, ca_http_response *resp)
{
    static const char *const params[] = {"since", "until", "tokenId", "after", "limit", NULL};
    ca_audit_query q = {.limit = 100};
    uint64_t limit = q.limit;
    ca_errbuf eb = {{0}};
    ca_err err = ca_http_query_only(req, params, &eb);
    if (!err)
        err = time_bound(req, "since", false, &q.since, &eb);
    if (!err)
        err = time_bound(req, "until", true, &q.until, &eb);
    if (!err) {
        ca_err terr = ca_http_query(req, "tokenId", q.token_id, sizeof q.token_id, NULL);
        if (terr && terr != CA_ERR_NOT_FOUND)
            err = ca_fail(&eb, CA_ERR_INVALID, "tokenId: a token id or \"cli\"");
    }
    if (!err && (err = ca_http_query_u64(req, "after", &q.after, &eb)) == CA_ERR_NOT_FOUND)
        err = CA_OK;
    if (!err && (err = ca_http_query_u64(req, "limit", &limit, &eb)) == CA_ERR_NOT_FOUND)
        err = CA_OK;
    if (!err && (limit < 1 || limit > CA_AUDIT_LIST_MAX))
        err = ca_fail(&eb, CA_ERR_INVALID, "limit: 1 to %d", CA_AUDIT_LIST_MAX);
    json_t *entries = NULL;
    uint64_t next = 0;
    q.limit = (size_t)limit;
    if (!err)
        err = ca_audit_list(req->node->store, &q, &entries, &next, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    if (next) {
        char n[24];
        snprintf(n, sizeof n, "%llu", (unsigned long long)next);
        next_link(req, resp, "/v1/audit", n, params);
    }
    ca_http_reply_json(resp, 200,
                       json_pack("{s:o, s:o}", "entries", entries, "next",
                                 next ? json_integer((json_int_t)next) : json_null()));
}

static void h_status(ca_http_request *req, ca_http_response *resp)
{
    cred_routes *c = req->ctx;
    const char *p = req->params[0];
    char *end;
    unsigned long id = strtoul(p, &end, 10);
    if (*end || p[0] < '1' || p[0] > '9' || id > UINT32_MAX) {
        ca_http_problem(resp, 404, "no status list %.32s", p);
        return;
    }
    int64_t at = 0;
    char ts[40];
    if (ca_http_query(req, "timestamp", ts, sizeof ts, NULL) == CA_OK) {
        /* ?timestamp= the version in force then: a dateTime or unix seconds. */
        char *tend;
        long long secs = strtoll(ts, &tend, 10);
        if (!*tend && ts[0] >= '0' && ts[0] <= '9' && secs > 0)
            at = secs;
        else if (ca_datetime_parse(&at, ts) || at <= 0) {
            ca_http_problem(resp, 400, "timestamp: a dateTime (2026-06-01T09:00:00Z) or unix "
                            "seconds");
            return;
        }
    }
    ca_status_list_version v;
    ca_errbuf eb = {{0}};
    ca_err err = ca_issuer_status_list(c->issuer, (uint32_t)id, at, &v, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    snprintf(resp->etag, sizeof resp->etag, "%s", v.etag);
    /* A historical version never changes; the latest may, after ttl. */
    resp->cache_control = at ? "public, max-age=31536000, immutable" : c->status_cache;
    const char *inm = ca_http_header(req, "If-None-Match");
    if (inm && strstr(inm, v.etag)) {
        free(v.body);
        ca_http_reply_text(resp, 304, "application/vc", "", 0);
        return;
    }
    ca_http_reply_owned(resp, 200, "application/vc", v.body, v.len);
}

/* The readable facts of each credential a report page lists (JSON of ca_report_list), with
 * its page URL; NULL with the answer made. */
static ca_credential_view *views_of(ca_http_request *req, ca_http_response *resp,
                                   const json_t *rows, size_t *n)
{
    cred_routes *c = req->ctx;
    *n = json_array_size(rows);
    ca_credential_view *views = calloc(*n ? *n : 1, sizeof *views);
    if (!views) {
        ca_http_problem(resp, 500, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < *n; i++) {
        const char *id = json_string_value(json_object_get(json_array_get(rows, i), "id"));
        char *doc = NULL;
        size_t len = 0;
        uint8_t uuid[16];
        ca_errbuf eb = {{0}};
        ca_err err = id ? ca_credential_find(req->node->store, id, uuid, NULL, &doc, &len, &eb)
                        : CA_ERR_NOT_FOUND;
        if (!err)
            err = ca_credential_view_load(&views[i], NULL, doc, len, "", &eb);
        free(doc);
        if (err) {
            free(views);
            ca_node_log(CA_NODE_LOG_ERROR, NULL, "certificates.zip: %s", eb.msg);
            ca_http_problem(resp, 500, "a listed credential cannot be read");
            return NULL;
        }
        ca_issuer_page_url(c->issuer, id, views[i].page_url, sizeof views[i].page_url);
    }
    return views;
}

static ssize_t zip_stream_read(void *ctx, char *buf, size_t max)
{
    return ca_zip_stream_read(ctx, buf, max);
}

static void zip_stream_free(void *ctx)
{
    ca_zip_stream_free(ctx);
}

/* GET /v1/reports/certificates.zip: the certificate PDFs of every credential the list
 * filters select (status, department, course, issue and completion dates; the admin view's
 * bulk download), at most CERTIFICATES_ZIP_MAX, streamed: rendered on the cores while the
 * client reads (node/certificate.h ca_zip_stream). */
static void h_certificates_zip(ca_http_request *req, ca_http_response *resp)
{
    cred_routes *c = req->ctx;
    ca_report_filter f;
    ca_errbuf eb = {{0}};
    ca_err err = filter_from(&f, req, false, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    f.offset = 0;
    f.has_after = false;
    f.limit = CERTIFICATES_ZIP_MAX;
    char *text = NULL;
    size_t len = 0;
    if ((err = ca_report_list(&text, &len, req->node->store, &f, &eb))) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    json_t *doc = json_loadb(text, len, 0, NULL);
    free(text);
    if ((uint64_t)json_integer_value(json_object_get(doc, "total")) > CERTIFICATES_ZIP_MAX) {
        json_decref(doc);
        ca_http_problem(resp, 413, "more than %d credentials match: narrow the filters",
                        CERTIFICATES_ZIP_MAX);
        return;
    }
    size_t n = 0;
    ca_credential_view *views = views_of(req, resp, json_object_get(doc, "credentials"), &n);
    json_decref(doc);
    if (!views)
        return;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    ca_zip_stream *z;
    err = ca_zip_stream_open(&z, views, n, c->certificates_dir,
                             cores > 1 ? (unsigned)(cores - 1) : 0, &eb);
    if (err) {
        ca_node_log(CA_NODE_LOG_ERROR, NULL, "certificates.zip: %s", eb.msg);
        ca_http_problem(resp, 500, "the certificates cannot be made now (%s)", ca_strerror(err));
        return;
    }
    ca_http_reply_stream(resp, 200, "application/zip", zip_stream_read, zip_stream_free, z);
    snprintf(resp->content_disposition, sizeof resp->content_disposition,
             "attachment; filename=\"certificates.zip\"");
    resp->audit_read = true; /* every selected person's certificate leaves the node */
    snprintf(resp->detail, sizeof resp->detail, "export: certificates.zip, %zu certificates",
             n);
}

static const ca_http_route credential_routes[] = {
    {"POST", "/v1/credentials", CA_ROLE_ISSUER, "application/json", h_issue, NULL},
    {"POST", "/v1/credentials/batch", CA_ROLE_ISSUER, "application/json,text/csv,"
     CA_XLSX_MEDIA_TYPE, h_batch, NULL},
    {"POST", "/v1/rosters/csv", CA_ROLE_ISSUER, CA_XLSX_MEDIA_TYPE, h_roster_csv, NULL},
    {"POST", "/v1/credentials/{id}/revoke", CA_ROLE_REVOKER, NULL, h_revoke, NULL},
    {"POST", "/v1/credentials/{id}/suspend", CA_ROLE_REVOKER, NULL, h_suspend, NULL},
    {"POST", "/v1/credentials/{id}/reinstate", CA_ROLE_REVOKER, NULL, h_reinstate, NULL},
    {"POST", "/v1/credentials/lookup", 0, "application/json", h_lookup, NULL},
    {"GET", "/v1/credentials/{id}", 0, NULL, h_credential, NULL},
    {"GET", "/v1/credentials/{id}/certificate.pdf", 0, NULL, h_certificate, NULL},
    {"GET", "/v1/credentials/{id}/badge.png", 0, NULL, h_badge_png, NULL},
    {"GET", "/v1/credentials/{id}/badge.svg", 0, NULL, h_badge_svg, NULL},
    {"GET", "/v1/credentials/{id}/verification", 0, NULL, h_verification,
     verification_may_wait},
    {"GET", "/v1/credentials", CA_ROLE_AUDITOR, NULL, h_list, NULL},
    {"GET", "/v1/reports/summary", CA_ROLE_AUDITOR, NULL, h_summary, NULL},
    {"GET", "/v1/reports/summary.pdf", CA_ROLE_AUDITOR, NULL, h_summary_pdf, NULL},
    {"GET", "/v1/reports/certificates.zip", CA_ROLE_AUDITOR, NULL, h_certificates_zip, NULL},
    {"GET", "/v1/audit", CA_ROLE_AUDITOR, NULL, h_audit, NULL},
    {"GET", "/v1/status/{listId}", 0, NULL, h_status, NULL},
};

/* /metrics lines of the issuance engine. */
static void issuer_metrics(void *ctx, FILE *f)
{
    ca_issuer_stats st;
    ca_issuer_get_stats(((cred_routes *)ctx)->issuer, &st);
    fprintf(f,
            "# HELP credanchor_credentials_issued_total Credentials issued by this process.\n"
            "# TYPE credanchor_credentials_issued_total counter\n"
            "credanchor_credentials_issued_total %llu\n"
            "# HELP credanchor_status_changes_total Revocations, suspensions and reinstatements.\n"
            "# TYPE credanchor_status_changes_total counter\n"
            "credanchor_status_changes_total %llu\n"
            "# HELP credanchor_status_list_versions_total Status list versions published.\n"
            "# TYPE credanchor_status_list_versions_total counter\n"
            "credanchor_status_list_versions_total %llu\n"
            "# HELP credanchor_status_lists Status lists in use.\n"
            "# TYPE credanchor_status_lists gauge\n"
            "credanchor_status_lists %llu\n",
            (unsigned long long)st.issued, (unsigned long long)st.status_changes,
            (unsigned long long)st.list_versions, (unsigned long long)st.lists);
}

ca_err ca_credential_routes_register(struct ca_http_server *srv, const ca_config *cfg,
                                     ca_issuer *is, ca_resolver *resolver, ca_errbuf *eb)
{
    static cred_routes ctx; /* one server per process */
    ctx.issuer = is;
    ctx.resolver = resolver;
    ctx.certificates_dir = cfg->credentials_certificates_dir;
    ctx.lookups = ca_rate_limit_create_burst(LOOKUPS_PER_MINUTE / 60.0, LOOKUP_BURST);
    ctx.lookups_all = ca_rate_limit_create_burst(LOOKUPS_ALL_PER_S, LOOKUPS_ALL_PER_S);
    if (!ctx.lookups || !ctx.lookups_all)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    snprintf(ctx.status_cache, sizeof ctx.status_cache, "public, max-age=%llu",
             (unsigned long long)cfg->credentials_status_ttl);
    ca_http_add_metrics_hook(srv, issuer_metrics, &ctx);
    return ca_http_add_routes(srv, credential_routes,
                              sizeof credential_routes / sizeof credential_routes[0], &ctx, eb);
}
