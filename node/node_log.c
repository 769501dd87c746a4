/* node/node_log.c — the node's diagnostic log line (node_log.h). The format is the one most
 * lines already had ("credanchor anchor: ...", "credanchor serve: warning: ...") and the one
 * the tests match; the JSON lines with "level" that a few places wrote became this too. */
#include "node/node_log.h"

#include "credanchor/encoding.h"

#include <stdio.h>

#define NODE_LOG_MAX 2048

static const char *level_word(ca_node_log_level level)
{
    switch (level) {
    case CA_NODE_LOG_WARNING: return "warning: ";
    case CA_NODE_LOG_ERROR: return "error: ";
    default: return "";
    }
}

void ca_node_logv(ca_node_log_level level, const char *who, const char *fmt, va_list ap)
{
    char msg[NODE_LOG_MAX];
    if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
        msg[0] = '\0';
    /* One line, whatever the message holds: invalid UTF-8 first (a cut multibyte sequence
     * at the end included), then control bytes. */
    ca_utf8_scrub(msg);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    /* One fprintf: stdio's stream lock keeps concurrent lines whole. Then flushed, as the
     * engine's own writer did: `serve` buffers stderr for the request log and flushes it only
     * every 100 ms, but a diagnostic line is rare and should be in the journal (and in the
     * file a test reads) as soon as what it reports has happened. */
    fprintf(stderr, "credanchor%s%s: %s%s\n", who ? " " : "", who ? who : "", level_word(level),
            msg);
    fflush(stderr);
}

void ca_node_log(ca_node_log_level level, const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ca_node_logv(level, who, fmt, ap);
    va_end(ap);
}
