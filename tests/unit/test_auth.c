/* Unit tests for node/auth.c (contract: node/auth.h, SPEC §3). */
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
#include <time.h>
#include <unistd.h>

#include "node/auth.h"
#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "node/store.h"

#define TOKEN_LEN 63

typedef struct fixture {
    char dir[CA_TEST_DIR_MAX];
    ca_store *store;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(ca_test_tmpdir(f->dir, sizeof f->dir, "ca_test_auth_"));
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

static bool token_shape_ok(const char *t)
{
    if (strlen(t) != TOKEN_LEN || strncmp(t, "ca_", 3) != 0 || t[19] != '_')
        return false;
    for (int i = 3; i < 19; i++)
        if (!strchr("0123456789abcdef", t[i]))
            return false;
    for (int i = 20; i < TOKEN_LEN; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", t[i]))
            return false;
    return true;
}

static void make_token(ca_store *s, char tok[CA_TOKEN_MAX], ca_token_info *info, ca_role role,
                       int64_t expires_at, const char *name)
{
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_token_create(s, tok, info, role, expires_at, name, &eb), CA_OK);
    assert_true(token_shape_ok(tok));
}

static ca_err check(ca_store *s, const char *tok, size_t len, int64_t now, ca_errbuf *eb)
{
    ca_token_info info;
    return ca_token_check(s, &info, tok, len, now, eb);
}

/* ---- roles ----------------------------------------------------------------------------------- */

static void test_roles(void **state)
{
    (void)state;
    static const char *const names[] = {"admin", "issuer", "revoker", "auditor"};
    for (int r = CA_ROLE_ADMIN; r <= CA_ROLE_AUDITOR; r++) {
        ca_role got;
        assert_string_equal(ca_role_name((ca_role)r), names[r - 1]);
        assert_int_equal(ca_role_parse(&got, names[r - 1]), CA_OK);
        assert_int_equal(got, r);
    }
    ca_role got;
    static const char *const bad[] = {"", "Admin", "ADMIN", "root", "admin ", " admin",
                                      "issuers", "admi"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ca_role_parse(&got, bad[i]), CA_ERR_INVALID);
    assert_int_equal(ca_role_parse(&got, NULL), CA_ERR_INVALID);
}

/* ---- create / check -------------------------------------------------------------------------- */

static void test_round_trip_each_role(void **state)
{
    fixture *f = *state;
    int64_t now = (int64_t)time(NULL);
    for (int r = CA_ROLE_ADMIN; r <= CA_ROLE_AUDITOR; r++) {
        char tok[CA_TOKEN_MAX];
        ca_token_info made, seen;
        make_token(f->store, tok, &made, (ca_role)r, 0, ca_role_name((ca_role)r));
        assert_int_equal(made.role, r);
        assert_int_equal(strlen(made.id), 16);
        assert_memory_equal(made.id, tok + 3, 16);
        assert_string_equal(made.name, ca_role_name((ca_role)r));
        assert_true(made.created_at >= now && made.created_at <= now + 5);
        assert_int_equal(made.expires_at, 0);
        assert_int_equal(made.revoked_at, 0);
        ca_errbuf eb = {{0}};
        assert_int_equal(ca_token_check(f->store, &seen, tok, strlen(tok), now, &eb), CA_OK);
        assert_string_equal(seen.id, made.id);
        assert_int_equal(seen.role, r);
        assert_string_equal(seen.name, made.name);
        assert_int_equal(seen.created_at, made.created_at);
    }
}

static void test_tokens_are_distinct(void **state)
{
    fixture *f = *state;
    char a[CA_TOKEN_MAX], b[CA_TOKEN_MAX];
    ca_token_info ia, ib;
    make_token(f->store, a, &ia, CA_ROLE_ISSUER, 0, NULL);
    make_token(f->store, b, &ib, CA_ROLE_ISSUER, 0, NULL);
    assert_string_not_equal(a, b);
    assert_string_not_equal(ia.id, ib.id);
    assert_string_equal(ia.name, "");
}

static void test_wrong_secret_and_unknown_id(void **state)
{
    fixture *f = *state;
    char tok[CA_TOKEN_MAX], bad[CA_TOKEN_MAX];
    ca_token_info info;
    make_token(f->store, tok, &info, CA_ROLE_ADMIN, 0, NULL);
    int64_t now = (int64_t)time(NULL);

    /* Wrong secret: change the first secret character (all 6 of its bits are data). */
    memcpy(bad, tok, sizeof bad);
    bad[20] = bad[20] == 'A' ? 'B' : 'A';
    ca_errbuf eb_secret = {{0}}, eb_id = {{0}};
    assert_int_equal(check(f->store, bad, TOKEN_LEN, now, &eb_secret), CA_ERR_PERMISSION);

    /* Unknown id, right secret. */
    memcpy(bad, tok, sizeof bad);
    bad[3] = bad[3] == 'a' ? 'b' : 'a';
    assert_int_equal(check(f->store, bad, TOKEN_LEN, now, &eb_id), CA_ERR_PERMISSION);

    /* The two failures read the same: nothing tells which part was wrong. */
    assert_string_equal(eb_secret.msg, eb_id.msg);

    /* A well-formed token for an empty id space. */
    assert_int_equal(check(f->store, "ca_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                           TOKEN_LEN, now, NULL),
                     CA_ERR_PERMISSION);
    /* ...and the real one still works. */
    assert_int_equal(check(f->store, tok, TOKEN_LEN, now, NULL), CA_OK);
}

static void test_malformed(void **state)
{
    fixture *f = *state;
    char tok[CA_TOKEN_MAX];
    ca_token_info info;
    make_token(f->store, tok, &info, CA_ROLE_ISSUER, 0, NULL);
    int64_t now = (int64_t)time(NULL);
    char b[256];

    /* empty, and NULL */
    assert_int_equal(check(f->store, "", 0, now, NULL), CA_ERR_PERMISSION);
    assert_int_equal(check(f->store, NULL, 0, now, NULL), CA_ERR_PERMISSION);
    /* too long: the token padded out to, and far past, CA_TOKEN_MAX */
    memset(b, 'A', sizeof b);
    memcpy(b, tok, TOKEN_LEN);
    assert_int_equal(check(f->store, b, CA_TOKEN_MAX, now, NULL), CA_ERR_PERMISSION);
    assert_int_equal(check(f->store, b, sizeof b, now, NULL), CA_ERR_PERMISSION);
    /* extra characters after a valid token; one missing */
    assert_int_equal(check(f->store, b, TOKEN_LEN + 1, now, NULL), CA_ERR_PERMISSION);
    assert_int_equal(check(f->store, tok, TOKEN_LEN - 1, now, NULL), CA_ERR_PERMISSION);
    memcpy(b, tok, TOKEN_LEN);
    b[TOKEN_LEN] = '\n';
    assert_int_equal(check(f->store, b, TOKEN_LEN + 1, now, NULL), CA_ERR_PERMISSION);
    b[TOKEN_LEN] = '\0';
    assert_int_equal(check(f->store, b, TOKEN_LEN + 1, now, NULL), CA_ERR_PERMISSION);
    /* leading space */
    b[0] = ' ';
    memcpy(b + 1, tok, TOKEN_LEN);
    assert_int_equal(check(f->store, b, TOKEN_LEN + 1, now, NULL), CA_ERR_PERMISSION);

    /* one character changed at a time */
    struct { size_t at; char c; } edits[] = {
        {0, 'C'}, {0, 'x'}, {1, 'b'}, {1, 'A'}, {2, '-'}, {2, '.'}, /* wrong prefix */
        {3, 'A'}, {5, 'g'}, {18, 'F'}, {10, '_'}, {4, '\0'},       /* bad hex id */
        {19, '-'}, {19, '.'},                                      /* separator */
        {20, '+'}, {25, '/'}, {30, '='}, {40, '.'}, {21, '\0'},    /* bad base64url */
        {62, '='}, {62, 'B'}, {62, 'z'},                            /* non-zero tail bits */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(b, tok, TOKEN_LEN + 1);
        if (b[edits[i].at] == edits[i].c)
            continue;
        b[edits[i].at] = edits[i].c;
        ca_errbuf eb = {{0}};
        if (check(f->store, b, TOKEN_LEN, now, &eb) != CA_ERR_PERMISSION)
            fail_msg("edit %zu (position %zu to 0x%02x) was accepted", i, edits[i].at,
                     (unsigned)(unsigned char)edits[i].c);
    }
    /* 43 chars carry 258 bits for 256: the last one's low 2 bits must be zero, so only
     * every fourth alphabet character is canonical there; the others are refused. */
    static const char b64url[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert_int_equal((strchr(b64url, tok[62]) - b64url) % 4, 0);
    for (int i = 0; i < 64; i++) {
        memcpy(b, tok, TOKEN_LEN + 1);
        b[62] = b64url[i];
        if (i % 4 && check(f->store, b, TOKEN_LEN, now, NULL) != CA_ERR_PERMISSION)
            fail_msg("non-canonical last character %c accepted", b64url[i]);
    }

    /* Bearer prefix or quotes are the caller's to strip, not ours to guess. */
    snprintf(b, sizeof b, "Bearer %s", tok);
    assert_int_equal(check(f->store, b, strlen(b), now, NULL), CA_ERR_PERMISSION);
    assert_int_equal(check(f->store, tok, TOKEN_LEN, now, NULL), CA_OK);
}

static void test_expiry(void **state)
{
    fixture *f = *state;
    int64_t now = (int64_t)time(NULL);
    char tok[CA_TOKEN_MAX];
    ca_token_info info;
    make_token(f->store, tok, &info, CA_ROLE_REVOKER, now + 100, "short");
    assert_int_equal(info.expires_at, now + 100);
    assert_int_equal(check(f->store, tok, TOKEN_LEN, now, NULL), CA_OK);
    assert_int_equal(check(f->store, tok, TOKEN_LEN, now + 99, NULL), CA_OK);
    ca_errbuf eb = {{0}};
    assert_int_equal(check(f->store, tok, TOKEN_LEN, now + 100, &eb), CA_ERR_PERMISSION);
    assert_non_null(strstr(eb.msg, "expired"));
    assert_int_equal(check(f->store, tok, TOKEN_LEN, now + 100000, NULL), CA_ERR_PERMISSION);

    /* Created already expired (expiry in the past). */
    make_token(f->store, tok, &info, CA_ROLE_ADMIN, 1000, NULL);
    assert_int_equal(check(f->store, tok, TOKEN_LEN, now, NULL), CA_ERR_PERMISSION);
    assert_int_equal(check(f->store, tok, TOKEN_LEN, 999, NULL), CA_OK);

    /* A negative expiry is refused. */
    assert_int_equal(ca_token_create(f->store, tok, &info, CA_ROLE_ADMIN, -1, NULL, NULL),
                     CA_ERR_RANGE);
}

static void test_revoke(void **state)
{
    fixture *f = *state;
    int64_t now = (int64_t)time(NULL);
    char tok[CA_TOKEN_MAX], other[CA_TOKEN_MAX];
    ca_token_info info, oinfo;
    make_token(f->store, tok, &info, CA_ROLE_ISSUER, 0, "to revoke");
    make_token(f->store, other, &oinfo, CA_ROLE_ISSUER, 0, "kept");
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_token_revoke(f->store, info.id, &eb), CA_OK);
    assert_int_equal(check(f->store, tok, TOKEN_LEN, now, &eb), CA_ERR_PERMISSION);
    assert_non_null(strstr(eb.msg, "revoked"));
    assert_int_equal(check(f->store, other, TOKEN_LEN, now, NULL), CA_OK);

    /* Revoking twice keeps the first time; the token stays listed. */
    ca_token_info *list;
    size_t n;
    assert_int_equal(ca_token_list(f->store, &list, &n, NULL), CA_OK);
    int64_t first = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].id, info.id) == 0)
            first = list[i].revoked_at;
    free(list);
    assert_true(first >= now);
    assert_int_equal(ca_token_revoke(f->store, info.id, NULL), CA_OK);
    assert_int_equal(ca_token_list(f->store, &list, &n, NULL), CA_OK);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].id, info.id) == 0)
            assert_int_equal(list[i].revoked_at, first);
        else
            assert_int_equal(list[i].revoked_at, 0);
    free(list);

    assert_int_equal(ca_token_revoke(f->store, "0123456789abcdef", &eb), CA_ERR_NOT_FOUND);
    assert_int_equal(ca_token_revoke(f->store, "0123456789ABCDEF", NULL), CA_ERR_INVALID);
    assert_int_equal(ca_token_revoke(f->store, "0123", NULL), CA_ERR_INVALID);
    assert_int_equal(ca_token_revoke(f->store, "", NULL), CA_ERR_INVALID);
    assert_int_equal(ca_token_revoke(f->store, tok, NULL), CA_ERR_INVALID);
}

static void test_list_has_no_secrets(void **state)
{
    fixture *f = *state;
    char toks[3][CA_TOKEN_MAX];
    ca_token_info infos[3];
    make_token(f->store, toks[0], &infos[0], CA_ROLE_ADMIN, 0, "a");
    make_token(f->store, toks[1], &infos[1], CA_ROLE_AUDITOR, 12345, "b");
    make_token(f->store, toks[2], &infos[2], CA_ROLE_ISSUER, 0, "c");
    ca_token_info *list;
    size_t n;
    assert_int_equal(ca_token_list(f->store, &list, &n, NULL), CA_OK);
    assert_int_equal(n, 3);
    for (size_t i = 1; i < n; i++)
        assert_true(list[i - 1].created_at <= list[i].created_at);
    for (int k = 0; k < 3; k++) {
        const char *secret = toks[k] + 20;
        ca_hash h;
        ca_sha256(&h, toks[k], TOKEN_LEN);
        bool found = false;
        for (size_t i = 0; i < n; i++) {
            /* Neither the secret text nor the stored hash appears in what list hands out. */
            assert_null(memmem(&list[i], sizeof list[i], secret, 43));
            assert_null(memmem(&list[i], sizeof list[i], secret, 8));
            assert_null(memmem(&list[i], sizeof list[i], h.b, 8));
            if (strcmp(list[i].id, infos[k].id) == 0) {
                found = true;
                assert_int_equal(list[i].role, infos[k].role);
                assert_string_equal(list[i].name, infos[k].name);
                assert_int_equal(list[i].expires_at, infos[k].expires_at);
            }
        }
        assert_true(found);
    }
    free(list);
}

static void test_empty_list(void **state)
{
    fixture *f = *state;
    ca_token_info *list = (void *)1;
    size_t n = 99;
    assert_int_equal(ca_token_list(f->store, &list, &n, NULL), CA_OK);
    assert_int_equal(n, 0);
    free(list);
}

static void test_names(void **state)
{
    fixture *f = *state;
    char tok[CA_TOKEN_MAX], name[CA_TOKEN_NAME_MAX + 1];
    ca_token_info info;
    memset(name, 'n', sizeof name);
    name[CA_TOKEN_NAME_MAX - 1] = '\0'; /* 127 bytes: the longest allowed */
    make_token(f->store, tok, &info, CA_ROLE_ADMIN, 0, name);
    assert_string_equal(info.name, name);
    name[CA_TOKEN_NAME_MAX - 1] = 'n';
    name[CA_TOKEN_NAME_MAX] = '\0';
    assert_int_equal(ca_token_create(f->store, tok, &info, CA_ROLE_ADMIN, 0, name, NULL),
                     CA_ERR_TOO_LARGE);
    assert_int_equal(ca_token_create(f->store, tok, &info, CA_ROLE_ADMIN, 0, "a\nb", NULL),
                     CA_ERR_INVALID);
    assert_int_equal(ca_token_create(f->store, tok, &info, (ca_role)0, 0, NULL, NULL),
                     CA_ERR_INVALID);
    assert_int_equal(ca_token_create(f->store, tok, &info, (ca_role)5, 0, NULL, NULL),
                     CA_ERR_INVALID);
    make_token(f->store, tok, &info, CA_ROLE_ADMIN, 0, "Zoë's CI — deploy");
    ca_token_info seen;
    assert_int_equal(ca_token_check(f->store, &seen, tok, TOKEN_LEN, time(NULL), NULL), CA_OK);
    assert_string_equal(seen.name, "Zoë's CI — deploy");
}

/* ---- durations ------------------------------------------------------------------------------- */

static void test_duration_parse(void **state)
{
    (void)state;
    static const struct { const char *text; ca_err err; int64_t secs; } cases[] = {
        {"90d", CA_OK, 90 * 86400},
        {"12h", CA_OK, 12 * 3600},
        {"30m", CA_OK, 1800},
        {"45s", CA_OK, 45},
        {"3600", CA_OK, 3600},
        {"1", CA_OK, 1},
        {"007d", CA_OK, 7 * 86400},
        {"9223372036854775807", CA_OK, INT64_MAX},
        {"9223372036854775807s", CA_OK, INT64_MAX},
        {"106751991167300d", CA_OK, 106751991167300LL * 86400},
        {"0", CA_ERR_RANGE, 0},
        {"0d", CA_ERR_RANGE, 0},
        {"000s", CA_ERR_RANGE, 0},
        {"9223372036854775808", CA_ERR_RANGE, 0},
        {"99999999999999999999999", CA_ERR_RANGE, 0},
        {"106751991167301d", CA_ERR_RANGE, 0},
        {"153722867280912931m", CA_ERR_RANGE, 0},
        {"", CA_ERR_INVALID, 0},
        {"d", CA_ERR_INVALID, 0},
        {"-5", CA_ERR_INVALID, 0},
        {"-5d", CA_ERR_INVALID, 0},
        {"+5", CA_ERR_INVALID, 0},
        {" 5", CA_ERR_INVALID, 0},
        {"5 ", CA_ERR_INVALID, 0},
        {"5 d", CA_ERR_INVALID, 0},
        {"5D", CA_ERR_INVALID, 0},
        {"5w", CA_ERR_INVALID, 0},
        {"5dd", CA_ERR_INVALID, 0},
        {"5d3h", CA_ERR_INVALID, 0},
        {"1.5h", CA_ERR_INVALID, 0},
        {"0x10", CA_ERR_INVALID, 0},
        {"1e3", CA_ERR_INVALID, 0},
        {"ten", CA_ERR_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t secs = -7;
        ca_err err = ca_duration_parse(&secs, cases[i].text);
        if (err != cases[i].err)
            fail_msg("\"%s\": got error %d, want %d", cases[i].text, err, cases[i].err);
        if (!err && secs != cases[i].secs)
            fail_msg("\"%s\": got %lld seconds", cases[i].text, (long long)secs);
        if (err)
            assert_int_equal(secs, -7);
    }
    int64_t secs;
    assert_int_equal(ca_duration_parse(&secs, NULL), CA_ERR_INVALID);
}

/* ---- audit ----------------------------------------------------------------------------------- */

static void append_n(ca_store *s, int n)
{
    for (int i = 0; i < n; i++) {
        char detail[32];
        snprintf(detail, sizeof detail, "entry %d", i + 1);
        ca_audit_event ev = {NULL, "token create", "tokens/x", 0, detail, NULL};
        ca_errbuf eb = {{0}};
        if (ca_audit_append(s, &ev, &eb))
            fail_msg("append: %s", eb.msg);
    }
}

/* A malloc'd copy of audit entry seq (NULL when absent). */
static char *read_entry(ca_store *s, uint64_t seq, size_t *len)
{
    uint8_t k[8];
    ca_store_u64_key(k, seq);
    ca_store_txn *txn;
    assert_int_equal(ca_store_begin(s, &txn, false, NULL), CA_OK);
    ca_store_val v;
    char *out = NULL;
    if (ca_store_get(txn, CA_TABLE_AUDIT, k, 8, &v) == CA_OK) {
        out = malloc(v.len + 1);
        memcpy(out, v.data, v.len);
        out[v.len] = '\0';
        *len = v.len;
    }
    ca_store_abort(txn);
    return out;
}

static void put_entry(ca_store *s, uint64_t seq, const char *val, size_t len)
{
    uint8_t k[8];
    ca_store_u64_key(k, seq);
    ca_store_txn *txn;
    assert_int_equal(ca_store_begin(s, &txn, true, NULL), CA_OK);
    if (val)
        assert_int_equal(ca_store_put(txn, CA_TABLE_AUDIT, k, 8, val, len), CA_OK);
    else
        assert_int_equal(ca_store_del(txn, CA_TABLE_AUDIT, k, 8), CA_OK);
    assert_int_equal(ca_store_commit(txn, NULL), CA_OK);
}

static void expect_broken_at(ca_store *s, uint64_t seq)
{
    ca_errbuf eb = {{0}};
    uint64_t n = 77;
    assert_int_equal(ca_audit_verify(s, &n, &eb), CA_ERR_VERIFY);
    char want[48];
    snprintf(want, sizeof want, "at entry %llu:", (unsigned long long)seq);
    if (!strstr(eb.msg, want))
        fail_msg("want \"%s\" in \"%s\"", want, eb.msg);
}

static void test_audit_empty(void **state)
{
    fixture *f = *state;
    uint64_t n = 5;
    assert_int_equal(ca_audit_verify(f->store, &n, NULL), CA_OK);
    assert_int_equal(n, 0);
}

static void test_audit_entries(void **state)
{
    fixture *f = *state;
    char tok[CA_TOKEN_MAX];
    ca_token_info info;
    make_token(f->store, tok, &info, CA_ROLE_ISSUER, 0, NULL);
    append_n(f->store, 1);
    ca_audit_event ev = {&info, "POST", "/v1/log/entries", 200, NULL, NULL};
    assert_int_equal(ca_audit_append(f->store, &ev, NULL), CA_OK);
    /* Invalid UTF-8 and over-long text still give a valid, capped entry. */
    char long_detail[4000];
    memset(long_detail, 'x', sizeof long_detail);
    long_detail[sizeof long_detail - 1] = '\0';
    long_detail[10] = (char)0xff;
    ca_audit_event ev3 = {&info, "POST", "/v1/credentials/\xc3(", 400, long_detail, NULL};
    assert_int_equal(ca_audit_append(f->store, &ev3, NULL), CA_OK);

    uint64_t n;
    ca_errbuf eb = {{0}};
    assert_int_equal(ca_audit_verify(f->store, &n, &eb), CA_OK);
    assert_int_equal(n, 3);

    size_t len1, len2, len3;
    char *e1 = read_entry(f->store, 1, &len1), *e2 = read_entry(f->store, 2, &len2);
    char *e3 = read_entry(f->store, 3, &len3);
    assert_non_null(e1);
    assert_non_null(e2);
    assert_non_null(e3);
    assert_null(strstr(e2, tok + 20)); /* never the secret */

    json_t *j1 = json_loads(e1, 0, NULL), *j2 = json_loads(e2, 0, NULL);
    json_t *j3 = json_loads(e3, 0, NULL);
    assert_non_null(j1);
    assert_non_null(j2);
    assert_non_null(j3);
    /* The keys, in order. */
    static const char *const keys[] = {"seq", "time", "tokenId", "role", "method",
                                       "route", "status", "detail", "prev"};
    const char *p = e1;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char q[32];
        snprintf(q, sizeof q, "\"%s\":", keys[i]);
        const char *at = strstr(p, q);
        assert_non_null(at);
        p = at;
    }
    assert_int_equal(json_integer_value(json_object_get(j1, "seq")), 1);
    assert_string_equal(json_string_value(json_object_get(j1, "tokenId")), "cli");
    assert_true(json_is_null(json_object_get(j1, "role")));
    assert_string_equal(json_string_value(json_object_get(j1, "method")), "token create");
    assert_string_equal(json_string_value(json_object_get(j1, "detail")), "entry 1");
    assert_string_equal(json_string_value(json_object_get(j1, "prev")),
                        "0000000000000000000000000000000000000000000000000000000000000000");
    const char *t = json_string_value(json_object_get(j1, "time"));
    assert_non_null(t);
    assert_int_equal(strlen(t), 20);
    assert_true(t[4] == '-' && t[10] == 'T' && t[19] == 'Z');

    assert_int_equal(json_integer_value(json_object_get(j2, "seq")), 2);
    assert_string_equal(json_string_value(json_object_get(j2, "tokenId")), info.id);
    assert_string_equal(json_string_value(json_object_get(j2, "role")), "issuer");
    assert_string_equal(json_string_value(json_object_get(j2, "route")), "/v1/log/entries");
    assert_int_equal(json_integer_value(json_object_get(j2, "status")), 200);
    assert_true(json_is_null(json_object_get(j2, "detail")));
    ca_hash h;
    char hex[65];
    ca_sha256(&h, e1, len1);
    ca_hash_to_hex(hex, &h);
    assert_string_equal(json_string_value(json_object_get(j2, "prev")), hex);

    const char *d3 = json_string_value(json_object_get(j3, "detail"));
    assert_non_null(d3);
    assert_true(strlen(d3) <= 1024);
    assert_non_null(json_string_value(json_object_get(j3, "route")));

    json_decref(j1);
    json_decref(j2);
    json_decref(j3);
    free(e1);
    free(e2);
    free(e3);
}

static void test_audit_tamper_middle(void **state)
{
    fixture *f = *state;
    append_n(f->store, 5);
    size_t len;
    char *e = read_entry(f->store, 3, &len);
    char *at = strstr(e, "entry 3");
    assert_non_null(at);
    at[6] = '9'; /* same length, still valid JSON */
    put_entry(f->store, 3, e, len);
    expect_broken_at(f->store, 3);
    /* Putting the original bytes back heals it. */
    at[6] = '3';
    put_entry(f->store, 3, e, len);
    uint64_t n;
    assert_int_equal(ca_audit_verify(f->store, &n, NULL), CA_OK);
    assert_int_equal(n, 5);
    /* Garbage bytes. */
    put_entry(f->store, 2, "not json", 8);
    expect_broken_at(f->store, 2);
    free(e);
}

static void test_audit_tamper_prev_link(void **state)
{
    fixture *f = *state;
    append_n(f->store, 4);
    size_t len;
    char *e = read_entry(f->store, 1, &len);
    char *prev = strstr(e, "\"prev\":\"");
    assert_non_null(prev);
    prev[8] = '1';
    put_entry(f->store, 1, e, len);
    expect_broken_at(f->store, 1);
    free(e);
}

static void test_audit_tamper_last(void **state)
{
    fixture *f = *state;
    append_n(f->store, 4);
    size_t len;
    char *e = read_entry(f->store, 4, &len);
    char *at = strstr(e, "entry 4");
    assert_non_null(at);
    at[6] = '8';
    put_entry(f->store, 4, e, len);
    expect_broken_at(f->store, 4);
    free(e);
}

static void test_audit_delete_middle(void **state)
{
    fixture *f = *state;
    append_n(f->store, 5);
    put_entry(f->store, 3, NULL, 0);
    expect_broken_at(f->store, 3);
}

static void test_audit_delete_first_and_last(void **state)
{
    fixture *f = *state;
    append_n(f->store, 3);
    put_entry(f->store, 3, NULL, 0);
    expect_broken_at(f->store, 3);
    /* Appending again continues after the head, so the gap stays visible. */
    append_n(f->store, 1);
    size_t len;
    char *e = read_entry(f->store, 4, &len);
    assert_non_null(e);
    free(e);
    expect_broken_at(f->store, 3);
    put_entry(f->store, 1, NULL, 0);
    expect_broken_at(f->store, 1);
}

static void test_audit_seq_field_mismatch(void **state)
{
    fixture *f = *state;
    append_n(f->store, 2);
    size_t len;
    char *e = read_entry(f->store, 2, &len);
    assert_memory_equal(e, "{\"seq\":2,", 9);
    e[7] = '7';
    put_entry(f->store, 2, e, len);
    expect_broken_at(f->store, 2);
    free(e);
}

/* Issue #13 item 16: a token's repeated 403s are one entry plus one count entry, not one
 * synced entry each; past CA_AUDIT_DENY_MAX in a window the answer becomes 429. */
static void test_audit_denied_aggregated(void **state)
{
    fixture *f = *state;
    ca_token_info a = {.id = "00112233aabbccdd", .role = CA_ROLE_AUDITOR};
    ca_token_info b = {.id = "ffeeddccbbaa9988", .role = CA_ROLE_REVOKER};
    ca_audit_event ea = {&a, "POST", "/v1/log/entries", 403, "needs issuer", NULL};
    ca_audit_event ebv = {&b, "POST", "/v1/anchors", 403, "needs admin", NULL};
    int64_t now = 2000000000;
    for (int i = 1; i <= 100; i++) {
        unsigned wait = ca_audit_denied(f->store, &ea, now);
        if (i <= CA_AUDIT_DENY_MAX)
            assert_int_equal(wait, 0);
        else
            assert_int_equal(wait, CA_AUDIT_DENY_WINDOW);
    }
    assert_int_equal(ca_audit_denied(f->store, &ebv, now + 5), 0); /* another token: its own */
    ca_audit_query q = {.limit = 100};
    json_t *list;
    uint64_t next;
    assert_int_equal(ca_audit_list(f->store, &q, &list, &next, NULL), CA_OK);
    assert_int_equal(json_array_size(list), 2); /* a's first denial, b's first */
    json_decref(list);
    /* Nothing is due before the window ends; after it the count is written once. */
    ca_audit_denied_flush(f->store, now + CA_AUDIT_DENY_WINDOW - 1, false);
    assert_int_equal(ca_audit_list(f->store, &q, &list, &next, NULL), CA_OK);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    ca_audit_denied_flush(f->store, now + CA_AUDIT_DENY_WINDOW, false);
    assert_int_equal(ca_audit_list(f->store, &q, &list, &next, NULL), CA_OK);
    assert_int_equal(json_array_size(list), 3);
    const json_t *e = json_array_get(list, 2);
    assert_string_equal(json_string_value(json_object_get(e, "tokenId")), a.id);
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 403);
    assert_non_null(strstr(json_string_value(json_object_get(e, "detail")),
                           "99 more denied attempts"));
    json_decref(list);
    /* A new window for a: its first denial is written again, and not limited. */
    assert_int_equal(ca_audit_denied(f->store, &ea, now + 200), 0);
    /* b's single denial has no repeats: the final flush adds nothing for it. */
    ca_audit_denied_flush(f->store, now + 300, true);
    assert_int_equal(ca_audit_list(f->store, &q, &list, &next, NULL), CA_OK);
    assert_int_equal(json_array_size(list), 4);
    json_decref(list);
    uint64_t n;
    assert_int_equal(ca_audit_verify(f->store, &n, NULL), CA_OK);
    assert_int_equal(n, 4);
}

/* audit list: filters, pages and the cursor. */
static void test_audit_list_pages(void **state)
{
    fixture *f = *state;
    ca_token_info a = {.id = "0123456789abcdef", .role = CA_ROLE_ISSUER};
    for (int i = 0; i < 25; i++) {
        ca_audit_event ev = {i % 2 ? &a : NULL, "POST", "/v1/x", 200, NULL, NULL};
        assert_int_equal(ca_audit_append(f->store, &ev, NULL), CA_OK);
    }
    ca_audit_query q = {.limit = 10};
    json_t *list;
    uint64_t next;
    size_t total = 0;
    do {
        assert_int_equal(ca_audit_list(f->store, &q, &list, &next, NULL), CA_OK);
        assert_true(json_array_size(list) <= 10);
        if (json_array_size(list))
            assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "seq")),
                             (json_int_t)(q.after + 1));
        total += json_array_size(list);
        json_decref(list);
        q.after = next;
    } while (next);
    assert_int_equal(total, 25);
    ca_audit_query cq = {.limit = 100};
    snprintf(cq.token_id, sizeof cq.token_id, "cli");
    assert_int_equal(ca_audit_list(f->store, &cq, &list, &next, NULL), CA_OK);
    assert_int_equal(json_array_size(list), 13);
    assert_int_equal(next, 0);
    json_decref(list);
    ca_audit_query fq = {.limit = 100, .since = (int64_t)time(NULL) + 3600};
    assert_int_equal(ca_audit_list(f->store, &fq, &list, &next, NULL), CA_OK);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test_setup_teardown(test_round_trip_each_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens_are_distinct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_secret_and_unknown_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_has_no_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_tamper_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_tamper_prev_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_tamper_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_delete_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_delete_first_and_last, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_seq_field_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_denied_aggregated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_list_pages, setup, teardown),
    };
    return ca_run_tests("auth", tests, NULL, NULL);
}
