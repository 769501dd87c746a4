/*
 * node/routes_auth.c — people's sign-in over HTTP (issue #16; node/routes_auth.h).
 *
 * A ceremony (W3C WebAuthn L3 §7.1 registration, §7.2 authentication) starts with an options
 * route that issues a 32-byte random challenge, kept here in memory under a random ceremony
 * id for CEREMONY_TTL seconds, and ends with the route that verifies the browser's answer.
 * Each ceremony is taken out of the table at its first answer, whatever the outcome, so an
 * answer replayed (or a second try with the same challenge) finds nothing (§13.4.3). The
 * table is capped; past it the options routes answer 503.
 *
 * Sign-in failures all answer the same 401 (the reason goes to the audit log, never to the
 * client), and attempts are rate-limited per client address and per account.
 */
#include "node/routes_auth.h"

#include "credanchor/credential.h"
#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "node/auth.h"
#include "node/data_key.h"
#include "node/http.h"
#include "node/http_session.h"
#include "node/node_log.h"
#include "node/rate_limit.h"
#include "node/users.h"
#include "node/webauthn.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CEREMONY_TTL 300           /* seconds a ceremony's challenge stays valid */
#define CEREMONIES_MAX 4096        /* ceremonies in flight at once */
#define CEREMONY_ID_LEN 22         /* base64url of 16 random bytes */
#define CHALLENGE_LEN 32
/* Verifying routes (enroll, sign-in, recovery, add a passkey) per client address, and per
 * account: a person at a keyboard needs a few a minute, a guesser is slowed to this. */
#define ATTEMPTS_PER_MIN_CLIENT 20.0
#define ATTEMPTS_BURST_CLIENT 20.0
#define ATTEMPTS_PER_MIN_ACCOUNT 10.0
#define ATTEMPTS_BURST_ACCOUNT 10.0
#define OPTIONS_PER_S_CLIENT 2.0   /* options routes per client: they fill the table */
#define OPTIONS_BURST_CLIENT 60.0

typedef enum ceremony_kind { CER_FREE = 0, CER_ENROLL, CER_SIGNIN, CER_ADD } ceremony_kind;

typedef struct ceremony {
    ceremony_kind kind;
    char id[CEREMONY_ID_LEN + 1];
    uint8_t challenge[CHALLENGE_LEN];
    char user_id[CA_USER_ID_MAX]; /* enroll, add: whose */
    ca_hash invite;               /* enroll: the invite's hash */
    int64_t expires;              /* monotonic seconds */
} ceremony;

typedef struct auth_routes {
    ca_node *node;
    pthread_mutex_t mu;
    ceremony *cer;
    ca_rate_limit *attempts_client, *attempts_account, *options_client;
    char origin[CA_WEB_ORIGIN_MAX], rp_id[CA_WEB_ORIGIN_MAX];
} auth_routes;

static auth_routes g_auth = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- ceremonies ------------------------------------------------------------------------------ */

/* Starts a ceremony: a free or expired slot gets a fresh id and challenge. False when full. */
static bool ceremony_start(auth_routes *a, ceremony *out, ceremony_kind kind,
                           const char *user_id, const ca_hash *invite)
{
    uint8_t idb[16];
    ceremony c = {.kind = kind, .expires = mono_s() + CEREMONY_TTL};
    if (ca_random_bytes(idb, sizeof idb) || ca_random_bytes(c.challenge, sizeof c.challenge))
        return false;
    ca_base64url_encode(c.id, idb, sizeof idb);
    if (user_id)
        snprintf(c.user_id, sizeof c.user_id, "%s", user_id);
    if (invite)
        c.invite = *invite;
    bool ok = false;
    int64_t now = mono_s();
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < CEREMONIES_MAX && !ok; i++)
        if (a->cer[i].kind == CER_FREE || a->cer[i].expires <= now) {
            a->cer[i] = c;
            ok = true;
        }
    pthread_mutex_unlock(&a->mu);
    *out = c;
    return ok;
}

/* Takes a ceremony out of the table (single use): true when it existed, was of this kind and
 * had not expired. */
static bool ceremony_take(auth_routes *a, ceremony *out, const char *id, ceremony_kind kind)
{
    bool found = false;
    if (!id || strlen(id) != CEREMONY_ID_LEN)
        return false;
    int64_t now = mono_s();
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < CEREMONIES_MAX; i++) {
        ceremony *c = &a->cer[i];
        if (c->kind != CER_FREE && CRYPTO_memcmp(c->id, id, CEREMONY_ID_LEN) == 0) {
            found = c->kind == kind && c->expires > now;
            *out = *c;
            memset(c, 0, sizeof *c);
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return found;
}

/* ---- small helpers --------------------------------------------------------------------------- */

static json_t *passkey_json(const ca_passkey *p)
{
    char id[CA_PASSKEY_ID_MAX * 4 / 3 + 4];
    ca_base64url_encode(id, p->cred_id, p->id_len);
    return json_pack("{s:s, s:s, s:i, s:o, s:o}", "id", id, "name", p->name, "alg",
                     (json_int_t)p->alg, "createdAt", ca_json_time(p->created_at), "lastUsedAt",
                     ca_json_time(p->last_used_at));
}

/* A base64url string member of obj decoded into out (cap bytes). False when absent, not a
 * string, too long for cap or not base64url. */
static bool b64_member(const json_t *obj, const char *name, uint8_t *out, size_t cap,
                       size_t *len)
{
    const json_t *v = json_object_get(obj, name);
    if (!json_is_string(v))
        return false;
    *len = cap; /* in: the room; out: the bytes decoded */
    return ca_base64url_decode(out, len, json_string_value(v), json_string_length(v)) == CA_OK;
}

/* The key a rate limiter keeps per account: 16 bytes of SHA-256(label || value). */
static void account_key(uint8_t key[16], const char *label, const char *value)
{
    ca_hash h;
    char buf[CA_USER_EMAIL_MAX + 16];
    snprintf(buf, sizeof buf, "%s:%s", label, value);
    for (char *c = buf; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    ca_sha256(&h, buf, strlen(buf));
    memcpy(key, h.b, 16);
}

/* 429 when the limiter says wait; true when the request may go on. */
static bool rate_ok(ca_http_response *resp, ca_rate_limit *rl, const uint8_t key[16],
                    const char *what)
{
    unsigned wait = ca_rate_limit_take(rl, key, mono_ns());
    if (!wait)
        return true;
    resp->retry_after = wait;
    ca_http_problem(resp, 429, "too many %s; retry in %u s", what, wait);
    return false;
}

static bool client_rate_ok(const ca_http_request *req, ca_http_response *resp,
                           ca_rate_limit *rl, const char *what)
{
    uint8_t key[16];
    ca_http_client_key(req, key);
    return rate_ok(resp, rl, key, what);
}

/* The unauthenticated POSTs set a session cookie: they too must come from our own pages, or
 * another site could sign a visitor in as someone else (login CSRF). */
static bool origin_or_403(const ca_http_request *req, ca_http_response *resp)
{
    if (ca_http_origin_ok(req))
        return true;
    ca_http_problem(resp, 403, "sign-in requests must come from this node's own pages (the "
                               "Origin header does not match)");
    return false;
}

/* ---- audit ----------------------------------------------------------------------------------- */

/* An audit entry for a sign-in event on a public route (the server writes those of role
 * routes itself): who (the person when known), the client and the session. */
static void audit_person(const ca_http_request *req, const ca_user *user, const char *session_id,
                         int status, const char *detail)
{
    ca_token_info who = {0};
    if (user) {
        who.roles = user->roles;
        snprintf(who.user_id, sizeof who.user_id, "%s", user->id);
        snprintf(who.display_name, sizeof who.display_name, "%s", user->name);
    }
    if (session_id)
        snprintf(who.session_id, sizeof who.session_id, "%s", session_id);
    char client[64];
    ca_audit_event ev = {.token = &who, .method = req->method, .route = req->route,
                         .status = status, .detail = detail,
                         .client = ca_http_client_text(req, client, sizeof client)};
    ca_errbuf eb = {{0}};
    ca_err err = ca_audit_append(req->node->store, &ev, &eb);
    if (err)
        ca_node_log(CA_NODE_LOG_ERROR, "auth", "audit: cannot append: %s",
                    ca_errmsg(&eb, err));
}

/* A failed sign-in: the same 401 whatever the reason; the reason goes to the audit log. */
static void signin_refused(const ca_http_request *req, ca_http_response *resp,
                           const ca_user *user, const char *what, const char *why)
{
    char detail[160];
    snprintf(detail, sizeof detail, "%s failed: %.120s", what, why);
    audit_person(req, user, NULL, 401, detail);
    ca_http_problem(resp, 401, "%s failed: sign in again", what);
}

/* Starts a session for user after a successful ceremony: the cookie, the sign-in record, the
 * audit entry (with the status the caller answers), and {"user","csrf","mustEnrollPasskey"}
 * (the caller may add members). NULL after answering 500. */
static json_t *session_start(ca_http_request *req, ca_http_response *resp, ca_user *user,
                             const char *method, int status, const char *detail)
{
    ca_node *node = req->node;
    ca_session s;
    char cookie[CA_SESSION_COOKIE_MAX], csrf[CA_SESSION_CSRF_MAX], client[64];
    int64_t now = (int64_t)time(NULL);
    ca_errbuf eb = {{0}};
    ca_err err = ca_session_create(node->store, &s, cookie, csrf, user->id,
                                   ca_http_client_text(req, client, sizeof client), method,
                                   now, &eb);
    if (!err)
        err = ca_user_record_sign_in(node->store, user->id, now, &eb);
    if (!err)
        err = ca_http_set_session_cookie(resp, &node->cfg, cookie,
                                         (int64_t)node->cfg.auth_absolute_timeout);
    ca_wipe(cookie, sizeof cookie);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return NULL;
    }
    audit_person(req, user, s.id, status, detail);
    ca_user fresh;
    if (ca_user_get(node->store, node->data_key, &fresh, user->id, &eb) == CA_OK)
        *user = fresh;
    json_t *o = json_pack("{s:o, s:s, s:b}", "user", ca_user_json(user), "csrf", csrf,
                          "mustEnrollPasskey", user->must_enroll_passkey);
    ca_wipe(csrf, sizeof csrf);
    return o;
}

/* PublicKeyCredentialCreationOptions (L3 §5.4) for user, as JSON: EdDSA, ES256 and RS256
 * keys, a discoverable credential with user verification (passkeys), no attestation, and the
 * user's own passkeys excluded. */
static json_t *creation_options(const auth_routes *a, const ceremony *c, const ca_user *u)
{
    char chal[64];
    char uid[32];
    ca_base64url_encode(chal, c->challenge, sizeof c->challenge);
    ca_base64url_encode(uid, (const uint8_t *)u->id, strlen(u->id));
    json_t *exclude = json_array();
    ca_passkey *list = NULL;
    size_t n = 0;
    ca_errbuf eb = {{0}};
    if (ca_passkey_list(a->node->store, u->id, &list, &n, &eb) == CA_OK)
        for (size_t i = 0; i < n; i++) {
            char id[CA_PASSKEY_ID_MAX * 4 / 3 + 4];
            ca_base64url_encode(id, list[i].cred_id, list[i].id_len);
            json_array_append_new(exclude, json_pack("{s:s, s:s}", "type", "public-key",
                                                     "id", id));
        }
    free(list);
    const char *rp_name = a->node->cfg.credentials_issuer_name[0]
                              ? a->node->cfg.credentials_issuer_name
                              : a->rp_id;
    return json_pack(
        "{s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s}, s:[{s:s, s:i}, {s:s, s:i}, {s:s, s:i}], "
        "s:{s:s, s:b, s:s}, s:s, s:i, s:o}",
        "challenge", chal, "rp", "id", a->rp_id, "name", rp_name, "user", "id", uid, "name",
        u->email, "displayName", u->name, "pubKeyCredParams", "type", "public-key", "alg",
        (json_int_t)-8, "type", "public-key", "alg", (json_int_t)-7, "type", "public-key",
        "alg", (json_int_t)-257, "authenticatorSelection", "residentKey", "required",
        "requireResidentKey", 1, "userVerification", "required", "attestation", "none",
        "timeout", (json_int_t)CEREMONY_TTL * 1000, "excludeCredentials", exclude);
}

/* The verification expectations of a ceremony. */
static ca_webauthn_expect expect_of(const auth_routes *a, const ceremony *c)
{
    ca_webauthn_expect e = {.challenge = c->challenge, .challenge_len = sizeof c->challenge,
                            .origin = a->origin, .rp_id = a->rp_id, .require_uv = true};
    return e;
}

/* The decoded parts of a PublicKeyCredential's JSON (L3 §5.1 toJSON()). */
typedef struct credential_in {
    uint8_t id[CA_WEBAUTHN_CRED_ID_MAX];
    size_t id_len;
    uint8_t cdj[CA_WEBAUTHN_CLIENT_DATA_MAX];
    size_t cdj_len;
    uint8_t data[CA_WEBAUTHN_ATT_OBJECT_MAX]; /* attestationObject or authenticatorData */
    size_t data_len;
    uint8_t sig[CA_WEBAUTHN_SIG_MAX];
    size_t sig_len;
    uint8_t handle[64];
    size_t handle_len;
} credential_in;

/* Decodes body.credential; registration wants attestationObject, an assertion
 * authenticatorData and signature (userHandle optional). False with a reason. */
static bool credential_decode(credential_in *in, const json_t *body, bool registration,
                              const char **why)
{
    const json_t *cred = json_object_get(body, "credential");
    const json_t *r = json_object_get(cred, "response");
    memset(in, 0, sizeof *in);
    *why = "credential.response is missing";
    if (!json_is_object(cred) || !json_is_object(r))
        return false;
    *why = "credential.type must be \"public-key\"";
    const char *type = json_string_value(json_object_get(cred, "type"));
    if (!type || strcmp(type, "public-key"))
        return false;
    *why = "credential.rawId is not base64url of at most 1023 bytes";
    if (!b64_member(cred, "rawId", in->id, sizeof in->id, &in->id_len) || in->id_len == 0)
        return false;
    *why = "credential.response.clientDataJSON is not base64url of at most 4 KiB";
    if (!b64_member(r, "clientDataJSON", in->cdj, sizeof in->cdj, &in->cdj_len))
        return false;
    if (registration) {
        *why = "credential.response.attestationObject is not base64url of at most 16 KiB";
        return b64_member(r, "attestationObject", in->data, sizeof in->data, &in->data_len);
    }
    *why = "credential.response.authenticatorData is not base64url of at most 4 KiB";
    if (!b64_member(r, "authenticatorData", in->data, CA_WEBAUTHN_AUTH_DATA_MAX, &in->data_len))
        return false;
    *why = "credential.response.signature is not base64url of at most 512 bytes";
    if (!b64_member(r, "signature", in->sig, sizeof in->sig, &in->sig_len))
        return false;
    const json_t *h = json_object_get(r, "userHandle");
    *why = "credential.response.userHandle is not base64url of at most 64 bytes";
    if (h && !json_is_null(h) &&
        !b64_member(r, "userHandle", in->handle, sizeof in->handle, &in->handle_len))
        return false;
    return true;
}

/* ---- enrollment from an invite --------------------------------------------------------------- */

/* The invite of body.invite: its user (decrypted) and hash. False after answering 403. */
static bool invite_user(ca_http_request *req, ca_http_response *resp, const json_t *body,
                        ca_user *user, ca_hash *hash)
{
    const char *secret = json_string_value(json_object_get(body, "invite"));
    char uid[CA_USER_ID_MAX];
    ca_errbuf eb = {{0}};
    ca_err err = secret ? ca_invite_peek(req->node->store, uid, hash, secret,
                                         (int64_t)time(NULL), &eb)
                        : CA_ERR_PERMISSION;
    if (!err)
        err = ca_user_get(req->node->store, req->node->data_key, user, uid, &eb);
    if (err == CA_ERR_PERMISSION || err == CA_ERR_NOT_FOUND) {
        ca_http_problem(resp, 403, "this enrollment link is invalid, expired or already used: "
                                   "ask an admin for a new one");
        return false;
    }
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return false;
    }
    return true;
}

static void h_enroll_options(ca_http_request *req, ca_http_response *resp)
{
    auth_routes *a = req->ctx;
    if (!origin_or_403(req, resp) ||
        !client_rate_ok(req, resp, a->options_client, "ceremonies from this address"))
        return;
    json_t *body = ca_http_body_json(req, resp);
    ca_user user;
    ca_hash hash;
    ceremony c;
    if (body && invite_user(req, resp, body, &user, &hash)) {
        if (!ceremony_start(a, &c, CER_ENROLL, user.id, &hash))
            ca_http_problem(resp, 503, "too many sign-in ceremonies in progress; retry soon");
        else
            ca_http_reply_json(resp, 200,
                               json_pack("{s:s, s:{s:s, s:s}, s:o}", "ceremony", c.id, "user",
                                         "name", user.name, "email", user.email, "publicKey",
                                         creation_options(a, &c, &user)));
    }
    json_decref(body);
}

/* Verifies a registration answer for a ceremony; *out gets the credential. False with the
 * reason in why (for the audit log and the answer: it names a check, never a secret). */
static bool registration_ok(const auth_routes *a, const ceremony *c, const json_t *body,
                            ca_webauthn_credential *out, char why[160])
{
    credential_in *in = malloc(sizeof *in);
    const char *bad = "out of memory";
    bool ok = in && credential_decode(in, body, true, &bad);
    snprintf(why, 160, "%s", bad);
    if (ok) {
        ca_webauthn_expect e = expect_of(a, c);
        ca_errbuf eb = {{0}};
        ca_err err = ca_webauthn_verify_registration(out, &e, in->cdj, in->cdj_len, in->data,
                                                     in->data_len, &eb);
        if (err) {
            snprintf(why, 160, "%s", ca_errmsg(&eb, err));
            ok = false;
        }
    }
    free(in);
    return ok;
}

/* The label a person gave a passkey (body.name), or "". */
static const char *passkey_label(const json_t *body)
{
    const char *n = json_string_value(json_object_get(body, "name"));
    return n ? n : "";
}

/* Stores a verified passkey (consuming the invite when given). False after answering. */
static bool passkey_store(ca_http_request *req, ca_http_response *resp, const ca_user *user,
                          const ca_webauthn_credential *cred, const char *label,
                          const ca_hash *invite)
{
    ca_errbuf eb = {{0}};
    ca_err err = ca_passkey_add(req->node->store, user->id, cred->id, cred->id_len,
                                cred->cose_key, cred->cose_key_len, cred->alg,
                                cred->sign_count, label[0] ? label : NULL, (int64_t)time(NULL),
                                invite, &eb);
    if (err == CA_ERR_EXISTS)
        ca_http_problem(resp, 409, "this passkey is registered already");
    else if (err == CA_ERR_PERMISSION)
        ca_http_problem(resp, 403, "this enrollment link is invalid, expired or already used");
    else if (err == CA_ERR_CONFLICT)
        ca_http_problem(resp, 409, "this account has the most passkeys allowed (%d): remove one "
                        "first", CA_PASSKEYS_PER_USER);
    else if (err)
        ca_http_problem_err(resp, err, &eb);
    return err == CA_OK;
}

static void h_enroll(ca_http_request *req, ca_http_response *resp)
{
    auth_routes *a = req->ctx;
    if (!origin_or_403(req, resp) ||
        !client_rate_ok(req, resp, a->attempts_client, "sign-in attempts from this address"))
        return;
    json_t *body = ca_http_body_json(req, resp);
    ca_user user;
    ca_hash hash;
    ceremony c;
    ca_webauthn_credential *cred = malloc(sizeof *cred);
    char why[160];
    if (!body || !cred || !invite_user(req, resp, body, &user, &hash))
        goto out;
    if (!ceremony_take(a, &c, json_string_value(json_object_get(body, "ceremony")),
                       CER_ENROLL) ||
        strcmp(c.user_id, user.id) || memcmp(c.invite.b, hash.b, sizeof hash.b)) {
        audit_person(req, &user, NULL, 400, "enrollment failed: unknown or expired ceremony");
        ca_http_problem(resp, 400, "this enrollment attempt expired or was used: start again");
        goto out;
    }
    if (!registration_ok(a, &c, body, cred, why)) {
        char detail[200];
        snprintf(detail, sizeof detail, "enrollment failed: %.150s", why);
        audit_person(req, &user, NULL, 400, detail);
        ca_http_problem(resp, 400, "the passkey was refused: %s", why);
        goto out;
    }
    if (!passkey_store(req, resp, &user, cred, passkey_label(body), &hash))
        goto out;
    char codes[CA_RECOVERY_CODES][CA_RECOVERY_CODE_MAX];
    ca_errbuf eb = {{0}};
    ca_err err = ca_recovery_codes_new(req->node->store, user.id, codes, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        goto out;
    }
    json_t *o = session_start(req, resp, &user, "passkey", 201,
                              "enrolled a passkey from an invite");
    json_t *arr = json_array();
    for (size_t i = 0; i < CA_RECOVERY_CODES; i++)
        json_array_append_new(arr, json_string(codes[i]));
    ca_wipe(codes, sizeof codes);
    if (o) {
        json_object_set_new(o, "recoveryCodes", arr);
        ca_http_reply_json(resp, 201, o);
    } else {
        json_decref(arr);
    }
out:
    free(cred);
    json_decref(body);
}

/* ---- sign-in ----------------------------------------------------------------------------------- */

static void h_signin_options(ca_http_request *req, ca_http_response *resp)
{
    auth_routes *a = req->ctx;
    if (!origin_or_403(req, resp) ||
        !client_rate_ok(req, resp, a->options_client, "ceremonies from this address"))
        return;
    ceremony c;
    char chal[64];
    if (!ceremony_start(a, &c, CER_SIGNIN, NULL, NULL)) {
        ca_http_problem(resp, 503, "too many sign-in ceremonies in progress; retry soon");
        return;
    }
    ca_base64url_encode(chal, c.challenge, sizeof c.challenge);
    /* Discoverable credentials (passkeys): no allowCredentials, so the page asks for no email
     * and the answer says nothing about which accounts exist. */
    ca_http_reply_json(resp, 200,
                       json_pack("{s:s, s:{s:s, s:s, s:s, s:i, s:[]}}", "ceremony", c.id,
                                 "publicKey", "challenge", chal, "rpId", a->rp_id,
                                 "userVerification", "required", "timeout",
                                 (json_int_t)CEREMONY_TTL * 1000, "allowCredentials"));
}

/* Checks an assertion against its stored passkey and records the new counter. On success
 * *user is the passkey's (active) user. False with the reason in why; *user is set as soon as
 * the passkey is known (for the audit entry), else its id is "". */
static bool assertion_ok(ca_http_request *req, ca_http_response *resp, const ceremony *c,
                         const credential_in *in, ca_user *user, char why[160])
{
    auth_routes *a = req->ctx;
    ca_node *node = req->node;
    ca_passkey *pk = malloc(sizeof *pk);
    ca_errbuf eb = {{0}};
    bool ok = false;
    user->id[0] = 0;
    snprintf(why, 160, "no passkey with this id is registered");
    if (!pk || ca_passkey_find(node->store, in->id, in->id_len, pk, &eb) != CA_OK)
        goto out;
    if (ca_user_get(node->store, node->data_key, user, pk->user_id, &eb) != CA_OK) {
        user->id[0] = 0;
        goto out;
    }
    uint8_t key[16];
    account_key(key, "user", user->id);
    if (!rate_ok(resp, a->attempts_account, key, "sign-in attempts for this account")) {
        snprintf(why, 160, "rate-limited");
        goto out;
    }
    snprintf(why, 160, "the userHandle is not the passkey's user");
    if (in->handle_len && (in->handle_len != strlen(user->id) ||
                           memcmp(in->handle, user->id, in->handle_len)))
        goto out;
    snprintf(why, 160, "the account is %s", ca_user_state_name(user->state));
    if (user->state != CA_USER_ACTIVE)
        goto out;
    ca_webauthn_expect e = expect_of(a, c);
    uint32_t count = 0;
    ca_err err = ca_webauthn_verify_assertion(&count, NULL, &e, pk->cose_key, pk->key_len,
                                              pk->sign_count, in->cdj, in->cdj_len, in->data,
                                              in->data_len, in->sig, in->sig_len, &eb);
    if (!err)
        err = ca_passkey_update_count(node->store, in->id, in->id_len, count,
                                      (int64_t)time(NULL), &eb);
    if (err == CA_ERR_CONFLICT)
        snprintf(why, 160, "the signature counter did not increase (%u after %u): a cloned "
                 "authenticator?", count, pk->sign_count);
    else if (err)
        snprintf(why, 160, "%s", ca_errmsg(&eb, err));
    ok = err == CA_OK;
out:
    free(pk);
    return ok;
}

static void h_signin(ca_http_request *req, ca_http_response *resp)
{
    auth_routes *a = req->ctx;
    if (!origin_or_403(req, resp) ||
        !client_rate_ok(req, resp, a->attempts_client, "sign-in attempts from this address"))
        return;
    json_t *body = ca_http_body_json(req, resp);
    credential_in *in = malloc(sizeof *in);
    ca_user user = {0};
    ceremony c;
    const char *bad = NULL;
    char why[160];
    if (!body || !in) {
        if (!in && body)
            ca_http_problem(resp, 500, "out of memory");
        goto out;
    }
    if (!ceremony_take(a, &c, json_string_value(json_object_get(body, "ceremony")),
                       CER_SIGNIN)) {
        signin_refused(req, resp, NULL, "sign-in", "unknown, used or expired ceremony");
        goto out;
    }
    if (!credential_decode(in, body, false, &bad)) {
        signin_refused(req, resp, NULL, "sign-in", bad);
        goto out;
    }
    if (!assertion_ok(req, resp, &c, in, &user, why)) {
        if (resp->status != 429)
            signin_refused(req, resp, user.id[0] ? &user : NULL, "sign-in", why);
        goto out;
    }
    json_t *o = session_start(req, resp, &user, "passkey", 200, "signed in with a passkey");
    if (o)
        ca_http_reply_json(resp, 200, o);
out:
    free(in);
    json_decref(body);
}

static void h_recover(ca_http_request *req, ca_http_response *resp)
{
    auth_routes *a = req->ctx;
    if (!origin_or_403(req, resp) ||
        !client_rate_ok(req, resp, a->attempts_client, "sign-in attempts from this address"))
        return;
    json_t *body = ca_http_body_json(req, resp);
    if (!body)
        return;
    const char *email = json_string_value(json_object_get(body, "email"));
    const char *code = json_string_value(json_object_get(body, "code"));
    ca_node *node = req->node;
    ca_user user = {0};
    ca_errbuf eb = {{0}};
    uint8_t key[16];
    if (!email || !code || strlen(email) >= CA_USER_EMAIL_MAX) {
        ca_http_problem(resp, 400, "send {\"email\", \"code\"}");
        goto out;
    }
    /* The account's bucket is the person's, shared with passkey sign-in; an unknown address
     * gets the bucket of its blind index, which normalises it as the lookup does (blanks
     * trimmed, case folded), so spelling variants of one address share one bucket. */
    bool known = ca_user_find_by_email(node->store, node->data_key, &user, email, &eb) ==
                 CA_OK;
    if (known) {
        account_key(key, "user", user.id);
    } else {
        uint8_t blind[CA_BLIND_INDEX_LEN];
        ca_data_blind_email(node->data_key, blind, email);
        memcpy(key, blind, sizeof key);
    }
    if (!rate_ok(resp, a->attempts_account, key, "sign-in attempts for this account"))
        goto out;
    char uid[CA_USER_ID_MAX];
    ca_err err = ca_recovery_code_use(node->store, node->data_key, uid, email, code,
                                      (int64_t)time(NULL), &eb);
    if (err == CA_OK)
        err = ca_user_get(node->store, node->data_key, &user, uid, &eb);
    if (err == CA_ERR_PERMISSION || err == CA_ERR_NOT_FOUND) {
        signin_refused(req, resp, known ? &user : NULL, "recovery-code sign-in",
                       known ? "wrong, used or malformed code, or the account is not active"
                             : "no account with this email");
        goto out;
    }
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        goto out;
    }
    json_t *o = session_start(req, resp, &user, "recovery", 200,
                              "signed in with a recovery code (a new passkey is required)");
    if (o)
        ca_http_reply_json(resp, 200, o);
out:
    json_decref(body);
}

/* ---- the signed-in person ------------------------------------------------------------------ */

static json_t *session_json(const ca_session *s, const ca_config *cfg, const char *current)
{
    int64_t idle = s->last_seen_at + (int64_t)cfg->auth_idle_timeout;
    int64_t abs_end = s->created_at + (int64_t)cfg->auth_absolute_timeout;
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "id", s->id,
                     "userId", s->user_id, "method", s->method, "client", s->client,
                     "createdAt", ca_json_time(s->created_at), "lastSeenAt",
                     ca_json_time(s->last_seen_at), "revokedAt", ca_json_time(s->revoked_at),
                     "expiresAt", ca_json_time(abs_end), "idleExpiresAt",
                     ca_json_time(idle < abs_end ? idle : abs_end), "current",
                     current && strcmp(current, s->id) == 0);
}

static void h_session(ca_http_request *req, ca_http_response *resp)
{
    ca_http_session hs;
    if (!ca_http_session_check(req, resp, &hs))
        return;
    /* The CSRF token is re-derived from the cookie by ca_session_check; the page reads it
     * here after a reload (it is never stored). */
    char cookie[CA_SESSION_COOKIE_MAX], csrf[CA_SESSION_CSRF_MAX];
    csrf[0] = 0;
    if (ca_http_session_cookie(req, cookie))
        ca_session_csrf_token(csrf, cookie);
    ca_wipe(cookie, sizeof cookie);
    ca_http_reply_json(resp, 200,
                       json_pack("{s:o, s:o, s:s, s:b}", "user", ca_user_json(&hs.user), "session",
                                 session_json(&hs.session, &req->node->cfg, hs.session.id),
                                 "csrf", csrf, "mustEnrollPasskey",
                                 hs.user.must_enroll_passkey));
    ca_wipe(csrf, sizeof csrf);
}

static void h_passkey_options(ca_http_request *req, ca_http_response *resp)
{
    auth_routes *a = req->ctx;
    ca_http_session hs;
    ceremony c;
    if (!ca_http_session_check(req, resp, &hs) ||
        !client_rate_ok(req, resp, a->options_client, "ceremonies from this address"))
        return;
    if (!ceremony_start(a, &c, CER_ADD, hs.user.id, NULL)) {
        ca_http_problem(resp, 503, "too many sign-in ceremonies in progress; retry soon");
        return;
    }
    ca_http_reply_json(resp, 200, json_pack("{s:s, s:o}", "ceremony", c.id, "publicKey",
                                            creation_options(a, &c, &hs.user)));
}

static void h_passkey_add(ca_http_request *req, ca_http_response *resp)
{
    auth_routes *a = req->ctx;
    ca_http_session hs;
    if (!ca_http_session_check(req, resp, &hs) ||
        !client_rate_ok(req, resp, a->attempts_client, "sign-in attempts from this address"))
        return;
    json_t *body = ca_http_body_json(req, resp);
    ca_webauthn_credential *cred = malloc(sizeof *cred);
    ceremony c;
    char why[160], detail[200];
    if (!body || !cred)
        goto out;
    if (!ceremony_take(a, &c, json_string_value(json_object_get(body, "ceremony")), CER_ADD) ||
        strcmp(c.user_id, hs.user.id)) {
        ca_http_problem(resp, 400, "this passkey attempt expired or was used: start again");
        goto out;
    }
    if (!registration_ok(a, &c, body, cred, why)) {
        snprintf(detail, sizeof detail, "adding a passkey failed: %.150s", why);
        audit_person(req, &hs.user, hs.session.id, 400, detail);
        ca_http_problem(resp, 400, "the passkey was refused: %s", why);
        goto out;
    }
    if (!passkey_store(req, resp, &hs.user, cred, passkey_label(body), NULL))
        goto out;
    audit_person(req, &hs.user, hs.session.id, 201, "added a passkey");
    ca_passkey p = {.id_len = cred->id_len, .alg = cred->alg, .created_at = time(NULL)};
    memcpy(p.cred_id, cred->id, cred->id_len);
    snprintf(p.name, sizeof p.name, "%s", passkey_label(body));
    ca_http_reply_json(resp, 201, json_pack("{s:o}", "passkey", passkey_json(&p)));
out:
    free(cred);
    json_decref(body);
}

/* A session from a recovery code may only add a passkey, read itself and sign out (issue
 * #16: a code forces a new passkey first). False after answering 403. */
static bool not_recovering(const ca_http_session *hs, ca_http_response *resp)
{
    if (!hs->user.must_enroll_passkey)
        return true;
    ca_http_problem(resp, 403, "this session came from a recovery code: add a new passkey "
                               "first (/admin/account)");
    return false;
}

static void h_passkey_list(ca_http_request *req, ca_http_response *resp)
{
    ca_http_session hs;
    if (!ca_http_session_check(req, resp, &hs) || !not_recovering(&hs, resp))
        return;
    ca_passkey *list = NULL;
    size_t n = 0;
    ca_errbuf eb = {{0}};
    ca_err err = ca_passkey_list(req->node->store, hs.user.id, &list, &n, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, passkey_json(&list[i]));
    free(list);
    ca_http_reply_json(resp, 200, json_pack("{s:o}", "passkeys", arr));
}

static void h_signout(ca_http_request *req, ca_http_response *resp)
{
    ca_http_session hs;
    if (!ca_http_session_check(req, resp, &hs))
        return;
    ca_errbuf eb = {{0}};
    ca_err err = ca_session_revoke(req->node->store, hs.session.id, NULL, (int64_t)time(NULL),
                                   &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    audit_person(req, &hs.user, hs.session.id, 204, "signed out");
    ca_http_set_session_cookie(resp, &req->node->cfg, NULL, 0);
    ca_http_reply_text(resp, 204, "text/plain", "", 0);
}

/* ---- sessions: list and revoke ---------------------------------------------------------------- */

/* Who asks about sessions: an admin token (everyone's), or a session (its own, or everyone's
 * for an admin with ?all=true). *owner is NULL for everyone's. False after answering. */
static bool sessions_caller(ca_http_request *req, ca_http_response *resp, ca_token_info *info,
                            ca_http_session *hs, const char **owner, bool want_all)
{
    memset(hs, 0, sizeof *hs);
    if (ca_http_header(req, "Authorization")) {
        if (!ca_http_authenticate(req, resp, info, 1u << CA_ROLE_ADMIN))
            return false;
        *owner = NULL;
        return true;
    }
    if (!ca_http_session_check(req, resp, hs) || !not_recovering(hs, resp))
        return false;
    ca_http_session_caller(info, hs);
    bool admin = ca_caller_has_role(info, CA_ROLE_ADMIN);
    *owner = admin && want_all ? NULL : hs->user.id;
    return true;
}

static void h_sessions_list(ca_http_request *req, ca_http_response *resp)
{
    static const char *const allowed[] = {"all", NULL};
    ca_errbuf eb = {{0}};
    if (ca_http_query_only(req, allowed, &eb)) {
        ca_http_problem(resp, 400, "%s", ca_errmsg(&eb, CA_ERR_INVALID));
        return;
    }
    char all[8] = "";
    size_t len;
    ca_http_query(req, "all", all, sizeof all, &len);
    ca_token_info info;
    ca_http_session hs;
    const char *owner;
    if (!sessions_caller(req, resp, &info, &hs, &owner, strcmp(all, "true") == 0))
        return;
    ca_session *list = NULL;
    size_t n = 0;
    ca_err err = ca_session_list(req->node->store, owner, &list, &n, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, session_json(&list[i], &req->node->cfg, hs.session.id));
    free(list);
    ca_http_reply_json(resp, 200, json_pack("{s:o}", "sessions", arr));
}

static void h_session_delete(ca_http_request *req, ca_http_response *resp)
{
    ca_token_info info;
    ca_http_session hs;
    const char *owner;
    if (!sessions_caller(req, resp, &info, &hs, &owner, true))
        return;
    ca_errbuf eb = {{0}};
    const char *id = req->params[0];
    ca_err err = ca_session_revoke(req->node->store, id, owner, (int64_t)time(NULL), &eb);
    if (err == CA_ERR_NOT_FOUND || err == CA_ERR_INVALID) {
        ca_http_problem(resp, 404, "no such session");
        return;
    }
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    char client[64], detail[96];
    snprintf(detail, sizeof detail, "revoked session %s%s", id,
             hs.session.id[0] && strcmp(hs.session.id, id) == 0 ? " (their own)" : "");
    ca_audit_event ev = {.token = &info, .method = req->method, .route = req->route,
                         .status = 204, .detail = detail,
                         .client = ca_http_client_text(req, client, sizeof client)};
    if ((err = ca_audit_append(req->node->store, &ev, &eb)))
        ca_node_log(CA_NODE_LOG_ERROR, "auth", "audit: cannot append: %s",
                    ca_errmsg(&eb, err));
    if (hs.session.id[0] && strcmp(hs.session.id, id) == 0)
        ca_http_set_session_cookie(resp, &req->node->cfg, NULL, 0);
    ca_http_reply_text(resp, 204, "text/plain", "", 0);
}

/* ---- users (admin) ------------------------------------------------------------------------- */

/* body.roles as a mask: a non-empty array of role names. 0 after answering 400. */
static unsigned roles_of(const json_t *body, ca_http_response *resp)
{
    const json_t *arr = json_object_get(body, "roles");
    unsigned mask = 0;
    size_t i;
    const json_t *v;
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        goto bad;
    json_array_foreach(arr, i, v) {
        ca_role r;
        if (!json_is_string(v) || ca_role_parse(&r, json_string_value(v)))
            goto bad;
        mask |= 1u << r;
    }
    return mask;
bad:
    ca_http_problem(resp, 400, "roles: send a non-empty array of admin, issuer, revoker, "
                               "auditor");
    return 0;
}

/* Answers {"user"} for id after an admin action, with the audit detail. */
static void reply_user(ca_http_request *req, ca_http_response *resp, const char *id,
                       const char *detail)
{
    ca_user u;
    ca_errbuf eb = {{0}};
    ca_err err = ca_user_get(req->node->store, req->node->data_key, &u, id, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    ca_http_reply_json(resp, 200, json_pack("{s:o}", "user", ca_user_json(&u)));
    snprintf(resp->detail, sizeof resp->detail, "%s %s", detail, id);
}

/* The answer to an admin action's error: 404 unknown user, 409 the last admin, else by code. */
static void user_action_error(ca_http_response *resp, ca_err err, const ca_errbuf *eb)
{
    if (err == CA_ERR_NOT_FOUND || err == CA_ERR_INVALID)
        ca_http_problem(resp, err == CA_ERR_NOT_FOUND ? 404 : 400, "%s", ca_errmsg(eb, err));
    else if (err == CA_ERR_CONFLICT)
        ca_http_problem(resp, 409, "%s", ca_errmsg(eb, err));
    else
        ca_http_problem_err(resp, err, eb);
}

static void h_users_list(ca_http_request *req, ca_http_response *resp)
{
    ca_user *list = NULL;
    size_t n = 0;
    ca_errbuf eb = {{0}};
    ca_err err = ca_user_list(req->node->store, req->node->data_key, &list, &n, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, ca_user_json(&list[i]));
    ca_wipe(list, n * sizeof *list);
    free(list);
    ca_http_reply_json(resp, 200, json_pack("{s:o}", "users", arr));
}

static void h_users_create(ca_http_request *req, ca_http_response *resp)
{
    ca_node *node = req->node;
    json_t *body = ca_http_body_json(req, resp);
    if (!body)
        return;
    const char *email = json_string_value(json_object_get(body, "email"));
    const char *name = json_string_value(json_object_get(body, "name"));
    const json_t *ttl_v = json_object_get(body, "ttl");
    int64_t ttl = (int64_t)node->cfg.auth_invite_ttl;
    unsigned roles;
    if (!email || !name) {
        ca_http_problem(resp, 400, "send {\"email\", \"name\", \"roles\": [...]}");
        goto out;
    }
    if (ttl_v && (!json_is_string(ttl_v) || ca_duration_parse(&ttl, json_string_value(ttl_v)) ||
                  ttl < CA_INVITE_TTL_MIN || ttl > CA_INVITE_TTL_MAX)) {
        ca_http_problem(resp, 400, "ttl: a duration such as \"30m\" or \"2d\", from 60 s to 7 "
                                   "days");
        goto out;
    }
    if (!(roles = roles_of(body, resp)))
        goto out;
    ca_user u;
    char secret[CA_INVITE_SECRET_MAX];
    ca_errbuf eb = {{0}};
    int64_t now = (int64_t)time(NULL);
    ca_err err = ca_user_invite(node->store, node->data_key, &u, secret, email, name, roles,
                                ttl, now, &eb);
    if (err == CA_ERR_EXISTS) {
        ca_http_problem(resp, 409, "a person with this email has an account already");
        goto out;
    }
    if (err) {
        ca_http_problem(resp, err == CA_ERR_INVALID || err == CA_ERR_TOO_LARGE ? 400 : 500,
                        "%s", err == CA_ERR_INVALID || err == CA_ERR_TOO_LARGE
                                  ? ca_errmsg(&eb, err) : "cannot store the invite");
        goto out;
    }
    const char *base = node->cfg.node_public_url;
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;
    char url[CA_CONFIG_STR_MAX + 64 + CA_INVITE_SECRET_MAX];
    snprintf(url, sizeof url, "%.*s/admin/enroll#%s", (int)blen, base, secret);
    ca_wipe(secret, sizeof secret);
    ca_http_reply_json(resp, 201, json_pack("{s:o, s:s, s:o}", "user", ca_user_json(&u),
                                            "enrollUrl", url, "expiresAt",
                                            ca_json_time(now + ttl)));
    ca_wipe(url, sizeof url);
    snprintf(resp->detail, sizeof resp->detail, "invited user %s", u.id);
out:
    json_decref(body);
}

static void h_user_disable(ca_http_request *req, ca_http_response *resp)
{
    json_t *body = req->body_len ? ca_http_body_json(req, resp) : json_object();
    if (!body)
        return;
    const char *reason = json_string_value(json_object_get(body, "reason"));
    char dflt[CA_USER_REASON_MAX];
    const ca_token_info *t = req->token;
    snprintf(dflt, sizeof dflt, "by %s %s", t && t->user_id[0] ? "user" : "token",
             t ? (t->user_id[0] ? t->user_id : t->id) : "-");
    ca_errbuf eb = {{0}};
    ca_err err = ca_user_disable(req->node->store, req->params[0], reason ? reason : dflt,
                                 (int64_t)time(NULL), &eb);
    if (err)
        user_action_error(resp, err, &eb);
    else
        reply_user(req, resp, req->params[0], "disabled user");
    json_decref(body);
}

static void h_user_enable(ca_http_request *req, ca_http_response *resp)
{
    ca_errbuf eb = {{0}};
    ca_err err = ca_user_enable(req->node->store, req->params[0], (int64_t)time(NULL), &eb);
    if (err)
        user_action_error(resp, err, &eb);
    else
        reply_user(req, resp, req->params[0], "enabled user");
}

static void h_user_roles(ca_http_request *req, ca_http_response *resp)
{
    json_t *body = ca_http_body_json(req, resp);
    unsigned roles;
    if (body && (roles = roles_of(body, resp))) {
        ca_errbuf eb = {{0}};
        ca_err err = ca_user_set_roles(req->node->store, req->params[0], roles,
                                       (int64_t)time(NULL), &eb);
        char detail[96], names[64];
        ca_roles_text(names, sizeof names, roles, ",");
        snprintf(detail, sizeof detail, "roles %s for user", names);
        if (err)
            user_action_error(resp, err, &eb);
        else
            reply_user(req, resp, req->params[0], detail);
    }
    json_decref(body);
}

/* ---- registration and upkeep --------------------------------------------------------------- */

#define JSON_BODY "application/json"

static const ca_http_route auth_routes_table[] = {
    {"POST", "/v1/auth/enroll/options", 0, JSON_BODY, h_enroll_options, NULL},
    {"POST", "/v1/auth/enroll", 0, JSON_BODY, h_enroll, NULL},
    {"POST", "/v1/auth/signin/options", 0, JSON_BODY, h_signin_options, NULL},
    {"POST", "/v1/auth/signin", 0, JSON_BODY, h_signin, NULL},
    {"POST", "/v1/auth/recover", 0, JSON_BODY, h_recover, NULL},
    {"GET", "/v1/auth/session", 0, NULL, h_session, NULL},
    {"POST", "/v1/auth/passkeys/options", 0, JSON_BODY, h_passkey_options, NULL},
    {"POST", "/v1/auth/passkeys", 0, JSON_BODY, h_passkey_add, NULL},
    {"GET", "/v1/auth/passkeys", 0, NULL, h_passkey_list, NULL},
    {"POST", "/v1/auth/signout", 0, NULL, h_signout, NULL},
    {"GET", "/v1/sessions", 0, NULL, h_sessions_list, NULL},
    {"DELETE", "/v1/sessions/{id}", 0, NULL, h_session_delete, NULL},
    {"GET", "/v1/users", CA_ROLE_ADMIN, NULL, h_users_list, NULL},
    {"POST", "/v1/users", CA_ROLE_ADMIN, JSON_BODY, h_users_create, NULL},
    {"POST", "/v1/users/{id}/disable", CA_ROLE_ADMIN, NULL, h_user_disable, NULL},
    {"POST", "/v1/users/{id}/enable", CA_ROLE_ADMIN, NULL, h_user_enable, NULL},
    {"PUT", "/v1/users/{id}/roles", CA_ROLE_ADMIN, JSON_BODY, h_user_roles, NULL},
};

ca_err ca_auth_routes_register(struct ca_http_server *srv, ca_node *node, ca_errbuf *eb)
{
    auth_routes *a = &g_auth;
    if (!node->data_key)
        return ca_fail(eb, CA_ERR_INVALID, "auth routes: the node has no data key");
    a->node = node;
    ca_public_origin(&node->cfg, a->origin);
    ca_public_rp_id(&node->cfg, a->rp_id);
    a->cer = calloc(CEREMONIES_MAX, sizeof *a->cer);
    a->attempts_client = ca_rate_limit_create_burst(ATTEMPTS_PER_MIN_CLIENT / 60.0,
                                                    ATTEMPTS_BURST_CLIENT);
    a->attempts_account = ca_rate_limit_create_burst(ATTEMPTS_PER_MIN_ACCOUNT / 60.0,
                                                     ATTEMPTS_BURST_ACCOUNT);
    a->options_client = ca_rate_limit_create_burst(OPTIONS_PER_S_CLIENT, OPTIONS_BURST_CLIENT);
    if (!a->cer || !a->attempts_client || !a->attempts_account || !a->options_client) {
        ca_auth_routes_free();
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    }
    /* Every answer here is no-store: cookies, CSRF tokens, recovery codes, emails. */
    return ca_http_add_private_routes(srv, auth_routes_table,
                                      sizeof auth_routes_table / sizeof auth_routes_table[0], a,
                                      eb);
}

void ca_auth_routes_free(void)
{
    auth_routes *a = &g_auth;
    if (a->cer)
        ca_wipe(a->cer, CEREMONIES_MAX * sizeof *a->cer);
    free(a->cer);
    ca_rate_limit_destroy(a->attempts_client);
    ca_rate_limit_destroy(a->attempts_account);
    ca_rate_limit_destroy(a->options_client);
    a->cer = NULL;
    a->attempts_client = a->attempts_account = a->options_client = NULL;
}

void ca_auth_upkeep(ca_node *node)
{
    ca_errbuf eb = {{0}};
    ca_user *off = NULL;
    size_t n = 0, pruned = 0;
    int64_t now = (int64_t)time(NULL);
    ca_err err = ca_users_disable_inactive(node->store, now, (int)node->cfg.auth_inactive_days,
                                           &off, &n, &eb);
    for (size_t i = 0; !err && i < n; i++) {
        ca_token_info who = {.roles = off[i].roles};
        snprintf(who.user_id, sizeof who.user_id, "%s", off[i].id);
        char route[64], detail[96];
        snprintf(route, sizeof route, "users/%s", off[i].id);
        snprintf(detail, sizeof detail, "disabled: no sign-in for %llu days",
                 (unsigned long long)node->cfg.auth_inactive_days);
        ca_audit_event ev = {.token = &who, .method = "inactivity", .route = route,
                             .status = 0, .detail = detail};
        ca_errbuf aeb = {{0}};
        if (ca_audit_append(node->store, &ev, &aeb))
            ca_node_log(CA_NODE_LOG_ERROR, "auth", "audit: cannot append");
        ca_node_log(CA_NODE_LOG_INFO, "auth", "user %s disabled: no sign-in for %llu days",
                    off[i].id, (unsigned long long)node->cfg.auth_inactive_days);
    }
    free(off);
    if (err)
        ca_node_log(CA_NODE_LOG_ERROR, "auth", "inactive users: %s", ca_errmsg(&eb, err));
    if (ca_sessions_prune(node->store, now, (int64_t)node->cfg.auth_absolute_timeout, &pruned,
                          &eb))
        ca_node_log(CA_NODE_LOG_ERROR, "auth", "session prune failed");
}
