/* node/reports.c — auditor reports (include/credanchor/reports.h). */
#include "credanchor/reports.h"

#include "credanchor/capbuf.h"
#include "credanchor/credential.h"
#include "credanchor/csv.h"
#include "credanchor/issuer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_MAX (512u << 20) /* the largest report body built */

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* The JSON body of a report (takes doc's reference; NULL doc: out of memory). */
static ca_err dump_report(char **out, size_t *len, json_t *doc, size_t flags, ca_errbuf *eb)
{
    *out = doc ? json_dumps(doc, flags) : NULL;
    json_decref(doc);
    if (!*out)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    *len = strlen(*out);
    return CA_OK;
}

/* ---- the list ------------------------------------------------------------------------------ */

typedef struct list_ctx {
    const ca_report_filter *f;
    json_t **rows;
    size_t n, cap;
    bool oom;
} list_ctx;

static bool collect(void *arg, const json_t *rec)
{
    list_ctx *c = arg;
    const ca_report_filter *f = c->f;
    if (f->status[0] && strcmp(str(rec, "status"), f->status))
        return true;
    if (f->department[0] && strcmp(str(rec, "department"), f->department))
        return true;
    if (f->course[0] && strcmp(str(rec, "course"), f->course) &&
        strcmp(str(rec, "achievementId"), f->course))
        return true;
    int64_t t = 0;
    if (ca_datetime_parse(&t, str(rec, "issuedAt")) == CA_OK &&
        ((f->from && t < f->from) || (f->to && t > f->to)))
        return true;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        json_t **r = realloc(c->rows, cap * sizeof *r);
        if (!r) {
            c->oom = true;
            return false;
        }
        c->rows = r;
        c->cap = cap;
    }
    c->rows[c->n++] = json_incref((json_t *)rec);
    return true;
}

static int by_issue(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(str(x, "issuedAt"), str(y, "issuedAt"));
    if (c)
        return c;
    /* Same second: by issue number (same prefix and month: the longer number is later). */
    size_t lx = strlen(str(x, "issueNumber")), ly = strlen(str(y, "issueNumber"));
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(str(x, "issueNumber"), str(y, "issueNumber"));
}

static bool csv_field(ca_capbuf *b, const char *s, bool last)
{
    size_t n = strlen(s), need = ca_csv_escape(NULL, s, n);
    char *tmp = malloc(need + 1);
    if (!tmp)
        return false;
    ca_csv_escape(tmp, s, n);
    bool ok = ca_capbuf_append(b, tmp, need) && ca_capbuf_append(b, last ? "\r\n" : ",", last ? 2 : 1);
    free(tmp);
    return ok;
}

ca_err ca_report_list(char **out, size_t *len, ca_store *store, const ca_report_filter *f,
                      bool csv, ca_errbuf *eb)
{
    *out = NULL;
    list_ctx c = {.f = f};
    ca_err err = ca_credential_scan(store, collect, &c, eb);
    if (!err && c.oom)
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (err)
        goto out;
    if (c.n) /* qsort's base may not be NULL, even for no elements */
        qsort(c.rows, c.n, sizeof *c.rows, by_issue);
    size_t start = f->offset < c.n ? (size_t)f->offset : c.n;
    size_t end = start + f->limit < c.n ? start + (size_t)f->limit : c.n;
    if (csv) {
        ca_capbuf b;
        ca_capbuf_init(&b, REPORT_MAX);
        const char *head = "issueNumber,name,type,achievement,issueDate,status,department,"
                           "course,achievementId,id\r\n";
        bool ok = ca_capbuf_append(&b, head, strlen(head));
        for (size_t i = start; ok && i < end; i++) {
            const json_t *r = c.rows[i];
            ok = csv_field(&b, str(r, "issueNumber"), false) &&
                 csv_field(&b, str(r, "name"), false) &&
                 csv_field(&b, str(r, "achievementType"), false) &&
                 csv_field(&b, str(r, "achievementName"), false) &&
                 csv_field(&b, str(r, "issuedAt"), false) &&
                 csv_field(&b, str(r, "status"), false) &&
                 csv_field(&b, str(r, "department"), false) &&
                 csv_field(&b, str(r, "course"), false) &&
                 csv_field(&b, str(r, "achievementId"), false) &&
                 csv_field(&b, str(r, "id"), true);
        }
        if (!ok) {
            ca_capbuf_free(&b);
            err = ca_fail(eb, b.overflow ? CA_ERR_TOO_LARGE : CA_ERR_NOMEM,
                          "the report is too large; narrow the filters");
            goto out;
        }
        *out = ca_capbuf_take(&b, len);
        ca_capbuf_free(&b);
        if (!*out)
            err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    json_t *list = json_array();
    for (size_t i = start; list && i < end; i++) {
        const json_t *r = c.rows[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                              str(r, "id"), "issueNumber", str(r, "issueNumber"), "name",
                              str(r, "name"), "type", str(r, "achievementType"),
                              "achievementId", str(r, "achievementId"), "achievementName",
                              str(r, "achievementName"), "department", str(r, "department"),
                              "course", str(r, "course"), "issuedAt", str(r, "issuedAt"),
                              "status", str(r, "status"), "format", str(r, "format"));
        if (o && json_object_get(r, "statusChangedAt"))
            json_object_set(o, "statusChangedAt", json_object_get(r, "statusChangedAt"));
        json_array_append_new(list, o);
    }
    json_t *doc = json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)c.n, "offset",
                            (json_int_t)f->offset, "limit", (json_int_t)f->limit,
                            "credentials", list);
    err = dump_report(out, len, doc, JSON_COMPACT, eb);
out:
    for (size_t i = 0; i < c.n; i++)
        json_decref(c.rows[i]);
    free(c.rows);
    return err;
}

/* ---- the summary ----------------------------------------------------------------------------- */

typedef struct group {
    char key[256];
    uint64_t issued, active, revoked, suspended, enrolled, completed;
} group;

typedef struct group_set {
    group *g;
    size_t n, cap;
} group_set;

typedef struct summary_ctx {
    group_set dept, course;
    group totals;
    bool oom;
} summary_ctx;

static group *group_get(group_set *s, const char *key, bool *oom)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->g[i].key, key) == 0)
            return &s->g[i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        group *g = realloc(s->g, cap * sizeof *g);
        if (!g) {
            *oom = true;
            return NULL;
        }
        s->g = g;
        s->cap = cap;
    }
    group *g = &s->g[s->n++];
    memset(g, 0, sizeof *g);
    snprintf(g->key, sizeof g->key, "%s", key);
    return g;
}

static void count(group *g, const char *status)
{
    g->issued++;
    if (strcmp(status, "revoked") == 0)
        g->revoked++;
    else if (strcmp(status, "suspended") == 0)
        g->suspended++;
    else
        g->active++;
}

static bool sum_credential(void *arg, const json_t *rec)
{
    summary_ctx *c = arg;
    const char *status = str(rec, "status");
    const char *course = str(rec, "course")[0] ? str(rec, "course") : str(rec, "achievementId");
    group *d = group_get(&c->dept, str(rec, "department"), &c->oom);
    group *k = group_get(&c->course, course, &c->oom);
    if (!d || !k)
        return false;
    count(d, status);
    count(k, status);
    count(&c->totals, status);
    return true;
}

static bool sum_participant(void *arg, const json_t *row)
{
    summary_ctx *c = arg;
    bool done = json_integer_value(json_object_get(row, "completedAt")) > 0;
    group *d = group_get(&c->dept, str(row, "department"), &c->oom);
    group *k = group_get(&c->course, str(row, "course"), &c->oom);
    if (!d || !k)
        return false;
    d->enrolled++;
    k->enrolled++;
    d->completed += done;
    k->completed += done;
    c->totals.enrolled++;
    c->totals.completed += done;
    return true;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const group *)a)->key, ((const group *)b)->key);
}

static json_t *group_json(const group *g, const char *name)
{
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", name, g->key, "issued",
                          (json_int_t)g->issued, "active", (json_int_t)g->active, "revoked",
                          (json_int_t)g->revoked, "suspended", (json_int_t)g->suspended,
                          "enrolled", (json_int_t)g->enrolled, "completed",
                          (json_int_t)g->completed);
    if (o)
        json_object_set_new(o, "completionRate",
                            g->enrolled ? json_real((double)g->completed / (double)g->enrolled)
                                        : json_null());
    return o;
}

static bool csv_group(ca_capbuf *b, const char *dimension, const group *g)
{
    char nums[200], rate[32] = "";
    if (g->enrolled)
        snprintf(rate, sizeof rate, "%.4f", (double)g->completed / (double)g->enrolled);
    snprintf(nums, sizeof nums, "%llu,%llu,%llu,%llu,%llu,%llu,%s\r\n",
             (unsigned long long)g->issued, (unsigned long long)g->active,
             (unsigned long long)g->revoked, (unsigned long long)g->suspended,
             (unsigned long long)g->enrolled, (unsigned long long)g->completed, rate);
    return csv_field(b, dimension, false) && csv_field(b, g->key, false) &&
           ca_capbuf_append(b, nums, strlen(nums));
}

ca_err ca_report_summary(char **out, size_t *len, ca_store *store, bool csv, ca_errbuf *eb)
{
    *out = NULL;
    summary_ctx c;
    memset(&c, 0, sizeof c);
    ca_err err = ca_credential_scan(store, sum_credential, &c, eb);
    if (!err)
        err = ca_participant_scan(store, sum_participant, &c, eb);
    if (!err && c.oom)
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (err)
        goto out;
    if (c.dept.n)
        qsort(c.dept.g, c.dept.n, sizeof *c.dept.g, by_key);
    if (c.course.n)
        qsort(c.course.g, c.course.n, sizeof *c.course.g, by_key);
    if (csv) {
        ca_capbuf b;
        ca_capbuf_init(&b, REPORT_MAX);
        const char *head = "dimension,key,issued,active,revoked,suspended,enrolled,completed,"
                           "completionRate\r\n";
        bool ok = ca_capbuf_append(&b, head, strlen(head));
        snprintf(c.totals.key, sizeof c.totals.key, "all");
        ok = ok && csv_group(&b, "total", &c.totals);
        for (size_t i = 0; ok && i < c.dept.n; i++)
            ok = csv_group(&b, "department", &c.dept.g[i]);
        for (size_t i = 0; ok && i < c.course.n; i++)
            ok = csv_group(&b, "course", &c.course.g[i]);
        if (ok)
            *out = ca_capbuf_take(&b, len);
        ca_capbuf_free(&b);
        if (!*out)
            err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
        goto out;
    }
    json_t *depts = json_array(), *courses = json_array();
    for (size_t i = 0; i < c.dept.n; i++)
        json_array_append_new(depts, group_json(&c.dept.g[i], "department"));
    for (size_t i = 0; i < c.course.n; i++)
        json_array_append_new(courses, group_json(&c.course.g[i], "course"));
    json_t *totals = group_json(&c.totals, "scope");
    json_object_set_new(totals, "scope", json_string("all"));
    json_t *doc = json_pack("{s:o, s:o, s:o}", "totals", totals, "byDepartment", depts,
                            "byCourse", courses);
    err = dump_report(out, len, doc, JSON_COMPACT | JSON_REAL_PRECISION(6), eb);
out:
    free(c.dept.g);
    free(c.course.g);
    return err;
}
