/* Webhooks (webhooks.h): endpoints, the in-transaction queue, and the senders. */
#include "node/webhooks.h"

#include "credanchor/capbuf.h"
#include "credanchor/crypto.h"
#include "credanchor/curl_tls.h"
#include "credanchor/encoding.h"
#include "node/auth.h"
#include "node/data_key.h"
#include "node/delivery_attempt.h"
#include "node/due_pool.h"
#include "node/node_log.h"
#include "node/outbox.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ID_LEN CA_WEBHOOK_ID_LEN
#define DKEY_LEN (ID_LEN + 8)        /* delivery key: endpoint id || sequence */
#define DUE_LEN (8 + DKEY_LEN)       /* due key: time || delivery key */
#define SECRET_BYTES 32
#define ROTATION_OVERLAP (24 * 3600) /* the old secret keeps signing this long (issue #18) */
#define ANSWER_MAX (64 * 1024)       /* the most of an answer read */
#define URL_MAX 1024
#define DELIVERY_NICE 10             /* senders yield the CPU to issuance (due_pool.h) */
/* While issuing, each sender leaves 20 ms between deliveries (8 senders: 400/s). */
#define WEBHOOK_YIELD_GAP_MS 20

static const char *const event_names[] = {"credential.issued", "credential.revoked",
                                          "credential.suspended", "credential.reinstated",
                                          "anchor.final"};

static bool known_event(const char *e)
{
    for (size_t i = 0; i < sizeof event_names / sizeof event_names[0]; i++)
        if (strcmp(e, event_names[i]) == 0)
            return true;
    return false;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static json_t *load_json(ca_store_txn *t, ca_table table, const void *key, size_t len)
{
    ca_store_val v;
    if (ca_store_get(t, table, key, len, &v))
        return NULL;
    return json_loadb(v.data, v.len, 0, NULL);
}

static ca_err put_json(ca_store_txn *t, ca_table table, const void *key, size_t len,
                       const json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);
    if (!text)
        return CA_ERR_NOMEM;
    ca_err err = ca_store_put(t, table, key, len, text, strlen(text));
    free(text);
    return err;
}

static void make_dkey(uint8_t k[DKEY_LEN], const char *id, uint64_t seq)
{
    memcpy(k, id, ID_LEN);
    ca_store_u64_key(k + ID_LEN, seq);
}

static ca_err put_due(ca_store_txn *t, int64_t at, const uint8_t dkey[DKEY_LEN])
{
    uint8_t due[DUE_LEN];
    ca_store_u64_key(due, (uint64_t)(at < 0 ? 0 : at));
    memcpy(due + 8, dkey, DKEY_LEN);
    return ca_store_put(t, CA_TABLE_WEBHOOK_DUE, due, DUE_LEN, "", 0);
}

/* ---- the queue (in a writer's transaction) ---------------------------------------------- */

static bool subscribed(const json_t *ep, const char *event)
{
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(ep, "events"), i, e)
        if (json_is_string(e) && strcmp(json_string_value(e), event) == 0)
            return true;
    return false;
}

/* The endpoint's next delivery sequence: one past its last delivery's (deliveries are kept
 * while the endpoint is, so a number, and the webhook-id made from it, is never reused). */
static ca_err next_sequence(ca_store_txn *t, const char *id, uint64_t *seq)
{
    ca_store_val k;
    ca_err err = ca_store_last_under(t, CA_TABLE_WEBHOOK_DELIVERIES, id, ID_LEN, &k, NULL);
    *seq = 0;
    if (err == CA_ERR_NOT_FOUND)
        return CA_OK;
    if (!err && k.len == DKEY_LEN)
        *seq = ca_store_u64_from((const uint8_t *)k.data + ID_LEN) + 1;
    return err;
}

/* One delivery of body to endpoint id, under its next sequence. */
static ca_err queue_one(ca_store_txn *t, const char *id, const char *event, const char *body,
                        int64_t now)
{
    uint64_t seq;
    ca_err err = next_sequence(t, id, &seq);
    if (err)
        return err;
    char wid[64];
    snprintf(wid, sizeof wid, "msg_%.16s_%llu", id, (unsigned long long)seq);
    json_t *d = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:[]}", "seq",
                          (json_int_t)seq, "webhookId", wid, "type", event, "body", body,
                          "state", "queued", "queuedAt", (json_int_t)now, "nextAt",
                          (json_int_t)now, "attempts", 0, "log");
    uint8_t dkey[DKEY_LEN];
    make_dkey(dkey, id, seq);
    err = d ? put_json(t, CA_TABLE_WEBHOOK_DELIVERIES, dkey, DKEY_LEN, d) : CA_ERR_NOMEM;
    json_decref(d);
    return err ? err : put_due(t, now, dkey);
}

typedef struct enqueue_arg {
    char ids[CA_WEBHOOKS_MAX][ID_LEN];
    size_t n;
} enqueue_arg;

static bool collect_ids(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    (void)v;
    enqueue_arg *a = arg;
    if (k->len == ID_LEN && a->n < CA_WEBHOOKS_MAX)
        memcpy(a->ids[a->n++], k->data, ID_LEN);
    return true;
}

/* The SPEC §8 body: {"type","timestamp","data"}. */
static char *event_body(const char *event, const json_t *data, int64_t now)
{
    char ts[CA_DATETIME_MAX];
    ca_datetime_format(ts, now);
    json_t *b = json_pack("{s:s, s:s, s:O}", "type", event, "timestamp", ts, "data", data);
    char *text = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return text;
}

ca_err ca_webhooks_enqueue(ca_store_txn *t, const char *event, const json_t *data, int64_t now,
                           ca_errbuf *eb)
{
    enqueue_arg a = {.n = 0};
    ca_err err = ca_store_scan(t, CA_TABLE_WEBHOOKS, NULL, 0, collect_ids, &a);
    if (err == CA_ERR_NOT_FOUND || a.n == 0)
        return CA_OK;
    char *body = event_body(event, data, now);
    if (!body)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < a.n && !err; i++) {
        json_t *ep = load_json(t, CA_TABLE_WEBHOOKS, a.ids[i], ID_LEN);
        if (ep && subscribed(ep, event))
            err = queue_one(t, a.ids[i], event, body, now);
        json_decref(ep);
    }
    free(body);
    return err ? ca_fail(eb, err, "cannot queue the webhooks: %s", ca_strerror(err)) : CA_OK;
}

/* ---- endpoints ---------------------------------------------------------------------------- */

/* url's scheme, host and port (80/443 when absent). */
static ca_err url_parts(const char *url, char *scheme, size_t scap, char *host, size_t hcap,
                        long *port)
{
    CURLU *u = curl_url();
    char *s = NULL, *h = NULL, *p = NULL;
    ca_err err = CA_ERR_INVALID;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        snprintf(scheme, scap, "%s", s);
        snprintf(host, hcap, "%s", h);
        *port = strtol(p, NULL, 10);
        err = strlen(s) < scap && strlen(h) < hcap ? CA_OK : CA_ERR_INVALID;
    }
    curl_free(s);
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return err;
}

ca_err ca_webhook_url_check(const ca_config *cfg, const char *url, ca_errbuf *eb)
{
    char scheme[16], host[256];
    long port;
    if (strlen(url) > URL_MAX || url_parts(url, scheme, sizeof scheme, host, sizeof host, &port))
        return ca_fail(eb, CA_ERR_INVALID, "url: not a valid absolute URL of at most %d bytes",
                       URL_MAX);
    bool allowed = ca_curl_host_allowed(cfg->webhooks_allow_hosts, host, port);
    if (strcasecmp(scheme, "https") != 0 && !(allowed && strcasecmp(scheme, "http") == 0))
        return ca_fail(eb, CA_ERR_INVALID, "url: must be https:// (http:// only for a host "
                       "in webhooks.allow_hosts)");
    return CA_OK;
}

static ca_err validate_events(const json_t *events, ca_errbuf *eb)
{
    if (!json_is_array(events) || json_array_size(events) == 0 || json_array_size(events) > 5)
        return ca_fail(eb, CA_ERR_INVALID, "events: an array of 1 to 5 event names");
    size_t i;
    const json_t *e;
    json_array_foreach(events, i, e)
        if (!json_is_string(e) || !known_event(json_string_value(e)))
            return ca_fail(eb, CA_ERR_INVALID, "events[%zu]: not one of credential.issued, "
                           "credential.revoked, credential.suspended, credential.reinstated, "
                           "anchor.final", i);
    return CA_OK;
}

static void secret_aad(char aad[48], const char *id)
{
    snprintf(aad, 48, "webhook:%.16s:secret", id);
}

/* A new whsec_ secret: its text into out, sealed (base64) into sealed_b64. */
static ca_err new_secret(const ca_node *node, const char *id, char out[CA_WEBHOOK_SECRET_MAX],
                         char sealed_b64[128], ca_errbuf *eb)
{
    uint8_t raw[SECRET_BYTES], sealed[SECRET_BYTES + CA_SEAL_OVERHEAD];
    size_t slen;
    char aad[48];
    if (!node->data_key)
        return ca_fail(eb, CA_ERR_CONFIG, "the node's data key is not loaded");
    if (ca_random_bytes(raw, sizeof raw))
        return ca_fail(eb, CA_ERR_CRYPTO, "no randomness");
    secret_aad(aad, id);
    ca_err err = ca_data_seal(node->data_key, sealed, &slen, raw, sizeof raw, aad, strlen(aad),
                              eb);
    memcpy(out, "whsec_", 6);
    ca_base64_encode(out + 6, raw, sizeof raw);
    ca_wipe(raw, sizeof raw);
    if (!err)
        ca_base64_encode(sealed_b64, sealed, slen);
    return err;
}

static json_t *public_endpoint(const json_t *ep)
{
    char ts[CA_DATETIME_MAX];
    ca_datetime_format(ts, (int64_t)json_integer_value(json_object_get(ep, "createdAt")));
    json_t *o = json_pack("{s:O, s:O, s:O, s:s}", "id", json_object_get(ep, "id"), "url",
                          json_object_get(ep, "url"), "events", json_object_get(ep, "events"),
                          "createdAt", ts);
    json_int_t until = json_integer_value(json_object_get(ep, "oldSecretUntil"));
    if (o && until > now_s()) {
        ca_datetime_format(ts, (int64_t)until);
        json_object_set_new(o, "previousSecretValidUntil", json_string(ts));
    }
    return o;
}

typedef struct create_arg {
    const json_t *ep;
} create_arg;

static ca_err create_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    const create_arg *a = arg;
    enqueue_arg ids = {.n = 0};
    ca_store_scan(t, CA_TABLE_WEBHOOKS, NULL, 0, collect_ids, &ids);
    if (ids.n >= CA_WEBHOOKS_MAX)
        return ca_fail(eb, CA_ERR_CONFLICT, "at most %d webhook endpoints: delete one first",
                       CA_WEBHOOKS_MAX);
    const char *id = json_string_value(json_object_get(a->ep, "id"));
    ca_err err = put_json(t, CA_TABLE_WEBHOOKS, id, ID_LEN, a->ep);
    return err ? ca_fail(eb, err, "cannot store the endpoint: %s", ca_strerror(err)) : CA_OK;
}

ca_err ca_webhook_create(ca_node *node, const char *url, const json_t *events,
                         char secret_out[CA_WEBHOOK_SECRET_MAX], json_t **out, ca_errbuf *eb)
{
    ca_err err = ca_webhook_url_check(&node->cfg, url, eb);
    if (!err)
        err = validate_events(events, eb);
    uint8_t rid[ID_LEN / 2];
    char id[ID_LEN + 1], sealed[128];
    if (!err && ca_random_bytes(rid, sizeof rid))
        err = ca_fail(eb, CA_ERR_CRYPTO, "no randomness");
    if (!err) {
        ca_hex_encode(id, rid, sizeof rid);
        err = new_secret(node, id, secret_out, sealed, eb);
    }
    if (err)
        return err;
    json_t *ep = json_pack("{s:s, s:s, s:O, s:s, s:I}", "id", id, "url", url, "events", events,
                           "secret", sealed, "createdAt", (json_int_t)now_s());
    create_arg a = {ep};
    err = ep ? ca_store_write(node->store, create_txn, &a, eb)
             : ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    *out = err ? NULL : public_endpoint(ep);
    json_decref(ep);
    return err;
}

static bool list_visit(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    (void)k;
    json_t *ep = json_loadb(v->data, v->len, 0, NULL);
    if (ep)
        json_array_append_new(arg, public_endpoint(ep));
    json_decref(ep);
    return true;
}

ca_err ca_webhook_list(ca_store *store, json_t **out, ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    json_t *arr = json_array();
    err = ca_store_scan(t, CA_TABLE_WEBHOOKS, NULL, 0, list_visit, arr);
    ca_store_abort(t);
    *out = arr;
    return err == CA_ERR_NOT_FOUND ? CA_OK : err;
}

static bool id_ok(const char *id)
{
    if (strlen(id) != ID_LEN)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static ca_err delete_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    ca_err err = ca_store_del(t, CA_TABLE_WEBHOOKS, arg, ID_LEN);
    if (err == CA_ERR_NOT_FOUND)
        return ca_fail(eb, err, "no webhook endpoint has this id");
    /* Its queued deliveries are dropped by the workers (the endpoint is gone). */
    return err ? ca_fail(eb, err, "cannot delete: %s", ca_strerror(err)) : CA_OK;
}

ca_err ca_webhook_delete(ca_store *store, const char *id, ca_errbuf *eb)
{
    if (!id_ok(id))
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no webhook endpoint has this id");
    return ca_store_write(store, delete_txn, (void *)id, eb);
}

typedef struct rotate_arg {
    const char *id;
    const char *sealed;
    json_t *out;
} rotate_arg;

static ca_err rotate_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    rotate_arg *a = arg;
    json_t *ep = load_json(t, CA_TABLE_WEBHOOKS, a->id, ID_LEN);
    if (!ep)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no webhook endpoint has this id");
    json_object_set(ep, "oldSecret", json_object_get(ep, "secret"));
    json_object_set_new(ep, "oldSecretUntil", json_integer(now_s() + ROTATION_OVERLAP));
    json_object_set_new(ep, "secret", json_string(a->sealed));
    ca_err err = put_json(t, CA_TABLE_WEBHOOKS, a->id, ID_LEN, ep);
    json_decref(a->out);
    a->out = err ? NULL : public_endpoint(ep);
    json_decref(ep);
    return err ? ca_fail(eb, err, "cannot rotate: %s", ca_strerror(err)) : CA_OK;
}

ca_err ca_webhook_rotate(ca_node *node, const char *id, char secret_out[CA_WEBHOOK_SECRET_MAX],
                         json_t **out, ca_errbuf *eb)
{
    if (!id_ok(id))
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no webhook endpoint has this id");
    char sealed[128];
    ca_err err = new_secret(node, id, secret_out, sealed, eb);
    rotate_arg a = {id, sealed, NULL};
    if (!err)
        err = ca_store_write(node->store, rotate_txn, &a, eb);
    *out = a.out;
    return err;
}

static json_t *public_delivery(const json_t *d)
{
    json_t *log = json_array();
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(d, "log"), i, a) {
        json_t *e = json_deep_copy(a);
        json_object_set_new(e, "at", ca_json_time_of(a, "at"));
        json_array_append_new(log, e);
    }
    return json_pack("{s:O, s:O, s:O, s:O, s:O, s:o, s:o, s:O?, s:o}", "seq",
                     json_object_get(d, "seq"), "webhookId", json_object_get(d, "webhookId"),
                     "type", json_object_get(d, "type"), "state", json_object_get(d, "state"),
                     "attempts", json_object_get(d, "attempts"), "queuedAt",
                     ca_json_time_of(d, "queuedAt"), "deliveredAt", ca_json_time_of(d, "deliveredAt"),
                     "lastError", json_object_get(d, "lastError"), "log", log);
}

typedef struct deliveries_arg {
    const char *id;
    json_t *arr;
} deliveries_arg;

static bool deliveries_visit(void *arg, const ca_store_val *k, const ca_store_val *v)
{
    deliveries_arg *a = arg;
    if (k->len != DKEY_LEN || memcmp(k->data, a->id, ID_LEN) != 0)
        return false;
    json_t *d = json_loadb(v->data, v->len, 0, NULL);
    if (d)
        json_array_insert_new(a->arr, 0, public_delivery(d)); /* newest first */
    json_decref(d);
    return true;
}

ca_err ca_webhook_deliveries(ca_store *store, const char *id, size_t limit, json_t **out,
                             ca_errbuf *eb)
{
    if (!id_ok(id))
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no webhook endpoint has this id");
    ca_store_txn *t;
    ca_err err = ca_store_begin(store, &t, false, eb);
    if (err)
        return err;
    json_t *ep = load_json(t, CA_TABLE_WEBHOOKS, id, ID_LEN);
    deliveries_arg a = {id, json_array()};
    if (ep)
        ca_store_scan(t, CA_TABLE_WEBHOOK_DELIVERIES, id, ID_LEN, deliveries_visit, &a);
    ca_store_abort(t);
    json_decref(ep);
    if (!ep) {
        json_decref(a.arr);
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no webhook endpoint has this id");
    }
    while (json_array_size(a.arr) > limit)
        json_array_remove(a.arr, json_array_size(a.arr) - 1);
    *out = a.arr;
    return CA_OK;
}

typedef struct replay_arg {
    uint8_t dkey[DKEY_LEN];
} replay_arg;

static ca_err replay_txn(ca_store_txn *t, void *arg, ca_errbuf *eb)
{
    replay_arg *a = arg;
    ca_store_val ep;
    if (ca_store_get(t, CA_TABLE_WEBHOOKS, a->dkey, ID_LEN, &ep))
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no webhook endpoint has this id");
    json_t *d = load_json(t, CA_TABLE_WEBHOOK_DELIVERIES, a->dkey, DKEY_LEN);
    if (!d)
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no such delivery");
    const char *st = json_string_value(json_object_get(d, "state"));
    ca_err err = CA_OK;
    if (st && strcmp(st, "queued") == 0) {
        err = ca_fail(eb, CA_ERR_CONFLICT, "the delivery is still queued");
    } else {
        int64_t now = now_s();
        json_object_set_new(d, "state", json_string("queued"));
        json_object_set_new(d, "queuedAt", json_integer(now));
        json_object_set_new(d, "nextAt", json_integer(now));
        err = put_json(t, CA_TABLE_WEBHOOK_DELIVERIES, a->dkey, DKEY_LEN, d);
        if (!err)
            err = put_due(t, now, a->dkey);
        if (err)
            ca_fail(eb, err, "cannot queue the replay: %s", ca_strerror(err));
    }
    json_decref(d);
    return err;
}

ca_err ca_webhook_replay(ca_store *store, const char *id, uint64_t seq, ca_errbuf *eb)
{
    if (!id_ok(id))
        return ca_fail(eb, CA_ERR_NOT_FOUND, "no webhook endpoint has this id");
    replay_arg a;
    make_dkey(a.dkey, id, seq);
    return ca_store_write(store, replay_txn, &a, eb);
}

/* ---- sending ----------------------------------------------------------------------------- */

struct ca_webhooks {
    ca_node *node;
    ca_due_pool *pool;
    ca_curl_cas *cas; /* webhooks.ca_file */
};

/* What one attempt needs, read in one transaction. */
typedef struct attempt {
    char url[URL_MAX + 1];
    char webhook_id[64];
    char *body;
    uint8_t secrets[2][SECRET_BYTES];
    size_t nsecrets;
    bool gone;          /* the endpoint or delivery is gone, or not queued: drop the due key */
} attempt;

static ca_err open_secret(const ca_node *node, const char *id, const char *b64,
                          uint8_t out[SECRET_BYTES], ca_errbuf *eb)
{
    uint8_t sealed[SECRET_BYTES + CA_SEAL_OVERHEAD];
    size_t slen = sizeof sealed, plen = SECRET_BYTES;
    char aad[48];
    secret_aad(aad, id);
    if (!b64 || ca_base64_decode(sealed, &slen, b64, strlen(b64)))
        return ca_fail(eb, CA_ERR_INVALID, "the endpoint's secret is unreadable");
    return ca_data_open(node->data_key, out, &plen, sealed, slen, aad, strlen(aad), eb);
}

static ca_err read_attempt(const ca_node *node, const uint8_t dkey[DKEY_LEN], attempt *a,
                           ca_errbuf *eb)
{
    ca_store_txn *t;
    ca_err err = ca_store_begin(node->store, &t, false, eb);
    if (err)
        return err;
    char id[ID_LEN + 1];
    memcpy(id, dkey, ID_LEN);
    id[ID_LEN] = '\0';
    json_t *ep = load_json(t, CA_TABLE_WEBHOOKS, dkey, ID_LEN);
    json_t *d = load_json(t, CA_TABLE_WEBHOOK_DELIVERIES, dkey, DKEY_LEN);
    ca_store_abort(t);
    const char *st = json_string_value(json_object_get(d, "state"));
    a->gone = !ep || !d || !st || strcmp(st, "queued") != 0;
    if (!a->gone) {
        snprintf(a->url, sizeof a->url, "%s", json_string_value(json_object_get(ep, "url")));
        snprintf(a->webhook_id, sizeof a->webhook_id, "%s",
                 json_string_value(json_object_get(d, "webhookId")));
        a->body = strdup(json_string_value(json_object_get(d, "body")) ?: "");
        err = open_secret(node, id, json_string_value(json_object_get(ep, "secret")),
                          a->secrets[0], eb);
        a->nsecrets = err ? 0 : 1;
        json_int_t until = json_integer_value(json_object_get(ep, "oldSecretUntil"));
        if (!err && until > now_s() &&
            !open_secret(node, id, json_string_value(json_object_get(ep, "oldSecret")),
                         a->secrets[1], eb))
            a->nsecrets = 2;
    }
    json_decref(ep);
    json_decref(d);
    return err;
}

/* webhook-signature: "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>" per secret,
 * space-separated (Standard Webhooks, "Signature scheme"). */
static void sign(const attempt *a, const char *ts, char *out, size_t cap)
{
    size_t idl = strlen(a->webhook_id), tsl = strlen(ts), bl = strlen(a->body);
    char *content = malloc(idl + tsl + bl + 3);
    out[0] = '\0';
    if (!content)
        return;
    sprintf(content, "%s.%s.%s", a->webhook_id, ts, a->body);
    size_t at = 0;
    for (size_t i = 0; i < a->nsecrets; i++) {
        uint8_t mac[32];
        unsigned ml = 0;
        HMAC(EVP_sha256(), a->secrets[i], SECRET_BYTES, (const uint8_t *)content,
             idl + tsl + bl + 2, mac, &ml);
        char b64[64];
        ca_base64_encode(b64, mac, 32);
        at += (size_t)snprintf(out + at, cap - at, "%sv1,%s", i ? " " : "", b64);
    }
    free(content);
}

typedef struct result {
    bool ok;
    long code;
    char detail[320];
} result;

/* One POST with the guards (webhooks.h), on the sender's kept handle c: consecutive POSTs to
 * one endpoint reuse its connection (HTTP keep-alive), which libcurl only does for the same
 * scheme, host and port, so a reused connection passed this same guard when it was opened. */
static void post(ca_webhooks *w, CURL *c, const attempt *a, result *r)
{
    char scheme[16], host[256], ts[24], sig[256], cerr[CURL_ERROR_SIZE] = "";
    long port = 0;
    url_parts(a->url, scheme, sizeof scheme, host, sizeof host, &port);
    ca_curl_guard guard;
    ca_curl_guard_init(&guard, w->node->cfg.webhooks_allow_hosts, "webhooks.allow_hosts", host,
                       port);
    snprintf(ts, sizeof ts, "%lld", (long long)now_s());
    sign(a, ts, sig, sizeof sig);
    char h_id[96], h_ts[64], h_sig[300];
    snprintf(h_id, sizeof h_id, "webhook-id: %s", a->webhook_id);
    snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %s", ts);
    snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", sig);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    hd = curl_slist_append(hd, h_id);
    hd = curl_slist_append(hd, h_ts);
    hd = curl_slist_append(hd, h_sig);
    hd = curl_slist_append(hd, "User-Agent: credanchor-webhooks");
    ca_capbuf answer;
    ca_capbuf_init(&answer, ANSWER_MAX);
    curl_easy_reset(c); /* the options of the last POST go; its connections stay */
    CURLcode rc = CURLE_OK;
    long timeout = (long)w->node->cfg.webhooks_timeout;
#define SET(opt, val) \
    do { if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, val); } while (0)
    SET(CURLOPT_URL, a->url);
    SET(CURLOPT_PROTOCOLS_STR, guard.allowed ? "https,http" : "https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_CONNECTTIMEOUT, timeout);
    SET(CURLOPT_TIMEOUT, timeout);
    SET(CURLOPT_POSTFIELDS, a->body);
    SET(CURLOPT_HTTPHEADER, hd);
    SET(CURLOPT_WRITEFUNCTION, ca_capbuf_curl_write);
    SET(CURLOPT_WRITEDATA, &answer);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ANSWER_MAX);
    SET(CURLOPT_ERRORBUFFER, cerr);
#undef SET
    if (rc == CURLE_OK)
        rc = ca_curl_guard_apply(c, &guard);
    if (rc == CURLE_OK && w->cas)
        rc = ca_curl_cas_apply(c, w->cas);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(c);
    r->code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
    r->ok = rc == CURLE_OK && r->code >= 200 && r->code < 300;
    if (guard.refused)
        snprintf(r->detail, sizeof r->detail, "%.300s", guard.msg);
    else if (rc != CURLE_OK && !answer.overflow)
        snprintf(r->detail, sizeof r->detail, "%.300s", cerr[0] ? cerr : curl_easy_strerror(rc));
    else
        snprintf(r->detail, sizeof r->detail, "HTTP %ld%s", r->code,
                 answer.overflow ? " (answer over 64 KiB, cut)" : "");
    ca_capbuf_free(&answer);
    curl_slist_free_all(hd);
}

typedef struct outcome {
    uint8_t due[DUE_LEN];
    result r;
    const ca_config *cfg;
    int64_t now;
    bool gone;              /* the endpoint or delivery is gone, or not queued */
    char webhook_id[64];
} outcome;

/* Records one outcome (a due_pool record callback). */
static ca_err record(void *ctx, ca_store_txn *t, const uint8_t *due, const void *arg,
                     ca_errbuf *eb)
{
    (void)ctx;
    (void)due;
    const outcome *o = arg;
    const uint8_t *dkey = o->due + 8;
    ca_err err = ca_store_del(t, CA_TABLE_WEBHOOK_DUE, o->due, DUE_LEN);
    json_t *d = o->gone ? NULL : load_json(t, CA_TABLE_WEBHOOK_DELIVERIES, dkey, DKEY_LEN);
    if (!d)
        return err && err != CA_ERR_NOT_FOUND ? ca_fail(eb, err, "webhooks: %s", ca_strerror(err))
                                              : CA_OK;
    ca_delivery_attempt a = {.ok = o->r.ok, .code = o->r.code, .detail = o->r.detail};
    int64_t at = ca_delivery_record_attempt(d, o->cfg, o->now, &a, "delivered", "deliveredAt");
    if (at)
        err = put_due(t, at, dkey);
    if (!err || err == CA_ERR_NOT_FOUND)
        err = put_json(t, CA_TABLE_WEBHOOK_DELIVERIES, dkey, DKEY_LEN, d);
    json_decref(d);
    return err ? ca_fail(eb, err, "webhooks: %s", ca_strerror(err)) : CA_OK;
}

/* A pool worker's turn (due_pool.h): one signed POST. */
static void *send_turn(void *ctx, void **state, const uint8_t *due)
{
    ca_webhooks *w = ctx;
    if (!*state)
        *state = curl_easy_init(); /* the sender's own handle (post) */
    outcome *o = *state ? calloc(1, sizeof *o) : NULL;
    if (!o)
        return NULL; /* nothing sent: the pool leaves the key for a later turn */
    attempt a = {0};
    ca_errbuf eb = {{0}};
    ca_err err = read_attempt(w->node, due + 8, &a, &eb);
    if (err)
        snprintf(o->r.detail, sizeof o->r.detail, "%.300s", eb.msg);
    else if (!a.gone)
        post(w, *state, &a, &o->r);
    memcpy(o->due, due, DUE_LEN);
    memcpy(o->webhook_id, a.webhook_id, sizeof o->webhook_id);
    o->cfg = &w->node->cfg;
    o->now = now_s();
    o->gone = a.gone;
    ca_wipe(a.secrets, sizeof a.secrets);
    free(a.body);
    return o;
}

static void finish(void *ctx, const uint8_t *due, void *arg, ca_err err, const char *why)
{
    (void)ctx;
    outcome *o = arg;
    if (err)
        ca_node_log(CA_NODE_LOG_ERROR, "webhooks", "cannot record a delivery: %s", why);
    else if (!o->gone)
        ca_node_log(o->r.ok ? CA_NODE_LOG_INFO : CA_NODE_LOG_WARNING, "webhooks",
                    "%s to endpoint %.16s: %s", o->webhook_id, (const char *)(due + 8),
                    o->r.detail);
    free(o);
}

static void handle_done(void *state)
{
    curl_easy_cleanup(state);
}

/* Per-destination limit: at most webhooks.per_endpoint deliveries in flight to one endpoint. */
static bool may_take(void *ctx, const uint8_t *due, const uint8_t (*inflight)[CA_DUE_KEY_MAX],
                     size_t n)
{
    const ca_webhooks *w = ctx;
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        same += memcmp(inflight[i] + 8, due + 8, ID_LEN) == 0;
    return same < w->node->cfg.webhooks_per_endpoint;
}

ca_err ca_webhooks_start(ca_webhooks **out, ca_node *node, ca_errbuf *eb)
{
    *out = NULL;
    ca_webhooks *w = calloc(1, sizeof *w);
    if (!w)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory");
    w->node = node;
    ca_err err = node->cfg.webhooks_ca_file[0]
                     ? ca_curl_cas_load(&w->cas, node->cfg.webhooks_ca_file, "webhooks.ca_file", eb)
                     : CA_OK;
    if (err) {
        free(w);
        return err;
    }
    ca_due_pool_options po = {.store = node->store, .table = CA_TABLE_WEBHOOK_DUE,
                              .key_len = DUE_LEN, .workers = node->cfg.webhooks_connections,
                              .name = "webhooks", .may_take = may_take, .send = send_turn,
                              .record = record, .finish = finish, .thread_done = handle_done,
                              .nice = DELIVERY_NICE,
                              .yield_gap_ms = WEBHOOK_YIELD_GAP_MS, .ctx = w};
    if ((err = ca_due_pool_start(&w->pool, &po, eb))) {
        ca_curl_cas_free(w->cas);
        free(w);
        return err;
    }
    *out = w;
    return CA_OK;
}

void ca_webhooks_stop(ca_webhooks *w)
{
    if (!w)
        return;
    ca_due_pool_stop(w->pool);
    ca_curl_cas_free(w->cas);
    free(w);
}

void ca_webhooks_wake(void *arg)
{
    ca_webhooks *w = arg;
    if (!w)
        return;
    ca_due_pool_note_busy(w->pool); /* an issuance: the senders pace themselves (due_pool.h) */
    ca_due_pool_wake(w->pool);
}
