/*
 * Ethereum JSON-RPC 2.0 client (rpc.h; SPEC §2; JSON-RPC 2.0 spec §4-5; Ethereum execution
 * API spec for the method shapes and the "hex value encoding" rules).
 *
 * Why things are as they are:
 *  1. Allow-list first: ca_rpc_call refuses any method not in ALLOWED before building a body,
 *     so the node can only ever speak the standard methods SPEC §2 names.
 *  2. Response checks follow JSON-RPC 2.0 §5: an object, "jsonrpc": "2.0", our id, and exactly
 *     one of "result" / "error"; an error object needs an integer code.
 *  3. Retries (exponential backoff, capped) only where the request can be repeated with no
 *     effect: transport failures and HTTP 5xx/429 of read-only calls. Never a JSON-RPC error
 *     (the server answered; asking again gives the same answer) or a 4xx. For
 *     eth_sendRawTransaction only a failure where the request was certainly not sent
 *     (transport code CA_ERR_IO): resending the same signed bytes would be harmless on chain
 *     (same hash, same nonce), but the second answer ("already known", "nonce too low") would
 *     mask the first one's outcome; the engine tracks the tx by hash and rebroadcasts itself.
 *  4. URLs in messages lose their path and query (API keys live there).
 */
#include "credanchor/rpc.h"

#include "credanchor/capbuf.h"
#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "credanchor/json_fields.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const ALLOWED[] = {
    "eth_chainId",           "eth_getTransactionCount",   "eth_feeHistory",
    "eth_maxPriorityFeePerGas", "eth_estimateGas",        "eth_sendRawTransaction",
    "eth_getTransactionReceipt", "eth_getBlockByNumber",  "eth_blockNumber",
    "eth_getBalance",        "eth_getTransactionByHash",
};

bool ca_rpc_method_allowed(const char *method)
{
    if (!method)
        return false;
    for (size_t i = 0; i < sizeof ALLOWED / sizeof ALLOWED[0]; i++)
        if (strcmp(method, ALLOWED[i]) == 0)
            return true;
    return false;
}

/* scheme://host[:port] of url (userinfo, path, query and fragment dropped). */
static void url_origin(char *out, size_t cap, const char *url)
{
    const char *p = strstr(url, "://");
    if (!p) {
        snprintf(out, cap, "(url)");
        return;
    }
    const char *auth = p + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    const char *host = at ? at + 1 : auth;
    snprintf(out, cap, "%.*s://%.*s", (int)(p - url), url, (int)(alen - (size_t)(host - auth)),
             host);
}

/* Copies at most cap-1 bytes of s, control characters replaced, so a server's message stays
 * one line. */
static void one_line(char *out, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[i] = '\0';
}

ca_err ca_rpc_init(ca_rpc *rpc, const char *url, const ca_rpc_transport *t, ca_errbuf *eb)
{
    CA_ASSERT(rpc && url && t && t->post);
    memset(rpc, 0, sizeof *rpc);
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return ca_fail(eb, CA_ERR_CONFIG, "RPC URL must start with http:// or https://");
    if (strlen(url) >= sizeof rpc->url)
        return ca_fail(eb, CA_ERR_CONFIG, "RPC URL is longer than %d bytes", CA_RPC_URL_MAX - 1);
    memcpy(rpc->url, url, strlen(url) + 1);
    rpc->transport = *t;
    rpc->max_attempts = 3;
    rpc->backoff_ms = 200;
    rpc->backoff_max_ms = 2000;
    rpc->max_response = CA_RPC_DEFAULT_MAX_RESPONSE;
    rpc->next_id = 1;
    return CA_OK;
}

/* Set by ca_rpc_cancel_all: the whole process is stopping (rpc.h "Cancellation"). */
static atomic_bool cancel_all;

void ca_rpc_cancel_all(void)
{
    atomic_store(&cancel_all, true);
}

static bool cancelled(const atomic_bool *cancel)
{
    return atomic_load(&cancel_all) || (cancel && atomic_load(cancel));
}

/* Sleeps ms, in slices short enough that a cancel is seen at once; false when cancelled. */
static bool sleep_ms(unsigned ms, const atomic_bool *cancel)
{
    enum { SLICE_MS = 50 };
    while (ms > 0 && !cancelled(cancel)) {
        unsigned d = ms < SLICE_MS ? ms : SLICE_MS;
        struct timespec ts = {0, (long)d * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        ms -= d;
    }
    return !cancelled(cancel);
}

/* Checks one response body against our request id. On CA_OK *result is a new reference. */
static ca_err parse_response(ca_rpc *rpc, const char *method, const char *origin,
                             uint64_t id, const char *body, size_t len, json_t **result,
                             ca_errbuf *eb)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    ca_err err = CA_OK;
    const char *why = NULL;
    if (!root) {
        why = "body is not JSON";
        goto bad;
    }
    if (!json_is_object(root)) {
        why = "not a JSON object";
        goto bad;
    }
    json_t *v = json_object_get(root, "jsonrpc");
    if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
        why = "\"jsonrpc\" is not \"2.0\"";
        goto bad;
    }
    json_t *jid = json_object_get(root, "id");
    if (!json_is_integer(jid) || json_integer_value(jid) < 0 ||
        (uint64_t)json_integer_value(jid) != id) {
        why = "response id does not match the request id";
        goto bad;
    }
    json_t *res = json_object_get(root, "result");
    json_t *e = json_object_get(root, "error");
    if ((res != NULL) == (e != NULL)) {
        why = res ? "both \"result\" and \"error\"" : "neither \"result\" nor \"error\"";
        goto bad;
    }
    if (e) {
        json_t *code = json_object_get(e, "code");
        json_t *msg = json_object_get(e, "message");
        if (!json_is_object(e) || !json_is_integer(code) || (msg && !json_is_string(msg))) {
            why = "malformed \"error\" object";
            goto bad;
        }
        rpc->last_rpc_error = true;
        rpc->last_rpc_code = json_integer_value(code);
        one_line(rpc->last_rpc_message, sizeof rpc->last_rpc_message,
                 msg ? json_string_value(msg) : "");
        err = ca_fail(eb, CA_ERR_NETWORK, "RPC %s: %lld %s", method, rpc->last_rpc_code,
                      rpc->last_rpc_message);
        goto out;
    }
    *result = json_incref(res);
    goto out;
bad:
    err = ca_fail(eb, CA_ERR_NETWORK, "%s: not JSON-RPC from %s: %s", method, origin, why);
out:
    json_decref(root);
    return err;
}

ca_err ca_rpc_call(ca_rpc *rpc, const char *method, json_t *params, json_t **result,
                   ca_errbuf *eb)
{
    CA_ASSERT(rpc && method && result);
    *result = NULL;
    rpc->last_rpc_error = false;
    rpc->last_rpc_code = 0;
    rpc->last_rpc_message[0] = '\0';
    if (!ca_rpc_method_allowed(method))
        return ca_fail(eb, CA_ERR_INVALID, "RPC method %.64s is not allowed (SPEC §2)", method);
    if (params && !json_is_array(params))
        return ca_fail(eb, CA_ERR_INVALID, "RPC %s: params must be an array", method);

    char origin[256];
    url_origin(origin, sizeof origin, rpc->url);
    uint64_t id = rpc->next_id++;
    json_t *req = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)id,
                            "method", method, "params",
                            params ? json_incref(params) : json_array());
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body)
        return ca_fail(eb, CA_ERR_NOMEM, "RPC %s: cannot build the request", method);

    const bool is_send = strcmp(method, "eth_sendRawTransaction") == 0;
    unsigned attempts = rpc->max_attempts ? rpc->max_attempts : 1;
    ca_err err = CA_ERR_NETWORK;
    unsigned n = 0;
    for (; n < attempts; n++) {
        if (n > 0) {
            unsigned d = rpc->backoff_ms;
            for (unsigned k = 1; k < n && d < rpc->backoff_max_ms; k++)
                d *= 2;
            if (d > rpc->backoff_max_ms)
                d = rpc->backoff_max_ms;
            sleep_ms(d, rpc->cancel);
        }
        if (cancelled(rpc->cancel)) {
            err = ca_fail(eb, CA_ERR_NETWORK, "%s: cancelled: the node is stopping", method);
            break;
        }
        char *resp = NULL;
        size_t resp_len = 0;
        long status = 0;
        ca_errbuf teb = {{0}};
        ca_err terr = rpc->transport.post(rpc->transport.ctx, rpc->url, body, strlen(body),
                                          &resp, &resp_len, &status, &teb);
        bool retry = false;
        if (terr == CA_ERR_TOO_LARGE) {
            err = ca_fail(eb, CA_ERR_TOO_LARGE, "%s: %s", method, ca_errmsg(&teb, terr));
        } else if (terr != CA_OK) {
            err = ca_fail(eb, CA_ERR_NETWORK, "%s: cannot reach %s: %s", method, origin,
                          ca_errmsg(&teb, terr));
            retry = !is_send || terr == CA_ERR_IO;
        } else if (resp_len > rpc->max_response) {
            err = ca_fail(eb, CA_ERR_TOO_LARGE, "%s: response from %s over %zu bytes", method,
                          origin, rpc->max_response);
        } else if (status < 200 || status > 299) {
            err = ca_fail(eb, CA_ERR_NETWORK, "%s: HTTP %ld from %s", method, status, origin);
            retry = !is_send && (status >= 500 || status == 429);
        } else {
            err = parse_response(rpc, method, origin, id, resp ? resp : "", resp_len, result, eb);
        }
        free(resp);
        if (!retry || cancelled(rpc->cancel))
            break;
    }
    if (err != CA_OK && n == attempts && attempts > 1 && eb) {
        size_t l = strlen(eb->msg);
        snprintf(eb->msg + l, sizeof eb->msg - l, " (after %u attempts)", attempts);
    }
    free(body);
    return err;
}

/* ---- strict value decoding ---- */

/* Checks the quantity shape; returns the digits and their count via out-params. */
static ca_err quantity_digits(const char **digits, size_t *n, const char *s, size_t max,
                              ca_errbuf *eb)
{
    if (!s || s[0] != '0' || s[1] != 'x')
        return ca_fail(eb, CA_ERR_INVALID, "quantity \"%.80s\" lacks the 0x prefix", s ? s : "");
    const char *d = s + 2;
    size_t len = strlen(d);
    if (len == 0)
        return ca_fail(eb, CA_ERR_INVALID, "quantity \"0x\" has no digits");
    if (len > max)
        return ca_fail(eb, CA_ERR_INVALID, "quantity \"%.80s\" has more than %zu digits", s, max);
    if (len > 1 && d[0] == '0')
        return ca_fail(eb, CA_ERR_INVALID, "quantity \"%.80s\" has a leading zero", s);
    for (size_t i = 0; i < len; i++)
        if (ca_hex_digit_value(d[i]) < 0)
            return ca_fail(eb, CA_ERR_INVALID, "quantity \"%.80s\" is not hex", s);
    *digits = d;
    *n = len;
    return CA_OK;
}

ca_err ca_rpc_parse_u64(uint64_t *out, const char *s, ca_errbuf *eb)
{
    CA_ASSERT(out);
    const char *d;
    size_t n;
    ca_err err = quantity_digits(&d, &n, s, 16, eb);
    if (err)
        return err;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 4 | (uint64_t)ca_hex_digit_value(d[i]);
    *out = v;
    return CA_OK;
}

ca_err ca_rpc_parse_u256(uint8_t out[32], const char *s, ca_errbuf *eb)
{
    CA_ASSERT(out);
    const char *d;
    size_t n;
    ca_err err = quantity_digits(&d, &n, s, 64, eb);
    if (err)
        return err;
    memset(out, 0, 32);
    for (size_t i = 0; i < n; i++) { /* digit i from the right lands in nibble i */
        size_t k = n - 1 - i;
        int v = ca_hex_digit_value(d[k]);
        out[31 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
    }
    return CA_OK;
}

ca_err ca_rpc_parse_data(uint8_t *out, size_t len, const char *s, ca_errbuf *eb)
{
    if (!s || s[0] != '0' || s[1] != 'x')
        return ca_fail(eb, CA_ERR_INVALID, "data \"%.80s\" lacks the 0x prefix", s ? s : "");
    const char *d = s + 2;
    size_t n = strlen(d);
    if (n % 2)
        return ca_fail(eb, CA_ERR_INVALID, "data \"%.80s\" has an odd number of digits", s);
    if (n != 2 * len)
        return ca_fail(eb, CA_ERR_INVALID, "data \"%.80s\" is not %zu bytes", s, len);
    for (size_t i = 0; i < len; i++) {
        int hi = ca_hex_digit_value(d[2 * i]), lo = ca_hex_digit_value(d[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ca_fail(eb, CA_ERR_INVALID, "data \"%.80s\" is not hex", s);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return CA_OK;
}

void ca_rpc_format_u64(char *out, uint64_t v)
{
    snprintf(out, 19, "0x%llx", (unsigned long long)v);
}

/* "0x" + hex of len bytes, malloc'd. */
static char *data_hex(const uint8_t *p, size_t len)
{
    char *s = malloc(2 * len + 3);
    if (!s)
        return NULL;
    s[0] = '0';
    s[1] = 'x';
    ca_hex_encode(s + 2, p, len);
    return s;
}

/* ---- typed helpers ---- */

/* Parses one member with a strict decoder; on failure prefixes the method (M) and jumps to
 * out. */
#define PARSE_MEMBER(call)                                                       \
    do {                                                                         \
        ca_errbuf peb_ = {{0}};                                                  \
        err = (call);                                                            \
        if (err) {                                                               \
            ca_fail(eb, err, "RPC %s: %s", M, peb_.msg);                         \
            goto out;                                                            \
        }                                                                        \
    } while (0)


/* Calls method with params (stolen; NULL: building them ran out of memory) and returns the
 * result in *res, a reference the caller decrefs. */
static ca_err call_json(ca_rpc *rpc, const char *method, json_t *params, json_t **res,
                        ca_errbuf *eb)
{
    if (!params)
        return ca_fail(eb, CA_ERR_NOMEM, "RPC %s: cannot build params", method);
    ca_err err = ca_rpc_call(rpc, method, params, res, eb);
    json_decref(params);
    return err;
}

/* Calls method with params (stolen) and returns the result as a string (copied into a new
 * json reference the caller decrefs), CA_ERR_INVALID when it is not a string. */
static ca_err call_string(ca_rpc *rpc, const char *method, json_t *params, json_t **res,
                          ca_errbuf *eb)
{
    ca_err err = call_json(rpc, method, params, res, eb);
    if (err)
        return err;
    if (!json_is_string(*res)) {
        json_decref(*res);
        *res = NULL;
        return ca_fail(eb, CA_ERR_INVALID, "RPC %s: result is not a string", method);
    }
    return CA_OK;
}

/* Calls method (params stolen) and parses its string result as a strict quantity: into *u64,
 * or into u256 when u64 is NULL. */
static ca_err call_quantity(ca_rpc *rpc, const char *method, json_t *params, uint64_t *u64,
                            uint8_t *u256, ca_errbuf *eb)
{
    json_t *res = NULL;
    ca_err err = call_string(rpc, method, params, &res, eb);
    if (err)
        return err;
    ca_errbuf peb = {{0}};
    const char *s = json_string_value(res);
    err = u64 ? ca_rpc_parse_u64(u64, s, &peb) : ca_rpc_parse_u256(u256, s, &peb);
    if (err)
        ca_fail(eb, err, "RPC %s: %s", method, peb.msg);
    json_decref(res);
    return err;
}

static ca_err call_u64(ca_rpc *rpc, const char *method, json_t *params, uint64_t *out,
                       ca_errbuf *eb)
{
    return call_quantity(rpc, method, params, out, NULL, eb);
}

static ca_err call_u256(ca_rpc *rpc, const char *method, json_t *params, uint8_t out[32],
                        ca_errbuf *eb)
{
    return call_quantity(rpc, method, params, NULL, out, eb);
}

ca_err ca_rpc_chain_id(ca_rpc *rpc, uint64_t *chain_id, ca_errbuf *eb)
{
    return call_u64(rpc, "eth_chainId", json_array(), chain_id, eb);
}

ca_err ca_rpc_block_number(ca_rpc *rpc, uint64_t *number, ca_errbuf *eb)
{
    return call_u64(rpc, "eth_blockNumber", json_array(), number, eb);
}

static ca_err check_block_tag(const char *block, ca_errbuf *eb)
{
    static const char *const tags[] = {"latest", "pending", "earliest", "safe", "finalized"};
    if (!block)
        return ca_fail(eb, CA_ERR_INVALID, "no block tag");
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        if (strcmp(block, tags[i]) == 0)
            return CA_OK;
    uint64_t dummy;
    return ca_rpc_parse_u64(&dummy, block, eb);
}

static json_t *addr_block_params(const uint8_t addr[20], const char *block)
{
    char *a = data_hex(addr, 20);
    json_t *p = a ? json_pack("[s, s]", a, block) : NULL;
    free(a);
    return p;
}

ca_err ca_rpc_nonce(ca_rpc *rpc, uint64_t *nonce, const uint8_t addr[20], const char *block,
                    ca_errbuf *eb)
{
    CA_ASSERT(addr);
    ca_err err = check_block_tag(block, eb);
    if (err)
        return err;
    return call_u64(rpc, "eth_getTransactionCount", addr_block_params(addr, block), nonce, eb);
}

ca_err ca_rpc_balance(ca_rpc *rpc, uint8_t balance[32], const uint8_t addr[20],
                      const char *block, ca_errbuf *eb)
{
    CA_ASSERT(addr);
    ca_err err = check_block_tag(block, eb);
    if (err)
        return err;
    return call_u256(rpc, "eth_getBalance", addr_block_params(addr, block), balance, eb);
}

/* a = a + b over 32-byte big-endian; returns the carry out. */
static int u256_add(uint8_t a[32], const uint8_t b[32])
{
    unsigned c = 0;
    for (int i = 31; i >= 0; i--) {
        unsigned s = (unsigned)a[i] + b[i] + c;
        a[i] = (uint8_t)s;
        c = s >> 8;
    }
    return (int)c;
}

static int cmp32(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

ca_err ca_rpc_fee_suggestion(ca_rpc *rpc, uint8_t max_priority_fee[32], uint8_t max_fee[32],
                             ca_errbuf *eb)
{
    static const char M[] = "eth_feeHistory";
    CA_ASSERT(max_priority_fee && max_fee);
    json_t *hist = NULL;
    uint8_t (*rewards)[32] = NULL;
    ca_err err = call_json(rpc, M, json_pack("[s, s, [i]]", "0x4", "latest", 50), &hist, eb);
    if (err)
        return err;
    json_t *bases = json_object_get(hist, "baseFeePerGas");
    size_t nb = json_array_size(bases);
    if (!json_is_object(hist) || nb == 0 || !json_is_string(json_array_get(bases, nb - 1))) {
        err = ca_fail(eb, CA_ERR_INVALID, "RPC %s: no baseFeePerGas list", M);
        goto out;
    }
    uint8_t base[32], prio[32];
    PARSE_MEMBER(ca_rpc_parse_u256(base, json_string_value(json_array_get(bases, nb - 1)), &peb_));

    err = call_u256(rpc, "eth_maxPriorityFeePerGas", json_array(), prio, eb);
    if (err && rpc->last_rpc_error) {
        /* Not supported by this endpoint: the median of the recent 50th-percentile tips. */
        json_t *rw = json_object_get(hist, "reward");
        size_t n = json_array_size(rw);
        if (n > 1024)
            n = 1024;
        if (n == 0) {
            err = ca_fail(eb, CA_ERR_INVALID, "RPC %s: no eth_maxPriorityFeePerGas and no "
                          "reward list to estimate the priority fee from", M);
            goto out;
        }
        rewards = calloc(n, 32);
        if (!rewards) {
            err = ca_fail(eb, CA_ERR_NOMEM, "RPC %s: out of memory", M);
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(json_array_get(rw, i), 0);
            if (!json_is_string(v)) {
                err = ca_fail(eb, CA_ERR_INVALID, "RPC %s: reward %zu is not a quantity", M, i);
                goto out;
            }
            PARSE_MEMBER(ca_rpc_parse_u256(rewards[i], json_string_value(v), &peb_));
        }
        qsort(rewards, n, 32, cmp32);
        memcpy(prio, rewards[n / 2], 32);
        err = CA_OK;
    } else if (err) {
        goto out;
    }
    uint8_t fee[32];
    memcpy(fee, base, 32);
    if (u256_add(fee, base) || u256_add(fee, prio)) {
        err = ca_fail(eb, CA_ERR_RANGE, "RPC %s: 2 * base fee + priority fee overflows", M);
        goto out;
    }
    memcpy(max_priority_fee, prio, 32);
    memcpy(max_fee, fee, 32);
out:
    free(rewards);
    json_decref(hist);
    return err;
}

ca_err ca_rpc_estimate_gas(ca_rpc *rpc, uint64_t *gas, const uint8_t from[20],
                           const uint8_t to[20], const uint8_t *data, size_t len,
                           ca_errbuf *eb)
{
    CA_ASSERT(from && to && (data || len == 0));
    char *f = data_hex(from, 20), *t = data_hex(to, 20), *d = data_hex(data ? data : (const uint8_t *)"", len);
    json_t *p = (f && t && d)
                    ? json_pack("[{s:s, s:s, s:s, s:s}]", "from", f, "to", t, "data", d, "value", "0x0")
                    : NULL;
    free(f);
    free(t);
    free(d);
    return call_u64(rpc, "eth_estimateGas", p, gas, eb);
}

ca_err ca_rpc_send_raw(ca_rpc *rpc, uint8_t tx_hash[32], const uint8_t *raw, size_t len,
                       ca_errbuf *eb)
{
    CA_ASSERT(tx_hash && raw && len > 0);
    char *r = data_hex(raw, len);
    json_t *p = r ? json_pack("[s]", r) : NULL;
    free(r);
    json_t *res = NULL;
    ca_err err = call_string(rpc, "eth_sendRawTransaction", p, &res, eb);
    if (err)
        return err;
    ca_errbuf peb = {{0}};
    uint8_t got[32];
    err = ca_rpc_parse_data(got, 32, json_string_value(res), &peb);
    json_decref(res);
    if (err)
        return ca_fail(eb, err, "RPC eth_sendRawTransaction: %s", peb.msg);
    ca_hash want;
    ca_keccak256(&want, raw, len);
    if (memcmp(want.b, got, 32) != 0)
        return ca_fail(eb, CA_ERR_VERIFY,
                       "RPC eth_sendRawTransaction: the node returned a hash that is not "
                       "keccak256 of the transaction");
    memcpy(tx_hash, got, 32);
    return CA_OK;
}

/* A member of obj that must be a string; NULL and a message otherwise. */
static const char *member_str(json_t *obj, const char *key, const char *method, ca_errbuf *eb)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) {
        ca_fail(eb, CA_ERR_INVALID, "RPC %s: \"%s\" is missing or not a string", method, key);
        return NULL;
    }
    return json_string_value(v);
}

ca_err ca_rpc_receipt(ca_rpc *rpc, ca_rpc_receipt_info *r, const uint8_t tx_hash[32],
                      ca_errbuf *eb)
{
    static const char M[] = "eth_getTransactionReceipt";
    CA_ASSERT(r && tx_hash);
    memset(r, 0, sizeof *r);
    char *h = data_hex(tx_hash, 32);
    json_t *p = h ? json_pack("[s]", h) : NULL;
    free(h);
    json_t *res = NULL;
    ca_err err = call_json(rpc, M, p, &res, eb);
    if (err)
        return err;
    if (json_is_null(res) || (json_is_object(res) && json_is_null(json_object_get(res, "blockNumber"))))
        goto out; /* unknown or pending */
    if (!json_is_object(res)) {
        err = ca_fail(eb, CA_ERR_INVALID, "RPC %s: result is not an object", M);
        goto out;
    }
    const char *s;
    uint64_t status;
    if (!(s = member_str(res, "status", M, eb)) ||
        !(s = member_str(res, "blockNumber", M, eb)) ||
        !(s = member_str(res, "blockHash", M, eb)) || !(s = member_str(res, "from", M, eb)) ||
        !(s = member_str(res, "gasUsed", M, eb))) {
        err = CA_ERR_INVALID;
        goto out;
    }
    PARSE_MEMBER(ca_rpc_parse_u64(&status, ca_json_str(res, "status"), &peb_));
    if (status > 1) {
        err = ca_fail(eb, CA_ERR_INVALID, "RPC %s: status is not 0x0 or 0x1", M);
        goto out;
    }
    PARSE_MEMBER(ca_rpc_parse_u64(&r->block_number,
                                  ca_json_str(res, "blockNumber"), &peb_));
    PARSE_MEMBER(ca_rpc_parse_data(r->block_hash, 32,
                                   ca_json_str(res, "blockHash"), &peb_));
    PARSE_MEMBER(ca_rpc_parse_data(r->from, 20, ca_json_str(res, "from"),
                                   &peb_));
    PARSE_MEMBER(ca_rpc_parse_u64(&r->gas_used, ca_json_str(res, "gasUsed"),
                                  &peb_));
    json_t *to = json_object_get(res, "to");
    if (to && !json_is_null(to)) {
        if (!json_is_string(to)) {
            err = ca_fail(eb, CA_ERR_INVALID, "RPC %s: \"to\" is not a string", M);
            goto out;
        }
        PARSE_MEMBER(ca_rpc_parse_data(r->to, 20, json_string_value(to), &peb_));
        r->has_to = true;
    }
    r->status = (int)status;
    r->found = true;
out:
    if (err)
        memset(r, 0, sizeof *r);
    json_decref(res);
    return err;
}

ca_err ca_rpc_block_hash(ca_rpc *rpc, uint8_t hash[32], bool *found, uint64_t number,
                         ca_errbuf *eb)
{
    static const char M[] = "eth_getBlockByNumber";
    CA_ASSERT(hash && found);
    *found = false;
    char q[20];
    ca_rpc_format_u64(q, number);
    json_t *res = NULL;
    ca_err err = call_json(rpc, M, json_pack("[s, b]", q, 0), &res, eb);
    if (err)
        return err;
    if (json_is_null(res))
        goto out;
    if (!json_is_object(res)) {
        err = ca_fail(eb, CA_ERR_INVALID, "RPC %s: result is not an object", M);
        goto out;
    }
    const char *s;
    if (!(s = member_str(res, "number", M, eb)) || !(s = member_str(res, "hash", M, eb))) {
        err = CA_ERR_INVALID;
        goto out;
    }
    uint64_t got;
    PARSE_MEMBER(ca_rpc_parse_u64(&got, ca_json_str(res, "number"), &peb_));
    if (got != number) {
        err = ca_fail(eb, CA_ERR_INVALID, "RPC %s: asked for block %llu, got %llu", M,
                      (unsigned long long)number, (unsigned long long)got);
        goto out;
    }
    PARSE_MEMBER(ca_rpc_parse_data(hash, 32, ca_json_str(res, "hash"),
                                   &peb_));
    *found = true;
out:
    json_decref(res);
    return err;
}

ca_err ca_rpc_tagged_block_number(ca_rpc *rpc, uint64_t *number, bool *found, const char *tag,
                                  ca_errbuf *eb)
{
    static const char M[] = "eth_getBlockByNumber";
    CA_ASSERT(number && found && tag);
    *found = false;
    json_t *res = NULL;
    ca_err err = call_json(rpc, M, json_pack("[s, b]", tag, 0), &res, eb);
    if (err)
        return err;
    if (json_is_null(res))
        goto out;
    const char *s;
    if (!json_is_object(res) || !(s = member_str(res, "number", M, eb))) {
        err = ca_fail(eb, CA_ERR_INVALID, "RPC %s(\"%s\"): no block number in the answer", M,
                      tag);
        goto out;
    }
    PARSE_MEMBER(ca_rpc_parse_u64(number, s, &peb_));
    *found = true;
out:
    json_decref(res);
    return err;
}

/* ---- the libcurl transport ---- */

/* CURLOPT_XFERINFOFUNCTION: libcurl calls it while connecting and waiting as well as while
 * moving data (about once a second when nothing arrives, more often otherwise); non-zero
 * aborts the transfer with CURLE_ABORTED_BY_CALLBACK. This is how a stalled endpoint cannot
 * hold a stopping node longer than about a second (issue #13 item 5). Chosen over a
 * curl_multi loop with curl_multi_wakeup: the same bound for a fraction of the code, and the
 * transport stays one blocking call. */
static int xfer_cancel_cb(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                          curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return cancelled(clientp) ? 1 : 0;
}

void ca_rpc_curl_defaults(ca_rpc_curl *cfg)
{
    CA_ASSERT(cfg);
    memset(cfg, 0, sizeof *cfg);
    cfg->connect_timeout_ms = 5000;
    cfg->timeout_ms = 20000;
    cfg->max_response = CA_RPC_DEFAULT_MAX_RESPONSE;
}

ca_err ca_rpc_curl_post(void *ctx, const char *url, const char *body, size_t len, char **resp,
                        size_t *resp_len, long *http_status, ca_errbuf *eb)
{
    const ca_rpc_curl *cfg = ctx;
    CA_ASSERT(cfg && url && body && resp && resp_len && http_status);
    *resp = NULL;
    *resp_len = 0;
    *http_status = 0;
    char origin[256];
    url_origin(origin, sizeof origin, url);
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return ca_fail(eb, CA_ERR_IO, "%s is not an http(s) URL", origin);

    ca_capbuf st;
    ca_capbuf_init(&st, cfg->max_response ? cfg->max_response : CA_RPC_DEFAULT_MAX_RESPONSE);
    ca_err err = CA_OK;
    struct curl_slist *hdrs = NULL;
    CURL *c = curl_easy_init();
    if (!c)
        return ca_fail(eb, CA_ERR_NOMEM, "curl_easy_init failed");
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = hdrs ? curl_slist_append(hdrs, "Accept: application/json") : NULL;
    hdrs = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
    char cerr[CURL_ERROR_SIZE] = "";
    CURLcode rc = hdrs ? CURLE_OK : CURLE_OUT_OF_MEMORY;
#define SET(opt, val) \
    do { if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, val); } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (cfg->ca_file[0])
        SET(CURLOPT_CAINFO, cfg->ca_file);
    SET(CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000L);
    SET(CURLOPT_TIMEOUT_MS, cfg->timeout_ms > 0 ? cfg->timeout_ms : 20000L);
    SET(CURLOPT_HTTPHEADER, hdrs);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, body);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)st.max);
    SET(CURLOPT_WRITEFUNCTION, ca_capbuf_curl_write);
    SET(CURLOPT_WRITEDATA, &st);
    SET(CURLOPT_ERRORBUFFER, cerr);
    SET(CURLOPT_USERAGENT, "credanchor");
    SET(CURLOPT_XFERINFOFUNCTION, xfer_cancel_cb);
    SET(CURLOPT_XFERINFODATA, (void *)cfg->cancel);
    SET(CURLOPT_NOPROGRESS, 0L);
#undef SET
    if (rc != CURLE_OK) {
        err = ca_fail(eb, CA_ERR_IO, "libcurl cannot set up the request: %s",
                      curl_easy_strerror(rc));
        goto out;
    }
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        if (rc == CURLE_ABORTED_BY_CALLBACK) {
            err = ca_fail(eb, CA_ERR_NETWORK, "request to %s cancelled: the node is stopping",
                          origin);
            goto out;
        }
        if (st.overflow || rc == CURLE_FILESIZE_EXCEEDED) {
            err = ca_fail(eb, CA_ERR_TOO_LARGE, "response from %s over %zu bytes", origin, st.max);
            goto out;
        }
        /* Was the request sent? libcurl records the pre-transfer time just before it writes
         * the request; zero means it never got that far (connect or TLS failed). */
        curl_off_t pre = 0;
        if (curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T, &pre) != CURLE_OK)
            pre = 1;
        bool unsent = pre == 0 || rc == CURLE_COULDNT_CONNECT ||
                      rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY;
        err = ca_fail(eb, unsent ? CA_ERR_IO : CA_ERR_NETWORK, "%s%s%s%s",
                      curl_easy_strerror(rc), cerr[0] ? " (" : "", cerr, cerr[0] ? ")" : "");
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http_status);
    if (!(*resp = ca_capbuf_take(&st, resp_len)))
        err = ca_fail(eb, CA_ERR_NOMEM, "out of memory");
out:
    ca_capbuf_free(&st);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return err;
}
