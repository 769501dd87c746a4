/* Unit tests for node/users.c (contract: node/users.h, issue #16): invites and enrollment,
 * passkeys, recovery codes, sessions, admin actions and inactivity, and contact data at rest.
 * Every case gets a fresh store; the data key (one scrypt run to open) is shared by the group.
 * Recovery codes are hashed at a test-only argon2id cost (ca_recovery_codes_new_kdf). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/data_key.h"
#include "node/store.h"
#include "node/users.h"

#define T0 1790000000 /* 2026-09-21 */
#define DAY 86400
#define ADMIN (1u << CA_ROLE_ADMIN)
#define ISSUER (1u << CA_ROLE_ISSUER)
#define AUDITOR (1u << CA_ROLE_AUDITOR)
#define IDLE 1800
#define ABSOLUTE (12 * 3600)

static const char pass[] = "correct horse battery staple";
static const ca_recovery_kdf test_kdf = {1, 8, 1}; /* fast: tests only */
static const uint8_t cose[] = {0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01}; /* a stand-in */

static char key_dir[CA_TEST_DIR_MAX];
static ca_data_key *dk;

typedef struct fixture {
    char dir[CA_TEST_DIR_MAX];
    char db[CA_TEST_DIR_MAX + 8];
    ca_store *store;
    unsigned creds; /* credential ids handed out */
} fixture;

static int group_setup(void **state)
{
    (void)state;
    ca_errbuf eb = {{0}};
    if (!ca_test_tmpdir(key_dir, sizeof key_dir, "ca_test_users_key_"))
        return -1;
    return ca_data_key_open(&dk, key_dir, pass, strlen(pass), true, &eb) == CA_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    ca_data_key_free(dk);
    ca_test_rmtree(key_dir);
    return 0;
}

static ca_store *open_store(const char *db, bool read_only)
{
    ca_store *s = NULL;
    ca_store_options o = {.dir = db, .max_map_size = 1ull << 30, .read_only = read_only};
    ca_errbuf eb = {{0}};
    ca_err err = ca_store_open(&s, &o, &eb);
    if (err)
        fail_msg("store open: %s", ca_errmsg(&eb, err));
    return s;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_non_null(ca_test_tmpdir(f->dir, sizeof f->dir, "ca_test_users_"));
    snprintf(f->db, sizeof f->db, "%s/db", f->dir);
    f->store = open_store(f->db, false);
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

#define OK(call)                                                                             \
    do {                                                                                     \
        ca_errbuf eb_ = {{0}};                                                               \
        ca_errbuf *eb = &eb_;                                                                \
        ca_err rc_ = (call);                                                                 \
        if (rc_ != CA_OK)                                                                    \
            fail_msg("%s: %s", #call, ca_errmsg(eb, rc_));                                   \
    } while (0)

#define FAILS(code, call)                                                                    \
    do {                                                                                     \
        ca_errbuf eb_ = {{0}};                                                               \
        ca_errbuf *eb = &eb_;                                                                \
        ca_err rc_ = (call);                                                                 \
        if (rc_ != (code))                                                                   \
            fail_msg("%s: want %s, got %s (%s)", #call, ca_strerror(code), ca_strerror(rc_), \
                     eb_.msg);                                                               \
    } while (0)

/* Credential id number k (24 bytes). */
static size_t cred_of(unsigned k, uint8_t out[32])
{
    memset(out, 0, 32);
    snprintf((char *)out, 32, "credential-%u", k);
    return 24;
}

/* A credential id no other call gave out. */
static size_t next_cred(fixture *f, uint8_t out[32])
{
    return cred_of(++f->creds, out);
}

static void invite(fixture *f, ca_user *u, char secret[CA_INVITE_SECRET_MAX], const char *email,
                   const char *name, unsigned roles, int64_t ttl, int64_t now)
{
    OK(ca_user_invite(f->store, dk, u, secret, email, name, roles, ttl, now, eb));
}

/* An invited-then-enrolled user; id gets the user id. */
static void make_active(fixture *f, char id[CA_USER_ID_MAX], const char *email, unsigned roles,
                        int64_t now)
{
    ca_user u;
    char secret[CA_INVITE_SECRET_MAX], uid[CA_USER_ID_MAX];
    ca_hash h;
    invite(f, &u, secret, email, "Some Person", roles, 0, now);
    OK(ca_invite_peek(f->store, uid, &h, secret, now, eb));
    uint8_t cred[32];
    size_t n = next_cred(f, cred);
    OK(ca_passkey_add(f->store, uid, cred, n, cose, sizeof cose, -7, 0, "key", now, &h, eb));
    memcpy(id, uid, CA_USER_ID_MAX);
}

static ca_user get(fixture *f, const char *id)
{
    ca_user u;
    OK(ca_user_get(f->store, dk, &u, id, eb));
    return u;
}

/* ---- invites and enrollment ------------------------------------------------------------------ */

static void test_invite_enroll(void **state)
{
    fixture *f = *state;
    ca_user u;
    char secret[CA_INVITE_SECRET_MAX], uid[CA_USER_ID_MAX];
    invite(f, &u, secret, "  Alice@Example.com ", "Alice Kim", ISSUER | AUDITOR, 0, T0);
    assert_int_equal(strlen(secret), 43);
    assert_int_equal(strlen(u.id), 16);
    assert_int_equal(u.state, CA_USER_INVITED);
    assert_int_equal(u.roles, ISSUER | AUDITOR);
    assert_string_equal(u.email, "Alice@Example.com"); /* trimmed, case kept */
    assert_string_equal(u.name, "Alice Kim");
    assert_int_equal(u.created_at, T0);

    /* Peeking does not consume: twice, and the hash is the secret's. */
    ca_hash h, h2, want;
    OK(ca_invite_peek(f->store, uid, &h, secret, T0 + 60, eb));
    assert_string_equal(uid, u.id);
    OK(ca_invite_peek(f->store, uid, &h2, secret, T0 + 61, eb));
    ca_invite_hash(&want, secret);
    assert_memory_equal(h.b, want.b, CA_HASH_SIZE);
    assert_memory_equal(h2.b, want.b, CA_HASH_SIZE);
    /* A session cannot start for an invited user. */
    ca_session s;
    char cookie[CA_SESSION_COOKIE_MAX], csrf[CA_SESSION_CSRF_MAX];
    FAILS(CA_ERR_PERMISSION, ca_session_create(f->store, &s, cookie, csrf, u.id, "::1",
                                               "passkey", T0, eb));

    uint8_t cred[32];
    size_t n = next_cred(f, cred);
    OK(ca_passkey_add(f->store, uid, cred, n, cose, sizeof cose, -7, 3, "Laptop", T0 + 120, &h,
                      eb));
    ca_user a = get(f, u.id);
    assert_int_equal(a.state, CA_USER_ACTIVE);
    assert_int_equal(a.activated_at, T0 + 120);
    assert_string_equal(a.name, "Alice Kim");
    assert_string_equal(a.email, "Alice@Example.com");

    /* The invite is spent: peek, redeem and a second passkey with it are refused. */
    FAILS(CA_ERR_PERMISSION, ca_invite_peek(f->store, uid, NULL, secret, T0 + 130, eb));
    FAILS(CA_ERR_PERMISSION, ca_invite_redeem(f->store, uid, secret, T0 + 130, eb));
    n = next_cred(f, cred);
    FAILS(CA_ERR_PERMISSION, ca_passkey_add(f->store, u.id, cred, n, cose, sizeof cose, -7, 0,
                                            NULL, T0 + 130, &h, eb));
    /* Malformed secrets. */
    FAILS(CA_ERR_PERMISSION, ca_invite_peek(f->store, uid, NULL, "short", T0, eb));
    FAILS(CA_ERR_PERMISSION, ca_invite_peek(f->store, uid, NULL, NULL, T0, eb));

    ca_passkey p;
    n = cred_of(1, cred); /* the one added */
    OK(ca_passkey_find(f->store, cred, n, &p, eb));
    assert_string_equal(p.user_id, u.id);
    assert_int_equal(p.alg, -7);
    assert_int_equal(p.sign_count, 3);
    assert_int_equal(p.created_at, T0 + 120);
    assert_int_equal(p.last_used_at, 0);
    assert_string_equal(p.name, "Laptop");
    assert_int_equal(p.key_len, sizeof cose);
    assert_memory_equal(p.cose_key, cose, sizeof cose);
}

static void test_failed_registration_keeps_invite(void **state)
{
    fixture *f = *state;
    char other[CA_USER_ID_MAX];
    make_active(f, other, "bob@example.com", ADMIN, T0);
    uint8_t taken[32];
    size_t tn = cred_of(f->creds, taken); /* bob's credential id */

    ca_user u;
    char secret[CA_INVITE_SECRET_MAX], uid[CA_USER_ID_MAX];
    ca_hash h;
    invite(f, &u, secret, "carol@example.com", "Carol", ISSUER, 0, T0);
    OK(ca_invite_peek(f->store, uid, &h, secret, T0, eb));
    /* Registration fails (the credential belongs to bob): nothing is written. */
    FAILS(CA_ERR_EXISTS, ca_passkey_add(f->store, uid, taken, tn, cose, sizeof cose, -7, 0,
                                        NULL, T0 + 1, &h, eb));
    assert_int_equal(get(f, uid).state, CA_USER_INVITED);
    OK(ca_invite_peek(f->store, uid, NULL, secret, T0 + 2, eb));
    /* An invited user gets no passkey without the invite; bad inputs are refused. */
    uint8_t cred[32];
    size_t n = next_cred(f, cred);
    FAILS(CA_ERR_PERMISSION, ca_passkey_add(f->store, uid, cred, n, cose, sizeof cose, -7, 0,
                                            NULL, T0 + 3, NULL, eb));
    FAILS(CA_ERR_INVALID, ca_passkey_add(f->store, uid, cred, 0, cose, sizeof cose, -7, 0, NULL,
                                         T0 + 3, &h, eb));
    FAILS(CA_ERR_TOO_LARGE, ca_passkey_add(f->store, uid, cred, CA_PASSKEY_ID_MAX + 1, cose,
                                           sizeof cose, -7, 0, NULL, T0 + 3, &h, eb));
    FAILS(CA_ERR_INVALID, ca_passkey_add(f->store, uid, cred, n, cose, sizeof cose, -7, 0,
                                         "tab\there", T0 + 3, &h, eb));
    FAILS(CA_ERR_NOT_FOUND, ca_passkey_add(f->store, "0123456789abcdef", cred, n, cose,
                                           sizeof cose, -7, 0, NULL, T0 + 3, NULL, eb));
    /* The invite of another user does not enrol this one. */
    ca_user d;
    char dsecret[CA_INVITE_SECRET_MAX];
    ca_hash dh;
    invite(f, &d, dsecret, "dave@example.com", "Dave", ISSUER, 0, T0);
    ca_invite_hash(&dh, dsecret);
    FAILS(CA_ERR_PERMISSION, ca_passkey_add(f->store, uid, cred, n, cose, sizeof cose, -7, 0,
                                            NULL, T0 + 3, &dh, eb));
    /* Then a good registration spends the invite. */
    OK(ca_passkey_add(f->store, uid, cred, n, cose, sizeof cose, -7, 0, NULL, T0 + 4, &h, eb));
    assert_int_equal(get(f, uid).state, CA_USER_ACTIVE);
    FAILS(CA_ERR_PERMISSION, ca_invite_peek(f->store, uid, NULL, secret, T0 + 5, eb));
    OK(ca_invite_peek(f->store, uid, NULL, dsecret, T0 + 5, eb)); /* dave's still works */
}

static void test_invite_expired(void **state)
{
    fixture *f = *state;
    ca_user u;
    char secret[CA_INVITE_SECRET_MAX], uid[CA_USER_ID_MAX];
    ca_hash h;
    invite(f, &u, secret, "erin@example.com", "Erin", AUDITOR, 60, T0);
    OK(ca_invite_peek(f->store, uid, &h, secret, T0 + 59, eb));
    FAILS(CA_ERR_PERMISSION, ca_invite_peek(f->store, uid, NULL, secret, T0 + 60, eb));
    uint8_t cred[32];
    size_t n = next_cred(f, cred);
    FAILS(CA_ERR_PERMISSION, ca_passkey_add(f->store, u.id, cred, n, cose, sizeof cose, -7, 0,
                                            NULL, T0 + 61, &h, eb));
    FAILS(CA_ERR_PERMISSION, ca_invite_redeem(f->store, uid, secret, T0 + 61, eb));
    assert_int_equal(get(f, u.id).state, CA_USER_INVITED);
    /* The default lifetime is 30 minutes; lifetimes out of range are refused. */
    invite(f, &u, secret, "erin@example.com", "Erin", AUDITOR, 0, T0 + 100);
    OK(ca_invite_peek(f->store, uid, NULL, secret, T0 + 100 + CA_INVITE_TTL_DEFAULT - 1, eb));
    FAILS(CA_ERR_PERMISSION, ca_invite_peek(f->store, uid, NULL, secret,
                                            T0 + 100 + CA_INVITE_TTL_DEFAULT, eb));
    FAILS(CA_ERR_RANGE, ca_user_invite(f->store, dk, &u, secret, "x@example.com", "X", ISSUER,
                                       -1, T0, eb));
    FAILS(CA_ERR_RANGE, ca_user_invite(f->store, dk, &u, secret, "x@example.com", "X", ISSUER,
                                       CA_INVITE_TTL_MAX + 1, T0, eb));
}

static void test_invite_replaced(void **state)
{
    fixture *f = *state;
    ca_user u1, u2;
    char s1[CA_INVITE_SECRET_MAX], s2[CA_INVITE_SECRET_MAX], uid[CA_USER_ID_MAX];
    invite(f, &u1, s1, "frank@example.com", "Frank", ISSUER, 0, T0);
    invite(f, &u2, s2, "FRANK@example.COM", "Frank Lee", ISSUER | AUDITOR, 0, T0 + 10);
    assert_string_equal(u1.id, u2.id); /* the same person */
    assert_string_not_equal(s1, s2);
    FAILS(CA_ERR_PERMISSION, ca_invite_peek(f->store, uid, NULL, s1, T0 + 11, eb));
    OK(ca_invite_peek(f->store, uid, NULL, s2, T0 + 11, eb));
    ca_user g = get(f, u1.id);
    assert_string_equal(g.name, "Frank Lee");
    assert_string_equal(g.email, "frank@example.com"); /* as first given */
    assert_int_equal(g.roles, ISSUER | AUDITOR);
    assert_int_equal(g.created_at, T0);
    assert_int_equal(g.updated_at, T0 + 10);
    size_t count;
    ca_user *list;
    OK(ca_user_list(f->store, NULL, &list, &count, eb));
    assert_int_equal(count, 1);
    free(list);
    /* ca_invite_redeem consumes without a passkey; the user stays invited. */
    OK(ca_invite_redeem(f->store, uid, s2, T0 + 12, eb));
    assert_string_equal(uid, u1.id);
    FAILS(CA_ERR_PERMISSION, ca_invite_redeem(f->store, uid, s2, T0 + 13, eb));
    assert_int_equal(get(f, u1.id).state, CA_USER_INVITED);
}

static void test_duplicate_email_and_bad_input(void **state)
{
    fixture *f = *state;
    char id[CA_USER_ID_MAX];
    make_active(f, id, "grace@example.com", ADMIN, T0);
    ca_user u;
    char s[CA_INVITE_SECRET_MAX];
    FAILS(CA_ERR_EXISTS, ca_user_invite(f->store, dk, &u, s, "grace@example.com", "G", ISSUER,
                                        0, T0, eb));
    FAILS(CA_ERR_EXISTS, ca_user_invite(f->store, dk, &u, s, " GRACE@Example.Com", "G",
                                        ISSUER, 0, T0, eb));
    FAILS(CA_ERR_CONFLICT, ca_user_disable(f->store, id, "by admin test", T0, eb));
    static const char *const bad_emails[] = {"", "plain", "@example.com", "a@", "a@b@c",
                                             "a b@example.com", "a\x01@example.com"};
    for (size_t i = 0; i < sizeof bad_emails / sizeof *bad_emails; i++)
        FAILS(CA_ERR_INVALID, ca_user_invite(f->store, dk, &u, s, bad_emails[i], "N", ISSUER,
                                             0, T0, eb));
    char long_name[CA_USER_NAME_MAX + 1];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    FAILS(CA_ERR_TOO_LARGE, ca_user_invite(f->store, dk, &u, s, "h@example.com", long_name,
                                           ISSUER, 0, T0, eb));
    long_name[CA_USER_NAME_MAX - 1] = '\0'; /* exactly 128 bytes: fine */
    OK(ca_user_invite(f->store, dk, &u, s, "h@example.com", long_name, ISSUER, 0, T0, eb));
    assert_string_equal(get(f, u.id).name, long_name);
    FAILS(CA_ERR_INVALID, ca_user_invite(f->store, dk, &u, s, "i@example.com", "", ISSUER, 0,
                                         T0, eb));
    FAILS(CA_ERR_INVALID, ca_user_invite(f->store, dk, &u, s, "i@example.com", "\xff\xfe",
                                         ISSUER, 0, T0, eb));
    FAILS(CA_ERR_INVALID, ca_user_invite(f->store, dk, &u, s, "i@example.com", "I", 0, 0, T0,
                                         eb));
    FAILS(CA_ERR_INVALID, ca_user_invite(f->store, dk, &u, s, "i@example.com", "I", 1u << 7, 0,
                                         T0, eb));
    FAILS(CA_ERR_INVALID, ca_user_invite(f->store, dk, &u, s, "i@example.com", "I", 1u, 0, T0,
                                         eb)); /* bit 0 is no role */
    /* Lookups by email ignore case and blanks; an unknown one is not found. */
    ca_user g;
    OK(ca_user_find_by_email(f->store, dk, &g, "Grace@EXAMPLE.com ", eb));
    assert_string_equal(g.id, id);
    FAILS(CA_ERR_NOT_FOUND, ca_user_find_by_email(f->store, dk, &g, "nobody@example.com", eb));
    FAILS(CA_ERR_INVALID, ca_user_get(f->store, dk, &g, "XYZ", eb));
    FAILS(CA_ERR_NOT_FOUND, ca_user_get(f->store, dk, &g, "0123456789abcdef", eb));
}

/* ---- passkeys -------------------------------------------------------------------------------- */

static void test_passkeys(void **state)
{
    fixture *f = *state;
    char a[CA_USER_ID_MAX], b[CA_USER_ID_MAX];
    make_active(f, a, "ann@example.com", ADMIN, T0);
    uint8_t first[32];
    size_t fn = cred_of(f->creds, first);
    make_active(f, b, "ben@example.com", ISSUER, T0);

    /* A credential id belongs to one user only. */
    FAILS(CA_ERR_EXISTS, ca_passkey_add(f->store, b, first, fn, cose, sizeof cose, -7, 0, NULL,
                                        T0, NULL, eb));
    FAILS(CA_ERR_EXISTS, ca_passkey_add(f->store, a, first, fn, cose, sizeof cose, -7, 0, NULL,
                                        T0, NULL, eb));
    ca_passkey p;
    OK(ca_passkey_find(f->store, first, fn, &p, eb));
    assert_string_equal(p.user_id, a);
    uint8_t missing[] = "no such credential";
    FAILS(CA_ERR_NOT_FOUND, ca_passkey_find(f->store, missing, sizeof missing, &p, eb));

    /* Up to 20 per user, all listed, oldest first; a long (1023-byte) id works. */
    uint8_t big[CA_PASSKEY_ID_MAX];
    memset(big, 0x5a, sizeof big);
    OK(ca_passkey_add(f->store, a, big, sizeof big, cose, sizeof cose, -8, 0, "long", T0 + 1,
                      NULL, eb));
    for (int i = 2; i < CA_PASSKEYS_PER_USER; i++) {
        uint8_t cred[32];
        size_t n = next_cred(f, cred);
        OK(ca_passkey_add(f->store, a, cred, n, cose, sizeof cose, -7, 0, NULL, T0 + i, NULL,
                          eb));
    }
    uint8_t cred[32];
    size_t n = next_cred(f, cred);
    FAILS(CA_ERR_CONFLICT, ca_passkey_add(f->store, a, cred, n, cose, sizeof cose, -7, 0, NULL,
                                          T0 + 99, NULL, eb));
    ca_passkey *list;
    size_t count;
    OK(ca_passkey_list(f->store, a, &list, &count, eb));
    assert_int_equal(count, CA_PASSKEYS_PER_USER);
    assert_memory_equal(list[0].cred_id, first, fn);
    assert_int_equal(list[1].id_len, CA_PASSKEY_ID_MAX);
    assert_int_equal(list[1].alg, -8);
    free(list);
    OK(ca_passkey_list(f->store, b, &list, &count, eb));
    assert_int_equal(count, 1);
    free(list);

    /* Signature counters only go up; a use is recorded. */
    OK(ca_passkey_update_count(f->store, first, fn, 5, T0 + 500, eb));
    FAILS(CA_ERR_CONFLICT, ca_passkey_update_count(f->store, first, fn, 5, T0 + 501, eb));
    FAILS(CA_ERR_CONFLICT, ca_passkey_update_count(f->store, first, fn, 3, T0 + 501, eb));
    FAILS(CA_ERR_CONFLICT, ca_passkey_update_count(f->store, first, fn, 0, T0 + 501, eb));
    OK(ca_passkey_find(f->store, first, fn, &p, eb));
    assert_int_equal(p.sign_count, 5);
    assert_int_equal(p.last_used_at, T0 + 500);
    OK(ca_passkey_update_count(f->store, big, sizeof big, 0, T0 + 502, eb)); /* 0 and 0 */
    FAILS(CA_ERR_NOT_FOUND, ca_passkey_update_count(f->store, missing, sizeof missing, 1, T0,
                                                    eb));

    /* Deleting: only the owner's, never an active user's last one. */
    FAILS(CA_ERR_NOT_FOUND, ca_passkey_delete(f->store, b, first, fn, eb));
    OK(ca_passkey_delete(f->store, a, first, fn, eb));
    FAILS(CA_ERR_NOT_FOUND, ca_passkey_find(f->store, first, fn, &p, eb));
    OK(ca_passkey_list(f->store, b, &list, &count, eb));
    assert_int_equal(count, 1);
    FAILS(CA_ERR_CONFLICT, ca_passkey_delete(f->store, b, list[0].cred_id, list[0].id_len, eb));
    free(list);
}

/* ---- recovery codes -------------------------------------------------------------------------- */

/* The code in another spelling: 0 = upper case with spaces, 1 = no dashes, 2 = O for 0 and
 * L for 1 with blanks around, 3 = as shown. */
static void respell(char *out, size_t cap, const char *code, int how)
{
    size_t n = 0;
    if (how == 2)
        out[n++] = ' ';
    for (const char *p = code; *p && n + 2 < cap; p++) {
        char c = *p;
        if (how == 0)
            c = c == '-' ? ' ' : (char)toupper((unsigned char)c);
        if (how == 1 && c == '-')
            continue;
        if (how == 2)
            c = c == '0' ? 'O' : c == '1' ? 'L' : c;
        out[n++] = c;
    }
    if (how == 2)
        out[n++] = '\t';
    out[n] = '\0';
}

static void test_recovery_codes(void **state)
{
    fixture *f = *state;
    char id[CA_USER_ID_MAX], got[CA_USER_ID_MAX];
    make_active(f, id, "hana@example.com", ISSUER, T0);
    char codes[CA_RECOVERY_CODES][CA_RECOVERY_CODE_MAX];
    OK(ca_recovery_codes_new_kdf(f->store, &test_kdf, id, codes, eb));
    for (int i = 0; i < CA_RECOVERY_CODES; i++) {
        assert_int_equal(strlen(codes[i]), 14);
        assert_true(codes[i][4] == '-' && codes[i][9] == '-');
        for (int j = 0; j < 14; j++)
            if (j != 4 && j != 9)
                assert_non_null(strchr("0123456789abcdefghjkmnpqrstvwxyz", codes[i][j]));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(codes[i], codes[j]);
    }
    ca_user u = get(f, id);
    assert_int_equal(u.recovery_codes_left, 10);
    assert_false(u.must_enroll_passkey);

    FAILS(CA_ERR_PERMISSION, ca_recovery_code_use(f->store, dk, got, id, "0000-0000-0000",
                                                  T0 + 1, eb));
    FAILS(CA_ERR_PERMISSION, ca_recovery_code_use(f->store, dk, got, id, "not a code", T0, eb));
    FAILS(CA_ERR_PERMISSION, ca_recovery_code_use(f->store, dk, got, id, "", T0, eb));
    for (int i = 0; i < CA_RECOVERY_CODES; i++) {
        char typed[64];
        respell(typed, sizeof typed, codes[i], i % 4);
        const char *who = i % 2 ? "HANA@example.com" : id;
        OK(ca_recovery_code_use(f->store, dk, got, who, typed, T0 + 10 + i, eb));
        assert_string_equal(got, id);
        FAILS(CA_ERR_PERMISSION, ca_recovery_code_use(f->store, dk, got, id, codes[i],
                                                      T0 + 10 + i, eb));
        u = get(f, id);
        assert_true(u.must_enroll_passkey);
        assert_int_equal(u.recovery_codes_left, (unsigned)(CA_RECOVERY_CODES - 1 - i));
    }
    /* Enrolling a passkey clears the flag; new codes replace the old ones. */
    uint8_t cred[32];
    size_t n = next_cred(f, cred);
    OK(ca_passkey_add(f->store, id, cred, n, cose, sizeof cose, -7, 0, NULL, T0 + 50, NULL, eb));
    assert_false(get(f, id).must_enroll_passkey);
    char old0[CA_RECOVERY_CODE_MAX];
    memcpy(old0, codes[0], sizeof old0);
    OK(ca_recovery_codes_new_kdf(f->store, &test_kdf, id, codes, eb));
    assert_int_equal(get(f, id).recovery_codes_left, 10);
    if (strcmp(old0, codes[0]) != 0)
        FAILS(CA_ERR_PERMISSION, ca_recovery_code_use(f->store, dk, got, id, old0, T0 + 60, eb));
    /* Another person's code, an unknown person (costs one real argon2id run), a disabled
     * user: all refused. */
    char other[CA_USER_ID_MAX];
    make_active(f, other, "ivan@example.com", ISSUER, T0);
    FAILS(CA_ERR_PERMISSION, ca_recovery_code_use(f->store, dk, got, other, codes[1], T0 + 61,
                                                  eb));
    FAILS(CA_ERR_PERMISSION, ca_recovery_code_use(f->store, dk, got, "nobody@example.com",
                                                  codes[1], T0 + 61, eb));
    OK(ca_user_disable(f->store, id, "by admin test", T0 + 62, eb));
    FAILS(CA_ERR_PERMISSION, ca_recovery_code_use(f->store, dk, got, id, codes[1], T0 + 63,
                                                  eb));
    FAILS(CA_ERR_PERMISSION, ca_recovery_codes_new_kdf(f->store, &test_kdf, id, codes, eb));
    FAILS(CA_ERR_NOT_FOUND, ca_recovery_codes_new_kdf(f->store, &test_kdf, "0123456789abcdef",
                                                      codes, eb));
}

/* ---- sessions -------------------------------------------------------------------------------- */

typedef struct sess_out {
    ca_session s;
    char cookie[CA_SESSION_COOKIE_MAX];
    char csrf[CA_SESSION_CSRF_MAX];
} sess_out;

static void new_session(fixture *f, sess_out *o, const char *user_id, int64_t now)
{
    OK(ca_session_create(f->store, &o->s, o->cookie, o->csrf, user_id, "203.0.113.9",
                         "passkey", now, eb));
}

static ca_err check(fixture *f, ca_session *s, const char *cookie, int64_t now)
{
    ca_user u;
    ca_errbuf eb = {{0}};
    return ca_session_check(f->store, s, &u, cookie, now, IDLE, ABSOLUTE, &eb);
}

static ca_session listed(fixture *f, const char *session_id)
{
    ca_session *list, out;
    memset(&out, 0, sizeof out);
    size_t count;
    OK(ca_session_list(f->store, NULL, &list, &count, eb));
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i].id, session_id) == 0)
            out = list[i];
    free(list);
    assert_string_equal(out.id, session_id);
    return out;
}

static void test_session_check(void **state)
{
    fixture *f = *state;
    char id[CA_USER_ID_MAX];
    make_active(f, id, "jin@example.com", ISSUER | ADMIN, T0);
    sess_out o;
    new_session(f, &o, id, T0);
    assert_int_equal(strlen(o.cookie), 60);
    assert_int_equal(o.cookie[16], '.');
    assert_memory_equal(o.cookie, o.s.id, 16);
    assert_int_equal(strlen(o.csrf), 43);
    assert_true(ca_session_csrf_ok(&o.s, o.csrf));

    ca_session s;
    ca_user u;
    OK(ca_session_check(f->store, &s, &u, o.cookie, T0 + 10, IDLE, ABSOLUTE, eb));
    assert_string_equal(s.id, o.s.id);
    assert_string_equal(s.user_id, id);
    assert_string_equal(s.method, "passkey");
    assert_string_equal(s.client, "203.0.113.9");
    assert_string_equal(u.id, id);
    assert_int_equal(u.roles, ISSUER | ADMIN);
    assert_string_equal(u.email, ""); /* no data key here */
    /* The CSRF token checks against the session from the cookie; others do not. */
    assert_true(ca_session_csrf_ok(&s, o.csrf));
    char bad[CA_SESSION_CSRF_MAX];
    memcpy(bad, o.csrf, sizeof bad);
    bad[0] = bad[0] == 'A' ? 'B' : 'A';
    assert_false(ca_session_csrf_ok(&s, bad));
    assert_false(ca_session_csrf_ok(&s, ""));
    assert_false(ca_session_csrf_ok(&s, NULL));
    ca_session from_list = listed(f, s.id);
    assert_false(ca_session_csrf_ok(&from_list, o.csrf)); /* a listed one has none */

    /* A wrong secret, an unknown id, malformed cookies. */
    char wrong[CA_SESSION_COOKIE_MAX];
    memcpy(wrong, o.cookie, sizeof wrong);
    wrong[30] = wrong[30] == 'A' ? 'B' : 'A';
    assert_int_equal(check(f, &s, wrong, T0 + 20), CA_ERR_PERMISSION);
    memcpy(wrong, o.cookie, sizeof wrong);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    assert_int_equal(check(f, &s, wrong, T0 + 20), CA_ERR_PERMISSION);
    assert_int_equal(check(f, &s, "", T0 + 20), CA_ERR_PERMISSION);
    assert_int_equal(check(f, &s, NULL, T0 + 20), CA_ERR_PERMISSION);
    memcpy(wrong, o.cookie, sizeof wrong);
    wrong[16] = '_';
    assert_int_equal(check(f, &s, wrong, T0 + 20), CA_ERR_PERMISSION);
    OK(ca_session_check(f->store, &s, &u, o.cookie, T0 + 30, IDLE, ABSOLUTE, eb));

    /* Bad arguments at creation. */
    FAILS(CA_ERR_INVALID, ca_session_create(f->store, &s, wrong, bad, id, NULL, "password", T0,
                                            eb));
    FAILS(CA_ERR_INVALID, ca_session_create(f->store, &s, wrong, bad, id, "a\nb", "totp", T0,
                                            eb));
    FAILS(CA_ERR_NOT_FOUND, ca_session_create(f->store, &s, wrong, bad, "0123456789abcdef",
                                              NULL, "totp", T0, eb));
}

static void test_session_timeouts(void **state)
{
    fixture *f = *state;
    char id[CA_USER_ID_MAX];
    make_active(f, id, "kai@example.com", ISSUER, T0);
    ca_session s;
    sess_out o;
    /* Idle: nothing for IDLE seconds. */
    new_session(f, &o, id, T0);
    assert_int_equal(check(f, &s, o.cookie, T0 + IDLE - 1), CA_OK);
    assert_int_equal(check(f, &s, o.cookie, T0 + 2 * IDLE - 2), CA_OK);
    assert_int_equal(check(f, &s, o.cookie, T0 + 3 * IDLE - 2), CA_ERR_PERMISSION);
    /* Absolute: busy all along, still over after ABSOLUTE seconds. */
    new_session(f, &o, id, T0);
    int64_t t = T0;
    for (; t < T0 + ABSOLUTE; t += IDLE / 2)
        assert_int_equal(check(f, &s, o.cookie, t), CA_OK);
    assert_int_equal(check(f, &s, o.cookie, T0 + ABSOLUTE), CA_ERR_PERMISSION);
    /* Pruning drops expired and revoked records and keeps live ones. */
    sess_out live;
    new_session(f, &live, id, T0 + ABSOLUTE);
    size_t removed;
    OK(ca_sessions_prune(f->store, T0 + ABSOLUTE, ABSOLUTE, &removed, eb));
    assert_int_equal(removed, 2);
    assert_int_equal(check(f, &s, live.cookie, T0 + ABSOLUTE + 1), CA_OK);
}

static void test_session_revoke(void **state)
{
    fixture *f = *state;
    char id[CA_USER_ID_MAX], other[CA_USER_ID_MAX];
    make_active(f, id, "lee@example.com", ISSUER, T0);
    make_active(f, other, "mia@example.com", ISSUER, T0);
    sess_out a, b, c, m;
    new_session(f, &a, id, T0);
    new_session(f, &b, id, T0 + 1);
    new_session(f, &c, id, T0 + 2);
    new_session(f, &m, other, T0 + 3);
    ca_session s;
    /* Only the owner (when named) reaches a session. */
    FAILS(CA_ERR_NOT_FOUND, ca_session_revoke(f->store, a.s.id, other, T0 + 5, eb));
    OK(ca_session_revoke(f->store, a.s.id, id, T0 + 5, eb));
    OK(ca_session_revoke(f->store, a.s.id, NULL, T0 + 6, eb)); /* again: keeps the first */
    assert_int_equal(listed(f, a.s.id).revoked_at, T0 + 5);
    assert_int_equal(check(f, &s, a.cookie, T0 + 7), CA_ERR_PERMISSION);
    assert_int_equal(check(f, &s, b.cookie, T0 + 7), CA_OK);
    FAILS(CA_ERR_NOT_FOUND, ca_session_revoke(f->store, "0123456789abcdef", NULL, T0, eb));
    FAILS(CA_ERR_INVALID, ca_session_revoke(f->store, "nope", NULL, T0, eb));
    /* All of one user's. */
    size_t n;
    OK(ca_sessions_revoke_user(f->store, id, T0 + 8, &n, eb));
    assert_int_equal(n, 2);
    assert_int_equal(check(f, &s, b.cookie, T0 + 9), CA_ERR_PERMISSION);
    assert_int_equal(check(f, &s, c.cookie, T0 + 9), CA_ERR_PERMISSION);
    assert_int_equal(check(f, &s, m.cookie, T0 + 9), CA_OK);
    ca_session *list;
    size_t count;
    OK(ca_session_list(f->store, id, &list, &count, eb));
    assert_int_equal(count, 3);
    for (size_t i = 0; i < count; i++) {
        assert_true(list[i].revoked_at != 0);
        assert_string_equal(list[i].user_id, id);
    }
    assert_string_equal(list[0].id, a.s.id); /* oldest first */
    free(list);
}

static void test_session_disabled_user(void **state)
{
    fixture *f = *state;
    char admin[CA_USER_ID_MAX], id[CA_USER_ID_MAX];
    make_active(f, admin, "noa@example.com", ADMIN, T0);
    make_active(f, id, "oli@example.com", ISSUER, T0);
    sess_out a, b;
    new_session(f, &a, id, T0);
    new_session(f, &b, id, T0);
    ca_session s;
    assert_int_equal(check(f, &s, a.cookie, T0 + 1), CA_OK);
    char reason[64];
    snprintf(reason, sizeof reason, "by admin %s", admin);
    OK(ca_user_disable(f->store, id, reason, T0 + 2, eb));
    assert_int_equal(check(f, &s, a.cookie, T0 + 3), CA_ERR_PERMISSION);
    assert_int_equal(check(f, &s, b.cookie, T0 + 3), CA_ERR_PERMISSION);
    assert_int_equal(listed(f, a.s.id).revoked_at, T0 + 2); /* in the same transaction */
    ca_user u = get(f, id);
    assert_int_equal(u.state, CA_USER_DISABLED);
    assert_int_equal(u.disabled_at, T0 + 2);
    assert_string_equal(u.disabled_reason, reason);
    OK(ca_user_disable(f->store, id, "again", T0 + 4, eb)); /* keeps the first reason */
    assert_string_equal(get(f, id).disabled_reason, reason);
    sess_out scratch;
    FAILS(CA_ERR_PERMISSION, ca_session_create(f->store, &scratch.s, scratch.cookie,
                                               scratch.csrf, id, NULL, "passkey", T0 + 5, eb));
    FAILS(CA_ERR_PERMISSION, ca_user_record_sign_in(f->store, id, T0 + 5, eb));
    FAILS(CA_ERR_INVALID, ca_user_disable(f->store, admin, "", T0, eb));
    /* Enabled again: active, with a new session working (old ones stay dead). */
    OK(ca_user_enable(f->store, id, T0 + 6, eb));
    u = get(f, id);
    assert_int_equal(u.state, CA_USER_ACTIVE);
    assert_string_equal(u.disabled_reason, "");
    assert_int_equal(check(f, &s, a.cookie, T0 + 7), CA_ERR_PERMISSION);
    new_session(f, &a, id, T0 + 7);
    assert_int_equal(check(f, &s, a.cookie, T0 + 8), CA_OK);
}

static void test_last_seen_throttled(void **state)
{
    fixture *f = *state;
    char id[CA_USER_ID_MAX];
    make_active(f, id, "pia@example.com", ISSUER, T0);
    sess_out o;
    new_session(f, &o, id, T0);
    ca_session s;
    assert_int_equal(check(f, &s, o.cookie, T0 + 30), CA_OK);
    assert_int_equal(s.last_seen_at, T0); /* under a minute: not written */
    assert_int_equal(listed(f, o.s.id).last_seen_at, T0);
    assert_int_equal(check(f, &s, o.cookie, T0 + 59), CA_OK);
    assert_int_equal(listed(f, o.s.id).last_seen_at, T0);
    assert_int_equal(check(f, &s, o.cookie, T0 + 60), CA_OK);
    assert_int_equal(s.last_seen_at, T0 + 60);
    assert_int_equal(listed(f, o.s.id).last_seen_at, T0 + 60);
    assert_int_equal(check(f, &s, o.cookie, T0 + 100), CA_OK);
    assert_int_equal(listed(f, o.s.id).last_seen_at, T0 + 60);
    assert_int_equal(check(f, &s, o.cookie, T0 + 121), CA_OK);
    assert_int_equal(listed(f, o.s.id).last_seen_at, T0 + 121);
    /* A check whose time is behind the stored one never moves it back. */
    assert_int_equal(check(f, &s, o.cookie, T0 + 90), CA_OK);
    assert_int_equal(listed(f, o.s.id).last_seen_at, T0 + 121);
}

/* ---- admin actions --------------------------------------------------------------------------- */

static void test_last_admin(void **state)
{
    fixture *f = *state;
    char a[CA_USER_ID_MAX], b[CA_USER_ID_MAX];
    make_active(f, a, "quinn@example.com", ADMIN | ISSUER, T0);
    /* An invited admin does not count. */
    ca_user inv;
    char s[CA_INVITE_SECRET_MAX];
    invite(f, &inv, s, "rae@example.com", "Rae", ADMIN, 0, T0);
    FAILS(CA_ERR_CONFLICT, ca_user_disable(f->store, a, "by admin x", T0 + 1, eb));
    FAILS(CA_ERR_CONFLICT, ca_user_set_roles(f->store, a, ISSUER, T0 + 1, eb));
    OK(ca_user_set_roles(f->store, a, ADMIN, T0 + 1, eb)); /* keeping admin is fine */
    OK(ca_user_disable(f->store, inv.id, "by admin x", T0 + 1, eb));
    /* With a second active admin, the first may go; then the second is the last. */
    make_active(f, b, "sam@example.com", ADMIN, T0 + 2);
    OK(ca_user_set_roles(f->store, a, ISSUER | AUDITOR, T0 + 3, eb));
    assert_int_equal(get(f, a).roles, ISSUER | AUDITOR);
    FAILS(CA_ERR_CONFLICT, ca_user_set_roles(f->store, b, AUDITOR, T0 + 4, eb));
    FAILS(CA_ERR_CONFLICT, ca_user_disable(f->store, b, "by admin x", T0 + 4, eb));
    OK(ca_user_set_roles(f->store, a, ADMIN, T0 + 5, eb));
    OK(ca_user_disable(f->store, b, "by admin x", T0 + 6, eb));
    FAILS(CA_ERR_CONFLICT, ca_user_disable(f->store, a, "by admin x", T0 + 7, eb));
    FAILS(CA_ERR_INVALID, ca_user_set_roles(f->store, a, 0, T0, eb));
    FAILS(CA_ERR_NOT_FOUND, ca_user_set_roles(f->store, "0123456789abcdef", ISSUER, T0, eb));
    OK(ca_user_set_totp_allowed(f->store, a, true, T0 + 8, eb));
    assert_true(get(f, a).totp_allowed);
    OK(ca_user_record_sign_in(f->store, a, T0 + 9, eb));
    assert_int_equal(get(f, a).last_sign_in_at, T0 + 9);
}

static bool in_list(const ca_user *v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].id, id) == 0)
            return true;
    return false;
}

static void test_inactivity(void **state)
{
    fixture *f = *state;
    char a[CA_USER_ID_MAX], b[CA_USER_ID_MAX], c[CA_USER_ID_MAX], d[CA_USER_ID_MAX];
    make_active(f, a, "ada@example.com", ADMIN, T0);   /* signs in recently */
    make_active(f, b, "bo@example.com", ADMIN, T0);    /* never signs in */
    make_active(f, c, "cy@example.com", ISSUER, T0);   /* signed in long ago */
    make_active(f, d, "di@example.com", AUDITOR, T0 + 95 * DAY); /* enrolled recently */
    ca_user inv;
    char s[CA_INVITE_SECRET_MAX];
    invite(f, &inv, s, "ed@example.com", "Ed", ISSUER, 0, T0); /* invited: not counted */
    OK(ca_user_record_sign_in(f->store, a, T0 + 80 * DAY, eb));
    OK(ca_user_record_sign_in(f->store, c, T0 + 5 * DAY, eb));
    sess_out cs;
    new_session(f, &cs, c, T0 + 5 * DAY);

    ca_user *v;
    size_t n;
    int64_t now = T0 + 100 * DAY;
    OK(ca_users_disable_inactive(f->store, now, 90, &v, &n, eb));
    assert_int_equal(n, 2);
    assert_true(in_list(v, n, b) && in_list(v, n, c));
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(v[i].state, CA_USER_DISABLED);
        assert_string_equal(v[i].disabled_reason, "no sign-in for 90 days");
        assert_string_equal(v[i].email, ""); /* no contact data in the result */
    }
    free(v);
    assert_int_equal(get(f, c).state, CA_USER_DISABLED);
    assert_int_equal(get(f, a).state, CA_USER_ACTIVE);
    assert_int_equal(get(f, d).state, CA_USER_ACTIVE);
    assert_int_equal(get(f, inv.id).state, CA_USER_INVITED);
    ca_session ss;
    assert_int_equal(check(f, &ss, cs.cookie, now), CA_ERR_PERMISSION);
    assert_true(listed(f, cs.s.id).revoked_at != 0);
    /* Nothing more to do; and the last active admin is spared even when inactive. */
    OK(ca_users_disable_inactive(f->store, now, 90, &v, &n, eb));
    assert_int_equal(n, 0);
    assert_null(v);
    OK(ca_users_disable_inactive(f->store, now + 400 * DAY, 90, &v, &n, eb));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, d);
    free(v);
    assert_int_equal(get(f, a).state, CA_USER_ACTIVE);
    FAILS(CA_ERR_RANGE, ca_users_disable_inactive(f->store, now, 0, &v, &n, eb));
    /* Re-enabled, the clock restarts. */
    OK(ca_user_enable(f->store, c, now, eb));
    OK(ca_users_disable_inactive(f->store, now + 89 * DAY, 90, &v, &n, eb));
    assert_false(in_list(v, n, c));
    free(v);
}

/* ---- contact data at rest -------------------------------------------------------------------- */

static bool file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    bool found = memmem(buf, (size_t)size, needle, strlen(needle)) != NULL;
    free(buf);
    return found;
}

static void test_contact_data_at_rest(void **state)
{
    fixture *f = *state;
    const char *email = "zelda.unique-marker@example.org", *name = "Zelda Q. Markerson";
    ca_user u;
    char s[CA_INVITE_SECRET_MAX], uid[CA_USER_ID_MAX];
    ca_hash h;
    invite(f, &u, s, email, name, ISSUER, 0, T0);
    OK(ca_invite_peek(f->store, uid, &h, s, T0, eb));
    uint8_t cred[32];
    size_t n = next_cred(f, cred);
    OK(ca_passkey_add(f->store, uid, cred, n, cose, sizeof cose, -7, 0, NULL, T0, &h, eb));
    char codes[CA_RECOVERY_CODES][CA_RECOVERY_CODE_MAX];
    OK(ca_recovery_codes_new_kdf(f->store, &test_kdf, uid, codes, eb));
    sess_out o;
    new_session(f, &o, uid, T0);
    ca_store_close(f->store);
    f->store = NULL;

    char path[CA_TEST_DIR_MAX + 32];
    snprintf(path, sizeof path, "%s/data.mdb", f->db);
    assert_false(file_contains(path, email));
    assert_false(file_contains(path, "zelda.unique-marker"));
    assert_false(file_contains(path, name));
    assert_false(file_contains(path, s));            /* nor the invite secret */
    assert_false(file_contains(path, o.cookie + 17)); /* nor the cookie secret */
    assert_false(file_contains(path, o.csrf));
    assert_false(file_contains(path, codes[0]));

    /* Reopened store and data key: the fields decrypt. */
    f->store = open_store(f->db, false);
    ca_data_key *k2;
    OK(ca_data_key_open(&k2, key_dir, pass, strlen(pass), false, eb));
    ca_user g;
    OK(ca_user_get(f->store, k2, &g, uid, eb));
    assert_string_equal(g.email, email);
    assert_string_equal(g.name, name);
    OK(ca_user_find_by_email(f->store, k2, &g, "ZELDA.Unique-Marker@example.org", eb));
    assert_string_equal(g.id, uid);
    ca_user *list;
    size_t count;
    OK(ca_user_list(f->store, k2, &list, &count, eb));
    assert_int_equal(count, 1);
    assert_string_equal(list[0].email, email);
    free(list);
    ca_data_key_free(k2);

    /* Another node's key opens nothing. */
    char other_dir[CA_TEST_DIR_MAX + 8];
    snprintf(other_dir, sizeof other_dir, "%s/k2", f->dir);
    OK(ca_data_key_open(&k2, other_dir, pass, strlen(pass), true, eb));
    FAILS(CA_ERR_VERIFY, ca_user_get(f->store, k2, &g, uid, eb));
    assert_string_equal(g.email, "");
    FAILS(CA_ERR_NOT_FOUND, ca_user_find_by_email(f->store, k2, &g, email, eb));
    ca_data_key_free(k2);
}

/* A data dir written before the people tables existed (rebuilt with mdb_dump/mdb_load
 * without them, as tests/cli/log_cli.sh does for other tables) opens read-only with the
 * tables empty, and a writer open creates them. */
static void test_older_store(void **state)
{
    fixture *f = *state;
    if (system("command -v mdb_dump >/dev/null 2>&1 && command -v mdb_load >/dev/null 2>&1")) {
        skip();
        return;
    }
    ca_store_close(f->store);
    f->store = NULL;
    char old[CA_TEST_DIR_MAX + 8], cmd[4 * CA_TEST_DIR_MAX + 512];
    snprintf(old, sizeof old, "%s/old", f->dir);
    snprintf(cmd, sizeof cmd,
             "set -e; mkdir -m 700 '%s'; for t in $(mdb_dump -l '%s'); do case $t in "
             "users|user_emails|invites|passkeys|sessions) continue;; esac; "
             "mdb_dump -s \"$t\" '%s' | mdb_load -s \"$t\" '%s' 2>/dev/null; done; "
             "! mdb_dump -l '%s' | grep -qx users",
             old, f->db, f->db, old, old);
    assert_int_equal(system(cmd), 0);
    ca_store *ro = open_store(old, true);
    ca_user *list;
    ca_session *sl;
    size_t count;
    OK(ca_user_list(ro, NULL, &list, &count, eb));
    assert_int_equal(count, 0);
    free(list);
    OK(ca_session_list(ro, NULL, &sl, &count, eb));
    assert_int_equal(count, 0);
    free(sl);
    ca_user g;
    FAILS(CA_ERR_NOT_FOUND, ca_user_get(ro, NULL, &g, "0123456789abcdef", eb));
    ca_store_close(ro);
    f->store = open_store(old, false);
    char id[CA_USER_ID_MAX];
    make_active(f, id, "old@example.com", ADMIN, T0);
    assert_int_equal(get(f, id).state, CA_USER_ACTIVE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_invite_enroll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_registration_keeps_invite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invite_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invite_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_email_and_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passkeys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_revoke, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_disabled_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_seen_throttled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_admin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inactivity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_data_at_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_store, setup, teardown),
    };
    return ca_run_tests("users", tests, group_setup, group_teardown);
}
