/*
 * node/cli_credentials.c — `credanchor issue`, `revoke` and `verify` (SPEC §5, §6).
 *
 * issue and revoke work on the local data dir and take the writer lock (the node must be
 * stopped; against a serving node use the HTTP routes). verify runs anywhere: it takes the
 * third party's path (node/verify_env.c) and needs no data dir.
 */
#include "node/cli.h"

#include "node/auth.h"
#include "node/bulk.h"
#include "credanchor/encoding.h"
#include "node/issuer.h"
#include "credanchor/json_fields.h"
#include "credanchor/jws.h"
#include "node/resolver.h"
#include "credanchor/verify.h"
#include "node/verify_env.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIST_MAX (256u << 20)      /* a participant list file (1,000,000 rows) */
#define CREDENTIAL_MAX (1u << 20)  /* a credential file (CA_JWS_MAX) */
#define REVOKE_CHUNK 5000          /* changes per status round */

/* The audit entry of each credential `issue` creates, written in the issuance's own commit
 * (issue #12 item 7: CLI issuances are audited as HTTP ones are; the actor is "cli"). */
static const ca_audit_event cli_issue_audit = {.method = "issue", .route = "issue",
                                                .status = CA_EXIT_OK};

/* Opens node + resolver + issuer for issue/revoke. Returns an exit code. The data key seals
 * recipients' emails into the outbox (node/outbox.h), which the serving node then sends. */
static int open_issuer(const char *verb, const ca_cli_opt *opts, ca_node **node,
                       ca_resolver **resolver, ca_issuer **is)
{
    int rc = ca_cli_open_node(node, verb, opts,
                              CA_NODE_WRITE | CA_NODE_ISSUER_KEY | CA_NODE_ANCHOR_ADDRESS |
                                  CA_NODE_DATA_KEY);
    if (rc)
        return rc;
    ca_errbuf eb = {{0}};
    ca_resolver_options ro = {.cfg = &(*node)->cfg, .node = *node, .cache_writes = true};
    ca_err err = ca_resolver_create(resolver, &ro, &eb);
    if (!err && !(err = ca_issuer_open(is, *node, *resolver, &eb))) {
        const char *blocked = ca_log_append_blocked((*node)->log);
        if (blocked)
            err = ca_fail(&eb, CA_ERR_INCONSISTENT, "appends are refused: %s", blocked);
    }
    return err ? ca_cli_error(verb, err, &eb) : CA_EXIT_OK;
}

static void close_issuer(ca_node *node, ca_resolver *resolver, ca_issuer *is)
{
    ca_issuer_close(is);
    ca_resolver_free(resolver);
    ca_node_close(node);
}

static int parse_format_alg(const char *verb, const ca_cli_opt *opts, ca_credential_format *f,
                            ca_jws_alg *a)
{
    const char *fs = ca_cli_value(opts, "format"), *as = ca_cli_value(opts, "alg");
    *f = CA_FORMAT_VC_JWT;
    *a = CA_ALG_EDDSA;
    if (fs && ca_credential_format_parse(f, fs))
        return ca_cli_usage_error(verb, "--format must be vc+jwt or eddsa-jcs-2022");
    if (as && ca_jws_alg_parse(a, as))
        return ca_cli_usage_error(verb, "--alg must be EdDSA, ES256K, ES256 or RS256");
    return CA_EXIT_OK;
}

/* ---- issue ------------------------------------------------------------------------------- */

typedef struct progress {
    bool tty;
    size_t last;
} progress;

/* A progress bar on a terminal (stderr), nothing otherwise. */
static void show_progress(void *ctx, size_t done, size_t total)
{
    progress *p = ctx;
    if (!p->tty || total == 0)
        return;
    int width = 40, filled = (int)((double)done / (double)total * width);
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu rows", filled,
            "########################################", width - filled, "", done, total);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
    p->last = done;
}

static int issue_one(const ca_cli_opt *opts, ca_issuer *is)
{
    ca_errbuf eb = {{0}};
    char *text = NULL;
    size_t len = 0;
    ca_err err = ca_cli_read_input(&text, &len, ca_cli_value(opts, "credential"),
                                   CREDENTIAL_MAX, &eb);
    if (err)
        return ca_cli_error("issue", err, &eb);
    json_error_t jerr;
    json_t *cred = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!json_is_object(cred)) {
        json_decref(cred);
        return ca_cli_usage_error("issue", "%s: not a JSON object (%s)",
                                  ca_cli_value(opts, "credential"), jerr.text);
    }
    ca_issue_item it = {.credential = cred, .audit = &cli_issue_audit};
    int rc = parse_format_alg("issue", opts, &it.format, &it.alg);
    if (rc) {
        json_decref(cred);
        return rc;
    }
    err = ca_issuer_issue(is, &it, 1, &eb);
    if (err)
        rc = ca_cli_error("issue", err, &eb);
    else if (it.err)
        rc = ca_cli_usage_error("issue", "%s", it.error);
    else if (ca_cli_flag(opts, "json")) {
        ca_cli_print_json(ca_issue_item_json(is, &it));
    } else {
        fprintf(stderr, "credanchor issue: issued %s (%s), leaf %llu\n", it.issue_number,
                it.id, (unsigned long long)it.leaf_index);
        fwrite(it.signed_text, 1, it.signed_len, stdout);
        fputc('\n', stdout);
    }
    ca_issue_item_clear(&it);
    json_decref(cred);
    return rc;
}

/* --chunk N into bo->chunk. */
static int parse_chunk(const ca_cli_opt *opts, ca_bulk_options *bo)
{
    const char *chunk = ca_cli_value(opts, "chunk");
    if (chunk) {
        char *end;
        unsigned long c = strtoul(chunk, &end, 10);
        if (*end || c < 1 || c > CA_ISSUE_BATCH_MAX)
            return ca_cli_usage_error("issue", "--chunk must be 1 to %d", CA_ISSUE_BATCH_MAX);
        bo->chunk = c;
    }
    return CA_EXIT_OK;
}

/* The rows of --csv FILE or --participants FILE (a JSON array). */
static ca_err read_rows(ca_bulk *b, const char *csv, const char *jlist, ca_errbuf *eb)
{
    char *data = NULL;
    size_t len = 0;
    ca_err err = ca_cli_read_input(&data, &len, csv ? csv : jlist, LIST_MAX, eb);
    if (err)
        return err;
    if (csv) {
        err = ca_bulk_parse_csv(b, data, len, CA_BULK_MAX_ROWS, eb);
    } else {
        json_error_t jerr;
        json_t *arr = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
        err = arr ? ca_bulk_parse_json(b, arr, CA_BULK_MAX_ROWS, eb)
                  : ca_fail(eb, CA_ERR_INVALID, "%s: %s", jlist, jerr.text);
        json_decref(arr);
    }
    free(data);
    return err;
}

/* --template FILE: loaded into *tmpl and named after the file without its extension. */
static ca_err load_template(json_t **tmpl, char tname[256], ca_bulk_options *bo,
                            const ca_cli_opt *opts, ca_errbuf *eb)
{
    const char *tpath = ca_cli_value(opts, "template");
    if (!tpath)
        return CA_OK;
    ca_err err = ca_template_load(tmpl, tpath, eb);
    if (err)
        return err;
    const char *base = strrchr(tpath, '/');
    snprintf(tname, 256, "%s", base ? base + 1 : tpath);
    char *dot = strrchr(tname, '.');
    if (dot)
        *dot = '\0';
    bo->template_fixed = *tmpl;
    bo->template_name = tname;
    return CA_OK;
}

/* The bulk report on stderr (each failed row, then the totals); returns the failed count. */
static long long print_bulk_report(const json_t *report, size_t rows)
{
    json_t *results = json_object_get(report, "results");
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r)
        if (json_object_get(r, "error"))
            fprintf(stderr, "credanchor issue: row %lld (externalId %s): %s\n",
                    (long long)json_integer_value(json_object_get(r, "row")),
                    json_string_value(json_object_get(r, "externalId")),
                    json_string_value(json_object_get(r, "error")));
    long long failed = json_integer_value(json_object_get(report, "failed"));
    fprintf(stderr, "credanchor issue: %lld issued, %lld already issued, %lld enrolled "
            "without completion, %lld failed (%zu rows)\n",
            (long long)json_integer_value(json_object_get(report, "issued")),
            (long long)json_integer_value(json_object_get(report, "existing")),
            (long long)json_integer_value(json_object_get(report, "enrolled")), failed, rows);
    return failed;
}

/* Issues the rows in b through the open issuer; returns the exit code. */
static int issue_rows(const ca_cli_opt *opts, ca_node *node, ca_issuer *is, ca_bulk *b,
                      ca_bulk_options *bo)
{
    ca_errbuf eb = {{0}};
    json_t *report = NULL;
    progress pr = {.tty = isatty(STDERR_FILENO) == 1};
    bo->templates_dir = node->cfg.credentials_templates_dir;
    bo->errors_only = !ca_cli_flag(opts, "json");
    bo->progress = show_progress;
    bo->progress_ctx = &pr;
    bo->audit = &cli_issue_audit;
    ca_err err = ca_bulk_issue(is, b, bo, &report, &eb);
    if (err && !report)
        return ca_cli_error("issue", err, &eb);
    long long failed = print_bulk_report(report, b->n);
    if (ca_cli_flag(opts, "json"))
        ca_cli_print_json(json_incref(report));
    json_decref(report);
    if (err)
        return ca_cli_error("issue", err, &eb);
    return failed ? CA_EXIT_CHECK_FAILED : CA_EXIT_OK;
}

int ca_cli_issue(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"config", true, NULL, false},     {"data-dir", true, NULL, false},
                         {"csv", true, NULL, false},        {"participants", true, NULL, false},
                         {"template", true, NULL, false},   {"credential", true, NULL, false},
                         {"format", true, NULL, false},     {"alg", true, NULL, false},
                         {"chunk", true, NULL, false},      {"json", false, NULL, false},
                         {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 0, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    const char *csv = ca_cli_value(opts, "csv"), *jlist = ca_cli_value(opts, "participants");
    const char *single = ca_cli_value(opts, "credential");
    if ((csv != NULL) + (jlist != NULL) + (single != NULL) != 1)
        return ca_cli_usage_error("issue", "give one of --csv FILE, --participants FILE (a "
                                  "JSON array) or --credential FILE");
    ca_bulk_options bo = {0};
    if ((rc = parse_format_alg("issue", opts, &bo.format, &bo.alg)) ||
        (rc = parse_chunk(opts, &bo)))
        return rc;

    ca_errbuf eb = {{0}};
    ca_err err;
    ca_bulk b = {0};
    json_t *tmpl = NULL;
    char tname[256] = "";
    if (!single) {
        /* Read and check the inputs before taking the writer lock. */
        if ((err = read_rows(&b, csv, jlist, &eb)))
            return ca_cli_error("issue", err, &eb);
        if ((err = load_template(&tmpl, tname, &bo, opts, &eb))) {
            ca_bulk_free(&b);
            return ca_cli_error("issue", err, &eb);
        }
    }
    ca_node *node = NULL;
    ca_resolver *resolver = NULL;
    ca_issuer *is = NULL;
    if ((rc = open_issuer("issue", opts, &node, &resolver, &is)) == CA_EXIT_OK)
        rc = single ? issue_one(opts, is) : issue_rows(opts, node, is, &b, &bo);
    json_decref(tmpl);
    ca_bulk_free(&b);
    close_issuer(node, resolver, is);
    return rc;
}

/* ---- revoke ----------------------------------------------------------------------------- */

/* The action (--suspend, --reinstate or revoke) and --reason; a usage error's exit code. */
static int parse_revoke_action(ca_status_action *action, const char **reason,
                               const ca_cli_opt *opts)
{
    if (ca_cli_flag(opts, "suspend") && ca_cli_flag(opts, "reinstate"))
        return ca_cli_usage_error("revoke", "--suspend and --reinstate exclude each other");
    *action = ca_cli_flag(opts, "suspend")     ? CA_STATUS_SUSPEND
              : ca_cli_flag(opts, "reinstate") ? CA_STATUS_REINSTATE
                                               : CA_STATUS_REVOKE;
    const char *r = *reason = ca_cli_value(opts, "reason");
    if (r && (strlen(r) > CA_STATUS_REASON_MAX ||
              ca_utf8_valid_prefix((const uint8_t *)r, strlen(r)) != strlen(r)))
        return ca_cli_usage_error("revoke", "--reason must be UTF-8, at most %d bytes",
                                  CA_STATUS_REASON_MAX);
    return CA_EXIT_OK;
}

/* The references: positional ones, then the file's lines (blank lines skipped; data is cut
 * into lines in place). Each change gets `proto`'s action, reason and audit. NULL when out of
 * memory. */
static ca_status_change *collect_changes(size_t *n, const char *const *pos, int npos, char *data,
                                         size_t len, const ca_status_change *proto)
{
    size_t cap = (size_t)npos + 1;
    for (size_t i = 0; i < len; i++)
        cap += data[i] == '\n';
    ca_status_change *changes = calloc(cap, sizeof *changes);
    if (!changes)
        return NULL;
    *n = 0;
    for (int i = 0; i < npos; i++) {
        changes[*n] = *proto;
        changes[(*n)++].ref = pos[i];
    }
    for (char *line = data; data && line < data + len;) {
        char *end = memchr(line, '\n', (size_t)(data + len - line));
        if (!end)
            end = data + len;
        *end = '\0';
        if (end > line && end[-1] == '\r')
            end[-1] = '\0';
        if (line[0]) {
            changes[*n] = *proto;
            changes[(*n)++].ref = line;
        }
        line = end + 1;
    }
    return changes;
}

/* Applies the changes REVOKE_CHUNK at a time; the exit code of the first failure. */
static int apply_changes(ca_issuer *is, ca_status_change *changes, size_t n)
{
    ca_errbuf eb = {{0}};
    for (size_t i = 0; i < n; i += REVOKE_CHUNK) {
        size_t m = n - i < REVOKE_CHUNK ? n - i : REVOKE_CHUNK;
        ca_err err = ca_issuer_change_status(is, changes + i, m, &eb);
        if (err) {
            int rc = ca_cli_error("revoke", err, &eb);
            fprintf(stderr, "credanchor revoke: %zu change(s) before this one were applied\n",
                    i);
            return rc;
        }
    }
    return CA_EXIT_OK;
}

/* Each change's outcome (a line or, with --json, an array) and the totals on stderr. */
static int print_changes(const ca_status_change *changes, size_t n, bool json)
{
    size_t refused = 0, changed = 0;
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        const ca_status_change *c = &changes[i];
        if (c->err) {
            refused++;
            fprintf(stderr, "credanchor revoke: %s: %s\n", c->ref, c->error);
        } else {
            changed += c->changed;
            if (!arr)
                printf("%s %s %s%s\n", c->issue_number, c->id, c->status,
                       c->changed ? "" : " (unchanged)");
        }
        if (arr)
            json_array_append_new(
                arr, c->err ? json_pack("{s:s, s:s}", "ref", c->ref, "error", c->error)
                            : json_pack("{s:s, s:s, s:s, s:s, s:b, s:I, s:I}", "ref", c->ref,
                                        "id", c->id, "issueNumber", c->issue_number, "status",
                                        c->status, "changed", c->changed, "statusList",
                                        (json_int_t)c->list_id, "version",
                                        (json_int_t)c->version));
    }
    ca_cli_print_json(arr);
    fprintf(stderr, "credanchor revoke: %zu changed, %zu unchanged, %zu refused\n", changed,
            n - changed - refused, refused);
    return refused ? CA_EXIT_CHECK_FAILED : CA_EXIT_OK;
}

int ca_cli_revoke(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"config", true, NULL, false},    {"data-dir", true, NULL, false},
                         {"file", true, NULL, false},      {"suspend", false, NULL, false},
                         {"reinstate", false, NULL, false}, {"reason", true, NULL, false},
                         {"json", false, NULL, false},     {NULL, false, NULL, false}};
    const char *pos[64];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 64, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    ca_status_action action = CA_STATUS_REVOKE;
    const char *reason = NULL;
    if ((rc = parse_revoke_action(&action, &reason, opts)))
        return rc;
    const char *file = ca_cli_value(opts, "file");
    /* Each change's audit entry, written in the change's own commit (issue #12 item 7). */
    static const char *const verbs[] = {[CA_STATUS_REVOKE] = "revoke",
                                        [CA_STATUS_SUSPEND] = "revoke --suspend",
                                        [CA_STATUS_REINSTATE] = "revoke --reinstate"};
    const ca_audit_event audit = {.method = "revoke", .route = verbs[action],
                                  .status = CA_EXIT_OK};
    if (!file && npos == 0)
        return ca_cli_usage_error("revoke", "give credential ids or issue numbers, or --file "
                                  "FILE (one per line)");
    ca_errbuf eb = {{0}};
    char *data = NULL;
    size_t len = 0, n = 0;
    ca_err err;
    if (file && (err = ca_cli_read_input(&data, &len, file, LIST_MAX, &eb)))
        return ca_cli_error("revoke", err, &eb);
    const ca_status_change proto = {.action = action, .reason = reason, .audit = &audit};
    ca_status_change *changes = collect_changes(&n, pos, npos, data, len, &proto);
    if (!changes) {
        free(data);
        return ca_cli_usage_error("revoke", "out of memory");
    }
    ca_node *node = NULL;
    ca_resolver *resolver = NULL;
    ca_issuer *is = NULL;
    if ((rc = open_issuer("revoke", opts, &node, &resolver, &is)) == CA_EXIT_OK &&
        (rc = apply_changes(is, changes, n)) == CA_EXIT_OK)
        rc = print_changes(changes, n, ca_cli_flag(opts, "json"));
    close_issuer(node, resolver, is);
    free(changes);
    free(data);
    return rc;
}

/* ---- verify ------------------------------------------------------------------------------- */

/* The node URL a credential names: its first statusListCredential without "/v1/status/<id>"
 * (so a verifier given only the file finds the issuer's node). "" when none. */
static void derive_node_url(char *out, size_t cap, const char *text, size_t len)
{
    out[0] = '\0';
    while (len && (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t')) {
        text++;
        len--;
    }
    json_t *cred = NULL;
    if (len && text[0] == '{') {
        cred = json_loadb(text, len, 0, NULL);
    } else {
        const char *d1 = memchr(text, '.', len);
        const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(text + len - d1 - 1)) : NULL;
        if (d2) {
            size_t plen = (size_t)(d2 - d1 - 1), outlen = plen;
            uint8_t *p = malloc(plen + 1);
            if (p && ca_base64url_decode(p, &outlen, d1 + 1, plen) == CA_OK)
                cred = json_loadb((const char *)p, outlen, 0, NULL);
            free(p);
        }
    }
    json_t *st = json_object_get(cred, "credentialStatus");
    if (json_is_array(st))
        st = json_array_get(st, 0);
    const char *url = ca_json_str(st, "statusListCredential");
    const char *cut = url ? strstr(url, "/v1/status/") : NULL;
    if (cut && (size_t)(cut - url) < cap)
        snprintf(out, cap, "%.*s", (int)(cut - url), url);
    json_decref(cred);
}

static void print_check(const char *name, const ca_check *c)
{
    printf("%-10s %-7s %s\n", name, ca_check_result_name(c->result), c->detail);
}

/* The node and RPC URLs (--node, else derived from the credential) and the did:web fetch
 * settings of the configuration. */
static void set_remote_urls(ca_verify_remote *remote, const ca_config *cfg, const char *node_url,
                            const char *rpc, const char *text, size_t len)
{
    if (node_url) {
        snprintf(remote->node_url, sizeof remote->node_url, "%s", node_url);
        remote->node_trusted = true;
    } else {
        derive_node_url(remote->node_url, sizeof remote->node_url, text, len);
    }
    if (rpc)
        snprintf(remote->rpc_url, sizeof remote->rpc_url, "%s", rpc);
    snprintf(remote->curl.ca_file, sizeof remote->curl.ca_file, "%s", cfg->did_web_ca_file);
    snprintf(remote->curl.allow_hosts, sizeof remote->curl.allow_hosts, "%s",
             cfg->did_web_allow_hosts);
    remote->curl.timeout_seconds = (long)cfg->did_web_timeout;
    remote->curl.max_body = 1u << 20;
}

static void print_verify_report(const ca_verify_report *rep, bool json)
{
    if (json) {
        ca_cli_print_json(ca_verify_report_json(rep));
    } else {
        printf("credential %s (%s, issuer %s)\n", rep->id[0] ? rep->id : "(no id)",
               rep->format, rep->issuer);
        print_check("signature", &rep->signature);
        print_check("status", &rep->status);
        print_check("inclusion", &rep->inclusion);
        print_check("anchor", &rep->anchor);
        printf("%s\n", rep->verified ? "verified" : "NOT verified");
    }
}

int ca_cli_verify(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"config", true, NULL, false},  {"data-dir", true, NULL, false},
                         {"node", true, NULL, false},    {"rpc", true, NULL, false},
                         {"anchor-address", true, NULL, false},
                         {"confirmations", true, NULL, false},
                         {"json", false, NULL, false},   {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    if (npos != 1)
        return ca_cli_usage_error("verify", "give the credential file (or - for stdin)");
    ca_config cfg;
    if ((rc = ca_cli_load_config(&cfg, "verify", opts)))
        return rc;
    ca_verify_remote remote;
    memset(&remote, 0, sizeof remote);
    const char *node_url = ca_cli_value(opts, "node"), *rpc = ca_cli_value(opts, "rpc");
    const char *addr = ca_cli_value(opts, "anchor-address");
    const char *conf = ca_cli_value(opts, "confirmations");
    /* --confirmations, else the configuration when one is given (--config or
     * CREDANCHOR_ANCHOR_CONFIRMATIONS), else the anchor's chain decides: never a silent 12
     * (issue 12 item 9). */
    uint64_t min_conf = ca_cli_value(opts, "config") || getenv("CREDANCHOR_ANCHOR_CONFIRMATIONS")
                            ? cfg.anchor_confirmations
                            : CA_CONFIRMATIONS_BY_CHAIN;
    if (node_url && strncmp(node_url, "http://", 7) && strncmp(node_url, "https://", 8))
        return ca_cli_usage_error("verify", "--node must be an http:// or https:// URL");
    if (rpc && (strlen(rpc) >= sizeof remote.rpc_url ||
                (strncmp(rpc, "http://", 7) && strncmp(rpc, "https://", 8))))
        return ca_cli_usage_error("verify", "--rpc must be an http:// or https:// URL");
    if (addr) {
        if (strlen(addr) != 42 || addr[0] != '0' || (addr[1] != 'x' && addr[1] != 'X') ||
            ca_hex_decode(remote.anchor_address, sizeof remote.anchor_address, addr + 2, 40))
            return ca_cli_usage_error("verify", "--anchor-address must be 0x and 40 hex "
                                                "characters");
        remote.have_anchor_address = true;
    }
    if (conf) {
        char *end;
        unsigned long long c = strtoull(conf, &end, 10);
        if (*end || !conf[0] || c > 1000000)
            return ca_cli_usage_error("verify", "--confirmations must be a number");
        min_conf = c;
    }
    ca_errbuf eb = {{0}};
    char *text = NULL;
    size_t len = 0;
    ca_err err = ca_cli_read_input(&text, &len, pos[0], CREDENTIAL_MAX, &eb);
    if (err)
        return ca_cli_error("verify", err, &eb);
    set_remote_urls(&remote, &cfg, node_url, rpc, text, len);
    ca_resolver_options ro = {.cfg = &cfg, .node = NULL, .cache_writes = false};
    if ((err = ca_resolver_create(&remote.resolver, &ro, &eb))) {
        free(text);
        return ca_cli_error("verify", err, &eb);
    }
    ca_verify_env env;
    ca_verify_remote_env(&env, &remote, min_conf);
    ca_verify_report *rep = calloc(1, sizeof *rep);
    err = rep ? ca_verify_credential(rep, text, len, &env, &eb)
              : ca_fail(&eb, CA_ERR_NOMEM, "out of memory");
    free(text);
    ca_resolver_free(remote.resolver);
    if (err) {
        free(rep);
        return ca_cli_error("verify", err == CA_ERR_VERIFY ? CA_ERR_INVALID : err, &eb);
    }
    print_verify_report(rep, ca_cli_flag(opts, "json"));
    rc = rep->verified ? CA_EXIT_OK : CA_EXIT_CHECK_FAILED;
    free(rep);
    return rc;
}
