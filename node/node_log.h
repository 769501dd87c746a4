/*
 * node/node_log.h — the node's one diagnostic log line (issue #14: one logging function in
 * place of three formats). Every line the daemon and the verbs' node code write about
 * themselves (start-up, warnings, errors, the anchoring engine's progress) goes through
 * ca_node_log, to stderr, which systemd sends to the journal (docs/operations.md §7):
 *
 *   credanchor[ <who>]: [warning: |error: ]<message>
 *
 * `who` names the verb or thread that speaks ("serve", "anchor", "keys rotate"), NULL for the
 * library's own lines; tests find the engine's lines by the "credanchor anchor:" prefix.
 * Not log lines, and not written through here: the per-request access log (one JSON object a
 * request, node/http.c, its keys documented and tested) and the CLI's one-line
 * "credanchor <verb>: <reason>" errors (node/cli.c).
 */
#ifndef CREDANCHOR_NODE_LOG_H
#define CREDANCHOR_NODE_LOG_H

#include <stdarg.h>

typedef enum ca_node_log_level {
    CA_NODE_LOG_INFO,    /* progress and notices: no level word */
    CA_NODE_LOG_WARNING, /* "warning: " — the node goes on, degraded or with advice */
    CA_NODE_LOG_ERROR    /* "error: " — something failed that an operator should look at */
} ca_node_log_level;

/* Writes one line with one stdio call (the stream lock keeps concurrent lines whole) and
 * flushes stderr, which `serve` otherwise buffers for the request log. The message is cut at about 2 KB;
 * control characters and invalid UTF-8 in it become '?', so text from outside (a client, an
 * RPC endpoint, libmicrohttpd) can never start a line of its own. */
void ca_node_log(ca_node_log_level level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ca_node_logv(ca_node_log_level level, const char *who, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
