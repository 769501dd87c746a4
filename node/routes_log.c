/*
 * node/routes_log.c — the log routes of SPEC §3, registered by ca_http_create (node/http.c)
 * through the server's route table, before every other route:
 *   GET  /v1/health            public: {"status":"ok","treeSize":N,"latestAnchor":...}
 *   GET  /v1/checkpoint        public: the latest signed checkpoint note
 *   GET  /v1/log/key           public: the current log verifier key
 *   GET  /v1/log/keys          public: every log key with the sizes it signed
 *   GET  /v1/log/proof         public: the inclusion proof of ?digest=[&treeSize=]
 *   GET  /v1/log/consistency   public: the consistency proof ?from=&to=
 *   POST /v1/log/entries       issuer: appends {"digests":[HEX,...]} in one group commit
 *   GET  /tlog/checkpoint      public: the same note, at C2SP tlog-tiles' path (SPEC §8)
 *   GET  /tlog/tile/<L>/<N>[.p/<W>], /tlog/tile/entries/<N>[.p/<W>]
 *                              public: the log's hash tiles and entry bundles (SPEC §8)
 * Moved out of node/http.c (issue #14).
 */
#include "node/routes_log.h"

#include "node/anchor_engine.h"
#include "credanchor/encoding.h"
#include "node/log.h"
#include "credanchor/proof.h"
#include "credanchor/tile.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIGESTS_PER_APPEND 10000

/* ---- built-in log routes (SPEC §3) ---------------------------------------------------------- */

static void h_health(ca_http_request *req, ca_http_response *resp)
{
    /* latestAnchor: the newest anchor record (node/anchor_engine.c), null when none. */
    ca_anchor_record *rec = malloc(sizeof *rec);
    json_t *anchor = NULL;
    if (rec && ca_anchor_latest(req->node->store, rec, NULL) == CA_OK)
        anchor = ca_anchor_record_json(rec);
    free(rec);
    char *a = anchor ? json_dumps(anchor, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(anchor);
    char *buf = NULL;
    int n = asprintf(&buf, "{\"status\":\"ok\",\"treeSize\":%llu,\"latestAnchor\":%s}",
                     (unsigned long long)ca_log_size(req->node->log), a ? a : "null");
    free(a);
    if (n < 0)
        ca_http_problem(resp, 500, "out of memory");
    else
        ca_http_reply_owned(resp, 200, "application/json", buf, (size_t)n);
}

static void h_checkpoint(ca_http_request *req, ca_http_response *resp)
{
    char note[CA_NOTE_MAX];
    size_t len;
    ca_errbuf eb = {{0}};
    ca_err err = ca_log_checkpoint(req->node->log, note, &len, &eb);
    if (err)
        ca_http_problem_err(resp, err, &eb);
    else
        ca_http_reply_text(resp, 200, "text/plain; charset=utf-8", note, len);
}

static void h_log_key(ca_http_request *req, ca_http_response *resp)
{
    char key[CA_VERIFIER_KEY_MAX + 1];
    ca_errbuf eb = {{0}};
    ca_err err = ca_log_verifier_key(req->node->log, key, &eb);
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    size_t n = strlen(key);
    key[n++] = '\n';
    ca_http_reply_text(resp, 200, "text/plain; charset=utf-8", key, n);
}

/* Every log key with the sizes it signed (SPEC §3), oldest first; toSize null for the current
 * key. Stored (anchored) checkpoints keep their signer; historical sizes signed on demand are
 * signed by the current key. */
static void h_log_keys(ca_http_request *req, ca_http_response *resp)
{
    ca_errbuf eb = {{0}};
    size_t n = 0;
    ca_log_key_span *spans = calloc(CA_LOG_KEYS_MAX, sizeof *spans);
    if (!spans) {
        ca_http_problem_err(resp, CA_ERR_NOMEM, NULL);
        return;
    }
    ca_err err = ca_log_key_history(req->node->log, spans, CA_LOG_KEYS_MAX, &n, &eb);
    if (err) {
        free(spans);
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    json_t *keys = json_array();
    for (size_t i = 0; keys && i < n; i++) {
        json_t *k = spans[i].current
                        ? json_pack("{s:s, s:I, s:n}", "key", spans[i].key, "fromSize",
                                    (json_int_t)spans[i].from_size, "toSize")
                        : json_pack("{s:s, s:I, s:I}", "key", spans[i].key, "fromSize",
                                    (json_int_t)spans[i].from_size, "toSize",
                                    (json_int_t)spans[i].to_size);
        if (!k || json_array_append_new(keys, k)) {
            json_decref(keys);
            keys = NULL;
        }
    }
    free(spans);
    if (!keys) {
        ca_http_problem_err(resp, CA_ERR_NOMEM, NULL);
        return;
    }
    ca_http_reply_json(resp, 200, json_pack("{s:o}", "keys", keys));
}

static void h_proof(ca_http_request *req, ca_http_response *resp)
{
    char hex[80];
    size_t len;
    ca_errbuf eb = {{0}};
    ca_err err = ca_http_query(req, "digest", hex, sizeof hex, &len);
    if (err == CA_ERR_NOT_FOUND) {
        ca_http_problem(resp, 400, "the digest query parameter is required");
        return;
    }
    ca_hash digest;
    if (err || ca_hash_from_hex(&digest, hex, len)) {
        ca_http_problem(resp, 400, "digest must be 64 hex characters");
        return;
    }
    uint64_t size = 0, current = ca_log_size(req->node->log);
    err = ca_http_query_u64(req, "treeSize", &size, &eb);
    if (err == CA_OK) {
        if (size == 0 || size > current) {
            ca_http_problem(resp, 400, "treeSize %llu is outside 1..%llu",
                            (unsigned long long)size, (unsigned long long)current);
            return;
        }
    } else if (err != CA_ERR_NOT_FOUND) {
        ca_http_problem_err(resp, err, &eb);
        return;
    } else {
        size = 0;
    }
    char *json;
    err = ca_proof_build_anchored(&json, req->node->log, req->node->store, &digest, size, &eb);
    if (err == CA_ERR_NOT_FOUND)
        ca_http_problem(resp, 404, "the digest is not in the log");
    else if (err)
        ca_http_problem_err(resp, err, &eb);
    else
        ca_http_reply_owned(resp, 200, "application/json", json, strlen(json));
}

static void h_consistency(ca_http_request *req, ca_http_response *resp)
{
    ca_errbuf eb = {{0}};
    uint64_t from, to, current = ca_log_size(req->node->log);
    ca_err err = ca_http_query_u64(req, "from", &from, &eb);
    if (!err)
        err = ca_http_query_u64(req, "to", &to, &eb);
    if (err == CA_ERR_NOT_FOUND) {
        ca_http_problem(resp, 400, "the from and to query parameters are required");
        return;
    }
    if (err) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    if (from == 0 || from > to || to > current) {
        ca_http_problem(resp, 400, "need 0 < from <= to <= %llu (the tree size); got from=%llu "
                        "to=%llu", (unsigned long long)current, (unsigned long long)from,
                        (unsigned long long)to);
        return;
    }
    ca_hash path[CA_MERKLE_MAX_PROOF];
    size_t n;
    if ((err = ca_log_consistency(req->node->log, path, &n, from, to, &eb))) {
        ca_http_problem_err(resp, err, &eb);
        return;
    }
    size_t cap = 96 + n * 67;
    char *buf = malloc(cap);
    if (!buf) {
        ca_http_problem(resp, 500, "out of memory");
        return;
    }
    size_t off = (size_t)snprintf(buf, cap, "{\"from\":%llu,\"to\":%llu,\"proof\":[",
                                  (unsigned long long)from, (unsigned long long)to);
    for (size_t i = 0; i < n; i++) {
        buf[off++] = i ? ',' : '"';
        if (i)
            buf[off++] = '"';
        ca_hash_to_hex(buf + off, &path[i]);
        off += 64;
        buf[off++] = '"';
    }
    memcpy(buf + off, "]}", 3);
    off += 2;
    ca_http_reply_owned(resp, 200, "application/json", buf, off);
}

static void h_append(ca_http_request *req, ca_http_response *resp)
{
    json_t *o = ca_http_body_json(req, resp);
    if (!o)
        return;
    ca_log_entry *entries = NULL;
    json_t *digests = json_is_object(o) ? json_object_get(o, "digests") : NULL;
    size_t n = json_array_size(digests);
    if (!json_is_object(o)) {
        ca_http_problem(resp, 400, "the body must be a JSON object {\"digests\":[HEX,...]}");
    } else if (!digests) {
        ca_http_problem(resp, 400, "the digests field is missing");
    } else if (!json_is_array(digests)) {
        ca_http_problem(resp, 400, "digests must be an array of 64-hex-character strings");
    } else if (n == 0) {
        ca_http_problem(resp, 400, "digests is empty");
    } else if (n > MAX_DIGESTS_PER_APPEND) {
        ca_http_problem(resp, 413, "at most %d digests per request (got %zu)",
                        MAX_DIGESTS_PER_APPEND, n);
    } else if (!(entries = malloc(n * sizeof *entries))) {
        ca_http_problem(resp, 500, "out of memory");
    } else {
        size_t i;
        for (i = 0; i < n; i++) {
            json_t *d = json_array_get(digests, i);
            if (!json_is_string(d) ||
                ca_hash_from_hex(&entries[i].digest, json_string_value(d),
                                 json_string_length(d))) {
                ca_http_problem(resp, 400, "digests[%zu] is not a string of 64 hex characters",
                                i);
                break;
            }
        }
        if (i == n) {
            json_decref(o);
            o = NULL;
            uint64_t size = 0;
            ca_errbuf eb = {{0}};
            ca_err err = ca_log_append(req->node->log, entries, n, &size, &eb);
            if (err) {
                ca_http_problem_err(resp, err, &eb);
            } else {
                /* {"entries":[{"digest":"<64>","leafIndex":N},...],"treeSize":N} */
                size_t cap = 64 + n * 110;
                char *buf = malloc(cap);
                if (!buf) {
                    ca_http_problem(resp, 500, "out of memory (the digests were appended)");
                } else {
                    size_t off = (size_t)snprintf(buf, cap, "{\"entries\":[");
                    for (size_t k = 0; k < n; k++) {
                        memcpy(buf + off, k ? ",{\"digest\":\"" : "{\"digest\":\"",
                               k ? 12 : 11);
                        off += k ? 12 : 11;
                        ca_hash_to_hex(buf + off, &entries[k].digest);
                        off += 64;
                        off += (size_t)snprintf(buf + off, cap - off, "\",\"leafIndex\":%llu}",
                                                (unsigned long long)entries[k].index);
                    }
                    off += (size_t)snprintf(buf + off, cap - off, "],\"treeSize\":%llu}",
                                            (unsigned long long)size);
                    ca_http_reply_owned(resp, 200, "application/json", buf, off);
                    snprintf(resp->detail, sizeof resp->detail,
                             "appended %zu digests; tree size %llu", n,
                             (unsigned long long)size);
                }
            }
        }
    }
    free(entries);
    json_decref(o);
}

/* ---- C2SP tlog-tiles (SPEC §8 "Static tiles") ---------------------------------------------
 * The router matches segment counts, so /tlog/tile/ is registered once per count (2..6
 * segments after it: the level or "entries", 1..4 index elements, ".p" on the last, a width);
 * the handler joins the segments and ca_tile_parse_path reads them strictly. A tile path names
 * fixed bytes (the hashes of fixed subtrees; a partial tile is the first W of them), so every
 * tile and bundle served is immutable, partial ones included (tlog-tiles: "This endpoint is
 * immutable, so its caching headers SHOULD be long-lived"); a tile the tree does not have yet
 * is a 404, which the server marks no-store, so no cache keeps it past the tree's growth. */
#define TLOG_IMMUTABLE "public, max-age=31536000, immutable"

static void h_tlog_tile(ca_http_request *req, ca_http_response *resp)
{
    char path[CA_TILE_PATH_TEXT_MAX + 1] = "tile";
    size_t len = 4;
    for (size_t i = 0; i < req->nparams; i++) {
        size_t n = strlen(req->params[i]);
        if (len + 1 + n >= sizeof path) {
            ca_http_problem(resp, 404, "not a tlog-tiles path");
            return;
        }
        path[len++] = '/';
        memcpy(path + len, req->params[i], n + 1);
        len += n;
    }
    unsigned level, width;
    uint64_t index;
    bool entries;
    if (ca_tile_parse_path(path, len, &level, &index, &width, &entries) != CA_OK) {
        ca_http_problem(resp, 404, "not a tlog-tiles path: tile/<L>/<N>[.p/<W>] or "
                        "tile/entries/<N>[.p/<W>] (C2SP tlog-tiles)");
        return;
    }
    size_t size = entries ? (size_t)width * CA_LOG_BUNDLE_ENTRY : (size_t)width * CA_HASH_SIZE;
    uint8_t *buf = malloc(entries ? CA_LOG_BUNDLE_MAX : CA_LOG_TILE_MAX);
    if (!buf) {
        ca_http_problem_err(resp, CA_ERR_NOMEM, NULL);
        return;
    }
    ca_errbuf eb = {{0}};
    ca_err err = entries ? ca_log_entry_bundle(req->node->log, buf, index, width, &eb)
                         : ca_log_tile(req->node->log, buf, level, index, width, &eb);
    if (err) {
        free(buf);
        if (err == CA_ERR_NOT_FOUND || err == CA_ERR_INVALID)
            ca_http_problem(resp, 404, "%s", eb.msg[0] ? eb.msg : "no such tile");
        else
            ca_http_problem_err(resp, err, &eb);
        return;
    }
    ca_http_reply_owned(resp, 200, "application/octet-stream", (char *)buf, size);
    resp->cache_control = TLOG_IMMUTABLE;
}

static const ca_http_route log_routes[] = {
    {"GET", "/v1/health", 0, NULL, h_health, NULL},
    {"GET", "/v1/checkpoint", 0, NULL, h_checkpoint, NULL},
    {"GET", "/v1/log/key", 0, NULL, h_log_key, NULL},
    {"GET", "/v1/log/keys", 0, NULL, h_log_keys, NULL},
    {"GET", "/v1/log/proof", 0, NULL, h_proof, NULL},
    {"GET", "/v1/log/consistency", 0, NULL, h_consistency, NULL},
    {"POST", "/v1/log/entries", CA_ROLE_ISSUER, "application/json", h_append, NULL},
    {"GET", "/tlog/checkpoint", 0, NULL, h_checkpoint, NULL},
    {"GET", "/tlog/tile/{s1}/{s2}", 0, NULL, h_tlog_tile, NULL},
    {"GET", "/tlog/tile/{s1}/{s2}/{s3}", 0, NULL, h_tlog_tile, NULL},
    {"GET", "/tlog/tile/{s1}/{s2}/{s3}/{s4}", 0, NULL, h_tlog_tile, NULL},
    {"GET", "/tlog/tile/{s1}/{s2}/{s3}/{s4}/{s5}", 0, NULL, h_tlog_tile, NULL},
    {"GET", "/tlog/tile/{s1}/{s2}/{s3}/{s4}/{s5}/{s6}", 0, NULL, h_tlog_tile, NULL},
};

ca_err ca_log_routes_register(ca_http_server *srv, ca_errbuf *eb)
{
    return ca_http_add_routes(srv, log_routes, sizeof log_routes / sizeof log_routes[0], NULL,
                              eb);
}
