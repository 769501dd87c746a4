/*
 * Ethereum JSON-RPC 2.0 client (SPEC §2) over an injected transport, so unit tests need no
 * network (STYLE.md); ca_rpc_curl_post is the real libcurl transport. Conventions: common.h;
 * JSON values are jansson's json_t (the caller owns what a function returns and decrefs it).
 *
 * Only standard JSON-RPC is used, and ca_rpc_call enforces it: a method outside the
 * allow-list (ca_rpc_method_allowed) is refused with CA_ERR_INVALID before anything is sent,
 * so no code path can reach eth_sendTransaction, eth_accounts or any anvil_* / hardhat_* call.
 *
 * Errors. Every failure of a call is one line in eb:
 *   - transport failure   CA_ERR_NETWORK  "eth_chainId: cannot reach http://host:port: ..."
 *   - HTTP status != 2xx  CA_ERR_NETWORK  "eth_chainId: HTTP 503 from http://host:port"
 *   - not a JSON-RPC 2.0 response for our request (not JSON, not an object, wrong "jsonrpc",
 *     id mismatch, neither or both of result/error)
 *                         CA_ERR_NETWORK  "eth_chainId: not JSON-RPC from ...: <why>"
 *   - a JSON-RPC error    CA_ERR_NETWORK  "RPC eth_chainId: -32601 <message>", and
 *                         rpc->last_rpc_error / last_rpc_code / last_rpc_message are set so a
 *                         caller can tell "nonce too low" / "insufficient funds" apart.
 *   - response over cap   CA_ERR_TOO_LARGE
 *   - a result of the wrong shape (bad quantity, bad hex) CA_ERR_INVALID
 * URLs in messages are cut to scheme://host[:port]: a provider's API key often sits in the path.
 *
 * Quantities are strict (Ethereum JSON-RPC spec "Hex value encoding"): lowercase "0x" then hex
 * digits (either case accepted), no leading zero except "0x0", at most 16 digits for a u64
 * and 64 for a u256. Data is "0x" then an even number of hex digits (exact length for hashes/addresses).
 * u256 values are 32-byte big-endian arrays.
 *
 * A ca_rpc is not thread-safe (its id counter and last-error fields): one per thread.
 *
 * Cancellation. A long-lived client (the anchoring engine) points ca_rpc.cancel and
 * ca_rpc_curl.cancel at one flag another thread sets to stop it; ca_rpc_cancel_all() (a
 * stopping `serve`) does the same for every client of the process at once. A call in flight
 * then ends within about a second (libcurl's progress callback), a backoff sleep at once, and
 * no retry follows; the call fails with CA_ERR_NETWORK "... cancelled". Nothing else is
 * interrupted.
 */
#ifndef CREDANCHOR_RPC_H
#define CREDANCHOR_RPC_H

#include "credanchor/common.h"

#include <jansson.h>
#include <stdatomic.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_RPC_URL_MAX 1024
#define CA_RPC_DEFAULT_MAX_RESPONSE (4u * 1024u * 1024u) /* 4 MiB */

/* POSTs body (len bytes of JSON) to url. On CA_OK an HTTP answer arrived (any status):
 * *resp is malloc'd (NUL-terminated, caller frees), *resp_len its length, *http_status the
 * status. On failure nothing is returned in resp and eb says why; the code tells the client
 * whether a retry is safe:
 *   CA_ERR_IO        the request was certainly NOT sent (connection refused, DNS failure,
 *                    connect timeout, TLS handshake failure);
 *   CA_ERR_TOO_LARGE the response went over the cap;
 *   anything else    (CA_ERR_NETWORK) the request may have reached the server. */
typedef struct ca_rpc_transport {
    ca_err (*post)(void *ctx, const char *url, const char *body, size_t len, char **resp,
                   size_t *resp_len, long *http_status, ca_errbuf *eb);
    void *ctx;
} ca_rpc_transport;

/* The client. Set up with ca_rpc_init, then adjust the public fields if needed. */
typedef struct ca_rpc {
    char url[CA_RPC_URL_MAX];
    ca_rpc_transport transport;
    unsigned max_attempts;    /* default 3 (1 = no retry) */
    unsigned backoff_ms;      /* default 200: sleep backoff_ms * 2^(n-1) before attempt n+1 */
    unsigned backoff_max_ms;  /* default 2000: cap on one sleep */
    size_t max_response;      /* default CA_RPC_DEFAULT_MAX_RESPONSE, also checked here */
    uint64_t next_id;         /* JSON-RPC id of the next request; starts at 1 */
    const atomic_bool *cancel; /* NULL, or set by another thread: stop waiting (see above) */
    /* The last JSON-RPC error object seen (valid when last_rpc_error is true). */
    bool last_rpc_error;
    long long last_rpc_code;
    char last_rpc_message[256];
} ca_rpc;

/* The process is stopping: every wait of every client ends (see Cancellation above), and
 * later calls fail at once. There is no way back; call it only on the way out. */
void ca_rpc_cancel_all(void);

/* Sets defaults. url must be http:// or https:// (CA_ERR_CONFIG otherwise, or when longer
 * than CA_RPC_URL_MAX - 1). t is copied. */
ca_err ca_rpc_init(ca_rpc *rpc, const char *url, const ca_rpc_transport *t, ca_errbuf *eb);

/* True when method is one ca_rpc_call will send: eth_chainId, eth_getTransactionCount,
 * eth_feeHistory, eth_maxPriorityFeePerGas, eth_estimateGas, eth_sendRawTransaction,
 * eth_getTransactionReceipt, eth_getBlockByNumber, eth_blockNumber, eth_getBalance,
 * eth_getTransactionByHash. */
bool ca_rpc_method_allowed(const char *method);

/* One JSON-RPC call. params is borrowed (a JSON array; NULL means []). On CA_OK *result is a
 * new reference to the "result" member (may be json null). Retries with exponential backoff
 * on transport failures and HTTP 5xx/429 only; never on a JSON-RPC error, a 4xx, or a
 * malformed answer. eth_sendRawTransaction is retried only when the transport says the
 * request was certainly not sent (CA_ERR_IO): once the server may have seen the transaction,
 * its fate is the anchoring engine's to track by hash (a blind resend would turn into
 * "already known" / "nonce too low" errors that hide whether the first send worked). */
ca_err ca_rpc_call(ca_rpc *rpc, const char *method, json_t *params, json_t **result,
                   ca_errbuf *eb);

/* ---- strict decoding of JSON-RPC values (also used by the typed helpers) ---- */

/* A u64 quantity ("0x0", "0x1a", at most 16 digits). CA_ERR_INVALID otherwise. */
ca_err ca_rpc_parse_u64(uint64_t *out, const char *s, ca_errbuf *eb);
/* A u256 quantity (at most 64 digits) into 32 big-endian bytes. */
ca_err ca_rpc_parse_u256(uint8_t out[32], const char *s, ca_errbuf *eb);
/* Data of exactly len bytes ("0x" + 2*len hex digits). */
ca_err ca_rpc_parse_data(uint8_t *out, size_t len, const char *s, ca_errbuf *eb);
/* Formats a u64 as a quantity; out holds at least 19 bytes. */
void ca_rpc_format_u64(char *out, uint64_t v);

/* ---- typed helpers ---- */

/* eth_chainId. The anchoring code compares it with anchor.chain_id and refuses to sign on a
 * mismatch (SPEC §2). */
ca_err ca_rpc_chain_id(ca_rpc *rpc, uint64_t *chain_id, ca_errbuf *eb);

/* eth_blockNumber: the head. */
ca_err ca_rpc_block_number(ca_rpc *rpc, uint64_t *number, ca_errbuf *eb);

/* eth_getTransactionCount(addr, block): block is "latest", "pending", "earliest", "safe",
 * "finalized" or a quantity. */
ca_err ca_rpc_nonce(ca_rpc *rpc, uint64_t *nonce, const uint8_t addr[20], const char *block,
                    ca_errbuf *eb);

/* eth_getBalance(addr, block) in wei, 32 bytes big-endian. */
ca_err ca_rpc_balance(ca_rpc *rpc, uint8_t balance[32], const uint8_t addr[20],
                      const char *block, ca_errbuf *eb);

/* EIP-1559 fee suggestion, both values in wei as 32-byte big-endian:
 *   base     = the next block's base fee: the last entry of eth_feeHistory(4, "latest", [50])
 *              .baseFeePerGas (the spec returns blockCount + 1 entries, the last one being
 *              the block after the newest);
 *   priority = eth_maxPriorityFeePerGas, or, when the endpoint answers that with a JSON-RPC
 *              error (not supported), the median of the feeHistory 50th-percentile rewards;
 *   max_fee  = 2 * base + priority: the rule ethers and most wallets use; it keeps the tx
 *              includable through six consecutive full blocks (+12.5% each). The caller
 *              applies its own configured cap.
 * CA_ERR_RANGE if max_fee would not fit in 256 bits. */
ca_err ca_rpc_fee_suggestion(ca_rpc *rpc, uint8_t max_priority_fee[32], uint8_t max_fee[32],
                             ca_errbuf *eb);

/* eth_estimateGas({from, to, data, value: 0}). data may be NULL when len is 0. */
ca_err ca_rpc_estimate_gas(ca_rpc *rpc, uint64_t *gas, const uint8_t from[20],
                           const uint8_t to[20], const uint8_t *data, size_t len,
                           ca_errbuf *eb);

/* eth_sendRawTransaction(raw). tx_hash gets the hash the node returned, which must equal
 * keccak256(raw) (the hash of a typed transaction envelope); CA_ERR_VERIFY otherwise. */
ca_err ca_rpc_send_raw(ca_rpc *rpc, uint8_t tx_hash[32], const uint8_t *raw, size_t len,
                       ca_errbuf *eb);

typedef struct ca_rpc_receipt_info {
    bool found;          /* false: unknown or still pending; the rest is then zero */
    int status;          /* 1 success, 0 reverted */
    uint64_t block_number;
    uint8_t block_hash[32];
    uint8_t from[20];
    uint8_t to[20];
    bool has_to;         /* false for a contract creation (to is null) */
    uint64_t gas_used;
} ca_rpc_receipt_info;

/* eth_getTransactionReceipt(tx_hash). A null result (or one without a block) is CA_OK with
 * found = false. */
ca_err ca_rpc_receipt(ca_rpc *rpc, ca_rpc_receipt_info *r, const uint8_t tx_hash[32],
                      ca_errbuf *eb);

/* eth_getBlockByNumber(number, false).hash: the canonical block hash at that height (reorg
 * check). found = false when the chain has no such block yet. */
ca_err ca_rpc_block_hash(ca_rpc *rpc, uint8_t hash[32], bool *found, uint64_t number,
                         ca_errbuf *eb);

/* eth_getBlockByNumber(tag, false).number for a block tag ("finalized", "safe", "latest").
 * found = false when the endpoint answers null; a chain without the tag may instead answer a
 * JSON-RPC error (then rpc->last_rpc_error is set). */
ca_err ca_rpc_tagged_block_number(ca_rpc *rpc, uint64_t *number, bool *found, const char *tag,
                                  ca_errbuf *eb);

/* ---- the libcurl transport ---- */

/* Configuration (the transport's ctx). POST with Content-Type: application/json; http and
 * https only (also on the wire: CURLOPT_PROTOCOLS_STR); TLS peer and host verification always
 * on (ca_file, when not empty, replaces the system CA bundle); no redirects (a 3xx is an HTTP
 * error); connect and total timeouts; the response cap enforced while receiving; no signals
 * (CURLOPT_NOSIGNAL), no cookies, no compression. Proxies follow libcurl's environment rules.
 * The program calls curl_global_init once before any thread uses it. */
typedef struct ca_rpc_curl {
    long connect_timeout_ms; /* default 5000 */
    long timeout_ms;         /* default 20000, the whole exchange */
    size_t max_response;     /* default CA_RPC_DEFAULT_MAX_RESPONSE */
    char ca_file[1024];
    const atomic_bool *cancel; /* NULL, or set by another thread: abort the transfer */
} ca_rpc_curl;

void ca_rpc_curl_defaults(ca_rpc_curl *cfg);

ca_err ca_rpc_curl_post(void *ctx /* ca_rpc_curl */, const char *url, const char *body,
                        size_t len, char **resp, size_t *resp_len, long *http_status,
                        ca_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
