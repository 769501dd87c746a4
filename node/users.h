/*
 * Named user accounts (issue #16, "People, not shared tokens"): people who sign in with
 * passkeys, each with their own roles, instead of sharing API tokens. This is the storage and
 * logic layer only; the HTTP routes, WebAuthn and the CLI are built on it elsewhere.
 *
 * A user has a random 16-hex id, a display name and an email (both sealed at rest with the
 * node's data key, node/data_key.h; the email also has a blind index so it is unique and can
 * be looked up), roles (a bitmask over ca_role, node/auth.h: 1u << CA_ROLE_ADMIN, ...), a state
 * (invited -> active -> disabled), passkeys, ten single-use recovery codes and sessions.
 *
 * Secrets are shown once and stored only as hashes: the invite secret and a session's cookie
 * secret as SHA-256 (they are 256-bit random values), recovery codes with argon2id (60-bit
 * codes a person types). Checks compare hashes in constant time, and an unknown id takes the
 * same path as a wrong secret.
 *
 * Refusals that a client may see (a bad invite, session, or recovery code) are
 * CA_ERR_PERMISSION with the reason in eb; as with API tokens (node/auth.h), the reason is for
 * the node's log and the client is told only that it was refused. Nothing here logs, and no
 * error message holds a secret, a name or an email.
 *
 * Every write is one durable LMDB write transaction (ca_store_write), so e.g. adding the first
 * passkey, consuming the invite and activating the user happen together or not at all.
 * Time: every `now` is unix seconds supplied by the caller. Lists are malloc'd arrays the
 * caller free()s. Where issue #16's plan put a user id before the outputs (the list
 * functions, ca_passkey_find), the order is kept. Conventions: common.h.
 */
#ifndef CREDANCHOR_USERS_H
#define CREDANCHOR_USERS_H

#include "credanchor/common.h"
#include "node/auth.h"
#include "node/data_key.h"
#include "node/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_USER_ID_MAX 17        /* 16 lowercase hex chars + NUL (user and session ids) */
#define CA_USER_NAME_MAX 129     /* display name: at most 128 bytes of UTF-8, + NUL */
#define CA_USER_EMAIL_MAX 255    /* at most 254 bytes (RFC 5321 path limit), + NUL */
#define CA_USER_REASON_MAX 128   /* disabled_reason: at most 127 bytes, + NUL */
#define CA_USER_ROLES_ALL                                                                    \
    ((1u << CA_ROLE_ADMIN) | (1u << CA_ROLE_ISSUER) | (1u << CA_ROLE_REVOKER) |              \
     (1u << CA_ROLE_AUDITOR))

typedef enum ca_user_state {
    CA_USER_INVITED = 1,  /* invite sent, no passkey yet: cannot sign in */
    CA_USER_ACTIVE = 2,   /* has enrolled a passkey */
    CA_USER_DISABLED = 3, /* by an admin or for inactivity: cannot sign in, no sessions */
} ca_user_state;

/* "invited", "active", "disabled" ("unknown" otherwise). */
const char *ca_user_state_name(ca_user_state state);

#define CA_RECOVERY_CODES 10

typedef struct ca_user {
    char id[CA_USER_ID_MAX];
    unsigned roles;               /* 1u << ca_role for each role; never 0 */
    ca_user_state state;
    bool totp_allowed;            /* the person may enrol TOTP as a second method */
    /* Set when a recovery code was used: the sign-in code sends the person to enrol a new
     * passkey before anything else. Cleared by ca_passkey_add. */
    bool must_enroll_passkey;
    int64_t created_at, updated_at;
    int64_t activated_at;         /* first passkey, or ca_user_enable; 0 while invited */
    int64_t last_sign_in_at;      /* 0 = never */
    int64_t disabled_at;          /* 0 unless disabled */
    char disabled_reason[CA_USER_REASON_MAX]; /* "" unless disabled */
    int64_t recovery_created_at;  /* when the current codes were made; 0 = none */
    unsigned recovery_codes_left; /* unused recovery codes, 0..CA_RECOVERY_CODES */
    /* In clear only when a function was given the data key (ca_user_get, ..._find_by_email,
     * ca_user_list with a key, ca_user_invite); "" otherwise. Never log them. */
    char name[CA_USER_NAME_MAX];
    char email[CA_USER_EMAIL_MAX];
} ca_user;

/* The USER object of the API and of `user list --json` (docs/openapi.yaml, components/
 * schemas/User): id, name, email, roles, state, and the times in RFC 3339 (null: never),
 * disabledReason (null: none). A new reference, NULL when out of memory. */
struct json_t *ca_user_json(const ca_user *u);

/* ---- invites --------------------------------------------------------------------------------- */

#define CA_INVITE_SECRET_MAX 44   /* 43 base64url chars (32 random bytes) + NUL */
#define CA_INVITE_TTL_DEFAULT 1800 /* 30 minutes */
#define CA_INVITE_TTL_MIN 60 /* an invite link needs time to reach its person */
#define CA_INVITE_TTL_MAX (7 * 86400)

/* Invites a person: creates the user in state invited with the given roles (a non-zero subset
 * of CA_USER_ROLES_ALL), and a single-use enrollment secret valid for ttl_seconds (0 =
 * CA_INVITE_TTL_DEFAULT; at most CA_INVITE_TTL_MAX). secret_out (CA_INVITE_SECRET_MAX bytes)
 * gets the secret to send once; only its SHA-256 is stored. When the email belongs to a user
 * who is still invited, that user gets a fresh invite which replaces the old one (the old
 * secret stops working), and the given name and roles. *info gets the user, name and email in
 * clear. Errors: CA_ERR_INVALID (email not an address, name empty, not UTF-8 or with control
 * characters, roles 0 or unknown bits), CA_ERR_TOO_LARGE (name over 128 bytes, email over
 * 254), CA_ERR_RANGE (ttl), CA_ERR_EXISTS (an active or disabled user has this email),
 * CA_ERR_CRYPTO, store errors. */
ca_err ca_user_invite(ca_store *store, const ca_data_key *dk, ca_user *info, char *secret_out,
                      const char *email, const char *name, unsigned roles,
                      int64_t ttl_seconds, int64_t now, ca_errbuf *eb);

/* SHA-256 of an invite secret's text: the key under which an invite is stored. */
void ca_invite_hash(ca_hash *out, const char *secret);

/* Checks an invite secret without consuming it (the first step of enrollment). CA_OK with
 * user_id_out (CA_USER_ID_MAX) and *invite_hash_out (to pass to ca_passkey_add) set when the
 * invite exists, is unused, unexpired at now, and its user is still invited; the lookup is by
 * hash, so it leaks nothing about the secret. CA_ERR_PERMISSION otherwise (malformed, unknown
 * or replaced, expired, used, user no longer invited: the reason in eb). invite_hash_out may
 * be NULL. Store errors. */
ca_err ca_invite_peek(ca_store *store, char *user_id_out, ca_hash *invite_hash_out,
                      const char *secret, int64_t now, ca_errbuf *eb);

/* Checks and consumes an invite in one write, for enrollment that stores no passkey (the
 * passkey path is ca_passkey_add with the invite hash). The user stays invited. Errors as
 * ca_invite_peek. */
ca_err ca_invite_redeem(ca_store *store, char *user_id_out, const char *secret, int64_t now,
                        ca_errbuf *eb);

/* Consumes the invite with this hash inside the caller's write transaction, re-runnable
 * (ca_store_write): CA_OK when it exists, belongs to user_id, is unused and unexpired at now,
 * and the user is still invited; it is then marked used. CA_ERR_PERMISSION otherwise (the
 * transaction should then be aborted), store errors. */
ca_err ca_invite_consume(ca_store_txn *txn, const ca_hash *invite_hash, const char *user_id,
                         int64_t now, ca_errbuf *eb);

/* ---- passkeys -------------------------------------------------------------------------------- */

#define CA_PASSKEY_ID_MAX 1023  /* bytes of a credential id (WebAuthn: at most 1023) */
#define CA_PASSKEY_KEY_MAX 1024 /* bytes of a COSE_Key (RSA-4096 takes ~550) */
#define CA_PASSKEY_NAME_MAX 65  /* a label such as "YubiKey 5": 64 bytes + NUL */
#define CA_PASSKEYS_PER_USER 20

typedef struct ca_passkey {
    char user_id[CA_USER_ID_MAX];
    uint8_t cred_id[CA_PASSKEY_ID_MAX];
    size_t id_len;
    uint8_t cose_key[CA_PASSKEY_KEY_MAX];
    size_t key_len;
    int32_t alg;              /* COSE algorithm (-7 ES256, -8 EdDSA, -257 RS256) */
    uint32_t sign_count;
    char name[CA_PASSKEY_NAME_MAX];
    int64_t created_at;
    int64_t last_used_at;     /* 0 = never */
} ca_passkey;

/* Stores a verified passkey for a user, in one write transaction which also consumes the
 * invite when consume_invite is not NULL (ca_invite_consume), moves an invited user to
 * active, and clears must_enroll_passkey. If anything fails nothing is written, so a failed
 * registration leaves the invite usable. name may be NULL. Errors: CA_ERR_INVALID (bad
 * user id, empty id or key, name with control characters or not UTF-8), CA_ERR_TOO_LARGE (id,
 * key or name over its cap), CA_ERR_NOT_FOUND (no such user), CA_ERR_PERMISSION (invite
 * refused; an invited user without an invite; a disabled user), CA_ERR_EXISTS (this
 * credential id is already registered, to anyone), CA_ERR_CONFLICT (the user already has
 * CA_PASSKEYS_PER_USER passkeys), store errors. */
ca_err ca_passkey_add(ca_store *store, const char *user_id, const uint8_t *cred_id,
                      size_t id_len, const uint8_t *cose_key, size_t key_len, int32_t alg,
                      uint32_t sign_count, const char *name, int64_t now,
                      const ca_hash *consume_invite, ca_errbuf *eb);

/* The passkey with this credential id. CA_ERR_NOT_FOUND, CA_ERR_STORE (corrupt record). A
 * sign-in still checks its user (ca_user_get: active) and records the use
 * (ca_passkey_update_count) before ca_session_create. */
ca_err ca_passkey_find(ca_store *store, const uint8_t *cred_id, size_t id_len, ca_passkey *rec,
                       ca_errbuf *eb);

/* A user's passkeys, oldest first; *list is malloc'd (free()), NULL when *count is 0.
 * CA_ERR_INVALID (bad id), CA_ERR_NOMEM, CA_ERR_STORE. An unknown user has none. */
ca_err ca_passkey_list(ca_store *store, const char *user_id, ca_passkey **list, size_t *count,
                       ca_errbuf *eb);

/* Records a successful assertion: the authenticator's new signature counter and last use.
 * CA_ERR_CONFLICT (nothing written) when either counter is non-zero and the new one is not
 * greater than the stored one: WebAuthn §6.1.1's sign of a cloned authenticator, which the
 * caller treats as a failed sign-in. CA_ERR_NOT_FOUND, store errors. */
ca_err ca_passkey_update_count(ca_store *store, const uint8_t *cred_id, size_t id_len,
                               uint32_t new_count, int64_t now, ca_errbuf *eb);

/* Deletes a passkey of user_id. CA_ERR_NOT_FOUND when it does not exist or belongs to another
 * user; CA_ERR_CONFLICT when it is the last passkey of an active user (they could no longer
 * sign in: enrol another first, or disable the user). Store errors. */
ca_err ca_passkey_delete(ca_store *store, const char *user_id, const uint8_t *cred_id,
                         size_t id_len, ca_errbuf *eb);

/* ---- recovery codes -------------------------------------------------------------------------- */

#define CA_RECOVERY_CODE_MAX 15 /* "xxxx-xxxx-xxxx" + NUL */

/* The argon2id cost of recovery-code hashes. The parameters are stored with each user's
 * codes, so raising the default later affects new codes only and old ones still verify. */
typedef struct ca_recovery_kdf {
    uint32_t t_cost;    /* passes */
    uint32_t m_cost;    /* KiB */
    uint32_t lanes;     /* parallelism */
} ca_recovery_kdf;

/* Makes ten new recovery codes for a user, replacing any earlier ones (all of which stop
 * working). codes_out gets them to show once: 12 characters of Crockford base32 (60 bits
 * each) as "xxxx-xxxx-xxxx". Costs ten argon2id runs at the production cost (node/users.c).
 * Errors: CA_ERR_INVALID (bad id), CA_ERR_NOT_FOUND, CA_ERR_PERMISSION (disabled user),
 * CA_ERR_CRYPTO, CA_ERR_NOMEM, store errors. */
ca_err ca_recovery_codes_new(ca_store *store, const char *user_id,
                             char codes_out[CA_RECOVERY_CODES][CA_RECOVERY_CODE_MAX],
                             ca_errbuf *eb);

/* The same with a given argon2id cost: for unit tests only, which would otherwise spend
 * seconds hashing. No configuration key or input reaches it; production code calls
 * ca_recovery_codes_new. */
ca_err ca_recovery_codes_new_kdf(ca_store *store, const ca_recovery_kdf *kdf,
                                 const char *user_id,
                                 char codes_out[CA_RECOVERY_CODES][CA_RECOVERY_CODE_MAX],
                                 ca_errbuf *eb);

/* Signs a person in with a recovery code: who is an email (with '@'; needs dk) or a user id
 * (dk may then be NULL). The code is normalised first (case, dashes, spaces; O read as 0, I
 * and L as 1). On a match against one of the user's unused codes, that code is marked used
 * (single use), must_enroll_passkey is set on the user, and user_id_out (CA_USER_ID_MAX)
 * gets the id. Costs one argon2id run whether or not the person exists. CA_ERR_PERMISSION
 * when nothing matches (unknown person, malformed or wrong or used code, user not active),
 * store errors, CA_ERR_CRYPTO. */
ca_err ca_recovery_code_use(ca_store *store, const ca_data_key *dk, char *user_id_out,
                            const char *who, const char *code, int64_t now, ca_errbuf *eb);

/* ---- sessions -------------------------------------------------------------------------------- */

#define CA_SESSION_COOKIE_MAX 64 /* "<16 hex id>.<43 base64url secret>" + NUL */
#define CA_SESSION_CSRF_MAX 44   /* 43 base64url chars + NUL */
#define CA_SESSION_ADDR_MAX 64   /* client address text (an IPv6 address with zone fits) */
#define CA_SESSION_METHOD_MAX 12
#define CA_SESSION_SEEN_INTERVAL 60 /* last_seen_at is written at most this often */

typedef struct ca_session {
    char id[CA_USER_ID_MAX];
    char user_id[CA_USER_ID_MAX];
    char method[CA_SESSION_METHOD_MAX]; /* "passkey", "recovery" or "totp" */
    char client[CA_SESSION_ADDR_MAX];   /* the address it was created from */
    int64_t created_at, last_seen_at;
    int64_t revoked_at;                 /* 0 = not revoked */
    /* Set by ca_session_create and ca_session_check only (zeros in lists): SHA-256 of the
     * CSRF token that goes with this session, for ca_session_csrf_ok. */
    ca_hash csrf_hash;
} ca_session;

/* Starts a session for an active user after a successful sign-in. cookie_out
 * (CA_SESSION_COOKIE_MAX) gets "<session id>.<secret>" with a 256-bit secret, and csrf_out
 * (CA_SESSION_CSRF_MAX) the session's CSRF token; neither is stored (only SHA-256 of the
 * secret; the CSRF token is HMAC-SHA256 of a label under the secret, re-derived by every
 * ca_session_check). client may be NULL (stored as ""); method is "passkey", "recovery" or
 * "totp". It does not record the sign-in: call ca_user_record_sign_in too.
 * Errors: CA_ERR_INVALID (bad id, method or client text), CA_ERR_NOT_FOUND (no such user),
 * CA_ERR_PERMISSION (user not active), CA_ERR_CRYPTO, store errors. */
ca_err ca_session_create(ca_store *store, ca_session *sess, char *cookie_out, char *csrf_out,
                         const char *user_id, const char *client, const char *method,
                         int64_t now, ca_errbuf *eb);

/* Checks a session cookie at now. CA_OK with *sess (csrf_hash set) and *user (without name
 * and email) filled when the cookie matches (constant time), the session is not revoked,
 * now < created_at + absolute_timeout and now < last_seen_at + idle_timeout, and the user
 * is active. last_seen_at is then moved to now, written at most once per
 * CA_SESSION_SEEN_INTERVAL seconds so most requests cost no write (the idle timeout counts
 * from the last written value, so it may end up to that many seconds early). The caller
 * honours user->must_enroll_passkey. CA_ERR_PERMISSION with
 * the reason in eb otherwise (malformed, unknown or wrong secret, revoked, expired, idle,
 * user disabled or not active); store errors. Both timeouts must be > 0. */
ca_err ca_session_check(ca_store *store, ca_session *sess, ca_user *user, const char *cookie,
                        int64_t now, int64_t idle_timeout, int64_t absolute_timeout,
                        ca_errbuf *eb);

/* The CSRF token of a session cookie (CA_SESSION_CSRF_MAX bytes), for a page that reloads and
 * asks again (GET /v1/auth/session); check the cookie with ca_session_check first.
 * CA_ERR_INVALID for a malformed cookie, CA_ERR_CRYPTO. */
ca_err ca_session_csrf_token(char *csrf_out, const char *cookie);

/* True when token is the CSRF token of the session (compared in constant time). False for a
 * session that came from a list (no csrf_hash) and for NULL. */
bool ca_session_csrf_ok(const ca_session *sess, const char *token);

/* Sessions of one user (user_id) or of everyone (NULL), revoked and expired ones included,
 * oldest first; *list is malloc'd (free()). CA_ERR_INVALID, CA_ERR_NOMEM, CA_ERR_STORE. */
ca_err ca_session_list(ca_store *store, const char *user_id, ca_session **list, size_t *count,
                       ca_errbuf *eb);

/* Revokes one session (it stays listed with revoked_at). owner_user_id, when not NULL, must
 * own it: a person revoking their own sessions cannot reach others'. CA_ERR_INVALID (bad id),
 * CA_ERR_NOT_FOUND (no such session, or not the owner's), store errors. Revoking a revoked
 * session is CA_OK and keeps the first time. */
ca_err ca_session_revoke(ca_store *store, const char *session_id, const char *owner_user_id,
                         int64_t now, ca_errbuf *eb);

/* Revokes every session of a user; *revoked (may be NULL) gets how many were live.
 * CA_ERR_INVALID, store errors (an unknown user has none). */
ca_err ca_sessions_revoke_user(ca_store *store, const char *user_id, int64_t now,
                               size_t *revoked, ca_errbuf *eb);

/* Deletes the records of sessions that are revoked or past absolute_timeout at now, so the
 * table does not grow forever (run it from a periodic task). *removed may be NULL. */
ca_err ca_sessions_prune(ca_store *store, int64_t now, int64_t absolute_timeout,
                         size_t *removed, ca_errbuf *eb);

/* ---- users: admin actions -------------------------------------------------------------------- */

/* Every user, oldest first; *list is malloc'd (free()). With dk (may be NULL) names and
 * emails are decrypted. CA_ERR_NOMEM, CA_ERR_STORE (corrupt record), CA_ERR_VERIFY (a sealed
 * field does not open with dk). */
ca_err ca_user_list(ca_store *store, const ca_data_key *dk, ca_user **list, size_t *count,
                    ca_errbuf *eb);

/* One user, with name and email decrypted when dk is not NULL. CA_ERR_INVALID (bad id),
 * CA_ERR_NOT_FOUND, CA_ERR_STORE, CA_ERR_VERIFY. */
ca_err ca_user_get(ca_store *store, const ca_data_key *dk, ca_user *user, const char *id,
                   ca_errbuf *eb);

/* The user with this email (ASCII case and surrounding blanks ignored), decrypted.
 * CA_ERR_NOT_FOUND, CA_ERR_STORE, CA_ERR_VERIFY. */
ca_err ca_user_find_by_email(ca_store *store, const ca_data_key *dk, ca_user *user,
                             const char *email, ca_errbuf *eb);

/* Replaces a user's roles (non-zero subset of CA_USER_ROLES_ALL). CA_ERR_INVALID,
 * CA_ERR_NOT_FOUND, CA_ERR_CONFLICT when it would take the admin role from the last active
 * admin; store errors. */
ca_err ca_user_set_roles(ca_store *store, const char *id, unsigned roles, int64_t now,
                         ca_errbuf *eb);

/* Allows or forbids TOTP for a user. CA_ERR_INVALID, CA_ERR_NOT_FOUND, store errors. */
ca_err ca_user_set_totp_allowed(ca_store *store, const char *id, bool allowed, int64_t now,
                                ca_errbuf *eb);

/* Disables a user with a short reason (e.g. "by admin <id>"), revoking all their sessions in
 * the same transaction. Disabling a disabled user is CA_OK and keeps the first reason.
 * CA_ERR_INVALID (bad id, empty reason or with control characters), CA_ERR_TOO_LARGE (reason
 * over 127 bytes), CA_ERR_NOT_FOUND, CA_ERR_CONFLICT (the last active admin), store errors. */
ca_err ca_user_disable(ca_store *store, const char *id, const char *reason, int64_t now,
                       ca_errbuf *eb);

/* Re-enables a disabled user: active again if they had enrolled (activated_at set; the
 * inactivity clock restarts at now), invited otherwise (a new invite is needed). A user who
 * is not disabled is CA_OK unchanged. CA_ERR_INVALID, CA_ERR_NOT_FOUND, store errors. */
ca_err ca_user_enable(ca_store *store, const char *id, int64_t now, ca_errbuf *eb);

/* Records a successful sign-in (last_sign_in_at = now). CA_ERR_INVALID, CA_ERR_NOT_FOUND,
 * CA_ERR_PERMISSION (user not active), store errors. */
ca_err ca_user_record_sign_in(ca_store *store, const char *id, int64_t now, ca_errbuf *eb);

/* Disables, in one transaction, every active user whose last sign-in (or activation, when
 * later or when never signed in) is inactive_days * 86400 seconds or more before now, with
 * the reason "no sign-in for N days", and revokes their sessions. The last active admin is
 * never disabled this way (it stays active; see ca_user_disable). *disabled gets the users as
 * disabled (malloc'd, free(); NULL when *count is 0), for the caller's audit entries.
 * CA_ERR_RANGE (inactive_days < 1), CA_ERR_NOMEM, store errors. */
ca_err ca_users_disable_inactive(ca_store *store, int64_t now, int inactive_days,
                                 ca_user **disabled, size_t *count, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
