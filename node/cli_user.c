/*
 * node/cli_user.c — `credanchor user invite|list|disable|enable|roles` (issue #16, "People,
 * not shared tokens"): the people who sign in with passkeys, on the storage layer of
 * node/users.h. The help text is in the verb table in node/cli.c.
 *
 * The writes open the store as a shared writer (CA_NODE_ADMIN_WRITE), as `token create` does:
 * they touch only the user, invite, session and audit tables, so they work while the node
 * serves, which sees the change on its next request. They also load the data key
 * (CA_NODE_DATA_KEY): an invite seals the name and email under it, and the first invite
 * creates it. list only reads; a data dir without a data key has no users yet.
 *
 * Each write appends an audit entry (actor "cli", route "users/<id>"). Its detail never holds
 * an email, a name or an invite secret: those are contact data and a credential (issue #16
 * "Audit"). The invite secret goes to stdout once, inside the enrollment URL, and is wiped.
 */
#include "node/cli.h"

#include "node/auth.h"
#include "node/data_key.h"
#include "credanchor/credential.h"
#include "node/node.h"
#include "node/users.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROLE_CHOICES "admin, issuer, revoker or auditor"
#define DEFAULT_REASON "disabled by cli"

/* Adds the roles of one --role value, a role name or a comma list ("admin,issuer"). */
static int add_roles(unsigned *roles, const char *value)
{
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char name[16];
        ca_role role;
        if (len >= sizeof name)
            len = sizeof name - 1; /* too long for a role: refused below */
        memcpy(name, p, len);
        name[len] = 0;
        if (ca_role_parse(&role, name))
            return ca_cli_usage_error("user", "unknown role \"%s\" (%s)", value, ROLE_CHOICES);
        *roles |= 1u << role;
        if (!comma)
            return CA_EXIT_OK;
        p = comma + 1;
    }
}

/* Every --role of argv (ca_cli_parse keeps only the last value of an option, and a person may
 * hold several roles). Call it after ca_cli_parse accepted argv against opts, so the walk
 * below sees well-formed options. CA_EXIT_USAGE after one error line when there is none or
 * one is unknown. */
static int collect_roles(int argc, char **argv, const ca_cli_opt *opts, unsigned *roles,
                         const char *sub)
{
    *roles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strncmp(a, "--", 2) != 0)
            continue;
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const ca_cli_opt *o = opts;
        while (o->name && !(strlen(o->name) == len && !strncmp(o->name, name, len)))
            o++;
        if (!o->name || !o->has_value)
            continue;
        const char *value = eq ? eq + 1 : argv[++i];
        int rc;
        if (strcmp(o->name, "role") == 0 && (rc = add_roles(roles, value)))
            return rc;
    }
    if (!*roles)
        return ca_cli_usage_error("user", "%s needs --role (%s; several allowed)", sub,
                                  ROLE_CHOICES);
    return CA_EXIT_OK;
}

/* Appends the CLI's audit entry for a change to user id. */
static ca_err audit_user(ca_node *node, const char *method, const char *id, const char *detail,
                         ca_errbuf *eb)
{
    char route[32];
    snprintf(route, sizeof route, "users/%s", id);
    ca_audit_event ev = {.method = method, .route = route, .status = CA_EXIT_OK,
                         .detail = detail};
    return ca_audit_append(node->store, &ev, eb);
}


/* ---- user invite ----------------------------------------------------------------------------- */

/* Prints <public_url>/admin/enroll#<secret>, the one line on stdout. */
static bool print_enroll_url(const char *public_url, const char *secret)
{
    size_t len = strlen(public_url);
    while (len > 0 && public_url[len - 1] == '/')
        len--;
    return printf("%.*s/admin/enroll#%s\n", (int)len, public_url, secret) > 0 &&
           fflush(stdout) == 0;
}

/* The default display name: the part of the email before '@' (the whole text without one;
 * ca_user_invite then refuses the email). */
static void default_name(char out[CA_USER_NAME_MAX], const char *email)
{
    const char *at = strchr(email, '@');
    size_t len = at ? (size_t)(at - email) : strlen(email);
    if (len >= CA_USER_NAME_MAX)
        len = CA_USER_NAME_MAX - 1;
    memcpy(out, email, len);
    out[len] = 0;
}

static int user_invite(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS,
                         {"email", true, NULL, false},
                         {"role", true, NULL, false},
                         {"name", true, NULL, false},
                         {"ttl", true, NULL, false},
                         OPTS_END};
    const char *pos[1];
    unsigned roles;
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;

    /* Check every input the store does not check before the data dir is touched. */
    const char *email = ca_cli_value(opts, "email"), *ttl_s = ca_cli_value(opts, "ttl");
    if (!email)
        return ca_cli_usage_error("user", "invite needs --email ADDRESS");
    if ((rc = collect_roles(argc, argv, opts, &roles, "invite")))
        return rc;
    int64_t ttl = 0;
    if (ttl_s && (ca_duration_parse(&ttl, ttl_s) || ttl < CA_INVITE_TTL_MIN ||
                  ttl > CA_INVITE_TTL_MAX))
        return ca_cli_usage_error("user", "--ttl \"%s\" is not a duration from 60 s to 7d "
                                          "(e.g. 30m, 12h, 7d or seconds)", ttl_s);
    char name[CA_USER_NAME_MAX];
    const char *name_s = ca_cli_value(opts, "name");
    if (!name_s)
        default_name(name, email);

    ca_node *node;
    if ((rc = ca_cli_open_node(&node, "user", opts, CA_NODE_ADMIN_WRITE | CA_NODE_DATA_KEY)))
        return rc;
    if (!ttl_s)
        ttl = (int64_t)node->cfg.auth_invite_ttl;
    ca_errbuf eb = {{0}};
    ca_user info;
    char secret[CA_INVITE_SECRET_MAX], detail[160], roles_text[64] = "", expires[32] = "";
    char id[CA_USER_ID_MAX] = "";
    int64_t now = (int64_t)time(NULL);
    ca_err err = ca_user_invite(node->store, node->data_key, &info, secret, email,
                                name_s ? name_s : name, roles, ttl, now, &eb);
    if (!err) {
        snprintf(id, sizeof id, "%s", info.id);
        ca_roles_text(roles_text, sizeof roles_text, info.roles, ",");
        ca_datetime_format(expires, now + ttl);
        snprintf(detail, sizeof detail, "invited: roles %s, expires %s", roles_text, expires);
        /* Every invite is audited: one not on record is never shown, so its secret (stored
         * only as a hash) is of no use to anyone. */
        err = audit_user(node, "user invite", id, detail, &eb);
    }
    bool out_ok = !err && print_enroll_url(node->cfg.node_public_url, secret);
    ca_wipe(secret, sizeof secret);
    ca_wipe(&info, sizeof info);
    ca_node_close(node);
    if (err)
        return ca_cli_error("user", err, &eb);
    if (!out_ok)
        return ca_cli_usage_error("user", "cannot write the enrollment URL to stdout (invite "
                                          "again for a new one)");
    fprintf(stderr, "credanchor user: invited %s (roles %s); the link works once, until %s\n",
            id, roles_text, expires);
    return CA_EXIT_OK;
}

/* ---- user list ------------------------------------------------------------------------------- */

static int print_users_json(const ca_user *list, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *u = ca_user_json(&list[i]);
        if (!u || json_array_append_new(arr, u)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    json_t *o = arr ? json_pack("{s:o}", "users", arr) : NULL;
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        return ca_cli_usage_error("user", "out of memory");
    puts(s);
    ca_wipe(s, strlen(s)); /* contact data */
    free(s);
    return CA_EXIT_OK;
}

static void print_users_table(const ca_user *list, size_t n)
{
    if (n == 0) {
        puts("no users");
        return;
    }
    int we = (int)strlen("EMAIL"), wn = (int)strlen("NAME");
    for (size_t i = 0; i < n; i++) {
        if ((int)strlen(list[i].email) > we)
            we = (int)strlen(list[i].email);
        if ((int)strlen(list[i].name) > wn)
            wn = (int)strlen(list[i].name);
    }
    printf("%-16s  %-8s  %-28s  %-*s  %-*s  %s\n", "ID", "STATE", "ROLES", we, "EMAIL", wn,
           "NAME", "LAST SIGN-IN");
    for (size_t i = 0; i < n; i++) {
        const ca_user *u = &list[i];
        char roles[64], seen[32] = "never";
        ca_roles_text(roles, sizeof roles, u->roles, ",");
        if (u->last_sign_in_at)
            ca_datetime_format(seen, u->last_sign_in_at);
        printf("%-16s  %-8s  %-28s  %-*s  %-*s  %s\n", u->id, ca_user_state_name(u->state),
               roles, we, u->email, wn, u->name, seen);
    }
}

/* Lists the users with names and emails in clear. A data dir without a data key yet has no
 * users (the first invite creates the key), so the store is read without the key first and
 * the key is loaded only when there is someone to show. */
static ca_err list_users(ca_node **node, const ca_cli_opt *opts, ca_user **list, size_t *n,
                         int *rc, ca_errbuf *eb)
{
    *list = NULL;
    *n = 0;
    if ((*rc = ca_cli_open_node(node, "user", opts, CA_NODE_READ_ONLY)))
        return CA_OK;
    ca_err err = ca_user_list((*node)->store, NULL, list, n, eb);
    if (err || *n == 0)
        return err;
    free(*list);
    *list = NULL;
    *n = 0;
    ca_node_close(*node);
    if ((*rc = ca_cli_open_node(node, "user", opts, CA_NODE_READ_ONLY | CA_NODE_DATA_KEY)))
        return CA_OK;
    return ca_user_list((*node)->store, (*node)->data_key, list, n, eb);
}

static int user_list(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, {"json", false, NULL, false}, OPTS_END};
    const char *pos[1];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 1, &npos);
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    ca_node *node = NULL;
    ca_errbuf eb = {{0}};
    ca_user *list;
    size_t n;
    ca_err err = list_users(&node, opts, &list, &n, &rc, &eb);
    ca_node_close(node);
    if (rc)
        return rc;
    if (err)
        return ca_cli_error("user", err, &eb);
    if (ca_cli_flag(opts, "json"))
        rc = print_users_json(list, n);
    else
        print_users_table(list, n);
    if (list)
        ca_wipe(list, n * sizeof *list);
    free(list);
    return rc;
}

/* ---- user disable, enable, roles ------------------------------------------------------------- */

/* The shared start of the subcommands on one user: parses `user SUB ID [options]`; *id gets
 * ID. Returns as ca_cli_parse does, or CA_EXIT_USAGE without exactly one ID. */
static int parse_user_args(const char **id, int argc, char **argv, ca_cli_opt *opts,
                           const char *sub)
{
    const char *pos[2];
    int npos, rc = ca_cli_parse(argc, argv, opts, pos, 2, &npos);
    if (rc)
        return rc;
    if (npos != 2)
        return ca_cli_usage_error("user", "%s needs one user ID (see user list)", sub);
    *id = pos[1];
    return CA_EXIT_OK;
}

static int user_disable(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, {"reason", true, NULL, false}, OPTS_END};
    ca_node *node;
    const char *id = NULL;
    int rc = parse_user_args(&id, argc, argv, opts, "disable");
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    const char *reason = ca_cli_value(opts, "reason");
    if (!reason)
        reason = DEFAULT_REASON;
    if ((rc = ca_cli_open_node(&node, "user", opts, CA_NODE_ADMIN_WRITE)))
        return rc;
    ca_errbuf eb = {{0}};
    ca_user u;
    /* Disabling twice keeps the first reason: report the one that holds. */
    ca_err err = ca_user_disable(node->store, id, reason, (int64_t)time(NULL), &eb);
    if (!err)
        err = ca_user_get(node->store, NULL, &u, id, &eb);
    if (!err) {
        char detail[CA_USER_REASON_MAX + 16];
        snprintf(detail, sizeof detail, "disabled: %s", u.disabled_reason);
        err = audit_user(node, "user disable", id, detail, &eb);
    }
    ca_node_close(node);
    if (err)
        return ca_cli_error("user", err, &eb);
    printf("disabled %s (%s); their sessions are revoked\n", id, u.disabled_reason);
    return CA_EXIT_OK;
}

static int user_enable(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, OPTS_END};
    ca_node *node;
    const char *id = NULL;
    int rc = parse_user_args(&id, argc, argv, opts, "enable");
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    if ((rc = ca_cli_open_node(&node, "user", opts, CA_NODE_ADMIN_WRITE)))
        return rc;
    ca_errbuf eb = {{0}};
    ca_user u;
    ca_err err = ca_user_enable(node->store, id, (int64_t)time(NULL), &eb);
    if (!err)
        err = ca_user_get(node->store, NULL, &u, id, &eb);
    char detail[32];
    if (!err) {
        snprintf(detail, sizeof detail, "enabled: %s", ca_user_state_name(u.state));
        err = audit_user(node, "user enable", id, detail, &eb);
    }
    ca_node_close(node);
    if (err)
        return ca_cli_error("user", err, &eb);
    printf("enabled %s: %s%s\n", id, ca_user_state_name(u.state),
           u.state == CA_USER_INVITED ? " (never enrolled: invite them again)" : "");
    return CA_EXIT_OK;
}

static int user_roles(int argc, char **argv)
{
    ca_cli_opt opts[] = {CLI_NODE_OPTS, {"role", true, NULL, false}, OPTS_END};
    ca_node *node;
    const char *id = NULL;
    unsigned roles;
    int rc = parse_user_args(&id, argc, argv, opts, "roles");
    if (rc)
        return rc == CA_CLI_HELP ? CA_EXIT_OK : rc;
    if ((rc = collect_roles(argc, argv, opts, &roles, "roles")))
        return rc;
    if ((rc = ca_cli_open_node(&node, "user", opts, CA_NODE_ADMIN_WRITE)))
        return rc;
    ca_errbuf eb = {{0}};
    char text[64], detail[80];
    ca_roles_text(text, sizeof text, roles, ",");
    ca_err err = ca_user_set_roles(node->store, id, roles, (int64_t)time(NULL), &eb);
    if (!err) {
        snprintf(detail, sizeof detail, "roles %s", text);
        err = audit_user(node, "user roles", id, detail, &eb);
    }
    ca_node_close(node);
    if (err)
        return ca_cli_error("user", err, &eb);
    printf("roles of %s: %s\n", id, text);
    return CA_EXIT_OK;
}

int ca_cli_user(int argc, char **argv)
{
    static const char *const valued[] = {"--config", "--data-dir", "--role", "--email",
                                         "--name", "--ttl", "--reason", NULL};
    const char *sub = ca_cli_find_subcommand(argc, argv, valued);
    if (sub && strcmp(sub, "invite") == 0)
        return user_invite(argc, argv);
    if (sub && strcmp(sub, "list") == 0)
        return user_list(argc, argv);
    if (sub && strcmp(sub, "disable") == 0)
        return user_disable(argc, argv);
    if (sub && strcmp(sub, "enable") == 0)
        return user_enable(argc, argv);
    if (sub && strcmp(sub, "roles") == 0)
        return user_roles(argc, argv);
    return ca_cli_no_subcommand(argc, argv, sub, "invite, list, disable, enable or roles");
}
