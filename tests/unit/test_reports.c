/* Unit tests for node/reports.c (contract: node/reports.h): the summary
 * counters' migration on a data dir that has records but no counters, counters kept in step
 * by the count calls the issuer makes, the cursor list and the streamed CSV export (in small
 * reads, with BOM), over a store with hand-written issuance records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credanchor/credential.h"
#include "node/reports.h"
#include "node/store.h"

typedef struct fixture {
    char dir[CA_TEST_DIR_MAX];
    ca_store *store;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(ca_test_tmpdir(f->dir, sizeof f->dir, "ca_test_reports_"));
    char db[CA_TEST_DIR_MAX + 8];
    snprintf(db, sizeof db, "%s/db", f->dir);
    ca_store_options o = {.dir = db, .max_map_size = 1ull << 30, .read_only = false};
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_store_open(&f->store, &o, &eb), CA_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ca_store_close(f->store);
    ca_test_rmtree(f->dir);
    free(f);
    return 0;
}

#define NREC 30

/* Record i: department D<i%3>, course c<i%2>, revoked when i%5 == 0, completed on day i%4+1
 * when i is even. Written as the issuer would, without counters (a pre-counter data dir). */
typedef struct seed {
    uint8_t uuid[NREC][16];
    char id[NREC][CA_CREDENTIAL_ID_MAX];
} seed;

static ca_err seed_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    seed *s = arg;
    (void)eb;
    for (int i = 0; i < NREC; i++) {
        char dept[8], course[8], num[32], done[32] = "";
        snprintf(dept, sizeof dept, "D%d", i % 3);
        snprintf(course, sizeof course, "c%d", i % 2);
        snprintf(num, sizeof num, "T-202606-%04d", i + 1);
        json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", s->id[i],
                              "issueNumber", num, "name", i == 7 ? "=HYPERLINK(1)" : "김철수",
                              "department", dept, "course", course, "achievementId",
                              "urn:a", "issuedAt", "2026-06-01T09:00:00Z", "status",
                              i % 5 == 0 ? "revoked" : "active", "format", "vc+jwt");
        if (i % 5 == 0)
            json_object_set_new(r, "statusReason", json_string("left, \"early\""));
        if (i % 2 == 0) {
            snprintf(done, sizeof done, "2026-06-%02dT00:00:00Z", i % 4 + 1);
            json_object_set_new(r, "completedAt", json_string(done));
        }
        char *text = json_dumps(r, JSON_COMPACT);
        json_decref(r);
        ca_err err = ca_store_put(t, CA_TABLE_CREDENTIALS, s->uuid[i], 16, text, strlen(text));
        free(text);
        if (err)
            return err;
    }
    /* Two participant rows: one completed. */
    const char *rows[] = {"{\"department\":\"D0\",\"course\":\"c0\",\"completedAt\":1}",
                          "{\"department\":\"D0\",\"course\":\"c0\",\"completedAt\":0}"};
    for (int i = 0; i < 2; i++) {
        char key[8] = {'c', '0', 0, (char)('a' + i)};
        ca_err err = ca_store_put(t, CA_TABLE_PARTICIPANTS, key, 4, rows[i], strlen(rows[i]));
        if (err)
            return err;
    }
    return CA_OK;
}

static void seed_store(fixture *f, seed *s)
{
    for (int i = 0; i < NREC; i++)
        assert_int_equal(ca_credential_new_id(s->id[i], s->uuid[i]), CA_OK);
    for (int i = 1; i < NREC; i++) /* ids only increase (the reports' issue order) */
        assert_true(memcmp(s->uuid[i - 1], s->uuid[i], 16) < 0);
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_store_write(f->store, seed_txn, s, &eb), CA_OK);
}

static json_t *summary(fixture *f)
{
    char *out;
    size_t len;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_report_summary(&out, &len, f->store, false, false, &eb), CA_OK);
    json_t *j = json_loadb(out, len, 0, NULL);
    free(out);
    assert_non_null(j);
    return j;
}

static long long member(const json_t *arr, const char *name_key, const char *name,
                        const char *field)
{
    size_t i;
    json_t *g;
    json_array_foreach(arr, i, g)
        if (strcmp(json_string_value(json_object_get(g, name_key)), name) == 0)
            return json_integer_value(json_object_get(g, field));
    return -1;
}

static json_t *summary_range(fixture *f, int64_t from, int64_t to)
{
    char *out;
    size_t len;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_report_summary_range(&out, &len, f->store, from, to, false, false, &eb),
                     CA_OK);
    json_t *j = json_loadb(out, len, 0, NULL);
    free(out);
    assert_non_null(j);
    return j;
}

/* The dashboard's date range (issue #17): credentials issued in the range, with their status
 * now; every participant row enrolled, completed when completedAt is in the range; groups
 * sorted by name like the counters'. Read from the records, so no counters are needed. */
static void test_summary_range(void **state)
{
    fixture *f = *state;
    seed s;
    seed_store(f, &s);
    int64_t june1 = 0, june2 = 0, day1 = 0;
    assert_int_equal(ca_datetime_parse(&june1, "2026-06-01T00:00:00Z"), CA_OK);
    assert_int_equal(ca_datetime_parse(&june2, "2026-06-02T00:00:00Z"), CA_OK);
    assert_int_equal(ca_datetime_parse(&day1, "1970-01-02T00:00:00Z"), CA_OK);
    json_t *j = summary_range(f, june1, june2); /* every record: issued 2026-06-01 09:00 */
    json_t *tot = json_object_get(j, "totals");
    assert_int_equal(json_integer_value(json_object_get(tot, "issued")), NREC);
    assert_int_equal(json_integer_value(json_object_get(tot, "revoked")), 6);
    assert_int_equal(json_integer_value(json_object_get(tot, "active")), NREC - 6);
    assert_int_equal(json_integer_value(json_object_get(tot, "enrolled")), 2);
    assert_int_equal(json_integer_value(json_object_get(tot, "completed")), 0); /* 1970 */
    json_t *depts = json_object_get(j, "byDepartment");
    assert_int_equal(json_array_size(depts), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(depts, 0),
                                                          "department")), "D0");
    assert_string_equal(json_string_value(json_object_get(json_array_get(depts, 2),
                                                          "department")), "D2");
    assert_int_equal(member(depts, "department", "D0", "issued"), 10);
    assert_int_equal(member(depts, "department", "D0", "enrolled"), 2);
    assert_int_equal(member(json_object_get(j, "byCourse"), "course", "c1", "issued"), 15);
    json_decref(j);
    j = summary_range(f, june2, 0); /* after every issue: nothing issued, rows still enrolled */
    tot = json_object_get(j, "totals");
    assert_int_equal(json_integer_value(json_object_get(tot, "issued")), 0);
    assert_int_equal(json_integer_value(json_object_get(tot, "enrolled")), 2);
    assert_true(json_is_real(json_object_get(tot, "completionRate")));
    json_decref(j);
    j = summary_range(f, 0, day1); /* the row completed at t=1 is in; no credential is */
    tot = json_object_get(j, "totals");
    assert_int_equal(json_integer_value(json_object_get(tot, "issued")), 0);
    assert_int_equal(json_integer_value(json_object_get(tot, "completed")), 1);
    assert_true(json_real_value(json_object_get(tot, "completionRate")) == 0.5);
    assert_int_equal(member(json_object_get(j, "byCourse"), "course", "c0", "completed"), 1);
    json_decref(j);
}

static void test_migration_builds_counters_once(void **state)
{
    fixture *f = *state;
    seed s;
    seed_store(f, &s);
    /* Before the migration: no counters, an empty summary (never a wrong one). */
    json_t *j = summary(f);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "totals"),
                                                        "issued")), 0);
    json_decref(j);
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_report_counts_migrate(f->store, &eb), CA_OK);
    j = summary(f);
    const json_t *tot = json_object_get(j, "totals");
    assert_int_equal(json_integer_value(json_object_get(tot, "issued")), NREC);
    assert_int_equal(json_integer_value(json_object_get(tot, "revoked")), 6);
    assert_int_equal(json_integer_value(json_object_get(tot, "active")), NREC - 6);
    assert_int_equal(json_integer_value(json_object_get(tot, "enrolled")), 2);
    assert_int_equal(json_integer_value(json_object_get(tot, "completed")), 1);
    const json_t *depts = json_object_get(j, "byDepartment");
    assert_int_equal(json_array_size(depts), 3);
    assert_int_equal(member(depts, "department", "D0", "issued"), 10);
    assert_int_equal(member(depts, "department", "D0", "revoked"), 2); /* 0, 15 */
    assert_int_equal(member(depts, "department", "D0", "enrolled"), 2);
    assert_int_equal(member(json_object_get(j, "byCourse"), "course", "c1", "issued"), 15);
    json_decref(j);
    /* A second open does not count again. */
    assert_int_equal(ca_report_counts_migrate(f->store, &eb), CA_OK);
    j = summary(f);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "totals"),
                                                        "issued")), NREC);
    json_decref(j);
}

/* What the issuer's commits call: a new credential, a status change and back, a participant
 * row written twice (moved, not doubled). */
typedef struct count_args {
    json_t *rec, *row, *row2;
} count_args;

static ca_err count_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    count_args *a = arg;
    (void)eb;
    ca_err err = ca_report_count_credential(t, a->rec, NULL, "active");
    if (!err)
        err = ca_report_count_credential(t, a->rec, "active", "suspended");
    if (!err)
        err = ca_report_count_credential(t, a->rec, "suspended", "revoked");
    if (!err)
        err = ca_report_count_participant(t, NULL, a->row);
    if (!err)
        err = ca_report_count_participant(t, a->row, a->row2);
    return err;
}

static void test_counters_follow_commits(void **state)
{
    fixture *f = *state;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_report_counts_migrate(f->store, &eb), CA_OK); /* empty dir: built */
    count_args a = {
        json_pack("{s:s, s:s, s:s}", "department", "Ops", "course", "", "achievementId",
                  "urn:ach"),
        json_pack("{s:s, s:s, s:i}", "department", "Ops", "course", "urn:ach", "completedAt",
                  0),
        json_pack("{s:s, s:s, s:i}", "department", "Ops", "course", "urn:ach", "completedAt",
                  5)};
    assert_int_equal(ca_store_write(f->store, count_txn, &a, &eb), CA_OK);
    json_t *j = summary(f);
    const json_t *d = json_object_get(j, "byDepartment");
    assert_int_equal(member(d, "department", "Ops", "issued"), 1);
    assert_int_equal(member(d, "department", "Ops", "revoked"), 1);
    assert_int_equal(member(d, "department", "Ops", "active"), 0);
    assert_int_equal(member(d, "department", "Ops", "suspended"), 0);
    assert_int_equal(member(d, "department", "Ops", "enrolled"), 1);
    assert_int_equal(member(d, "department", "Ops", "completed"), 1);
    /* A credential without a course counts under its achievement id, as before. */
    assert_int_equal(member(json_object_get(j, "byCourse"), "course", "urn:ach", "issued"), 1);
    json_decref(j);
    json_decref(a.rec);
    json_decref(a.row);
    json_decref(a.row2);
}

static void test_list_cursor(void **state)
{
    fixture *f = *state;
    seed s;
    seed_store(f, &s);
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_report_counts_migrate(f->store, &eb), CA_OK);
    ca_report_filter flt = {.limit = 4, .status = "active"};
    char *out;
    size_t len;
    /* Walk every active credential page by page with the cursor. */
    int seen = 0;
    for (;;) {
        assert_int_equal(ca_report_list(&out, &len, f->store, &flt, &eb), CA_OK);
        json_t *j = json_loadb(out, len, 0, NULL);
        free(out);
        assert_int_equal(json_integer_value(json_object_get(j, "total")), NREC - 6);
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(j, "credentials"), i, c) {
            while (seen % 5 == 0)
                seen++; /* the revoked ones are filtered out */
            assert_string_equal(json_string_value(json_object_get(c, "id")), s.id[seen]);
            seen++;
        }
        const char *next = json_string_value(json_object_get(j, "next"));
        if (!next) {
            json_decref(j);
            break;
        }
        assert_int_equal(ca_credential_id_parse(flt.after, next), CA_OK);
        flt.has_after = true;
        json_decref(j);
    }
    assert_int_equal(seen, NREC);
    /* A filter the counters cannot answer: total by the walk. */
    ca_report_filter cf = {.limit = 2, .completed_from = 1780444800 /* 2026-06-03 */};
    assert_int_equal(ca_report_list(&out, &len, f->store, &cf, &eb), CA_OK);
    json_t *j = json_loadb(out, len, 0, NULL);
    free(out);
    /* even i with i%4+1 >= 3: i%4 == 2, i = 2, 6, ..., 26 */
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 7);
    assert_int_equal(json_array_size(json_object_get(j, "credentials")), 2);
    json_decref(j);
}

static long long search_total(fixture *f, const char *q)
{
    ca_report_filter flt = {.limit = 1};
    snprintf(flt.q, sizeof flt.q, "%s", q);
    char *out;
    size_t len;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_report_list(&out, &len, f->store, &flt, &eb), CA_OK);
    json_t *j = json_loadb(out, len, 0, NULL);
    free(out);
    long long n = json_integer_value(json_object_get(j, "total"));
    json_decref(j);
    return n;
}

/* The search box's prefilter (memchr on one byte of the needle, then a comparison without
 * ASCII case; bench/console_list.sh) finds what the plain comparison found: a needle of
 * letters only in either case, one anchored on a punctuation byte, on a digit, on a
 * non-ASCII byte, at the very start and end of a name, and nothing for a near miss. */
static void test_search_prefilter(void **state)
{
    fixture *f = *state;
    seed s;
    seed_store(f, &s);
    assert_int_equal(search_total(f, "hyperlink"), 1);      /* "=HYPERLINK(1)", letters only */
    assert_int_equal(search_total(f, "HyPeRlInK"), 1);
    assert_int_equal(search_total(f, "link(1)"), 1);         /* anchored on '(' */
    assert_int_equal(search_total(f, "=h"), 1);              /* the name's first bytes */
    assert_int_equal(search_total(f, "K(1)"), 1);            /* ... and its last */
    assert_int_equal(search_total(f, "t-202606-0008"), 1);   /* the issue number, any case */
    assert_int_equal(search_total(f, "철수"), NREC - 1);     /* anchored on a UTF-8 byte */
    assert_int_equal(search_total(f, "hyperlinks"), 0);
    assert_int_equal(search_total(f, "link(2)"), 0);
}

static void test_csv_stream(void **state)
{
    fixture *f = *state;
    seed s;
    seed_store(f, &s);
    ca_report_filter flt = {0}; /* limit 0: every row */
    ca_report_stream *st;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_report_csv_open(&st, f->store, &flt, true, &eb), CA_OK);
    char *all = NULL;
    size_t n = 0;
    for (;;) { /* 7-byte reads: rows cut anywhere still come out whole */
        all = realloc(all, n + 8);
        assert_non_null(all);
        ssize_t got = ca_report_csv_read(st, all + n, 7);
        assert_true(got >= 0 && got <= 7);
        if (got == 0)
            break;
        n += (size_t)got;
    }
    all[n] = '\0';
    ca_report_csv_close(st);
    assert_memory_equal(all, "\xef\xbb\xbf" CA_REPORT_CSV_HEADER "\r\n",
                        3 + strlen(CA_REPORT_CSV_HEADER) + 2);
    int lines = 0;
    for (char *p = all; (p = strstr(p, "\r\n")); p += 2)
        lines++;
    assert_int_equal(lines, NREC + 1);
    assert_non_null(strstr(all, "\"'=HYPERLINK(1)\""));             /* neutralised */
    assert_non_null(strstr(all, "revoked,D0,c0,urn:a,"));
    /* the reason, escaped, then the (empty) delivery columns */
    assert_non_null(strstr(all, ",\"left, \"\"early\"\"\",,\r\n"));
    assert_non_null(strstr(all, "2026-06-01T09:00:00Z"));
    assert_non_null(strstr(all, "\xea\xb9\x80\xec\xb2\xa0\xec\x88\x98")); /* Hangul as is */
    free(all);
    /* With a filter and a limit. */
    ca_report_filter lf = {.limit = 3, .department = "D1"};
    assert_int_equal(ca_report_csv_open(&st, f->store, &lf, false, &eb), CA_OK);
    char buf[65536];
    size_t m = 0;
    ssize_t got;
    while ((got = ca_report_csv_read(st, buf + m, sizeof buf - 1 - m)) > 0)
        m += (size_t)got;
    buf[m] = '\0';
    ca_report_csv_close(st);
    lines = 0;
    for (char *p = buf; (p = strstr(p, "\r\n")); p += 2)
        lines++;
    assert_int_equal(lines, 1 + 3);
    assert_true(strncmp(buf, "issueNumber,", 12) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migration_builds_counters_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_follow_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_prefilter, setup, teardown),
    };
    return ca_run_tests("reports", tests, NULL, NULL);
}
