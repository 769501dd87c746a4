/*
 * node/cli.h — the `credanchor <verb>` command line (SPEC §6). Each verb is a function
 * `int verb(int argc, char **argv)` (argv[0] is the verb name) listed in the table in
 * node/cli.c. Exit codes: 0 success, 1 a check failed, 2 bad usage, bad input, or any other
 * error (one line on stderr: "credanchor <verb>: <reason>").
 */
#ifndef CREDANCHOR_CLI_H
#define CREDANCHOR_CLI_H

#include "credanchor/common.h"
#include "node/config.h"

#include <jansson.h>
#include <stdio.h>

#define CA_EXIT_OK 0
#define CA_EXIT_CHECK_FAILED 1
#define CA_EXIT_USAGE 2
#define CA_CLI_HELP (-1) /* ca_cli_parse saw --help and printed the verb's usage */

/* One option a verb accepts: "--name VALUE" / "--name=VALUE", or a flag "--name". */
typedef struct ca_cli_opt {
    const char *name;  /* without the dashes */
    bool has_value;
    const char *value; /* out */
    bool seen;         /* out */
} ca_cli_opt;

typedef struct ca_cli_verb {
    const char *name;
    const char *summary; /* one line for `credanchor --help` */
    const char *usage;   /* the verb's --help text */
    int (*run)(int argc, char **argv);
} ca_cli_verb;

/* The verb table entry for name (NULL if none). */
const ca_cli_verb *ca_cli_find(const char *name);

/* Parses argv[1..] against opts (terminated by a {NULL} entry) and collects up to max_pos
 * positional arguments. Returns CA_EXIT_OK, CA_CLI_HELP after printing the usage on --help,
 * or CA_EXIT_USAGE after printing one error line. */
int ca_cli_parse(int argc, char **argv, ca_cli_opt *opts, const char **pos, int max_pos,
                 int *npos);

/* The options of every verb that opens a data dir, and the end of an option table. */
#define CLI_NODE_OPTS {"config", true, NULL, false}, {"data-dir", true, NULL, false}
#define OPTS_END {NULL, false, NULL, false}

/* Verbs with subcommands (`token`, `audit`, `user`): the first positional argument of
 * argv[1..], skipping the values of the options in valued (NULL-terminated, "--name"), so
 * `user --data-dir D list` works too; NULL when there is none. */
const char *ca_cli_find_subcommand(int argc, char **argv, const char *const *valued);
/* Answers a missing or unknown subcommand sub (choices names the valid ones) with a usage
 * error, or prints the verb's usage for --help. Returns the exit code. */
int ca_cli_no_subcommand(int argc, char **argv, const char *sub, const char *choices);

/* The value of option name, or NULL when absent. */
const char *ca_cli_value(const ca_cli_opt *opts, const char *name);
bool ca_cli_flag(const ca_cli_opt *opts, const char *name);

/* Loads the config from --config (or none) and applies --data-dir. Prints the error line
 * and returns CA_EXIT_USAGE on failure. */
int ca_cli_load_config(ca_config *cfg, const char *verb, const ca_cli_opt *opts);

/* The one start-up path of the verbs that work on a data dir: loads the config as
 * ca_cli_load_config does, then opens the node with flags (ca_node_flags). The node keeps its
 * own copy of the config (node->cfg). Prints the error line ("credanchor <verb>: ...") and
 * returns its exit code on failure, *node then NULL; CA_EXIT_OK otherwise. */
struct ca_node;
int ca_cli_open_node(struct ca_node **node, const char *verb, const ca_cli_opt *opts,
                     unsigned flags);

/* Prints "credanchor <verb>: <message>" for err and returns the exit code for it
 * (CA_EXIT_CHECK_FAILED for CA_ERR_VERIFY, CA_EXIT_USAGE otherwise). */
int ca_cli_error(const char *verb, ca_err err, const ca_errbuf *eb);
/* Prints "credanchor <verb>: <formatted message>" and returns CA_EXIT_USAGE. */
int ca_cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads a whole file (or stdin for "-") up to max bytes into a NUL-terminated malloc'd
 * buffer. CA_ERR_TOO_LARGE past max. */
ca_err ca_cli_read_input(char **data, size_t *len, const char *path, size_t max, ca_errbuf *eb);

/* Prints o as one line of compact JSON on stdout and drops the reference (NULL: nothing). */
void ca_cli_print_json(json_t *o);

/* Runs `credanchor argv[1] ...`; returns the exit code. */
int ca_cli_main(int argc, char **argv);

/* Verbs implemented outside node/cli.c. */
int ca_cli_verify_proof(int argc, char **argv);
int ca_cli_serve(int argc, char **argv);
int ca_cli_token(int argc, char **argv);
int ca_cli_audit(int argc, char **argv);
int ca_cli_user(int argc, char **argv);
int ca_cli_resolve(int argc, char **argv);
int ca_cli_anchor(int argc, char **argv);
int ca_cli_check(int argc, char **argv);
int ca_cli_backup(int argc, char **argv);
int ca_cli_restore(int argc, char **argv);
int ca_cli_keys(int argc, char **argv);
int ca_cli_issue(int argc, char **argv);
int ca_cli_revoke(int argc, char **argv);
int ca_cli_verify(int argc, char **argv);

#endif
