/* The delivery outbox (outbox.h): records, the issuer's enqueue calls, and the workers. */
#include "node/outbox.h"

#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "node/auth.h"
#include "node/certificate.h"
#include "node/data_key.h"
#include "node/delivery_attempt.h"
#include "node/due_pool.h"
#include "node/http_session.h"
#include "node/mail_message.h"
#include "node/node_log.h"
#include "node/pages.h"
#include "node/smtp.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- keys and records ---------------------------------------------------------------------- */

/* outbox key: uuid (16) || event (1) || channel (1) || sequence (8, big-endian) */
#define KEY_LEN 26
/* outbox_due key: due unix time (8, big-endian) || action (1) || outbox key */
#define DUE_LEN (8 + 1 + KEY_LEN)
#define CHANNEL_EMAIL 'm'
#define ACTION_SEND 's'
#define ACTION_ERASE 'e'
#define DELIVERY_NICE 10      /* senders yield the CPU to issuance (due_pool.h) */
/* While issuing, each sender leaves 100 ms between messages: 4 connections still send
 * 2,400 a minute (the issue's floor is 2,000) and issuance keeps the CPU (bench/delivery.sh). */
#define EMAIL_YIELD_GAP_MS 100
#define EMAIL_MAX 254         /* RFC 5321 §4.5.3.1.3 path limit */

static void make_key(uint8_t key[KEY_LEN], const uint8_t uuid[16], char event, char channel,
                     uint64_t seq)
{
    memcpy(key, uuid, 16);
    key[16] = (uint8_t)event;
    key[17] = (uint8_t)channel;
    ca_store_u64_key(key + 18, seq);
}

static void make_due(uint8_t due[DUE_LEN], int64_t at, char action, const uint8_t key[KEY_LEN])
{
    ca_store_u64_key(due, (uint64_t)(at < 0 ? 0 : at));
    due[8] = (uint8_t)action;
    memcpy(due + 9, key, KEY_LEN);
}

static const char *event_name(char e)
{
    switch (e) {
    case CA_OUTBOX_ISSUED: return "credential.issued";
    case CA_OUTBOX_REVOKED: return "credential.revoked";
    case CA_OUTBOX_SUSPENDED: return "credential.suspended";
    case CA_OUTBOX_REINSTATED: return "credential.reinstated";
    default: return "unknown";
    }
}

static json_t *load_record(ca_store_txn *t, const uint8_t key[KEY_LEN])
{
    ca_store_val v;
    if (ca_store_get(t, CA_TABLE_OUTBOX, key, KEY_LEN, &v))
        return NULL;
    return json_loadb(v.data, v.len, 0, NULL);
}

static ca_err put_record(ca_store_txn *t, const uint8_t key[KEY_LEN], const json_t *rec)
{
    char *text = json_dumps(rec, JSON_COMPACT);
    if (!text)
        return CA_ERR_NOMEM;
    ca_err err = ca_store_put(t, CA_TABLE_OUTBOX, key, KEY_LEN, text, strlen(text));
    free(text);
    return err;
}

/* The associated data of a sealed address: it opens only in its own credential's deliveries
 * (data_key.h). */
static void address_aad(char aad[64], const uint8_t uuid[16])
{
    char hex[33];
    ca_hex_encode(hex, uuid, 16);
    snprintf(aad, 64, "outbox:%s:email", hex);
}

/* A new queued delivery of key holding the sealed address to_b64, due now. */
static ca_err put_queued(ca_store_txn *t, const uint8_t key[KEY_LEN], const char *to_b64,
                         int64_t now)
{
    json_t *rec = json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:s, s:[]}", "event",
                            event_name((char)key[16]), "channel", "email", "state", "queued",
                            "queuedAt", (json_int_t)now, "nextAt", (json_int_t)now, "attempts",
                            0, "to", to_b64, "log");
    if (!rec)
        return CA_ERR_NOMEM;
    ca_err err = put_record(t, key, rec);
    json_decref(rec);
    uint8_t due[DUE_LEN];
    make_due(due, now, ACTION_SEND, key);
    return err ? err : ca_store_put(t, CA_TABLE_OUTBOX_DUE, due, DUE_LEN, "", 0);
}

/* ---- in the issuer's transaction ------------------------------------------------------------ */

ca_err ca_outbox_enqueue_issued(ca_store_txn *t, const ca_node *node, const uint8_t uuid[16],
                                const char *email, int64_t now, ca_errbuf *eb)
{
    if (!node->cfg.mail_smtp_url[0] || !email || !email[0])
        return CA_OK;
    ca_err err = ca_mail_address_check(email, eb);
    if (err)
        return err;
    if (!node->data_key)
        return ca_fail(eb, CA_ERR_CONFIG, "the node's data key is not loaded: a recipient's "
                       "email can only be kept sealed");
    uint8_t sealed[EMAIL_MAX + CA_SEAL_OVERHEAD];
    size_t slen;
    char aad[64], b64[2 * sizeof sealed];
    address_aad(aad, uuid);
    if ((err = ca_data_seal(node->data_key, sealed, &slen, (const uint8_t *)email, strlen(email),
                            aad, strlen(aad), eb)))
        return err;
    ca_base64_encode(b64, sealed, slen);
    uint8_t key[KEY_LEN];
    make_key(key, uuid, CA_OUTBOX_ISSUED, CHANNEL_EMAIL, 0);
    if ((err = put_queued(t, key, b64, now)))
        return ca_fail(eb, err, "cannot queue the email: %s", ca_strerror(err));
    return CA_OK;
}

/* One past the last delivery of (uuid, event, channel): the next one's sequence. */
static ca_err next_sequence(ca_store_txn *t, const uint8_t uuid[16], char event, uint64_t *seq)
{
    uint8_t prefix[18];
    memcpy(prefix, uuid, 16);
    prefix[16] = (uint8_t)event;
    prefix[17] = CHANNEL_EMAIL;
    ca_store_val k;
    ca_err err = ca_store_last_under(t, CA_TABLE_OUTBOX, prefix, sizeof prefix, &k, NULL);
    *seq = 0;
    if (err == CA_ERR_NOT_FOUND)
        return CA_OK;
    if (!err && k.len == KEY_LEN)
        *seq = ca_store_u64_from((const uint8_t *)k.data + 18) + 1;
    return err;
}

/* A new delivery of (uuid, event) to the address the first issued email holds; *queued false
 * when that address is gone (never queued, or erased). */
static ca_err queue_again(ca_store_txn *t, const uint8_t uuid[16], char event, int64_t now,
                          bool *queued)
{
    *queued = false;
    uint8_t first[KEY_LEN], key[KEY_LEN];
    make_key(first, uuid, CA_OUTBOX_ISSUED, CHANNEL_EMAIL, 0);
    json_t *rec = load_record(t, first);
    const char *to = json_string_value(json_object_get(rec, "to"));
    uint64_t seq = 0;
    ca_err err = to ? next_sequence(t, uuid, event, &seq) : CA_OK;
    if (to && !err) {
        make_key(key, uuid, event, CHANNEL_EMAIL, seq);
        err = put_queued(t, key, to, now);
        *queued = !err;
    }
    json_decref(rec);
    return err;
}

ca_err ca_outbox_enqueue_status(ca_store_txn *t, const ca_node *node, const uint8_t uuid[16],
                                ca_outbox_event event, int64_t now, ca_errbuf *eb)
{
    if (!node->cfg.mail_smtp_url[0])
        return CA_OK;
    bool queued;
    ca_err err = queue_again(t, uuid, (char)event, now, &queued);
    return err ? ca_fail(eb, err, "cannot queue the email: %s", ca_strerror(err)) : CA_OK;
}

/* ---- the workers ------------------------------------------------------------------------- */

struct ca_outbox {
    ca_node *node;
    ca_due_pool *pool;
    char from_addr[CA_CONFIG_STR_MAX];
    char domain[CA_WEB_ORIGIN_MAX];         /* Message-ID's right side: public_url's host */
};

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- one delivery's outcome, written back ---------------------------------------------------- */

typedef struct outcome {
    uint8_t due[DUE_LEN];    /* the due key worked on */
    ca_smtp_result r;
    char message_id[320];
    const ca_config *cfg;
    int64_t now;
} outcome;

/* A delivery that ended: its address is erased now (retention 0) or after the window. */
static ca_err schedule_erase(ca_store_txn *t, const outcome *o, json_t *rec,
                             const uint8_t key[KEY_LEN])
{
    int64_t days = (int64_t)o->cfg->delivery_retention_days;
    json_object_set_new(rec, "endedAt", json_integer(o->now));
    if (days == 0) {
        json_object_del(rec, "to");
        json_object_set_new(rec, "erasedAt", json_integer(o->now));
        return CA_OK;
    }
    uint8_t due[DUE_LEN];
    make_due(due, o->now + days * 86400, ACTION_ERASE, key);
    return ca_store_put(t, CA_TABLE_OUTBOX_DUE, due, DUE_LEN, "", 0);
}

/* Applies the next state to rec (see outbox.h) and moves its due entry. */
static ca_err apply_outcome(ca_store_txn *t, const outcome *o, json_t *rec,
                            const uint8_t key[KEY_LEN])
{
    json_object_set_new(rec, "messageId", json_string(o->message_id));
    ca_delivery_attempt a = {.ok = o->r.outcome == CA_SMTP_SENT,
                             .permanent = o->r.outcome == CA_SMTP_PERMANENT,
                             .code = o->r.code, .detail = o->r.detail};
    int64_t at = ca_delivery_record_attempt(rec, o->cfg, o->now, &a, "sent", "sentAt");
    if (!at)
        return schedule_erase(t, o, rec, key);
    uint8_t due[DUE_LEN];
    make_due(due, at, ACTION_SEND, key);
    return ca_store_put(t, CA_TABLE_OUTBOX_DUE, due, DUE_LEN, "", 0);
}

/* Records one outcome (a due_pool record callback): the due entry goes, the record moves on. */
static ca_err record(void *ctx, ca_store_txn *t, const uint8_t *due, const void *arg,
                     ca_errbuf *eb)
{
    (void)ctx;
    (void)due;
    const outcome *o = arg;
    const uint8_t *key = o->due + 9;
    ca_err err = ca_store_del(t, CA_TABLE_OUTBOX_DUE, o->due, DUE_LEN);
    if (err && err != CA_ERR_NOT_FOUND)
        return ca_fail(eb, err, "outbox: %s", ca_strerror(err));
    json_t *rec = load_record(t, key);
    if (!rec) /* gone: nothing to record */
        return CA_OK;
    err = o->due[8] == ACTION_ERASE ? CA_OK : apply_outcome(t, o, rec, key);
    if (!err && o->due[8] == ACTION_ERASE) {
        json_object_del(rec, "to");
        json_object_set_new(rec, "erasedAt", json_integer(o->now));
    }
    if (!err)
        err = put_record(t, key, rec);
    json_decref(rec);
    return err ? ca_fail(eb, err, "outbox: %s", ca_strerror(err)) : CA_OK;
}

/* ---- one message --------------------------------------------------------------------------- */

/* What a send needs from the store, read in one transaction. */
typedef struct message_facts {
    char to[EMAIL_MAX + 1];
    char id[128];
    char reason[CA_STATUS_REASON_MAX + 1];
    ca_credential_view view;
    bool queued;      /* the delivery is still queued */
} message_facts;

static ca_err open_address(const ca_node *node, const json_t *rec, const uint8_t *uuid,
                           char to[EMAIL_MAX + 1], ca_errbuf *eb)
{
    const char *b64 = json_string_value(json_object_get(rec, "to"));
    uint8_t sealed[EMAIL_MAX + CA_SEAL_OVERHEAD];
    size_t slen = sizeof sealed, plen = EMAIL_MAX;
    char aad[64];
    address_aad(aad, uuid);
    if (!b64 || ca_base64_decode(sealed, &slen, b64, strlen(b64)))
        return ca_fail(eb, CA_ERR_INVALID, "the delivery holds no address (erased)");
    ca_err err = ca_data_open(node->data_key, (uint8_t *)to, &plen, sealed, slen, aad,
                              strlen(aad), eb);
    to[err ? 0 : plen] = '\0';
    return err;
}

static ca_err read_facts(const ca_node *node, const uint8_t key[KEY_LEN], message_facts *f,
                         ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = ca_store_begin(node->store, &t, false, eb);
    if (err)
        return err;
    json_t *rec = load_record(t, key), *cred = NULL;
    ca_store_val v, doc;
    f->queued = rec && strcmp(json_string_value(json_object_get(rec, "state")) ?: "", "queued")
                           == 0;
    if (f->queued && !ca_store_get(t, CA_TABLE_CREDENTIALS, key, 16, &v))
        cred = json_loadb(v.data, v.len, 0, NULL);
    if (!f->queued) {
        err = CA_OK;
    } else if (!cred || ca_store_get(t, CA_TABLE_CREDENTIAL_DOCS, key, 16, &doc)) {
        err = ca_fail(eb, CA_ERR_NOT_FOUND, "the credential's record is missing");
    } else {
        snprintf(f->id, sizeof f->id, "%s", json_string_value(json_object_get(cred, "id")) ?: "");
        snprintf(f->reason, sizeof f->reason, "%s",
                 json_string_value(json_object_get(cred, "statusReason")) ?: "");
        char page[CA_PAGE_URL_MAX];
        ca_page_url(page, sizeof page, node->cfg.node_public_url, f->id);
        err = ca_credential_view_load(&f->view, NULL, doc.data, doc.len, page, eb);
        if (!err)
            err = open_address(node, rec, key, f->to, eb);
    }
    ca_store_abort(t);
    json_decref(rec);
    json_decref(cred);
    return err;
}

/* The Message-ID: derived from the outbox key, so a repeat after a crash is the same message
 * to the receiver (RFC 5322 §3.6.4: unique per message; ours is unique per delivery). */
static void message_id(const ca_outbox *ob, const uint8_t key[KEY_LEN], char *out, size_t cap)
{
    ca_hash h;
    ca_sha256(&h, key, KEY_LEN);
    char hex[33];
    ca_hex_encode(hex, h.b, 16);
    snprintf(out, cap, "%s.%s@%.255s", hex, event_name((char)key[16]) + 11, ob->domain);
}

#define MAIL_TEMPLATE_MAX (64 * 1024)

/* The achievement's own wording, <templates_dir>/<achievement>.mail.json (docs/delivery.md):
 * {"ko": {"subject", "message"}, "en": {...}, "signature"}; *out NULL when there is none.
 * A file that is there but unreadable or malformed is an error, so a typo is seen (on the
 * delivery and in the log) instead of silently sending the built-in wording. */
static ca_err mail_template(const ca_config *cfg, const char *achievement, json_t **out,
                            ca_errbuf *eb)
{
    char path[CA_CONFIG_STR_MAX + 192];
    *out = NULL;
    if (!achievement[0])
        return CA_OK;
    snprintf(path, sizeof path, "%s/%s.mail.json", cfg->credentials_templates_dir, achievement);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return CA_OK;
    json_error_t je;
    bool big = fseek(fp, 0, SEEK_END) != 0 || ftell(fp) > MAIL_TEMPLATE_MAX;
    rewind(fp);
    json_t *t = big ? NULL : json_loadf(fp, JSON_REJECT_DUPLICATES, &je);
    fclose(fp);
    if (!t || !json_is_object(t)) {
        json_decref(t);
        return ca_fail(eb, CA_ERR_CONFIG, "%s: %s", path,
                       big ? "over 64 KiB" : t ? "not a JSON object" : je.text);
    }
    static const char *const keys[4][2] = {{"ko", "subject"}, {"ko", "message"},
                                           {"en", "subject"}, {"en", "message"}};
    for (int i = 0; i < 4; i++) {
        const json_t *v = json_object_get(json_object_get(t, keys[i][0]), keys[i][1]);
        char what[32];
        snprintf(what, sizeof what, "%s.%s", keys[i][0], keys[i][1]);
        if (v && (!json_is_string(v) ||
                  ca_mail_template_check(json_string_value(v), what, eb) != CA_OK)) {
            json_decref(t);
            return ca_fail(eb, CA_ERR_CONFIG, "%s: %s: a text naming only {name} {issuer} "
                           "{achievement} {number} {url}", path, what);
        }
    }
    *out = t;
    return CA_OK;
}

static ca_err compose(const ca_outbox *ob, const uint8_t key[KEY_LEN], const message_facts *f,
                      const char *mid, char **msg, size_t *len, ca_errbuf *eb)
{
    const ca_config *cfg = &ob->node->cfg;
    char *pdf = NULL;
    size_t pdf_len = 0;
    char name[96];
    ca_err err = CA_OK;
    if (cfg->mail_attach_pdf && key[16] == CA_OUTBOX_ISSUED)
        err = ca_certificate_pdf(&pdf, &pdf_len, &f->view, cfg->credentials_certificates_dir, eb);
    snprintf(name, sizeof name, "%s.pdf", f->view.issue_number);
    ca_mail_content c = {.languages = cfg->mail_languages,
                         .recipient_name = f->view.recipient,
                         .achievement_name = f->view.achievement_name,
                         .issuer_name = f->view.issuer_name,
                         .issue_number = f->view.issue_number,
                         .page_url = f->view.page_url,
                         .event = event_name((char)key[16]),
                         .reason = f->reason};
    json_t *t = NULL;
    if (!err)
        err = mail_template(cfg, f->view.achievement_key, &t, eb);
    static const char *const langs[2] = {"ko", "en"};
    for (int i = 0; i < 2; i++) {
        const json_t *l = json_object_get(t, langs[i]);
        c.custom_subject[i] = json_string_value(json_object_get(l, "subject"));
        c.custom_message[i] = json_string_value(json_object_get(l, "message"));
    }
    c.signature = json_string_value(json_object_get(t, "signature"));
    ca_mail_envelope e = {.from = cfg->mail_from, .to = f->to, .to_name = f->view.recipient,
                          .message_id = mid, .date = now_s(), .attachment = (uint8_t *)pdf,
                          .attachment_len = pdf_len, .attachment_name = name};
    if (!err)
        err = ca_mail_compose(msg, len, &e, &c, eb);
    json_decref(t);
    free(pdf);
    return err;
}

/* Sends the delivery of due (action send) and returns its outcome in o->r. */
static void send_one(ca_outbox *ob, ca_smtp_sender **sender, const uint8_t *due, outcome *o)
{
    const uint8_t *key = due + 9;
    message_facts f = {0};
    ca_errbuf eb = {{0}};
    ca_err err = read_facts(ob->node, key, &f, &eb);
    if (!err && !f.queued) {
        o->r.outcome = CA_SMTP_PERMANENT; /* not queued any more: only the due entry goes */
        snprintf(o->r.detail, sizeof o->r.detail, "not queued");
        return;
    }
    char *msg = NULL;
    size_t len = 0;
    if (!err)
        err = compose(ob, key, &f, o->message_id, &msg, &len, &eb);
    /* A message that cannot be made from its data (an address or title the composer refuses,
     * the credential gone) will never be made: permanent. Anything else (memory, a sender
     * that cannot be set up because mail.ca_file is unreadable) is retried. */
    bool permanent = err == CA_ERR_INVALID || err == CA_ERR_NOT_FOUND || err == CA_ERR_VERIFY;
    if (!err && !*sender)
        err = ca_smtp_sender_new(sender, &ob->node->cfg, &eb);
    if (err) {
        o->r.outcome = permanent ? CA_SMTP_PERMANENT : CA_SMTP_TEMPORARY;
        snprintf(o->r.detail, sizeof o->r.detail, "%.300s", eb.msg);
    } else {
        ca_smtp_send(*sender, ob->from_addr, f.to, msg, len, &o->r);
    }
    ca_wipe(f.to, sizeof f.to);
    free(msg);
}

/* A pool worker's turn (due_pool.h): the thread state is its SMTP sender. */
/* A pool worker's turn (due_pool.h): sends, or for an erase does nothing but record. The
 * thread state is the worker's SMTP sender, which keeps its connection between messages. */
static void *send_turn(void *ctx, void **state, const uint8_t *due)
{
    ca_outbox *ob = ctx;
    outcome *o = calloc(1, sizeof *o);
    if (!o)
        return NULL; /* nothing sent: the pool leaves the key for a later turn */
    memcpy(o->due, due, DUE_LEN);
    o->cfg = &ob->node->cfg;
    message_id(ob, due + 9, o->message_id, sizeof o->message_id);
    if (due[8] == ACTION_SEND)
        send_one(ob, (ca_smtp_sender **)state, due, o);
    o->now = now_s();
    return o;
}

static void finish(void *ctx, const uint8_t *due, void *arg, ca_err err, const char *why)
{
    (void)ctx;
    outcome *o = arg;
    char hex[33];
    ca_hex_encode(hex, due + 9, 16);
    if (err)
        ca_node_log(CA_NODE_LOG_ERROR, "outbox", "credential %s: cannot record the delivery: %s",
                    hex, why);
    else if (due[8] == ACTION_SEND && strcmp(o->r.detail, "not queued") != 0)
        ca_node_log(o->r.outcome == CA_SMTP_SENT ? CA_NODE_LOG_INFO : CA_NODE_LOG_WARNING,
                    "outbox", "credential %s %s email: %s", hex, event_name((char)due[9 + 16]),
                    o->r.detail);
    free(o);
}

static void sender_done(void *state)
{
    ca_smtp_sender_free(state);
}

ca_err ca_outbox_start(ca_outbox **out, ca_node *node, ca_errbuf *eb)
{
    *out = NULL;
    if (!node->cfg.mail_smtp_url[0])
        return CA_OK;
    ca_outbox *ob = calloc(1, sizeof *ob);
    if (!ob)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    ob->node = node;
    char name[CA_CONFIG_STR_MAX];
    ca_err err = ca_mail_from_parse(node->cfg.mail_from, ob->from_addr, sizeof ob->from_addr,
                                    name, sizeof name, eb);
    if (err) {
        char why[sizeof eb->msg];
        snprintf(why, sizeof why, "%s", eb->msg);
        free(ob);
        return ca_fail(eb, CA_ERR_CONFIG, "config: mail.from: %s", why);
    }
    ca_public_rp_id(&node->cfg, ob->domain); /* the host the pages are served under */
    if (!ob->domain[0])
        snprintf(ob->domain, sizeof ob->domain, "localhost");
    ca_due_pool_options po = {.store = node->store, .table = CA_TABLE_OUTBOX_DUE,
                              .key_len = DUE_LEN, .workers = node->cfg.mail_connections,
                              .name = "outbox", .send = send_turn, .record = record,
                              .finish = finish, .thread_done = sender_done,
                              .nice = DELIVERY_NICE, .yield_gap_ms = EMAIL_YIELD_GAP_MS,
                              .ctx = ob};
    if ((err = ca_due_pool_start(&ob->pool, &po, eb))) {
        free(ob);
        return err;
    }
    *out = ob;
    return CA_OK;
}

void ca_outbox_stop(ca_outbox *ob)
{
    if (!ob)
        return;
    ca_due_pool_stop(ob->pool);
    free(ob);
}

void ca_outbox_committed(void *arg, const ca_issuer_event *events, size_t n)
{
    (void)events;
    (void)n;
    ca_due_pool *pool = ((ca_outbox *)arg)->pool;
    ca_due_pool_note_busy(pool); /* an issuance: the senders pace themselves (due_pool.h) */
    ca_due_pool_wake(pool);
}

/* ---- reading and acting ------------------------------------------------------------------ */

typedef struct list_arg {
    const uint8_t *uuid;
    json_t *arr;
} list_arg;

static json_t *public_record(const json_t *rec)
{
    json_t *log = json_array();
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(rec, "log"), i, a) {
        json_t *e = json_deep_copy(a);
        json_object_set_new(e, "at", ca_json_time_of(a, "at"));
        json_array_append_new(log, e);
    }
    const char *state = json_string_value(json_object_get(rec, "state"));
    return json_pack("{s:O, s:O, s:O, s:O, s:o, s:o, s:o, s:O?, s:O?, s:b, s:o, s:o}", "event",
                     json_object_get(rec, "event"), "channel", json_object_get(rec, "channel"),
                     "state", json_object_get(rec, "state"), "attempts",
                     json_object_get(rec, "attempts"), "queuedAt", ca_json_time_of(rec, "queuedAt"),
                     "nextAttemptAt",
                     state && !strcmp(state, "queued") ? ca_json_time_of(rec, "nextAt") : json_null(),
                     "sentAt", ca_json_time_of(rec, "sentAt"), "lastError",
                     json_object_get(rec, "lastError"), "messageId",
                     json_object_get(rec, "messageId"), "addressHeld",
                     json_object_get(rec, "to") != NULL, "erasedAt", ca_json_time_of(rec, "erasedAt"),
                     "log", log);
}

static bool list_visit(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    list_arg *l = arg;
    if (k->len != KEY_LEN || memcmp(k->data, l->uuid, 16) != 0)
        return false;
    json_t *rec = json_loadb(v->data, v->len, 0, NULL);
    if (rec)
        json_array_append_new(l->arr, public_record(rec));
    json_decref(rec);
    return true;
}

ca_err ca_outbox_deliveries(ca_store_txn *t, const uint8_t uuid[16], json_t **out)
{
    list_arg l = {uuid, json_array()};
    if (!l.arr)
        return CA_ERR_NOMEM;
    ca_err err = ca_store_scan(t, CA_TABLE_OUTBOX, uuid, 16, list_visit, &l);
    if (err && err != CA_ERR_NOT_FOUND) {
        json_decref(l.arr);
        return err;
    }
    *out = l.arr;
    return CA_OK;
}

typedef struct summary_arg {
    const uint8_t *uuid;
    int64_t latest;
    char *channel, *state;
} summary_arg;

static bool summary_visit(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    summary_arg *s = arg;
    if (k->len != KEY_LEN || memcmp(k->data, s->uuid, 16) != 0)
        return false;
    json_t *rec = json_loadb(v->data, v->len, 0, NULL);
    int64_t at = (int64_t)json_integer_value(json_object_get(rec, "queuedAt"));
    if (rec && at >= s->latest) {
        s->latest = at;
        snprintf(s->channel, 16, "%s", json_string_value(json_object_get(rec, "channel")) ?: "");
        snprintf(s->state, 16, "%s", json_string_value(json_object_get(rec, "state")) ?: "");
    }
    json_decref(rec);
    return true;
}

void ca_outbox_summary(ca_store_txn *t, const uint8_t uuid[16], char channel[16],
                       char state[16])
{
    channel[0] = state[0] = '\0';
    summary_arg s = {uuid, 0, channel, state};
    ca_store_scan(t, CA_TABLE_OUTBOX, uuid, 16, summary_visit, &s);
}

typedef struct resend_arg {
    const uint8_t *uuid;
    int64_t now;
} resend_arg;

typedef struct queued_arg {
    uint8_t prefix[18];
    bool busy;
} queued_arg;

/* Whether a delivery of the prefix's (credential, event, channel) is still queued; the scan
 * stops at the first key of another prefix. */
static bool queued_visit(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    queued_arg *q = arg;
    if (k->len != KEY_LEN || memcmp(k->data, q->prefix, 18) != 0)
        return false;
    json_t *rec = json_loadb(v->data, v->len, 0, NULL);
    const char *st = json_string_value(json_object_get(rec, "state"));
    q->busy = q->busy || (st && strcmp(st, "queued") == 0);
    json_decref(rec);
    return true;
}

static ca_err resend_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    const resend_arg *r = arg;
    uint8_t prefix[18];
    memcpy(prefix, r->uuid, 16);
    prefix[16] = CA_OUTBOX_ISSUED;
    prefix[17] = CHANNEL_EMAIL;
    if (ca_store_last_under(t, CA_TABLE_OUTBOX, prefix, sizeof prefix, NULL, NULL) ==
        CA_ERR_NOT_FOUND)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "this credential was never emailed (no recipient "
                       "email, or mail was not configured when it was issued)");
    queued_arg q = {.busy = false};
    memcpy(q.prefix, prefix, 18);
    ca_store_scan(t, CA_TABLE_OUTBOX, prefix, 18, queued_visit, &q);
    if (q.busy)
        return ca_fail(eb, CA_ERR_CONFLICT, "an email of this credential is still queued");
    bool queued;
    ca_err err = queue_again(t, r->uuid, CA_OUTBOX_ISSUED, r->now, &queued);
    if (err)
        return ca_fail(eb, err, "cannot queue the email: %s", ca_strerror(err));
    if (!queued)
        return ca_fail(eb, CA_ERR_CONFLICT, "the recipient's address was erased after the "
                       "retention window (delivery.retention_days)");
    return CA_OK;
}

ca_err ca_outbox_resend(ca_store *store, const uint8_t uuid[16], int64_t now, ca_errbuf *eb)
{
    resend_arg r = {uuid, now};
    return ca_store_write(store, resend_txn, &r, eb);
}

typedef struct counts_arg {
    uint64_t held, queued;
} counts_arg;

static bool counts_visit(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    (void)k;
    counts_arg *c = arg;
    json_t *rec = json_loadb(v->data, v->len, 0, NULL);
    const char *st = json_string_value(json_object_get(rec, "state"));
    c->held += json_object_get(rec, "to") != NULL;
    c->queued += st && strcmp(st, "queued") == 0;
    json_decref(rec);
    return true;
}

ca_err ca_outbox_counts(ca_store_txn *t, uint64_t *held, uint64_t *queued)
{
    counts_arg c = {0, 0};
    ca_err err = ca_store_scan(t, CA_TABLE_OUTBOX, NULL, 0, counts_visit, &c);
    *held = c.held;
    *queued = c.queued;
    return err == CA_ERR_NOT_FOUND ? CA_OK : err;
}
