/*
 * node/anchor_account.c — the anchoring account's funds and the chain's reachability
 * (issue #17; contract and formula: node/anchor_account.h). Only the engine thread writes;
 * GET /v1/anchors/account and /metrics read the copy under the mutex.
 */
#include "node/anchor_account.h"

#include "node/anchor_engine.h"
#include "node/node_log.h"
#include "credanchor/crypto.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef ca_u128 u128;

/* Decimal text of a 32-byte big-endian number (up to 78 digits), by repeated division. */
static void be_decimal(char out[80], const uint8_t be[32])
{
    uint8_t n[32];
    memcpy(n, be, 32);
    char tmp[80];
    size_t len = 0;
    bool zero;
    do {
        unsigned rem = 0;
        zero = true;
        for (int i = 0; i < 32; i++) {
            unsigned cur = rem << 8 | n[i];
            n[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            if (n[i])
                zero = false;
        }
        tmp[len++] = (char)('0' + rem);
    } while (!zero && len < sizeof tmp - 1);
    for (size_t i = 0; i < len; i++)
        out[i] = tmp[len - 1 - i];
    out[len] = '\0';
}

uint64_t ca_anchor_account_estimate(const uint8_t balance[32], uint64_t gas,
                                    const uint8_t price[32])
{
    u128 p = ca_u256_to_u128(price);
    if (!gas || !p)
        return UINT64_MAX;
    u128 bal = ca_u256_to_u128(balance);
    /* cost = gas x price, saturating: a cost past 2^128 leaves 0 anchors */
    u128 cost = p > (~(u128)0) / gas ? ~(u128)0 : p * gas;
    u128 left = bal / cost;
    return left > UINT64_MAX ? UINT64_MAX : (uint64_t)left;
}

void ca_anchor_account_init(ca_anchor_account *a, const uint8_t address[20], uint64_t chain_id,
                            uint64_t threshold, uint64_t max_fee_gwei)
{
    memset(a, 0, sizeof *a);
    memcpy(a->address, address, 20);
    a->chain_id = chain_id;
    a->threshold = threshold;
    a->max_fee_gwei = max_fee_gwei;
    pthread_mutex_init(&a->mu, NULL);
}

void ca_anchor_account_destroy(ca_anchor_account *a)
{
    pthread_mutex_destroy(&a->mu);
}

/* gasUsed of the newest anchor in a block, asked once per anchor (engine thread). Keeps the
 * last figure when the receipt cannot be read now. */
static void refresh_gas_used(ca_anchor_account *a, ca_rpc *rpc, ca_store *store)
{
    ca_anchor_record *rec = malloc(sizeof *rec);
    if (!rec)
        return;
    if (ca_anchor_latest(store, rec, NULL) == CA_OK && rec->in_block && rec->has_tx &&
        rec->tree_size != a->receipt_size) {
        ca_rpc_receipt_info ri;
        if (ca_rpc_receipt(rpc, &ri, rec->tx_hash, NULL) == CA_OK && ri.found && ri.gas_used) {
            a->gas_used = ri.gas_used;
            a->receipt_size = rec->tree_size;
        }
    }
    free(rec);
}

/* The RPC half of a check: fills st (reachable, chain id, funds) or st->error. */
static void ask_chain(ca_anchor_account *a, ca_rpc *rpc, ca_anchor_account_state *st)
{
    ca_errbuf eb = {{0}};
    uint8_t prio[32], max[32];
    ca_err err = ca_rpc_chain_id(rpc, &st->chain_id, &eb);
    if (!err && st->chain_id != a->chain_id)
        err = ca_fail(&eb, CA_ERR_CONFIG,
                      "the endpoint reports chain id %llu but anchor.chain_id is %llu",
                      (unsigned long long)st->chain_id, (unsigned long long)a->chain_id);
    if (!err)
        err = ca_rpc_balance(rpc, st->balance, a->address, "latest", &eb);
    if (!err)
        err = ca_rpc_fee_suggestion(rpc, prio, max, &eb);
    if (err) {
        st->reachable = false;
        snprintf(st->error, sizeof st->error, "%s", ca_errmsg(&eb, err));
        return;
    }
    /* The fee the engine would sign with: the suggestion capped by anchor.max_fee_gwei. */
    u128 cap = (u128)a->max_fee_gwei * 1000000000u, m = ca_u256_to_u128(max);
    ca_u128_to_u256(st->gas_price, m > cap ? cap : m);
    st->reachable = true;
    st->have_funds = true;
    st->error[0] = '\0';
}

void ca_anchor_account_check(ca_anchor_account *a, ca_rpc *rpc, ca_store *store,
                             const atomic_bool *cancel)
{
    ca_anchor_account_state st, before;
    pthread_mutex_lock(&a->mu);
    before = a->s;
    pthread_mutex_unlock(&a->mu);
    st = before; /* an unreachable check keeps the last known funds for the page */
    ask_chain(a, rpc, &st);
    if (cancel && atomic_load(cancel))
        return; /* stopping: the failure was ours */
    if (st.reachable && store) /* no store (unit tests): the default gas */
        refresh_gas_used(a, rpc, store);
    st.checked = true;
    st.checked_at = (uint64_t)time(NULL);
    st.gas_per_anchor = a->gas_used ? a->gas_used : CA_ANCHOR_GAS_DEFAULT;
    if (st.have_funds) {
        st.anchors_left = ca_anchor_account_estimate(st.balance, st.gas_per_anchor,
                                                      st.gas_price);
        st.low = st.anchors_left < a->threshold;
    }
    pthread_mutex_lock(&a->mu);
    a->s = st;
    pthread_mutex_unlock(&a->mu);

    /* One line per change (issue #17: "a warning when ..."), never one per check. */
    char addr[43], bal[80];
    ca_eth_address_hex(addr, a->address);
    be_decimal(bal, st.balance);
    bool was_reachable = !before.checked || before.reachable;
    if (!st.reachable && was_reachable)
        ca_node_log(CA_NODE_LOG_WARNING, "anchor",
                    "the chain is unreachable: %s; anchoring waits until it answers", st.error);
    else if (st.reachable && !was_reachable)
        ca_node_log(CA_NODE_LOG_INFO, "anchor", "the chain is reachable again");
    if (st.reachable && st.low && !before.low)
        ca_node_log(CA_NODE_LOG_WARNING, "anchor",
                    "low funds: anchor address %s holds %s wei, about %llu anchors at %llu gas "
                    "each (anchor.low_funds_anchors = %llu); fund the address",
                    addr, bal, (unsigned long long)st.anchors_left,
                    (unsigned long long)st.gas_per_anchor, (unsigned long long)a->threshold);
    else if (st.reachable && !st.low && before.low)
        ca_node_log(CA_NODE_LOG_INFO, "anchor",
                    "funds restored: anchor address %s holds %s wei, about %llu anchors", addr,
                    bal, (unsigned long long)st.anchors_left);
}

static void rfc3339(char out[32], uint64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm))
        snprintf(out, 32, "1970-01-01T00:00:00Z");
    else
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *ca_anchor_account_json(ca_anchor_account *a)
{
    ca_anchor_account_state st;
    pthread_mutex_lock(&a->mu);
    st = a->s;
    pthread_mutex_unlock(&a->mu);
    char addr[43], bal[80], price[80], at[32];
    ca_eth_address_hex(addr, a->address);
    be_decimal(bal, st.balance);
    be_decimal(price, st.gas_price);
    rfc3339(at, st.checked_at);
    json_t *o = json_object();
    json_object_set_new(o, "configured", json_true());
    json_object_set_new(o, "address", json_string(addr));
    json_object_set_new(o, "chainId", json_integer((json_int_t)a->chain_id));
    json_object_set_new(o, "reachable", json_boolean(st.checked && st.reachable));
    json_object_set_new(o, "checkedAt", st.checked ? json_string(at) : json_null());
    json_object_set_new(o, "balanceWei", st.have_funds ? json_string(bal) : json_null());
    json_object_set_new(o, "gasPriceWei", st.have_funds ? json_string(price) : json_null());
    json_object_set_new(o, "gasPerAnchor", json_integer((json_int_t)(
                                               st.checked ? st.gas_per_anchor
                                                          : CA_ANCHOR_GAS_DEFAULT)));
    /* json_int_t is signed: a saturated estimate is shown as the largest it can hold */
    uint64_t left = st.anchors_left > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : st.anchors_left;
    json_object_set_new(o, "anchorsLeft",
                        st.have_funds ? json_integer((json_int_t)left) : json_null());
    json_object_set_new(o, "low", json_boolean(st.have_funds && st.low));
    json_object_set_new(o, "threshold", json_integer((json_int_t)a->threshold));
    json_object_set_new(o, "error", !st.checked ? json_string("not checked yet")
                                    : st.reachable ? json_null() : json_string(st.error));
    return o;
}

void ca_anchor_account_metrics(ca_anchor_account *a, FILE *f)
{
    ca_anchor_account_state st;
    pthread_mutex_lock(&a->mu);
    st = a->s;
    pthread_mutex_unlock(&a->mu);
    char bal[80];
    be_decimal(bal, st.balance);
    fprintf(f,
            "# HELP credanchor_anchor_chain_reachable 1 when the last check of the JSON-RPC "
            "endpoint got every answer on anchor.chain_id.\n"
            "# TYPE credanchor_anchor_chain_reachable gauge\n"
            "credanchor_anchor_chain_reachable %d\n"
            "# HELP credanchor_anchor_account_balance_wei The anchor account's balance at the "
            "last reachable check.\n"
            "# TYPE credanchor_anchor_account_balance_wei gauge\n"
            "credanchor_anchor_account_balance_wei %s\n"
            "# HELP credanchor_anchor_account_anchors_left Anchors the balance pays for at the "
            "current maximum fee (node/anchor_account.h).\n"
            "# TYPE credanchor_anchor_account_anchors_left gauge\n"
            "credanchor_anchor_account_anchors_left %llu\n"
            "# HELP credanchor_anchor_account_low 1 when anchors left < anchor.low_funds_anchors.\n"
            "# TYPE credanchor_anchor_account_low gauge\n"
            "credanchor_anchor_account_low %d\n",
            st.checked && st.reachable ? 1 : 0, bal, (unsigned long long)st.anchors_left,
            st.have_funds && st.low ? 1 : 0);
}
