/*
 * node/users.c — named user accounts (issue #16; contract: node/users.h).
 *
 * Five tables (node/store.c lists them). Every value is a fixed binary record, big-endian,
 * whose first byte is its version (1), so a later version can add fields; a record that does
 * not decode is CA_ERR_STORE (corrupt), never guessed at.
 *
 * Table `users`: key = the 16-char lowercase hex id; value:
 *   [0]        u8   version (1)
 *   [1]        u8   state (ca_user_state)
 *   [2]        u8   flags: bit 0 totp_allowed, bit 1 must_enroll_passkey
 *   [3]        u8   roles (1u << ca_role)
 *   [4..43]    5 x i64  created_at, updated_at, activated_at, last_sign_in_at, disabled_at
 *   [44..75]   32   blind index of the email (ca_data_blind_email)
 *   [76..107]  32   SHA-256 of the pending invite secret (zeros: none)
 *   [108..115] i64  recovery_created_at (0: no codes)
 *   [116..124] u32 t_cost, u32 m_cost (KiB), u8 lanes: the argon2id cost of the codes
 *   [125]      u8   n, the number of recovery slots (0 or 10)
 *   [126..141] 16   the salt of the code set
 *   then n x (u8 used, 32-byte argon2id hash of the 12 canonical characters)
 *   then u16 length || the sealed display name, u16 length || the sealed email (both
 *   ca_data_seal with AAD "user:<id>:name" / "user:<id>:email"), u8 length || disabled_reason
 *   (UTF-8; no personal data: "by admin <id>", "no sign-in for 90 days").
 * Table `user_emails`: key = the 32-byte blind index; value = the 16-char user id. Makes
 *   emails unique (the index ignores ASCII case and surrounding blanks) and findable without
 *   storing them in clear.
 * Table `invites`: key = SHA-256 of the invite secret text; value: u8 version (1) || 16-char
 *   user id || i64 created_at || i64 expires_at || i64 used_at (0: unused). A used invite stays
 *   (so a second use says "used"); a replaced one is deleted.
 * Table `passkeys`: key = SHA-256 of the credential id (WebAuthn ids reach 1023 bytes, past
 *   LMDB's 511-byte key limit); value: u8 version (1) || 16-char user id || i32 COSE alg ||
 *   u32 sign count || i64 created_at || i64 last_used_at || u16 id length || u16 key length ||
 *   u8 name length || credential id || COSE_Key || name. A user's passkeys are found by a scan:
 *   a node has people by the hundred, not millions.
 * Table `sessions`: key = the 16-char lowercase hex session id; value: u8 version (1) || u8
 *   method (1 passkey, 2 recovery, 3 totp) || 16-char user id || SHA-256 of the 32-byte cookie
 *   secret || i64 created_at || i64 last_seen_at || i64 revoked_at || u8 length || client
 *   address text.
 *
 * CSRF tokens are derived, not stored: token = base64url(HMAC-SHA256(key = the session's
 * cookie secret, "credanchor csrf v1")). ca_session_check has the secret (from the cookie) and
 * re-derives the token on every request, so the store holds nothing more than the secret's
 * hash; someone who reads the store can forge neither cookie nor token, a leaked token does
 * not reveal the cookie (HMAC is one-way), and the token dies with its session.
 *
 * Recovery codes: 12 characters of Crockford's base32 alphabet (no I, L, O, U; input maps
 * O to 0 and I, L to 1), 60 bits each, hashed with argon2id (RFC 9106) through libargon2.
 * Cost t = 2, m = 19 MiB, p = 1: OWASP's minimum for argon2id (Password Storage Cheat
 * Sheet). The codes are random, not chosen by people, so the hash does not have to make weak
 * guesses slow: 2^60 guesses at even 1 ms each is out of reach; it is a second wall should
 * the store leak. A larger m would mostly cost the node memory: each attempt (a public,
 * rate-limited route) takes m for its duration. All ten codes of a set share one salt, so a
 * sign-in attempt costs ONE argon2id run compared against ten hashes, instead of up to ten
 * runs (libargon2's argon2id_hash_encoded/verify carry a salt per hash); the price, an
 * attacker with the store testing a guess against ten hashes at once, takes 3.3 of 60 bits.
 */
#include "node/users.h"

#include "credanchor/credential.h"
#include "credanchor/crypto.h"
#include "credanchor/encoding.h"

#include <argon2.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ID_HEX 16
#define SECRET_BYTES 32
#define SECRET_B64 43
#define CREATE_ATTEMPTS 8 /* fresh random ids tried if one is taken (2^-64 odds each) */
#define RECORD_VERSION 1

#define NAME_MAX_BYTES (CA_USER_NAME_MAX - 1)
#define EMAIL_MAX_BYTES (CA_USER_EMAIL_MAX - 1)
#define REASON_MAX_BYTES (CA_USER_REASON_MAX - 1)
#define NAME_SEALED_MAX (NAME_MAX_BYTES + CA_SEAL_OVERHEAD)
#define EMAIL_SEALED_MAX (EMAIL_MAX_BYTES + CA_SEAL_OVERHEAD)

#define FLAG_TOTP 0x01
#define FLAG_MUST_ENROLL 0x02

#define RC_CHARS 12
#define RC_SALT 16
#define RC_HASH 32
#define RC_INPUT_MAX 64 /* longest typed code looked at (dashes and spaces included) */

#define USER_FIXED 142
#define USER_REC_MAX                                                                         \
    (USER_FIXED + CA_RECOVERY_CODES * (1 + RC_HASH) + 2 + NAME_SEALED_MAX + 2 +              \
     EMAIL_SEALED_MAX + 1 + REASON_MAX_BYTES)
#define INVITE_REC_LEN (1 + ID_HEX + 3 * 8)
#define PASSKEY_FIXED 46
#define PASSKEY_REC_MAX                                                                      \
    (PASSKEY_FIXED + CA_PASSKEY_ID_MAX + CA_PASSKEY_KEY_MAX + CA_PASSKEY_NAME_MAX - 1)
#define SESSION_FIXED 75
#define SESSION_REC_MAX (SESSION_FIXED + CA_SESSION_ADDR_MAX - 1)
#define COOKIE_LEN (ID_HEX + 1 + SECRET_B64) /* 60 */

#define CSRF_LABEL "credanchor csrf v1"

_Static_assert(COOKIE_LEN < CA_SESSION_COOKIE_MAX, "cookie and NUL fit");
_Static_assert(SECRET_B64 < CA_INVITE_SECRET_MAX && SECRET_B64 < CA_SESSION_CSRF_MAX,
               "secret and NUL fit");
_Static_assert(RC_CHARS + 2 < CA_RECOVERY_CODE_MAX, "code with dashes and NUL fits");
_Static_assert(CA_PASSKEY_ID_MAX <= 0xffff && CA_PASSKEY_KEY_MAX <= 0xffff, "u16 lengths");
_Static_assert(CA_SESSION_ADDR_MAX <= 256 && CA_USER_REASON_MAX <= 256, "u8 lengths");

/* Production argon2id cost (see the top of this file). */
static const ca_recovery_kdf rc_kdf_default = {2, 19 * 1024, 1};

static const char rc_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz"; /* Crockford, lower */

/* ---- small helpers --------------------------------------------------------------------------- */

static void put_i64(uint8_t *p, int64_t v)
{
    ca_store_u64_key(p, (uint64_t)v);
}

static int64_t get_i64(const uint8_t *p)
{
    return (int64_t)ca_store_u64_from(p);
}

static bool id_valid(const char *id)
{
    return id && strnlen(id, ID_HEX + 1) == ID_HEX && ca_hex_is_lower(id, ID_HEX);
}

static bool roles_valid(unsigned roles)
{
    return roles != 0 && (roles & ~CA_USER_ROLES_ALL) == 0;
}

static bool is_admin(const ca_user *u)
{
    return (u->roles & (1u << CA_ROLE_ADMIN)) != 0;
}

static bool hash_is_zero(const ca_hash *h)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < CA_HASH_SIZE; i++)
        acc |= h->b[i];
    return acc == 0;
}

/* Well-formed UTF-8 without control characters (C0, DEL, C1): names and reasons show up in
 * lists and audit entries. */
static bool text_ok(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    if (ca_utf8_valid_prefix(p, len) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            return false;
        if (p[i] == 0xc2 && i + 1 < len && p[i + 1] < 0xa0) /* U+0080..U+009F */
            return false;
    }
    return true;
}

const char *ca_user_state_name(ca_user_state state)
{
    switch (state) {
    case CA_USER_INVITED: return "invited";
    case CA_USER_ACTIVE: return "active";
    case CA_USER_DISABLED: return "disabled";
    }
    return "unknown";
}

json_t *ca_user_json(const ca_user *u)
{
    json_t *roles = json_array();
    for (int r = CA_ROLE_ADMIN; r <= CA_ROLE_AUDITOR; r++)
        if (u->roles & (1u << r))
            json_array_append_new(roles, json_string(ca_role_name((ca_role)r)));
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:s?}", "id", u->id,
                     "name", u->name, "email", u->email, "roles", roles, "state",
                     ca_user_state_name(u->state), "createdAt", ca_json_time(u->created_at),
                     "activatedAt", ca_json_time(u->activated_at), "lastSignInAt",
                     ca_json_time(u->last_sign_in_at), "disabledAt",
                     ca_json_time(u->disabled_at), "disabledReason",
                     u->disabled_reason[0] ? u->disabled_reason : NULL);
}

static ca_err random_id(char out[CA_USER_ID_MAX], ca_errbuf *eb)
{
    uint8_t b[ID_HEX / 2];
    if (ca_random_bytes(b, sizeof b) != CA_OK)
        return ca_fail(eb, CA_ERR_CRYPTO, "users: the random number generator failed");
    ca_hex_encode(out, b, sizeof b);
    return CA_OK;
}

/* 32 random bytes as 43 base64url chars (out: SECRET_B64 + 1), and their raw form. */
static ca_err random_secret(char *out, uint8_t raw[SECRET_BYTES], ca_errbuf *eb)
{
    if (ca_random_bytes(raw, SECRET_BYTES) != CA_OK)
        return ca_fail(eb, CA_ERR_CRYPTO, "users: the random number generator failed");
    ca_base64url_encode(out, raw, SECRET_BYTES);
    return CA_OK;
}

/* Exactly 43 canonical base64url chars of 32 bytes (the decoder refuses '=' and stray bits).
 * The format is public, so refusing other text early leaks nothing. */
static bool secret_syntax_ok(const char *s, uint8_t raw[SECRET_BYTES])
{
    if (!s || strnlen(s, SECRET_B64 + 1) != SECRET_B64)
        return false;
    size_t n = SECRET_BYTES;
    return ca_base64url_decode(raw, &n, s, SECRET_B64) == CA_OK && n == SECRET_BYTES;
}

/* ---- binary records -------------------------------------------------------------------------- */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
} wbuf;

static void w_bytes(wbuf *w, const void *d, size_t n)
{
    CA_ASSERT(w->len + n <= w->cap);
    if (n)
        memcpy(w->p + w->len, d, n);
    w->len += n;
}

static void w_u8(wbuf *w, unsigned v)
{
    uint8_t b = (uint8_t)v;
    w_bytes(w, &b, 1);
}

static void w_u16(wbuf *w, size_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    w_bytes(w, b, 2);
}

static void w_u32(wbuf *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    w_bytes(w, b, 4);
}

static void w_i64(wbuf *w, int64_t v)
{
    uint8_t b[8];
    put_i64(b, v);
    w_bytes(w, b, 8);
}

/* A bounds-checked reader: past the end it sets bad and yields zeros. */
typedef struct rbuf {
    const uint8_t *p;
    size_t len, off;
    bool bad;
} rbuf;

static const uint8_t *r_take(rbuf *r, size_t n)
{
    if (r->bad || r->len - r->off < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *at = r->p + r->off;
    r->off += n;
    return at;
}

static void r_copy(rbuf *r, void *out, size_t n)
{
    const uint8_t *at = r_take(r, n);
    if (at)
        memcpy(out, at, n);
    else
        memset(out, 0, n);
}

static unsigned r_u8(rbuf *r)
{
    const uint8_t *at = r_take(r, 1);
    return at ? at[0] : 0;
}

static size_t r_u16(rbuf *r)
{
    const uint8_t *at = r_take(r, 2);
    return at ? (size_t)at[0] << 8 | at[1] : 0;
}

static uint32_t r_u32(rbuf *r)
{
    const uint8_t *at = r_take(r, 4);
    return at ? (uint32_t)at[0] << 24 | (uint32_t)at[1] << 16 | (uint32_t)at[2] << 8 | at[3]
              : 0;
}

static int64_t r_i64(rbuf *r)
{
    const uint8_t *at = r_take(r, 8);
    return at ? get_i64(at) : 0;
}

/* A text field of n bytes into out (cap bytes with the NUL): false when it does not fit or
 * holds a NUL. */
static bool r_text(rbuf *r, char *out, size_t cap, size_t n)
{
    if (n >= cap) {
        r->bad = true;
        return false;
    }
    r_copy(r, out, n);
    out[n] = '\0';
    return !r->bad && memchr(out, '\0', n) == NULL;
}

/* ---- user records ---------------------------------------------------------------------------- */

typedef struct recovery_set {
    ca_recovery_kdf kdf;
    unsigned count; /* 0 (none) or CA_RECOVERY_CODES */
    uint8_t salt[RC_SALT];
    uint8_t used[CA_RECOVERY_CODES];
    uint8_t hash[CA_RECOVERY_CODES][RC_HASH];
} recovery_set;

/* A user as stored: the public fields (name and email ""), plus what only this file sees. */
typedef struct user_rec {
    ca_user u;
    uint8_t blind[CA_BLIND_INDEX_LEN];
    ca_hash invite; /* zeros: no pending invite */
    recovery_set rc;
    uint8_t name_sealed[NAME_SEALED_MAX];
    size_t name_len;
    uint8_t email_sealed[EMAIL_SEALED_MAX];
    size_t email_len;
} user_rec;

static size_t user_encode(uint8_t out[USER_REC_MAX], const user_rec *r)
{
    wbuf w = {out, 0, USER_REC_MAX};
    w_u8(&w, RECORD_VERSION);
    w_u8(&w, (unsigned)r->u.state);
    w_u8(&w, (r->u.totp_allowed ? FLAG_TOTP : 0u) |
                 (r->u.must_enroll_passkey ? FLAG_MUST_ENROLL : 0u));
    w_u8(&w, r->u.roles);
    w_i64(&w, r->u.created_at);
    w_i64(&w, r->u.updated_at);
    w_i64(&w, r->u.activated_at);
    w_i64(&w, r->u.last_sign_in_at);
    w_i64(&w, r->u.disabled_at);
    w_bytes(&w, r->blind, CA_BLIND_INDEX_LEN);
    w_bytes(&w, r->invite.b, CA_HASH_SIZE);
    w_i64(&w, r->u.recovery_created_at);
    w_u32(&w, r->rc.kdf.t_cost);
    w_u32(&w, r->rc.kdf.m_cost);
    w_u8(&w, r->rc.kdf.lanes);
    w_u8(&w, r->rc.count);
    w_bytes(&w, r->rc.salt, RC_SALT);
    for (unsigned i = 0; i < r->rc.count; i++) {
        w_u8(&w, r->rc.used[i]);
        w_bytes(&w, r->rc.hash[i], RC_HASH);
    }
    w_u16(&w, r->name_len);
    w_bytes(&w, r->name_sealed, r->name_len);
    w_u16(&w, r->email_len);
    w_bytes(&w, r->email_sealed, r->email_len);
    size_t reason_len = strlen(r->u.disabled_reason);
    w_u8(&w, (unsigned)reason_len);
    w_bytes(&w, r->u.disabled_reason, reason_len);
    return w.len;
}

static void user_decode_recovery(rbuf *rb, user_rec *r)
{
    r->u.recovery_created_at = r_i64(rb);
    r->rc.kdf.t_cost = r_u32(rb);
    r->rc.kdf.m_cost = r_u32(rb);
    r->rc.kdf.lanes = r_u8(rb);
    r->rc.count = r_u8(rb);
    r_copy(rb, r->rc.salt, RC_SALT);
    if (r->rc.count != 0 && r->rc.count != CA_RECOVERY_CODES) {
        rb->bad = true;
        return;
    }
    for (unsigned i = 0; i < r->rc.count; i++) {
        r->rc.used[i] = (uint8_t)r_u8(rb);
        r_copy(rb, r->rc.hash[i], RC_HASH);
        if (!r->rc.used[i])
            r->u.recovery_codes_left++;
    }
}

/* Decodes the record of user id; false when it is malformed. */
static bool user_decode(user_rec *r, const char *id, const ca_store_val *val)
{
    memset(r, 0, sizeof *r);
    rbuf rb = {val->data, val->len, 0, false};
    if (r_u8(&rb) != RECORD_VERSION)
        return false;
    memcpy(r->u.id, id, ID_HEX);
    r->u.state = (ca_user_state)r_u8(&rb);
    unsigned flags = r_u8(&rb);
    r->u.totp_allowed = flags & FLAG_TOTP;
    r->u.must_enroll_passkey = flags & FLAG_MUST_ENROLL;
    r->u.roles = r_u8(&rb);
    r->u.created_at = r_i64(&rb);
    r->u.updated_at = r_i64(&rb);
    r->u.activated_at = r_i64(&rb);
    r->u.last_sign_in_at = r_i64(&rb);
    r->u.disabled_at = r_i64(&rb);
    r_copy(&rb, r->blind, CA_BLIND_INDEX_LEN);
    r_copy(&rb, r->invite.b, CA_HASH_SIZE);
    user_decode_recovery(&rb, r);
    r->name_len = r_u16(&rb);
    if (r->name_len > NAME_SEALED_MAX)
        return false;
    r_copy(&rb, r->name_sealed, r->name_len);
    r->email_len = r_u16(&rb);
    if (r->email_len > EMAIL_SEALED_MAX)
        return false;
    r_copy(&rb, r->email_sealed, r->email_len);
    if (!r_text(&rb, r->u.disabled_reason, CA_USER_REASON_MAX, r_u8(&rb)))
        return false;
    return !rb.bad && rb.off == rb.len && roles_valid(r->u.roles) &&
           r->u.state >= CA_USER_INVITED && r->u.state <= CA_USER_DISABLED;
}

/* Loads user id in t: CA_ERR_NOT_FOUND, CA_ERR_STORE (corrupt or unreadable). */
static ca_err user_load(ca_store_txn *t, user_rec *r, const char *id, ca_errbuf *eb)
{
    ca_store_val v;
    ca_err err = ca_store_get(t, CA_TABLE_USERS, id, ID_HEX, &v);
    if (err == CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no user with id %s", id);
    if (err)
        return ca_fail(eb, err, "users: cannot read the user table");
    if (!user_decode(r, id, &v))
        return ca_fail(eb, CA_ERR_STORE, "users: the record of user %s is corrupt", id);
    return CA_OK;
}

static ca_err user_save(ca_store_txn *t, const user_rec *r, ca_errbuf *eb)
{
    uint8_t rec[USER_REC_MAX];
    size_t len = user_encode(rec, r);
    ca_err err = ca_store_put(t, CA_TABLE_USERS, r->u.id, ID_HEX, rec, len);
    return err ? ca_fail(eb, err, "users: cannot store user %s", r->u.id) : CA_OK;
}

/* ---- sealed fields --------------------------------------------------------------------------- */

static size_t field_aad(char out[48], const char *id, const char *field)
{
    return (size_t)snprintf(out, 48, "user:%s:%s", id, field);
}

static ca_err seal_field(const ca_data_key *dk, uint8_t *out, size_t *out_len, const char *id,
                         const char *field, const char *plain, ca_errbuf *eb)
{
    char aad[48];
    size_t aad_len = field_aad(aad, id, field);
    ca_err err = ca_data_seal(dk, out, out_len, (const uint8_t *)plain, strlen(plain), aad,
                              aad_len, eb);
    return err ? ca_fail(eb, err, "users: cannot seal the %s of user %s", field, id) : CA_OK;
}

/* Opens a sealed field into out (cap bytes with the NUL). */
static ca_err open_field(const ca_data_key *dk, char *out, size_t cap, const char *id,
                         const char *field, const uint8_t *sealed, size_t sealed_len,
                         ca_errbuf *eb)
{
    char aad[48];
    size_t aad_len = field_aad(aad, id, field);
    size_t len = cap - 1;
    out[0] = '\0';
    ca_err err = ca_data_open(dk, (uint8_t *)out, &len, sealed, sealed_len, aad, aad_len, eb);
    if (!err && memchr(out, '\0', len))
        err = CA_ERR_STORE;
    if (err) {
        ca_wipe(out, cap);
        return ca_fail(eb, err == CA_ERR_STORE ? CA_ERR_STORE : CA_ERR_VERIFY,
                       "users: the %s of user %s does not open with this data key", field, id);
    }
    out[len] = '\0';
    return CA_OK;
}

/* The public part of r, with name and email decrypted when dk is not NULL. */
static ca_err user_export(ca_user *out, const user_rec *r, const ca_data_key *dk, ca_errbuf *eb)
{
    *out = r->u;
    out->name[0] = out->email[0] = '\0';
    if (!dk)
        return CA_OK;
    ca_err err = open_field(dk, out->name, sizeof out->name, r->u.id, "name", r->name_sealed,
                            r->name_len, eb);
    if (!err)
        err = open_field(dk, out->email, sizeof out->email, r->u.id, "email", r->email_sealed,
                         r->email_len, eb);
    if (err)
        ca_wipe(out, sizeof *out);
    return err;
}

/* ---- scanning users -------------------------------------------------------------------------- */

/* Collects every decodable user record; a corrupt one stops the scan with CA_ERR_STORE. */
typedef struct user_acc {
    user_rec *v;
    size_t n, cap;
    ca_err err;
} user_acc;

/* The array v of n size-byte elements with room for one more (doubling *cap from 16 when
 * full), or NULL when out of memory (v still valid). The list scans' one way to grow their
 * results. */
static void *grow_for_one(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return v;
    size_t grown = *cap ? *cap * 2 : 16;
    void *p = realloc(v, grown * size);
    if (p)
        *cap = grown;
    return p;
}

static bool user_acc_fn(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    user_acc *a = arg;
    void *grown = grow_for_one(a->v, &a->cap, a->n, sizeof *a->v);
    if (!grown) {
        a->err = CA_ERR_NOMEM;
        return false;
    }
    a->v = grown;
    char id[CA_USER_ID_MAX] = {0};
    if (key->len != ID_HEX || !user_decode(&a->v[a->n], memcpy(id, key->data, ID_HEX), val)) {
        a->err = CA_ERR_STORE;
        return false;
    }
    a->n++;
    return true;
}

static ca_err users_collect(ca_store_txn *t, user_acc *a, ca_errbuf *eb)
{
    memset(a, 0, sizeof *a);
    ca_err err = ca_store_scan(t, CA_TABLE_USERS, NULL, 0, user_acc_fn, a);
    if (!err)
        err = a->err;
    if (err) {
        free(a->v);
        a->v = NULL;
        return ca_fail(eb, err, err == CA_ERR_NOMEM ? "out of memory listing users"
                                : err == CA_ERR_STORE ? "users: a user record is corrupt"
                                                      : "users: cannot read the user table");
    }
    return CA_OK;
}

typedef struct admin_count {
    size_t n;
    ca_err err;
} admin_count;

static bool admin_count_fn(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    admin_count *c = arg;
    const uint8_t *p = val->data;
    if (key->len != ID_HEX || val->len < 4 || p[0] != RECORD_VERSION) {
        c->err = CA_ERR_STORE;
        return false;
    }
    if (p[1] == CA_USER_ACTIVE && (p[3] & (1u << CA_ROLE_ADMIN)))
        c->n++;
    return true;
}

/* The number of active users with the admin role, in t. */
static ca_err count_active_admins(ca_store_txn *t, size_t *n, ca_errbuf *eb)
{
    admin_count c = {0, CA_OK};
    ca_err err = ca_store_scan(t, CA_TABLE_USERS, NULL, 0, admin_count_fn, &c);
    if (!err)
        err = c.err;
    if (err)
        return ca_fail(eb, err, "users: cannot count the admins");
    *n = c.n;
    return CA_OK;
}

/* CA_ERR_CONFLICT when r is the last active admin (so it may not stop being one). */
static ca_err refuse_last_admin(ca_store_txn *t, const user_rec *r, const char *what,
                                ca_errbuf *eb)
{
    if (r->u.state != CA_USER_ACTIVE || !is_admin(&r->u))
        return CA_OK;
    size_t n = 0;
    ca_err err = count_active_admins(t, &n, eb);
    if (err)
        return err;
    if (n <= 1)
        return ca_fail(eb, CA_ERR_CONFLICT,
                       "user %s is the last active admin and cannot be %s", r->u.id, what);
    return CA_OK;
}

/* ---- session records ------------------------------------------------------------------------- */

typedef struct session_rec {
    ca_session s; /* csrf_hash zeros */
    ca_hash secret_hash;
} session_rec;

static const char *const method_names[] = {NULL, "passkey", "recovery", "totp"};
#define METHOD_COUNT 4

static unsigned method_code(const char *m)
{
    for (unsigned i = 1; m && i < METHOD_COUNT; i++)
        if (strcmp(m, method_names[i]) == 0)
            return i;
    return 0;
}

static size_t session_encode(uint8_t out[SESSION_REC_MAX], const session_rec *r)
{
    wbuf w = {out, 0, SESSION_REC_MAX};
    w_u8(&w, RECORD_VERSION);
    w_u8(&w, method_code(r->s.method));
    w_bytes(&w, r->s.user_id, ID_HEX);
    w_bytes(&w, r->secret_hash.b, CA_HASH_SIZE);
    w_i64(&w, r->s.created_at);
    w_i64(&w, r->s.last_seen_at);
    w_i64(&w, r->s.revoked_at);
    size_t addr_len = strlen(r->s.client);
    w_u8(&w, (unsigned)addr_len);
    w_bytes(&w, r->s.client, addr_len);
    return w.len;
}

static bool session_decode(session_rec *r, const void *id, size_t id_len, const ca_store_val *val)
{
    memset(r, 0, sizeof *r);
    rbuf rb = {val->data, val->len, 0, false};
    if (id_len != ID_HEX || r_u8(&rb) != RECORD_VERSION)
        return false;
    memcpy(r->s.id, id, ID_HEX);
    unsigned m = r_u8(&rb);
    if (m == 0 || m >= METHOD_COUNT)
        return false;
    snprintf(r->s.method, sizeof r->s.method, "%s", method_names[m]);
    r_copy(&rb, r->s.user_id, ID_HEX);
    r_copy(&rb, r->secret_hash.b, CA_HASH_SIZE);
    r->s.created_at = r_i64(&rb);
    r->s.last_seen_at = r_i64(&rb);
    r->s.revoked_at = r_i64(&rb);
    if (!r_text(&rb, r->s.client, sizeof r->s.client, r_u8(&rb)))
        return false;
    return !rb.bad && rb.off == rb.len && id_valid(r->s.user_id);
}

static ca_err session_load(ca_store_txn *t, session_rec *r, const char *id, ca_errbuf *eb)
{
    ca_store_val v;
    ca_err err = ca_store_get(t, CA_TABLE_SESSIONS, id, ID_HEX, &v);
    if (err == CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no session with id %s", id);
    if (err)
        return ca_fail(eb, err, "users: cannot read the session table");
    if (!session_decode(r, id, ID_HEX, &v))
        return ca_fail(eb, CA_ERR_STORE, "users: the record of session %s is corrupt", id);
    return CA_OK;
}

static ca_err session_save(ca_store_txn *t, const session_rec *r, ca_errbuf *eb)
{
    uint8_t rec[SESSION_REC_MAX];
    size_t len = session_encode(rec, r);
    ca_err err = ca_store_put(t, CA_TABLE_SESSIONS, r->s.id, ID_HEX, rec, len);
    return err ? ca_fail(eb, err, "users: cannot store session %s", r->s.id) : CA_OK;
}

/* Marks session id revoked in t (a revoked one keeps its first time). With owner, a session
 * of another user is CA_ERR_NOT_FOUND. */
static ca_err session_revoke_in(ca_store_txn *t, const char *id, const char *owner, int64_t now,
                                ca_errbuf *eb)
{
    session_rec r;
    ca_err err = session_load(t, &r, id, eb);
    if (err)
        return err;
    if (owner && strcmp(owner, r.s.user_id) != 0)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no session with id %s", id);
    if (r.s.revoked_at != 0)
        return CA_OK;
    r.s.revoked_at = now > 0 ? now : 1;
    return session_save(t, &r, eb);
}

/* The ids of the sessions a predicate picks, collected before anything is written (no write
 * while a cursor walks the table). */
typedef bool (*session_pred)(const session_rec *r, const void *ctx);
typedef struct session_pick {
    session_pred pred;
    const void *ctx;
    char (*ids)[CA_USER_ID_MAX];
    size_t n, cap;
    ca_err err;
} session_pick;

static bool session_pick_fn(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    session_pick *p = arg;
    session_rec r;
    if (!session_decode(&r, key->data, key->len, val)) {
        p->err = CA_ERR_STORE;
        return false;
    }
    if (!p->pred(&r, p->ctx))
        return true;
    void *grown = grow_for_one(p->ids, &p->cap, p->n, sizeof *p->ids);
    if (!grown) {
        p->err = CA_ERR_NOMEM;
        return false;
    }
    p->ids = grown;
    memcpy(p->ids[p->n++], r.s.id, CA_USER_ID_MAX);
    return true;
}

static ca_err sessions_pick(ca_store_txn *t, session_pick *p, ca_errbuf *eb)
{
    ca_err err = ca_store_scan(t, CA_TABLE_SESSIONS, NULL, 0, session_pick_fn, p);
    if (!err)
        err = p->err;
    if (err) {
        free(p->ids);
        p->ids = NULL;
        p->n = 0;
        return ca_fail(eb, err, err == CA_ERR_STORE ? "users: a session record is corrupt"
                                                    : "users: cannot read the session table");
    }
    return CA_OK;
}

typedef struct id_list {
    const char (*ids)[CA_USER_ID_MAX];
    size_t n;
} id_list;

static bool live_of_users(const session_rec *r, const void *ctx)
{
    const id_list *l = ctx;
    if (r->s.revoked_at != 0)
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->ids[i], r->s.user_id) == 0)
            return true;
    return false;
}

/* Revokes, in t, every live session of the users listed; *count (may be NULL) gets how many. */
static ca_err revoke_sessions_of(ca_store_txn *t, const id_list *users, int64_t now,
                                 size_t *count, ca_errbuf *eb)
{
    session_pick p = {.pred = live_of_users, .ctx = users};
    ca_err err = users->n ? sessions_pick(t, &p, eb) : CA_OK;
    for (size_t i = 0; !err && i < p.n; i++)
        err = session_revoke_in(t, p.ids[i], NULL, now, eb);
    if (count)
        *count = err ? 0 : p.n;
    free(p.ids);
    return err;
}

static ca_err revoke_sessions_of_one(ca_store_txn *t, const char *user_id, int64_t now,
                                     size_t *count, ca_errbuf *eb)
{
    char one[1][CA_USER_ID_MAX];
    snprintf(one[0], sizeof one[0], "%s", user_id);
    id_list l = {(const char(*)[CA_USER_ID_MAX])one, 1};
    return revoke_sessions_of(t, &l, now, count, eb);
}

/* ---- invites --------------------------------------------------------------------------------- */

typedef struct invite_rec {
    char user_id[CA_USER_ID_MAX];
    int64_t created_at, expires_at, used_at;
} invite_rec;

static void invite_encode(uint8_t out[INVITE_REC_LEN], const invite_rec *inv)
{
    wbuf w = {out, 0, INVITE_REC_LEN};
    w_u8(&w, RECORD_VERSION);
    w_bytes(&w, inv->user_id, ID_HEX);
    w_i64(&w, inv->created_at);
    w_i64(&w, inv->expires_at);
    w_i64(&w, inv->used_at);
}

static bool invite_decode(invite_rec *inv, const ca_store_val *val)
{
    memset(inv, 0, sizeof *inv);
    rbuf rb = {val->data, val->len, 0, false};
    if (r_u8(&rb) != RECORD_VERSION)
        return false;
    r_copy(&rb, inv->user_id, ID_HEX);
    inv->created_at = r_i64(&rb);
    inv->expires_at = r_i64(&rb);
    inv->used_at = r_i64(&rb);
    return !rb.bad && rb.off == rb.len && id_valid(inv->user_id);
}

void ca_invite_hash(ca_hash *out, const char *secret)
{
    CA_ASSERT(out && secret);
    ca_sha256(out, secret, strlen(secret));
}

/* CA_OK when the invite stored under h is usable at now (by user_id, when not NULL): it
 * exists, is unused and unexpired, and is its user's pending invite while the user is still
 * invited. The lookup is by the secret's hash, so its timing says nothing about the secret. */
static ca_err invite_check(ca_store_txn *t, invite_rec *inv, const ca_hash *h,
                           const char *user_id, int64_t now, ca_errbuf *eb)
{
    ca_store_val v;
    ca_err err = ca_store_get(t, CA_TABLE_INVITES, h->b, CA_HASH_SIZE, &v);
    if (err == CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_PERMISSION, "invite refused: unknown or replaced");
    if (err)
        return ca_fail(eb, err, "users: cannot read the invite table");
    if (!invite_decode(inv, &v))
        return ca_fail(eb, CA_ERR_STORE, "users: an invite record is corrupt");
    if (inv->used_at != 0)
        return ca_fail(eb, CA_ERR_PERMISSION, "invite refused: already used");
    if (now >= inv->expires_at)
        return ca_fail(eb, CA_ERR_PERMISSION, "invite refused: expired");
    if (user_id && strcmp(user_id, inv->user_id) != 0)
        return ca_fail(eb, CA_ERR_PERMISSION, "invite refused: it is for another user");
    user_rec r;
    err = user_load(t, &r, inv->user_id, eb);
    if (err == CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_PERMISSION, "invite refused: its user is gone");
    if (err)
        return err;
    if (r.u.state != CA_USER_INVITED ||
        CRYPTO_memcmp(r.invite.b, h->b, CA_HASH_SIZE) != 0)
        return ca_fail(eb, CA_ERR_PERMISSION, "invite refused: user %s is no longer invited",
                       r.u.id);
    return CA_OK;
}

ca_err ca_invite_consume(ca_store_txn *txn, const ca_hash *invite_hash, const char *user_id,
                         int64_t now, ca_errbuf *eb)
{
    CA_ASSERT(txn && invite_hash);
    if (!id_valid(user_id))
        return ca_fail(eb, CA_ERR_PERMISSION, "invite refused: bad user id");
    invite_rec inv;
    ca_err err = invite_check(txn, &inv, invite_hash, user_id, now, eb);
    if (err)
        return err;
    inv.used_at = now > 0 ? now : 1;
    uint8_t rec[INVITE_REC_LEN];
    invite_encode(rec, &inv);
    err = ca_store_put(txn, CA_TABLE_INVITES, invite_hash->b, CA_HASH_SIZE, rec, sizeof rec);
    return err ? ca_fail(eb, err, "users: cannot store the invite") : CA_OK;
}

ca_err ca_invite_peek(ca_store *store, char *user_id_out, ca_hash *invite_hash_out,
                      const char *secret, int64_t now, ca_errbuf *eb)
{
    CA_ASSERT(store && user_id_out);
    user_id_out[0] = '\0';
    uint8_t raw[SECRET_BYTES];
    bool ok = secret_syntax_ok(secret, raw);
    ca_wipe(raw, sizeof raw);
    if (!ok)
        return ca_fail(eb, CA_ERR_PERMISSION, "invite refused: malformed");
    ca_hash h;
    ca_invite_hash(&h, secret);
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    invite_rec inv;
    err = invite_check(t, &inv, &h, NULL, now, eb);
    ca_store_abort(t);
    if (!err) {
        memcpy(user_id_out, inv.user_id, CA_USER_ID_MAX);
        if (invite_hash_out)
            *invite_hash_out = h;
    }
    return err;
}

typedef struct redeem_arg {
    const ca_hash *hash;
    int64_t now;
    char user_id[CA_USER_ID_MAX];
} redeem_arg;

static ca_err redeem_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    redeem_arg *a = arg;
    invite_rec inv;
    ca_err err = invite_check(t, &inv, a->hash, NULL, a->now, eb);
    if (!err)
        err = ca_invite_consume(t, a->hash, inv.user_id, a->now, eb);
    if (!err)
        memcpy(a->user_id, inv.user_id, CA_USER_ID_MAX);
    return err;
}

ca_err ca_invite_redeem(ca_store *store, char *user_id_out, const char *secret, int64_t now,
                        ca_errbuf *eb)
{
    CA_ASSERT(store && user_id_out);
    user_id_out[0] = '\0';
    uint8_t raw[SECRET_BYTES];
    bool ok = secret_syntax_ok(secret, raw);
    ca_wipe(raw, sizeof raw);
    if (!ok)
        return ca_fail(eb, CA_ERR_PERMISSION, "invite refused: malformed");
    ca_hash h;
    ca_invite_hash(&h, secret);
    redeem_arg a = {&h, now, {0}};
    ca_err err = ca_store_write(store, redeem_fn, &a, eb);
    if (!err)
        memcpy(user_id_out, a.user_id, CA_USER_ID_MAX);
    return err;
}

/* ---- inviting -------------------------------------------------------------------------------- */

/* Trims blanks around an email into out and checks its shape: one '@' with text on both
 * sides, no blanks or control characters, UTF-8. Messages never quote the address. */
static ca_err email_check(char out[CA_USER_EMAIL_MAX], const char *email, ca_errbuf *eb)
{
    if (!email)
        return ca_fail(eb, CA_ERR_INVALID, "the email is missing");
    const char *s = email;
    size_t len = strnlen(email, 4 * CA_USER_EMAIL_MAX);
    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len > EMAIL_MAX_BYTES)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "the email is longer than %d bytes",
                       EMAIL_MAX_BYTES);
    const char *at = memchr(s, '@', len);
    bool ok = at && at != s && at != s + len - 1 &&
              !memchr(at + 1, '@', (size_t)(s + len - at - 1)) && !memchr(s, ' ', len) &&
              text_ok(s, len);
    if (!ok)
        return ca_fail(eb, CA_ERR_INVALID, "the email is not an address (name@domain)");
    memcpy(out, s, len);
    out[len] = '\0';
    return CA_OK;
}

static ca_err name_check(const char *name, ca_errbuf *eb)
{
    if (!name || !*name)
        return ca_fail(eb, CA_ERR_INVALID, "the name is empty");
    size_t len = strnlen(name, NAME_MAX_BYTES + 1);
    if (len > NAME_MAX_BYTES)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "the name is longer than %d bytes",
                       NAME_MAX_BYTES);
    if (!text_ok(name, len))
        return ca_fail(eb, CA_ERR_INVALID, "the name is not UTF-8 or holds control characters");
    return CA_OK;
}

typedef struct invite_arg {
    const ca_data_key *dk;
    const char *email, *name; /* checked; email trimmed */
    unsigned roles;
    int64_t now, expires;
    uint8_t blind[CA_BLIND_INDEX_LEN];
    char new_id[CA_USER_ID_MAX]; /* the id if the email is new */
    bool id_taken;               /* new_id belongs to someone: draw another */
    ca_hash hash;                /* of the new secret */
    ca_user out;
} invite_arg;

/* A new invited user under a->new_id, with its email index entry. */
static ca_err invite_new_user(ca_store_txn *t, user_rec *r, invite_arg *a, ca_errbuf *eb)
{
    ca_store_val v;
    ca_err err = ca_store_get(t, CA_TABLE_USERS, a->new_id, ID_HEX, &v);
    if (err == CA_OK) {
        a->id_taken = true;
        return CA_ERR_EXISTS;
    }
    if (err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, err, "users: cannot read the user table");
    memset(r, 0, sizeof *r);
    memcpy(r->u.id, a->new_id, CA_USER_ID_MAX);
    r->u.state = CA_USER_INVITED;
    r->u.created_at = a->now;
    memcpy(r->blind, a->blind, CA_BLIND_INDEX_LEN);
    err = seal_field(a->dk, r->email_sealed, &r->email_len, r->u.id, "email", a->email, eb);
    if (err)
        return err;
    err = ca_store_put(t, CA_TABLE_USER_EMAILS, a->blind, CA_BLIND_INDEX_LEN, r->u.id, ID_HEX);
    return err ? ca_fail(eb, err, "users: cannot store the email index") : CA_OK;
}

/* The user who already has this email (idv: their id), if still invited: their pending
 * invite is deleted, to be replaced. CA_ERR_EXISTS for an active or disabled user. */
static ca_err invite_existing_user(ca_store_txn *t, user_rec *r, const ca_store_val *idv,
                                   ca_errbuf *eb)
{
    char id[CA_USER_ID_MAX] = {0};
    if (idv->len != ID_HEX)
        return ca_fail(eb, CA_ERR_STORE, "users: an email index entry is corrupt");
    memcpy(id, idv->data, ID_HEX);
    ca_err err = user_load(t, r, id, eb);
    if (err)
        return err;
    if (r->u.state != CA_USER_INVITED)
        return ca_fail(eb, CA_ERR_EXISTS, "user %s (%s) already has this email", id,
                       ca_user_state_name(r->u.state));
    if (hash_is_zero(&r->invite))
        return CA_OK;
    err = ca_store_del(t, CA_TABLE_INVITES, r->invite.b, CA_HASH_SIZE);
    if (err && err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, err, "users: cannot delete the replaced invite");
    return CA_OK;
}

static ca_err invite_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    invite_arg *a = arg;
    user_rec r;
    ca_store_val v;
    ca_err err = ca_store_get(t, CA_TABLE_USER_EMAILS, a->blind, CA_BLIND_INDEX_LEN, &v);
    if (err == CA_OK)
        err = invite_existing_user(t, &r, &v, eb);
    else if (err == CA_ERR_NOT_FOUND)
        err = invite_new_user(t, &r, a, eb);
    else
        err = ca_fail(eb, err, "users: cannot read the email index");
    if (err)
        return err;
    r.u.roles = a->roles;
    r.u.updated_at = a->now;
    r.invite = a->hash;
    if ((err = seal_field(a->dk, r.name_sealed, &r.name_len, r.u.id, "name", a->name, eb)))
        return err;
    invite_rec inv = {.created_at = a->now, .expires_at = a->expires};
    memcpy(inv.user_id, r.u.id, CA_USER_ID_MAX);
    uint8_t rec[INVITE_REC_LEN];
    invite_encode(rec, &inv);
    err = ca_store_put(t, CA_TABLE_INVITES, a->hash.b, CA_HASH_SIZE, rec, sizeof rec);
    if (err)
        return ca_fail(eb, err, "users: cannot store the invite");
    if ((err = user_save(t, &r, eb)))
        return err;
    return user_export(&a->out, &r, a->dk, eb);
}

/* Runs invite_fn, drawing a fresh id while the drawn one is taken. */
static ca_err invite_write(ca_store *store, invite_arg *a, ca_errbuf *eb)
{
    ca_err err = CA_OK;
    for (int attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
        a->id_taken = false;
        if ((err = random_id(a->new_id, eb)))
            return err;
        err = ca_store_write(store, invite_fn, a, eb);
        if (!(err == CA_ERR_EXISTS && a->id_taken))
            return err;
    }
    return ca_fail(eb, CA_ERR_EXISTS, "users: no free user id after %d tries", CREATE_ATTEMPTS);
}

ca_err ca_user_invite(ca_store *store, const ca_data_key *dk, ca_user *info, char *secret_out,
                      const char *email, const char *name, unsigned roles,
                      int64_t ttl_seconds, int64_t now, ca_errbuf *eb)
{
    CA_ASSERT(store && dk && info && secret_out);
    memset(info, 0, sizeof *info);
    secret_out[0] = '\0';
    if (!roles_valid(roles))
        return ca_fail(eb, CA_ERR_INVALID, "roles 0x%x: at least one, and only known ones",
                       roles);
    if (ttl_seconds == 0)
        ttl_seconds = CA_INVITE_TTL_DEFAULT;
    if (ttl_seconds < 0 || ttl_seconds > CA_INVITE_TTL_MAX)
        return ca_fail(eb, CA_ERR_RANGE, "the invite lifetime must be 1 s to %d days",
                       CA_INVITE_TTL_MAX / 86400);
    invite_arg a = {.dk = dk, .name = name, .roles = roles, .now = now};
    a.expires = now + ttl_seconds;
    char mail[CA_USER_EMAIL_MAX];
    ca_err err = email_check(mail, email, eb);
    if (err || (err = name_check(name, eb)))
        return err;
    a.email = mail;
    ca_data_blind_email(dk, a.blind, mail);
    char secret[SECRET_B64 + 1];
    uint8_t raw[SECRET_BYTES];
    err = random_secret(secret, raw, eb);
    ca_wipe(raw, sizeof raw);
    if (!err) {
        ca_invite_hash(&a.hash, secret);
        err = invite_write(store, &a, eb);
    }
    if (!err) {
        *info = a.out;
        memcpy(secret_out, secret, SECRET_B64 + 1);
    }
    ca_wipe(secret, sizeof secret);
    ca_wipe(mail, sizeof mail);
    ca_wipe(&a, sizeof a);
    return err;
}

/* ---- passkeys -------------------------------------------------------------------------------- */

static void passkey_key(ca_hash *out, const uint8_t *cred_id, size_t id_len)
{
    ca_sha256(out, cred_id, id_len);
}

static size_t passkey_encode(uint8_t *out, const ca_passkey *p)
{
    wbuf w = {out, 0, PASSKEY_REC_MAX};
    w_u8(&w, RECORD_VERSION);
    w_bytes(&w, p->user_id, ID_HEX);
    w_u32(&w, (uint32_t)p->alg);
    w_u32(&w, p->sign_count);
    w_i64(&w, p->created_at);
    w_i64(&w, p->last_used_at);
    w_u16(&w, p->id_len);
    w_u16(&w, p->key_len);
    size_t name_len = strlen(p->name);
    w_u8(&w, (unsigned)name_len);
    w_bytes(&w, p->cred_id, p->id_len);
    w_bytes(&w, p->cose_key, p->key_len);
    w_bytes(&w, p->name, name_len);
    return w.len;
}

static bool passkey_decode(ca_passkey *p, const ca_store_val *val)
{
    memset(p, 0, sizeof *p);
    rbuf rb = {val->data, val->len, 0, false};
    if (r_u8(&rb) != RECORD_VERSION)
        return false;
    r_copy(&rb, p->user_id, ID_HEX);
    p->alg = (int32_t)r_u32(&rb);
    p->sign_count = r_u32(&rb);
    p->created_at = r_i64(&rb);
    p->last_used_at = r_i64(&rb);
    p->id_len = r_u16(&rb);
    p->key_len = r_u16(&rb);
    size_t name_len = r_u8(&rb);
    if (p->id_len == 0 || p->id_len > CA_PASSKEY_ID_MAX || p->key_len == 0 ||
        p->key_len > CA_PASSKEY_KEY_MAX)
        return false;
    r_copy(&rb, p->cred_id, p->id_len);
    r_copy(&rb, p->cose_key, p->key_len);
    if (!r_text(&rb, p->name, sizeof p->name, name_len))
        return false;
    return !rb.bad && rb.off == rb.len && id_valid(p->user_id);
}

/* The passkey with this credential id, in t: CA_ERR_NOT_FOUND, CA_ERR_STORE. */
static ca_err passkey_load(ca_store_txn *t, ca_passkey *p, const uint8_t *cred_id,
                           size_t id_len, ca_errbuf *eb)
{
    ca_hash k;
    passkey_key(&k, cred_id, id_len);
    ca_store_val v;
    ca_err err = ca_store_get(t, CA_TABLE_PASSKEYS, k.b, CA_HASH_SIZE, &v);
    if (err == CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no passkey with this credential id");
    if (err)
        return ca_fail(eb, err, "users: cannot read the passkey table");
    if (!passkey_decode(p, &v))
        return ca_fail(eb, CA_ERR_STORE, "users: a passkey record is corrupt");
    if (p->id_len != id_len || memcmp(p->cred_id, cred_id, id_len) != 0)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no passkey with this credential id");
    return CA_OK;
}

static ca_err passkey_save(ca_store_txn *t, const ca_passkey *p, ca_errbuf *eb)
{
    ca_hash k;
    passkey_key(&k, p->cred_id, p->id_len);
    uint8_t *rec = malloc(PASSKEY_REC_MAX);
    if (!rec)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    size_t len = passkey_encode(rec, p);
    ca_err err = ca_store_put(t, CA_TABLE_PASSKEYS, k.b, CA_HASH_SIZE, rec, len);
    free(rec);
    return err ? ca_fail(eb, err, "users: cannot store the passkey") : CA_OK;
}

/* Collects the passkeys of one user (records are copied only when v is wanted). */
typedef struct passkey_acc {
    const char *user_id;
    ca_passkey *v;
    bool keep;
    size_t n, cap;
    ca_err err;
} passkey_acc;

static bool passkey_acc_fn(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    (void)key;
    passkey_acc *a = arg;
    const uint8_t *p = val->data;
    if (val->len < PASSKEY_FIXED || p[0] != RECORD_VERSION) {
        a->err = CA_ERR_STORE;
        return false;
    }
    if (memcmp(p + 1, a->user_id, ID_HEX) != 0)
        return true;
    if (a->keep && a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        ca_passkey *v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            a->err = CA_ERR_NOMEM;
            return false;
        }
        a->v = v;
        a->cap = cap;
    }
    if (a->keep && !passkey_decode(&a->v[a->n], val)) {
        a->err = CA_ERR_STORE;
        return false;
    }
    a->n++;
    return true;
}

static ca_err passkeys_of(ca_store_txn *t, passkey_acc *a, ca_errbuf *eb)
{
    ca_err err = ca_store_scan(t, CA_TABLE_PASSKEYS, NULL, 0, passkey_acc_fn, a);
    if (!err)
        err = a->err;
    if (err) {
        free(a->v);
        a->v = NULL;
        a->n = 0;
        return ca_fail(eb, err, err == CA_ERR_NOMEM ? "out of memory listing passkeys"
                                : err == CA_ERR_STORE ? "users: a passkey record is corrupt"
                                                      : "users: cannot read the passkey table");
    }
    return CA_OK;
}

typedef struct passkey_add_arg {
    const ca_passkey *rec;
    const ca_hash *invite;
    int64_t now;
} passkey_add_arg;

/* The user may get this passkey: not disabled, invited only with an invite, under the cap,
 * and the credential id new. */
static ca_err passkey_add_check(ca_store_txn *t, const user_rec *r, const passkey_add_arg *a,
                                ca_errbuf *eb)
{
    if (r->u.state == CA_USER_DISABLED)
        return ca_fail(eb, CA_ERR_PERMISSION, "user %s is disabled", r->u.id);
    if (r->u.state == CA_USER_INVITED && !a->invite)
        return ca_fail(eb, CA_ERR_PERMISSION, "user %s is invited: the first passkey comes "
                                              "with the invite", r->u.id);
    ca_hash k;
    passkey_key(&k, a->rec->cred_id, a->rec->id_len);
    ca_store_val v;
    ca_err err = ca_store_get(t, CA_TABLE_PASSKEYS, k.b, CA_HASH_SIZE, &v);
    if (err == CA_OK)
        return ca_fail(eb, CA_ERR_EXISTS, "this passkey is already registered");
    if (err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, err, "users: cannot read the passkey table");
    passkey_acc acc = {.user_id = r->u.id};
    if ((err = passkeys_of(t, &acc, eb)))
        return err;
    if (acc.n >= CA_PASSKEYS_PER_USER)
        return ca_fail(eb, CA_ERR_CONFLICT, "user %s already has %d passkeys", r->u.id,
                       CA_PASSKEYS_PER_USER);
    return CA_OK;
}

static ca_err passkey_add_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    passkey_add_arg *a = arg;
    ca_err err;
    if (a->invite && (err = ca_invite_consume(t, a->invite, a->rec->user_id, a->now, eb)))
        return err;
    user_rec r;
    if ((err = user_load(t, &r, a->rec->user_id, eb)) ||
        (err = passkey_add_check(t, &r, a, eb)) || (err = passkey_save(t, a->rec, eb)))
        return err;
    if (r.u.state == CA_USER_INVITED) {
        r.u.state = CA_USER_ACTIVE;
        r.u.activated_at = a->now;
    }
    memset(&r.invite, 0, sizeof r.invite);
    r.u.must_enroll_passkey = false;
    r.u.updated_at = a->now;
    return user_save(t, &r, eb);
}

static ca_err passkey_args_check(const char *user_id, const uint8_t *cred_id, size_t id_len,
                                 const uint8_t *cose_key, size_t key_len, const char *name,
                                 ca_errbuf *eb)
{
    if (!id_valid(user_id))
        return ca_fail(eb, CA_ERR_INVALID, "not a user id (16 lowercase hex)");
    if (!cred_id || id_len == 0 || !cose_key || key_len == 0)
        return ca_fail(eb, CA_ERR_INVALID, "the credential id or public key is empty");
    if (id_len > CA_PASSKEY_ID_MAX || key_len > CA_PASSKEY_KEY_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "credential id over %d bytes or key over %d",
                       CA_PASSKEY_ID_MAX, CA_PASSKEY_KEY_MAX);
    size_t name_len = strnlen(name, CA_PASSKEY_NAME_MAX);
    if (name_len >= CA_PASSKEY_NAME_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "the passkey name is longer than %d bytes",
                       CA_PASSKEY_NAME_MAX - 1);
    if (!text_ok(name, name_len))
        return ca_fail(eb, CA_ERR_INVALID, "the passkey name is not UTF-8 or holds control "
                                           "characters");
    return CA_OK;
}

ca_err ca_passkey_add(ca_store *store, const char *user_id, const uint8_t *cred_id,
                      size_t id_len, const uint8_t *cose_key, size_t key_len, int32_t alg,
                      uint32_t sign_count, const char *name, int64_t now,
                      const ca_hash *consume_invite, ca_errbuf *eb)
{
    CA_ASSERT(store);
    if (!name)
        name = "";
    ca_err err = passkey_args_check(user_id, cred_id, id_len, cose_key, key_len, name, eb);
    if (err)
        return err;
    ca_passkey *p = calloc(1, sizeof *p);
    if (!p)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    memcpy(p->user_id, user_id, CA_USER_ID_MAX);
    memcpy(p->cred_id, cred_id, id_len);
    p->id_len = id_len;
    memcpy(p->cose_key, cose_key, key_len);
    p->key_len = key_len;
    p->alg = alg;
    p->sign_count = sign_count;
    snprintf(p->name, sizeof p->name, "%s", name);
    p->created_at = now;
    passkey_add_arg a = {p, consume_invite, now};
    err = ca_store_write(store, passkey_add_fn, &a, eb);
    free(p);
    return err;
}

ca_err ca_passkey_find(ca_store *store, const uint8_t *cred_id, size_t id_len, ca_passkey *rec,
                       ca_errbuf *eb)
{
    CA_ASSERT(store && rec);
    memset(rec, 0, sizeof *rec);
    if (!cred_id || id_len == 0 || id_len > CA_PASSKEY_ID_MAX)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no passkey with this credential id");
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    err = passkey_load(t, rec, cred_id, id_len, eb);
    ca_store_abort(t);
    return err;
}

static int passkey_cmp(const void *x, const void *y)
{
    const ca_passkey *a = x, *b = y;
    if (a->created_at != b->created_at)
        return a->created_at < b->created_at ? -1 : 1;
    if (a->id_len != b->id_len)
        return a->id_len < b->id_len ? -1 : 1;
    return memcmp(a->cred_id, b->cred_id, a->id_len);
}

ca_err ca_passkey_list(ca_store *store, const char *user_id, ca_passkey **list, size_t *count,
                       ca_errbuf *eb)
{
    CA_ASSERT(store && list && count);
    *list = NULL;
    *count = 0;
    if (!id_valid(user_id))
        return ca_fail(eb, CA_ERR_INVALID, "not a user id (16 lowercase hex)");
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    passkey_acc acc = {.user_id = user_id, .keep = true};
    err = passkeys_of(t, &acc, eb);
    ca_store_abort(t);
    if (err)
        return err;
    if (acc.n > 1)
        qsort(acc.v, acc.n, sizeof *acc.v, passkey_cmp);
    *list = acc.v;
    *count = acc.n;
    return CA_OK;
}

typedef struct passkey_update_arg {
    const uint8_t *cred_id;
    size_t id_len;
    uint32_t count;
    int64_t now;
    ca_passkey *p; /* scratch, too large for the stack of every caller */
} passkey_update_arg;

static ca_err passkey_update_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    passkey_update_arg *a = arg;
    ca_err err = passkey_load(t, a->p, a->cred_id, a->id_len, eb);
    if (err)
        return err;
    if ((a->p->sign_count != 0 || a->count != 0) && a->count <= a->p->sign_count)
        return ca_fail(eb, CA_ERR_CONFLICT, "passkey of user %s: signature counter %u is not "
                                            "above the stored %u (cloned authenticator?)",
                       a->p->user_id, a->count, a->p->sign_count);
    a->p->sign_count = a->count;
    a->p->last_used_at = a->now;
    return passkey_save(t, a->p, eb);
}

ca_err ca_passkey_update_count(ca_store *store, const uint8_t *cred_id, size_t id_len,
                               uint32_t new_count, int64_t now, ca_errbuf *eb)
{
    CA_ASSERT(store);
    if (!cred_id || id_len == 0 || id_len > CA_PASSKEY_ID_MAX)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no passkey with this credential id");
    passkey_update_arg a = {cred_id, id_len, new_count, now, malloc(sizeof(ca_passkey))};
    if (!a.p)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_err err = ca_store_write(store, passkey_update_fn, &a, eb);
    free(a.p);
    return err;
}

typedef struct passkey_delete_arg {
    const char *user_id;
    const uint8_t *cred_id;
    size_t id_len;
    ca_passkey *p; /* scratch */
} passkey_delete_arg;

static ca_err passkey_delete_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    passkey_delete_arg *a = arg;
    ca_err err = passkey_load(t, a->p, a->cred_id, a->id_len, eb);
    if (err)
        return err;
    if (strcmp(a->p->user_id, a->user_id) != 0)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "user %s has no passkey with this credential id",
                       a->user_id);
    user_rec r;
    passkey_acc acc = {.user_id = a->user_id};
    if ((err = user_load(t, &r, a->user_id, eb)) || (err = passkeys_of(t, &acc, eb)))
        return err;
    if (r.u.state == CA_USER_ACTIVE && acc.n <= 1)
        return ca_fail(eb, CA_ERR_CONFLICT, "this is the last passkey of user %s", a->user_id);
    ca_hash k;
    passkey_key(&k, a->cred_id, a->id_len);
    err = ca_store_del(t, CA_TABLE_PASSKEYS, k.b, CA_HASH_SIZE);
    return err ? ca_fail(eb, err, "users: cannot delete the passkey") : CA_OK;
}

ca_err ca_passkey_delete(ca_store *store, const char *user_id, const uint8_t *cred_id,
                         size_t id_len, ca_errbuf *eb)
{
    CA_ASSERT(store);
    if (!id_valid(user_id))
        return ca_fail(eb, CA_ERR_INVALID, "not a user id (16 lowercase hex)");
    if (!cred_id || id_len == 0 || id_len > CA_PASSKEY_ID_MAX)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no passkey with this credential id");
    passkey_delete_arg a = {user_id, cred_id, id_len, malloc(sizeof(ca_passkey))};
    if (!a.p)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_err err = ca_store_write(store, passkey_delete_fn, &a, eb);
    free(a.p);
    return err;
}

/* ---- recovery codes -------------------------------------------------------------------------- */

/* Bounds on a stored cost, so that a damaged record cannot make one attempt take a gigabyte
 * or a minute; argon2 itself needs m >= 8 * lanes. */
static bool kdf_valid(const ca_recovery_kdf *k)
{
    return k->t_cost >= 1 && k->t_cost <= 16 && k->lanes >= 1 && k->lanes <= 4 &&
           k->m_cost >= 8 * k->lanes && k->m_cost <= 256 * 1024;
}

static ca_err rc_hash(uint8_t out[RC_HASH], const ca_recovery_kdf *k,
                      const uint8_t salt[RC_SALT], const char norm[RC_CHARS], ca_errbuf *eb)
{
    int rc = argon2id_hash_raw(k->t_cost, k->m_cost, k->lanes, norm, RC_CHARS, salt, RC_SALT,
                               out, RC_HASH);
    if (rc == ARGON2_OK)
        return CA_OK;
    return ca_fail(eb, rc == ARGON2_MEMORY_ALLOCATION_ERROR ? CA_ERR_NOMEM : CA_ERR_CRYPTO,
                   "users: argon2id failed: %s", argon2_error_message(rc));
}

/* The 12 canonical characters of a typed code: dashes, spaces and tabs dropped, upper case
 * folded, O read as 0 and I, L as 1 (Crockford). False when it is not a code. */
static bool rc_normalise(char out[RC_CHARS], const char *in)
{
    size_t n = 0;
    for (size_t i = 0; in && in[i]; i++) {
        char c = in[i];
        if (i >= RC_INPUT_MAX)
            return false;
        if (c == '-' || c == ' ' || c == '\t')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        c = c == 'o' ? '0' : (c == 'i' || c == 'l') ? '1' : c;
        if (n == RC_CHARS || !memchr(rc_alphabet, c, sizeof rc_alphabet - 1))
            return false;
        out[n++] = c;
    }
    return n == RC_CHARS;
}

/* Ten distinct random codes: canonical (norm) and as shown ("xxxx-xxxx-xxxx"). Each
 * character takes 5 bits of a random byte (256 is a multiple of 32: uniform). */
static ca_err rc_generate(char norm[CA_RECOVERY_CODES][RC_CHARS],
                          char shown[CA_RECOVERY_CODES][CA_RECOVERY_CODE_MAX], ca_errbuf *eb)
{
    uint8_t rnd[RC_CHARS];
    for (unsigned i = 0; i < CA_RECOVERY_CODES; i++) {
        bool dup = true;
        while (dup) {
            if (ca_random_bytes(rnd, sizeof rnd) != CA_OK)
                return ca_fail(eb, CA_ERR_CRYPTO, "users: the random number generator failed");
            for (unsigned j = 0; j < RC_CHARS; j++)
                norm[i][j] = rc_alphabet[rnd[j] & 31];
            dup = false;
            for (unsigned j = 0; j < i; j++)
                dup = dup || memcmp(norm[i], norm[j], RC_CHARS) == 0;
        }
        snprintf(shown[i], CA_RECOVERY_CODE_MAX, "%.4s-%.4s-%.4s", norm[i], norm[i] + 4,
                 norm[i] + 8);
    }
    ca_wipe(rnd, sizeof rnd);
    return CA_OK;
}

typedef struct rc_new_arg {
    const char *user_id;
    const recovery_set *set;
    int64_t now;
} rc_new_arg;

static ca_err rc_new_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    rc_new_arg *a = arg;
    user_rec r;
    ca_err err = user_load(t, &r, a->user_id, eb);
    if (err)
        return err;
    if (r.u.state == CA_USER_DISABLED)
        return ca_fail(eb, CA_ERR_PERMISSION, "user %s is disabled", a->user_id);
    r.rc = *a->set;
    r.u.recovery_created_at = a->now;
    r.u.updated_at = a->now;
    err = user_save(t, &r, eb);
    ca_wipe(&r, sizeof r);
    return err;
}

/* A new code set: codes, salt and their hashes under kdf. */
static ca_err rc_make_set(recovery_set *set, const ca_recovery_kdf *kdf,
                          char codes_out[CA_RECOVERY_CODES][CA_RECOVERY_CODE_MAX],
                          ca_errbuf *eb)
{
    char norm[CA_RECOVERY_CODES][RC_CHARS];
    memset(set, 0, sizeof *set);
    set->kdf = *kdf;
    set->count = CA_RECOVERY_CODES;
    ca_err err = rc_generate(norm, codes_out, eb);
    if (!err && ca_random_bytes(set->salt, RC_SALT) != CA_OK)
        err = ca_fail(eb, CA_ERR_CRYPTO, "users: the random number generator failed");
    for (unsigned i = 0; !err && i < CA_RECOVERY_CODES; i++)
        err = rc_hash(set->hash[i], kdf, set->salt, norm[i], eb);
    ca_wipe(norm, sizeof norm);
    return err;
}

ca_err ca_recovery_codes_new_kdf(ca_store *store, const ca_recovery_kdf *kdf,
                                 const char *user_id,
                                 char codes_out[CA_RECOVERY_CODES][CA_RECOVERY_CODE_MAX],
                                 ca_errbuf *eb)
{
    CA_ASSERT(store && kdf && codes_out);
    memset(codes_out, 0, CA_RECOVERY_CODES * CA_RECOVERY_CODE_MAX);
    if (!id_valid(user_id))
        return ca_fail(eb, CA_ERR_INVALID, "not a user id (16 lowercase hex)");
    if (!kdf_valid(kdf))
        return ca_fail(eb, CA_ERR_INVALID, "users: argon2id cost out of bounds");
    recovery_set *set = malloc(sizeof *set);
    if (!set)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_err err = rc_make_set(set, kdf, codes_out, eb);
    if (!err) {
        rc_new_arg a = {user_id, set, (int64_t)time(NULL)};
        err = ca_store_write(store, rc_new_fn, &a, eb);
    }
    ca_wipe(set, sizeof *set);
    free(set);
    if (err)
        ca_wipe(codes_out, CA_RECOVERY_CODES * CA_RECOVERY_CODE_MAX);
    return err;
}

ca_err ca_recovery_codes_new(ca_store *store, const char *user_id,
                             char codes_out[CA_RECOVERY_CODES][CA_RECOVERY_CODE_MAX],
                             ca_errbuf *eb)
{
    return ca_recovery_codes_new_kdf(store, &rc_kdf_default, user_id, codes_out, eb);
}

/* The user a recovery attempt names: an email (through the blind index) or an id, in t.
 * false when there is none. */
static bool rc_find_user(ca_store_txn *t, const ca_data_key *dk, const char *who,
                         char id[CA_USER_ID_MAX])
{
    if (!who)
        return false;
    if (!strchr(who, '@')) {
        if (!id_valid(who))
            return false;
        memcpy(id, who, CA_USER_ID_MAX);
        return true;
    }
    CA_ASSERT(dk); /* an email needs the data key */
    uint8_t blind[CA_BLIND_INDEX_LEN];
    ca_data_blind_email(dk, blind, who);
    ca_store_val v;
    if (ca_store_get(t, CA_TABLE_USER_EMAILS, blind, sizeof blind, &v) || v.len != ID_HEX)
        return false;
    memcpy(id, v.data, ID_HEX);
    id[ID_HEX] = '\0';
    return true;
}

/* What a recovery attempt works from: the user's id and code set, read before the slow
 * hash so that no write transaction waits for it. */
typedef struct rc_attempt {
    char user_id[CA_USER_ID_MAX];
    bool found;                 /* an active user with codes */
    ca_recovery_kdf kdf;
    uint8_t salt[RC_SALT];
    uint8_t hash[RC_HASH];      /* of the typed code */
    int64_t now;
} rc_attempt;

static ca_err rc_snapshot(ca_store *store, const ca_data_key *dk, rc_attempt *at,
                          const char *who, ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    user_rec r;
    if (rc_find_user(t, dk, who, at->user_id)) {
        err = user_load(t, &r, at->user_id, eb);
        at->found = !err && r.u.state == CA_USER_ACTIVE && r.rc.count > 0 &&
                    kdf_valid(&r.rc.kdf);
        if (err == CA_ERR_NOT_FOUND) /* an index entry without its user: nobody */
            err = CA_OK;
    }
    if (at->found) {
        at->kdf = r.rc.kdf;
        memcpy(at->salt, r.rc.salt, RC_SALT);
    }
    ca_store_abort(t);
    ca_wipe(&r, sizeof r);
    return err;
}

/* Marks the unused slot whose hash matches as used. Every slot is compared (constant time),
 * whatever matched before. */
static ca_err rc_use_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    rc_attempt *at = arg;
    user_rec r;
    ca_err err = user_load(t, &r, at->user_id, eb);
    if (err)
        return err == CA_ERR_NOT_FOUND ? ca_fail(eb, CA_ERR_PERMISSION, "recovery refused")
                                       : err;
    if (r.u.state != CA_USER_ACTIVE || r.rc.count == 0 ||
        memcmp(r.rc.salt, at->salt, RC_SALT) != 0)
        return ca_fail(eb, CA_ERR_PERMISSION, "recovery refused: user %s is not active or its "
                                              "codes changed", r.u.id);
    int slot = -1;
    for (unsigned i = 0; i < r.rc.count; i++) {
        bool eq = CRYPTO_memcmp(r.rc.hash[i], at->hash, RC_HASH) == 0;
        slot = eq && !r.rc.used[i] ? (int)i : slot;
    }
    if (slot < 0)
        return ca_fail(eb, CA_ERR_PERMISSION, "recovery refused: no unused code of user %s "
                                              "matches", r.u.id);
    r.rc.used[slot] = 1;
    r.u.must_enroll_passkey = true;
    r.u.updated_at = at->now;
    return user_save(t, &r, eb);
}

ca_err ca_recovery_code_use(ca_store *store, const ca_data_key *dk, char *user_id_out,
                            const char *who, const char *code, int64_t now, ca_errbuf *eb)
{
    CA_ASSERT(store && user_id_out);
    user_id_out[0] = '\0';
    char norm[RC_CHARS];
    if (!rc_normalise(norm, code))
        return ca_fail(eb, CA_ERR_PERMISSION, "recovery refused: not a recovery code");
    rc_attempt at = {.now = now};
    ca_err err = rc_snapshot(store, dk, &at, who, eb);
    if (!err && !at.found) {
        /* The same work as for a real person, so timing does not tell who has an account. */
        memset(at.salt, 0, RC_SALT);
        at.kdf = rc_kdf_default;
    }
    if (!err)
        err = rc_hash(at.hash, &at.kdf, at.salt, norm, eb);
    ca_wipe(norm, sizeof norm);
    if (!err && !at.found)
        err = ca_fail(eb, CA_ERR_PERMISSION, "recovery refused: unknown person, or not active "
                                             "with codes");
    if (!err)
        err = ca_store_write(store, rc_use_fn, &at, eb);
    if (!err)
        memcpy(user_id_out, at.user_id, CA_USER_ID_MAX);
    ca_wipe(&at, sizeof at);
    return err;
}

/* ---- sessions -------------------------------------------------------------------------------- */

/* The CSRF token of a session: base64url(HMAC-SHA256(cookie secret, CSRF_LABEL)), and
 * SHA-256 of that text for ca_session_csrf_ok (see the top of this file). */
static ca_err csrf_derive(char *token_out, ca_hash *token_hash, const uint8_t secret[SECRET_BYTES],
                          ca_errbuf *eb)
{
    uint8_t mac[32];
    unsigned mac_len = 0;
    char token[SECRET_B64 + 1];
    if (!HMAC(EVP_sha256(), secret, SECRET_BYTES, (const unsigned char *)CSRF_LABEL,
              strlen(CSRF_LABEL), mac, &mac_len) ||
        mac_len != sizeof mac)
        return ca_fail(eb, CA_ERR_CRYPTO, "users: HMAC-SHA256 failed");
    ca_base64url_encode(token, mac, sizeof mac);
    ca_sha256(token_hash, token, SECRET_B64);
    if (token_out)
        memcpy(token_out, token, sizeof token);
    ca_wipe(mac, sizeof mac);
    ca_wipe(token, sizeof token);
    return CA_OK;
}

/* Strict cookie syntax: 16 lowercase hex, '.', 43 canonical base64url chars of 32 bytes. */
static bool cookie_parse(char id[CA_USER_ID_MAX], uint8_t secret[SECRET_BYTES],
                         const char *cookie)
{
    if (!cookie || strnlen(cookie, COOKIE_LEN + 1) != COOKIE_LEN ||
        !ca_hex_is_lower(cookie, ID_HEX) || cookie[ID_HEX] != '.')
        return false;
    size_t n = SECRET_BYTES;
    if (ca_base64url_decode(secret, &n, cookie + ID_HEX + 1, SECRET_B64) != CA_OK ||
        n != SECRET_BYTES)
        return false;
    memcpy(id, cookie, ID_HEX);
    id[ID_HEX] = '\0';
    return true;
}

typedef struct session_create_arg {
    session_rec rec;
    bool id_taken;
} session_create_arg;

static ca_err session_create_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    session_create_arg *a = arg;
    user_rec r;
    ca_err err = user_load(t, &r, a->rec.s.user_id, eb);
    if (err)
        return err;
    if (r.u.state != CA_USER_ACTIVE)
        return ca_fail(eb, CA_ERR_PERMISSION, "user %s is %s: no session", r.u.id,
                       ca_user_state_name(r.u.state));
    ca_store_val v;
    err = ca_store_get(t, CA_TABLE_SESSIONS, a->rec.s.id, ID_HEX, &v);
    if (err == CA_OK) {
        a->id_taken = true;
        return CA_ERR_EXISTS;
    }
    if (err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, err, "users: cannot read the session table");
    return session_save(t, &a->rec, eb);
}

static ca_err session_args_check(const char *user_id, const char *client, const char *method,
                                 ca_errbuf *eb)
{
    if (!id_valid(user_id))
        return ca_fail(eb, CA_ERR_INVALID, "not a user id (16 lowercase hex)");
    if (!method_code(method))
        return ca_fail(eb, CA_ERR_INVALID, "unknown sign-in method (passkey, recovery, totp)");
    size_t len = strnlen(client, CA_SESSION_ADDR_MAX);
    if (len >= CA_SESSION_ADDR_MAX || !text_ok(client, len))
        return ca_fail(eb, CA_ERR_INVALID, "the client address is not short printable text");
    return CA_OK;
}

/* Draws ids and secrets until one id is free, then fills the outputs. */
static ca_err session_create_write(ca_store *store, session_create_arg *a, char *cookie_out,
                                   char *csrf_out, ca_hash *csrf_hash, ca_errbuf *eb)
{
    uint8_t secret[SECRET_BYTES];
    char text[SECRET_B64 + 1];
    ca_err err = CA_OK;
    for (int attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
        a->id_taken = false;
        if ((err = random_id(a->rec.s.id, eb)) || (err = random_secret(text, secret, eb)))
            break;
        ca_sha256(&a->rec.secret_hash, secret, SECRET_BYTES);
        if ((err = ca_store_write(store, session_create_fn, a, eb)) != CA_ERR_EXISTS ||
            !a->id_taken)
            break;
    }
    if (err == CA_ERR_EXISTS && a->id_taken)
        err = ca_fail(eb, CA_ERR_EXISTS, "users: no free session id after %d tries",
                      CREATE_ATTEMPTS);
    if (!err)
        err = csrf_derive(csrf_out, csrf_hash, secret, eb);
    if (!err)
        snprintf(cookie_out, CA_SESSION_COOKIE_MAX, "%s.%s", a->rec.s.id, text);
    ca_wipe(secret, sizeof secret);
    ca_wipe(text, sizeof text);
    return err;
}

ca_err ca_session_create(ca_store *store, ca_session *sess, char *cookie_out, char *csrf_out,
                         const char *user_id, const char *client, const char *method,
                         int64_t now, ca_errbuf *eb)
{
    CA_ASSERT(store && sess && cookie_out && csrf_out);
    memset(sess, 0, sizeof *sess);
    cookie_out[0] = csrf_out[0] = '\0';
    if (!client)
        client = "";
    ca_err err = session_args_check(user_id, client, method, eb);
    if (err)
        return err;
    session_create_arg a = {0};
    memcpy(a.rec.s.user_id, user_id, CA_USER_ID_MAX);
    snprintf(a.rec.s.method, sizeof a.rec.s.method, "%s", method);
    snprintf(a.rec.s.client, sizeof a.rec.s.client, "%s", client);
    a.rec.s.created_at = a.rec.s.last_seen_at = now;
    err = session_create_write(store, &a, cookie_out, csrf_out, &a.rec.s.csrf_hash, eb);
    if (err) {
        ca_wipe(cookie_out, CA_SESSION_COOKIE_MAX);
        ca_wipe(csrf_out, CA_SESSION_CSRF_MAX);
    } else {
        *sess = a.rec.s;
    }
    ca_wipe(&a, sizeof a);
    return err;
}

/* Reads session id and its user in one read transaction. *found: the session exists and
 * decodes; *user_found: so does its user. */
static ca_err session_lookup(ca_store *store, const char *id, session_rec *sr, user_rec *ur,
                             bool *found, bool *user_found, ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    ca_store_val v;
    *found = ca_store_get(t, CA_TABLE_SESSIONS, id, ID_HEX, &v) == CA_OK &&
             session_decode(sr, id, ID_HEX, &v);
    ca_errbuf ignore;
    *user_found = *found && user_load(t, ur, sr->s.user_id, &ignore) == CA_OK;
    ca_store_abort(t);
    return CA_OK;
}

/* Whether a matching session may be used at now. */
static ca_err session_valid(const session_rec *sr, const user_rec *ur, bool user_found,
                            int64_t now, int64_t idle, int64_t absolute, ca_errbuf *eb)
{
    const char *id = sr->s.id;
    if (sr->s.revoked_at != 0)
        return ca_fail(eb, CA_ERR_PERMISSION, "session %s refused: revoked", id);
    if (now - sr->s.created_at >= absolute)
        return ca_fail(eb, CA_ERR_PERMISSION, "session %s refused: expired", id);
    if (now - sr->s.last_seen_at >= idle)
        return ca_fail(eb, CA_ERR_PERMISSION, "session %s refused: idle for too long", id);
    if (!user_found)
        return ca_fail(eb, CA_ERR_PERMISSION, "session %s refused: its user is gone", id);
    if (ur->u.state != CA_USER_ACTIVE)
        return ca_fail(eb, CA_ERR_PERMISSION, "session %s refused: user %s is %s", id,
                       ur->u.id, ca_user_state_name(ur->u.state));
    return CA_OK;
}

typedef struct session_seen_arg {
    session_rec rec; /* in: the id; out: the record as written */
    int64_t now;
} session_seen_arg;

static ca_err session_seen_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    session_seen_arg *a = arg;
    char id[CA_USER_ID_MAX];
    memcpy(id, a->rec.s.id, CA_USER_ID_MAX);
    ca_err err = session_load(t, &a->rec, id, eb);
    if (err)
        return err == CA_ERR_NOT_FOUND
                   ? ca_fail(eb, CA_ERR_PERMISSION, "session %s refused: gone", id)
                   : err;
    if (a->rec.s.revoked_at != 0) /* revoked since it was read */
        return ca_fail(eb, CA_ERR_PERMISSION, "session %s refused: revoked", id);
    if (a->now <= a->rec.s.last_seen_at)
        return CA_OK;
    a->rec.s.last_seen_at = a->now;
    return session_save(t, &a->rec, eb);
}

ca_err ca_session_check(ca_store *store, ca_session *sess, ca_user *user, const char *cookie,
                        int64_t now, int64_t idle_timeout, int64_t absolute_timeout,
                        ca_errbuf *eb)
{
    CA_ASSERT(store && sess && user && idle_timeout > 0 && absolute_timeout > 0);
    memset(sess, 0, sizeof *sess);
    memset(user, 0, sizeof *user);
    char id[CA_USER_ID_MAX];
    uint8_t secret[SECRET_BYTES];
    ca_hash presented, csrf;
    ca_err err = CA_OK;
    if (!cookie_parse(id, secret, cookie))
        err = ca_fail(eb, CA_ERR_PERMISSION, "session refused: malformed cookie");
    if (!err) {
        ca_sha256(&presented, secret, SECRET_BYTES);
        err = csrf_derive(NULL, &csrf, secret, eb);
    }
    ca_wipe(secret, sizeof secret);
    if (err)
        return err;
    session_rec sr;
    user_rec ur;
    bool found, user_found;
    if ((err = session_lookup(store, id, &sr, &ur, &found, &user_found, eb)))
        return err;
    /* An unknown id is compared against a hash no secret has: one path, one message. */
    if (!found)
        memset(&sr.secret_hash, 0xff, sizeof sr.secret_hash);
    bool match = CRYPTO_memcmp(presented.b, sr.secret_hash.b, CA_HASH_SIZE) == 0 && found;
    ca_wipe(&presented, sizeof presented);
    if (!match)
        return ca_fail(eb, CA_ERR_PERMISSION, "session refused: unknown session or wrong "
                                              "secret");
    if ((err = session_valid(&sr, &ur, user_found, now, idle_timeout, absolute_timeout, eb)))
        return err;
    if (now - sr.s.last_seen_at >= CA_SESSION_SEEN_INTERVAL) {
        session_seen_arg a = {.rec = sr, .now = now};
        if ((err = ca_store_write(store, session_seen_fn, &a, eb)))
            return err;
        sr = a.rec;
    }
    *sess = sr.s;
    sess->csrf_hash = csrf;
    return user_export(user, &ur, NULL, eb);
}

ca_err ca_session_csrf_token(char *csrf_out, const char *cookie)
{
    char id[CA_USER_ID_MAX];
    uint8_t secret[SECRET_BYTES];
    ca_hash h;
    ca_errbuf eb = {{0}};
    csrf_out[0] = '\0';
    if (!cookie_parse(id, secret, cookie))
        return CA_ERR_INVALID;
    ca_err err = csrf_derive(csrf_out, &h, secret, &eb);
    ca_wipe(secret, sizeof secret);
    return err;
}

bool ca_session_csrf_ok(const ca_session *sess, const char *token)
{
    if (!sess || !token || hash_is_zero(&sess->csrf_hash))
        return false;
    if (strnlen(token, CA_SESSION_CSRF_MAX) != SECRET_B64) /* the length is public */
        return false;
    ca_hash h;
    ca_sha256(&h, token, SECRET_B64);
    return CRYPTO_memcmp(h.b, sess->csrf_hash.b, CA_HASH_SIZE) == 0;
}

/* ---- listing, revoking and pruning sessions -------------------------------------------------- */

typedef struct session_acc {
    const char *user_id; /* NULL: all */
    ca_session *v;
    size_t n, cap;
    ca_err err;
} session_acc;

static bool session_acc_fn(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    session_acc *a = arg;
    session_rec r;
    if (!session_decode(&r, key->data, key->len, val)) {
        a->err = CA_ERR_STORE;
        return false;
    }
    if (a->user_id && strcmp(a->user_id, r.s.user_id) != 0)
        return true;
    void *grown = grow_for_one(a->v, &a->cap, a->n, sizeof *a->v);
    if (!grown) {
        a->err = CA_ERR_NOMEM;
        return false;
    }
    a->v = grown;
    a->v[a->n++] = r.s;
    return true;
}

static int session_cmp(const void *x, const void *y)
{
    const ca_session *a = x, *b = y;
    if (a->created_at != b->created_at)
        return a->created_at < b->created_at ? -1 : 1;
    return strcmp(a->id, b->id);
}

ca_err ca_session_list(ca_store *store, const char *user_id, ca_session **list, size_t *count,
                       ca_errbuf *eb)
{
    CA_ASSERT(store && list && count);
    *list = NULL;
    *count = 0;
    if (user_id && !id_valid(user_id))
        return ca_fail(eb, CA_ERR_INVALID, "not a user id (16 lowercase hex)");
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    session_acc a = {.user_id = user_id};
    err = ca_store_scan(t, CA_TABLE_SESSIONS, NULL, 0, session_acc_fn, &a);
    ca_store_abort(t);
    if (!err)
        err = a.err;
    if (err) {
        free(a.v);
        return ca_fail(eb, err, err == CA_ERR_NOMEM ? "out of memory listing sessions"
                                : err == CA_ERR_STORE ? "users: a session record is corrupt"
                                                      : "users: cannot read the session table");
    }
    if (a.n > 1)
        qsort(a.v, a.n, sizeof *a.v, session_cmp);
    *list = a.v;
    *count = a.n;
    return CA_OK;
}

typedef struct session_revoke_arg {
    const char *id, *owner;
    int64_t now;
    size_t count;
} session_revoke_arg;

static ca_err session_revoke_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    session_revoke_arg *a = arg;
    return session_revoke_in(t, a->id, a->owner, a->now, eb);
}

ca_err ca_session_revoke(ca_store *store, const char *session_id, const char *owner_user_id,
                         int64_t now, ca_errbuf *eb)
{
    CA_ASSERT(store);
    if (!id_valid(session_id) || (owner_user_id && !id_valid(owner_user_id)))
        return ca_fail(eb, CA_ERR_INVALID, "not a session or user id (16 lowercase hex)");
    session_revoke_arg a = {session_id, owner_user_id, now, 0};
    return ca_store_write(store, session_revoke_fn, &a, eb);
}

static ca_err sessions_revoke_user_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    session_revoke_arg *a = arg;
    return revoke_sessions_of_one(t, a->owner, a->now, &a->count, eb);
}

ca_err ca_sessions_revoke_user(ca_store *store, const char *user_id, int64_t now,
                               size_t *revoked, ca_errbuf *eb)
{
    CA_ASSERT(store);
    if (revoked)
        *revoked = 0;
    if (!id_valid(user_id))
        return ca_fail(eb, CA_ERR_INVALID, "not a user id (16 lowercase hex)");
    session_revoke_arg a = {NULL, user_id, now, 0};
    ca_err err = ca_store_write(store, sessions_revoke_user_fn, &a, eb);
    if (!err && revoked)
        *revoked = a.count;
    return err;
}

typedef struct prune_ctx {
    int64_t now, absolute;
} prune_ctx;

static bool prunable(const session_rec *r, const void *ctx)
{
    const prune_ctx *p = ctx;
    return r->s.revoked_at != 0 || p->now - r->s.created_at >= p->absolute;
}

typedef struct prune_arg {
    prune_ctx ctx;
    size_t removed;
} prune_arg;

static ca_err prune_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    prune_arg *a = arg;
    session_pick p = {.pred = prunable, .ctx = &a->ctx};
    ca_err err = sessions_pick(t, &p, eb);
    for (size_t i = 0; !err && i < p.n; i++)
        if ((err = ca_store_del(t, CA_TABLE_SESSIONS, p.ids[i], ID_HEX)))
            err = ca_fail(eb, err, "users: cannot delete session %s", p.ids[i]);
    a->removed = err ? 0 : p.n;
    free(p.ids);
    return err;
}

ca_err ca_sessions_prune(ca_store *store, int64_t now, int64_t absolute_timeout,
                         size_t *removed, ca_errbuf *eb)
{
    CA_ASSERT(store && absolute_timeout > 0);
    prune_arg a = {{now, absolute_timeout}, 0};
    ca_err err = ca_store_write(store, prune_fn, &a, eb);
    if (removed)
        *removed = err ? 0 : a.removed;
    return err;
}

/* ---- users: reading -------------------------------------------------------------------------- */

static int user_cmp(const void *x, const void *y)
{
    const ca_user *a = x, *b = y;
    if (a->created_at != b->created_at)
        return a->created_at < b->created_at ? -1 : 1;
    return strcmp(a->id, b->id);
}

ca_err ca_user_list(ca_store *store, const ca_data_key *dk, ca_user **list, size_t *count,
                    ca_errbuf *eb)
{
    CA_ASSERT(store && list && count);
    *list = NULL;
    *count = 0;
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    user_acc acc;
    err = users_collect(t, &acc, eb);
    ca_store_abort(t);
    if (err)
        return err;
    ca_user *v = calloc(acc.n ? acc.n : 1, sizeof *v);
    if (!v)
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory listing users");
    for (size_t i = 0; !err && i < acc.n; i++)
        err = user_export(&v[i], &acc.v[i], dk, eb);
    ca_wipe(acc.v, acc.n * sizeof *acc.v);
    free(acc.v);
    if (err) {
        if (v)
            ca_wipe(v, (acc.n ? acc.n : 1) * sizeof *v);
        free(v);
        return err;
    }
    if (acc.n > 1)
        qsort(v, acc.n, sizeof *v, user_cmp);
    *list = v;
    *count = acc.n;
    return CA_OK;
}

ca_err ca_user_get(ca_store *store, const ca_data_key *dk, ca_user *user, const char *id,
                   ca_errbuf *eb)
{
    CA_ASSERT(store && user);
    memset(user, 0, sizeof *user);
    if (!id_valid(id))
        return ca_fail(eb, CA_ERR_INVALID, "not a user id (16 lowercase hex)");
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    user_rec r;
    err = user_load(t, &r, id, eb);
    ca_store_abort(t);
    if (!err)
        err = user_export(user, &r, dk, eb);
    return err;
}

ca_err ca_user_find_by_email(ca_store *store, const ca_data_key *dk, ca_user *user,
                             const char *email, ca_errbuf *eb)
{
    CA_ASSERT(store && dk && user);
    memset(user, 0, sizeof *user);
    if (!email)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no user with this email");
    uint8_t blind[CA_BLIND_INDEX_LEN];
    ca_data_blind_email(dk, blind, email);
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    ca_store_val v;
    char id[CA_USER_ID_MAX] = {0};
    err = ca_store_get(t, CA_TABLE_USER_EMAILS, blind, sizeof blind, &v);
    if (err == CA_ERR_NOT_FOUND)
        err = ca_fail(eb, CA_ERR_NOT_FOUND, "no user with this email");
    else if (err)
        err = ca_fail(eb, err, "users: cannot read the email index");
    else if (v.len != ID_HEX)
        err = ca_fail(eb, CA_ERR_STORE, "users: an email index entry is corrupt");
    else
        memcpy(id, v.data, ID_HEX);
    user_rec r;
    if (!err)
        err = user_load(t, &r, id, eb);
    ca_store_abort(t);
    if (!err)
        err = user_export(user, &r, dk, eb);
    return err;
}

/* ---- users: changes -------------------------------------------------------------------------- */

/* One change to one user, applied by op to the loaded record, which is then saved. */
typedef struct user_update user_update;
typedef ca_err (*user_op)(ca_store_txn *t, user_rec *r, const user_update *u, ca_errbuf *eb);
struct user_update {
    const char *id;
    int64_t now;
    user_op op;
    unsigned roles;
    bool flag;
    const char *reason;
};

static ca_err user_update_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    const user_update *u = arg;
    user_rec r;
    ca_err err = user_load(t, &r, u->id, eb);
    if (!err)
        err = u->op(t, &r, u, eb);
    if (!err)
        err = user_save(t, &r, eb);
    return err;
}

static ca_err user_update_run(ca_store *store, user_update *u, ca_errbuf *eb)
{
    CA_ASSERT(store);
    if (!id_valid(u->id))
        return ca_fail(eb, CA_ERR_INVALID, "not a user id (16 lowercase hex)");
    return ca_store_write(store, user_update_fn, u, eb);
}

static ca_err op_set_roles(ca_store_txn *t, user_rec *r, const user_update *u, ca_errbuf *eb)
{
    if (!(u->roles & (1u << CA_ROLE_ADMIN))) {
        ca_err err = refuse_last_admin(t, r, "demoted", eb);
        if (err)
            return err;
    }
    r->u.roles = u->roles;
    r->u.updated_at = u->now;
    return CA_OK;
}

ca_err ca_user_set_roles(ca_store *store, const char *id, unsigned roles, int64_t now,
                         ca_errbuf *eb)
{
    if (!roles_valid(roles))
        return ca_fail(eb, CA_ERR_INVALID, "roles 0x%x: at least one, and only known ones",
                       roles);
    user_update u = {.id = id, .now = now, .op = op_set_roles, .roles = roles};
    return user_update_run(store, &u, eb);
}

static ca_err op_set_totp(ca_store_txn *t, user_rec *r, const user_update *u, ca_errbuf *eb)
{
    (void)t;
    (void)eb;
    r->u.totp_allowed = u->flag;
    r->u.updated_at = u->now;
    return CA_OK;
}

ca_err ca_user_set_totp_allowed(ca_store *store, const char *id, bool allowed, int64_t now,
                                ca_errbuf *eb)
{
    user_update u = {.id = id, .now = now, .op = op_set_totp, .flag = allowed};
    return user_update_run(store, &u, eb);
}

/* Disables r in t with reason and revokes its sessions (the last active admin refused). */
static ca_err disable_in(ca_store_txn *t, user_rec *r, const char *reason, int64_t now,
                         ca_errbuf *eb)
{
    if (r->u.state == CA_USER_DISABLED)
        return CA_OK; /* keep the first time and reason */
    ca_err err = refuse_last_admin(t, r, "disabled", eb);
    if (err)
        return err;
    r->u.state = CA_USER_DISABLED;
    r->u.disabled_at = now > 0 ? now : 1;
    r->u.updated_at = now;
    snprintf(r->u.disabled_reason, sizeof r->u.disabled_reason, "%s", reason);
    return revoke_sessions_of_one(t, r->u.id, now, NULL, eb);
}

static ca_err op_disable(ca_store_txn *t, user_rec *r, const user_update *u, ca_errbuf *eb)
{
    return disable_in(t, r, u->reason, u->now, eb);
}

ca_err ca_user_disable(ca_store *store, const char *id, const char *reason, int64_t now,
                       ca_errbuf *eb)
{
    if (!reason || !*reason)
        return ca_fail(eb, CA_ERR_INVALID, "a reason is needed to disable a user");
    size_t len = strnlen(reason, CA_USER_REASON_MAX);
    if (len > REASON_MAX_BYTES)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "the reason is longer than %d bytes",
                       REASON_MAX_BYTES);
    if (!text_ok(reason, len))
        return ca_fail(eb, CA_ERR_INVALID, "the reason is not UTF-8 or holds control "
                                           "characters");
    user_update u = {.id = id, .now = now, .op = op_disable, .reason = reason};
    return user_update_run(store, &u, eb);
}

static ca_err op_enable(ca_store_txn *t, user_rec *r, const user_update *u, ca_errbuf *eb)
{
    (void)t;
    (void)eb;
    if (r->u.state != CA_USER_DISABLED)
        return CA_OK;
    r->u.state = r->u.activated_at ? CA_USER_ACTIVE : CA_USER_INVITED;
    if (r->u.state == CA_USER_ACTIVE)
        r->u.activated_at = u->now; /* the inactivity clock restarts */
    r->u.disabled_at = 0;
    r->u.disabled_reason[0] = '\0';
    r->u.updated_at = u->now;
    return CA_OK;
}

ca_err ca_user_enable(ca_store *store, const char *id, int64_t now, ca_errbuf *eb)
{
    user_update u = {.id = id, .now = now, .op = op_enable};
    return user_update_run(store, &u, eb);
}

static ca_err op_sign_in(ca_store_txn *t, user_rec *r, const user_update *u, ca_errbuf *eb)
{
    (void)t;
    if (r->u.state != CA_USER_ACTIVE)
        return ca_fail(eb, CA_ERR_PERMISSION, "user %s is %s", r->u.id,
                       ca_user_state_name(r->u.state));
    r->u.last_sign_in_at = u->now;
    return CA_OK;
}

ca_err ca_user_record_sign_in(ca_store *store, const char *id, int64_t now, ca_errbuf *eb)
{
    user_update u = {.id = id, .now = now, .op = op_sign_in};
    return user_update_run(store, &u, eb);
}

/* ---- inactivity ------------------------------------------------------------------------------ */

typedef struct inactive_arg {
    int64_t now, limit; /* seconds without a sign-in */
    char reason[CA_USER_REASON_MAX];
    ca_user *out;
    char (*ids)[CA_USER_ID_MAX];
    size_t n;
} inactive_arg;

static bool inactive(const ca_user *u, int64_t now, int64_t limit)
{
    int64_t since = u->last_sign_in_at > u->activated_at ? u->last_sign_in_at : u->activated_at;
    return u->state == CA_USER_ACTIVE && now - since >= limit;
}

/* Disables the inactive users of acc in t, sparing the last active admin. */
static ca_err disable_inactive_in(ca_store_txn *t, inactive_arg *a, user_acc *acc,
                                  ca_errbuf *eb)
{
    size_t admins = 0;
    for (size_t i = 0; i < acc->n; i++)
        admins += acc->v[i].u.state == CA_USER_ACTIVE && is_admin(&acc->v[i].u);
    for (size_t i = 0; i < acc->n; i++) {
        user_rec *r = &acc->v[i];
        if (!inactive(&r->u, a->now, a->limit) || (is_admin(&r->u) && admins <= 1))
            continue;
        admins -= is_admin(&r->u);
        r->u.state = CA_USER_DISABLED;
        r->u.disabled_at = a->now > 0 ? a->now : 1;
        r->u.updated_at = a->now;
        snprintf(r->u.disabled_reason, sizeof r->u.disabled_reason, "%s", a->reason);
        ca_err err = user_save(t, r, eb);
        if (err)
            return err;
        a->out[a->n] = r->u;
        memcpy(a->ids[a->n++], r->u.id, CA_USER_ID_MAX);
    }
    id_list l = {(const char(*)[CA_USER_ID_MAX])a->ids, a->n};
    return revoke_sessions_of(t, &l, a->now, NULL, eb);
}

static ca_err inactive_fn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    inactive_arg *a = arg;
    free(a->out); /* a re-run starts over */
    free(a->ids);
    a->out = NULL;
    a->ids = NULL;
    a->n = 0;
    user_acc acc;
    ca_err err = users_collect(t, &acc, eb);
    if (err)
        return err;
    a->out = calloc(acc.n ? acc.n : 1, sizeof *a->out);
    a->ids = calloc(acc.n ? acc.n : 1, sizeof *a->ids);
    if (!a->out || !a->ids)
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    if (!err)
        err = disable_inactive_in(t, a, &acc, eb);
    free(acc.v);
    return err;
}

ca_err ca_users_disable_inactive(ca_store *store, int64_t now, int inactive_days,
                                 ca_user **disabled, size_t *count, ca_errbuf *eb)
{
    CA_ASSERT(store && disabled && count);
    *disabled = NULL;
    *count = 0;
    if (inactive_days < 1)
        return ca_fail(eb, CA_ERR_RANGE, "inactive_days must be at least 1");
    inactive_arg a = {.now = now, .limit = (int64_t)inactive_days * 86400};
    snprintf(a.reason, sizeof a.reason, "no sign-in for %d days", inactive_days);
    ca_err err = ca_store_write(store, inactive_fn, &a, eb);
    free(a.ids);
    if (err || a.n == 0) {
        free(a.out);
        return err;
    }
    *disabled = a.out;
    *count = a.n;
    return CA_OK;
}
