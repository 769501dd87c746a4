/*
 * Sending one message over SMTP with libcurl (SPEC §8 mail.*, issue #18): smtp:// with
 * STARTTLS required (CURLUSESSL_ALL: a server that does not offer it is refused, never spoken
 * to in clear), the certificate and host name verified against the system CAs plus
 * mail.ca_file, optional AUTH, and a deadline per exchange. A sender keeps its libcurl handle
 * between messages, so consecutive messages reuse one connection (RFC 5321 §4.1.4 RSET). One
 * sender per thread. Conventions: common.h.
 */
#ifndef CREDANCHOR_SMTP_H
#define CREDANCHOR_SMTP_H

#include "credanchor/common.h"
#include "node/config.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ca_smtp_sender ca_smtp_sender; /* opaque */

/* Reads mail.ca_file and mail.password_file (which must not be readable by others, like the
 * key passphrase). CA_ERR_CONFIG / CA_ERR_IO / CA_ERR_PERMISSION with a one-line reason. */
ca_err ca_smtp_sender_new(ca_smtp_sender **s, const ca_config *cfg, ca_errbuf *eb);
void ca_smtp_sender_free(ca_smtp_sender *s);

/* How one attempt ended. */
typedef enum ca_smtp_outcome {
    CA_SMTP_SENT = 0,       /* 250 after DATA: the server took responsibility */
    CA_SMTP_TEMPORARY = 1,  /* 4xx, no connection, TLS or timeout trouble: retry later */
    CA_SMTP_PERMANENT = 2,  /* 5xx for this recipient or message: do not retry (RFC 5321 §4.2.1) */
} ca_smtp_outcome;

typedef struct ca_smtp_result {
    ca_smtp_outcome outcome;
    long code;              /* the server's last reply code, 0 when none came */
    char detail[320];       /* one line: why, for the delivery log and the node's log */
} ca_smtp_result;

/* Sends msg (a complete RFC 5322 message, CRLF line ends) from from_addr to to_addr (both
 * plain addr-specs, checked by the caller). Always fills r. */
void ca_smtp_send(ca_smtp_sender *s, const char *from_addr, const char *to_addr,
                  const char *msg, size_t len, ca_smtp_result *r);

#ifdef __cplusplus
}
#endif
#endif
