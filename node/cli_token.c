/*
 * node/cli_token.c — `credanchor token create|list|revoke` and `credanchor audit verify|list`
 * (SPEC §3, §6). The help texts are in the verb table in node/cli.c.
 *
 * create and revoke open the store as a shared writer (CA_NODE_ADMIN_WRITE): they write only
 * the token and audit tables, so they skip the log's single-writer lock and work while the
 * node serves; LMDB serialises their transactions with the node's. A token revoked here is
 * refused by the running node on its next request. list and audit verify only read.
 */
#include "node/cli.h"

#include "node/auth.h"
#include "credanchor/credential.h"
#include "node/node.h"
#include "credanchor/json_fields.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- token create ---------------------------------------------------------------------------- */

static int token_create(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS,
                         {"role", true, NULL, false},
                         {"expires", true, NULL, false},
                         {"name", true, NULL, false},
                         OPTS_END};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;

    /* Check every input before the data dir is touched. */
    const char *role_s = ca_cli_value(opts, "role");
    ca_role role;
    if (!role_s)
        return ca_cli_usage_error("token", "create needs --role (admin, issuer, revoker or "
                                           "auditor)");
    if (ca_role_parse(&role, role_s))
        return ca_cli_usage_error("token", "unknown role \"%s\" (admin, issuer, revoker or "
                                           "auditor)", role_s);
    int64_t now = (int64_t)time(NULL), expires_at = 0;
    const char *exp_s = ca_cli_value(opts, "expires");
    if (exp_s) {
        int64_t secs;
        if (ca_duration_parse(&secs, exp_s) || secs > INT64_MAX - now)
            return ca_cli_usage_error("token", "--expires \"%s\" is not a positive duration "
                                               "(e.g. 90d, 12h, 30m, 45s or seconds)", exp_s);
        expires_at = now + secs;
    }
    const char *name = ca_cli_value(opts, "name");
    if (name && strlen(name) >= CA_TOKEN_NAME_MAX)
        return ca_cli_usage_error("token", "--name is longer than %d bytes",
                                  CA_TOKEN_NAME_MAX - 1);

    ca_node *node;
    if ((rc = ca_cli_open_node(&node, "token", opts, CA_NODE_ADMIN_WRITE)))
        return rc;
    ca_errbuf eb = {{0}};
    char token[CA_TOKEN_MAX];
    ca_token_info info;
    ca_err err = ca_token_create(node->store, token, &info, role, expires_at, name, &eb);
    char expires[32] = "never";
    if (!err) {
        if (info.expires_at)
            ca_datetime_format(expires, info.expires_at);
        char route[64], detail[64 + CA_TOKEN_NAME_MAX];
        snprintf(route, sizeof route, "tokens/%s", info.id);
        snprintf(detail, sizeof detail, "created: role %s, expires %s%s%s",
                 ca_role_name(info.role), expires, info.name[0] ? ", name " : "", info.name);
        ca_audit_event ev = {.method = "token create", .route = route, .status = CA_EXIT_OK,
                             .detail = detail};
        err = ca_audit_append(node->store, &ev, &eb);
        if (err) {
            /* Every token change is audited: a token whose creation is not on record is
             * withdrawn before anyone sees it. */
            ca_errbuf ignored;
            ca_token_revoke(node->store, info.id, &ignored);
        }
    }
    ca_node_close(node);
    if (err) {
        ca_wipe(token, sizeof token);
        return ca_cli_error("token", err, &eb);
    }
    /* SPEC §6: the token and nothing else on stdout; the rest goes to stderr. */
    int out_ok = puts(token) >= 0 && fflush(stdout) == 0;
    ca_wipe(token, sizeof token);
    if (!out_ok)
        return ca_cli_usage_error("token", "cannot write the token to stdout (token %s is "
                                           "unusable: revoke it)", info.id);
    fprintf(stderr, "credanchor token: created %s (role %s, expires %s); it is shown only "
                    "once\n", info.id, ca_role_name(info.role), expires);
    return CA_EXIT_OK;
}

/* ---- token list ------------------------------------------------------------------------------ */

static int token_list(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, {"json", false, NULL, false}, OPTS_END};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    ca_node *node;
    if ((rc = ca_cli_open_node(&node, "token", opts, CA_NODE_READ_ONLY)))
        return rc;
    ca_errbuf eb = {{0}};
    ca_token_info *list;
    size_t n;
    ca_err err = ca_token_list(node->store, &list, &n, &eb);
    ca_node_close(node);
    if (err)
        return ca_cli_error("token", err, &eb);
    int64_t now = (int64_t)time(NULL);
    if (ca_cli_flag(opts, "json")) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, ca_token_json(&list[i], now));
        json_t *o = json_pack("{s:o}", "tokens", arr);
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (!s) {
            free(list);
            return ca_cli_usage_error("token", "out of memory");
        }
        puts(s);
        free(s);
    } else if (n == 0) {
        puts("no tokens");
    } else {
        printf("%-16s  %-7s  %-7s  %-20s  %-20s  %s\n", "ID", "ROLE", "STATUS", "CREATED",
               "EXPIRES", "NAME");
        for (size_t i = 0; i < n; i++) {
            const ca_token_info *t = &list[i];
            char created[32], expires[32] = "never";
            ca_datetime_format(created, t->created_at);
            if (t->expires_at)
                ca_datetime_format(expires, t->expires_at);
            printf("%-16s  %-7s  %-7s  %-20s  %-20s  %s\n", t->id, ca_role_name(t->role),
                   ca_token_status(t, now), created, expires, t->name);
        }
    }
    free(list);
    return CA_EXIT_OK;
}

/* ---- token revoke ---------------------------------------------------------------------------- */

static int token_revoke(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, OPTS_END};
    const char *pos[2];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 2, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    if (npos != 2)
        return ca_cli_usage_error("token", "revoke needs one token ID; see --help");
    const char *id = pos[1];
    ca_node *node;
    if ((rc = ca_cli_open_node(&node, "token", opts, CA_NODE_ADMIN_WRITE)))
        return rc;
    ca_errbuf eb = {{0}};
    ca_err err = ca_token_revoke(node->store, id, &eb);
    if (!err) {
        char route[64];
        snprintf(route, sizeof route, "tokens/%s", id);
        ca_audit_event ev = {.method = "token revoke", .route = route, .status = CA_EXIT_OK,
                             .detail = "revoked"};
        err = ca_audit_append(node->store, &ev, &eb);
    }
    ca_node_close(node);
    if (err)
        return ca_cli_error("token", err, &eb);
    printf("revoked %s\n", id);
    return CA_EXIT_OK;
}

int ca_cli_token(int argc, char **argv)
{
    static const char *const valued[] = {"--config", "--data-dir", "--role", "--expires",
                                         "--name", "--since", "--until", "--token", NULL};
    const char *sub = ca_cli_find_subcommand(argc, argv, valued);
    if (sub && strcmp(sub, "create") == 0)
        return token_create(argc, argv);
    if (sub && strcmp(sub, "list") == 0)
        return token_list(argc, argv);
    if (sub && strcmp(sub, "revoke") == 0)
        return token_revoke(argc, argv);
    return ca_cli_no_subcommand(argc, argv, sub, "create, list or revoke");
}

/* ---- audit verify ---------------------------------------------------------------------------- */

static int audit_verify(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, {"json", false, NULL, false}, OPTS_END};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    ca_node *node;
    if ((rc = ca_cli_open_node(&node, "audit", opts, CA_NODE_READ_ONLY)))
        return rc;
    ca_errbuf eb = {{0}};
    uint64_t entries = 0;
    ca_err err = ca_audit_verify(node->store, &entries, &eb);
    ca_node_close(node);
    bool json = ca_cli_flag(opts, "json");
    if (err == CA_OK) {
        if (json)
            printf("{\"intact\":true,\"entries\":%llu}\n", (unsigned long long)entries);
        else
            printf("audit log intact: %llu entries\n", (unsigned long long)entries);
        return CA_EXIT_OK;
    }
    if (err == CA_ERR_VERIFY && json) {
        ca_cli_print_json(json_pack("{s:b, s:s}", "intact", 0, "error", ca_errmsg(&eb, err)));
    }
    return ca_cli_error("audit", err, &eb); /* CA_ERR_VERIFY: exit 1 */
}

/* ---- audit list ------------------------------------------------------------------------------ */

/* One entry as a line: seq, time, actor and role, method, route, status,
 * detail. Free text was made valid UTF-8 when written; control characters are shown as '?'. */
static void print_audit_line(const json_t *e)
{
    const char *detail = ca_json_str(e, "detail");
    char *clean = strdup(detail ? detail : "-");
    for (char *p = clean; p && *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = '?';
    const char *role = ca_json_str(e, "role");
    /* The actor: a token id, "cli", "user:<id>" for a person (issue #16), or "-" for a
     * failed sign-in by nobody known. */
    const char *token = ca_json_str(e, "tokenId"), *user = ca_json_str(e, "userId");
    char actor[40];
    snprintf(actor, sizeof actor, "%s%s", user ? "user:" : "", user ? user : token ? token : "-");
    printf("%lld %s %s %s %s %s %lld %s\n",
           (long long)json_integer_value(json_object_get(e, "seq")),
           ca_json_str(e, "time"), actor, role ? role : "-",
           ca_json_str(e, "method"),
           ca_json_str(e, "route"),
           (long long)json_integer_value(json_object_get(e, "status")), clean ? clean : "-");
    free(clean);
}

static int audit_list(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, {"json", false, NULL, false},
                         {"since", true, NULL, false}, {"until", true, NULL, false},
                         {"token", true, NULL, false}, OPTS_END};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    ca_audit_query q = {.limit = CA_AUDIT_LIST_MAX};
    const char *since = ca_cli_value(opts, "since"), *until = ca_cli_value(opts, "until");
    const char *tok = ca_cli_value(opts, "token");
    if (since && ca_date_bound_parse(&q.since, since, false))
        return ca_cli_usage_error("audit", "--since: a date (YYYY-MM-DD) or a dateTime");
    if (until && ca_date_bound_parse(&q.until, until, true))
        return ca_cli_usage_error("audit", "--until: a date (YYYY-MM-DD) or a dateTime");
    if (tok && strlen(tok) >= sizeof q.token_id)
        return ca_cli_usage_error("audit", "--token: a token id (16 hex digits) or \"cli\"");
    snprintf(q.token_id, sizeof q.token_id, "%s", tok ? tok : "");
    ca_node *node;
    if ((rc = ca_cli_open_node(&node, "audit", opts, CA_NODE_READ_ONLY)))
        return rc;
    bool json = ca_cli_flag(opts, "json"), first = true;
    ca_errbuf eb = {{0}};
    ca_err err = CA_OK;
    if (json)
        fputs("[", stdout);
    /* Page by page, so a long log prints in bounded memory. */
    do {
        json_t *page;
        uint64_t next;
        if ((err = ca_audit_list(node->store, &q, &page, &next, &eb)))
            break;
        size_t i;
        json_t *e;
        json_array_foreach(page, i, e) {
            if (!json) {
                print_audit_line(e);
                continue;
            }
            char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (s)
                printf("%s%s", first ? "" : ",\n", s);
            first = false;
            free(s);
        }
        json_decref(page);
        q.after = next;
    } while (q.after);
    ca_node_close(node);
    if (json)
        puts("]");
    return err ? ca_cli_error("audit", err, &eb) : CA_EXIT_OK;
}

int ca_cli_audit(int argc, char **argv)
{
    static const char *const valued[] = {"--config", "--data-dir", "--role", "--expires",
                                         "--name", "--since", "--until", "--token", NULL};
    const char *sub = ca_cli_find_subcommand(argc, argv, valued);
    if (sub && strcmp(sub, "verify") == 0)
        return audit_verify(argc, argv);
    if (sub && strcmp(sub, "list") == 0)
        return audit_list(argc, argv);
    return ca_cli_no_subcommand(argc, argv, sub, "verify or list");
}
