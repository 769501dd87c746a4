/* node/bulk.c — bulk issuance from a participant list and templates (SPEC §5,
 * node/bulk.h). */
#include "node/bulk.h"
#include "node/pages.h"

#include "credanchor/credential.h"
#include "credanchor/crypto.h"
#include "credanchor/csv.h"
#include "credanchor/encoding.h"
#include "credanchor/json_fields.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { COL_EXTERNAL_ID, COL_NAME, COL_EMAIL, COL_DEPARTMENT, COL_COURSE, COL_COMPLETED, NCOLS };

/* Accepted names per column (case-insensitive). */
static const char *const col_names[NCOLS][3] = {
    [COL_EXTERNAL_ID] = {"externalId", "external_id", NULL},
    [COL_NAME] = {"name", NULL, NULL},
    [COL_EMAIL] = {"email", NULL, NULL},
    [COL_DEPARTMENT] = {"department", NULL, NULL},
    [COL_COURSE] = {"course", "achievementId", "achievement"},
    [COL_COMPLETED] = {"completedAt", "completed_at", NULL},
};

static int column_of(const char *name)
{
    for (int c = 0; c < NCOLS; c++)
        for (int i = 0; i < 3 && col_names[c][i]; i++)
            if (strcasecmp(name, col_names[c][i]) == 0)
                return c;
    return -1;
}

static void trim(const char **s, size_t *len)
{
    while (*len && isspace((unsigned char)**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

static bool email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    if (!at || at == e || !at[1] || strchr(at + 1, '@') || !strchr(at + 1, '.'))
        return false;
    for (const char *p = e; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == ',' || *p == '<' || *p == '>')
            return false;
    return strlen(e) <= 254;
}

static bool course_name_ok(const char *c)
{
    size_t n = strlen(c);
    if (n < 1 || n > 128 || c[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)c[i]) && c[i] != '.' && c[i] != '_' && c[i] != '-')
            return false;
    return true;
}

/* Fills a row from its column values (each values[c], lens[c]; NULL when absent). */
static ca_err fill_row(ca_bulk_row *row, const char *const values[NCOLS],
                       const size_t lens[NCOLS])
{
    size_t total = 0, tl[NCOLS];
    const char *tv[NCOLS];
    for (int c = 0; c < NCOLS; c++) {
        tv[c] = values[c] ? values[c] : "";
        tl[c] = values[c] ? lens[c] : 0;
        trim(&tv[c], &tl[c]);
        total += tl[c] + 1;
    }
    row->storage = malloc(total);
    if (!row->storage)
        return CA_ERR_NOMEM;
    char *w = row->storage;
    const char *out[NCOLS];
    for (int c = 0; c < NCOLS; c++) {
        memcpy(w, tv[c], tl[c]);
        w[tl[c]] = '\0';
        out[c] = w;
        w += tl[c] + 1;
    }
    row->p = (ca_participant){.external_id = out[COL_EXTERNAL_ID], .name = out[COL_NAME],
                              .email = out[COL_EMAIL], .department = out[COL_DEPARTMENT],
                              .course = out[COL_COURSE]};
    /* Row checks (SPEC §5: a malformed row gets its own error). */
    if (!row->p.external_id[0])
        snprintf(row->error, sizeof row->error, "externalId: required");
    else if (strlen(row->p.external_id) > 256)
        snprintf(row->error, sizeof row->error, "externalId: longer than 256 characters");
    else if (!row->p.email[0])
        snprintf(row->error, sizeof row->error, "email: required (it is hashed into the "
                                                "credential)");
    else if (!email_ok(row->p.email))
        snprintf(row->error, sizeof row->error, "email: \"%.64s\" is not an email address",
                 row->p.email);
    else if (row->p.course[0] && !course_name_ok(row->p.course))
        snprintf(row->error, sizeof row->error, "course: \"%.64s\" must be 1-128 letters, "
                 "digits, '.', '_' or '-'", row->p.course);
    const char *done = out[COL_COMPLETED];
    if (!row->error[0] && done[0] && ca_completion_date_parse(&row->p.completed_at, done))
        snprintf(row->error, sizeof row->error, "completedAt: \"%.40s\" is not a date "
                 "(YYYY-MM-DD) or a dateTime with a zone", done);
    return CA_OK;
}

static ca_err grow(ca_bulk *b, size_t max_rows, ca_errbuf *eb)
{
    if (b->n >= max_rows)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "more than %zu participant rows", max_rows);
    if ((b->n & (b->n - 1)) == 0) { /* at 0, 1, 2, 4, ...: double */
        ca_bulk_row *r = realloc(b->rows, (b->n ? 2 * b->n : 1) * sizeof *r);
        if (!r)
            return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        b->rows = r;
    }
    memset(&b->rows[b->n], 0, sizeof b->rows[0]);
    return CA_OK;
}

ca_err ca_bulk_parse_csv(ca_bulk *b, const char *data, size_t len, size_t max_rows,
                         ca_errbuf *eb)
{
    memset(b, 0, sizeof *b);
    ca_csv_row *row = malloc(sizeof *row);
    if (!row)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_csv_reader r;
    ca_csv_init(&r, data, len);
    int map[CA_CSV_FIELDS_MAX];
    ca_errbuf reb = {{0}};
    ca_err err = ca_csv_next(&r, row, &reb);
    if (err) {
        err = ca_fail(eb, CA_ERR_INVALID, "participant list: %s",
                      err == CA_ERR_NOT_FOUND ? "empty (a header row is needed)" : reb.msg);
        goto out;
    }
    bool have[NCOLS] = {false};
    for (size_t i = 0; i < row->nfields; i++) {
        map[i] = column_of(row->fields[i]);
        if (map[i] >= 0)
            have[map[i]] = true;
    }
    if (!have[COL_EXTERNAL_ID] || !have[COL_EMAIL]) {
        err = ca_fail(eb, CA_ERR_INVALID, "participant list: the header row must name the "
                      "columns externalId and email (also: name, department, course, "
                      "completedAt)");
        goto out;
    }
    size_t header_fields = row->nfields;
    for (;;) {
        reb.msg[0] = '\0';
        ca_err rerr = ca_csv_next(&r, row, &reb);
        if (rerr == CA_ERR_NOT_FOUND)
            break;
        if ((err = grow(b, max_rows, eb)))
            goto out;
        ca_bulk_row *br = &b->rows[b->n];
        br->line = row->line;
        const char *values[NCOLS] = {NULL};
        size_t lens[NCOLS] = {0};
        if (rerr) {
            snprintf(br->error, sizeof br->error, "%.250s", reb.msg);
        } else {
            if (row->nfields != header_fields)
                snprintf(br->error, sizeof br->error, "has %zu fields, the header %zu",
                         row->nfields, header_fields);
            for (size_t i = 0; i < row->nfields && i < header_fields; i++)
                if (map[i] >= 0) {
                    values[map[i]] = row->fields[i];
                    lens[map[i]] = row->lens[i];
                }
        }
        char keep[CA_ISSUE_ERROR_MAX];
        snprintf(keep, sizeof keep, "%s", br->error);
        if (fill_row(br, values, lens)) {
            err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
            b->n++;
            goto out;
        }
        if (keep[0]) /* the parse error outranks the field checks */
            snprintf(br->error, sizeof br->error, "%s", keep);
        b->n++;
    }
out:
    free(row);
    if (err)
        ca_bulk_free(b);
    return err;
}

ca_err ca_bulk_parse_json(ca_bulk *b, const json_t *array, size_t max_rows, ca_errbuf *eb)
{
    memset(b, 0, sizeof *b);
    if (!json_is_array(array))
        return ca_fail(eb, CA_ERR_INVALID, "participant list: must be a JSON array of "
                       "objects");
    size_t i;
    const json_t *o;
    ca_err err;
    json_array_foreach(array, i, o) {
        if ((err = grow(b, max_rows, eb))) {
            ca_bulk_free(b);
            return err;
        }
        ca_bulk_row *br = &b->rows[b->n];
        br->line = i + 1;
        const char *values[NCOLS] = {NULL};
        size_t lens[NCOLS] = {0};
        if (!json_is_object(o)) {
            snprintf(br->error, sizeof br->error, "must be an object");
        } else {
            const char *k;
            const json_t *v;
            json_object_foreach((json_t *)o, k, v) {
                int c = column_of(k);
                if (c < 0)
                    continue;
                if (!json_is_string(v)) {
                    snprintf(br->error, sizeof br->error, "%s: must be a string", k);
                    continue;
                }
                values[c] = json_string_value(v);
                lens[c] = json_string_length(v);
            }
        }
        char keep[CA_ISSUE_ERROR_MAX];
        snprintf(keep, sizeof keep, "%s", br->error);
        if (fill_row(br, values, lens)) {
            b->n++;
            ca_bulk_free(b);
            return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        }
        if (keep[0])
            snprintf(br->error, sizeof br->error, "%s", keep);
        b->n++;
    }
    return CA_OK;
}

void ca_bulk_free(ca_bulk *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->rows[i].storage);
    free(b->rows);
    b->rows = NULL;
    b->n = 0;
}

ca_err ca_template_load(json_t **tmpl, const char *path, ca_errbuf *eb)
{
    *tmpl = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ca_fail(eb, errno == ENOENT ? CA_ERR_NOT_FOUND : CA_ERR_IO,
                       "template %s: %s", path, strerror(errno));
    json_error_t jerr;
    char *buf = malloc(CA_TEMPLATE_MAX + 1);
    size_t n = buf ? fread(buf, 1, CA_TEMPLATE_MAX + 1, f) : 0;
    fclose(f);
    if (!buf)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (n > CA_TEMPLATE_MAX) {
        free(buf);
        return ca_fail(eb, CA_ERR_TOO_LARGE, "template %s: larger than %u bytes", path,
                       CA_TEMPLATE_MAX);
    }
    json_t *t = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (!json_is_object(t)) {
        json_decref(t);
        return ca_fail(eb, CA_ERR_INVALID, "template %s: %s", path,
                       t ? "not a JSON object" : jerr.text);
    }
    const json_t *ach = json_object_get(json_object_get(t, "credentialSubject"), "achievement");
    if (!json_is_string(json_object_get(ach, "id"))) {
        json_decref(t);
        return ca_fail(eb, CA_ERR_INVALID, "template %s: credentialSubject.achievement.id is "
                       "required", path);
    }
    *tmpl = t;
    return CA_OK;
}

/* The unsigned credential of one row: the template plus the recipient (bulk.h). */
static json_t *apply_template(const json_t *tmpl, const ca_participant *p)
{
    json_t *c = json_deep_copy(tmpl);
    if (!c)
        return NULL;
    json_t *subject = json_object_get(c, "credentialSubject");
    uint8_t salt_bytes[16];
    char salt[33];
    if (!json_is_object(subject) || ca_random_bytes(salt_bytes, sizeof salt_bytes)) {
        json_decref(c);
        return NULL;
    }
    ca_hex_encode(salt, salt_bytes, sizeof salt_bytes);
    /* A template's own options (never signed): "credanchor": {"showRecipientName": false}
     * keeps the roster's name out of the credential, so neither the page nor the certificate
     * shows it (issue #15: default on, the page's URL being unguessable). */
    const json_t *opts = json_object_get(c, "credanchor");
    bool show_name = !json_is_false(json_object_get(opts, "showRecipientName"));
    json_object_del(c, "credanchor");
    json_t *ids = json_array();
    json_array_append_new(ids, ca_identity_object(p->email, salt));
    if (p->name[0] && show_name)
        json_array_append_new(ids, json_pack("{s:s, s:s, s:s, s:b}", "type", "IdentityObject",
                                             "identityHash", p->name, "identityType", "name",
                                             "hashed", 0));
    json_object_set_new(subject, "identifier", ids);
    if (p->completed_at) {
        char when[CA_DATETIME_MAX];
        ca_datetime_format(when, p->completed_at);
        json_object_set_new(c, "awardedDate", json_string(when));
    }
    return c;
}

/* Template cache for one run: by course name. */
typedef struct tmpl_entry {
    char course[129];
    json_t *tmpl;     /* NULL: failed to load (error kept) */
    char error[CA_ISSUE_ERROR_MAX];
} tmpl_entry;

static const json_t *template_for(tmpl_entry **cache, size_t *n, const ca_bulk_options *o,
                                  const ca_participant *p, const char **error)
{
    *error = NULL;
    if (o->template_fixed) {
        const char *ach = ca_json_str(
            json_object_get(json_object_get(o->template_fixed, "credentialSubject"),
                            "achievement"),
            "id");
        if (p->course[0] && (!o->template_name || strcmp(p->course, o->template_name)) &&
            (!ach || strcmp(p->course, ach))) {
            *error = "course: names another achievement than the template";
            return NULL;
        }
        return o->template_fixed;
    }
    if (!p->course[0]) {
        *error = "course: required to choose the template";
        return NULL;
    }
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*cache)[i].course, p->course) == 0) {
            *error = (*cache)[i].tmpl ? NULL : (*cache)[i].error;
            return (*cache)[i].tmpl;
        }
    tmpl_entry *c = realloc(*cache, (*n + 1) * sizeof **cache);
    if (!c) {
        *error = "out of memory";
        return NULL;
    }
    *cache = c;
    tmpl_entry *e = &c[(*n)++];
    memset(e, 0, sizeof *e);
    snprintf(e->course, sizeof e->course, "%s", p->course);
    char path[CA_CONFIG_STR_MAX + 160];
    snprintf(path, sizeof path, "%s/%s.json", o->templates_dir, p->course);
    ca_errbuf eb = {{0}};
    ca_err err = ca_template_load(&e->tmpl, path, &eb);
    if (err == CA_ERR_NOT_FOUND)
        snprintf(e->error, sizeof e->error, /* names the key, not the server's path */
                 "course: no template named \"%s\" (%s.json in credentials.templates_dir)",
                 p->course, p->course);
    else if (err)
        snprintf(e->error, sizeof e->error, "%.250s", eb.msg);
    *error = e->tmpl ? NULL : e->error;
    return e->tmpl;
}

static json_t *row_result(const ca_bulk_row *row, const char *status)
{
    return json_pack("{s:I, s:s, s:s}", "row", (json_int_t)row->line, "externalId",
                     row->p.external_id, "status", status);
}

/* One ca_bulk_issue run: the tallies and results so far, the chunk being issued. */
typedef struct bulk_run {
    ca_issuer *is;
    const ca_bulk_options *o;
    json_t *results;
    size_t issued, existing, enrolled, failed;
    ca_issue_item *items;  /* the chunk's items; row_of[k] is item k's row */
    size_t *row_of;
    tmpl_entry *cache;
    size_t ncache;
} bulk_run;

/* A row that failed: its error result. */
static void row_failed(bulk_run *run, const ca_bulk_row *row, const char *error)
{
    json_t *r = row_result(row, "error");
    json_object_set_new(r, "error", json_string(error));
    json_array_append_new(run->results, r);
    run->failed++;
}

/* Fills run->items with rows [start, end) that can be issued (the others fail at once);
 * *nitems counts them, also when an error stops the chunk. */
static ca_err prepare_chunk(bulk_run *run, ca_bulk *b, size_t start, size_t end, size_t *nitems,
                            ca_errbuf *eb)
{
    const ca_bulk_options *o = run->o;
    *nitems = 0;
    for (size_t i = start; i < end; i++) {
        ca_bulk_row *row = &b->rows[i];
        const char *terr = NULL;
        if (row->error[0]) {
            row_failed(run, row, row->error);
            continue;
        }
        const json_t *tmpl = template_for(&run->cache, &run->ncache, o, &row->p, &terr);
        if (!tmpl) {
            row_failed(run, row, terr);
            continue;
        }
        ca_issue_item *it = &run->items[*nitems];
        memset(it, 0, sizeof *it);
        it->format = o->format;
        it->alg = o->alg;
        it->participant = &row->p;
        it->audit = o->audit;
        if (row->p.completed_at && !(it->credential = apply_template(tmpl, &row->p)))
            return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        run->row_of[(*nitems)++] = i;
    }
    return CA_OK;
}

/* Item it's outcome (err: the chunk's own failure, its message in eb) into the tallies and,
 * unless o->errors_only drops it, the results; then clears the item. */
static void record_item(bulk_run *run, ca_issue_item *it, const ca_bulk_row *row, ca_err err,
                        const ca_errbuf *eb)
{
    json_t *r;
    if (err) {
        r = row_result(row, "error");
        json_object_set_new(r, "error", json_string(eb->msg));
        run->failed++;
    } else if (it->err) {
        r = row_result(row, "error");
        json_object_set_new(r, "error", json_string(it->error));
        run->failed++;
    } else if (run->o->errors_only) {
        r = NULL;
        if (!it->credential)
            run->enrolled++;
        else if (it->existing)
            run->existing++;
        else
            run->issued++;
    } else if (!it->credential) {
        r = row_result(row, "enrolled");
        run->enrolled++;
    } else {
        char hex[2 * CA_HASH_SIZE + 1];
        ca_hash_to_hex(hex, &it->digest);
        r = row_result(row, it->existing ? "existing" : "issued");
        json_object_set_new(r, "id", json_string(it->id));
        json_object_set_new(r, "issueNumber", json_string(it->issue_number));
        json_object_set_new(r, "digest", json_string(hex));
        json_object_set_new(r, "leafIndex", json_integer((json_int_t)it->leaf_index));
        char page[CA_PAGE_URL_MAX];
        ca_issuer_page_url(run->is, it->id, page, sizeof page);
        json_object_set_new(r, "page", json_string(page));
        if (it->existing)
            run->existing++;
        else
            run->issued++;
    }
    if (r)
        json_array_append_new(run->results, r);
    json_decref(it->credential);
    ca_issue_item_clear(it);
}

/* One row of ca_bulk_preview into run's tallies and results. */
static ca_err preview_row(bulk_run *run, const ca_bulk_row *row, ca_errbuf *eb)
{
    const char *terr = NULL;
    if (row->error[0]) {
        row_failed(run, row, row->error);
        return CA_OK;
    }
    const json_t *tmpl = template_for(&run->cache, &run->ncache, run->o, &row->p, &terr);
    if (!tmpl) {
        row_failed(run, row, terr);
        return CA_OK;
    }
    if (!row->p.completed_at) { /* enrolled only: counts toward completion rates */
        json_array_append_new(run->results, row_result(row, "enrolled"));
        run->enrolled++;
        return CA_OK;
    }
    json_t *cred = apply_template(tmpl, &row->p);
    if (!cred)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    char id[CA_CREDENTIAL_ID_MAX];
    bool found = false;
    ca_err err = ca_issuer_issued_before(run->is, cred, &row->p, id, &found);
    json_decref(cred);
    if (err)
        return ca_fail(eb, err, "cannot read the earlier issuances");
    json_t *r = row_result(row, found ? "existing" : "new");
    if (found)
        json_object_set_new(r, "id", json_string(id));
    json_array_append_new(run->results, r);
    if (found)
        run->existing++;
    else
        run->issued++;
    return CA_OK;
}

ca_err ca_bulk_preview(ca_issuer *is, ca_bulk *b, const ca_bulk_options *o, json_t **report,
                       ca_errbuf *eb)
{
    bulk_run run = {.is = is, .o = o, .results = json_array()};
    ca_err err = run.results ? CA_OK : ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < b->n && !err; i++)
        err = preview_row(&run, &b->rows[i], eb);
    *report = err ? NULL
                  : json_pack("{s:b, s:I, s:I, s:I, s:I, s:O}", "dryRun", 1, "new",
                              (json_int_t)run.issued, "existing", (json_int_t)run.existing,
                              "enrolled", (json_int_t)run.enrolled, "failed",
                              (json_int_t)run.failed, "results", run.results);
    json_decref(run.results);
    for (size_t i = 0; i < run.ncache; i++)
        json_decref(run.cache[i].tmpl);
    free(run.cache);
    return err;
}

ca_err ca_bulk_issue(ca_issuer *is, ca_bulk *b, const ca_bulk_options *o, json_t **report,
                     ca_errbuf *eb)
{
    size_t chunk = o->chunk ? o->chunk : 1000;
    if (chunk > CA_ISSUE_BATCH_MAX)
        chunk = CA_ISSUE_BATCH_MAX;
    bulk_run run = {.is = is, .o = o, .results = json_array(), .items = calloc(chunk, sizeof *run.items),
                    .row_of = calloc(chunk, sizeof *run.row_of)};
    ca_err err = CA_OK;
    *report = NULL;
    if (!run.results || !run.items || !run.row_of) {
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t start = 0; start < b->n && !err; start += chunk) {
        size_t end = start + chunk < b->n ? start + chunk : b->n, nitems;
        err = prepare_chunk(&run, b, start, end, &nitems, eb);
        if (!err)
            err = ca_issuer_issue(is, run.items, nitems, eb);
        for (size_t k = 0; k < nitems; k++)
            record_item(&run, &run.items[k], &b->rows[run.row_of[k]], err, eb);
        if (o->progress)
            o->progress(o->progress_ctx, end, b->n);
    }
    *report = json_pack("{s:I, s:I, s:I, s:I, s:O}", "issued", (json_int_t)run.issued,
                        "existing", (json_int_t)run.existing, "enrolled",
                        (json_int_t)run.enrolled, "failed", (json_int_t)run.failed, "results",
                        run.results);
out:
    json_decref(run.results);
    for (size_t i = 0; i < run.ncache; i++)
        json_decref(run.cache[i].tmpl);
    free(run.cache);
    free(run.items);
    free(run.row_of);
    return err;
}
