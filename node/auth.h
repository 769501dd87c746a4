/*
 * API tokens with roles, and the append-only audit log (SPEC §3).
 *
 * A token is shown once at creation: "ca_<16 hex id>_<43 base64url secret chars>". The store
 * keeps only the id, SHA-256 of the whole token, the role, a name, and the creation, expiry
 * and revocation times; checking compares hashes in constant time. Each token has exactly one
 * role; a route names the role it needs, and an admin token may use every route (issue #12
 * item 11: the narrow roles are for machines).
 *
 * The audit log is a hash chain: entry i holds the hash of entry i-1, so removing or editing
 * any entry breaks every later link. Conventions: common.h.
 */
#ifndef CREDANCHOR_AUTH_H
#define CREDANCHOR_AUTH_H

#include "credanchor/common.h"
#include "node/store.h"

#include <jansson.h>

#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ca_role {
    CA_ROLE_ADMIN = 1,
    CA_ROLE_ISSUER = 2,
    CA_ROLE_REVOKER = 3,
    CA_ROLE_AUDITOR = 4,
} ca_role;

#define CA_TOKEN_MAX 96     /* longest token text, NUL included */
#define CA_TOKEN_ID_MAX 17  /* 16 hex chars + NUL */
#define CA_TOKEN_NAME_MAX 128

const char *ca_role_name(ca_role role); /* "admin", "issuer", ... */
/* CA_ERR_INVALID for anything but the four role names. */
ca_err ca_role_parse(ca_role *role, const char *name);

typedef struct ca_token_info {
    char id[CA_TOKEN_ID_MAX];
    ca_role role;
    char name[CA_TOKEN_NAME_MAX];
    int64_t created_at;  /* unix seconds */
    int64_t expires_at;  /* 0 = never */
    int64_t revoked_at;  /* 0 = not revoked */
    /* Set when the caller is a person signed in with a session (issue #16, node/users.h)
     * instead of a machine token: id is then "" and role the first of roles in the order
     * admin, issuer, revoker, auditor. Audit entries name the person and the session. */
    unsigned roles;                        /* 1u << ca_role for each role; 0 for a token */
    char user_id[CA_TOKEN_ID_MAX];
    char session_id[CA_TOKEN_ID_MAX];
    char display_name[CA_TOKEN_NAME_MAX + 1]; /* a CA_USER_NAME_MAX name */
} ca_token_info;

/* The roles of a mask (1u << ca_role each) in the matrix's order, joined by sep:
 * "admin,issuer" or "issuer or admin"-style texts for messages. */
void ca_roles_text(char *out, size_t cap, unsigned roles, const char *sep);

/* True when the caller may act as role: an admin may do everything (issue #12 item 11). */
bool ca_caller_has_role(const ca_token_info *caller, ca_role role);

/* Creates a token; token_out (CA_TOKEN_MAX bytes) gets the text to show once. expires_at 0 =
 * never. name may be NULL. */
ca_err ca_token_create(ca_store *store, char *token_out, ca_token_info *info, ca_role role,
                       int64_t expires_at, const char *name, ca_errbuf *eb);

/* Every token (revoked and expired included), oldest first; *list is malloc'd. */
ca_err ca_token_list(ca_store *store, ca_token_info **list, size_t *count, ca_errbuf *eb);

/* t (Unix seconds) as RFC 3339 UTC text, or JSON null for 0 or less (never happened). */
json_t *ca_json_time(int64_t t);

/* ca_json_time of the integer member k of a stored record, or JSON null when it is absent. */
json_t *ca_json_time_of(const json_t *record, const char *k);

/* "active", "expired" or "revoked" at time now. */
const char *ca_token_status(const ca_token_info *t, int64_t now);

/* A token as `token list --json` and GET /v1/tokens show it: {"id","role","name" (null when
 * none),"createdAt","expiresAt","revokedAt" (RFC 3339 or null),"status"}; never the secret.
 * A new reference, NULL when out of memory. */
json_t *ca_token_json(const ca_token_info *t, int64_t now);

/* Marks a token revoked (it stays listed). CA_ERR_NOT_FOUND for an unknown id. */
ca_err ca_token_revoke(ca_store *store, const char *id, ca_errbuf *eb);

/* Checks a bearer token at time now. CA_OK with info filled when it exists, matches, is not
 * revoked and not expired; CA_ERR_PERMISSION otherwise (the caller answers 401; the reason is
 * in eb but must not be told to the client beyond "invalid token"). The caller compares
 * info->role with the route's role (403 on mismatch). */
ca_err ca_token_check(ca_store *store, ca_token_info *info, const char *token, size_t len,
                      int64_t now, ca_errbuf *eb);

/* Parses a duration such as "90d", "12h", "30m", "3600s" or "3600" into seconds. */
ca_err ca_duration_parse(int64_t *seconds, const char *text);

/* Appends one audit entry {seq, time, tokenId, role, method, route, status, detail, prev}
 * chained to the previous one, durably, in its own write transaction. A person's entry
 * (token->user_id set) has tokenId null, role the person's roles joined by ",", and also
 * userId, userName and sessionId; an HTTP entry also has client. */
typedef struct ca_audit_event {
    const ca_token_info *token; /* who (NULL for a CLI action: recorded as "cli") */
    const char *method;         /* "POST" or the CLI verb */
    const char *route;          /* the route pattern or path; never a token or key */
    int status;                 /* HTTP status, or CLI exit code */
    const char *detail;         /* short outcome text; may be NULL */
    const char *client;         /* the client's address on HTTP; NULL otherwise */
} ca_audit_event;
ca_err ca_audit_append(ca_store *store, const ca_audit_event *ev, ca_errbuf *eb);

/* Writes one audit entry inside a write transaction the caller commits (the log's group
 * commit, so a write route's audit entry shares the sync of the commits running with it).
 * now is the entry's time (unix seconds). Re-runnable: it reads the chain head in txn. */
typedef struct ca_store_txn ca_store_txn;
ca_err ca_audit_write(ca_store_txn *txn, const ca_audit_event *ev, int64_t now, ca_errbuf *eb);

/* Denied attempts (403) of valid tokens (issue #13 item 16: one token could write ~570 synced
 * entries a second through 403s). Per token and CA_AUDIT_DENY_WINDOW-second window: the first
 * denial is written as an entry of its own, the repeats only counted, and one entry then
 * records their number ("N more denied attempts ...") when the window has passed: at the
 * token's next denial, at ca_audit_denied_flush, or when the table needs the slot. Past
 * CA_AUDIT_DENY_MAX denials in a window the caller answers 429 instead of 403, for the seconds
 * ca_audit_denied returns (0: answer 403). ev->token must be set. Nothing denied goes
 * unrecorded except the counts of a process killed before it flushed (at most one window). */
#define CA_AUDIT_DENY_WINDOW 60
#define CA_AUDIT_DENY_MAX 30
unsigned ca_audit_denied(ca_store *store, const ca_audit_event *ev, int64_t now);
/* Writes the count entries of the windows that have passed (all: every pending count, as at
 * shutdown). Cheap when none is due. */
void ca_audit_denied_flush(ca_store *store, int64_t now, bool all);

/* Reading the audit log (issue #12 item 7: `audit list`, GET /v1/audit). Entries come in
 * sequence order, each the stored JSON object as it is (seq, time, tokenId, role, method,
 * route, status, detail, prev), starting after sequence `after`. Filters: entries at or after
 * `since` and at or before `until` (unix seconds, 0 = open), of token `token_id` ("" any;
 * "cli" for CLI actions; a user id for a person's actions). At most `limit` entries
 * (1..CA_AUDIT_LIST_MAX); *next is the sequence to pass as `after` for the following page, 0
 * when this page reached the end. At
 * most CA_AUDIT_SCAN_MAX entries are read per call, so a filter matching nothing still
 * answers quickly, with *next set to resume the scan. *entries is a new JSON array. */
#define CA_AUDIT_LIST_MAX 1000
#define CA_AUDIT_SCAN_MAX 100000
typedef struct ca_audit_query {
    uint64_t after;
    int64_t since, until;
    char token_id[24];
    size_t limit;
} ca_audit_query;
ca_err ca_audit_list(ca_store *store, const ca_audit_query *q, json_t **entries,
                     uint64_t *next, ca_errbuf *eb);

/* Walks the chain; CA_OK with *entries counted when intact, CA_ERR_VERIFY naming the first
 * broken entry otherwise. */
ca_err ca_audit_verify(ca_store *store, uint64_t *entries, ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
