/* node/reports.c — auditor reports (node/reports.h).
 *
 * Nothing here loads the credential table (issue #13 item 6): lists walk it with a cursor in
 * key (issue) order and filter in the walk, the CSV export walks it one chunk per read of the
 * client, and the summary reads counters kept per group in the table report_counts:
 *   key: 1 dimension byte ('t' total, 'd' department, 'c' course) || the group name
 *   value: six u64 BE: issued, active, revoked, suspended, enrolled, completed
 * (the course group of a credential is its course, or its achievement id when it has none).
 * meta "report_counts" = u64 BE 1 once they are built (ca_report_counts_migrate).
 */
#include "node/reports.h"

#include "node/outbox.h"

#include "credanchor/capbuf.h"
#include "credanchor/credential.h"
#include "credanchor/csv.h"
#include "node/issuer.h"
#include "credanchor/json_fields.h"
#include "node/node_log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REPORT_MAX (512u << 20)    /* the largest JSON/summary body built */
#define CSV_CHUNK (64u << 10)      /* CSV bytes prepared per read of the client */
#define CSV_CHUNK_RECORDS 4096     /* records looked at per read (a rare filter stays quick) */
#define COUNTS_META "report_counts"
#define COUNTS_VERSION 1

/* A string member or "" (reports print absent members as empty cells). */
static const char *str(const json_t *o, const char *k)
{
    return ca_json_str_or(o, k, "");
}

/* ---- filters and the cursor walk ------------------------------------------------------------ */

static bool in_range(const char *when, int64_t from, int64_t to)
{
    if (!from && !to)
        return true;
    int64_t t = 0;
    if (!when[0] || ca_datetime_parse(&t, when) != CA_OK)
        return false;
    return (!from || t >= from) && (!to || t <= to);
}

/* The search box of the admin console (issue #17): q is the whole issue number, the whole
 * email (kept only with credentials.store_email), the credential id (the console's detail
 * page), or a part of the name; ASCII letters compared without case (Hangul and other
 * scripts as written). */
static bool search_matches(const char *q, const json_t *rec)
{
    if (strcasecmp(str(rec, "issueNumber"), q) == 0 || strcasecmp(str(rec, "email"), q) == 0 ||
        strcmp(str(rec, "id"), q) == 0)
        return true;
    const char *name = str(rec, "name");
    size_t qn = strlen(q);
    for (const char *p = name; *p; p++)
        if (strncasecmp(p, q, qn) == 0)
            return true;
    return false;
}

static bool matches(const ca_report_filter *f, const json_t *rec)
{
    if (f->q[0] && !search_matches(f->q, rec))
        return false;
    if (f->status[0] && strcmp(str(rec, "status"), f->status))
        return false;
    if (f->department[0] && strcmp(str(rec, "department"), f->department))
        return false;
    if (f->course[0] && strcmp(str(rec, "course"), f->course) &&
        strcmp(str(rec, "achievementId"), f->course))
        return false;
    return in_range(str(rec, "issuedAt"), f->from, f->to) &&
           in_range(str(rec, "completedAt"), f->completed_from, f->completed_to);
}

/* Called with each record after the cursor; false stops the walk. */
typedef bool (*record_fn)(void *arg, const uint8_t key[16], const json_t *rec);

typedef struct walk {
    const uint8_t *after;      /* NULL: from the first record */
    bool reverse;              /* newest first: down the table from after (or its end) */
    record_fn fn;
    void *arg;
    size_t max_records;        /* 0: no limit */
    size_t seen;
    /* A search's text (f->q), when it can be looked for in a record's stored JSON as is: a
     * record whose bytes lack it (ASCII letters in any case) cannot match and is skipped
     * unparsed, which is most of the search's cost. Never for the CSV stream, whose cursor
     * moves with every record it is shown. */
    const char *prefilter;
    bool stopped;              /* fn or max_records ended the walk before the table's end */
    ca_err err;
    /* Exports: each record gets "alertChannel" and "deliveryState", its latest notification
     * (node/outbox.h), read in the walk's own transaction t. */
    bool deliveries;
    ca_store_txn *t;
} walk;

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool is_ascii_letter(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Whether needle (m bytes) is at h, ASCII letters compared without case. */
static bool equal_ascii_ci(const unsigned char *h, const unsigned char *s, size_t m)
{
    size_t k = 0;
    while (k < m && ascii_lower(h[k]) == ascii_lower(s[k]))
        k++;
    return k == m;
}

/* Whether needle's byte at j, found by memchr as the byte `anchor`, starts a match. */
static bool anchored_ci(const unsigned char *h, size_t n, const unsigned char *s, size_t m,
                        size_t j, unsigned char anchor)
{
    for (const unsigned char *p = h + j; p < h + n - (m - 1 - j);) {
        p = memchr(p, anchor, (size_t)(h + n - (m - 1 - j) - p));
        if (!p)
            return false;
        if (equal_ascii_ci(p - j, s, m))
            return true;
        p++;
    }
    return false;
}

/* Whether the n bytes at data contain needle, ASCII letters compared without case. The
 * search walks every record (issue #17: the console's search box at 100,000 credentials,
 * bench/console_list.sh), so candidates are found by memchr on one of the needle's bytes that
 * is not a letter (a space, a digit, '@': one exact byte), else on its first letter in each
 * case, and only those are compared. */
static bool contains_ascii_ci(const void *data, size_t n, const char *needle)
{
    const unsigned char *h = data, *s = (const unsigned char *)needle;
    size_t m = strlen(needle);
    if (m == 0 || m > n)
        return m == 0;
    size_t j = m;
    for (size_t i = m; i-- > 0;) /* a byte neither letter nor digit, else a digit */
        if (!is_ascii_letter(s[i]) && (j == m || !(s[i] >= '0' && s[i] <= '9')))
            j = i;
    if (j < m)
        return anchored_ci(h, n, s, m, j, s[j]);
    return anchored_ci(h, n, s, m, 0, ascii_lower(s[0])) ||
           anchored_ci(h, n, s, m, 0, (unsigned char)(ascii_lower(s[0]) - 'a' + 'A'));
}

/* f->q as a prefilter when jansson stores it unescaped: no '"', '\\' or control bytes. */
static const char *prefilter_of(const ca_report_filter *f)
{
    for (const unsigned char *c = (const unsigned char *)f->q; *c; c++)
        if (*c == '"' || *c == '\\' || *c < 0x20)
            return NULL;
    return f->q[0] ? f->q : NULL;
}

/* The record's latest notification as two export members ("" when it has none). */
static void add_delivery(ca_store_txn *t, const uint8_t uuid[16], json_t *rec)
{
    char channel[16], state[16];
    ca_outbox_summary(t, uuid, channel, state);
    json_object_set_new(rec, "alertChannel", json_string(channel));
    json_object_set_new(rec, "deliveryState", json_string(state));
}

static bool walk_visit(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    walk *w = arg;
    if (key->len != 16)
        return true;
    if (w->after && memcmp(key->data, w->after, 16) == 0)
        return true; /* the cursor itself: the walk starts after it */
    if (w->max_records && w->seen == w->max_records) {
        w->stopped = true;
        return false;
    }
    w->seen++;
    if (w->prefilter && !contains_ascii_ci(val->data, val->len, w->prefilter))
        return true;
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    if (!json_is_object(rec)) {
        json_decref(rec);
        w->err = CA_ERR_STORE;
        return false;
    }
    if (w->deliveries)
        add_delivery(w->t, key->data, rec);
    bool more = w->fn(w->arg, key->data, rec);
    json_decref(rec);
    if (!more)
        w->stopped = true;
    return more;
}

/* Walks the credential records after w->after (in w's order) in the read transaction t. */
static ca_err walk_in(ca_store_txn *t, walk *w, ca_errbuf *eb)
{
    w->t = t;
    ca_err err = w->reverse ? ca_store_scan_reverse(t, CA_TABLE_CREDENTIALS, w->after,
                                                    w->after ? 16 : 0, walk_visit, w)
                            : ca_store_scan(t, CA_TABLE_CREDENTIALS, w->after,
                                            w->after ? 16 : 0, walk_visit, w);
    if (!err)
        err = w->err;
    return err ? ca_fail(eb, err, "cannot read the issuance records: %s", ca_strerror(err))
               : CA_OK;
}

/* Walks the credential records after w->after in one read transaction. */
static ca_err walk_records(ca_store *store, walk *w, ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    err = walk_in(t, w, eb);
    ca_store_abort(t);
    return err;
}

/* ca_report_each: every record the filter matches, in one read transaction. */
typedef struct each_arg {
    const ca_report_filter *f;
    ca_report_row_fn fn;
    void *arg;
    uint64_t skipped, emitted;
    bool stopped_by_fn;
} each_arg;

static bool each_visit(void *arg, const uint8_t key[16], const json_t *rec)
{
    (void)key;
    each_arg *e = arg;
    if (!matches(e->f, rec))
        return true;
    if (e->skipped < e->f->offset) {
        e->skipped++;
        return true;
    }
    if (e->f->limit && e->emitted == e->f->limit)
        return false;
    e->emitted++;
    if (!e->fn(e->arg, rec)) {
        e->stopped_by_fn = true;
        return false;
    }
    return true;
}

ca_err ca_report_each(ca_store *store, const ca_report_filter *f, ca_report_row_fn fn,
                      void *arg, ca_errbuf *eb)
{
    each_arg e = {.f = f, .fn = fn, .arg = arg};
    walk w = {.after = f->has_after ? f->after : NULL, .reverse = f->newest_first,
              .fn = each_visit, .arg = &e, .prefilter = prefilter_of(f), .deliveries = true};
    ca_err err = walk_records(store, &w, eb);
    if (!err && e.stopped_by_fn)
        return ca_fail(eb, CA_ERR_IO, "the export was stopped");
    return err;
}


const char *ca_report_field(const json_t *rec, const char *member)
{
    return str(rec, member);
}

/* ---- counters ------------------------------------------------------------------------------- */

enum { C_ISSUED, C_ACTIVE, C_REVOKED, C_SUSPENDED, C_ENROLLED, C_COMPLETED, C_N };

typedef struct group {
    char key[256];
    uint64_t n[C_N];
} group;

static int status_counter(const char *status)
{
    if (strcmp(status, "revoked") == 0)
        return C_REVOKED;
    if (strcmp(status, "suspended") == 0)
        return C_SUSPENDED;
    return C_ACTIVE;
}

static ca_err counts_add(ca_store_txn *t, char dim, const char *name, const int64_t delta[C_N])
{
    char key[1 + 1024];
    size_t nl = strlen(name);
    if (nl > sizeof key - 1)
        nl = sizeof key - 1; /* names are capped far below this by the request checks */
    key[0] = dim;
    memcpy(key + 1, name, nl);
    uint8_t v[8 * C_N];
    ca_store_val old;
    ca_err err = ca_store_get(t, CA_TABLE_REPORT_COUNTS, key, 1 + nl, &old);
    if (err == CA_OK && old.len == sizeof v)
        memcpy(v, old.data, sizeof v);
    else if (err == CA_OK || err == CA_ERR_NOT_FOUND)
        memset(v, 0, sizeof v);
    else
        return err;
    for (int i = 0; i < C_N; i++) {
        int64_t n = (int64_t)ca_store_u64_from(v + 8 * i) + delta[i];
        ca_store_u64_key(v + 8 * i, n > 0 ? (uint64_t)n : 0);
    }
    return ca_store_put(t, CA_TABLE_REPORT_COUNTS, key, 1 + nl, v, sizeof v);
}

/* Adds delta to the total, the department and the course groups. */
static ca_err counts_add3(ca_store_txn *t, const char *dept, const char *course,
                          const int64_t delta[C_N])
{
    ca_err err = counts_add(t, 't', "all", delta);
    if (!err)
        err = counts_add(t, 'd', dept, delta);
    if (!err)
        err = counts_add(t, 'c', course, delta);
    return err;
}

static const char *course_group(const json_t *rec)
{
    return str(rec, "course")[0] ? str(rec, "course") : str(rec, "achievementId");
}

ca_err ca_report_count_credential(ca_store_txn *t, const json_t *rec, const char *old_status,
                                  const char *new_status)
{
    int64_t d[C_N] = {0};
    if (!old_status)
        d[C_ISSUED] = 1;
    else
        d[status_counter(old_status)]--;
    d[status_counter(new_status)]++;
    if (old_status && status_counter(old_status) == status_counter(new_status))
        return CA_OK;
    return counts_add3(t, str(rec, "department"), course_group(rec), d);
}

static bool completed(const json_t *row)
{
    return json_integer_value(json_object_get(row, "completedAt")) > 0;
}

ca_err ca_report_count_participant(ca_store_txn *t, const json_t *old_row, const json_t *new_row)
{
    ca_err err = CA_OK;
    if (old_row) {
        int64_t d[C_N] = {[C_ENROLLED] = -1, [C_COMPLETED] = completed(old_row) ? -1 : 0};
        err = counts_add3(t, str(old_row, "department"), str(old_row, "course"), d);
    }
    if (!err) {
        int64_t d[C_N] = {[C_ENROLLED] = 1, [C_COMPLETED] = completed(new_row) ? 1 : 0};
        err = counts_add3(t, str(new_row, "department"), str(new_row, "course"), d);
    }
    return err;
}

typedef struct migrate_ctx {
    ca_store_txn *t;
    bool participants;
    ca_err err;
} migrate_ctx;

static bool migrate_visit(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    migrate_ctx *m = arg;
    (void)key;
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    if (!json_is_object(rec))
        m->err = CA_ERR_STORE;
    else if (m->participants)
        m->err = ca_report_count_participant(m->t, NULL, rec);
    else
        m->err = ca_report_count_credential(m->t, rec, NULL, str(rec, "status"));
    json_decref(rec);
    return m->err == CA_OK;
}

static ca_err migrate_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    bool *built = arg;
    ca_store_val v;
    ca_err err = ca_store_get(t, CA_TABLE_META, COUNTS_META, strlen(COUNTS_META), &v);
    if (err == CA_OK) {
        *built = false; /* another writer built them first */
        return CA_OK;
    }
    if (err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, err, "cannot read the report counters' version");
    migrate_ctx m = {.t = t};
    if (!(err = ca_store_scan(t, CA_TABLE_CREDENTIALS, NULL, 0, migrate_visit, &m)) &&
        !(err = m.err)) {
        m.participants = true;
        if (!(err = ca_store_scan(t, CA_TABLE_PARTICIPANTS, NULL, 0, migrate_visit, &m)))
            err = m.err;
    }
    uint8_t ver[8];
    ca_store_u64_key(ver, COUNTS_VERSION);
    if (!err)
        err = ca_store_put(t, CA_TABLE_META, COUNTS_META, strlen(COUNTS_META), ver, 8);
    *built = true;
    return err ? ca_fail(eb, err, "cannot build the report counters: %s", ca_strerror(err))
               : CA_OK;
}

ca_err ca_report_counts_migrate(ca_store *store, ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    ca_store_val v;
    err = ca_store_get(t, CA_TABLE_META, COUNTS_META, strlen(COUNTS_META), &v);
    ca_store_abort(t);
    if (err != CA_ERR_NOT_FOUND)
        return err == CA_OK ? CA_OK : ca_fail(eb, err, "cannot read the report counters");
    bool built = false;
    err = ca_store_write(store, migrate_txn, &built, eb);
    if (!err && built)
        ca_node_log(CA_NODE_LOG_INFO, NULL,
                    "report counters built from the records (migration, once)");
    return err;
}

/* The counters of one group; false (zeros) when it has none. */
static ca_err counts_get(ca_store_txn *t, char dim, const char *name, group *g)
{
    memset(g, 0, sizeof *g);
    snprintf(g->key, sizeof g->key, "%s", name);
    char key[1 + 256];
    size_t nl = strnlen(name, sizeof key - 1);
    key[0] = dim;
    memcpy(key + 1, name, nl);
    ca_store_val v;
    ca_err err = ca_store_get(t, CA_TABLE_REPORT_COUNTS, key, 1 + nl, &v);
    if (err == CA_OK && v.len == 8 * C_N)
        for (int i = 0; i < C_N; i++)
            g->n[i] = ca_store_u64_from((const uint8_t *)v.data + 8 * i);
    return err == CA_ERR_NOT_FOUND ? CA_OK : err;
}

/* ---- the list (JSON) ------------------------------------------------------------------------ */

typedef struct list_ctx {
    const ca_report_filter *f;
    json_t *rows;
    uint64_t total, skipped;
    bool count_all;            /* total by the walk (no counter answers these filters) */
    bool more;                 /* a match after the page exists */
    bool past_cursor;          /* the walk is after f->after (a counting walk starts before) */
    uint8_t last[16];          /* the last row's key (the next cursor) */
    bool oom;
} list_ctx;

static json_t *row_json(const json_t *r)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                          str(r, "id"), "issueNumber", str(r, "issueNumber"), "name",
                          str(r, "name"), "type", str(r, "achievementType"), "achievementId",
                          str(r, "achievementId"), "achievementName", str(r, "achievementName"),
                          "department", str(r, "department"), "course", str(r, "course"),
                          "issuedAt", str(r, "issuedAt"), "status", str(r, "status"), "format",
                          str(r, "format"));
    static const char *const optional[] = {"statusChangedAt", "statusReason", "completedAt"};
    for (size_t i = 0; o && i < sizeof optional / sizeof optional[0]; i++)
        if (json_object_get(r, optional[i]))
            json_object_set(o, optional[i], json_object_get(r, optional[i]));
    return o;
}

static bool list_visit(void *arg, const uint8_t key[16], const json_t *rec)
{
    list_ctx *c = arg;
    const ca_report_filter *f = c->f;
    if (!c->past_cursor && f->has_after &&
        (f->newest_first ? memcmp(key, f->after, 16) < 0 : memcmp(key, f->after, 16) > 0))
        c->past_cursor = true; /* after the cursor in the list's order */
    if (!matches(f, rec))
        return true;
    if (c->count_all)
        c->total++;
    if (!c->past_cursor)
        return true;
    if (c->skipped < f->offset) {
        c->skipped++;
        return true;
    }
    if (json_array_size(c->rows) == f->limit) {
        c->more = true;
        return c->count_all; /* a counting walk goes on to the end */
    }
    json_t *o = row_json(rec);
    if (!o || json_array_append_new(c->rows, o)) {
        c->oom = true;
        return false;
    }
    memcpy(c->last, key, 16);
    return true;
}

/* total from the counters when the filters are at most status and department. */
static ca_err total_from_counts(ca_store_txn *t, const ca_report_filter *f, uint64_t *total,
                                bool *known)
{
    *known = false;
    if (f->q[0] || f->course[0] || f->from || f->to || f->completed_from || f->completed_to)
        return CA_OK;
    ca_store_val v;
    group g;
    ca_err err;
    if ((err = ca_store_get(t, CA_TABLE_META, COUNTS_META, strlen(COUNTS_META), &v)) == CA_OK &&
        (err = f->department[0] ? counts_get(t, 'd', f->department, &g)
                                : counts_get(t, 't', "all", &g)) == CA_OK) {
        *total = f->status[0] ? g.n[status_counter(f->status)] : g.n[C_ISSUED];
        *known = true;
    }
    return err == CA_ERR_NOT_FOUND ? CA_OK : err;
}

/* Each row's "delivery": the channel and state of its latest notification (node/outbox.h),
 * null when it has none: the console's "alert channel" column (issue #17, #18). A page is at
 * most CA_REPORT_LIMIT_MAX rows, each one short prefix scan, in the list's own transaction. */
static void add_delivery_states(ca_store_txn *t, json_t *rows)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        uint8_t uuid[16];
        char channel[16], state[16];
        if (ca_credential_id_parse(uuid, str(row, "id")))
            continue;
        ca_outbox_summary(t, uuid, channel, state);
        json_object_set_new(row, "delivery",
                            channel[0] ? json_pack("{s:s, s:s}", "channel", channel, "state",
                                                   state)
                                       : json_null());
    }
}

ca_err ca_report_list(char **out, size_t *len, ca_store *store, const ca_report_filter *f,
                      ca_errbuf *eb)
{
    CA_ASSERT(f->limit >= 1 && f->limit <= CA_REPORT_LIMIT_MAX);
    *out = NULL;
    list_ctx c = {.f = f, .rows = json_array(), .past_cursor = !f->has_after};
    bool known = false;
    /* One read transaction for the total, the page and its delivery states: one snapshot, so
     * they agree (bench/console_list.sh: the list's first page at 100,000 credentials). */
    ca_store_txn *t = NULL;
    ca_err err = c.rows ? ca_store_begin(store, &t, false, eb)
                        : ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (!err && (err = total_from_counts(t, f, &c.total, &known)))
        err = ca_fail(eb, err, "cannot read the report counters: %s", ca_strerror(err));
    if (err)
        goto out;
    /* With counters, the walk starts at the cursor and stops after the page; otherwise it
     * counts every match from the start (past the page, it parses but keeps nothing). */
    c.count_all = !known;
    walk w = {.after = known && f->has_after ? f->after : NULL, .reverse = f->newest_first,
              .fn = list_visit, .arg = &c, .prefilter = prefilter_of(f)};
    if (known)
        c.past_cursor = true;
    err = walk_in(t, &w, eb);
    if (!err && c.oom)
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (err)
        goto out;
    add_delivery_states(t, c.rows);
    ca_store_abort(t);
    t = NULL;
    char next[CA_CREDENTIAL_ID_MAX];
    if (c.more)
        ca_credential_id_format(next, c.last);
    json_t *doc = json_pack("{s:I, s:I, s:I, s:o, s:O}", "total", (json_int_t)c.total, "offset",
                            (json_int_t)f->offset, "limit", (json_int_t)f->limit, "next",
                            c.more ? json_string(next) : json_null(), "credentials", c.rows);
    *out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!*out)
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    else
        *len = strlen(*out);
out:
    if (t)
        ca_store_abort(t);
    json_decref(c.rows);
    return err;
}

/* ---- the CSV export ------------------------------------------------------------------------- */

struct ca_report_stream {
    ca_store *store;
    ca_report_filter f;
    ca_capbuf chunk;           /* prepared bytes not yet handed out */
    size_t chunk_off;
    uint8_t last[16];          /* the last record looked at */
    bool has_last;
    bool end;                  /* every record was looked at */
    bool failed;
    uint64_t skipped, emitted;
};

static bool csv_field(ca_capbuf *b, const char *s, bool last)
{
    size_t n = strlen(s), need = ca_csv_escape(NULL, s, n);
    char small[512];
    char *tmp = need <= sizeof small ? small : malloc(need);
    if (!tmp)
        return false;
    ca_csv_escape(tmp, s, n);
    bool ok = ca_capbuf_append(b, tmp, need) &&
              ca_capbuf_append(b, last ? "\r\n" : ",", last ? 2 : 1);
    if (tmp != small)
        free(tmp);
    return ok;
}

/* The CSV columns after the header's order (CA_REPORT_CSV_HEADER): record members; the last
 * two, the delivery columns (issue #12 item 6, #18: the alert channel and whether it was
 * sent), come from the outbox during the walk (add_delivery). */
static const char *const csv_members[] = {
    "issueNumber", "name", "achievementType", "achievementName", "issuedAt", "status",
    "department", "course", "achievementId", "id", "completedAt", "statusChangedAt",
    "statusReason", "alertChannel", "deliveryState"};
#define CSV_NCOLS (sizeof csv_members / sizeof csv_members[0])

const char *const *ca_report_members(size_t *n)
{
    *n = CSV_NCOLS;
    return csv_members;
}

static bool csv_row(ca_capbuf *b, const json_t *rec)
{
    bool ok = true;
    for (size_t i = 0; ok && i < CSV_NCOLS; i++)
        ok = csv_field(b, str(rec, csv_members[i]), i + 1 == CSV_NCOLS);
    return ok;
}

static bool csv_visit(void *arg, const uint8_t key[16], const json_t *rec)
{
    ca_report_stream *s = arg;
    memcpy(s->last, key, 16);
    s->has_last = true;
    if (!matches(&s->f, rec))
        return true;
    if (s->skipped < s->f.offset) {
        s->skipped++;
        return true;
    }
    if (s->f.limit && s->emitted == s->f.limit) {
        s->end = true;
        return false;
    }
    if (!csv_row(&s->chunk, rec)) {
        s->failed = true;
        return false;
    }
    s->emitted++;
    return s->chunk.len < CSV_CHUNK;
}

ca_err ca_report_csv_open(ca_report_stream **out, ca_store *store, const ca_report_filter *f,
                          bool bom, ca_errbuf *eb)
{
    ca_report_stream *s = calloc(1, sizeof *s);
    if (!s)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    s->store = store;
    s->f = *f;
    if (f->has_after) {
        memcpy(s->last, f->after, 16);
        s->has_last = true;
    }
    /* A chunk plus one row of at most a few capped fields. */
    ca_capbuf_init(&s->chunk, CSV_CHUNK + (1u << 20));
    const char *head = CA_REPORT_CSV_HEADER "\r\n";
    if ((bom && !ca_capbuf_append(&s->chunk, "\xef\xbb\xbf", 3)) ||
        !ca_capbuf_append(&s->chunk, head, strlen(head))) {
        ca_report_csv_close(s);
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    }
    *out = s;
    return CA_OK;
}

ssize_t ca_report_csv_read(ca_report_stream *s, char *buf, size_t max)
{
    while (s->chunk_off == s->chunk.len && !s->end && !s->failed) {
        ca_capbuf_reset(&s->chunk);
        s->chunk_off = 0;
        walk w = {.after = s->has_last ? s->last : NULL, .reverse = s->f.newest_first,
                  .fn = csv_visit, .arg = s, .deliveries = true,
                  .max_records = CSV_CHUNK_RECORDS};
        ca_errbuf eb = {{0}};
        if (walk_records(s->store, &w, &eb)) {
            ca_node_log(CA_NODE_LOG_ERROR, NULL, "CSV export cut: %s", eb.msg);
            s->failed = true;
        } else if (!w.stopped) {
            s->end = true; /* the walk reached the table's end */
        }
    }
    if (s->failed)
        return -1;
    size_t n = s->chunk.len - s->chunk_off;
    if (n > max)
        n = max;
    if (n)
        memcpy(buf, s->chunk.data + s->chunk_off, n);
    s->chunk_off += n;
    return (ssize_t)n;
}

void ca_report_csv_close(ca_report_stream *s)
{
    if (!s)
        return;
    ca_capbuf_free(&s->chunk);
    free(s);
}

/* ---- the summary ---------------------------------------------------------------------------- */

typedef struct group_set {
    group *g;
    size_t n, cap;
} group_set;

typedef struct summary_ctx {
    group_set dept, course;
    group totals;
    bool oom;
} summary_ctx;

static bool sum_visit(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    summary_ctx *c = arg;
    if (key->len < 1 || val->len != 8 * C_N)
        return true;
    char dim = ((const char *)key->data)[0];
    group_set *s = dim == 'd' ? &c->dept : dim == 'c' ? &c->course : NULL;
    group *g = &c->totals;
    if (s) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 16;
            group *ng = realloc(s->g, cap * sizeof *ng);
            if (!ng) {
                c->oom = true;
                return false;
            }
            s->g = ng;
            s->cap = cap;
        }
        g = &s->g[s->n++];
    } else if (dim != 't') {
        return true;
    }
    size_t nl = key->len - 1 < sizeof g->key - 1 ? key->len - 1 : sizeof g->key - 1;
    memcpy(g->key, (const char *)key->data + 1, nl);
    g->key[nl] = '\0';
    for (int i = 0; i < C_N; i++)
        g->n[i] = ca_store_u64_from((const uint8_t *)val->data + 8 * i);
    return true;
}

static json_t *group_json(const group *g, const char *name)
{
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", name, g->key, "issued",
                          (json_int_t)g->n[C_ISSUED], "active", (json_int_t)g->n[C_ACTIVE],
                          "revoked", (json_int_t)g->n[C_REVOKED], "suspended",
                          (json_int_t)g->n[C_SUSPENDED], "enrolled",
                          (json_int_t)g->n[C_ENROLLED], "completed",
                          (json_int_t)g->n[C_COMPLETED]);
    if (o)
        json_object_set_new(o, "completionRate",
                            g->n[C_ENROLLED] ? json_real((double)g->n[C_COMPLETED] /
                                                         (double)g->n[C_ENROLLED])
                                             : json_null());
    return o;
}

static bool csv_group(ca_capbuf *b, const char *dimension, const group *g)
{
    char nums[200], rate[32] = "";
    if (g->n[C_ENROLLED])
        snprintf(rate, sizeof rate, "%.4f",
                 (double)g->n[C_COMPLETED] / (double)g->n[C_ENROLLED]);
    snprintf(nums, sizeof nums, "%llu,%llu,%llu,%llu,%llu,%llu,%s\r\n",
             (unsigned long long)g->n[C_ISSUED], (unsigned long long)g->n[C_ACTIVE],
             (unsigned long long)g->n[C_REVOKED], (unsigned long long)g->n[C_SUSPENDED],
             (unsigned long long)g->n[C_ENROLLED], (unsigned long long)g->n[C_COMPLETED], rate);
    return csv_field(b, dimension, false) && csv_field(b, g->key, false) &&
           ca_capbuf_append(b, nums, strlen(nums));
}

static ca_err summary_csv(char **out, size_t *len, const summary_ctx *c, bool bom,
                          ca_errbuf *eb)
{
    ca_capbuf b;
    ca_capbuf_init(&b, REPORT_MAX);
    const char *head = "dimension,key,issued,active,revoked,suspended,enrolled,completed,"
                       "completionRate\r\n";
    bool ok = (!bom || ca_capbuf_append(&b, "\xef\xbb\xbf", 3)) &&
              ca_capbuf_append(&b, head, strlen(head)) && csv_group(&b, "total", &c->totals);
    for (size_t i = 0; ok && i < c->dept.n; i++)
        ok = csv_group(&b, "department", &c->dept.g[i]);
    for (size_t i = 0; ok && i < c->course.n; i++)
        ok = csv_group(&b, "course", &c->course.g[i]);
    if (ok)
        *out = ca_capbuf_take(&b, len);
    ca_capbuf_free(&b);
    return *out ? CA_OK : ca_fail(eb, CA_ERR_NOMEM, "out of memory");
}

/* ---- the summary over a date range (issue #17: the dashboard's from/to) ---------------------
 * No counter answers a range, so the records are walked in one read transaction: groups are
 * found through a small open-addressing index (a hostile number of departments stays linear)
 * and sorted by name at the end, bytewise like the counters' keys. */

typedef struct range_set {
    group_set set;
    size_t *slot;              /* index + 1 into set.g, 0 = free; slots is a power of two */
    size_t slots;
} range_set;

typedef struct range_ctx {
    summary_ctx *c;
    range_set dept, course;
    int64_t from, to;
    bool participants;
    ca_err err;
} range_ctx;

static size_t name_hash(const char *s)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static bool range_grow(range_set *r)
{
    size_t slots = r->slots ? 2 * r->slots : 64;
    size_t *slot = calloc(slots, sizeof *slot);
    if (!slot)
        return false;
    for (size_t i = 0; i < r->set.n; i++) {
        size_t at = name_hash(r->set.g[i].key) & (slots - 1);
        while (slot[at])
            at = (at + 1) & (slots - 1);
        slot[at] = i + 1;
    }
    free(r->slot);
    r->slot = slot;
    r->slots = slots;
    return true;
}

/* The group named name (at most 255 bytes of it, as counts_get keeps), made when new. */
static group *range_group(range_set *r, const char *name)
{
    char key[sizeof ((group *)0)->key];
    snprintf(key, sizeof key, "%s", name);
    if ((r->set.n + 1) * 2 > r->slots && !range_grow(r))
        return NULL;
    size_t at = name_hash(key) & (r->slots - 1);
    for (; r->slot[at]; at = (at + 1) & (r->slots - 1))
        if (strcmp(r->set.g[r->slot[at] - 1].key, key) == 0)
            return &r->set.g[r->slot[at] - 1];
    group_set *s = &r->set;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        group *ng = realloc(s->g, cap * sizeof *ng);
        if (!ng)
            return NULL;
        s->g = ng;
        s->cap = cap;
    }
    group *g = &s->g[s->n];
    memset(g, 0, sizeof *g);
    memcpy(g->key, key, sizeof key);
    r->slot[at] = ++s->n;
    return g;
}

static bool range_add(range_ctx *r, const char *dept, const char *course, const int d[C_N])
{
    group *gd = range_group(&r->dept, dept), *gc = gd ? range_group(&r->course, course) : NULL;
    if (!gc)
        return false;
    for (int i = 0; i < C_N; i++) {
        r->c->totals.n[i] += (uint64_t)d[i];
        gd->n[i] += (uint64_t)d[i];
        gc->n[i] += (uint64_t)d[i];
    }
    return true;
}

/* A credential counts when it was issued in the range; a participant row is enrolled
 * whatever its date (rows carry none) and completed when its completedAt is in the range. */
static bool range_visit(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    range_ctx *r = arg;
    (void)key;
    json_t *rec = json_loadb(val->data, val->len, 0, NULL);
    int d[C_N] = {0};
    bool counted = true;
    if (!json_is_object(rec)) {
        r->err = CA_ERR_STORE;
    } else if (r->participants) {
        int64_t at = json_integer_value(json_object_get(rec, "completedAt"));
        d[C_ENROLLED] = 1;
        d[C_COMPLETED] = at > 0 && (!r->from || at >= r->from) && (!r->to || at <= r->to);
        counted = range_add(r, str(rec, "department"), str(rec, "course"), d);
    } else if (in_range(str(rec, "issuedAt"), r->from, r->to)) {
        d[C_ISSUED] = 1;
        d[status_counter(str(rec, "status"))] = 1;
        counted = range_add(r, str(rec, "department"), course_group(rec), d);
    }
    if (!counted)
        r->err = CA_ERR_NOMEM;
    json_decref(rec);
    return r->err == CA_OK;
}

static int group_order(const void *a, const void *b)
{
    return strcmp(((const group *)a)->key, ((const group *)b)->key);
}

static ca_err range_read(ca_store_txn *t, summary_ctx *c, int64_t from, int64_t to)
{
    range_ctx r = {.c = c, .from = from, .to = to};
    ca_err err = ca_store_scan(t, CA_TABLE_CREDENTIALS, NULL, 0, range_visit, &r);
    if (!err && !(err = r.err)) {
        r.participants = true;
        if (!(err = ca_store_scan(t, CA_TABLE_PARTICIPANTS, NULL, 0, range_visit, &r)))
            err = r.err;
    }
    free(r.dept.slot);
    free(r.course.slot);
    c->dept = r.dept.set;
    c->course = r.course.set;
    if (c->dept.n)
        qsort(c->dept.g, c->dept.n, sizeof *c->dept.g, group_order);
    if (c->course.n)
        qsort(c->course.g, c->course.n, sizeof *c->course.g, group_order);
    c->oom = err == CA_ERR_NOMEM;
    return err == CA_ERR_NOMEM ? CA_OK : err;
}

ca_err ca_report_summary(char **out, size_t *len, ca_store *store, bool csv, bool bom,
                         ca_errbuf *eb)
{
    return ca_report_summary_range(out, len, store, 0, 0, csv, bom, eb);
}

ca_err ca_report_summary_range(char **out, size_t *len, ca_store *store, int64_t from,
                               int64_t to, bool csv, bool bom, ca_errbuf *eb)
{
    *out = NULL;
    summary_ctx c;
    memset(&c, 0, sizeof c);
    snprintf(c.totals.key, sizeof c.totals.key, "all");
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    ca_store_val v;
    if (from || to)
        err = range_read(t, &c, from, to);
    else if ((err = ca_store_get(t, CA_TABLE_META, COUNTS_META, strlen(COUNTS_META), &v)) ==
             CA_OK) /* keys sort bytewise: groups come sorted by name */
        err = ca_store_scan(t, CA_TABLE_REPORT_COUNTS, NULL, 0, sum_visit, &c);
    else if (err == CA_ERR_NOT_FOUND)
        err = CA_OK; /* a data dir that never issued from a writer open: nothing to count */
    ca_store_abort(t);
    if (!err && c.oom)
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    else if (err)
        err = ca_fail(eb, err, "cannot read the report counters: %s", ca_strerror(err));
    if (err)
        goto out;
    if (csv) {
        err = summary_csv(out, len, &c, bom, eb);
        goto out;
    }
    json_t *depts = json_array(), *courses = json_array();
    for (size_t i = 0; i < c.dept.n; i++)
        json_array_append_new(depts, group_json(&c.dept.g[i], "department"));
    for (size_t i = 0; i < c.course.n; i++)
        json_array_append_new(courses, group_json(&c.course.g[i], "course"));
    json_t *totals = group_json(&c.totals, "scope");
    json_t *doc = json_pack("{s:o, s:o, s:o}", "totals", totals, "byDepartment", depts,
                            "byCourse", courses);
    *out = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(doc);
    if (!*out)
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    else
        *len = strlen(*out);
out:
    free(c.dept.g);
    free(c.course.g);
    return err;
}
