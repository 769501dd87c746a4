/*
 * What a recipient takes away (issue #15, SPEC §8): the credential's human-readable facts
 * (ca_credential_view), the PDF certificate drawn from them with cairo + pango and a QR code
 * of the page (libqrencode), and baked badges (node/badge.c).
 *
 * Certificate layouts are small JSON files the issuer edits, one per achievement
 * (docs/operations.md "Certificates"): <credentials.certificates_dir>/<key>.json where key is
 * the achievement id's last segment ("urn:credanchor:achievement:security-awareness-2026"
 * -> security-awareness-2026.json), else default.json there, else the built-in
 * web/certificate/default.json. A layout the console's template editor replaced
 * (node/routes_templates.c) is kept as <dir>/.history/<key>/<UTC time>-<sha256>.json, named
 * by when it stopped applying; a credential issued before that time is drawn with it, so a
 * design edit applies to new credentials only. Conventions: common.h.
 */
#ifndef CREDANCHOR_CERTIFICATE_H
#define CREDANCHOR_CERTIFICATE_H

#include "credanchor/common.h"
#include "node/pages.h"

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

/* The facts a person reads, taken from the signed credential (never from the node's records,
 * so the certificate says exactly what the credential does). Empty strings when absent. */
typedef struct ca_credential_view {
    char issuer_name[256];      /* issuer.name, else the did:web host */
    char achievement_key[128];  /* the achievement id's last segment, [A-Za-z0-9_-] only */
    char achievement_name[512];
    char achievement_type[64];
    char description[2048];
    char criteria[1024];
    char recipient[256];        /* the unhashed "name" IdentityObject */
    char issue_number[64];      /* credentialSubject.licenseNumber */
    char issued_on[16];         /* YYYY-MM-DD of validFrom */
    char completed_on[16];      /* YYYY-MM-DD of awardedDate, else validFrom */
    char valid_until[16];
    char page_url[CA_PAGE_URL_MAX];
    int64_t issued_at_ms;       /* when it was issued, unix ms (0: unknown): the time in its
                                 * UUIDv7 id, else validFrom; picks the layout in effect at
                                 * issuance (issue #17 "Templates") */
} ca_credential_view;

/* Fills v from the credential as stored (a compact VC-JWT or a Data Integrity JSON document)
 * and its page URL. *cred gets the credential JSON (the caller decrefs it) when cred is not
 * NULL. CA_ERR_INVALID when the bytes are neither. */
ca_err ca_credential_view_load(ca_credential_view *v, json_t **cred, const char *doc, size_t len,
                               const char *page_url, ca_errbuf *eb);

/* Renders the certificate PDF of v into *pdf (malloc'd, *len bytes) with the layout for its
 * achievement found under certificates_dir (see above). CA_ERR_INVALID for a broken layout
 * file (eb names it and the member), CA_ERR_NOMEM, CA_ERR_IO when cairo fails. */
ca_err ca_certificate_pdf(char **pdf, size_t *len, const ca_credential_view *v,
                          const char *certificates_dir, ca_errbuf *eb);

/* The certificates of n credentials as one ZIP (PKWARE APPNOTE; entries stored, since PDFs
 * are compressed already), named "<issue number>.pdf" in the order given, rendered on up to
 * `threads` threads. CA_ERR_INVALID / CA_ERR_IO / CA_ERR_NOMEM as ca_certificate_pdf, for
 * the first certificate that fails (eb names it). */
ca_err ca_certificates_zip(char **zip, size_t *len, const ca_credential_view *views, size_t n,
                           const char *certificates_dir, unsigned threads, ca_errbuf *eb);

/* The same ZIP streamed (issue #17: the bulk download is never built whole): open renders
 * the first batch (so a broken layout is an error before any byte) and takes views (malloc'd,
 * n of them; freed by ca_zip_stream_free, also on error). read copies up to max bytes of the
 * ZIP into buf, rendering the next batch (16 certificates on up to threads + 1 threads) once
 * the bytes made so far are read: > 0 bytes, 0 at the end, -1 on a failure (logged; the
 * caller cuts the connection). Memory: one batch of PDFs and the central directory. */
typedef struct ca_zip_stream ca_zip_stream;
ca_err ca_zip_stream_open(ca_zip_stream **z, ca_credential_view *views, size_t n,
                          const char *certificates_dir, unsigned threads, ca_errbuf *eb);
ssize_t ca_zip_stream_read(ca_zip_stream *z, char *buf, size_t max);
void ca_zip_stream_free(ca_zip_stream *z);

/* The layout file's stem for an achievement id: its last ':' or '/' segment, keeping only
 * [A-Za-z0-9_-] (cap bytes with the NUL; the view's achievement_key). */
void ca_certificate_layout_key(char *out, size_t cap, const char *id);

/* True when {name} (len bytes, without the braces) is a field a layout's text may name. */
bool ca_certificate_field_known(const char *name, size_t len);

/* The same with a layout already parsed (the fuzz target's entry; layout is borrowed). */
ca_err ca_certificate_pdf_layout(char **pdf, size_t *len, const ca_credential_view *v,
                                 const json_t *layout, ca_errbuf *eb);

#endif
