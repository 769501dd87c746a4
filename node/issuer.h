/*
 * The issuance engine (SPEC §5): signs Open Badges 3.0 credentials, gives each an issue number
 * and Bitstring Status List slots, appends their digests to the log, and publishes a new signed
 * status list version for every batch of status changes. Used by the HTTP routes
 * (node/routes_credentials.c) and the `issue` / `revoke` verbs.
 *
 * Durability: every credential record (and every status list version) is written in the SAME
 * LMDB transaction as its digest's leaf (ca_log_append_with), so an acknowledged credential is
 * always in the log and a crash never leaves a record without its leaf or the reverse.
 *
 * Concurrency: one issuer lock serialises the writers (issuance batches and status rounds); a
 * status change queues and the first waiting caller publishes every queued change as one list
 * version per touched list (group commit), so many revocations make one version. Readers
 * (status list GETs, lookups) do not take the writer lock. Conventions: common.h.
 */
#ifndef CREDANCHOR_ISSUER_H
#define CREDANCHOR_ISSUER_H

#include "node/auth.h"
#include "credanchor/common.h"
#include "credanchor/credential.h"
#include "node/node.h"
#include "credanchor/signer.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ca_issuer ca_issuer;       /* opaque */
typedef struct ca_resolver ca_resolver;

#define CA_ISSUE_BATCH_MAX 10000          /* items per ca_issuer_issue call / batch request */
#define CA_ISSUE_ERROR_MAX 256

/* Opens the engine on node (opened with CA_NODE_WRITE | CA_NODE_ISSUER_KEY) and resolver
 * (for the issuer DID and key ids per alg); both borrowed and outliving the issuer. Loads the
 * status lists and, on a node that has none, creates and publishes the first ones (whose
 * version digests go into the log). CA_ERR_INCONSISTENT when the log refuses appends. */
ca_err ca_issuer_open(ca_issuer **is, ca_node *node, ca_resolver *resolver, ca_errbuf *eb);
void ca_issuer_close(ca_issuer *is);

/* One participant row of a bulk issuance (SPEC §5 columns). Strings are "" when absent. */
typedef struct ca_participant {
    const char *external_id, *name, *email, *department, *course;
    int64_t completed_at;                 /* unix seconds; 0: enrolled, not completed */
} ca_participant;

/* One credential to issue. */
typedef struct ca_issue_item {
    /* in */
    json_t *credential;                   /* the unsigned credential (borrowed, not modified);
                                           * NULL: only record the participant (enrolment) */
    ca_credential_format format;
    ca_jws_alg alg;
    const ca_participant *participant;    /* bulk rows: idempotent per (achievement id,
                                           * external id); NULL for a single issuance */
    const char *recipient_name;           /* reports: a single issuance's optional metadata */
    const char *department, *course;
    /* A single issuance's recipient email for its notification (issue #18; may be NULL):
     * sealed into the outbox, never kept in clear. Bulk rows give theirs in participant. */
    const char *recipient_email;
    /* A single issuance's completion date (unix seconds; 0: none). It becomes the
     * credential's awardedDate, which must then be absent. Bulk rows give theirs in
     * participant. The issue number's YYYYMM is the completion month: completed_at, the
     * participant's, else the credential's awardedDate, else the issuing month (issue #12
     * item 8). */
    int64_t completed_at;
    /* The audit entry of an issuance (may be NULL): written in the commit that appends
     * the credential, so the request needs one sync, not two (as ca_status_change.audit). */
    const struct ca_audit_event *audit;
    /* out */
    bool audited;                         /* the audit entry was written with the credential */
    ca_err err;                           /* this item's outcome */
    char error[CA_ISSUE_ERROR_MAX];
    bool existing;                        /* already issued earlier: the earlier credential */
    char id[CA_CREDENTIAL_ID_MAX];
    char issue_number[CA_ISSUE_NUMBER_MAX];
    ca_hash digest;
    uint64_t leaf_index;
    char *signed_text;                    /* malloc'd: the compact JWT or the JCS JSON */
    size_t signed_len;
} ca_issue_item;

/* Issues n items (n <= CA_ISSUE_BATCH_MAX) as one durable commit, which concurrent calls
 * share (group commit: their items go in together, each call's outcome is its own).
 * Per-item problems (a missing OB 3.0 field, an alg without a key) set that item's err and
 * error and the rest still go in.
 * Returns an error only when nothing could be committed: CA_ERR_FULL (store full: nothing
 * acknowledged is lost), CA_ERR_INCONSISTENT (appends refused), ... with eb. */
ca_err ca_issuer_issue(ca_issuer *is, ca_issue_item *items, size_t n, ca_errbuf *eb);

/* Whether the participant p already has a credential for the achievement of credential (the
 * idempotency key a bulk re-run uses); its id into id_out (CA_CREDENTIAL_ID_MAX bytes) when
 * so. For a roster's dry run (issue #17): nothing is written. */
ca_err ca_issuer_issued_before(ca_issuer *is, const json_t *credential, const ca_participant *p,
                               char *id_out, bool *found);
/* Frees what an item's outcome holds. */
/* The SPEC §5 answer for an issued item: {"id","issueNumber","credential","digest",
 * "leafIndex","page"} (the credential as signed: a JWT string or a JSON object; page as
 * ca_issuer_page_url). NULL when out of memory. */
json_t *ca_issue_item_json(const ca_issuer *is, const ca_issue_item *it);

/* The absolute URL of credential id's public page under node.public_url (node/pages.h). */
void ca_issuer_page_url(const ca_issuer *is, const char *id, char *out, size_t cap);

void ca_issue_item_clear(ca_issue_item *it);

typedef enum ca_status_action {
    CA_STATUS_REVOKE = 1,      /* final */
    CA_STATUS_SUSPEND = 2,     /* needs a suspension entry (credentials.suspension) */
    CA_STATUS_REINSTATE = 3,   /* undoes a suspension */
} ca_status_action;

/* The longest status change reason in bytes (UTF-8; the routes and the CLI check it). */
#define CA_STATUS_REASON_MAX 512

typedef struct ca_status_change {
    /* in */
    const char *ref;           /* the credential id (urn:uuid:...) or its issue number */
    ca_status_action action;
    const char *reason;        /* may be NULL; kept in the record ("statusReason") and the
                                * audit entry, never in the list */
    /* The audit entry of the change (may be NULL; HTTP and the CLI give one): written in the
     * same transaction as the list version, so the request needs one sync, not two. */
    const struct ca_audit_event *audit;
    /* out */
    bool audited;              /* the audit entry was written with the change */
    ca_err err;                /* NOT_FOUND, CONFLICT (revoked is final, no suspension entry,
                                * reinstating what is not suspended), ... */
    char error[CA_ISSUE_ERROR_MAX];
    char id[CA_CREDENTIAL_ID_MAX];
    char issue_number[CA_ISSUE_NUMBER_MAX];
    char status[16];           /* "active", "revoked", "suspended" afterwards */
    bool changed;              /* false: already in that state (idempotent) */
    uint32_t list_id;          /* the list whose new version carries the change */
    uint64_t version;
} ca_status_change;

/* Applies n changes and returns once the list versions carrying them are durable and served.
 * Per-change problems go to that change's err; the return value is for failures of the whole
 * round (then no change is applied). */
ca_err ca_issuer_change_status(ca_issuer *is, ca_status_change *changes, size_t n,
                               ca_errbuf *eb);

/* ---- after the commit: post-commit hooks ----------------------------------------------------- */

/* What a post-commit hook is told about: one credential issued, or one status change made. */
typedef enum ca_issuer_event_kind {
    CA_ISSUER_ISSUED = 1,            /* a new credential (not an idempotent re-run's earlier one) */
    CA_ISSUER_STATUS_CHANGED = 2,    /* revoked, suspended or reinstated (not an unchanged one) */
} ca_issuer_event_kind;

typedef struct ca_issuer_event {
    ca_issuer_event_kind kind;
    const char *id;                  /* the credential id, urn:uuid:... */
    const char *issue_number;
    uint64_t leaf_index;             /* ISSUED: the credential's leaf; STATUS_CHANGED: 0
                                      * (change->list_id and change->version name the list
                                      * version that carries the change) */
    const ca_issue_item *item;       /* ISSUED: the item, outcome filled in (its participant,
                                      * signed_text, ...); NULL otherwise */
    const ca_status_change *change;  /* STATUS_CHANGED: the change, outcome filled in (action,
                                      * reason, status, list_id, version); NULL otherwise */
} ca_issuer_event;

/* A post-commit hook: gets n >= 1 events; everything they point to is borrowed for the call. */
typedef void (*ca_issuer_committed_fn)(void *user, const ca_issuer_event *events, size_t n);

#define CA_ISSUER_HOOKS_MAX 8

/* Registers fn(user, ...) to run after each commit that issues credentials or changes their
 * status, for notifiers (email, webhooks) that must never run under the writer lock. Call it
 * before the issuer is shared between threads (before ca_http_start), as routes are
 * registered; hooks run in registration order. CA_ERR_FULL past CA_ISSUER_HOOKS_MAX.
 *
 * When: once the group commit holding the credentials (or the status list versions) has
 * committed and synced (they are durable and served), in the thread that called
 * ca_issuer_issue / ca_issuer_change_status, just before that call returns. No issuer lock is
 * held and the thread is no longer part of any commit, so a hook may call the issuer
 * (issue, change status, read) without deadlock; but the caller (an HTTP request) waits for
 * it, so a slow notifier should queue its work for a thread of its own.
 * What: every credential of that call which was committed, exactly once: items with
 * err == CA_OK, a credential and !existing; changes with err == CA_OK and changed. Nothing
 * from a call that returns an error (its commit failed: nothing of it is durable), nothing for
 * per-item errors, idempotent repeats or enrolment-only rows. One call's events come in item
 * order, in one or more calls of fn. Hooks of different calls may run at the same time, in any
 * order: leaf_index and change->version give the commit order. */
ca_err ca_issuer_on_committed(ca_issuer *is, ca_issuer_committed_fn fn, void *user,
                              ca_errbuf *eb);

/* A published status list credential: the latest version (at = 0) or the one in force at
 * unix time at. body is malloc'd (the JCS bytes whose SHA-256 is in the log); etag is
 * "\"<hex digest>\"". CA_ERR_NOT_FOUND for an unknown list or a time before its first
 * version. */
typedef struct ca_status_list_version {
    char *body;
    size_t len;
    char etag[2 * CA_HASH_SIZE + 3];
    uint64_t version;
    int64_t published_at;
    uint64_t leaf_index;
} ca_status_list_version;
ca_err ca_issuer_status_list(ca_issuer *is, uint32_t list_id, int64_t at,
                             ca_status_list_version *out, ca_errbuf *eb);

/* ---- reading issued credentials (no writer lock; any store handle) ------------------------ */

/* Finds a credential by id (urn:uuid) or issue number. record (may be NULL) gets the issuance
 * record (a new reference), doc (may be NULL) the signed bytes (malloc'd). CA_ERR_NOT_FOUND,
 * CA_ERR_INVALID for a ref that is neither form. */
ca_err ca_credential_find(ca_store *store, const char *ref, uint8_t uuid[16], json_t **record,
                          char **doc, size_t *doc_len, ca_errbuf *eb);

/* Calls fn for every issuance record in id order (the record is borrowed for the call)
 * until it returns false. */
typedef bool (*ca_credential_visit_fn)(void *arg, const json_t *record);
ca_err ca_credential_scan(ca_store *store, ca_credential_visit_fn fn, void *arg, ca_errbuf *eb);

/* Calls fn for every participant row (enrolment) until it returns false. */
ca_err ca_participant_scan(ca_store *store, ca_credential_visit_fn fn, void *arg,
                           ca_errbuf *eb);

/* Registers the credential routes of SPEC §3 (node/routes_credentials.c) on srv, answering
 * through is and resolver (borrowed; they outlive the server). Before ca_http_start. */
struct ca_http_server;
ca_err ca_credential_routes_register(struct ca_http_server *srv, const ca_config *cfg,
                                     ca_issuer *is, ca_resolver *resolver, ca_errbuf *eb);

/* `credanchor check` (issue 7): every published status list version's SHA-256 is the log's
 * leaf at the index stored with it, and every credential's signed bytes hash to its record's
 * digest, which is the leaf at its leafIndex. Read-only; any store handle. */
typedef struct ca_issuer_audit {
    uint64_t versions, credentials;     /* records checked */
    uint64_t version_problems, credential_problems; /* mismatches found */
    char first_version_problem[256], first_credential_problem[256];
} ca_issuer_audit;
ca_err ca_issuer_audit_store(ca_store *store, ca_log *log, ca_issuer_audit *out, ca_errbuf *eb);

/* Figures for /metrics. */
typedef struct ca_issuer_stats {
    uint64_t issued, status_changes, list_versions, lists;
} ca_issuer_stats;
void ca_issuer_get_stats(ca_issuer *is, ca_issuer_stats *st);

#ifdef __cplusplus
}
#endif
#endif
