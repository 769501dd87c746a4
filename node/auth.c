/*
 * node/auth.c — API tokens with roles and the hash-chained audit log (SPEC §3; contract:
 * node/auth.h).
 *
 * Token text: "ca_" || 16 lowercase hex (the id: 8 random bytes) || "_" || 43 base64url chars
 * (32 random bytes, no padding) = 63 characters. Only SHA-256 of the whole text is stored.
 *
 * Table `tokens`: key = the 16-char ASCII id; value = a fixed binary record, big-endian:
 *   [0]      u8   record version (1)
 *   [1]      u8   role (ca_role)
 *   [2..33]  32   SHA-256 of the token text
 *   [34..41] i64  created_at (unix seconds)
 *   [42..49] i64  expires_at (0 = never)
 *   [50..57] i64  revoked_at (0 = not revoked)
 *   [58..]   the name, UTF-8 without NUL, at most CA_TOKEN_NAME_MAX - 1 bytes
 * A record that does not decode is treated like an unknown id by check, and fails list.
 *
 * Table `audit`: key = u64 BE sequence number, starting at 1; value = one compact JSON object
 * with the keys in this order:
 *   {"seq":N,"time":"YYYY-MM-DDTHH:MM:SSZ","tokenId":"<id>"|"cli","role":"<role>"|null,
 *    "method":"POST"|<CLI verb>,"route":"...","status":N,"detail":"..."|null,"prev":"<hex>"}
 * where prev is the lowercase hex SHA-256 of the previous entry's value bytes exactly as
 * stored (64 zeros for entry 1). Plus one head record under the 1-byte key 0x00 (it sorts
 * before every 8-byte sequence key, so MDB_APPEND and ca_store_last still see entries only):
 * u64 BE last sequence || SHA-256 of the last entry's value. Without the head, editing or
 * dropping the newest entry would leave an intact-looking chain; appends chain to the head
 * (not to whatever entry is last), so a later append does not paper over such an edit. The chain and head are
 * tamper-evident against partial edits, not against someone who rewrites the whole table.
 */
#include "node/auth.h"

#include "credanchor/credential.h"
#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "credanchor/group_commit.h"
#include "credanchor/json_fields.h"
#include "node/node_log.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOKEN_PREFIX "ca_"
#define TOKEN_PREFIX_LEN 3
#define TOKEN_ID_HEX 16
#define TOKEN_SECRET_BYTES 32
#define TOKEN_SECRET_B64 43
#define TOKEN_LEN (TOKEN_PREFIX_LEN + TOKEN_ID_HEX + 1 + TOKEN_SECRET_B64) /* 63 */

#define RECORD_VERSION 1
#define RECORD_FIXED 58
#define RECORD_MAX (RECORD_FIXED + CA_TOKEN_NAME_MAX - 1)

#define CREATE_ATTEMPTS 8 /* fresh random ids tried if one is taken (2^-64 odds each) */

#define AUDIT_HEAD_KEY_LEN 1
static const uint8_t audit_head_key[AUDIT_HEAD_KEY_LEN] = {0x00};
#define AUDIT_HEAD_LEN (8 + CA_HASH_SIZE)
#define AUDIT_METHOD_MAX 64
#define AUDIT_ROUTE_MAX 512
#define AUDIT_DETAIL_MAX 1024

_Static_assert(TOKEN_LEN < CA_TOKEN_MAX, "CA_TOKEN_MAX holds a token and its NUL");
_Static_assert(TOKEN_ID_HEX < CA_TOKEN_ID_MAX, "CA_TOKEN_ID_MAX holds an id and its NUL");

/* ---- roles and durations --------------------------------------------------------------------- */

static const char *const role_names[] = {
    [CA_ROLE_ADMIN] = "admin",
    [CA_ROLE_ISSUER] = "issuer",
    [CA_ROLE_REVOKER] = "revoker",
    [CA_ROLE_AUDITOR] = "auditor",
};

static bool role_valid(int role)
{
    return role >= CA_ROLE_ADMIN && role <= CA_ROLE_AUDITOR;
}

const char *ca_token_status(const ca_token_info *t, int64_t now)
{
    if (t->revoked_at)
        return "revoked";
    if (t->expires_at && now >= t->expires_at)
        return "expired";
    return "active";
}

json_t *ca_json_time(int64_t t)
{
    char s[CA_DATETIME_MAX];
    if (t <= 0)
        return json_null();
    ca_datetime_format(s, t);
    return json_string(s);
}

json_t *ca_json_time_of(const json_t *record, const char *k)
{
    const json_t *v = json_object_get(record, k);
    return json_is_integer(v) ? ca_json_time((int64_t)json_integer_value(v)) : json_null();
}

json_t *ca_token_json(const ca_token_info *t, int64_t now)
{
    return json_pack("{s:s, s:s, s:s?, s:o, s:o, s:o, s:s}", "id", t->id, "role",
                     ca_role_name(t->role), "name", t->name[0] ? t->name : NULL, "createdAt",
                     ca_json_time(t->created_at), "expiresAt", ca_json_time(t->expires_at),
                     "revokedAt", ca_json_time(t->revoked_at), "status",
                     ca_token_status(t, now));
}

const char *ca_role_name(ca_role role)
{
    return role_valid((int)role) ? role_names[role] : "unknown";
}

bool ca_caller_has_role(const ca_token_info *caller, ca_role role)
{
    unsigned have = caller->roles ? caller->roles : 1u << caller->role;
    return (have & (1u << CA_ROLE_ADMIN)) || (have & (1u << role));
}

ca_err ca_role_parse(ca_role *role, const char *name)
{
    CA_ASSERT(role);
    for (int r = CA_ROLE_ADMIN; name && r <= CA_ROLE_AUDITOR; r++)
        if (strcmp(name, role_names[r]) == 0) {
            *role = (ca_role)r;
            return CA_OK;
        }
    return CA_ERR_INVALID;
}

/* Digits, then at most one unit letter. CA_ERR_INVALID for anything else (signs, spaces,
 * fractions, upper-case units), CA_ERR_RANGE for zero and for values past INT64_MAX. */
ca_err ca_duration_parse(int64_t *seconds, const char *text)
{
    CA_ASSERT(seconds);
    if (!text || !*text)
        return CA_ERR_INVALID;
    size_t n = 0;
    while (text[n] >= '0' && text[n] <= '9')
        n++;
    if (n == 0)
        return CA_ERR_INVALID;
    int64_t unit;
    switch (text[n]) {
    case '\0': unit = 1; break;
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return CA_ERR_INVALID;
    }
    if (text[n] && text[n + 1])
        return CA_ERR_INVALID;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = text[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return CA_ERR_RANGE;
        v = v * 10 + d;
    }
    if (v == 0)
        return CA_ERR_RANGE;
    if (v > INT64_MAX / unit)
        return CA_ERR_RANGE;
    *seconds = v * unit;
    return CA_OK;
}

/* ---- token records --------------------------------------------------------------------------- */

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
    return id && strlen(id) == TOKEN_ID_HEX && ca_hex_is_lower(id, TOKEN_ID_HEX);
}

/* Printable text without control characters: names show up in `token list`. */
static bool name_valid(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static size_t record_encode(uint8_t out[RECORD_MAX], const ca_token_info *info,
                            const ca_hash *hash)
{
    out[0] = RECORD_VERSION;
    out[1] = (uint8_t)info->role;
    memcpy(out + 2, hash->b, CA_HASH_SIZE);
    put_i64(out + 34, info->created_at);
    put_i64(out + 42, info->expires_at);
    put_i64(out + 50, info->revoked_at);
    size_t name_len = strlen(info->name);
    memcpy(out + RECORD_FIXED, info->name, name_len);
    return RECORD_FIXED + name_len;
}

/* Decodes a record stored under id; false when it is malformed. */
static bool record_decode(ca_token_info *info, ca_hash *hash, const char *id, size_t id_len,
                          const ca_store_val *val)
{
    const uint8_t *p = val->data;
    if (val->len < RECORD_FIXED || val->len > RECORD_MAX || p[0] != RECORD_VERSION ||
        !role_valid(p[1]) || id_len != TOKEN_ID_HEX)
        return false;
    memset(info, 0, sizeof *info);
    memcpy(info->id, id, TOKEN_ID_HEX);
    info->role = (ca_role)p[1];
    if (hash)
        memcpy(hash->b, p + 2, CA_HASH_SIZE);
    info->created_at = get_i64(p + 34);
    info->expires_at = get_i64(p + 42);
    info->revoked_at = get_i64(p + 50);
    size_t name_len = val->len - RECORD_FIXED;
    memcpy(info->name, p + RECORD_FIXED, name_len);
    info->name[name_len] = '\0';
    return memchr(info->name, '\0', name_len) == NULL;
}

/* ---- create ---------------------------------------------------------------------------------- */

typedef struct create_arg {
    const ca_token_info *info;
    const ca_hash *hash;
} create_arg;

static ca_err create_fn(ca_store_txn *txn, void *arg, ca_errbuf *eb)
{
    create_arg *a = arg;
    ca_store_val old;
    ca_err err = ca_store_get(txn, CA_TABLE_TOKENS, a->info->id, TOKEN_ID_HEX, &old);
    if (err == CA_OK)
        return CA_ERR_EXISTS; /* the caller draws a new id */
    if (err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, err, "auth: cannot read the token table");
    uint8_t rec[RECORD_MAX];
    size_t len = record_encode(rec, a->info, a->hash);
    err = ca_store_put(txn, CA_TABLE_TOKENS, a->info->id, TOKEN_ID_HEX, rec, len);
    return err ? ca_fail(eb, err, "auth: cannot store the token") : CA_OK;
}

ca_err ca_token_create(ca_store *store, char *token_out, ca_token_info *info, ca_role role,
                       int64_t expires_at, const char *name, ca_errbuf *eb)
{
    CA_ASSERT(store && token_out && info);
    token_out[0] = '\0';
    if (!role_valid((int)role))
        return ca_fail(eb, CA_ERR_INVALID, "unknown role %d", (int)role);
    if (expires_at < 0)
        return ca_fail(eb, CA_ERR_RANGE, "the expiry time is negative");
    if (!name)
        name = "";
    if (strlen(name) >= CA_TOKEN_NAME_MAX)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "the token name is longer than %d bytes",
                       CA_TOKEN_NAME_MAX - 1);
    if (!name_valid(name))
        return ca_fail(eb, CA_ERR_INVALID, "the token name holds control characters");

    ca_token_info t = {0};
    t.role = role;
    t.created_at = (int64_t)time(NULL);
    t.expires_at = expires_at;
    snprintf(t.name, sizeof t.name, "%s", name);

    uint8_t raw[8 + TOKEN_SECRET_BYTES];
    char text[CA_TOKEN_MAX];
    ca_hash hash;
    ca_err err = CA_ERR_EXISTS;
    for (int attempt = 0; attempt < CREATE_ATTEMPTS && err == CA_ERR_EXISTS; attempt++) {
        if (ca_random_bytes(raw, sizeof raw) != CA_OK) {
            err = ca_fail(eb, CA_ERR_CRYPTO, "auth: the random number generator failed");
            break;
        }
        ca_hex_encode(t.id, raw, 8);
        char secret[TOKEN_SECRET_B64 + 1];
        ca_base64url_encode(secret, raw + 8, TOKEN_SECRET_BYTES);
        snprintf(text, sizeof text, TOKEN_PREFIX "%s_%s", t.id, secret);
        ca_wipe(secret, sizeof secret);
        ca_sha256(&hash, text, TOKEN_LEN);
        create_arg a = {&t, &hash};
        err = ca_store_write(store, create_fn, &a, eb);
    }
    if (err == CA_ERR_EXISTS)
        err = ca_fail(eb, CA_ERR_EXISTS, "auth: no free token id after %d tries",
                      CREATE_ATTEMPTS);
    if (!err) {
        memcpy(token_out, text, TOKEN_LEN + 1);
        *info = t;
    }
    ca_wipe(raw, sizeof raw);
    ca_wipe(text, sizeof text);
    ca_wipe(&hash, sizeof hash);
    return err;
}

/* ---- list ------------------------------------------------------------------------------------ */

typedef struct list_acc {
    ca_token_info *v;
    size_t n, cap;
    ca_err err;
} list_acc;

static bool list_fn(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    list_acc *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        ca_token_info *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->err = CA_ERR_NOMEM;
            return false;
        }
        l->v = v;
        l->cap = cap;
    }
    if (!record_decode(&l->v[l->n], NULL, key->data, key->len, val)) {
        l->err = CA_ERR_STORE;
        return false;
    }
    l->n++;
    return true;
}

static int info_cmp(const void *a, const void *b)
{
    const ca_token_info *x = a, *y = b;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    return strcmp(x->id, y->id);
}

ca_err ca_token_list(ca_store *store, ca_token_info **list, size_t *count, ca_errbuf *eb)
{
    CA_ASSERT(store && list && count);
    *list = NULL;
    *count = 0;
    ca_store_txn *txn;
    ca_err err = ca_store_begin(store, &txn, false, eb);
    if (err)
        return err;
    list_acc l = {0};
    err = ca_store_scan(txn, CA_TABLE_TOKENS, NULL, 0, list_fn, &l);
    ca_store_abort(txn);
    if (!err)
        err = l.err;
    if (err) {
        free(l.v);
        return ca_fail(eb, err, err == CA_ERR_NOMEM ? "out of memory listing tokens"
                                : err == CA_ERR_STORE ? "auth: a token record is corrupt"
                                                      : "auth: cannot read the token table");
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, info_cmp);
    *list = l.v;
    *count = l.n;
    return CA_OK;
}

/* ---- revoke ---------------------------------------------------------------------------------- */

typedef struct revoke_arg {
    const char *id;
    int64_t now;
} revoke_arg;

static ca_err revoke_fn(ca_store_txn *txn, void *arg, ca_errbuf *eb)
{
    revoke_arg *a = arg;
    ca_store_val val;
    ca_err err = ca_store_get(txn, CA_TABLE_TOKENS, a->id, TOKEN_ID_HEX, &val);
    if (err == CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no token with id %s", a->id);
    if (err)
        return ca_fail(eb, err, "auth: cannot read the token table");
    ca_token_info info;
    ca_hash hash;
    if (!record_decode(&info, &hash, a->id, TOKEN_ID_HEX, &val))
        return ca_fail(eb, CA_ERR_STORE, "auth: the record of token %s is corrupt", a->id);
    if (info.revoked_at != 0)
        return CA_OK; /* already revoked: keep the first time */
    info.revoked_at = a->now > 0 ? a->now : 1;
    uint8_t rec[RECORD_MAX];
    size_t len = record_encode(rec, &info, &hash);
    err = ca_store_put(txn, CA_TABLE_TOKENS, a->id, TOKEN_ID_HEX, rec, len);
    return err ? ca_fail(eb, err, "auth: cannot store the token") : CA_OK;
}

ca_err ca_token_revoke(ca_store *store, const char *id, ca_errbuf *eb)
{
    CA_ASSERT(store);
    if (!id_valid(id))
        return ca_fail(eb, CA_ERR_INVALID, "\"%s\" is not a token id (16 lowercase hex)",
                       id ? id : "");
    revoke_arg a = {id, (int64_t)time(NULL)};
    return ca_store_write(store, revoke_fn, &a, eb);
}

/* ---- check ----------------------------------------------------------------------------------- */

/* Strict syntax: exactly "ca_" 16 lowercase hex "_" 43 canonical base64url chars. The format
 * is public, so rejecting malformed text early leaks nothing. */
static bool token_syntax_ok(const char *t, size_t len)
{
    if (len != TOKEN_LEN || memcmp(t, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
        return false;
    if (!ca_hex_is_lower(t + TOKEN_PREFIX_LEN, TOKEN_ID_HEX) ||
        t[TOKEN_PREFIX_LEN + TOKEN_ID_HEX] != '_')
        return false;
    uint8_t secret[TOKEN_SECRET_BYTES];
    size_t n = sizeof secret;
    /* The decoder rejects bad characters, '=' and non-zero trailing bits. */
    ca_err err = ca_base64url_decode(secret, &n, t + TOKEN_PREFIX_LEN + TOKEN_ID_HEX + 1,
                                     TOKEN_SECRET_B64);
    ca_wipe(secret, sizeof secret);
    return err == CA_OK && n == TOKEN_SECRET_BYTES;
}

ca_err ca_token_check(ca_store *store, ca_token_info *info, const char *token, size_t len,
                      int64_t now, ca_errbuf *eb)
{
    CA_ASSERT(store && info);
    memset(info, 0, sizeof *info);
    if (!token || len >= CA_TOKEN_MAX || !token_syntax_ok(token, len))
        return ca_fail(eb, CA_ERR_PERMISSION, "invalid token: malformed");

    ca_hash presented;
    ca_sha256(&presented, token, len);
    ca_store_txn *txn;
    ca_err err = ca_store_begin(store, &txn, false, eb);
    if (err) {
        ca_wipe(&presented, sizeof presented);
        return err;
    }
    /* Unknown id and wrong secret take the same path: an unknown id (or a corrupt record) is
     * compared against a hash no token can have, and both end in one message. */
    ca_token_info t;
    ca_hash stored;
    ca_store_val val;
    bool found = ca_store_get(txn, CA_TABLE_TOKENS, token + TOKEN_PREFIX_LEN, TOKEN_ID_HEX,
                              &val) == CA_OK &&
                 record_decode(&t, &stored, token + TOKEN_PREFIX_LEN, TOKEN_ID_HEX, &val);
    ca_store_abort(txn);
    if (!found) {
        memset(&t, 0, sizeof t);
        memset(&stored, 0xff, sizeof stored);
    }
    bool match = CRYPTO_memcmp(presented.b, stored.b, CA_HASH_SIZE) == 0;
    match = match && found;
    ca_wipe(&presented, sizeof presented);
    ca_wipe(&stored, sizeof stored);
    if (!match)
        return ca_fail(eb, CA_ERR_PERMISSION, "invalid token: unknown id or wrong secret");
    if (t.revoked_at != 0)
        return ca_fail(eb, CA_ERR_PERMISSION, "invalid token: token %s is revoked", t.id);
    if (t.expires_at != 0 && now >= t.expires_at)
        return ca_fail(eb, CA_ERR_PERMISSION, "invalid token: token %s has expired", t.id);
    *info = t;
    return CA_OK;
}

/* ---- audit log ------------------------------------------------------------------------------- */

static void rfc3339(char out[32], int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        snprintf(out, 32, "1970-01-01T00:00:00Z");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A JSON string for free text, capped at max bytes (cut on a UTF-8 boundary). Text that is
 * not valid UTF-8 is kept as ASCII with '?' for every other byte. NULL text gives null. */
static json_t *audit_string(const char *s, size_t max)
{
    if (!s)
        return json_null();
    size_t len = strnlen(s, max + 1);
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    json_t *j = json_stringn(s, len);
    if (j)
        return j;
    char *ascii = malloc(len + 1);
    if (!ascii)
        return NULL;
    for (size_t i = 0; i < len; i++)
        ascii[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    j = json_stringn(ascii, len);
    free(ascii);
    return j;
}

void ca_roles_text(char *out, size_t cap, unsigned roles, const char *sep)
{
    out[0] = 0;
    for (int r = CA_ROLE_ADMIN; r <= CA_ROLE_AUDITOR; r++)
        if (roles & (1u << r))
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? sep : "",
                     role_names[r]);
}

/* The entry's JSON text (malloc'd; NULL when out of memory). Who acted: a token (tokenId,
 * role), the CLI (tokenId "cli"), or a person through a session (tokenId null; userId,
 * userName, sessionId; issue #16 "Audit"). */
static char *audit_entry_text(const ca_audit_event *ev, uint64_t seq, const char *when,
                              const char *prev)
{
    const ca_token_info *tok = ev->token;
    bool person = tok && tok->user_id[0];
    char roles[64];
    ca_roles_text(roles, sizeof roles, person ? tok->roles : 0, ",");
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_t *fields[] = {
        json_integer((json_int_t)seq),
        json_string(when),
        /* Nobody known yet (a failed sign-in): tokenId and role null, client set. */
        person || (tok && !tok->id[0]) ? json_null() : tok ? json_string(tok->id)
                                                           : json_string("cli"),
        person ? json_string(roles)
        : tok && tok->id[0] ? json_string(ca_role_name(tok->role)) : json_null(),
        audit_string(ev->method ? ev->method : "", AUDIT_METHOD_MAX),
        audit_string(ev->route ? ev->route : "", AUDIT_ROUTE_MAX),
        json_integer(ev->status),
        audit_string(ev->detail, AUDIT_DETAIL_MAX),
        json_string(prev),
        person ? json_string(tok->user_id) : NULL,
        person ? audit_string(tok->display_name, CA_TOKEN_NAME_MAX) : NULL,
        person ? json_string(tok->session_id) : NULL,
        ev->client ? audit_string(ev->client, 64) : NULL,
    };
    static const char *const names[] = {"seq",    "time",     "tokenId",   "role",
                                        "method", "route",    "status",    "detail",
                                        "prev",   "userId",   "userName",  "sessionId",
                                        "client"};
    bool ok = true;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bool optional = i >= 9;
        if (optional && !fields[i])
            continue;
        ok = (fields[i] && json_object_set_new(o, names[i], fields[i]) == 0) && ok;
    }
    char *text = ok ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return text;
}

typedef struct audit_arg {
    const ca_audit_event *ev;
    int64_t now;
} audit_arg;

static ca_err audit_fn(ca_store_txn *txn, void *arg, ca_errbuf *eb)
{
    audit_arg *a = arg;
    const ca_audit_event *ev = a->ev;
    uint64_t seq = 1;
    char prev[2 * CA_HASH_SIZE + 1];
    memset(prev, '0', 2 * CA_HASH_SIZE);
    prev[2 * CA_HASH_SIZE] = '\0';

    /* Chain to the head when there is one: it names the newest entry ever appended, so an
     * entry deleted or edited since stays visible as a gap or a broken link after this one. */
    ca_store_val key, val, hv;
    uint64_t last_seq = 0, head_seq = 0;
    ca_hash h;
    ca_err err = ca_store_last(txn, CA_TABLE_AUDIT, &key, &val);
    if (err == CA_OK && key.len == 8)
        last_seq = ca_store_u64_from(key.data);
    else if (err != CA_OK && err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, err, "auth: cannot read the audit log");
    err = ca_store_get(txn, CA_TABLE_AUDIT, audit_head_key, AUDIT_HEAD_KEY_LEN, &hv);
    if (err == CA_OK && hv.len == AUDIT_HEAD_LEN)
        head_seq = ca_store_u64_from(hv.data);
    else if (err != CA_OK && err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, err, "auth: cannot read the audit log head");
    if (head_seq > 0 && head_seq >= last_seq) {
        seq = head_seq + 1;
        memcpy(h.b, (const uint8_t *)hv.data + 8, CA_HASH_SIZE);
        ca_hash_to_hex(prev, &h);
    } else if (last_seq > 0) {
        seq = last_seq + 1;
        ca_sha256(&h, val.data, val.len);
        ca_hash_to_hex(prev, &h);
    }

    char when[32];
    rfc3339(when, a->now);
    char *text = audit_entry_text(ev, seq, when, prev);
    if (!text)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory building an audit entry");

    uint8_t k[8], head[AUDIT_HEAD_LEN];
    ca_store_u64_key(k, seq);
    size_t text_len = strlen(text);
    ca_sha256(&h, text, text_len);
    memcpy(head, k, 8);
    memcpy(head + 8, h.b, CA_HASH_SIZE);
    err = ca_store_append(txn, CA_TABLE_AUDIT, k, sizeof k, text, text_len);
    if (!err)
        err = ca_store_put(txn, CA_TABLE_AUDIT, audit_head_key, AUDIT_HEAD_KEY_LEN, head,
                           sizeof head);
    free(text);
    return err ? ca_fail(eb, err, "auth: cannot append audit entry %llu",
                         (unsigned long long)seq)
               : CA_OK;
}

/* Group commit (as the log's, node/log.c): concurrent appenders queue; whoever finds no commit
 * running writes every queued entry of its store in one transaction and one sync, so N
 * concurrent authenticated writes cost one fsync for their audit entries, not N. Entries keep
 * their queue order in the chain. */
typedef struct audit_request {
    ca_gc_request gc;   /* first: the group commit's link (common/group_commit.c) */
    ca_store *store;
    audit_arg arg;
    ca_err err;
    ca_errbuf eb;
} audit_request;

static ca_group_commit audit_queue = CA_GROUP_COMMIT_INIT(audit_queue);

static audit_request *next_audit(const audit_request *r)
{
    return (audit_request *)r->gc.next;
}

typedef struct audit_batch {
    audit_request *first;
    ca_store *store;
} audit_batch;

static ca_err audit_batch_fn(ca_store_txn *txn, void *arg, ca_errbuf *eb)
{
    const audit_batch *b = arg;
    for (audit_request *r = b->first; r; r = next_audit(r)) {
        if (r->store != b->store)
            continue;
        ca_err err = audit_fn(txn, &r->arg, eb);
        if (err)
            return err;
    }
    return CA_OK;
}

/* Commits the queued requests, one transaction per store among them (almost always one). */
static void audit_commit(void *ctx, ca_gc_request *first)
{
    audit_request *batch = (audit_request *)first;
    (void)ctx;
    for (audit_request *r = batch; r; r = next_audit(r)) {
        bool first_of_store = true;
        for (audit_request *q = batch; q != r && first_of_store; q = next_audit(q))
            first_of_store = q->store != r->store;
        if (!first_of_store)
            continue;
        audit_batch b = {batch, r->store};
        ca_errbuf eb = {{0}};
        ca_err err = ca_store_write(r->store, audit_batch_fn, &b, &eb);
        for (audit_request *q = batch; q; q = next_audit(q))
            if (q->store == r->store) {
                q->err = err;
                q->eb = eb;
            }
    }
}

ca_err ca_audit_write(ca_store_txn *txn, const ca_audit_event *ev, int64_t now, ca_errbuf *eb)
{
    audit_arg a = {ev, now};
    return audit_fn(txn, &a, eb);
}

ca_err ca_audit_append(ca_store *store, const ca_audit_event *ev, ca_errbuf *eb)
{
    CA_ASSERT(store && ev);
    audit_request req = {.store = store, .arg = {ev, (int64_t)time(NULL)}};
    ca_group_commit_run(&audit_queue, &req.gc, audit_commit, NULL);
    if (req.err && eb)
        *eb = req.eb;
    return req.err;
}

/* ---- denied attempts (issue #13 item 16) ----------------------------------------------------- */

#define DENY_SLOTS 256

/* One token's current window. */
typedef struct deny_slot {
    ca_store *store;            /* NULL: free */
    ca_token_info token;
    int64_t window_start, first_repeat, last_repeat;
    uint32_t denied;            /* in this window, the written first one included */
    uint32_t repeats;           /* counted, not yet written */
    char method[16], route[128];
} deny_slot;

static pthread_mutex_t deny_lock = PTHREAD_MUTEX_INITIALIZER;
static deny_slot deny_table[DENY_SLOTS];
static int64_t deny_next_due = INT64_MAX; /* the earliest window end with repeats pending */

/* The count entry a slot owes, copied out so it is written without the lock held. */
typedef struct deny_due {
    bool due;
    ca_store *store;
    ca_token_info token;
    char method[16], route[128], detail[160];
} deny_due;

static void take_due(deny_slot *s, deny_due *d)
{
    d->due = s->repeats > 0;
    if (!d->due)
        return;
    char a[32], b[32];
    rfc3339(a, s->first_repeat);
    rfc3339(b, s->last_repeat);
    d->store = s->store;
    d->token = s->token;
    snprintf(d->method, sizeof d->method, "%s", s->method);
    snprintf(d->route, sizeof d->route, "%s", s->route);
    snprintf(d->detail, sizeof d->detail, "%u more denied attempts from %s to %s (aggregated; "
             "the last on this route)", s->repeats, a, b);
    s->repeats = 0;
}

static void write_due(const deny_due *d)
{
    if (!d->due)
        return;
    ca_audit_event ev = {.token = &d->token, .method = d->method, .route = d->route,
                         .status = 403, .detail = d->detail};
    ca_errbuf eb = {{0}};
    if (ca_audit_append(d->store, &ev, &eb))
        ca_node_log(CA_NODE_LOG_ERROR, NULL, "audit: cannot append: %s",
                    ca_strerror(CA_ERR_STORE));
}

static void recompute_due(void)
{
    deny_next_due = INT64_MAX;
    for (size_t i = 0; i < DENY_SLOTS; i++)
        if (deny_table[i].store && deny_table[i].repeats &&
            deny_table[i].window_start + CA_AUDIT_DENY_WINDOW < deny_next_due)
            deny_next_due = deny_table[i].window_start + CA_AUDIT_DENY_WINDOW;
}

/* The slot of (store, token id): found, a free one, or the one whose window started first
 * (its pending count goes to evicted). */
static deny_slot *deny_slot_for(ca_store *store, const char *id, deny_due *evicted)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the id */
    for (const char *p = id; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    deny_slot *free_slot = NULL, *oldest = NULL;
    for (size_t k = 0; k < DENY_SLOTS; k++) {
        deny_slot *s = &deny_table[(h + k) % DENY_SLOTS];
        if (!s->store) {
            if (!free_slot)
                free_slot = s;
            continue;
        }
        const char *slot_id = s->token.id[0] ? s->token.id : s->token.user_id;
        if (s->store == store && strcmp(slot_id, id) == 0)
            return s;
        if (!oldest || s->window_start < oldest->window_start)
            oldest = s;
    }
    deny_slot *s = free_slot ? free_slot : oldest;
    if (!free_slot)
        take_due(s, evicted);
    memset(s, 0, sizeof *s);
    return s;
}

unsigned ca_audit_denied(ca_store *store, const ca_audit_event *ev, int64_t now)
{
    CA_ASSERT(store && ev && ev->token);
    deny_due old = {0}, evicted = {0};
    pthread_mutex_lock(&deny_lock);
    /* Per token, or per person for a session (a person's token id is ""). */
    const char *who = ev->token->id[0] ? ev->token->id : ev->token->user_id;
    deny_slot *s = deny_slot_for(store, who, &evicted);
    if (s->store && now - s->window_start >= CA_AUDIT_DENY_WINDOW) {
        take_due(s, &old); /* the window has passed: its count is written now */
        s->store = NULL;
    }
    if (!s->store) {
        s->store = store;
        s->token = *ev->token;
        s->window_start = now;
        s->denied = 0;
    }
    bool write_this = s->denied++ == 0;
    if (!write_this) {
        if (s->repeats++ == 0)
            s->first_repeat = now;
        s->last_repeat = now;
        snprintf(s->method, sizeof s->method, "%s", ev->method ? ev->method : "");
        snprintf(s->route, sizeof s->route, "%s", ev->route ? ev->route : "");
    }
    unsigned retry = 0;
    if (s->denied > CA_AUDIT_DENY_MAX) {
        int64_t left = s->window_start + CA_AUDIT_DENY_WINDOW - now;
        retry = left > 0 ? (unsigned)left : 1;
    }
    recompute_due();
    pthread_mutex_unlock(&deny_lock);
    write_due(&evicted);
    write_due(&old);
    if (write_this) {
        ca_errbuf eb = {{0}};
        if (ca_audit_append(store, ev, &eb))
            ca_node_log(CA_NODE_LOG_ERROR, NULL, "audit: cannot append: %s",
                        ca_strerror(CA_ERR_STORE));
    }
    return retry;
}

void ca_audit_denied_flush(ca_store *store, int64_t now, bool all)
{
    pthread_mutex_lock(&deny_lock);
    if (!all && now < deny_next_due) {
        pthread_mutex_unlock(&deny_lock);
        return;
    }
    for (size_t i = 0; i < DENY_SLOTS; i++) {
        deny_slot *s = &deny_table[i];
        if (s->store != store || (!all && now - s->window_start < CA_AUDIT_DENY_WINDOW))
            continue;
        deny_due d = {0};
        take_due(s, &d);
        s->store = NULL;
        pthread_mutex_unlock(&deny_lock); /* written without the lock; the slot is free */
        write_due(&d);
        pthread_mutex_lock(&deny_lock);
    }
    recompute_due();
    pthread_mutex_unlock(&deny_lock);
}

/* ---- reading the log ------------------------------------------------------------------------- */

typedef struct audit_list_acc {
    const ca_audit_query *q;
    json_t *out;
    uint64_t scanned, last_seq, next;
    ca_err err;
} audit_list_acc;

static bool audit_list_fn(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    audit_list_acc *a = arg;
    if (key->len != 8) /* the head record */
        return true;
    uint64_t seq = ca_store_u64_from(key->data);
    if (seq <= a->q->after)
        return true;
    if (json_array_size(a->out) == a->q->limit || a->scanned == CA_AUDIT_SCAN_MAX) {
        a->next = a->last_seq; /* more to read: resume after the last one looked at */
        return false;
    }
    a->scanned++;
    a->last_seq = seq;
    json_t *e = json_loadb(val->data, val->len, JSON_PRESERVE_ORDER, NULL);
    if (!json_is_object(e)) {
        json_decref(e);
        a->err = CA_ERR_STORE;
        return false;
    }
    int64_t t = 0;
    bool keep = ca_datetime_parse(&t, ca_json_str(e, "time")) == CA_OK &&
                (!a->q->since || t >= a->q->since) && (!a->q->until || t <= a->q->until);
    const char *tok = ca_json_str(e, "tokenId"), *user = ca_json_str(e, "userId");
    keep = keep && (!a->q->token_id[0] || (tok && strcmp(tok, a->q->token_id) == 0) ||
                    (user && strcmp(user, a->q->token_id) == 0));
    if (keep && json_array_append_new(a->out, e))
        a->err = CA_ERR_NOMEM;
    else if (!keep)
        json_decref(e);
    return a->err == CA_OK;
}

ca_err ca_audit_list(ca_store *store, const ca_audit_query *q, json_t **entries, uint64_t *next,
                     ca_errbuf *eb)
{
    CA_ASSERT(store && q && entries && next && q->limit >= 1 && q->limit <= CA_AUDIT_LIST_MAX);
    *entries = NULL;
    *next = 0;
    audit_list_acc a = {.q = q, .out = json_array()};
    if (!a.out)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err) {
        json_decref(a.out);
        return err;
    }
    uint8_t start[8];
    ca_store_u64_key(start, q->after + 1);
    err = ca_store_scan(t, CA_TABLE_AUDIT, start, sizeof start, audit_list_fn, &a);
    ca_store_abort(t);
    if (!err)
        err = a.err;
    if (err) {
        json_decref(a.out);
        return ca_fail(eb, err, "auth: cannot read the audit log: %s", ca_strerror(err));
    }
    *entries = a.out;
    *next = a.next;
    return CA_OK;
}

typedef struct verify_acc {
    uint64_t count;      /* entries seen */
    uint64_t last_seq;   /* 0 before the first entry */
    ca_hash last_hash;   /* SHA-256 of the last entry's value */
    bool have_head;
    uint8_t head[AUDIT_HEAD_LEN];
    ca_err err;
    ca_errbuf *eb;
} verify_acc;

#define VERIFY_BROKEN(v, ...) \
    ((v)->err = ca_fail((v)->eb, CA_ERR_VERIFY, __VA_ARGS__), false)

static bool verify_fn(void *arg, const ca_store_val *key, const ca_store_val *val)
{
    verify_acc *v = arg;
    if (key->len == AUDIT_HEAD_KEY_LEN && memcmp(key->data, audit_head_key, 1) == 0) {
        if (val->len != AUDIT_HEAD_LEN)
            return VERIFY_BROKEN(v, "audit log broken: the head record is corrupt");
        v->have_head = true;
        memcpy(v->head, val->data, AUDIT_HEAD_LEN);
        return true;
    }
    unsigned long long expect = v->last_seq + 1;
    if (key->len != 8)
        return VERIFY_BROKEN(v, "audit log broken after entry %llu: a %zu-byte key is not a "
                                "sequence number", expect - 1, key->len);
    unsigned long long seq = ca_store_u64_from(key->data);
    if (seq != expect)
        return VERIFY_BROKEN(v, "audit log broken at entry %llu: it is missing (the next "
                                "entry present is %llu)", expect, seq);
    json_error_t jerr;
    json_t *o = json_loadb(val->data, val->len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *js = o ? json_object_get(o, "seq") : NULL;
    json_t *jp = o ? json_object_get(o, "prev") : NULL;
    bool shape = json_is_object(o) && json_is_integer(js) && json_is_string(jp) &&
                 json_string_length(jp) == 2 * CA_HASH_SIZE;
    long long recorded = shape ? (long long)json_integer_value(js) : -1;
    char want[2 * CA_HASH_SIZE + 1];
    if (v->last_seq == 0) {
        memset(want, '0', 2 * CA_HASH_SIZE);
        want[2 * CA_HASH_SIZE] = '\0';
    } else {
        ca_hash_to_hex(want, &v->last_hash);
    }
    bool link_ok = shape && strcmp(json_string_value(jp), want) == 0;
    json_decref(o);
    if (!shape)
        return VERIFY_BROKEN(v, "audit log broken at entry %llu: not a valid audit entry", seq);
    if (recorded < 0 || (unsigned long long)recorded != seq)
        return VERIFY_BROKEN(v, "audit log broken at entry %llu: it records sequence number "
                                "%lld", seq, recorded);
    if (!link_ok && v->last_seq == 0)
        return VERIFY_BROKEN(v, "audit log broken at entry %llu: the first entry must link "
                                "to 64 zeros", seq);
    if (!link_ok) /* entry seq-1 was altered after seq was written, or seq's link was */
        return VERIFY_BROKEN(v, "audit log broken at entry %llu: its hash no longer matches "
                                "the link in entry %llu (one of them was altered)",
                             expect - 1, seq);
    ca_sha256(&v->last_hash, val->data, val->len);
    v->last_seq = seq;
    v->count++;
    return true;
}

ca_err ca_audit_verify(ca_store *store, uint64_t *entries, ca_errbuf *eb)
{
    CA_ASSERT(store);
    if (entries)
        *entries = 0;
    ca_store_txn *txn;
    ca_err err = ca_store_begin(store, &txn, false, eb);
    if (err)
        return err;
    verify_acc v = {.eb = eb};
    err = ca_store_scan(txn, CA_TABLE_AUDIT, NULL, 0, verify_fn, &v);
    ca_store_abort(txn);
    if (err)
        return ca_fail(eb, err, "auth: cannot read the audit log");
    if (v.err)
        return v.err;
    /* The head pins the newest entry, which no later link protects. */
    if (v.count == 0 && v.have_head)
        return ca_fail(eb, CA_ERR_VERIFY,
                       "audit log broken at entry 1: the head names entry %llu but the log is "
                       "empty",
                       (unsigned long long)ca_store_u64_from(v.head));
    if (v.count > 0) {
        if (!v.have_head)
            return ca_fail(eb, CA_ERR_VERIFY,
                           "audit log broken at entry %llu: the head record is missing",
                           (unsigned long long)v.last_seq);
        uint64_t head_seq = ca_store_u64_from(v.head);
        if (head_seq > v.last_seq)
            return ca_fail(eb, CA_ERR_VERIFY,
                           "audit log broken at entry %llu: it is missing (the head names "
                           "entry %llu as the newest)",
                           (unsigned long long)v.last_seq + 1, (unsigned long long)head_seq);
        if (head_seq < v.last_seq)
            return ca_fail(eb, CA_ERR_VERIFY,
                           "audit log broken at entry %llu: it is not covered by the head "
                           "(which names entry %llu)",
                           (unsigned long long)head_seq + 1, (unsigned long long)head_seq);
        if (CRYPTO_memcmp(v.head + 8, v.last_hash.b, CA_HASH_SIZE) != 0)
            return ca_fail(eb, CA_ERR_VERIFY,
                           "audit log broken at entry %llu: it no longer matches the head "
                           "hash (altered)",
                           (unsigned long long)v.last_seq);
    }
    if (entries)
        *entries = v.count;
    return CA_OK;
}
