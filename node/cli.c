/*
 * node/cli.c — `credanchor <verb>` (SPEC §6): argument parsing shared by every verb, the verb
 * table, and the verbs that work on a local data dir: init, digest, merkle-root, append,
 * checkpoint and prove. verify-proof is in node/cli_proof.c.
 */
#include "node/cli.h"

#include "credanchor/credential.h"
#include "credanchor/crypto.h"
#include "credanchor/encoding.h"
#include "credanchor/jcs.h"
#include "credanchor/merkle.h"
#include "node/node.h"
#include "credanchor/proof.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_INPUT_MAX (256u << 20) /* documents and digest lists read by the CLI */
#define APPEND_BATCH 10000

int ca_cli_usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "credanchor %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CA_EXIT_USAGE;
}

const char *ca_cli_find_subcommand(int argc, char **argv, const char *const *valued)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-' || strcmp(a, "-") == 0)
            return a;
        for (size_t k = 0; valued[k]; k++)
            if (strcmp(a, valued[k]) == 0) {
                i++;
                break;
            }
    }
    return NULL;
}

int ca_cli_no_subcommand(int argc, char **argv, const char *sub, const char *choices)
{
    const char *verb = argv[0];
    if (sub)
        return ca_cli_usage_error(verb, "unknown subcommand \"%s\" (%s; see --help)", sub,
                                  choices);
    ca_cli_opt opts[] = {CLI_NODE_OPTS, OPTS_END};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 0, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    return ca_cli_usage_error(verb, "give a subcommand (%s); see --help", choices);
}

int ca_cli_error(const char *verb, ca_err err, const ca_errbuf *eb)
{
    fprintf(stderr, "credanchor %s: %s\n", verb, ca_errmsg(eb, err));
    return err == CA_ERR_VERIFY ? CA_EXIT_CHECK_FAILED : CA_EXIT_USAGE;
}

int ca_cli_parse(int argc, char **argv, ca_cli_opt *opts, const char **pos, int max_pos,
                 int *npos)
{
    const char *verb = argv[0];
    *npos = 0;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
            if (*npos >= max_pos)
                return ca_cli_usage_error(verb, "unexpected argument \"%s\" (see --help)", a);
            pos[(*npos)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(ca_cli_find(verb)->usage, stdout);
            return CA_CLI_HELP;
        }
        if (strncmp(a, "--", 2) != 0)
            return ca_cli_usage_error(verb, "unknown option \"%s\" (see --help)", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        ca_cli_opt *o = opts;
        while (o->name && !(strlen(o->name) == name_len && !strncmp(o->name, name, name_len)))
            o++;
        if (!o->name)
            return ca_cli_usage_error(verb, "unknown option \"%s\" (see --help)", a);
        if (o->has_value) {
            if (eq)
                o->value = eq + 1;
            else if (i + 1 < argc)
                o->value = argv[++i];
            else
                return ca_cli_usage_error(verb, "option --%s needs a value", o->name);
        } else if (eq) {
            return ca_cli_usage_error(verb, "option --%s takes no value", o->name);
        }
        o->seen = true;
    }
    return CA_EXIT_OK;
}

static const ca_cli_opt *find_opt(const ca_cli_opt *opts, const char *name)
{
    for (; opts->name; opts++)
        if (strcmp(opts->name, name) == 0)
            return opts;
    return NULL;
}

const char *ca_cli_value(const ca_cli_opt *opts, const char *name)
{
    const ca_cli_opt *o = find_opt(opts, name);
    return o && o->seen ? o->value : NULL;
}

bool ca_cli_flag(const ca_cli_opt *opts, const char *name)
{
    const ca_cli_opt *o = find_opt(opts, name);
    return o && o->seen;
}

int ca_cli_load_config(ca_config *cfg, const char *verb, const ca_cli_opt *opts)
{
    ca_errbuf eb = {{0}};
    ca_err err = ca_config_load(cfg, ca_cli_value(opts, "config"), &eb);
    const char *dir = ca_cli_value(opts, "data-dir");
    if (!err && dir)
        err = ca_config_set(cfg, "node", "data_dir", dir, &eb);
    return err ? ca_cli_error(verb, err, &eb) : CA_EXIT_OK;
}

ca_err ca_cli_read_input(char **data, size_t *len, const char *path, size_t max, ca_errbuf *eb)
{
    *data = NULL;
    *len = 0;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return ca_fail(eb, errno == ENOENT ? CA_ERR_NOT_FOUND : CA_ERR_IO, "cannot read %s: %s",
                       path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    ca_err err = CA_OK;
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > max) {
            err = ca_fail(eb, CA_ERR_TOO_LARGE, "%s is larger than %zu bytes", path, max);
            break;
        }
        if (got == 0) {
            if (ferror(f))
                err = ca_fail(eb, CA_ERR_IO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger) {
                err = ca_fail(eb, CA_ERR_NOMEM, "out of memory reading %s", path);
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!buf)
        return ca_fail(eb, CA_ERR_NOMEM, "out of memory reading %s", path);
    if (err) {
        free(buf);
        return err;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return CA_OK;
}

void ca_cli_print_json(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

int ca_cli_open_node(ca_node **node, const char *verb, const ca_cli_opt *opts, unsigned flags)
{
    *node = NULL;
    ca_config cfg;
    int rc = ca_cli_load_config(&cfg, verb, opts);
    if (rc)
        return rc;
    ca_errbuf eb = {{0}};
    ca_err err = ca_node_open(node, &cfg, flags, &eb);
    return err ? ca_cli_error(verb, err, &eb) : CA_EXIT_OK;
}

/* ---- init ------------------------------------------------------------------------------------ */

static int cmd_init(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, {"json", false, NULL, false}, {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 0, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    ca_config cfg;
    if ((rc = ca_cli_load_config(&cfg, "init", opts)))
        return rc;
    ca_init_report r;
    ca_errbuf eb = {{0}};
    ca_err err = ca_node_init(&r, &cfg, &eb);
    if (err)
        return ca_cli_error("init", err, &eb);
    if (ca_cli_flag(opts, "json")) {
        ca_cli_print_json(json_pack("{s:s, s:s, s:s}", "did", r.did, "anchorAddress",
                                    r.anchor_address, "logKey", r.log_key));
    } else {
        printf("%s %s\n", r.created ? "created" : "existing", cfg.node_data_dir);
        printf("did:            %s\n", r.did);
        printf("anchor address: %s (fund it to anchor on chain)\n", r.anchor_address);
        printf("log key:        %s\n", r.log_key);
        printf("passphrase:     %s (keep it secret and back it up apart from the data)\n",
               r.passphrase_file);
    }
    return CA_EXIT_OK;
}

/* ---- digest ---------------------------------------------------------------------------------- */

/* A compact JWS is three base64url segments joined by dots (RFC 7515 §7.1). */
static bool is_compact_jws(const char *s, size_t len)
{
    int dots = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.')
            dots++;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_'))
            return false;
    }
    return dots == 2 && len > 4;
}

/* Parses a verb that takes one FILE|- argument and reads it (at most max bytes). Returns
 * CA_EXIT_OK with *data set (caller frees), or the exit code to return (after --help, or an
 * error line). */
static int parse_one_input(int argc, char **argv, ca_cli_opt *opts, size_t max, char **data,
                           size_t *len)
{
    const char *pos[1], *verb = argv[0];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_CLI_HELP : rc;
    if (npos != 1)
        return ca_cli_usage_error(verb, "give one FILE (or - for stdin); see --help");
    ca_errbuf eb = {{0}};
    ca_err err = ca_cli_read_input(data, len, pos[0], max, &eb);
    return err ? ca_cli_error(verb, err, &eb) : CA_EXIT_OK;
}

static int cmd_digest(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"raw", false, NULL, false}, {"json", false, NULL, false},
                         {NULL, false, NULL, false}};
    char *data;
    size_t len;
    int rc = parse_one_input(argc, argv, opts, DIGEST_INPUT_MAX, &data, &len);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    ca_errbuf eb = {{0}};
    ca_err err = CA_OK;
    /* SPEC §1: a VC-JWT is hashed as its compact JWS string (surrounding whitespace dropped);
     * a JSON credential as its JCS form; anything else (or --raw) as its bytes. */
    const char *kind = "raw";
    ca_hash h;
    size_t start = 0, end = len;
    while (start < end && strchr(" \t\r\n", data[start]))
        start++;
    while (end > start && strchr(" \t\r\n", data[end - 1]))
        end--;
    if (ca_cli_flag(opts, "raw")) {
        ca_sha256(&h, data, len);
    } else if (is_compact_jws(data + start, end - start)) {
        kind = "vc+jwt";
        ca_sha256(&h, data + start, end - start);
    } else if (start < end && (data[start] == '{' || data[start] == '[')) {
        kind = "jcs";
        err = ca_jcs_digest(&h, data, len, &eb);
    } else {
        ca_sha256(&h, data, len);
    }
    free(data);
    if (err)
        return ca_cli_error("digest", err, &eb);
    char hex[2 * CA_HASH_SIZE + 1];
    ca_hash_to_hex(hex, &h);
    if (ca_cli_flag(opts, "json"))
        printf("{\"digest\":\"%s\",\"hashed\":\"%s\"}\n", hex, kind);
    else
        puts(hex);
    return CA_EXIT_OK;
}

/* ---- merkle-root ----------------------------------------------------------------------------- */

/* Parses one hex digest per line (blank lines and surrounding spaces ignored). */
typedef ca_err (*digest_sink)(void *ctx, const ca_hash *digest);

static ca_err parse_digest_lines(const char *data, size_t len, digest_sink sink, void *ctx,
                                 ca_errbuf *eb)
{
    size_t line_no = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && data[j] != '\n')
            j++;
        line_no++;
        size_t a = i, b = j;
        while (a < b && strchr(" \t\r", data[a]))
            a++;
        while (b > a && strchr(" \t\r", data[b - 1]))
            b--;
        if (b > a) {
            ca_hash d;
            if (ca_hash_from_hex(&d, data + a, b - a))
                return ca_fail(eb, CA_ERR_INVALID,
                               "line %zu: not a digest (want 64 hex characters, got %zu)",
                               line_no, b - a);
            ca_err err = sink(ctx, &d);
            if (err)
                return err;
        }
        i = j + 1;
    }
    return CA_OK;
}

static ca_err add_to_builder(void *ctx, const ca_hash *digest)
{
    ca_hash leaf;
    ca_merkle_leaf_hash(&leaf, digest->b);
    ca_merkle_builder_add(ctx, &leaf);
    return CA_OK;
}

static int cmd_merkle_root(int argc, char **argv)
{
    ca_cli_opt opts[] = {{"binary", false, NULL, false}, {"json", false, NULL, false},
                         {NULL, false, NULL, false}};
    char *data;
    size_t len;
    int rc = parse_one_input(argc, argv, opts, SIZE_MAX / 2, &data, &len);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    ca_errbuf eb = {{0}};
    ca_err err = CA_OK;
    ca_merkle_builder b;
    ca_merkle_builder_init(&b);
    if (ca_cli_flag(opts, "binary")) {
        if (len % CA_HASH_SIZE)
            err = ca_fail(&eb, CA_ERR_INVALID,
                          "--binary input is %zu bytes, not a multiple of 32", len);
        for (size_t i = 0; !err && i < len; i += CA_HASH_SIZE) {
            ca_hash leaf;
            ca_merkle_leaf_hash(&leaf, (const uint8_t *)data + i);
            ca_merkle_builder_add(&b, &leaf);
        }
    } else {
        err = parse_digest_lines(data, len, add_to_builder, &b, &eb);
    }
    free(data);
    if (err)
        return ca_cli_error("merkle-root", err, &eb);
    ca_hash root;
    char hex[2 * CA_HASH_SIZE + 1];
    ca_merkle_builder_root(&b, &root);
    ca_hash_to_hex(hex, &root);
    if (ca_cli_flag(opts, "json"))
        printf("{\"treeSize\":%llu,\"rootHash\":\"%s\"}\n", (unsigned long long)b.count, hex);
    else
        puts(hex);
    return CA_EXIT_OK;
}

/* ---- append ---------------------------------------------------------------------------------- */

typedef struct entry_list {
    ca_log_entry *v;
    size_t n, cap;
} entry_list;

static ca_err add_entry(void *ctx, const ca_hash *digest)
{
    entry_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        ca_log_entry *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return CA_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++].digest = *digest;
    return CA_OK;
}

static int cmd_append(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, {"json", false, NULL, false}, {"batch", true, NULL, false},
                         {NULL, false, NULL, false}};
    const char *pos[64];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 64, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    if (npos == 0)
        return ca_cli_usage_error("append", "give digests as arguments, or - to read one per "
                                            "line from stdin; see --help");
    size_t batch = APPEND_BATCH;
    const char *batch_text = ca_cli_value(opts, "batch");
    if (batch_text) {
        char *end;
        unsigned long v = strtoul(batch_text, &end, 10);
        if (!*batch_text || *end || batch_text[0] == '-' || v == 0 || v > 1000000)
            return ca_cli_usage_error("append", "--batch \"%s\" is not a number from 1 to "
                                                "1000000", batch_text);
        batch = v;
    }
    /* Parse everything before opening the node: bad input must not touch the log. */
    entry_list list = {0};
    ca_errbuf eb = {{0}};
    ca_err err = CA_OK;
    for (int i = 0; i < npos && !err; i++) {
        if (strcmp(pos[i], "-") == 0) {
            char *data;
            size_t len;
            if ((err = ca_cli_read_input(&data, &len, "-", DIGEST_INPUT_MAX, &eb)))
                break;
            err = parse_digest_lines(data, len, add_entry, &list, &eb);
            free(data);
        } else {
            ca_hash d;
            if (ca_hash_from_hex(&d, pos[i], strlen(pos[i])))
                err = ca_fail(&eb, CA_ERR_INVALID,
                              "\"%s\" is not a digest (want 64 hex characters)", pos[i]);
            else
                err = add_entry(&list, &d);
        }
    }
    if (err) {
        free(list.v);
        return ca_cli_error("append", err, &eb);
    }
    ca_node *node;
    if ((rc = ca_cli_open_node(&node, "append", opts, CA_NODE_WRITE))) {
        free(list.v);
        return rc;
    }
    /* Each batch is printed as soon as it is durable, so a caller that is killed mid-way (or
     * kills us) knows exactly which digests were acknowledged. */
    uint64_t size = 0;
    bool json = ca_cli_flag(opts, "json");
    if (json)
        fputs("{\"entries\":[", stdout);
    for (size_t i = 0; i < list.n && !err; i += batch) {
        size_t n = list.n - i < batch ? list.n - i : batch;
        if ((err = ca_log_append(node->log, list.v + i, n, &size, &eb)))
            break;
        for (size_t k = i; k < i + n; k++) {
            char hex[2 * CA_HASH_SIZE + 1];
            ca_hash_to_hex(hex, &list.v[k].digest);
            if (json)
                printf("%s{\"digest\":\"%s\",\"leafIndex\":%llu}", k ? "," : "", hex,
                       (unsigned long long)list.v[k].index);
            else
                printf("%llu %s\n", (unsigned long long)list.v[k].index, hex);
        }
        fflush(stdout);
    }
    if (json && !err)
        printf("],\"treeSize\":%llu}\n", (unsigned long long)size);
    free(list.v);
    ca_node_close(node);
    return err ? ca_cli_error("append", err, &eb) : CA_EXIT_OK;
}

/* ---- checkpoint / prove ---------------------------------------------------------------------- */

static int cmd_checkpoint(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, {"key", false, NULL, false}, {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 0, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    ca_node *node;
    if ((rc = ca_cli_open_node(&node, "checkpoint", opts, CA_NODE_READ_ONLY)))
        return rc;
    ca_errbuf eb = {{0}};
    char text[CA_NOTE_MAX > CA_VERIFIER_KEY_MAX ? CA_NOTE_MAX : CA_VERIFIER_KEY_MAX];
    size_t len;
    ca_err err;
    if (ca_cli_flag(opts, "key")) {
        err = ca_log_verifier_key(node->log, text, &eb);
        if (!err)
            puts(text);
    } else {
        err = ca_log_checkpoint(node->log, text, &len, &eb);
        if (!err)
            fwrite(text, 1, len, stdout);
    }
    ca_node_close(node);
    return err ? ca_cli_error("checkpoint", err, &eb) : CA_EXIT_OK;
}

static int cmd_prove(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, {"tree-size", true, NULL, false},
                         {NULL, false, NULL, false}};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    if (npos != 1)
        return ca_cli_usage_error("prove", "give one DIGEST; see --help");
    ca_hash digest;
    if (ca_hash_from_hex(&digest, pos[0], strlen(pos[0])))
        return ca_cli_usage_error("prove", "\"%s\" is not a digest (want 64 hex characters)",
                                  pos[0]);
    uint64_t size = 0;
    const char *s = ca_cli_value(opts, "tree-size");
    if (s) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (!*s || *end || errno || v == 0 || s[0] == '-')
            return ca_cli_usage_error("prove", "--tree-size \"%s\" is not a positive integer", s);
        size = v;
    }
    ca_node *node;
    /* Proofs at a historical size may need a checkpoint signed now: load the log key. */
    if ((rc = ca_cli_open_node(&node, "prove", opts, s ? CA_NODE_WRITE : CA_NODE_READ_ONLY)))
        return rc;
    ca_errbuf eb = {{0}};
    char *json;
    ca_err err = ca_proof_build_anchored(&json, node->log, node->store, &digest, size, &eb);
    if (!err) {
        puts(json);
        free(json);
    }
    ca_node_close(node);
    return err ? ca_cli_error("prove", err, &eb) : CA_EXIT_OK;
}

/* ---- the table and main ---------------------------------------------------------------------- */

static const ca_cli_verb verbs[] = {
    {"init", "create the data dir, passphrase file and keys (or report them)",
     "usage: credanchor init [--config FILE] [--data-dir DIR] [--json]\n"
     "Creates DIR (mode 0700), the passphrase file node.key_passphrase_file when missing,\n"
     "the encrypted log, anchor and issuer keys, and the log. On an existing data dir it\n"
     "reports what is there. --json prints {\"did\",\"anchorAddress\",\"logKey\"}.\n",
     cmd_init},
    {"digest", "print a credential's log digest",
     "usage: credanchor digest [--raw] [--json] FILE|-\n"
     "Prints the SHA-256 digest the log records for a credential (SPEC §1): over the compact\n"
     "JWS string for a VC-JWT, over the RFC 8785 (JCS) form for a JSON credential, over the\n"
     "bytes for anything else or with --raw.\n",
     cmd_digest},
    {"merkle-root", "print the RFC 9162 root of a list of digests",
     "usage: credanchor merkle-root [--binary] [--json] FILE|-\n"
     "Reads one hex digest a line (or raw 32-byte digests with --binary) and prints the\n"
     "RFC 9162 Merkle tree root in lowercase hex. An empty list gives SHA-256(\"\").\n",
     cmd_merkle_root},
    {"append", "append digests to the local log",
     "usage: credanchor append [--config FILE] [--data-dir DIR] [--json] [--batch N]\n"
     "                         DIGEST...|-\n"
     "Appends 64-hex digests (or one a line from stdin with -) to the log in the data dir,\n"
     "N digests a commit (default 10000), and prints each digest's leaf index as soon as its\n"
     "commit is durable. A digest already in the log keeps its index. Fails if a node is\n"
     "serving the data dir (use POST /v1/log/entries).\n",
     cmd_append},
    {"checkpoint", "print the latest signed checkpoint",
     "usage: credanchor checkpoint [--config FILE] [--data-dir DIR] [--key]\n"
     "Prints the latest C2SP signed checkpoint of the log, or with --key the log's verifier\n"
     "key (<name>+<hex key id>+<base64 key>).\n",
     cmd_checkpoint},
    {"prove", "print the inclusion proof of a digest",
     "usage: credanchor prove [--config FILE] [--data-dir DIR] [--tree-size N] DIGEST\n"
     "Prints the SPEC §3 inclusion proof JSON of DIGEST against the latest checkpoint, or\n"
     "against tree size N. The output is what verify-proof checks.\n",
     cmd_prove},
    {"verify-proof", "check an inclusion proof offline, and its anchor on chain with --rpc",
     "usage: credanchor verify-proof [--key VKEY | --node URL] [--config FILE]\n"
     "                               [--data-dir DIR] [--json]\n"
     "                               [--rpc URL [--anchor-address ADDR | --did DID]\n"
     "                                [--confirmations N]] FILE|-\n"
     "Checks a proof (SPEC §3 JSON) offline: the inclusion path leads to rootHash, and the\n"
     "checkpoint is signed by the log key and names the same size and root. The key is VKEY,\n"
     "or fetched from URL/v1/log/key, or read from the local data dir.\n"
     "With --rpc URL (EVM JSON-RPC) also the proof's anchor transaction on chain: it exists,\n"
     "is EIP-1559 on the proof's chain id, was sent by the issuer's anchor account, carries\n"
     "the calldata for the proof's size and root, succeeded in the canonical block the anchor\n"
     "names, and is at least N blocks deep (--confirmations; else anchor.confirmations when\n"
     "--config or CREDANCHOR_ANCHOR_CONFIRMATIONS is given; else 1 on the local dev chains\n"
     "31337 and 1337 and 12 on any other, by the proof's chain id). The anchor account\n"
     "is ADDR, or the blockchainAccountId for the chain in the DID document of DID (did:web\n"
     "is fetched with its guards; did.web_* from --config) or of URL/.well-known/did.json;\n"
     "never the proof's own \"from\". A proof with \"anchor\": null fails (not yet anchored).\n"
     "Exit 0: valid. 1: a check failed. 2: bad usage, a malformed proof, or an unreachable\n"
     "endpoint.\n",
     ca_cli_verify_proof},
    {"token", "create, list or revoke API tokens",
     "usage: credanchor token create --role ROLE [--expires DURATION] [--name TEXT]\n"
     "                              [--config FILE] [--data-dir DIR]\n"
     "       credanchor token list [--json] [--config FILE] [--data-dir DIR]\n"
     "       credanchor token revoke [--config FILE] [--data-dir DIR] ID\n"
     "API tokens for the authenticated HTTP routes (SPEC §3); each has one role: admin,\n"
     "issuer, revoker or auditor. An admin token may use every route (for people); the\n"
     "narrow roles are for machines: issuer issues and appends, revoker changes status,\n"
     "auditor reads lists and reports. Only a token's SHA-256 is stored.\n"
     "  create  makes a token and prints it once on stdout, nothing else (its id, role and\n"
     "          expiry go to stderr). A lost token cannot be shown again: make a new one.\n"
     "          --role ROLE         admin, issuer, revoker or auditor (required)\n"
     "          --expires DURATION  lifetime: 90d, 12h, 30m, 45s or plain seconds\n"
     "                              (default: never expires)\n"
     "          --name TEXT         a label shown by list (at most 127 bytes)\n"
     "  list    shows every token: id, role, status (active, expired, revoked), created,\n"
     "          expires, name; never a secret. --json prints {\"tokens\":[...]}.\n"
     "  revoke  marks token ID revoked at once; it stays listed.\n"
     "create and revoke are recorded in the audit log. All of them work while the node\n"
     "serves, which sees a new or revoked token on its next request.\n",
     ca_cli_token},
    {"audit", "verify or list the hash-chained audit log",
     "usage: credanchor audit verify [--json] [--config FILE] [--data-dir DIR]\n"
     "       credanchor audit list [--since DATE] [--until DATE] [--token ID] [--json]\n"
     "                             [--config FILE] [--data-dir DIR]\n"
     "The audit log records every authenticated write, every CLI issuance and status change\n"
     "(actor \"cli\") and every token change; each entry holds the SHA-256 of the one before\n"
     "it.\n"
     "  list    prints the entries oldest first, one a line (seq, time, token id or cli,\n"
     "          role, method, route, status, detail), or a JSON array with --json.\n"
     "          --since / --until take a date (YYYY-MM-DD, whole day) or a dateTime;\n"
     "          --token keeps one token's entries (\"cli\" for the CLI's).\n"
     "  verify  walks the whole chain. Exit 0: intact (prints the number of entries);\n"
     "          1: broken (names the first broken entry); 2: bad usage or unreadable data.\n"
     "          --json prints {\"intact\":true,\"entries\":N} or\n"
     "          {\"intact\":false,\"error\":\"...\"}.\n"
     "Works while the node serves.\n",
     ca_cli_audit},
    {"user", "invite people who sign in with passkeys; list, disable, enable, set roles",
     "usage: credanchor user invite --email ADDRESS --role ROLE [--role ROLE ...]\n"
     "                             [--name TEXT] [--ttl DURATION] [--config FILE]\n"
     "                             [--data-dir DIR]\n"
     "       credanchor user list [--json] [--config FILE] [--data-dir DIR]\n"
     "       credanchor user disable [--reason TEXT] [--config FILE] [--data-dir DIR] ID\n"
     "       credanchor user enable [--config FILE] [--data-dir DIR] ID\n"
     "       credanchor user roles --role ROLE [--role ROLE ...] [--config FILE]\n"
     "                             [--data-dir DIR] ID\n"
     "People who sign in to <public_url>/admin with passkeys (issue #16), each with their\n"
     "own roles: admin, issuer, revoker, auditor (as for tokens). Names and emails are\n"
     "sealed at rest under the data key (keys/data.key, made by the first invite).\n"
     "  invite   prints the one-time enrollment URL <public_url>/admin/enroll#SECRET on\n"
     "           stdout, nothing else (the id and expiry go to stderr); send it to the\n"
     "           person, who registers a passkey with it. Only the secret's SHA-256 is\n"
     "           stored. Inviting an email that is still invited replaces its invite.\n"
     "           --email ADDRESS    the person's address (required)\n"
     "           --role ROLE        required; repeat it or give a list (admin,issuer)\n"
     "           --name TEXT        the display name (default: the email before '@')\n"
     "           --ttl DURATION     how long the URL works: 30m, 12h, 7d at most\n"
     "                              (default auth.invite_ttl, 30m)\n"
     "  list     shows every user: id, state (invited, active, disabled), roles, email,\n"
     "           name, last sign-in. --json prints {\"users\":[{\"id\",\"name\",\"email\",\n"
     "           \"roles\",\"state\",\"createdAt\",\"activatedAt\",\"lastSignInAt\",\n"
     "           \"disabledAt\",\"disabledReason\"}]}.\n"
     "  disable  stops user ID from signing in and revokes their sessions at once\n"
     "           (--reason TEXT, default \"disabled by cli\"). The last active admin\n"
     "           cannot be disabled.\n"
     "  enable   lets user ID sign in again (active; invited when never enrolled).\n"
     "  roles    replaces the roles of user ID; the last active admin keeps admin.\n"
     "invite, disable, enable and roles are recorded in the audit log (never an email, a\n"
     "name or a secret). All of them work while the node serves, which sees a change on\n"
     "its next request.\n",
     ca_cli_user},
    {"serve", "serve the HTTP API until SIGTERM or SIGINT",
     "usage: credanchor serve [--config FILE] [--data-dir DIR]\n"
     "Opens the data dir for writing (one writer at a time) and serves the HTTP API of\n"
     "SPEC §3 on node.listen (TLS when node.tls_cert_file and node.tls_key_file are set).\n"
     "Prints the config it runs with and \"listening on URL\" on stderr, then one JSON line\n"
     "per request. Limits: node.max_body, node.max_header, node.max_connections,\n"
     "node.connection_timeout, node.threads (0 = four per core, at least 8), node.rate_limit_per_ip.\n"
     "SIGTERM or SIGINT stops it gracefully: no new connections, requests in progress\n"
     "finish, the log is flushed, exit 0. Exit 2 when it cannot start (bad config, address\n"
     "in use, data dir locked or not initialised).\n",
     ca_cli_serve},
    {"resolve", "resolve a DID (did:key, did:web) to its DID document",
     "usage: credanchor resolve [--json] [--format JsonWebKey|Multikey] [--no-cache]\n"
     "                          [--config FILE] [--data-dir DIR] DID\n"
     "Resolves DID as GET /1.0/identifiers/{did} does (SPEC §4) and prints its DID document,\n"
     "indented, or with --json the W3C DID Resolution result {\"didDocument\",\n"
     "\"didResolutionMetadata\",\"didDocumentMetadata\"} on one line (also on failure).\n"
     "  did:key  Ed25519, X25519, secp256k1, P-256, P-384; no data dir needed.\n"
     "  did:web  fetched over HTTPS with the did.* guards (did.web_allow_hosts,\n"
     "           did.web_ca_file, did.web_timeout) and cached in the data dir, when there\n"
     "           is one, for up to did.cache_ttl; --no-cache fetches anew. The node's own\n"
     "           did:web (of node.public_url) is built from the data dir's keys, never\n"
     "           fetched. Works while the node serves.\n"
     "  --format JsonWebKey|Multikey  the did:key verification method format (default\n"
     "                                Multikey)\n"
     "Exit 0: resolved. 1: not found, deactivated or an invalid DID document.\n"
     "2: bad usage, an invalid DID or option, or an unsupported method; one line\n"
     "\"credanchor resolve: <CODE>: <detail>\" on stderr.\n",
     ca_cli_resolve},
    {"anchor", "anchor the latest checkpoint on the EVM chain now",
     "usage: credanchor anchor [--config FILE] [--data-dir DIR] [--timeout SECONDS] [--json]\n"
     "Anchors the latest checkpoint now (SPEC §2) when no node serves this data dir: signs and\n"
     "broadcasts the anchor transaction (or resumes the one in progress), waits up to\n"
     "--timeout seconds (default 120) for it to be final (anchor.confirmations deep) and\n"
     "prints the anchor record. While a node serves the data dir, ask it instead:\n"
     "POST /v1/anchors with an admin token.\n"
     "Exit 0: final. 1: not final before the timeout (the node resumes it later).\n"
     "2: anchoring disabled, the data dir is busy, or another error.\n",
     ca_cli_anchor},
    {"check", "audit the data dir: log root, checkpoints, anchors, audit chain",
     "usage: credanchor check [--config FILE] [--data-dir DIR] [--json]\n"
     "                        [--rpc URL [--anchor-address ADDR] [--confirmations N]]\n"
     "Checks the data dir read-only (works while the node serves):\n"
     "  checkpoint    the latest checkpoint verifies under the log key;\n"
     "  root          the root recomputed from every leaf equals the checkpoint's, whose\n"
     "                size is the log's;\n"
     "  anchor N      each anchor record's rootHash is the log's root at its treeSize, its\n"
     "                stored checkpoint verifies, and its previous is the preceding anchor\n"
     "                with a consistency proof that verifies (the anchors only grew);\n"
     "  status lists  skipped: there are none yet;\n"
     "  audit         the audit log's hash chain is intact.\n"
     "With --rpc URL (EVM JSON-RPC) also every final anchor on chain: its transaction exists,\n"
     "was sent by the node's anchor account (or ADDR), carries the calldata for its size and\n"
     "root, and sits in the canonical block the record names, at least N blocks deep\n"
     "(--confirmations, default 1). A final anchor whose transaction is gone (a reorg) fails.\n"
     "Prints one line per check (result, name, detail), or with --json\n"
     "{\"ok\":BOOL,\"checks\":[{\"name\",\"result\",\"detail\"}]} (result: ok, fail, skip, error).\n"
     "Exit 0: all checks pass. 1: a check failed. 2: bad usage, unreadable data, or an\n"
     "unreachable endpoint.\n",
     ca_cli_check},
    {"backup", "take a hot backup of the data dir (store copy, encrypted keys, manifest)",
     "usage: credanchor backup [--config FILE] [--data-dir DIR] [--json] BACKUP_DIR\n"
     "Works while the node serves (a read-only open; no writer lock). Creates BACKUP_DIR\n"
     "(mode 0700; it must not exist or be empty) holding:\n"
     "  db/data.mdb    a consistent, compacting hot copy of the LMDB store;\n"
     "  keys/*.key     the key files, still encrypted (mode 0600);\n"
     "  manifest.json  {\"format\":1,\"createdAt\",\"treeSize\",\"rootHash\",\"signedMax\",\n"
     "                 \"origin\",\"logKey\",\"keyFiles\":{name:sha256},\"db\":{\"sha256\"},\n"
     "                 \"latestAnchor\"}: size, root and anchor are the copy's own.\n"
     "Every file and directory is synced before it reports. The passphrase file\n"
     "(node.key_passphrase_file) is NEVER copied: back it up separately, and keep it apart\n"
     "from the backups, or the keys cannot be decrypted after a restore.\n"
     "Prints a summary, or with --json the manifest on one line.\n"
     "Exit 0: done. 2: bad usage, BACKUP_DIR not empty, or an error.\n",
     ca_cli_backup},
    {"restore", "restore a backup into the data dir (the node must be stopped)",
     "usage: credanchor restore [--config FILE] [--data-dir DIR] [--force] [--json]\n"
     "                          BACKUP_DIR\n"
     "Verifies BACKUP_DIR first (each key file's and the store copy's SHA-256 against the\n"
     "manifest; the copy opens and holds the manifest's tree size, root, origin, log key\n"
     "and signedMax), then installs db/ and keys/ (mode 0600) into the data dir, which it\n"
     "creates (0700) when missing. The node must be stopped (takes the writer lock).\n"
     "A data dir that already holds db/ or key files is refused unless --force, which\n"
     "renames them to db.before-restore-<UTC time> and keys.before-restore-<UTC time>.\n"
     "The passphrase file is kept as it is (copy the backed-up one there for a new data dir);\n"
     "a warning says when the restored log key does not decrypt with it.\n"
     "The largest checkpoint the replaced store ever signed is carried into the restored one\n"
     "(SPEC §1): after restoring an older backup the node refuses appends (with a warning\n"
     "now, and exit 2 from append) until the log is consistent with that checkpoint again.\n"
     "At start-up serve also holds appends until the log is consistent with the newest\n"
     "anchor on chain.\n"
     "--json prints {\"dataDir\",\"treeSize\",\"rootHash\",\"signedMax\",\"signedMaxCarried\",\n"
     "\"appendsRefused\",\"movedAside\",\"warnings\"}.\n"
     "Exit 0: restored. 1: the backup failed verification (nothing was changed).\n"
     "2: bad usage, a missing backup, a non-empty data dir without --force, a running node,\n"
     "or an error.\n",
     ca_cli_restore},
    {"issue", "issue credentials: bulk from a participant list, or one (node stopped)",
     "usage: credanchor issue --csv FILE [--template FILE] [--format F] [--alg A] [--chunk N]\n"
     "                        [--json] [--config FILE] [--data-dir DIR]\n"
     "       credanchor issue --participants FILE ...   (a JSON array of participant objects)\n"
     "       credanchor issue --credential FILE [--format F] [--alg A] [--json]\n"
     "Bulk (SPEC §5): a participant list with the columns externalId, name, email,\n"
     "department, course (or achievementId) and completedAt (empty: enrolled, not completed,\n"
     "counted in completion rates). Each completed row gets an Open Badges 3.0 credential from\n"
     "--template, or from <credentials.templates_dir>/<course>.json, with the recipient as a\n"
     "salted SHA-256 email hash, an issue number PREFIX-YYYYMM-NNNN and status list entries;\n"
     "its digest goes into the log in the same commit. Re-running a list issues nothing twice\n"
     "(idempotent per achievement id and externalId). A malformed row is reported and skipped;\n"
     "the others still go in. A progress bar shows on a terminal, then a summary.\n"
     "--credential FILE issues one unsigned OpenBadgeCredential (the node fills id, issuer,\n"
     "validFrom and credentialStatus) and prints the signed credential.\n"
     "  --format vc+jwt (default) | eddsa-jcs-2022     --alg EdDSA (default) | ES256K | ES256 |\n"
     "  RS256 (eddsa-jcs-2022 signs with EdDSA)        --chunk N rows per commit (1000)\n"
     "The node must be stopped (writer lock); against a serving node POST the list to\n"
     "/v1/credentials/batch. --json prints the report {issued, existing, enrolled, failed,\n"
     "results:[{row, externalId, status, id, issueNumber, digest, leafIndex | error}]}.\n"
     "Exit 0: every row went in. 1: some rows failed (reported). 2: bad usage or an error.\n",
     ca_cli_issue},
    {"revoke", "revoke, suspend or reinstate credentials (node stopped)",
     "usage: credanchor revoke [--suspend | --reinstate] [--reason TEXT] [--json]\n"
     "                         [--config FILE] [--data-dir DIR] [--file FILE] [REF...]\n"
     "Each REF is a credential id (urn:uuid:...) or an issue number; --file adds one per\n"
     "line. Revocation is final; --suspend needs a suspension entry (credentials.suspension\n"
     "when issued); --reinstate lifts a suspension. All changes of one run are published as\n"
     "one new signed Bitstring Status List version per touched list (5000 per round), whose\n"
     "digest goes into the log. Changing to the current state is a no-op.\n"
     "The node must be stopped; against a serving node POST /v1/credentials/{id}/revoke.\n"
     "Exit 0: all applied. 1: some refused (unknown, or revoked is final; printed).\n"
     "2: bad usage or an error.\n",
     ca_cli_revoke},
    {"verify", "verify a credential: signature, status, inclusion and anchor",
     "usage: credanchor verify [--node URL] [--rpc URL] [--anchor-address ADDR]\n"
     "                         [--confirmations N] [--json] [--config FILE] FILE|-\n"
     "Checks a VC-JWT or Data Integrity credential the way a third party does (SPEC §5):\n"
     "  signature  the issuer DID resolved (did:key offline; did:web over HTTPS with the\n"
     "             did.web_* guards, or through --node URL's resolver endpoint)\n"
     "  status     the Bitstring Status List fetched from its URL and its signature checked\n"
     "  inclusion  the proof from the node (--node, else the node the status URL names)\n"
     "             against a signed checkpoint\n"
     "  anchor     with --rpc, the anchor transaction on chain, sent by the anchor account\n"
     "             the issuer's DID document lists (or --anchor-address), N blocks deep\n"
     "             (--confirmations; else anchor.confirmations when --config or\n"
     "             CREDANCHOR_ANCHOR_CONFIRMATIONS is given; else 1 on the dev chains 31337\n"
     "             and 1337, 12 on any other). An RPC that cannot be reached fails it.\n"
     "Each check is pass, fail or pending (e.g. not anchored yet, no --rpc, too few\n"
     "confirmations). URLs at --node\n"
     "may be plain http (a local node); any other URL is fetched over verified HTTPS only.\n"
     "--json prints {id, verified, checks:{signature, status, inclusion, anchor}, ...}.\n"
     "Exit 0: verified (no check failed). 1: a check failed. 2: not a credential, or usage.\n",
     ca_cli_verify},
    {"keys", "rotate the log key or the issuer keys, or create missing ones (node stopped)",
     "usage: credanchor keys rotate --log|--issuer [--config FILE] [--data-dir DIR] [--json]\n"
     "       credanchor keys migrate [--config FILE] [--data-dir DIR] [--json]\n"
     "Replaces keys with new random ones; the new keys sign from then on, and the old\n"
     "public keys stay published so what they signed still verifies. The node must be\n"
     "stopped: rotate takes the writer lock (against a serving node: exit 2, \"in use\").\n"
     "  --log     a new log key: a checkpoint for the current size N signed by it becomes the\n"
     "            latest; GET /v1/log/keys lists the old key with toSize N and the new one\n"
     "            from N (toSize null); GET /v1/log/key is the new one. Stored checkpoints\n"
     "            keep their signer; a historical size signed on demand uses the new key.\n"
     "  --issuer  every issuer signing key at once, in one store transaction: Ed25519\n"
     "            (EdDSA, eddsa-jcs-2022) and the ES256K, ES256 and RS256 keys. The node's\n"
     "            DID document lists every issuer key ever used, oldest first, in\n"
     "            verificationMethod and assertionMethod: #key-1, #key-2, ... (and the\n"
     "            same keys as JsonWebKey #eddsa-n, the EdDSA VC-JWT kid) and\n"
     "            #es256k-1, #es256k-2, ... (likewise #es256-n, #rs256-n); the newest of\n"
     "            each signs.\n"
     "The old key files move to keys/archive/ (still encrypted); the rotation is recorded in\n"
     "the audit log. A rotation a crash interrupted is finished by running it again.\n"
     "Prints the new keys, or with --json {\"rotated\",\"logKey\"|\"issuerKey\",\n"
     "\"previousKey\",...}; --issuer adds \"rotatedMethods\" (every new method id).\n"
     "migrate creates the ES256K, ES256 and RS256 issuer key files that a data dir made\n"
     "before those algorithms lacks, and records them in the store and the audit log. No\n"
     "other verb creates keys: a missing key file that the store names (it signed\n"
     "credentials) is refused everywhere, migrate included; restore it from a backup.\n"
     "Prints the files created, or with --json {\"created\":[...]}.\n"
     "Exit 0: rotated or migrated. 2: bad usage, a running node, or an error.\n",
     ca_cli_keys},
};

const ca_cli_verb *ca_cli_find(const char *name)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(verbs[i].name, name) == 0)
            return &verbs[i];
    return NULL;
}

static void print_usage(FILE *f)
{
    fputs("usage: credanchor <verb> [options]   (credanchor <verb> --help for each)\n"
          "       credanchor --version\n\nverbs:\n",
          f);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-14s %s\n", verbs[i].name, verbs[i].summary);
}

int ca_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CA_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return CA_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("credanchor %s\n", CA_VERSION);
        return CA_EXIT_OK;
    }
    const ca_cli_verb *v = ca_cli_find(argv[1]);
    if (!v) {
        fprintf(stderr, "credanchor: unknown verb \"%s\" (credanchor --help lists them)\n",
                argv[1]);
        return CA_EXIT_USAGE;
    }
    return v->run(argc - 1, argv + 1);
}
