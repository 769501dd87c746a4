/* Unit tests for node/config.c (contract: node/config.h, SPEC §0, §7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/config.h"

#define SOURCE_DIR CA_TEST_VECTORS "/../.."

/* Every environment variable a test may set; cleared before and after each test. */
static const char *const env_vars[] = {
    "CREDANCHOR_NODE_LISTEN", "CREDANCHOR_NODE_MAX_BODY", "CREDANCHOR_ANCHOR_RPC_URL",
    "CREDANCHOR_ANCHOR_CHAIN_ID", "CREDANCHOR_CREDENTIALS_SUSPENSION",
    "CREDANCHOR_DID_WEB_ALLOW_HOSTS", "CREDANCHOR_NODE_DATA_DIR",
};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
        unsetenv(env_vars[i]);
}

static int setup(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clear_env();
    return 0;
}

/* Writes text to a new temporary file; path receives its name (caller unlinks). */
static void write_tmp(char path[64], const char *text)
{
    snprintf(path, 64, "/tmp/test_config_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

/* Loads text as a config file; returns the code, the message in eb. */
static ca_err load_text(ca_config *cfg, const char *text, ca_errbuf *eb, char path_out[64])
{
    char path[64];
    write_tmp(path, text);
    memset(eb, 0, sizeof *eb);
    ca_err err = ca_config_load(cfg, path, eb);
    if (path_out)
        memcpy(path_out, path, 64);
    unlink(path);
    if (err != CA_OK) {
        assert_non_null(eb->msg[0] ? eb->msg : NULL);
        assert_null(strchr(eb->msg, '\n'));
        assert_memory_equal(eb->msg, "config: ", 8);
    }
    return err;
}

static void expect_fail(const char *text, const char *needle)
{
    ca_config cfg;
    ca_errbuf eb;
    ca_err err = load_text(&cfg, text, &eb, NULL);
    if (err != CA_ERR_CONFIG || !strstr(eb.msg, needle))
        fail_msg("config:\n%s\nwant error containing [%s], got %d [%s]", text, needle, err,
                 eb.msg);
}

static void expect_ok(const char *text)
{
    ca_config cfg;
    ca_errbuf eb;
    ca_err err = load_text(&cfg, text, &eb, NULL);
    if (err != CA_OK)
        fail_msg("config:\n%s\nwant ok, got %d [%s]", text, err, eb.msg);
}

/* Sets one key on defaults and validates: the code, the message in eb. */
static ca_err set_and_validate(const char *section, const char *key, const char *value,
                               ca_errbuf *eb)
{
    ca_config cfg;
    ca_config_defaults(&cfg);
    memset(eb, 0, sizeof *eb);
    ca_err err = ca_config_set(&cfg, section, key, value, eb);
    if (err == CA_OK)
        err = ca_config_validate(&cfg, eb);
    if (err != CA_OK)
        assert_null(strchr(eb->msg, '\n'));
    return err;
}

static void expect_valid(const char *section, const char *key, const char *value)
{
    ca_errbuf eb;
    ca_err err = set_and_validate(section, key, value, &eb);
    if (err != CA_OK)
        fail_msg("%s.%s = [%s]: want ok, got %d [%s]", section, key, value, err, eb.msg);
}

static void expect_invalid(const char *section, const char *key, const char *value,
                           const char *needle)
{
    ca_errbuf eb;
    ca_err err = set_and_validate(section, key, value, &eb);
    if (err != CA_ERR_CONFIG || !strstr(eb.msg, needle))
        fail_msg("%s.%s = [%s]: want error containing [%s], got %d [%s]", section, key, value,
                 needle, err, eb.msg);
}

/* ---- defaults and shipped files ---- */

static void test_defaults(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb = { { 0 } };
    ca_config_defaults(&cfg);
    assert_string_equal(cfg.node_listen, "127.0.0.1:8080");
    assert_string_equal(cfg.node_data_dir, "./var");
    assert_string_equal(cfg.node_public_url, "http://localhost:8080");
    assert_string_equal(cfg.node_key_passphrase_file, "");
    assert_int_equal(cfg.node_max_body, 10485760);
    assert_int_equal(cfg.node_max_header, 16384);
    assert_int_equal(cfg.node_max_connections, 1024);
    assert_int_equal(cfg.node_max_connections_per_ip, 256);
    assert_int_equal(cfg.node_header_timeout, 30);
    assert_int_equal(cfg.node_body_timeout, 120);
    assert_int_equal(cfg.node_max_buffered_bodies, 268435456);
    assert_int_equal(cfg.node_connection_timeout, 30);
    assert_int_equal(cfg.node_threads, 0);
    assert_int_equal(cfg.node_rate_limit_per_ip, 0);
    assert_string_equal(cfg.node_tls_cert_file, "");
    assert_string_equal(cfg.node_tls_key_file, "");
    assert_true(cfg.store_max_map_size == 64ULL << 30);
    assert_int_equal(cfg.store_index_batch, 65536);
    assert_string_equal(cfg.log_origin, "");
    assert_string_equal(cfg.anchor_rpc_url, "");
    assert_int_equal(cfg.anchor_chain_id, 0);
    assert_int_equal(cfg.anchor_interval, 600);
    assert_int_equal(cfg.anchor_confirmations, 12);
    assert_string_equal(cfg.anchor_address, "");
    assert_int_equal(cfg.anchor_max_fee_gwei, 500);
    assert_int_equal(cfg.anchor_bump_after, 180);
    assert_int_equal(cfg.anchor_low_funds_anchors, 100);
    assert_int_equal(cfg.anchor_account_check_interval, 60);
    assert_string_equal(cfg.did_web_allow_hosts, "");
    assert_string_equal(cfg.did_web_ca_file, "");
    assert_int_equal(cfg.did_web_timeout, 10);
    assert_int_equal(cfg.did_cache_ttl, 3600);
    assert_false(cfg.credentials_suspension);
    assert_string_equal(cfg.credentials_issue_prefix, "CRED");
    assert_int_equal(cfg.credentials_status_ttl, 300);
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_OK);

    /* No file at all: the defaults. */
    ca_config loaded;
    assert_int_equal(ca_config_load(&loaded, NULL, &eb), CA_OK);
    assert_memory_equal(&loaded, &cfg, sizeof cfg);
}

static void test_example_config(void **state)
{
    (void)state;
    ca_config cfg, def;
    ca_errbuf eb = { { 0 } };
    ca_err err = ca_config_load(&cfg, SOURCE_DIR "/config/credanchor.conf.example", &eb);
    if (err != CA_OK)
        fail_msg("%s", eb.msg);
    /* The example lists every key at its default. */
    ca_config_defaults(&def);
    assert_memory_equal(&cfg, &def, sizeof cfg);
}

static void test_example_lists_every_key(void **state)
{
    (void)state;
    /* Every key ca_config_print knows appears as "key = " in the example. */
    ca_config cfg;
    ca_config_defaults(&cfg);
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    assert_non_null(f);
    ca_config_print(&cfg, f);
    fclose(f);

    FILE *ex = fopen(SOURCE_DIR "/config/credanchor.conf.example", "r");
    assert_non_null(ex);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, ex);
    text[n] = '\0';
    fclose(ex);

    int keys = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char section[64], key[64], want[160];
        assert_int_equal(sscanf(line, "%63[^.].%63s =", section, key), 2);
        snprintf(want, sizeof want, "\n%s =", key);
        if (!strstr(text, want))
            fail_msg("example config lacks %s.%s", section, key);
        keys++;
    }
    assert_int_equal(keys, 65);
    free(out);
}

static void test_dev_config(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb = { { 0 } };
    ca_err err = ca_config_load(&cfg, SOURCE_DIR "/config/dev.conf", &eb);
    if (err != CA_OK)
        fail_msg("%s", eb.msg);
    assert_string_equal(cfg.node_listen, "127.0.0.1:8080");
    assert_string_equal(cfg.node_data_dir, "./var");
    assert_string_equal(cfg.node_public_url, "http://localhost:8080");
    assert_string_equal(cfg.anchor_rpc_url, "http://127.0.0.1:8545");
    assert_int_equal(cfg.anchor_chain_id, 31337);
    assert_int_equal(cfg.anchor_interval, 30);
    assert_int_equal(cfg.anchor_confirmations, 1);
    assert_int_equal(cfg.node_rate_limit_per_ip, 0);
    assert_string_equal(cfg.credentials_issue_prefix, "BIZM");
}

/* ---- value types ---- */

static void test_uint(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    ca_config_defaults(&cfg);
    assert_int_equal(ca_config_set(&cfg, "anchor", "confirmations", "7", &eb), CA_OK);
    assert_int_equal(cfg.anchor_confirmations, 7);
    assert_int_equal(ca_config_set(&cfg, "anchor", "chain_id", "0031337", &eb), CA_OK);
    assert_int_equal(cfg.anchor_chain_id, 31337);
    assert_int_equal(ca_config_set(&cfg, "anchor", "chain_id", "9223372036854775771", &eb),
                     CA_OK);

    static const char *const bad[] = { "", "-1", "+1", "1.5", "0x10", " 1", "1 ", "12abc",
                                       "18446744073709551616", "99999999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&eb, 0, sizeof eb);
        if (ca_config_set(&cfg, "anchor", "confirmations", bad[i], &eb) != CA_ERR_CONFIG)
            fail_msg("confirmations [%s] accepted", bad[i]);
        assert_non_null(strstr(eb.msg, "anchor.confirmations"));
        assert_null(strchr(eb.msg, '\n'));
    }
    assert_int_equal(cfg.anchor_confirmations, 7); /* untouched by failures */

    assert_int_equal(ca_config_set(&cfg, "anchor", "confirmations", "0", &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "out of range"));
    assert_int_equal(ca_config_set(&cfg, "anchor", "chain_id", "9223372036854775772", &eb),
                     CA_ERR_CONFIG);
    assert_int_equal(ca_config_set(&cfg, "anchor", "confirmations", "x", &eb), CA_ERR_CONFIG);
    assert_string_equal(eb.msg,
                        "config: anchor.confirmations: \"x\" is not a whole decimal number");
}

static void test_size(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    ca_config_defaults(&cfg);
    static const struct { const char *text; uint64_t want; } good[] = {
        { "2048", 2048 }, { "1K", 1024 }, { "1k", 1024 }, { "10M", 10ULL << 20 },
        { "1G", 1ULL << 30 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(ca_config_set(&cfg, "node", "max_body", good[i].text, &eb), CA_OK);
        assert_true(cfg.node_max_body == good[i].want);
    }
    assert_int_equal(ca_config_set(&cfg, "store", "max_map_size", "2T", &eb), CA_OK);
    assert_true(cfg.store_max_map_size == 2ULL << 40);
    assert_int_equal(ca_config_set(&cfg, "store", "max_map_size", "1M", &eb), CA_OK);

    static const char *const bad[] = { "10x", "1KB", "1KiB", "K", "", "-1K", "1.5G", "1 K",
                                       "99999999999T" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ca_config_set(&cfg, "node", "max_body", bad[i], &eb) != CA_ERR_CONFIG)
            fail_msg("max_body [%s] accepted", bad[i]);
    ca_config_set(&cfg, "node", "max_body", "10x", &eb);
    assert_non_null(strstr(eb.msg, "config: node.max_body: \"10x\" is not a size in bytes"));

    /* Ranges: max_body 1K..1G, max_map_size >= 1M. */
    assert_int_equal(ca_config_set(&cfg, "node", "max_body", "1023", &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "out of range (1K to 1G)"));
    assert_int_equal(ca_config_set(&cfg, "node", "max_body", "1025M", &eb), CA_ERR_CONFIG);
    assert_int_equal(ca_config_set(&cfg, "store", "max_map_size", "1048575", &eb),
                     CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "store.max_map_size"));
}

static void test_duration(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    ca_config_defaults(&cfg);
    static const struct { const char *text; uint64_t want; } good[] = {
        { "0", 0 }, { "45", 45 }, { "30s", 30 }, { "15m", 900 }, { "2h", 7200 },
        { "90d", 90 * 86400ULL },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(ca_config_set(&cfg, "anchor", "interval", good[i].text, &eb), CA_OK);
        assert_true(cfg.anchor_interval == good[i].want);
    }
    static const char *const bad[] = { "1w", "1.5h", "m", "", "10 s", "-5", "10M", "366d" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ca_config_set(&cfg, "anchor", "interval", bad[i], &eb) != CA_ERR_CONFIG)
            fail_msg("interval [%s] accepted", bad[i]);
    ca_config_set(&cfg, "anchor", "interval", "1w", &eb);
    assert_non_null(strstr(eb.msg, "config: anchor.interval: \"1w\" is not a duration"));
}

static void test_bool(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    ca_config_defaults(&cfg);
    static const char *const t[] = { "true", "yes", "on", "1", "TRUE", "Yes" };
    static const char *const f[] = { "false", "no", "off", "0", "False", "OFF" };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        cfg.credentials_suspension = false;
        assert_int_equal(ca_config_set(&cfg, "credentials", "suspension", t[i], &eb), CA_OK);
        assert_true(cfg.credentials_suspension);
    }
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        cfg.credentials_suspension = true;
        assert_int_equal(ca_config_set(&cfg, "credentials", "suspension", f[i], &eb), CA_OK);
        assert_false(cfg.credentials_suspension);
    }
    static const char *const bad[] = { "maybe", "", "2", "y", "truee", " true" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ca_config_set(&cfg, "credentials", "suspension", bad[i], &eb) != CA_ERR_CONFIG)
            fail_msg("suspension [%s] accepted", bad[i]);
    ca_config_set(&cfg, "credentials", "suspension", "maybe", &eb);
    assert_non_null(strstr(eb.msg, "credentials.suspension: \"maybe\" is not a boolean"));
}

static void test_string(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    char big[CA_CONFIG_STR_MAX + 1];
    ca_config_defaults(&cfg);

    memset(big, 'a', CA_CONFIG_STR_MAX - 1);
    big[CA_CONFIG_STR_MAX - 1] = '\0';
    assert_int_equal(ca_config_set(&cfg, "did", "web_ca_file", big, &eb), CA_OK);
    assert_int_equal(strlen(cfg.did_web_ca_file), CA_CONFIG_STR_MAX - 1);

    big[CA_CONFIG_STR_MAX - 1] = 'a';
    big[CA_CONFIG_STR_MAX] = '\0';
    assert_int_equal(ca_config_set(&cfg, "did", "web_ca_file", big, &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "did.web_ca_file: value is longer than 1023 characters"));

    assert_int_equal(ca_config_set(&cfg, "node", "data_dir", "/tmp/a\nb", &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "control character"));
    assert_null(strchr(eb.msg, '\n'));
    assert_int_equal(ca_config_set(&cfg, "node", "data_dir", "/tmp/a\tb", &eb), CA_ERR_CONFIG);
    assert_int_equal(ca_config_set(&cfg, "node", "data_dir", "/srv/cr\xc3\xa9" "d", &eb), CA_OK);
    assert_int_equal(ca_config_set(&cfg, "node", "data_dir", "", &eb), CA_OK);
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "node.data_dir"));
}

/* ---- the file ---- */

static void test_file_values(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    assert_int_equal(load_text(&cfg,
                               "; comment\n"
                               "# another\n"
                               "[node]\n"
                               "listen = [::1]:9000\n"
                               "max_body = 64K\n"
                               "public_url = https://issuer.example.org/base/\n"
                               "\n"
                               "[anchor]\n"
                               "rpc_url = https://rpc.example.org/v3/key\n"
                               "chain_id = 1\n"
                               "interval = 1h\n"
                               "[credentials]\n"
                               "suspension = yes\n",
                               &eb, NULL),
                     CA_OK);
    assert_string_equal(cfg.node_listen, "[::1]:9000");
    assert_int_equal(cfg.node_max_body, 65536);
    assert_string_equal(cfg.node_public_url, "https://issuer.example.org/base");
    assert_string_equal(cfg.anchor_rpc_url, "https://rpc.example.org/v3/key");
    assert_int_equal(cfg.anchor_chain_id, 1);
    assert_int_equal(cfg.anchor_interval, 3600);
    assert_true(cfg.credentials_suspension);
    /* Untouched keys keep their defaults. */
    assert_string_equal(cfg.node_data_dir, "./var");
}

static void test_file_errors(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    char path[64], want[160];

    /* Unknown key: FILE:LINE and the key. */
    assert_int_equal(load_text(&cfg, "[node]\nlisten = 127.0.0.1:1\nlisen = x\n", &eb, path),
                     CA_ERR_CONFIG);
    snprintf(want, sizeof want, "config: %s:3: unknown key node.lisen", path);
    assert_string_equal(eb.msg, want);

    /* Unknown section. */
    assert_int_equal(load_text(&cfg, "\n[nod]\nlisten = x\n", &eb, path), CA_ERR_CONFIG);
    snprintf(want, sizeof want, "config: %s:3: unknown key nod.listen", path);
    assert_non_null(strstr(eb.msg, want));

    /* Bad value: FILE:LINE, key, value. */
    assert_int_equal(load_text(&cfg, "[node]\nmax_body = 10x\n", &eb, path), CA_ERR_CONFIG);
    snprintf(want, sizeof want, "config: %s:2: node.max_body: \"10x\" is not a size in bytes",
             path);
    assert_non_null(strstr(eb.msg, want));

    /* Syntax error: the line inih reports. */
    assert_int_equal(load_text(&cfg, "[node]\nlisten = 127.0.0.1:1\nthis is not ini\n", &eb, path),
                     CA_ERR_CONFIG);
    snprintf(want, sizeof want, "config: %s:3: syntax error", path);
    assert_non_null(strstr(eb.msg, want));
    assert_int_equal(load_text(&cfg, "[node\nlisten = x\n", &eb, path), CA_ERR_CONFIG);
    snprintf(want, sizeof want, "config: %s:1: syntax error", path);
    assert_non_null(strstr(eb.msg, want));

    /* The first error wins, syntax or value. */
    assert_int_equal(load_text(&cfg, "[node]\nmax_body = 1x\nbad line\n", &eb, path),
                     CA_ERR_CONFIG);
    snprintf(want, sizeof want, "config: %s:2: node.max_body", path);
    assert_non_null(strstr(eb.msg, want));

    expect_fail("listen = 127.0.0.1:1\n", "outside any [section]");
    expect_fail("[node]\nlisten = 127.0.0.1:1\nlisten = 127.0.0.1:2\n",
                ":3: node.listen is already set on line 2");
    /* An indented line continues the previous value in inih: refused, not glued. */
    expect_fail("[node]\ndata_dir = /a\n  /b\n", "node.data_dir is already set");

    /* A line longer than inih's buffer is an error, not two lines. */
    char longline[400];
    snprintf(longline, sizeof longline, "[node]\ndata_dir = /%0300d\n", 0);
    expect_fail(longline, ":2: line is longer than");

    /* Values are case-sensitive keys; sections too. */
    expect_fail("[NODE]\nlisten = 127.0.0.1:1\n", "unknown key NODE.listen");
    /* Control characters in a name stay escaped on one line. */
    expect_fail("[node]\nli\rsten = 1\n", "unknown key node.li\\x0dsten");

    /* Windows line ends and a final line without a newline are fine. */
    expect_ok("[node]\r\nlisten = 127.0.0.1:9\r\n[anchor]\r\ninterval = 5");
    expect_ok("");
}

static void test_missing_file(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb = { { 0 } };
    assert_int_equal(ca_config_load(&cfg, "/nonexistent/credanchor.conf", &eb), CA_ERR_CONFIG);
    assert_string_equal(eb.msg,
                        "config: cannot read /nonexistent/credanchor.conf: "
                        "No such file or directory");
    assert_int_equal(ca_config_load(&cfg, "/tmp", &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "config: cannot read /tmp: Is a directory"));
}

/* ---- environment ---- */

static void test_env_override(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    const char *file = "[node]\nlisten = 127.0.0.1:1111\nmax_body = 2M\n"
                       "[anchor]\nrpc_url = http://127.0.0.1:8545\nchain_id = 5\n";

    setenv("CREDANCHOR_NODE_LISTEN", "0.0.0.0:2222", 1);
    setenv("CREDANCHOR_ANCHOR_CHAIN_ID", "31337", 1);
    setenv("CREDANCHOR_CREDENTIALS_SUSPENSION", "on", 1);
    setenv("CREDANCHOR_DID_WEB_ALLOW_HOSTS", "localhost:8443,did.test", 1);
    assert_int_equal(load_text(&cfg, file, &eb, NULL), CA_OK);
    assert_string_equal(cfg.node_listen, "0.0.0.0:2222");     /* env beats file */
    assert_int_equal(cfg.node_max_body, 2 << 20);              /* file beats default */
    assert_int_equal(cfg.anchor_chain_id, 31337);
    assert_true(cfg.credentials_suspension);
    assert_string_equal(cfg.did_web_allow_hosts, "localhost:8443,did.test");

    /* Without a file too. */
    assert_int_equal(ca_config_load(&cfg, NULL, &eb), CA_OK);
    assert_string_equal(cfg.node_listen, "0.0.0.0:2222");

    /* An empty variable sets an empty string: here it turns anchoring off. */
    setenv("CREDANCHOR_ANCHOR_RPC_URL", "", 1);
    assert_int_equal(load_text(&cfg, file, &eb, NULL), CA_OK);
    assert_string_equal(cfg.anchor_rpc_url, "");
}

static void test_env_bad_value(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    setenv("CREDANCHOR_NODE_MAX_BODY", "lots", 1);
    assert_int_equal(load_text(&cfg, "[node]\nmax_body = 1M\n", &eb, NULL), CA_ERR_CONFIG);
    assert_string_equal(eb.msg, "config: CREDANCHOR_NODE_MAX_BODY (node.max_body): \"lots\" is "
                                "not a size in bytes (a whole number, optionally followed by K, "
                                "M, G or T)");
    unsetenv("CREDANCHOR_NODE_MAX_BODY");

    setenv("CREDANCHOR_NODE_LISTEN", "0.0.0.0:1\n", 1);
    assert_int_equal(ca_config_load(&cfg, NULL, &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "CREDANCHOR_NODE_LISTEN (node.listen)"));
    assert_null(strchr(eb.msg, '\n'));

    /* Validation still runs after the environment. */
    setenv("CREDANCHOR_NODE_LISTEN", "0.0.0.0", 1);
    assert_int_equal(ca_config_load(&cfg, NULL, &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "node.listen"));
}

/* ---- validation rules ---- */

static void test_validate_listen(void **state)
{
    (void)state;
    expect_valid("node", "listen", "127.0.0.1:8080");
    expect_valid("node", "listen", "0.0.0.0:1");
    expect_valid("node", "listen", "localhost:65535");
    expect_valid("node", "listen", "[::1]:8080");
    expect_valid("node", "listen", "[::]:443");
    expect_invalid("node", "listen", "127.0.0.1", "a port is required");
    expect_invalid("node", "listen", "127.0.0.1:0", "port");
    expect_invalid("node", "listen", "127.0.0.1:65536", "port");
    expect_invalid("node", "listen", "127.0.0.1:80a", "port");
    expect_invalid("node", "listen", ":8080", "host is empty");
    expect_invalid("node", "listen", "::1:8080", "brackets");
    expect_invalid("node", "listen", "[::1:8080", "]");
    expect_invalid("node", "listen", "[zz::1]:8080", "not an IPv6 address");
    expect_invalid("node", "listen", "[::1]8080", "after ']'");
    expect_invalid("node", "listen", "300.0.0.1:80", "IPv4");
    expect_invalid("node", "listen", "http://x:80", "node.listen");
    expect_invalid("node", "listen", "", "node.listen");
}

static void test_validate_public_url(void **state)
{
    (void)state;
    expect_valid("node", "public_url", "http://localhost:8080");
    expect_valid("node", "public_url", "https://issuer.example.org");
    expect_valid("node", "public_url", "https://issuer.example.org:8443/credanchor");
    expect_valid("node", "public_url", "HTTPS://Issuer.Example.org");
    expect_invalid("node", "public_url", "http://127.0.0.1:8080", "DNS name, not an IP");
    expect_invalid("node", "public_url", "http://[::1]:8080", "DNS name, not an IP");
    expect_invalid("node", "public_url", "http://127.1", "DNS name, not an IP");
    expect_invalid("node", "public_url", "http://0x7f.1", "DNS name, not an IP");
    expect_invalid("node", "public_url", "ftp://example.org", "http:// or https://");
    expect_invalid("node", "public_url", "example.org", "http:// or https://");
    expect_invalid("node", "public_url", "https://example.org/?a=b", "query or fragment");
    expect_invalid("node", "public_url", "https://example.org#x", "query or fragment");
    expect_invalid("node", "public_url", "https://user@example.org", "user information");
    expect_invalid("node", "public_url", "https://example.org:0", "port");
    expect_invalid("node", "public_url", "https://", "host is empty");
    expect_invalid("node", "public_url", "https://exa_mple.org", "host name");
    expect_invalid("node", "public_url", "https://-example.org", "host name");
    /* An IDN host: refused, naming the A-label form to write instead (issue #12). */
    expect_invalid("node", "public_url", "https://b\xc3\xbc" "cher.example/base",
                   "write its A-label form: https://xn--bcher-kva.example/base");
    expect_invalid("node", "public_url", "https://a\xe2\x98\x83.example", "internationalized");

    /* Trailing slashes are dropped so paths can be appended. */
    ca_config cfg;
    ca_errbuf eb;
    ca_config_defaults(&cfg);
    assert_int_equal(ca_config_set(&cfg, "node", "public_url", "https://a.example//", &eb), CA_OK);
    assert_string_equal(cfg.node_public_url, "https://a.example");
}

static void test_validate_anchor(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;

    /* chain_id is required with rpc_url. */
    expect_invalid("anchor", "rpc_url", "http://127.0.0.1:8545",
                   "anchor.chain_id: must be set (> 0) when anchor.rpc_url is set");
    ca_config_defaults(&cfg);
    assert_int_equal(ca_config_set(&cfg, "anchor", "rpc_url", "http://127.0.0.1:8545", &eb),
                     CA_OK);
    assert_int_equal(ca_config_set(&cfg, "anchor", "chain_id", "31337", &eb), CA_OK);
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_OK);
    assert_int_equal(ca_config_set(&cfg, "anchor", "rpc_url", "https://mainnet.example/v3/k?x=1",
                                   &eb), CA_OK);
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_OK);
    assert_int_equal(ca_config_set(&cfg, "anchor", "rpc_url", "ws://127.0.0.1:8545", &eb), CA_OK);
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "anchor.rpc_url: \"ws://127.0.0.1:8545\": must start with"));
    assert_int_equal(ca_config_set(&cfg, "anchor", "rpc_url", "127.0.0.1:8545", &eb), CA_OK);
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_ERR_CONFIG);

    /* address: empty or 0x + 40 hex. */
    expect_valid("anchor", "address", "");
    expect_valid("anchor", "address", "0x00000000000000000000000000000000000000aa");
    expect_valid("anchor", "address", "0x52908400098527886E0F7030069857D2E4169EE7");
    expect_invalid("anchor", "address", "0x0000000000000000000000000000000000000a",
                   "0x followed by 40 hex digits");
    expect_invalid("anchor", "address", "0x00000000000000000000000000000000000000aaa", "40 hex");
    expect_invalid("anchor", "address", "0x00000000000000000000000000000000000000ag", "40 hex");
    expect_invalid("anchor", "address", "0000000000000000000000000000000000000000aa", "40 hex");
    expect_invalid("anchor", "address", "0X00000000000000000000000000000000000000aa", "40 hex");
}

/* [mail] (issue #18): smtp:// only (STARTTLS on it), a From with it, AUTH with its file, the
 * language list; each a one-line error naming the key. */
static void test_validate_mail(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    expect_invalid("mail", "smtp_url", "smtps://mail.example:465", "must be smtp://host[:port]");
    expect_invalid("mail", "smtp_url", "mail.example:25", "must be smtp://host[:port]");
    expect_invalid("mail", "smtp_url", "smtp://mail.example:587",
                   "mail.from: \"\": is required with mail.smtp_url");
    expect_invalid("mail", "languages", "ja", "must be ko, en, ko,en or en,ko");
    expect_valid("mail", "languages", "en,ko");
    ca_config_defaults(&cfg);
    assert_int_equal(ca_config_set(&cfg, "mail", "smtp_url", "smtp://mail.example:587", &eb),
                     CA_OK);
    assert_int_equal(ca_config_set(&cfg, "mail", "from", "Training <t@bizm.example>", &eb),
                     CA_OK);
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_OK);
    assert_int_equal(ca_config_set(&cfg, "mail", "username", "credanchor", &eb), CA_OK);
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "mail.password_file"));
    assert_null(strchr(eb.msg, '\n'));
}

static void test_validate_other(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;

    /* TLS: both or neither. */
    expect_invalid("node", "tls_cert_file", "/etc/cert.pem", "both be set or both be empty");
    expect_invalid("node", "tls_key_file", "/etc/key.pem", "both be set or both be empty");
    ca_config_defaults(&cfg);
    assert_int_equal(ca_config_set(&cfg, "node", "tls_cert_file", "/c.pem", &eb), CA_OK);
    assert_int_equal(ca_config_set(&cfg, "node", "tls_key_file", "/k.pem", &eb), CA_OK);
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_OK);

    /* did.web_allow_hosts. */
    expect_valid("did", "web_allow_hosts", "localhost");
    expect_valid("did", "web_allow_hosts", "localhost:8443, did.test ,127.0.0.1:9000,[::1]:443");
    expect_invalid("did", "web_allow_hosts", "https://localhost:8443", "without a scheme");
    expect_invalid("did", "web_allow_hosts", "localhost/x", "without a path");
    expect_invalid("did", "web_allow_hosts", "a.test,,b.test", "empty entry");
    expect_invalid("did", "web_allow_hosts", "a.test,", "empty entry");
    expect_invalid("did", "web_allow_hosts", "a.test:99999", "port");
    expect_invalid("did", "web_allow_hosts", "a_b.test", "did.web_allow_hosts");

    /* Sizes enforced by validate as well as by parsing. */
    ca_config_defaults(&cfg);
    cfg.node_max_body = 1023;
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "node.max_body: 1023 is out of range (1K to 1G)"));
    cfg.node_max_body = (1ULL << 30) + 1;
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_ERR_CONFIG);
    cfg.node_max_body = 1ULL << 30;
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_OK);
    cfg.store_max_map_size = (1ULL << 20) - 1;
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "store.max_map_size"));
    cfg.store_max_map_size = 1ULL << 20;
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_OK);

    /* A string field without a terminator (filled by hand). */
    memset(cfg.did_web_ca_file, 'a', sizeof cfg.did_web_ca_file);
    assert_int_equal(ca_config_validate(&cfg, &eb), CA_ERR_CONFIG);
    assert_non_null(strstr(eb.msg, "did.web_ca_file"));

    /* log.origin and credentials.issue_prefix. */
    expect_valid("log", "origin", "issuer.example.org/credanchor");
    expect_invalid("log", "origin", "a b", "log.origin");
    expect_invalid("log", "origin", "a+b", "log.origin");
    expect_valid("credentials", "issue_prefix", "BIZM");
    expect_valid("credentials", "issue_prefix", "Acme_2");
    expect_invalid("credentials", "issue_prefix", "", "credentials.issue_prefix");
    expect_invalid("credentials", "issue_prefix", "A-B", "credentials.issue_prefix");
    expect_invalid("credentials", "issue_prefix", "ABCDEFGHIJKLMNOPQ", "1 to 16");
}

/* ---- set, print, passphrase path ---- */

static void test_set(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    ca_config_defaults(&cfg);
    assert_int_equal(ca_config_set(&cfg, "node", "data_dir", "/srv/credanchor", &eb), CA_OK);
    assert_string_equal(cfg.node_data_dir, "/srv/credanchor");
    assert_int_equal(ca_config_set(&cfg, "node", "nope", "1", &eb), CA_ERR_CONFIG);
    assert_string_equal(eb.msg, "config: unknown key node.nope");
    assert_int_equal(ca_config_set(&cfg, "nope", "listen", "1", &eb), CA_ERR_CONFIG);
    assert_string_equal(eb.msg, "config: unknown key nope.listen");
    /* NULL eb is allowed. */
    assert_int_equal(ca_config_set(&cfg, "node", "threads", "x", NULL), CA_ERR_CONFIG);
    assert_int_equal(cfg.node_threads, 0);
}

static void test_print(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    ca_config_defaults(&cfg);
    assert_int_equal(ca_config_set(&cfg, "credentials", "suspension", "on", &eb), CA_OK);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    ca_config_print(&cfg, f);
    fclose(f);
    assert_non_null(strstr(out, "node.listen = 127.0.0.1:8080\n"));
    assert_non_null(strstr(out, "node.max_body = 10485760\n"));
    assert_non_null(strstr(out, "store.max_map_size = 68719476736\n"));
    assert_non_null(strstr(out, "anchor.rpc_url = \n"));
    assert_non_null(strstr(out, "credentials.suspension = true\n"));
    assert_non_null(strstr(out, "credentials.status_ttl = 300\n"));
    assert_int_equal(out[len - 1], '\n');

    /* What print writes reads back (as "section.key = value" via ca_config_set). */
    ca_config back;
    ca_config_defaults(&back);
    back.credentials_suspension = false;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *dot = strchr(line, '.'), *eq = strstr(line, " = ");
        assert_non_null(dot);
        assert_non_null(eq);
        *dot = '\0';
        *eq = '\0';
        assert_int_equal(ca_config_set(&back, line, dot + 1, eq + 3, &eb), CA_OK);
    }
    assert_memory_equal(&back, &cfg, sizeof cfg);
    free(out);
}

static void test_passphrase_path(void **state)
{
    (void)state;
    ca_config cfg;
    ca_errbuf eb;
    char buf[CA_CONFIG_STR_MAX + 16];
    ca_config_defaults(&cfg);
    assert_string_equal(ca_config_passphrase_path(&cfg, buf, sizeof buf), "./var/passphrase");
    /* A data dir set after loading (the CLI's --data-dir) is followed. */
    assert_int_equal(ca_config_set(&cfg, "node", "data_dir", "/srv/ca/", &eb), CA_OK);
    assert_string_equal(ca_config_passphrase_path(&cfg, buf, sizeof buf), "/srv/ca/passphrase");
    assert_null(ca_config_passphrase_path(&cfg, buf, 8));
    assert_string_equal(buf, "");
    assert_int_equal(ca_config_set(&cfg, "node", "key_passphrase_file", "/etc/ca/pass", &eb),
                     CA_OK);
    assert_string_equal(ca_config_passphrase_path(&cfg, buf, sizeof buf), "/etc/ca/pass");

    /* The longest data dir still fits the documented buffer size. */
    memset(cfg.node_data_dir, 'd', CA_CONFIG_STR_MAX - 1);
    cfg.node_data_dir[CA_CONFIG_STR_MAX - 1] = '\0';
    cfg.node_key_passphrase_file[0] = '\0';
    assert_non_null(ca_config_passphrase_path(&cfg, buf, sizeof buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_example_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_example_lists_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dev_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_bad_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_listen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_public_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_mail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_other, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passphrase_path, setup, teardown),
    };
    return ca_run_tests("config", tests, NULL, NULL);
}
