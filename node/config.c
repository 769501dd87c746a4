/*
 * Node configuration (SPEC §0, §7; contract: node/config.h).
 *
 * Every key is declared once in `entries[]` below with its section, name, type, field, default,
 * range and a one-line doc (after Redis's config.c). Everything else is driven by that table:
 * defaults, the INI handler, environment overrides, ca_config_set, the range checks in
 * ca_config_validate and ca_config_print. Adding a key = one field in config.h, one table row,
 * one paragraph in config/credanchor.conf.example.
 *
 * Loading order (ca_config_load): defaults -> INI file -> CREDANCHOR_<SECTION>_<KEY> -> validate.
 *
 * The file is read with inih's ini_parse_stream and our own line reader, because the inih
 * handler gets no line number (INI_HANDLER_LINENO is 0 in the packaged library): the reader
 * counts lines, so the handler knows which line it is on, and it also catches lines longer than
 * inih's buffer (inih would otherwise split them silently into two lines). Unknown sections,
 * unknown keys and a key given twice are errors: a typo must not fall back to a default.
 *
 * Durability is deliberately not configurable: there is no fsync/nosync switch (SPEC §1 says an
 * append is acknowledged only after it is durable).
 */
#include "node/config.h"
#include "credanchor/did.h"
#include "credanchor/encoding.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- The table ---------------------------------------------------------------------------- */

typedef enum cfg_type {
    CFG_STR,      /* text, < CA_CONFIG_STR_MAX bytes, no control characters */
    CFG_UINT,     /* plain decimal */
    CFG_BOOL,     /* true/false yes/no on/off 1/0 */
    CFG_SIZE,     /* bytes, optional K/M/G/T suffix (powers of 1024) */
    CFG_DURATION, /* seconds, optional s/m/h/d suffix */
} cfg_type;

typedef struct cfg_entry {
    const char *section;
    const char *key;
    cfg_type type;
    size_t offset;   /* into ca_config */
    const char *def; /* the default, as text, parsed by the same code as user input */
    uint64_t min, max;
    const char *doc;
} cfg_entry;

typedef char cfg_str[CA_CONFIG_STR_MAX];

/* offsetof, but a compile error unless the field has the C type the row's kind needs. */
#define CFG_FIELD(f, T) _Generic(&((ca_config *)0)->f, T *: offsetof(ca_config, f))

#define S(sec, k, f, def, doc) \
    { sec, k, CFG_STR, CFG_FIELD(f, cfg_str), def, 0, 0, doc }
#define U(sec, k, type, f, def, lo, hi, doc) \
    { sec, k, type, CFG_FIELD(f, uint64_t), def, lo, hi, doc }
#define B(sec, k, f, def, doc) \
    { sec, k, CFG_BOOL, CFG_FIELD(f, bool), def, 0, 1, doc }

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)
#define TIB (1024ULL * GIB)
#define DAY 86400ULL
/* EIP-2294: the largest chain id for which legacy signatures (v = 2 * id + 36) fit 64 bits. */
#define CHAIN_ID_MAX 9223372036854775771ULL

static const cfg_entry entries[] = {
    /* [node] */
    S("node", "listen", node_listen, "127.0.0.1:8080", "HOST:PORT to serve HTTP on"),
    S("node", "data_dir", node_data_dir, "./var", "directory holding the LMDB store and keys"),
    S("node", "public_url", node_public_url, "http://localhost:8080",
      "base URL in issued credentials, status lists and the did:web (a DNS name, no IP)"),
    S("node", "key_passphrase_file", node_key_passphrase_file, "",
      "file holding the key-encryption passphrase; empty = <data_dir>/passphrase"),
    U("node", "max_body", CFG_SIZE, node_max_body, "10485760", 1 * KIB, 1 * GIB,
      "request body cap; larger bodies get 413"),
    U("node", "max_header", CFG_SIZE, node_max_header, "16384", 1 * KIB, 1 * MIB,
      "cap on the request line plus headers"),
    U("node", "max_connections", CFG_UINT, node_max_connections, "1024", 1, 1048576,
      "simultaneous client connections"),
    U("node", "connection_timeout", CFG_DURATION, node_connection_timeout, "30", 1, DAY,
      "seconds a connection may stay idle"),
    U("node", "max_connections_per_ip", CFG_UINT, node_max_connections_per_ip, "256", 0,
      1048576, "simultaneous connections from one client address; 0 = no per-address cap "
      "(behind a proxy every connection comes from the proxy's address)"),
    U("node", "header_timeout", CFG_DURATION, node_header_timeout, "30", 1, DAY,
      "seconds to receive a request's headers, counted from the connection's start or the "
      "previous answer"),
    U("node", "body_timeout", CFG_DURATION, node_body_timeout, "120", 1, DAY,
      "seconds to receive a request body, counted from the end of its headers"),
    U("node", "max_buffered_bodies", CFG_SIZE, node_max_buffered_bodies, "268435456", 1 * KIB,
      1024 * GIB, "request body bytes held at once over all connections; past it 503"),
    U("node", "threads", CFG_UINT, node_threads, "0", 0, 1024,
      "HTTP worker threads; 0 = four per core, at least 8"),
    U("node", "rate_limit_per_ip", CFG_UINT, node_rate_limit_per_ip, "0", 0, 1000000,
      "public-route requests per second per client address; 0 = off"),
    S("node", "tls_cert_file", node_tls_cert_file, "", "PEM certificate chain; empty = plain HTTP"),
    S("node", "tls_key_file", node_tls_key_file, "", "PEM private key for tls_cert_file"),
    S("node", "trusted_proxies", node_trusted_proxies, "",
      "comma-separated IP addresses of reverse proxies whose X-Forwarded-For names the client "
      "(rate limits, sessions, the audit log); empty = the socket's peer"),
    /* [store] */
    U("store", "max_map_size", CFG_SIZE, store_max_map_size, "64G", 1 * MIB, 1024 * TIB,
      "the LMDB map grows up to this many bytes; beyond it appends get 507"),
    U("store", "index_batch", CFG_UINT, store_index_batch, "65536", 1, 16777216,
      "digests per digest-index batch"),
    U("store", "index_flush_pages", CFG_UINT, store_index_flush_pages, "8192", 1, 1048576,
      "pages one digest-index write transaction may dirty (4 KiB each, held in memory)"),
    /* [log] */
    S("log", "origin", log_origin, "",
      "checkpoint origin fixed by init; empty = <public_url host[:port]>/credanchor"),
    /* [anchor] */
    S("anchor", "rpc_url", anchor_rpc_url, "", "EVM JSON-RPC URL; empty disables anchoring"),
    U("anchor", "chain_id", CFG_UINT, anchor_chain_id, "0", 0, CHAIN_ID_MAX,
      "EIP-155 chain id, required with rpc_url"),
    U("anchor", "interval", CFG_DURATION, anchor_interval, "600", 0, 365 * DAY,
      "seconds between automatic anchors; 0 = only on POST /v1/anchors"),
    U("anchor", "confirmations", CFG_UINT, anchor_confirmations, "12", 1, 100000,
      "blocks deep (head - tx block + 1) before an anchor is final"),
    S("anchor", "address", anchor_address, "",
      "anchor transaction recipient, 0x + 40 hex; empty = the node's own address"),
    U("anchor", "max_fee_gwei", CFG_UINT, anchor_max_fee_gwei, "500", 1, 1000000,
      "cap on maxFeePerGas in gwei"),
    U("anchor", "bump_after", CFG_DURATION, anchor_bump_after, "180", 1, DAY,
      "seconds before a stuck transaction is re-priced"),
    U("anchor", "low_funds_anchors", CFG_UINT, anchor_low_funds_anchors, "100", 0, 1000000000,
      "warn (log, console, metrics) when the anchor account pays for fewer anchors than this; "
      "0 = never"),
    U("anchor", "account_check_interval", CFG_DURATION, anchor_account_check_interval, "60", 1,
      DAY, "seconds between checks of the anchor account's balance and the chain's "
      "reachability (also after each final anchor)"),
    /* [did] */
    S("did", "web_allow_hosts", did_web_allow_hosts, "",
      "comma-separated host[:port] exempt from the did:web private-address guard"),
    S("did", "web_ca_file", did_web_ca_file, "", "extra CA bundle for did:web TLS"),
    U("did", "web_timeout", CFG_DURATION, did_web_timeout, "10", 1, 300,
      "total seconds per did:web fetch"),
    U("did", "cache_ttl", CFG_DURATION, did_cache_ttl, "3600", 0, 30 * DAY,
      "seconds a resolved DID document is cached; 0 = no cache"),
    S("did", "issuer_method", did_issuer_method, "web",
      "the issuer DID: web (did:web of node.public_url) or key (did:key of the issuer key)"),
    /* [credentials] */
    B("credentials", "suspension", credentials_suspension, "false",
      "add a suspension status entry to each new credential"),
    S("credentials", "issue_prefix", credentials_issue_prefix, "CRED",
      "PREFIX in issue numbers PREFIX-YYYYMM-NNNN"),
    U("credentials", "status_ttl", CFG_DURATION, credentials_status_ttl, "300", 0, 30 * DAY,
      "seconds a status list may be cached"),
    S("credentials", "templates_dir", credentials_templates_dir, "config/templates",
      "directory of achievement templates <course>.json for bulk issuance"),
    B("credentials", "store_email", credentials_store_email, "false",
      "keep recipients' plaintext email in issuance records (default: only the salted hash "
      "in the credential)"),
    S("credentials", "issuer_name", credentials_issuer_name, "",
      "the issuer's name in each new credential's issuer Profile (the page and certificate "
      "show it); empty = none, the page shows the issuer's domain"),
    S("credentials", "certificates_dir", credentials_certificates_dir, "config/certificates",
      "directory of certificate layouts <achievement>.json and default.json (the built-in "
      "layout when absent)"),
    /* [page] */
    S("page", "rpc_urls", page_rpc_urls, "",
      "comma-separated JSON-RPC URLs the public page may read the anchor from (the first is "
      "its default; empty: the page leaves the anchor pending unless the visitor names one "
      "these allow)"),
    S("page", "linkedin_organization_id", page_linkedin_organization_id, "",
      "the issuer's LinkedIn organization id (digits) for Add-to-profile links; empty = "
      "by organization name"),
    /* [auth] */
    U("auth", "idle_timeout", CFG_DURATION, auth_idle_timeout, "30m", 1, DAY,
      "a person's session ends after this long without a request"),
    U("auth", "absolute_timeout", CFG_DURATION, auth_absolute_timeout, "12h", 1, 30 * DAY,
      "a person's session ends this long after sign-in, whatever its use"),
    U("auth", "inactive_days", CFG_UINT, auth_inactive_days, "90", 1, 3650,
      "a person with no sign-in for this many days is disabled (and the audit log says so)"),
    U("auth", "invite_ttl", CFG_DURATION, auth_invite_ttl, "30m", 60, 7 * DAY,
      "how long an enrollment link stays valid"),
    /* [mail] recipients' notifications (SPEC §8, issue #18) */
    S("mail", "smtp_url", mail_smtp_url, "",
      "smtp://host:port of the outgoing mail server (STARTTLS required, certificate "
      "verified); empty = no email"),
    S("mail", "from", mail_from, "", "the From address: addr or \"Name <addr>\""),
    S("mail", "ca_file", mail_ca_file, "", "extra CA bundle for the SMTP server's TLS"),
    S("mail", "username", mail_username, "", "SMTP AUTH user; empty = no AUTH"),
    S("mail", "password_file", mail_password_file, "",
      "file holding the SMTP AUTH password (mode 0600, like the key passphrase)"),
    S("mail", "languages", mail_languages, "ko,en",
      "the message's languages in order: ko, en, ko,en or en,ko"),
    B("mail", "attach_pdf", mail_attach_pdf, "false", "attach the certificate PDF"),
    U("mail", "timeout", CFG_DURATION, mail_timeout, "60", 1, 3600,
      "seconds per SMTP exchange (connect to the end of DATA)"),
    U("mail", "connections", CFG_UINT, mail_connections, "4", 1, 64,
      "messages sent at once (SMTP connections to the server)"),
    /* [webhooks] signed event deliveries (SPEC §8, node/webhooks.c, issue #18) */
    S("webhooks", "allow_hosts", webhooks_allow_hosts, "",
      "comma-separated host[:port] exempt from the private-address guard (and allowed over "
      "http://)"),
    S("webhooks", "ca_file", webhooks_ca_file, "", "extra CA bundle for webhook TLS"),
    U("webhooks", "timeout", CFG_DURATION, webhooks_timeout, "10", 1, 300,
      "seconds per delivery attempt (connect to the end of the answer)"),
    U("webhooks", "connections", CFG_UINT, webhooks_connections, "8", 1, 64,
      "deliveries in flight at once, over all endpoints"),
    U("webhooks", "per_endpoint", CFG_UINT, webhooks_per_endpoint, "4", 1, 64,
      "deliveries in flight at once to one endpoint"),
    /* [delivery] the outbox (node/outbox.c, issue #18) */
    U("delivery", "retry_base", CFG_DURATION, delivery_retry_base, "60", 1, DAY,
      "the first retry's delay; each next one doubles it (with jitter), up to an hour"),
    U("delivery", "deadline", CFG_DURATION, delivery_deadline, "3d", 60, 30 * DAY,
      "a message still failing this long after it was queued is given up"),
    U("delivery", "retention_days", CFG_UINT, delivery_retention_days, "30", 0, 3650,
      "days a recipient's sealed email is kept after its last delivery, then erased"),
};

#undef S
#undef U
#undef B

#define N_ENTRIES (sizeof entries / sizeof entries[0])

static const cfg_entry *find_entry(const char *section, const char *key)
{
    for (size_t i = 0; i < N_ENTRIES; i++)
        if (strcmp(entries[i].section, section) == 0 && strcmp(entries[i].key, key) == 0)
            return &entries[i];
    return NULL;
}

static bool known_section(const char *section)
{
    for (size_t i = 0; i < N_ENTRIES; i++)
        if (strcmp(entries[i].section, section) == 0)
            return true;
    return false;
}

/* ---- Small text helpers -------------------------------------------------------------------- */

/* Copies at most 60 characters of v into out with control characters, quotes and backslashes
 * escaped and "..." when cut, so an error message stays one line whatever the input held. */
static const char *escape(char *out, size_t cap, const char *v)
{
    size_t o = 0, i = 0;
    for (; v[i] && i < 60 && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        else if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else
            out[o++] = (char)c;
    }
    if (v[i] && o + 4 <= cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* A user value in double quotes for an error line (escaped as above). */
static const char *quote(char *out, size_t cap, const char *v)
{
    CA_ASSERT(cap > 3);
    out[0] = '"';
    escape(out + 1, cap - 2, v);
    size_t n = strlen(out);
    out[n] = '"';
    out[n + 1] = '\0';
    return out;
}

/* "CREDANCHOR_<SECTION>_<KEY>" in upper case. */
static void env_name(char *out, size_t cap, const cfg_entry *e)
{
    int n = snprintf(out, cap, "CREDANCHOR_%s_%s", e->section, e->key);
    CA_ASSERT(n > 0 && (size_t)n < cap);
    for (char *p = out; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
}

/* Prints v the way a user would write it for this type: 1024 -> "1K", 86400 -> "1d". */
static void format_number(char *out, size_t cap, cfg_type type, uint64_t v)
{
    static const struct { uint64_t unit; char sfx; } sizes[] = {
        { TIB, 'T' }, { GIB, 'G' }, { MIB, 'M' }, { KIB, 'K' } };
    static const struct { uint64_t unit; char sfx; } times[] = {
        { DAY, 'd' }, { 3600, 'h' }, { 60, 'm' } };
    if (v != 0 && type == CFG_SIZE) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            if (v % sizes[i].unit == 0) {
                snprintf(out, cap, "%llu%c", (unsigned long long)(v / sizes[i].unit), sizes[i].sfx);
                return;
            }
    }
    if (v != 0 && type == CFG_DURATION) {
        for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
            if (v % times[i].unit == 0) {
                snprintf(out, cap, "%llu%c", (unsigned long long)(v / times[i].unit), times[i].sfx);
                return;
            }
    }
    snprintf(out, cap, "%llu", (unsigned long long)v);
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return true;
    return false;
}

/* ---- Parsing one value ---------------------------------------------------------------------- */

/* Decimal digits only, no sign, no overflow. Returns the number of digits consumed (0 = none)
 * or -1 on overflow. */
static int parse_digits(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int n = 0;
    for (; s[n] >= '0' && s[n] <= '9'; n++) {
        unsigned d = (unsigned)(s[n] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return n;
}

/* Parses text for entry e into *num (numeric types and bool). On failure writes the problem
 * (no prefix) into why and returns false. */
static bool parse_number(const cfg_entry *e, const char *text, uint64_t *num, char *why,
                         size_t cap)
{
    char q[96];
    uint64_t v, mult = 1;
    int n = parse_digits(text, &v);
    const char *rest = text + (n > 0 ? n : 0);

    if (e->type == CFG_BOOL) {
        static const char *const yes[] = { "true", "yes", "on", "1" };
        static const char *const no[] = { "false", "no", "off", "0" };
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(text, yes[i]) == 0) { *num = 1; return true; }
            if (strcasecmp(text, no[i]) == 0) { *num = 0; return true; }
        }
        snprintf(why, cap, "%s is not a boolean (true/false, yes/no, on/off, 1/0)",
                 quote(q, sizeof q, text));
        return false;
    }

    if (n > 0 && rest[0] && !rest[1]) {
        char c = rest[0];
        if (e->type == CFG_SIZE) {
            switch (c) {
            case 'K': case 'k': mult = KIB; break;
            case 'M': case 'm': mult = MIB; break;
            case 'G': case 'g': mult = GIB; break;
            case 'T': case 't': mult = TIB; break;
            default: mult = 0;
            }
        } else if (e->type == CFG_DURATION) {
            switch (c) {
            case 's': mult = 1; break;
            case 'm': mult = 60; break;
            case 'h': mult = 3600; break;
            case 'd': mult = DAY; break;
            default: mult = 0;
            }
        } else
            mult = 0;
        if (mult)
            rest++;
    }
    if (n == 0 || *rest) {
        if (e->type == CFG_SIZE)
            snprintf(why, cap, "%s is not a size in bytes (a whole number, optionally followed "
                     "by K, M, G or T)", quote(q, sizeof q, text));
        else if (e->type == CFG_DURATION)
            snprintf(why, cap, "%s is not a duration (whole seconds, optionally followed by "
                     "s, m, h or d)", quote(q, sizeof q, text));
        else
            snprintf(why, cap, "%s is not a whole decimal number", quote(q, sizeof q, text));
        return false;
    }
    if (n < 0 || v > UINT64_MAX / mult) {
        snprintf(why, cap, "%s is too large", quote(q, sizeof q, text));
        return false;
    }
    v *= mult;
    if (v < e->min || v > e->max) {
        char lo[32], hi[32];
        format_number(lo, sizeof lo, e->type, e->min);
        format_number(hi, sizeof hi, e->type, e->max);
        snprintf(why, cap, "%s is out of range (%s to %s)", quote(q, sizeof q, text), lo, hi);
        return false;
    }
    *num = v;
    return true;
}

static bool check_string(const char *text, char *why, size_t cap)
{
    if (strlen(text) >= CA_CONFIG_STR_MAX) {
        snprintf(why, cap, "value is longer than %d characters", CA_CONFIG_STR_MAX - 1);
        return false;
    }
    if (has_control(text)) {
        char q[96];
        snprintf(why, cap, "%s contains a control character", quote(q, sizeof q, text));
        return false;
    }
    return true;
}

/* Parses text and stores it in cfg's field for e; cfg is untouched on failure. */
static bool apply(ca_config *cfg, const cfg_entry *e, const char *text, char *why, size_t cap)
{
    char *field = (char *)cfg + e->offset;
    if (e->type == CFG_STR) {
        if (!check_string(text, why, cap))
            return false;
        memmove(field, text, strlen(text) + 1);
        return true;
    }
    uint64_t v;
    if (!parse_number(e, text, &v, why, cap))
        return false;
    if (e->type == CFG_BOOL)
        *(bool *)(void *)field = v != 0;
    else
        *(uint64_t *)(void *)field = v;
    return true;
}

/* public_url is a base: drop trailing slashes so "URL" + "/v1/..." never has "//". */
static void normalise(ca_config *cfg)
{
    char *u = cfg->node_public_url;
    const char *sep = strstr(u, "://");
    if (!sep)
        return; /* not a URL: validation says so */
    size_t min = (size_t)(sep - u) + 3, n = strlen(u);
    while (n > min && u[n - 1] == '/')
        u[--n] = '\0';
}

/* ---- Public: defaults, set, print ------------------------------------------------------------ */

void ca_config_defaults(ca_config *cfg)
{
    CA_ASSERT(cfg);
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_ENTRIES; i++) {
        char why[256];
        bool ok = apply(cfg, &entries[i], entries[i].def, why, sizeof why);
        CA_ASSERT(ok); /* a bad default in the table is our bug */
    }
}

ca_err ca_config_set(ca_config *cfg, const char *section, const char *key, const char *value,
                     ca_errbuf *eb)
{
    CA_ASSERT(cfg && section && key && value);
    const cfg_entry *e = find_entry(section, key);
    char why[400];
    if (!e) {
        char qs[96], qk[96];
        return ca_fail(eb, CA_ERR_CONFIG, "config: unknown key %s.%s",
                       escape(qs, sizeof qs, section), escape(qk, sizeof qk, key));
    }
    if (!apply(cfg, e, value, why, sizeof why))
        return ca_fail(eb, CA_ERR_CONFIG, "config: %s.%s: %s", e->section, e->key, why);
    normalise(cfg);
    return CA_OK;
}

void ca_config_print(const ca_config *cfg, void *file)
{
    CA_ASSERT(cfg && file);
    FILE *f = file;
    for (size_t i = 0; i < N_ENTRIES; i++) {
        const cfg_entry *e = &entries[i];
        const char *field = (const char *)cfg + e->offset;
        fprintf(f, "%s.%s = ", e->section, e->key);
        switch (e->type) {
        case CFG_STR:
            fprintf(f, "%.*s\n", CA_CONFIG_STR_MAX - 1, field);
            break;
        case CFG_BOOL:
            fprintf(f, "%s\n", *(const bool *)(const void *)field ? "true" : "false");
            break;
        default:
            fprintf(f, "%llu\n", (unsigned long long)*(const uint64_t *)(const void *)field);
            break;
        }
    }
}

const char *ca_config_passphrase_path(const ca_config *cfg, char *buf, size_t cap)
{
    CA_ASSERT(cfg && buf && cap > 0);
    int n;
    if (cfg->node_key_passphrase_file[0]) {
        n = snprintf(buf, cap, "%s", cfg->node_key_passphrase_file);
    } else {
        const char *dir = cfg->node_data_dir;
        size_t len = strlen(dir);
        bool slash = len > 0 && dir[len - 1] == '/';
        n = snprintf(buf, cap, "%s%spassphrase", dir, slash ? "" : "/");
    }
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return NULL;
    }
    return buf;
}

/* ---- Validation ---------------------------------------------------------------------------- */

static bool is_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool valid_port(const char *s, size_t n)
{
    if (!is_digits(s, n) || n > 5)
        return false;
    unsigned long p = 0;
    for (size_t i = 0; i < n; i++)
        p = p * 10 + (unsigned long)(s[i] - '0');
    return p >= 1 && p <= 65535;
}

/* A DNS host name: dot-separated labels of 1..63 letters, digits and hyphens, no hyphen at
 * either end of a label, 253 characters at most. */
static bool valid_dns_name(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-';
        if (!ok || (label == 0 && c == '-') || ++label > 63)
            return false;
    }
    return label > 0 && s[n - 1] != '-';
}

/* True when a URL parser would read the host as an IPv4 address: its last label is numeric
 * (decimal, or 0x-hex, per the WHATWG URL standard's "ends in a number" rule), e.g. "127.0.0.1",
 * "127.1", "0x7f.1". */
static bool looks_like_ipv4(const char *s, size_t n)
{
    size_t start = n;
    while (start > 0 && s[start - 1] != '.')
        start--;
    const char *last = s + start;
    size_t len = n - start;
    if (is_digits(last, len))
        return true;
    if (len >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
        for (size_t i = 2; i < len; i++)
            if (ca_hex_digit_value(last[i]) < 0)
                return false;
        return true;
    }
    return false;
}

static bool valid_ipv6(const char *s, size_t n)
{
    char tmp[64];
    unsigned char addr[16];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, addr) == 1;
}

/* host[:port] or [v6][:port] (port required when need_port). An IP literal is allowed when
 * allow_ip. Returns NULL or a short reason. */
static const char *check_hostport(const char *s, size_t n, bool need_port, bool allow_ip)
{
    const char *host, *port = NULL;
    size_t hlen, plen = 0;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return "an IPv6 address needs a closing ']'";
        host = s + 1;
        hlen = (size_t)(close - host);
        if (!allow_ip)
            return "the host must be a DNS name, not an IP address";
        if (!valid_ipv6(host, hlen))
            return "the host in brackets is not an IPv6 address";
        size_t used = (size_t)(close - s) + 1;
        if (used < n) {
            if (s[used] != ':')
                return "expected ':' and a port after ']'";
            port = s + used + 1;
            plen = n - used - 1;
        }
    } else {
        const char *colon = memchr(s, ':', n);
        host = s;
        hlen = colon ? (size_t)(colon - s) : n;
        if (colon) {
            port = colon + 1;
            plen = n - hlen - 1;
            if (memchr(port, ':', plen))
                return "an IPv6 address must be written in brackets";
        }
        if (hlen == 0)
            return "the host is empty";
        if (!valid_dns_name(host, hlen))
            return "the host is not a valid host name or IPv4 address";
        if (!allow_ip && looks_like_ipv4(host, hlen))
            return "the host must be a DNS name, not an IP address";
        if (allow_ip && looks_like_ipv4(host, hlen)) {
            char tmp[64];
            unsigned char addr[4];
            if (hlen >= sizeof tmp)
                return "the host is not a valid IPv4 address";
            memcpy(tmp, host, hlen);
            tmp[hlen] = '\0';
            if (inet_pton(AF_INET, tmp, addr) != 1)
                return "the host is not a valid IPv4 address (a.b.c.d)";
        }
    }
    if (port && !valid_port(port, plen))
        return "the port is not a number from 1 to 65535";
    if (need_port && !port)
        return "a port is required (HOST:PORT)";
    return NULL;
}

/* http(s)://host[:port][/path][?query] -> NULL or a reason. For public_url: DNS host only and
 * no query or fragment (it is a base that paths are appended to). */
static const char *check_url(const char *u, bool public_base)
{
    const char *p;
    if (strncasecmp(u, "http://", 7) == 0)
        p = u + 7;
    else if (strncasecmp(u, "https://", 8) == 0)
        p = u + 8;
    else
        return "must start with http:// or https://";
    size_t auth = strcspn(p, "/?#");
    if (memchr(p, '@', auth))
        return "must not contain user information (user@)";
    if (memchr(p, ' ', strlen(p)))
        return "must not contain spaces";
    const char *why = check_hostport(p, auth, false, !public_base);
    if (why)
        return why;
    if (public_base && p[auth] && strpbrk(p + auth, "?#"))
        return "must not have a query or fragment";
    if (!public_base && strchr(p + auth, '#'))
        return "must not have a fragment";
    return NULL;
}

static ca_err invalid(ca_errbuf *eb, const char *key, const char *value, const char *why)
{
    char q[96];
    return ca_fail(eb, CA_ERR_CONFIG, "config: %s: %s: %s", key, quote(q, sizeof q, value), why);
}

/* A public_url whose host is an internationalized name (non-ASCII bytes): CA_ERR_CONFIG
 * naming the URL with its A-label host, since did:web, TLS certificates and every URL the
 * node issues name the ASCII form (did:web method spec; RFC 5890). CA_OK otherwise. */
static ca_err refuse_idn_host(const char *url, ca_errbuf *eb)
{
    const char *host = strstr(url, "://");
    if (!host)
        return CA_OK;
    host += 3;
    size_t hlen = strcspn(host, ":/?#");
    bool ascii = true;
    for (size_t i = 0; i < hlen; i++)
        ascii = ascii && (unsigned char)host[i] < 0x80;
    if (ascii)
        return CA_OK;
    char q[96], alabel[256];
    ca_errbuf ieb = {{0}};
    if (ca_host_to_ascii(alabel, sizeof alabel, host, hlen, &ieb))
        return ca_fail(eb, CA_ERR_CONFIG, "config: node.public_url: %s: %s",
                       quote(q, sizeof q, url), ieb.msg);
    return ca_fail(eb, CA_ERR_CONFIG, "config: node.public_url: %s: the host is an "
                   "internationalized domain name; write its A-label form: %.*s%s%s",
                   quote(q, sizeof q, url), (int)(host - url), url, alabel, host + hlen);
}

/* 1. Every field holds what its type allows (the struct may have been filled by hand). */
static ca_err validate_fields(const ca_config *cfg, ca_errbuf *eb)
{
    for (size_t i = 0; i < N_ENTRIES; i++) {
        const cfg_entry *e = &entries[i];
        const char *field = (const char *)cfg + e->offset;
        char msg[400];
        if (e->type == CFG_STR) {
            if (memchr(field, '\0', CA_CONFIG_STR_MAX) == NULL)
                return ca_fail(eb, CA_ERR_CONFIG, "config: %s.%s: value is not terminated",
                               e->section, e->key);
            if (!check_string(field, msg, sizeof msg))
                return ca_fail(eb, CA_ERR_CONFIG, "config: %s.%s: %s", e->section, e->key, msg);
        } else if (e->type != CFG_BOOL) {
            uint64_t v = *(const uint64_t *)(const void *)field;
            if (v < e->min || v > e->max) {
                char lo[32], hi[32], have[32];
                format_number(lo, sizeof lo, e->type, e->min);
                format_number(hi, sizeof hi, e->type, e->max);
                format_number(have, sizeof have, e->type, v);
                return ca_fail(eb, CA_ERR_CONFIG, "config: %s.%s: %s is out of range (%s to %s)",
                               e->section, e->key, have, lo, hi);
            }
        }
    }
    return CA_OK;
}

/* 2. to 5.: the node section. */
static ca_err validate_node(const ca_config *cfg, ca_errbuf *eb)
{
    /* 2. node.listen: HOST:PORT, IPv6 in brackets. */
    const char *why = check_hostport(cfg->node_listen, strlen(cfg->node_listen), true, true);
    if (why)
        return invalid(eb, "node.listen", cfg->node_listen, why);

    /* 3. node.data_dir must name something. */
    if (!cfg->node_data_dir[0])
        return ca_fail(eb, CA_ERR_CONFIG, "config: node.data_dir: must not be empty");

    /* 4. node.public_url: a base URL on a DNS name (SPEC §4: never an IP literal). */
    if (refuse_idn_host(cfg->node_public_url, eb))
        return CA_ERR_CONFIG;
    why = check_url(cfg->node_public_url, true);
    if (why)
        return invalid(eb, "node.public_url", cfg->node_public_url, why);

    /* 5. TLS needs both halves. */
    if (!cfg->node_tls_cert_file[0] != !cfg->node_tls_key_file[0])
        return ca_fail(eb, CA_ERR_CONFIG, "config: node.tls_cert_file and node.tls_key_file "
                       "must both be set or both be empty");
    return CA_OK;
}

/* 7. and 8.: the anchor section. */
static ca_err validate_anchor(const ca_config *cfg, ca_errbuf *eb)
{
    /* 7. Anchoring: rpc_url is http(s), and then chain_id is required (SPEC §2). */
    if (cfg->anchor_rpc_url[0]) {
        const char *why = check_url(cfg->anchor_rpc_url, false);
        if (why)
            return invalid(eb, "anchor.rpc_url", cfg->anchor_rpc_url, why);
        if (cfg->anchor_chain_id == 0)
            return ca_fail(eb, CA_ERR_CONFIG,
                           "config: anchor.chain_id: must be set (> 0) when anchor.rpc_url is set");
    }

    /* 8. anchor.address: empty or 0x + 40 hex digits. */
    if (cfg->anchor_address[0]) {
        const char *a = cfg->anchor_address;
        bool ok = strlen(a) == 42 && a[0] == '0' && a[1] == 'x';
        for (size_t i = 2; ok && i < 42; i++)
            ok = ca_hex_digit_value(a[i]) >= 0;
        if (!ok)
            return invalid(eb, "anchor.address", a, "is not 0x followed by 40 hex digits");
    }
    return CA_OK;
}

/* 8b. [page]: every rpc_urls entry is an http(s) URL (the page puts them in its CSP
 * connect-src, so a space or a quote must not reach the header), and the LinkedIn
 * organization id is digits. */
static ca_err validate_page(const ca_config *cfg, ca_errbuf *eb)
{
    char list[CA_CONFIG_STR_MAX];
    snprintf(list, sizeof list, "%s", cfg->page_rpc_urls);
    char *save = NULL;
    for (char *u = strtok_r(list, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
        while (*u == ' ')
            u++;
        size_t n = strlen(u);
        while (n && u[n - 1] == ' ')
            u[--n] = 0;
        const char *why = !n ? "has an empty entry"
                          : strpbrk(u, "\"';<>") ? "must not contain quotes, ';' or '<>'"
                                                   : check_url(u, false);
        if (why)
            return invalid(eb, "page.rpc_urls", u, why);
    }
    const char *id = cfg->page_linkedin_organization_id;
    if (id[0] && strspn(id, "0123456789") != strlen(id))
        return invalid(eb, "page.linkedin_organization_id", id, "must be digits");
    return CA_OK;
}

/* 9. One did.web_allow_hosts entry (blanks around it trimmed): NULL, or why it is refused. */
static const char *allow_host_problem(const char *item)
{
    if (!item[0])
        return "has an empty entry";
    if (strstr(item, "://"))
        return "entries are host[:port], without a scheme";
    if (strpbrk(item, "/?#@ "))
        return "entries are host[:port], without a path";
    return check_hostport(item, strlen(item), false, true);
}

bool ca_config_list_next(const char **p, const char **item, size_t *len)
{
    if (!*p)
        return false;
    size_t n = strcspn(*p, ",");
    const char *s = *p, *end = *p + n;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *item = s;
    *len = (size_t)(end - s);
    *p = (*p)[n] == ',' ? *p + n + 1 : NULL;
    return true;
}

/* 9. did.web_allow_hosts: host[:port] entries, comma-separated, no schemes or paths. */
static ca_err validate_allow_hosts(const ca_config *cfg, ca_errbuf *eb)
{
    const char *p = cfg->did_web_allow_hosts[0] ? cfg->did_web_allow_hosts : NULL, *s;
    size_t n;
    while (ca_config_list_next(&p, &s, &n)) {
        char item[CA_CONFIG_STR_MAX];
        memcpy(item, s, n);
        item[n] = '\0';
        const char *why = allow_host_problem(item);
        if (why) {
            char q[96], msg[300];
            snprintf(msg, sizeof msg, "entry %s: %s", quote(q, sizeof q, item), why);
            return invalid(eb, "did.web_allow_hosts", cfg->did_web_allow_hosts, msg);
        }
    }
    return CA_OK;
}

/* 9a. node.trusted_proxies: up to CA_CONFIG_TRUSTED_PROXIES_MAX IPv4 or IPv6 addresses
 * (no names, no ranges: a proxy is one known host). */
static ca_err validate_trusted_proxies(const ca_config *cfg, ca_errbuf *eb)
{
    const char *p = cfg->node_trusted_proxies[0] ? cfg->node_trusted_proxies : NULL, *a;
    size_t n;
    for (size_t count = 0; ca_config_list_next(&p, &a, &n); count++) {
        char item[INET6_ADDRSTRLEN];
        uint8_t bin[16];
        bool ok = n > 0 && n < sizeof item;
        if (ok) {
            memcpy(item, a, n);
            item[n] = '\0';
            ok = inet_pton(AF_INET, item, bin) == 1 || inet_pton(AF_INET6, item, bin) == 1;
        }
        if (!ok)
            return invalid(eb, "node.trusted_proxies", cfg->node_trusted_proxies,
                           "entries are IPv4 or IPv6 addresses, comma-separated");
        if (count == CA_CONFIG_TRUSTED_PROXIES_MAX)
            return invalid(eb, "node.trusted_proxies", cfg->node_trusted_proxies,
                           "lists too many proxies");
    }
    return CA_OK;
}

/* 10. credentials.issue_prefix: 1-16 letters, digits or '_' (issue numbers split on '-'). */
/* mail.*: an smtp:// URL (SPEC §8: STARTTLS on plain SMTP, never cleartext; smtps:// is not
 * offered, so there is one way in), and with it a From address and a language list. */
static ca_err validate_mail(const ca_config *cfg, ca_errbuf *eb)
{
    const char *l = cfg->mail_languages;
    if (strcmp(l, "ko") && strcmp(l, "en") && strcmp(l, "ko,en") && strcmp(l, "en,ko"))
        return invalid(eb, "mail.languages", l, "must be ko, en, ko,en or en,ko");
    if (!cfg->mail_smtp_url[0])
        return CA_OK;
    if (strncmp(cfg->mail_smtp_url, "smtp://", 7) != 0 || !cfg->mail_smtp_url[7])
        return invalid(eb, "mail.smtp_url", cfg->mail_smtp_url,
                       "must be smtp://host[:port] (STARTTLS is required on it)");
    if (!cfg->mail_from[0])
        return invalid(eb, "mail.from", cfg->mail_from, "is required with mail.smtp_url");
    if (cfg->mail_username[0] && !cfg->mail_password_file[0])
        return invalid(eb, "mail.password_file", "", "is required with mail.username");
    return CA_OK;
}

static ca_err validate_issue_prefix(const ca_config *cfg, ca_errbuf *eb)
{
    const char *s = cfg->credentials_issue_prefix;
    size_t n = strlen(s);
    bool ok = n >= 1 && n <= 16;
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
    if (!ok)
        return invalid(eb, "credentials.issue_prefix", s,
                       "must be 1 to 16 letters, digits or '_'");
    return CA_OK;
}

ca_err ca_config_validate(const ca_config *cfg, ca_errbuf *eb)
{
    CA_ASSERT(cfg);
    ca_err err;
    if ((err = validate_fields(cfg, eb)) || (err = validate_node(cfg, eb)))
        return err;

    /* 6. log.origin (C2SP signed-note key name): no spaces and no '+'. */
    if (strpbrk(cfg->log_origin, " +"))
        return invalid(eb, "log.origin", cfg->log_origin, "must contain no spaces and no '+'");

    if ((err = validate_anchor(cfg, eb)) || (err = validate_page(cfg, eb)) ||
        (err = validate_allow_hosts(cfg, eb)) || (err = validate_trusted_proxies(cfg, eb)))
        return err;

    /* 10a. did.issuer_method: web or key. */
    if ((err = validate_mail(cfg, eb)))
        return err;
    if (strcmp(cfg->did_issuer_method, "web") != 0 && strcmp(cfg->did_issuer_method, "key") != 0)
        return invalid(eb, "did.issuer_method", cfg->did_issuer_method, "must be web or key");

    return validate_issue_prefix(cfg, eb);
}

/* ---- Loading ------------------------------------------------------------------------------- */

typedef struct load_ctx {
    ca_config *cfg;
    const char *path;
    FILE *f;
    int lineno;             /* the line inih is handling (counted by read_line) */
    bool failed;            /* msg holds the first error; stop reading */
    int fail_line;
    int set_line[N_ENTRIES]; /* where each key was set, to refuse duplicates */
    char msg[1024];
} load_ctx;

/* inih's reader: one line per call, counted; a line that does not fit inih's buffer stops the
 * parse with an error instead of being split in two. */
static char *read_line(char *str, int num, void *stream)
{
    load_ctx *c = stream;
    if (c->failed || !fgets(str, num, c->f))
        return NULL;
    c->lineno++;
    size_t n = strlen(str);
    if (n > 0 && str[n - 1] != '\n') {
        int ch = getc(c->f);
        if (ch == '\n' || ch == EOF)
            return str; /* exactly full, or the last line without a newline */
        c->failed = true;
        c->fail_line = c->lineno;
        snprintf(c->msg, sizeof c->msg, "config: %s:%d: line is longer than %d characters",
                 c->path, c->lineno, num - 2);
        return NULL;
    }
    return str;
}

static int on_ini_value(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *c = user;
    char sec[96], key[96], why[400];
    const cfg_entry *e = NULL;

    escape(sec, sizeof sec, section);
    escape(key, sizeof key, name);
    if (!section[0])
        snprintf(c->msg, sizeof c->msg, "config: %s:%d: key %s is outside any [section]",
                 c->path, c->lineno, key);
    else if (!known_section(section))
        snprintf(c->msg, sizeof c->msg, "config: %s:%d: unknown key %s.%s (no section [%s])",
                 c->path, c->lineno, sec, key, sec);
    else if (!(e = find_entry(section, name)))
        snprintf(c->msg, sizeof c->msg, "config: %s:%d: unknown key %s.%s", c->path, c->lineno,
                 sec, key);
    else {
        size_t idx = (size_t)(e - entries);
        if (c->set_line[idx])
            snprintf(c->msg, sizeof c->msg, "config: %s:%d: %s.%s is already set on line %d",
                     c->path, c->lineno, sec, key, c->set_line[idx]);
        else if (!apply(c->cfg, e, value, why, sizeof why))
            snprintf(c->msg, sizeof c->msg, "config: %s:%d: %s.%s: %s", c->path, c->lineno, sec,
                     key, why);
        else {
            c->set_line[idx] = c->lineno;
            return 1;
        }
    }
    c->failed = true;
    c->fail_line = c->lineno;
    return 0;
}

static ca_err load_file(ca_config *cfg, const char *path, ca_errbuf *eb)
{
    load_ctx c;
    struct stat st;
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    c.path = path;
    c.f = fopen(path, "r");
    if (!c.f)
        return ca_fail(eb, CA_ERR_CONFIG, "config: cannot read %s: %s", path, strerror(errno));
    if (fstat(fileno(c.f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(c.f);
        return ca_fail(eb, CA_ERR_CONFIG, "config: cannot read %s: %s", path, strerror(EISDIR));
    }

    int ret = ini_parse_stream(read_line, &c, on_ini_value, &c);
    bool read_error = ferror(c.f) != 0;
    int saved = errno;
    fclose(c.f);

    if (read_error)
        return ca_fail(eb, CA_ERR_CONFIG, "config: cannot read %s: %s", path, strerror(saved));
    if (ret > 0 && (!c.failed || ret < c.fail_line))
        return ca_fail(eb, CA_ERR_CONFIG,
                       "config: %s:%d: syntax error (expected [section] or key = value)", path,
                       ret);
    if (c.failed)
        return ca_fail(eb, CA_ERR_CONFIG, "%s", c.msg);
    if (ret == -2)
        return ca_fail(eb, CA_ERR_NOMEM, "config: out of memory reading %s", path);
    if (ret != 0)
        return ca_fail(eb, CA_ERR_CONFIG, "config: cannot read %s", path);
    return CA_OK;
}

static ca_err load_env(ca_config *cfg, ca_errbuf *eb)
{
    for (size_t i = 0; i < N_ENTRIES; i++) {
        const cfg_entry *e = &entries[i];
        char name[128], why[400];
        env_name(name, sizeof name, e);
        const char *v = getenv(name);
        if (v && !apply(cfg, e, v, why, sizeof why))
            return ca_fail(eb, CA_ERR_CONFIG, "config: %s (%s.%s): %s", name, e->section, e->key,
                           why);
    }
    return CA_OK;
}

ca_err ca_config_load(ca_config *cfg, const char *path, ca_errbuf *eb)
{
    CA_ASSERT(cfg);
    ca_err err;
    ca_config_defaults(cfg);
    if (path && (err = load_file(cfg, path, eb)) != CA_OK)
        return err;
    if ((err = load_env(cfg, eb)) != CA_OK)
        return err;
    normalise(cfg);
    return ca_config_validate(cfg, eb);
}

unsigned ca_config_http_threads(const ca_config *cfg)
{
    if (cfg->node_threads)
        return (unsigned)cfg->node_threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned t = n > 0 ? 4u * (unsigned)n : 8u;
    return t < 8 ? 8 : t;
}

const char *ca_config_public_path(const ca_config *cfg)
{
    CA_ASSERT(cfg);
    const char *sep = strstr(cfg->node_public_url, "://");
    const char *path = sep ? strchr(sep + 3, '/') : NULL;
    return path && path[1] ? path : "";
}
