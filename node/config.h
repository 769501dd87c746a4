/*
 * Node configuration (SPEC §0, §7): an INI file read with inih, then environment overrides
 * CREDANCHOR_<SECTION>_<KEY>, then validation. Each key is declared once in node/config.c with
 * its type, default and range (after Redis's config.c); config/credanchor.conf.example
 * documents every key. A bad value is one error line naming the key and the problem.
 * Conventions: common.h.
 */
#ifndef CREDANCHOR_CONFIG_H
#define CREDANCHOR_CONFIG_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CA_CONFIG_STR_MAX 1024

#define CA_CONFIG_TRUSTED_PROXIES_MAX 16 /* node.trusted_proxies entries */

/* The entries of a comma-separated config list (did.web_allow_hosts, node.trusted_proxies):
 * the next entry at *p, blanks around it trimmed, as (*item, *len), and *p moved past its
 * comma, or NULL after the last entry; false once *p is NULL. Start with *p NULL for an empty
 * text (no entries); an empty entry (",," or a trailing ",") comes back with *len 0. */
bool ca_config_list_next(const char **p, const char **item, size_t *len);

typedef struct ca_config {
    /* [node] */
    char node_listen[CA_CONFIG_STR_MAX];      /* HOST:PORT, default 127.0.0.1:8080 */
    char node_data_dir[CA_CONFIG_STR_MAX];    /* default ./var */
    char node_public_url[CA_CONFIG_STR_MAX];  /* default http://localhost:8080 */
    char node_key_passphrase_file[CA_CONFIG_STR_MAX]; /* default <data_dir>/passphrase */
    uint64_t node_max_body;                   /* bytes, default 10485760 */
    uint64_t node_max_header;                 /* bytes of request headers, default 16384 */
    uint64_t node_max_connections;            /* default 1024 */
    uint64_t node_connection_timeout;         /* seconds idle before a connection closes, 30 */
    uint64_t node_max_connections_per_ip;     /* 256; 0 = no per-address cap */
    uint64_t node_header_timeout;             /* seconds to get a request's headers, 30 */
    uint64_t node_body_timeout;               /* seconds to get a request body, 120 */
    uint64_t node_max_buffered_bodies;        /* body bytes buffered at once, 256 MiB */
    uint64_t node_threads;                    /* HTTP worker threads, 0 = ca_config_http_threads */
    uint64_t node_rate_limit_per_ip;          /* public requests/s per address, 0 = off */
    char node_tls_cert_file[CA_CONFIG_STR_MAX]; /* empty = plain HTTP */
    char node_tls_key_file[CA_CONFIG_STR_MAX];
    char node_trusted_proxies[CA_CONFIG_STR_MAX]; /* up to CA_CONFIG_TRUSTED_PROXIES_MAX
                                                   * comma-separated IP addresses */
    /* [store] */
    uint64_t store_max_map_size;              /* bytes, default 64 GiB */
    uint64_t store_index_batch;               /* digests per digest-index batch, 65536 */
    uint64_t store_index_flush_pages;         /* dirty-page budget of one index write, 8192 */
    /* [log] */
    char log_origin[CA_CONFIG_STR_MAX];       /* used by init only; empty = from public_url */
    /* [anchor] */
    char anchor_rpc_url[CA_CONFIG_STR_MAX];   /* empty disables anchoring */
    uint64_t anchor_chain_id;                 /* required with rpc_url */
    uint64_t anchor_interval;                 /* seconds, 0 = only on request; default 600 */
    uint64_t anchor_confirmations;            /* default 12 */
    char anchor_address[CA_CONFIG_STR_MAX];   /* 0x..; empty = the node's own address */
    uint64_t anchor_max_fee_gwei;             /* cap on maxFeePerGas, default 500 */
    uint64_t anchor_bump_after;               /* seconds before a stuck tx is re-priced, 180 */
    uint64_t anchor_low_funds_anchors;        /* warn below this many anchors left, 100 */
    uint64_t anchor_account_check_interval;   /* seconds between funds checks, 60 */
    /* [did] */
    char did_web_allow_hosts[CA_CONFIG_STR_MAX]; /* comma-separated host[:port] */
    char did_web_ca_file[CA_CONFIG_STR_MAX];
    uint64_t did_web_timeout;                 /* seconds, total per fetch, default 10 */
    uint64_t did_cache_ttl;                   /* seconds, default 3600 */
    char did_issuer_method[CA_CONFIG_STR_MAX]; /* "web" (default) or "key" */
    /* [credentials] */
    bool credentials_suspension;              /* default false */
    char credentials_issue_prefix[CA_CONFIG_STR_MAX]; /* default CRED */
    uint64_t credentials_status_ttl;          /* seconds a status list may be cached, 300 */
    char credentials_templates_dir[CA_CONFIG_STR_MAX]; /* default config/templates */
    bool credentials_store_email;             /* default false */
    char credentials_issuer_name[CA_CONFIG_STR_MAX]; /* issuer Profile name; empty = none */
    char credentials_certificates_dir[CA_CONFIG_STR_MAX]; /* default config/certificates */
    /* [page] */
    char page_rpc_urls[CA_CONFIG_STR_MAX];    /* comma-separated JSON-RPC URLs for the page */
    char page_linkedin_organization_id[CA_CONFIG_STR_MAX]; /* digits; empty = by name */
    /* [auth] people's sign-in (issue #16) */
    uint64_t auth_idle_timeout;               /* seconds, default 1800 */
    uint64_t auth_absolute_timeout;           /* seconds, default 43200 */
    uint64_t auth_inactive_days;              /* default 90 */
    uint64_t auth_invite_ttl;                 /* seconds, default 1800 */
    /* [mail] (SPEC §8, issue #18) */
    char mail_smtp_url[CA_CONFIG_STR_MAX];    /* smtp://host:port; empty = no email */
    char mail_from[CA_CONFIG_STR_MAX];
    char mail_ca_file[CA_CONFIG_STR_MAX];
    char mail_username[CA_CONFIG_STR_MAX];
    char mail_password_file[CA_CONFIG_STR_MAX];
    char mail_languages[CA_CONFIG_STR_MAX];   /* default "ko,en" */
    bool mail_attach_pdf;                     /* default false */
    uint64_t mail_timeout;                    /* seconds, default 60 */
    uint64_t mail_connections;                /* default 4 */
    /* [webhooks] (SPEC §8, node/webhooks.c) */
    char webhooks_allow_hosts[CA_CONFIG_STR_MAX];
    char webhooks_ca_file[CA_CONFIG_STR_MAX];
    uint64_t webhooks_timeout;                /* seconds, default 10 */
    uint64_t webhooks_connections;            /* default 8 */
    uint64_t webhooks_per_endpoint;           /* default 4 */
    /* [delivery] the outbox (node/outbox.c) */
    uint64_t delivery_retry_base;             /* seconds, default 60 */
    uint64_t delivery_deadline;               /* seconds, default 3 days */
    uint64_t delivery_retention_days;         /* default 30 */
} ca_config;

/* Fills every key with its default. */
void ca_config_defaults(ca_config *cfg);

/* Defaults, then the file at path (NULL: none), then CREDANCHOR_* environment overrides, then
 * validation. Unknown sections or keys in the file are errors (a typo must not silently fall
 * back to a default). On error eb holds one line such as
 * "config: node.max_body: \"10x\" is not a whole number of bytes". */
ca_err ca_config_load(ca_config *cfg, const char *path, ca_errbuf *eb);

/* Sets one key from text with the same parsing and range checks (used for --data-dir and the
 * like). CA_ERR_CONFIG for an unknown key or a bad value. */
ca_err ca_config_set(ca_config *cfg, const char *section, const char *key, const char *value,
                     ca_errbuf *eb);

/* Cross-key checks run after every override (e.g. anchor.chain_id required with rpc_url). */
ca_err ca_config_validate(const ca_config *cfg, ca_errbuf *eb);

/* The passphrase file: node.key_passphrase_file, or "<node.data_dir>/passphrase" when that is
 * empty. Computed on demand, so a data dir set with ca_config_set after loading is followed.
 * Writes the path into buf and returns buf, or NULL (buf = "") when it does not fit in cap
 * bytes; cap >= CA_CONFIG_STR_MAX + 16 always suffices. */
const char *ca_config_passphrase_path(const ca_config *cfg, char *buf, size_t cap);

/* Writes "section.key = value" lines for every key to f (for `serve` start-up and benchmarks,
 * which print the config they ran with). */
void ca_config_print(const ca_config *cfg, void *file);

/* The HTTP worker threads node.threads asks for: 0 means four per core, at least 8, because
 * handlers block (appends wait for their commit's fsync, did:web fetches for the network) and
 * group commits batch only the requests that are waiting at once. */
unsigned ca_config_http_threads(const ca_config *cfg);

/* The path of node.public_url: "/base" for https://host/base (trailing slashes are dropped
 * when the config is set), "" when it has none. did:web puts the node's document at
 * <public_url>/did.json then, and the HTTP server takes requests with or without it. */
const char *ca_config_public_path(const ca_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
