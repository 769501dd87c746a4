/* node/cli_proof.c — `credanchor verify-proof` (SPEC §6): an offline check that needs only the
 * proof file and the log's verifier key, taken from --key, from a node's /v1/log/key, or from
 * the local data dir. */
#include "node/cli.h"

#include "credanchor/encoding.h"
#include "credanchor/node.h"
#include "credanchor/proof.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define KEY_FETCH_MAX 4096 /* a verifier key is well under 1 KiB */

typedef struct fetch_buf {
    char data[KEY_FETCH_MAX + 1];
    size_t len;
    bool overflow;
} fetch_buf;

static size_t fetch_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    fetch_buf *b = ud;
    size_t n = size * nmemb;
    if (b->len + n > KEY_FETCH_MAX) {
        b->overflow = true;
        return 0; /* aborts the transfer */
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    return n;
}

/* GETs URL/v1/log/key with TLS verification on (libcurl's default, never turned off). */
static ca_err fetch_verifier_key(char *out, size_t cap, const char *base, ca_errbuf *eb)
{
    char url[2048];
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;
    if (blen + sizeof "/v1/log/key" > sizeof url)
        return ca_fail(eb, CA_ERR_INVALID, "--node URL is too long");
    snprintf(url, sizeof url, "%.*s/v1/log/key", (int)blen, base);
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return ca_fail(eb, CA_ERR_INVALID, "--node must be an http:// or https:// URL");
    CURL *c = curl_easy_init();
    if (!c)
        return ca_fail(eb, CA_ERR_NOMEM, "cannot start libcurl");
    fetch_buf buf = {.len = 0};
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (buf.overflow)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "%s: answer larger than %d bytes", url,
                       KEY_FETCH_MAX);
    if (rc != CURLE_OK)
        return ca_fail(eb, CA_ERR_NETWORK, "%s: %s", url, curl_easy_strerror(rc));
    if (status != 200)
        return ca_fail(eb, CA_ERR_NETWORK, "%s: HTTP status %ld", url, status);
    while (buf.len && (buf.data[buf.len - 1] == '\n' || buf.data[buf.len - 1] == '\r'))
        buf.len--;
    if (buf.len >= cap)
        return ca_fail(eb, CA_ERR_TOO_LARGE, "%s: verifier key too long", url);
    memcpy(out, buf.data, buf.len);
    out[buf.len] = '\0';
    return CA_OK;
}

int ca_cli_verify_proof(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"config", true, NULL, false}, {"data-dir", true, NULL, false},
                         {"key", true, NULL, false},    {"node", true, NULL, false},
                         {"json", false, NULL, false},  {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    if (npos != 1)
        return ca_cli_usage_error("verify-proof", "give one proof FILE (or -); see --help");
    const char *key_opt = ca_cli_value(opts, "key"), *node_url = ca_cli_value(opts, "node");
    if (key_opt && node_url)
        return ca_cli_usage_error("verify-proof", "give --key or --node, not both");

    ca_errbuf eb = {{0}};
    ca_err err;
    char vkey_text[CA_VERIFIER_KEY_MAX];
    if (key_opt) {
        snprintf(vkey_text, sizeof vkey_text, "%s", key_opt);
    } else if (node_url) {
        if ((err = fetch_verifier_key(vkey_text, sizeof vkey_text, node_url, &eb)))
            return ca_cli_error("verify-proof", err, &eb);
    } else {
        ca_config cfg;
        ca_node *node;
        if ((rc = ca_cli_load_config(&cfg, "verify-proof", opts)))
            return rc;
        if ((err = ca_node_open(&node, &cfg, CA_NODE_READ_ONLY, &eb)))
            return ca_cli_error("verify-proof", err, &eb);
        err = ca_log_verifier_key(node->log, vkey_text, &eb);
        ca_node_close(node);
        if (err)
            return ca_cli_error("verify-proof", err, &eb);
    }
    ca_note_verifier v;
    if ((err = ca_verifier_key_parse(&v, vkey_text, strlen(vkey_text), &eb)))
        return ca_cli_error("verify-proof", CA_ERR_INVALID, &eb);

    char *data;
    size_t len;
    if ((err = ca_cli_read_input(&data, &len, pos[0], CA_PROOF_MAX_BYTES, &eb)))
        return ca_cli_error("verify-proof", err, &eb);
    ca_proof_report r;
    err = ca_proof_check(&r, data, len, &v, &eb);
    free(data);
    if (err)
        return ca_cli_error("verify-proof", err, &eb);
    char digest[2 * CA_HASH_SIZE + 1], root[2 * CA_HASH_SIZE + 1];
    ca_hash_to_hex(digest, &r.digest);
    ca_hash_to_hex(root, &r.root);
    if (ca_cli_flag(opts, "json"))
        printf("{\"valid\":true,\"digest\":\"%s\",\"leafIndex\":%llu,\"treeSize\":%llu,"
               "\"rootHash\":\"%s\",\"origin\":\"%s\"}\n",
               digest, (unsigned long long)r.leaf_index, (unsigned long long)r.tree_size, root,
               r.checkpoint.origin);
    else
        printf("valid: %s is leaf %llu of %s at size %llu (root %s), checkpoint signed by %s\n",
               digest, (unsigned long long)r.leaf_index, r.checkpoint.origin,
               (unsigned long long)r.tree_size, root, v.name);
    return CA_EXIT_OK;
}
