/*
 * One credential notification as an Internet message (RFC 5322 + MIME, RFC 2045-2047, 2231):
 * a pure composer with no I/O, so the outbox (node/outbox.c) and the SMTP client (node/smtp.c)
 * only move bytes. Conventions: common.h.
 *
 * The message is multipart/alternative (text/plain + text/html, UTF-8, base64), wrapped in
 * multipart/mixed with an application/pdf part when a certificate is attached. Everything a
 * person or the data supplies (names, titles, reasons) reaches the headers only inside RFC 2047
 * encoded-words or quoted strings without controls, and the bodies only through base64, so no
 * value can add a header line. Addresses and the Message-ID are checked and refused instead.
 */
#ifndef CREDANCHOR_MAIL_MESSAGE_H
#define CREDANCHOR_MAIL_MESSAGE_H

#include "credanchor/common.h"

#include <stddef.h>
#include <stdint.h>

/* The most bytes of each free-text field (names, titles, number, reason, signature, URL,
 * attachment name): CA_ERR_TOO_LARGE past it. */
#define CA_MAIL_TEXT_MAX 1024
/* The largest attachment: CA_ERR_TOO_LARGE past it. */
#define CA_MAIL_ATTACHMENT_MAX ((size_t)10 << 20)
/* An addr-spec's most bytes (RFC 5321 §4.5.3.1.3 path, less the angle brackets). */
#define CA_MAIL_ADDR_MAX 254

/* What the message says. Every string is UTF-8; NULL is read as "" where "may be" is said.
 * Free text may hold any characters: controls (CR, LF, TAB, ...) become spaces, except that
 * the signature keeps its line breaks. Invalid UTF-8: CA_ERR_INVALID. */
typedef struct ca_mail_content {
    const char *languages;        /* "ko", "en", or "ko,en" / "en,ko": the message carries each, in order */
    const char *recipient_name;   /* may be "" */
    const char *achievement_name; /* the course / certificate title */
    const char *issuer_name;      /* the issuing organisation */
    const char *issue_number;     /* e.g. BIZM-202606-0001 */
    const char *page_url;         /* the credential's public page (https://...) */
    const char *event;            /* "credential.issued" | "credential.revoked" | "credential.suspended" | "credential.reinstated" */
    const char *reason;           /* status changes: may be NULL/"" */
    const char *signature;        /* the signature block lines (issuer contact, "\n" separated); may be NULL: then issuer_name + public site */
    /* An achievement's own wording for its issued message (issue #18 "templates per
     * achievement"; node/outbox.c reads them from <templates_dir>/<course>.mail.json), per
     * language: [0] Korean, [1] English. subject replaces the built-in subject; message is a
     * paragraph after "what happened" (line breaks kept). Both may name the fields {name}
     * {issuer} {achievement} {number} {url}; any other {field} is CA_ERR_INVALID. NULL or "":
     * the built-in wording. Status-change messages always use the built-in wording. */
    const char *custom_subject[2];
    const char *custom_message[2];
} ca_mail_content;

/* Who it goes to and the message's own identity. */
typedef struct ca_mail_envelope {
    const char *from;             /* mail.from: "addr@host" or "Display Name <addr@host>" (display name may be UTF-8) */
    const char *to;               /* the recipient's addr-spec */
    const char *to_name;          /* may be "" (or NULL): then no display name */
    const char *message_id;       /* without angle brackets, e.g. "3f2a...@credanchor.example" */
    int64_t date;                 /* unix seconds, for the Date header (RFC 5322 format, +0000) */
    const uint8_t *attachment;    /* optional PDF bytes (NULL: none) */
    size_t attachment_len;
    const char *attachment_name;  /* e.g. "BIZM-202606-0001.pdf"; NULL/"": "certificate.pdf" */
} ca_mail_envelope;

/* Composes the message (CRLF line ends, lines <= 78 chars where the RFC says so) into *out
 * (malloc'd, NUL-terminated; the caller frees it) and *out_len.
 *
 * Header fields: From, To, Subject, Date, Message-ID, MIME-Version, Content-Language,
 * Auto-Submitted: auto-generated (RFC 3834), X-Credanchor-Event: <event>, Content-Type.
 * Subject: the first language's wording for the event (with the reason for status changes).
 * Errors: CA_ERR_INVALID (a bad address or Message-ID, an unknown event or language list, a
 * page URL that is not http(s)://, invalid UTF-8, a required field empty), CA_ERR_TOO_LARGE
 * (a field over CA_MAIL_TEXT_MAX, an attachment over CA_MAIL_ATTACHMENT_MAX), CA_ERR_CRYPTO
 * (RAND_bytes failed), CA_ERR_NOMEM. Lines longer than 78 chars occur only when one address
 * or the Message-ID is itself that long (they cannot be folded; 998 is never passed). */
ca_err ca_mail_compose(char **out, size_t *out_len, const ca_mail_envelope *env,
                       const ca_mail_content *c, ca_errbuf *eb);

/* Whether t may be an achievement's subject or message (ca_mail_content.custom_*): every
 * {field} is one of {name} {issuer} {achievement} {number} {url} ({reason} is for status
 * changes, which keep the built-in wording). CA_ERR_INVALID naming `what` otherwise. */
ca_err ca_mail_template_check(const char *t, const char *what, ca_errbuf *eb);

/* Whether addr is a plain addr-spec we will send to: ASCII local@domain (a dot-atom local part
 * of at most 64 bytes; a domain of letters, digits, '-' and dots, with a dot or "localhost"),
 * no CR/LF/NUL/controls/spaces/angle brackets/commas/double quotes/other specials, one '@',
 * non-empty parts, <= 254 bytes. CA_ERR_INVALID with a one-line reason (that never quotes the
 * address) otherwise. The apostrophe, legal in dot-atoms (o'brien@example.org), is accepted. */
ca_err ca_mail_address_check(const char *addr, ca_errbuf *eb);

/* Parses mail.from ("addr@host", "<addr@host>", "Name <addr@host>", "\"Name\" <addr@host>")
 * into the addr-spec (for MAIL FROM) and the display name ("" when there is none; name may be
 * NULL when the caller does not want it). CA_ERR_INVALID when malformed (controls, invalid
 * UTF-8, a bad address, '<' '>' or '"' loose in the name), CA_ERR_TOO_LARGE when a part does
 * not fit its buffer (addr_cap / name_cap include the NUL). */
ca_err ca_mail_from_parse(const char *from, char *addr, size_t addr_cap, char *name,
                          size_t name_cap, ca_errbuf *eb);

#endif
